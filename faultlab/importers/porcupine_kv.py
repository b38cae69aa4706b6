"""Porcupine's key-value logs (``test_data/kv/cNN-{ok,bad}.txt``): one EDN map per line.

``{:process P, :type :invoke|:ok, :f :get|:put|:append, :key "K", :value nil|"V"}``. The key goes into the value,
so the ``kv`` model can partition by it: a put or append invokes with ``{"key": K, "value": V}``, a get with
``{"key": K}`` and completes with the string read.
"""

from __future__ import annotations

from faultlab.errors import HistoryFormatError
from faultlab.history import History
from faultlab.importers.builder import HistoryBuilder
from faultlab.importers.edn import read_maps
from faultlab.importers.json_values import short

_EXPECTED = '{:process P, :type :invoke|:ok, :f :get|:put|:append, :key "K", :value nil|"V"}'


def parse(text: str, source: str) -> History:
    builder = HistoryBuilder(source)
    for line, event in read_maps(text, source):
        try:
            process, type, f, key = event["process"], event["type"], event["f"], event["key"]
        except KeyError as missing:
            raise HistoryFormatError(f"{source}: line {line}: no :{missing.args[0]} in the map; expected "
                                     f"{_EXPECTED}") from None
        value = event.get("value")
        if f not in ("get", "put", "append"):
            raise HistoryFormatError(f"{source}: line {line}: :f must be :get, :put or :append, not {short(f)}")
        if not isinstance(key, str):
            raise HistoryFormatError(f"{source}: line {line}: :key must be a string such as \"1\", not {short(key)}")
        if value is not None and not isinstance(value, str):
            raise HistoryFormatError(f"{source}: line {line}: :value must be nil or a string, not {short(value)}")
        if type == "invoke":
            value = {"key": key} if f == "get" else {"key": key, "value": value}
        elif f != "get":
            value = {"key": key, "value": value}
        builder.add(line, process, type, f, value, event.get("time", line))
    return builder.history
