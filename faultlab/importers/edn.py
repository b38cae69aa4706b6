"""EDN reading shared by the Jepsen and porcupine-kv importers, using the ``edn_format`` library.

The whole file is parsed in one call (parsing line by line is five times slower), then each map is given the line
it came from for error messages. Only when the file does not parse is it read again line by line, to name the line.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import edn_format

from faultlab.errors import HistoryFormatError


def plain(value: Any) -> Any:
    """An EDN value as a JSON value: keywords and symbols become their names, vectors lists, maps dicts."""
    if isinstance(value, edn_format.Keyword | edn_format.Symbol):
        return value.name
    if isinstance(value, Mapping):
        return {_key(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | edn_format.ImmutableList):
        return [plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((plain(v) for v in value), key=repr)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _key(k: Any) -> str:
    k = plain(k)
    return k if isinstance(k, str) else str(k)


def read_maps(text: str, source: str) -> list[tuple[int, dict]]:
    """The maps in ``text`` (one per line, or one vector of them), each with its 1-based line number."""
    stripped = text.strip()
    is_vector = stripped.startswith("[")
    try:
        items = edn_format.loads(stripped if is_vector else f"[{stripped}]")
    except Exception as e:  # edn_format raises EDNDecodeError, but also NotImplementedError for unknown tags
        _raise_at_line(text, source, e)
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if line.lstrip(" \t[").startswith("{")]
    if len(lines) != len(items):
        lines = [0] * len(items)
    maps = []
    for line, item in zip(lines, items, strict=True):
        if not isinstance(item, Mapping):
            where = f"line {line}" if line else f"item {len(maps) + 1}"
            raise HistoryFormatError(f"{source}: {where}: expected a map {{:type ..., :f ..., :process ...}}, "
                                     f"got {edn_format.dumps(item)[:60]!r}")
        maps.append((line, plain(item)))
    return maps


def _raise_at_line(text: str, source: str, error: Exception) -> None:
    for number, line in enumerate(text.splitlines(), start=1):
        body = line.strip().lstrip("[").rstrip("]").strip()
        if not body:
            continue
        try:
            edn_format.loads(f"[{body}]")
        except Exception as e:
            raise HistoryFormatError(f"{source}: line {number}: not valid EDN ({e}); expected one map per line "
                                     f"such as {{:type :invoke, :f :read, :value nil, :process 0}}, got "
                                     f"{line.strip()[:80]!r}") from None
    raise HistoryFormatError(f"{source}: not valid EDN ({error}); expected maps such as "
                             f"{{:type :invoke, :f :read, :value nil, :process 0}}, one per line or in a vector")
