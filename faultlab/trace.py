"""Trace files: one run, every decision and event, in a versioned JSON file that replays byte for byte.

A trace holds the protocol, its configuration, the engine settings, the choice sequence, the event log, the history,
the checks and the verdict. It holds no wall-clock time and no memory addresses, so the same run writes the same
bytes in any process. :func:`read_trace` checks every field before anything runs (:mod:`faultlab.trace_schema`);
:func:`replay` re-runs the recorded choices and compares the event log line by line; a difference raises
:class:`ReplayDivergence` naming the first differing event.

The layout is JSON with one event and one history entry per line, so traces diff well in git and in review.
"""

from __future__ import annotations

import enum
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import attrs

from faultlab.choices import ReplayChoices
from faultlab.errors import ConfigError, ReplayDivergence, TraceFileError
from faultlab.history import History
from faultlab.importers.faultlab_json import parse_events
from faultlab.importers.json_values import BadJSON, loads, short
from faultlab.network import Envelope
from faultlab.protocol import Protocol, config_to_json
from faultlab.runtime import RunResult, RunSettings, simulate
from faultlab.trace_schema import check_document, config_from_trace

TRACE_VERSION = 1
TRACE_KIND = "faultlab-trace"


def encode(obj: Any) -> Any:
    """A JSON value for a protocol message or value: attrs classes become ``{"type": Name, ...fields}``."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [encode(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): encode(v) for k, v in obj.items()}
    if isinstance(obj, (set, frozenset)):
        return sorted((encode(x) for x in obj), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(obj, enum.Enum):
        return obj.name
    if attrs.has(type(obj)):
        d = {"type": type(obj).__name__}
        for f in attrs.fields(type(obj)):
            d[f.name] = encode(getattr(obj, f.name))
        return d
    return f"<{type(obj).__name__}>"  # never repr(): it may hold a memory address


def event_to_json(event: tuple) -> dict[str, Any]:
    kind, time, payload = event
    if isinstance(payload, Envelope):
        d = {"t": time, "event": kind, "id": payload.id, "src": payload.src, "dst": payload.dst,
             "msg": encode(payload.msg)}
        if payload.reply_to is not None:
            d["reply_to"] = payload.reply_to
        if payload.cause is not None:
            d["cause"] = list(payload.cause)
        d["sent_after"] = payload.sent_after  # where the message was sent: the viewer draws its arrow from there
        return d
    return {"t": time, "event": kind, **encode(payload)}


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _dump_lines(rows: list[Any]) -> str:
    if not rows:
        return "[]"
    return "[\n    " + ",\n    ".join(_dump(r) for r in rows) + "\n  ]"


def _json_numbers(value: Any) -> Any:
    """``value`` with every infinite or NaN float (a checker's "never", ``-inf`` for "since the start") written as
    the string ``"inf"``, ``"-inf"`` or ``"nan"``: a trace is strict JSON, which has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _json_numbers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_numbers(v) for v in value]
    return value


def trace_document(result: RunResult, source: dict[str, Any] | None = None) -> dict[str, Any]:
    stats = dict(result.stats)
    stats["ops"] = {f"{f}:{st}": n for (f, st), n in sorted(stats["ops"].items())}
    return {
        "kind": TRACE_KIND,
        "version": TRACE_VERSION,
        "faultlab": _engine_version(),
        "protocol": result.protocol,
        "config": config_to_json(result.config),
        "links": result.stats.get("links"),
        "settings": result.settings.to_json(),
        "source": source or {},
        "verdict": result.verdict,
        "error": result.error,
        "invariants": list(result.judged),
        "checks": [_json_numbers(c.to_json()) for c in result.checks],
        "stats": stats,
        "choices": result.choices,
        "history": result.history.to_json(),
        "events": [event_to_json(e) for e in result.events],
    }


def _engine_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("faultlab")
    except PackageNotFoundError:
        return "unknown"


def _divergence(trace: Trace, what: str) -> ReplayDivergence:
    written = trace.doc.get("faultlab")
    hint = ""
    if written and written != _engine_version():
        hint = (f" (the trace was written by faultlab {written}, this is {_engine_version()}: the engine may have "
                f"changed since; re-run the `faultlab check` that wrote it)")
    return ReplayDivergence(f"{trace.path}: {what}{hint}")


