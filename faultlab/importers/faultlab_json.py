"""faultlab's own histories: a JSON list of ``History.to_json()`` events, or a trace file holding one under
``"history"``.

Each element is read on its own so that a malformed event is reported with the line it starts on.
"""

from __future__ import annotations

import json

from faultlab.errors import HistoryFormatError
from faultlab.history import History
from faultlab.importers.builder import HistoryBuilder

_DECODER = json.JSONDecoder()
_EXPECTED = 'a JSON list of events {"process": P, "type": "invoke"|"ok"|"fail"|"info", "f": F, "value": V}'


def parse(text: str, source: str) -> History:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as e:
        raise HistoryFormatError(f"{source}: line {e.lineno}: not valid JSON ({e.msg}); expected {_EXPECTED}, or "
                                 f'a trace file {{"history": [...]}}') from None
    if isinstance(document, dict):
        if "history" not in document:
            raise HistoryFormatError(f"{source}: line 1: a JSON object without a \"history\" key; expected "
                                     f"{_EXPECTED}, or a trace file {{\"history\": [...]}}")
        document = document["history"]
    if not isinstance(document, list):
        raise HistoryFormatError(f"{source}: line 1: expected {_EXPECTED}, got a JSON {type(document).__name__}")
    builder = HistoryBuilder(source)
    for i, (event, line) in enumerate(zip(document, _element_lines(text, len(document)), strict=True)):
        if not isinstance(event, dict):
            raise HistoryFormatError(f"{source}: line {line}: event {i} must be an object, got "
                                     f"{json.dumps(event)[:60]}; expected {_EXPECTED}")
        missing = [k for k in ("process", "type", "f") if k not in event]
        if missing:
            raise HistoryFormatError(f"{source}: line {line}: event {i} has no {', '.join(map(repr, missing))}; "
                                     f"expected {_EXPECTED}")
        time = event.get("time", i)
        if not isinstance(time, int | float) or isinstance(time, bool):
            raise HistoryFormatError(f"{source}: line {line}: event {i} has time {time!r}; expected a number")
        builder.add(line, event["process"], event["type"], event["f"], event.get("value"), float(time),
                    phase=event.get("phase", "main"), node=event.get("node"))
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
