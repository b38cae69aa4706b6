"""Timelines of a history: a self-contained HTML page per run, and a plain text listing for the terminal.

This page draws the client history alone (``check-history --html``, where there is no trace); a run's trace gets
the space-time page of :mod:`faultlab.report.spacetime` instead (``write_timeline(..., trace=doc)``), which adds the
nodes, messages and faults.

A violation is easiest to believe when you can see it: which operations overlapped, which one could not be placed,
what had been placed before it. The HTML page draws one lane per client process and one bar per operation, marked
from the checker's witness, and needs nothing but a browser (inline CSS, no scripts, no external assets).

Witness contract (read, never required): ``linearization`` (call indices in linearization order, drawn as order
numbers on ok results), ``failed_op`` (the call index that cannot be linearized, highlighted) with
``longest_prefix`` (call indices linearized before it, marked), and ``ops`` (call indices any checker names).

The x axis is event order, not virtual time: simulated clocks jump, so many events share one instant and a
time-scaled axis would draw them on top of each other; only order matters to the checkers. Hover text gives each
operation's times. Output is deterministic: the same history and result give the same bytes.
"""

from __future__ import annotations

import json
import math
import pathlib
from collections.abc import Mapping
from typing import Any

import attrs
import jinja2

from faultlab.history import History, Operation
from faultlab.result import CheckResult

TEMPLATES = pathlib.Path(__file__).resolve().parent.parent / "templates"
_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True,
                          lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)

LABEL_WIDTH = 120  # px of the sticky lane-label column
END_MARGIN = 40    # px past the last event, where open-ended (info) bars run out


@attrs.frozen
class Bar:
    """One operation as drawn: position in pixels, CSS classes, hover text and the short label inside the bar."""

    call_index: int
    left: int
    width: int
    classes: str
    status: str
    label: str
    hover: str
    order: int | None  # position in the linearization or the linearized prefix, 1-based
    tail: tuple[int, int] | None  # (left, width) of the faint line to the right edge after an info completion


@attrs.frozen
class Lane:
    process: str
    bars: list[Bar]