def dumps_trace(result: RunResult, source: dict[str, Any] | None = None) -> str:
    doc = trace_document(result, source)
    parts = []
    for key, value in doc.items():
        text = _dump_lines(value) if key in ("history", "events", "checks") else _dump(value)
        parts.append(f"  {json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def write_trace(result: RunResult, path: Path, source: dict[str, Any] | None = None) -> Path:
    """Write atomically: a reader never sees half a trace, and a failed write leaves the old file intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = dumps_trace(result, source)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


@attrs.frozen
class Trace:
    """A trace file as read back and validated (see :func:`read_trace`): enough to rebuild and replay the run."""

    path: Path
    doc: dict[str, Any]

    @property
    def protocol(self) -> str:
        return self.doc["protocol"]

    @property
    def verdict(self) -> str:
        return self.doc["verdict"]

    @property
    def history(self) -> History:
        return parse_events(self.doc["history"], str(self.path))


def read_trace(path: Path | str) -> Trace:
    """Read and validate a trace file; every problem is a :class:`TraceFileError` naming the file and the fix.

    Every field is checked for its type and range before anything runs, so a malformed file is an input error
    (exit 3), never a verdict. Reading a trace never imports anything: the protocol it names is looked up by the
    caller (``faultlab replay`` resolves only registered names, see :mod:`faultlab.registry`).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise TraceFileError(f"{path}: no such trace file (traces are written under reports/traces/ by "
                             f"`faultlab check`)") from None
    except OSError as e:
        raise TraceFileError(f"{path}: cannot read the trace file: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TraceFileError(f"{path}: not UTF-8 text (byte {e.start}); a trace is JSON written by `faultlab check`"
                             ) from None
    try:
        doc = loads(text)
    except BadJSON as e:
        raise TraceFileError(f"{path}: not a JSON trace ({e.where}{e.what}); was the file truncated or edited?"
                             ) from None
    if not isinstance(doc, dict) or doc.get("kind") != TRACE_KIND:
        raise TraceFileError(f"{path}: not a faultlab trace (expected an object with \"kind\": \"{TRACE_KIND}\")")
    version = doc.get("version")
    if type(version) is not int or version != TRACE_VERSION:
        raise TraceFileError(f"{path}: trace version {short(version, 20)} is not supported by this faultlab "
                             f"(it reads version {TRACE_VERSION}); re-run `faultlab check` to write a new trace")
    check_document(doc, path)
    return Trace(path, doc)


def replay(trace: Trace, protocol: Protocol) -> RunResult:
    """Re-run a trace's choices; raise :class:`ReplayDivergence` if the events differ from the recorded ones.

    ``protocol`` must be the one the trace names; a configuration, settings or invariants it does not accept are a
    :class:`TraceFileError`.
    """
    doc = trace.doc
    if protocol.name != trace.protocol:
        raise TraceFileError(f"{trace.path}: the trace is a run of protocol {short(trace.protocol)}, not of "
                             f"{protocol.name!r}")
    config = config_from_trace(protocol, doc["config"], trace.path)
    try:
        settings = RunSettings.from_json(doc["settings"])
    except ConfigError as e:
        raise TraceFileError(f"{trace.path}: field settings: {e}") from None
    try:  # a trace written before runs recorded what they judged judges the protocol's default set
        judged = protocol.judged(tuple(doc["invariants"])) if "invariants" in doc else None
    except ConfigError as e:
        raise TraceFileError(f"{trace.path}: field invariants: {e}") from None
    choices = ReplayChoices(doc["choices"])
    try:
        result = simulate(protocol, config, choices, settings, judged)
    except ReplayDivergence as e:  # a recorded choice out of range, or too few of them
        raise _divergence(trace, str(e)) from None
    recorded = doc["events"]
    fresh = [json.loads(_dump(event_to_json(e))) for e in result.events]
    for a, b in zip(recorded, fresh, strict=False):
        if isinstance(a, dict) and "sent_after" not in a:
            b.pop("sent_after", None)  # a trace written before sends were placed still replays
    for i, (a, b) in enumerate(zip(recorded, fresh, strict=False)):
        if _canonical(a) != _canonical(b):
            raise _divergence(trace, f"event {i} differs: recorded {short(a, 300)}, replayed {short(b, 300)}")
    if len(recorded) != len(fresh):
        raise _divergence(trace, f"the trace recorded {len(recorded)} events, the replay produced {len(fresh)}")
    if not choices.exhausted:
        raise _divergence(trace, "the replay used fewer choices than the trace recorded")
    # The events replayed exactly, so a history that differs was edited after the run: the file contradicts itself.
    history = json.loads(_dump(result.history.to_json()))
    if _canonical(doc["history"]) != _canonical(history):
        i = next((i for i, (a, b) in enumerate(zip(doc["history"], history, strict=False))
                  if _canonical(a) != _canonical(b)), min(len(doc["history"]), len(history)))
        raise TraceFileError(f"{trace.path}: field history[{i}] does not match the events the trace records "
                             f"(replayed: {short(history[i] if i < len(history) else None, 200)}); was the file "
                             f"edited?")
    return result


def _canonical(value: Any) -> str:
    """JSON text to compare recorded and replayed values by: ``true`` is not ``1`` (as it is in Python), and key
    order does not matter."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


FAULT_EVENTS = frozenset({"drop", "duplicate", "delay", "partition", "heal", "crash", "restart", "skew",
                          "lose_unsynced", "release", "torn_write", "destroy"})


def depends_on(doc: dict[str, Any]) -> set[int] | None:
    """Indices of the events a violation depends on: the operations the violated checks name (their invokes and
    completions), the messages those operations caused and what became of them, every fault, role change and
    protocol note. None when no violated check names an operation (then everything matters)."""
    named: set[int] = set()
    for check in doc.get("checks") or ():
        if check.get("verdict") == "violated":
            witness = check.get("witness") or {}
            named |= {i for i in witness.get("ops") or () if isinstance(i, int)}
            if isinstance(witness.get("failed_op"), int):
                named.add(witness["failed_op"])
    if not named:
        return None
    invokes = [h["index"] for h in doc["history"] if h.get("type") == "invoke"]
    invoke_events = [e for e in doc["events"] if e.get("event") == "invoke"]
    keys = {tuple(e["op"]) for index, e in zip(invokes, invoke_events, strict=False)
            if index in named and isinstance(e.get("op"), list)}
    keep: set[int] = set()
    operation_of: dict[Any, tuple] = {}
    for i, e in enumerate(doc["events"]):
        kind = e.get("event")
        if kind in FAULT_EVENTS or kind in ("role", "note"):
            keep.add(i)
        elif kind == "invoke":
            operation_of[e.get("process")] = tuple(e.get("op") or ())
            if operation_of[e.get("process")] in keys:
                keep.add(i)
        elif kind in ("ok", "fail", "info"):
            if operation_of.get(e.get("process")) in keys:
                keep.add(i)
        elif kind in ("deliver", "lost") and tuple(e.get("cause") or ()) in keys:
            keep.add(i)
    return keep


def format_timeline(doc: dict[str, Any], *, limit: int | None = None, everything: bool = False) -> str:
    """A text timeline a person can read: one line per event, virtual time first. By default only what a violation
    depends on (:func:`depends_on`), with a line saying how much was left out; ``everything`` shows every event."""
    lines = []
    keep = None if everything else depends_on(doc)
    events = doc["events"] if keep is None else [e for i, e in enumerate(doc["events"]) if i in keep]
    if keep is not None:
        lines.append(f"  (what the violation depends on: {len(events)} of {len(doc['events'])} events, the operations "
                     f"its witness names, the messages they caused and every fault; --all shows everything)")
    total = len(events)
    events = events if limit is None else events[:limit]
    for e in events:
        t = f"{e['t']:9.3f}"
        kind = e["event"]
        rest = {k: v for k, v in e.items() if k not in ("t", "event")}
        if kind == "deliver":
            msg = rest.get("msg")
            name = msg.get("type", "") if isinstance(msg, dict) else str(msg)
            fields = ", ".join(f"{k}={_dump(v)}" for k, v in msg.items() if k != "type") if isinstance(msg, dict) \
                else ""
            lines.append(f"{t}  deliver   #{rest['id']:<4} {rest['src']:>5} -> {rest['dst']:<5} {name}({fields})")
        elif kind in ("invoke", "ok", "fail", "info"):
            value = "" if rest.get("value") is None else _dump(rest["value"])
            where = f" via {rest['node']}" if rest.get("node") else ""
            lines.append(f"{t}  {kind:<9} process {rest['process']} {rest['f']} {value}{where}".rstrip())
        elif kind == "lost":
            lines.append(f"{t}  lost      #{rest['id']:<4} {rest['src']:>5} -> {rest['dst']:<5} ({rest['why']})")
        else:
            detail = ", ".join(f"{k}={_dump(v)}" for k, v in rest.items())
            marker = "!!" if kind in ("crash", "lose_unsynced", "partition", "drop", "duplicate", "delay", "skew",
                                      "torn_write", "destroy") \
                else "  "
            lines.append(f"{t}{marker}{kind:<9} {detail}")
    if limit is not None and total > limit:
        lines.append(f"   ... {total - limit} more events")
    return "\n".join(lines)
