"""Jepsen histories in EDN: maps like ``{:type :invoke, :f :read, :value nil, :process 0, :time 123}``.

Either one map per line or one vector of maps. Keywords become strings (``:read`` -> ``"read"``), vectors and lists
become lists, maps dicts with string keys. Lines from ``:process :nemesis`` are fault injections, not client
operations, and are skipped. ``:time`` (nanoseconds in Jepsen) is kept when present, else the line number.
"""

from __future__ import annotations

from faultlab.errors import HistoryFormatError
from faultlab.history import History
from faultlab.importers.builder import HistoryBuilder
from faultlab.importers.edn import read_maps

_EXPECTED = "{:type :invoke|:ok|:fail|:info, :f F, :value V, :process P}"


def parse(text: str, source: str) -> History:
    builder = HistoryBuilder(source)
    for line, event in read_maps(text, source):
        if event.get("process") == "nemesis":
            continue
        try:
            process, type, f = event["process"], event["type"], event["f"]
        except KeyError as missing:
            raise HistoryFormatError(f"{source}: line {line}: no :{missing.args[0]} in the map; expected "
                                     f"{_EXPECTED}") from None
        builder.add(line, process, type, f, event.get("value"), event.get("time", line))
    return builder.history