def write_timeline(history: History, result: CheckResult | None, path: pathlib.Path, *,
                   title: str = "", trace: Mapping[str, Any] | None = None,
                   sent_at: Mapping[int, float] | None = None) -> pathlib.Path:
    """Write the HTML timeline of ``history`` (marked from ``result``'s witness, if any) to ``path``; return it.

    With a ``trace`` (the JSON document of a trace file, whose history and checks it holds) the page is the
    space-time diagram of :mod:`faultlab.report.spacetime` (nodes, messages, faults), ``sent_at`` narrowing where
    sends are drawn; without one (``check-history --html``) only the client lanes are drawn. Creates the parent
    folder. The page is self-contained and deterministic.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if trace is not None:
        from faultlab.report.spacetime import render_spacetime

        text = render_spacetime(trace, title=title, sent_at=sent_at)
    else:
        text = render_timeline(history, result, title=title)
    path.write_text(text, encoding="utf-8")
    return path


def render_timeline(history: History, result: CheckResult | None, *, title: str = "") -> str:
    """The HTML text :func:`write_timeline` writes."""
    ops = history.operations()
    n = max(len(history), 1)
    step = max(4, min(80, 1600 // n))  # px per event: wide for short histories, at least 4 for huge ones
    lane_height = 28 if _count_lanes(ops) <= 40 else 18 if _count_lanes(ops) <= 200 else 12
    track = n * step + END_MARGIN
    witness = result.witness if result is not None else {}
    linearization = _indices(witness.get("linearization"))
    prefix = _indices(witness.get("longest_prefix"))
    failed = witness.get("failed_op")
    named = set(_indices(witness.get("ops")))
    order = {ci: i + 1 for i, ci in enumerate(linearization or prefix)}

    lanes: dict[Any, list[Bar]] = {}
    for op in ops:
        lanes.setdefault(op.process, []).append(
            _bar(op, step, track, order, failed, set(prefix), set(linearization), named))
    final_at = next((e.index for e in history if e.phase == "final"), None)
    return _ENV.get_template("timeline.html.j2").render(
        title=title or (f"{result.name}: {result.verdict.value}" if result is not None else "history timeline"),
        result=result,
        lanes=[Lane(_process_name(p), lanes[p]) for p in sorted(lanes, key=_process_key)],
        track=track, lane_height=lane_height, label_width=LABEL_WIDTH, show_labels=lane_height >= 18,
        ticks=_ticks(history, step), final_left=None if final_at is None else final_at * step,
        counts=_counts(ops), n_events=len(history),
        highlighted=[op for op in ops if op.call_index == failed or op.call_index in named],
        failed=failed, prefix_len=len(prefix), lin_len=len(linearization),
    )


def _indices(value: Any) -> list[int]:
    return [v for v in value if isinstance(v, int)] if isinstance(value, list) else []


def _count_lanes(ops: list[Operation]) -> int:
    return len({json.dumps(op.process, default=repr) for op in ops})


def _process_key(p: Any) -> tuple:
    return (0, p, "") if isinstance(p, int | float) and not isinstance(p, bool) else (1, 0, str(p))


def _process_name(p: Any) -> str:
    return str(p)


def _bar(op: Operation, step: int, track: int, order: dict[int, int], failed: Any, prefix: set[int],
         linearization: set[int], named: set[int]) -> Bar:
    # An info operation may take effect at any time after its call: its bar runs to its info event (when the
    # client gave up) and a faint tail runs on to the right edge; an invoke that never completed runs to the edge.
    left = op.call_index * step
    never_completed = op.ret_index is None
    width = (track - left) if never_completed else max(step, (op.ret_index - op.call_index) * step)
    tail = (left + width, track - left - width) if math.isinf(op.ret) and not never_completed else None
    classes = ["op", op.status]
    if math.isinf(op.ret):
        classes.append("open")
    if op.call_index in linearization:
        classes.append("linearized")
    if op.call_index in prefix:
        classes.append("in-prefix")
    if op.call_index == failed:
        classes.append("failed-op")
    if op.call_index in named:
        classes.append("witness-op")
    if op.phase == "final":
        classes.append("final")
    out = {"ok": _short(op.output), "fail": "fail", "info": "?"}[op.status]
    arg = "" if op.input is None else _short(op.input)
    label = f"{op.f}({arg})" + (f" → {out}" if out else "")
    hover = f"#{op.call_index} {op.describe()}" + (f" on {op.node}" if op.node is not None else "") + \
        (" (final read)" if op.phase == "final" else "")
    return Bar(op.call_index, left, width, " ".join(classes), op.status, label, hover, order.get(op.call_index),
               tail)


def _short(value: Any, limit: int = 40) -> str:
    if value is None:
        return ""
    text = json.dumps(value, sort_keys=True, default=repr, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _ticks(history: History, step: int) -> list[tuple[int, str]]:
    """Labelled positions on the event axis about 120 px apart, each with the event's virtual time."""
    every = max(1, math.ceil(120 / step))
    return [(e.index * step, f"t={e.time:g}") for e in history if e.index % every == 0]


def _counts(ops: list[Operation]) -> dict[str, int]:
    counts = {"ok": 0, "fail": 0, "info": 0}
    for op in ops:
        counts[op.status] += 1
    return counts


def write_timeline_text(history: History) -> str:
    """A plain text timeline, one line per event: index, time, process, type, f, value (plus phase and node)."""
    rows = [("#", "time", "process", "type", "f", "value")]
    for e in history:
        extra = (f"  [{e.phase}]" if e.phase != "main" else "") + (f"  @{e.node}" if e.node is not None else "")
        rows.append((str(e.index), f"{e.time:g}", str(e.process), e.type, e.f,
                     json.dumps(e.value, sort_keys=True, default=repr, ensure_ascii=False) + extra))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join([r[0].rjust(widths[0]), r[1].rjust(widths[1])] +
                       [r[i].ljust(widths[i]) for i in (2, 3, 4)] + [r[5]]).rstrip() for r in rows]
    return "\n".join(lines) + "\n"
