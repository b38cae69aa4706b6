"""Trace files: one run, every decision and event, in a versioned JSON file that replays byte for byte.

A trace holds the protocol, its configuration, the engine settings, the choice sequence, the event log, the history,
the checks and the verdict. It holds no wall-clock time and no memory addresses, so the same run writes the same
bytes in any process. :func:`replay` re-runs the recorded choices and compares the event log line by line; a
difference raises :class:`ReplayDivergence` naming the first differing event.

The layout is JSON with one event and one history entry per line, so traces diff well in git and in review.
"""

from __future__ import annotations

import enum
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import attrs

from faultlab.choices import ReplayChoices
from faultlab.errors import ChoicesExhausted, ReplayDivergence, TraceFileError
from faultlab.history import History
from faultlab.network import Envelope
from faultlab.protocol import Protocol, config_to_json
from faultlab.runtime import RunResult, RunSettings, simulate

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
        return d
    return {"t": time, "event": kind, **encode(payload)}


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _dump_lines(rows: list[Any]) -> str:
    if not rows:
        return "[]"
    return "[\n    " + ",\n    ".join(_dump(r) for r in rows) + "\n  ]"


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
        "checks": [c.to_json() for c in result.checks],
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
    """A trace file as read back: enough to rebuild and replay the run."""

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
        return History.from_json(self.doc["history"], source=str(self.path))


_REQUIRED = {"protocol": str, "config": dict, "settings": dict, "choices": list, "events": list,
             "history": list, "verdict": str}


def read_trace(path: Path | str) -> Trace:
    """Read and validate a trace file; every problem is a :class:`TraceFileError` naming the file and the fix."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TraceFileError(f"{path}: no such trace file (traces are written under reports/traces/ by "
                             f"`faultlab check`)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise TraceFileError(f"{path}: cannot read the trace file: {e}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise TraceFileError(f"{path}: not a JSON trace (line {e.lineno}, column {e.colno}: {e.msg}); "
                             f"was the file truncated or edited?") from None
    if not isinstance(doc, dict) or doc.get("kind") != TRACE_KIND:
        raise TraceFileError(f"{path}: not a faultlab trace (expected an object with \"kind\": \"{TRACE_KIND}\")")
    if doc.get("version") != TRACE_VERSION:
        raise TraceFileError(f"{path}: trace version {doc.get('version')!r} is not supported by this faultlab "
                             f"(it reads version {TRACE_VERSION}); re-run `faultlab check` to write a new trace")
    for key, typ in _REQUIRED.items():
        if not isinstance(doc.get(key), typ):
            raise TraceFileError(f"{path}: field {key!r} is missing or not a {typ.__name__}")
    if not all(isinstance(c, int) and c >= 0 for c in doc["choices"]):
        raise TraceFileError(f"{path}: \"choices\" must be a list of non-negative integers")
    return Trace(path, doc)


def replay(trace: Trace, protocol: Protocol) -> RunResult:
    """Re-run a trace's choices; raise :class:`ReplayDivergence` if the events differ from the recorded ones."""
    doc = trace.doc
    config = protocol.make_config(doc["config"])
    try:
        settings = RunSettings.from_json(doc["settings"])
    except (TypeError, KeyError) as e:
        raise TraceFileError(f"{trace.path}: bad \"settings\": {e}") from None
    choices = ReplayChoices(doc["choices"])
    try:
        judged = doc.get("invariants")
        if judged is not None and not (isinstance(judged, list) and all(isinstance(n, str) for n in judged)):
            raise TraceFileError(f"{trace.path}: \"invariants\" must be a list of invariant names")
        result = simulate(protocol, config, choices, settings, tuple(judged) if judged is not None else None)
    except ChoicesExhausted as e:
        raise _divergence(trace, str(e)) from None
    recorded = doc["events"]
    fresh = [json.loads(_dump(event_to_json(e))) for e in result.events]
    for i, (a, b) in enumerate(zip(recorded, fresh, strict=False)):
        if a != b:
            raise _divergence(trace, f"event {i} differs\n  recorded: {_dump(a)}\n  replayed: {_dump(b)}")
    if len(recorded) != len(fresh):
        raise _divergence(trace, f"the trace recorded {len(recorded)} events, the replay produced {len(fresh)}")
    if not choices.exhausted:
        raise _divergence(trace, "the replay used fewer choices than the trace recorded")
    return result


def format_timeline(doc: dict[str, Any], *, limit: int | None = None) -> str:
    """A text timeline a person can read: one line per event, virtual time first."""
    lines = []
    events = doc["events"] if limit is None else doc["events"][:limit]
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
            marker = "!!" if kind in ("crash", "lose_unsynced", "partition", "drop", "duplicate", "delay", "skew") \
                else "  "
            lines.append(f"{t}{marker}{kind:<9} {detail}")
    if limit is not None and len(doc["events"]) > limit:
        lines.append(f"   ... {len(doc['events']) - limit} more events")
    return "\n".join(lines)
