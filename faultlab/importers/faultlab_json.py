"""faultlab's own histories: a JSON list of ``History.to_json()`` events, or a trace file holding one under
``"history"``.

Each element is read on its own so that a malformed event is reported with the line it starts on. Events of
process ``"nemesis"`` (fault injections, in Jepsen's JSON exports) are not client operations and are skipped.
"""

from __future__ import annotations

import json
from typing import Any

from faultlab.errors import HistoryFormatError
from faultlab.history import History
from faultlab.importers.builder import HistoryBuilder
from faultlab.importers.json_values import BadJSON, loads, short

_DECODER = json.JSONDecoder()
_EXPECTED = 'a JSON list of events {"process": P, "type": "invoke"|"ok"|"fail"|"info", "f": F, "value": V}'


def parse(text: str, source: str) -> History:
    try:
        document = loads(text, check=False)  # each field an event uses is checked as it is read (HistoryBuilder)
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
    try:
        return parse_events(document, source)
    except HistoryFormatError as e:
        # Name the line the bad event starts on. Counted only now: numbering every event up front cost as much
        # again as parsing, for a message most files never need.
        index = getattr(e, "event_index", None)
        if index is None:
            raise
        line = _element_lines(text, index + 1)[index]
        raise HistoryFormatError(str(e).replace(f"{source}: history event {index}",
                                                f"{source}: line {line}: event {index}", 1)) from None


def parse_events(events: list, source: str) -> History:
    """A history from a list of ``History.to_json()`` events (an error names the event by its index; ``parse``
    adds the line it starts on)."""
    builder = HistoryBuilder(source)
    i = 0
    try:
        for i, event in enumerate(events):
            _add_event(builder, source, i, event)
    except HistoryFormatError as e:
        e.event_index = i  # type: ignore[attr-defined]
        raise
    return builder.history


def _add_event(builder: HistoryBuilder, source: str, i: int, event: Any) -> None:
    if not isinstance(event, dict):
        raise HistoryFormatError(f"{source}: history event {i} must be an object, got {short(event)}; expected "
                                 f"{_EXPECTED}")
    if "process" not in event or "type" not in event or "f" not in event:
        missing = [k for k in ("process", "type", "f") if k not in event]
        raise HistoryFormatError(f"{source}: history event {i} has no {', '.join(map(repr, missing))}; "
                                 f"expected {_EXPECTED}")
    if event["process"] == "nemesis":  # a Jepsen export's fault injections are not client operations
        return
    index = event.get("index", i)
    if type(index) is not int or index < 0:
        raise HistoryFormatError(f"{source}: history event {i} has index {short(index)}; expected its position, a "
                                 f"non-negative integer")
    builder.add(f"history event {i}", event["process"], event["type"], event["f"], event.get("value"),
                event.get("time", i), phase=event.get("phase", "main"), node=event.get("node"))


def _element_lines(text: str, count: int) -> list[int]:
    """The line each top-level element of the JSON list (or of its "history" list) starts on."""
    start = text.find("[", text.find('"history"') if text.lstrip().startswith("{") else 0)
    lines, pos = [], start + 1
    line, counted = 1 + text.count("\n", 0, pos), pos  # newlines are counted once each: linear in the text
    for _ in range(count):
        while text[pos] in " \t\r\n,":
            pos += 1
        line += text.count("\n", counted, pos)
        counted = pos
        lines.append(line)
        _, pos = _DECODER.raw_decode(text, pos)
    return lines
