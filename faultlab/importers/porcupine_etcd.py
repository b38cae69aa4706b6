"""Porcupine's etcd logs (``test_data/jepsen/etcd_NNN.log``), first recorded by Jepsen against etcd 2.0.

One event per line: ``INFO jepsen.util - PROC TYPE F VALUE`` with TYPE ``:invoke|:ok|:fail|:info``, F
``:read|:write|:cas`` and VALUE ``nil``, an integer, ``[A B]`` or ``:timed-out``. Times are line numbers: only
order matters. Values become ``None``, ints, ``[A, B]`` lists and the string ``"timed-out"``.
"""

from __future__ import annotations

import re
import sys

from faultlab.errors import HistoryFormatError
from faultlab.history import History
from faultlab.importers.builder import HistoryBuilder

_LINE = re.compile(r"INFO\s+jepsen\.util\s+-\s+(\S+)\s+:(invoke|ok|fail|info)\s+:(read|write|cas)\s+(.+?)\s*$")
_VALUE = re.compile(r"nil|-?\d+|\[\s*(-?\d+|nil)\s+(-?\d+|nil)\s*\]|:([\w-]+)")
_EXPECTED = "'INFO jepsen.util - PROC :invoke|:ok|:fail|:info :read|:write|:cas nil|INT|[A B]|:timed-out'"


def _atom(text: str) -> int | None:
    return None if text == "nil" else int(text)


def _value(text: str) -> object:
    m = _VALUE.fullmatch(text)
    if m is None:
        return m
    if m.group(3) is not None:
        return m.group(3)
    if m.group(1) is not None:
        return [_atom(m.group(1)), _atom(m.group(2))]
    return _atom(text)


def parse(text: str, source: str) -> History:
    builder = HistoryBuilder(source)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        m = _LINE.match(line)
        try:
            value = _value(m.group(4)) if m else None
        except ValueError:  # an integer of more digits than Python converts
            raise HistoryFormatError(f"{source}: line {number}: a value of more than {sys.get_int_max_str_digits()} "
                                     f"digits; expected {_EXPECTED}") from None
        if m is None or (value is None and m.group(4) != "nil"):
            raise HistoryFormatError(f"{source}: line {number}: expected {_EXPECTED}, got {line.strip()[:80]!r}")
        process = m.group(1)
        if process.lstrip("-").isdecimal() and len(process) <= 18:  # a process number; a longer one stays a name
            process = int(process)
        builder.add(number, process, m.group(2), m.group(3), value, float(number))
    return builder.history
