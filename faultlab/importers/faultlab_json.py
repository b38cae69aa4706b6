"""faultlab's own histories: a JSON list of ``History.to_json()`` events, or a trace file holding one under
``"history"``.

Each element is read on its own so that a malformed event is reported with the line it starts on.
"""

from __future__ import annotations

import json

from faultlab.errors import HistoryFormatError
from faultlab.history import History
from faultlab.importers.builder import HistoryBuilder
from faultlab.importers.json_values import BadJSON, loads, short

_DECODER = json.JSONDecoder()
_EXPECTED = 'a JSON list of events {"process": P, "type": "invoke"|"ok"|"fail"|"info", "f": F, "value": V}'


def parse(text: str, source: str) -> History:
    try:
        document = loads(text)
    except BadJSON as e:
        where = f"line {e.line}: " if e.line else ""
        raise HistoryFormatError(f"{source}: {where}not valid JSON ({e.what}); expected {_EXPECTED}, or "
                                 f'a trace file {{"history": [...]}}') from None
    if isinstance(document, dict):
        if "history" not in document:
            raise HistoryFormatError(f"{source}: line 1: a JSON object without a \"history\" key; expected "
                                     f"{_EXPECTED}, or a trace file {{\"history\": [...]}}")
        document = document["history"]
    if not isinstance(document, list):
        raise HistoryFormatError(f"{source}: line 1: expected {_EXPECTED}, got a JSON {type(document).__name__}")
    return parse_events(document, source, _element_lines(text, len(document)))


def parse_events(events: list, source: str, lines: list[int] | None = None) -> History:
    """A history from a list of ``History.to_json()`` events; ``lines`` (where each starts) for error messages.

    Without ``lines`` (events taken from a trace already parsed) an error names the event by its index instead.
    """
    builder = HistoryBuilder(source)
    for i, event in enumerate(events):
        line = lines[i] if lines is not None else None
        where = f"line {line}: event {i}" if line is not None else f"history event {i}"
        if not isinstance(event, dict):
            raise HistoryFormatError(f"{source}: {where} must be an object, got {short(event)}; expected {_EXPECTED}")
        missing = [k for k in ("process", "type", "f") if k not in event]
        if missing:
            raise HistoryFormatError(f"{source}: {where} has no {', '.join(map(repr, missing))}; "
                                     f"expected {_EXPECTED}")
        index = event.get("index", i)
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise HistoryFormatError(f"{source}: {where} has index {short(index)}; expected its position, a "
                                     f"non-negative integer")
        builder.add(line if line is not None else where, event["process"], event["type"], event["f"],
                    event.get("value"), event.get("time", i), phase=event.get("phase", "main"), node=event.get("node"))
    return builder.history


def _element_lines(text: str, count: int) -> list[int]:
    """The line each top-level element of the JSON list (or of its "history" list) starts on."""
    start = text.find("[", text.find('"history"') if text.lstrip().startswith("{") else 0)
    lines, pos = [], start + 1
    for _ in range(count):
        while text[pos] in " \t\r\n,":
            pos += 1
        lines.append(text.count("\n", 0, pos) + 1)
        _, pos = _DECODER.raw_decode(text, pos)
    return lines
