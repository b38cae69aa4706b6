"""Builds a :class:`History` from parsed lines, turning malformed fields and pairing mistakes into errors that name
the file and line.

Every importer hands its fields to :meth:`HistoryBuilder.add`, so every format keeps the same rules: a process is
an integer or a name, a function a name, a value plain JSON (finite, nested at most ``MAX_DEPTH`` deep), a time a
finite number. What a checker later does with the history then cannot fail on the shape of a field.
"""

from __future__ import annotations

import math
from typing import Any

from faultlab.errors import HistoryFormatError
from faultlab.history import History
from faultlab.importers.json_values import short, value_problem

PHASES = ("main", "final")


class HistoryBuilder:
    """Appends invokes and completions to ``history``; ``source`` is the file name used in error messages."""

    def __init__(self, source: str):
        self.source = source
        self.history = History()
        self._open_f: dict[Any, str] = {}

    def add(self, line: int | str, process: Any, type: str, f: str, value: Any, time: Any, *, phase: Any = "main",
            node: Any = None) -> None:
        """Append one event; ``line`` is its line number, or words that locate it ("history event 3")."""
        problem = _field_problem(process, type, f, value, time, phase, node)
        if problem:
            raise HistoryFormatError(f"{self._where(line)}: {problem}")
        try:
            if type == "invoke":
                self.history.invoke(process, f, value, float(time), phase=phase, node=node)
                self._open_f[process] = f
                return
            invoked = self._open_f.pop(process, None)
            if invoked is None:
                raise HistoryFormatError(f"{self._where(line)}: process {short(process)} completes ({type} {f[:60]}) an "
                                         f"operation it never invoked; each completion needs an earlier invoke by "
                                         f"its process")
            if invoked != f:
                raise HistoryFormatError(f"{self._where(line)}: process {short(process)} invoked {invoked[:60]} but completes "
                                         f"{f[:60]}; a completion must name the function of its invoke")
            self.history.complete(process, type, value, float(time), node=node)
        except HistoryFormatError as e:
            if str(e).startswith(self.source):
                raise
            raise HistoryFormatError(f"{self._where(line)}: {e}") from None

    def _where(self, line: int | str) -> str:
        """Where an event is, for an error message (built only when there is one)."""
        return f"{self.source}: line {line}" if isinstance(line, int) else f"{self.source}: {line}"


def _field_problem(process: Any, type: Any, f: Any, value: Any, time: Any, phase: Any, node: Any) -> str | None:
    """What is wrong with one event's fields, in words, or None."""
    if isinstance(process, bool) or not isinstance(process, int | str):
        return f"the process must be an integer or a name, not {short(process)}"
    if type not in ("invoke", "ok", "fail", "info"):
        return f"expected type invoke, ok, fail or info, got {short(type)}"
    if not isinstance(f, str) or not f:
        return f"the function (f) must be a name such as \"read\", not {short(f)}"
    if isinstance(time, bool) or not isinstance(time, int | float):
        return f"the time must be a number, not {short(time)}"
    try:
        finite = math.isfinite(float(time))
    except OverflowError:
        finite = False
    if not finite:
        return f"the time {short(time, 30)} is not a finite number"
    if phase not in PHASES:
        return f"the phase must be \"main\" or \"final\", not {short(phase)}"
    if node is not None and not isinstance(node, str):
        return f"the node must be a name or null, not {short(node)}"
    problem = value_problem(value)
    if problem:
        return f"the value of this {f} is not plain JSON: {problem}"
    return None
