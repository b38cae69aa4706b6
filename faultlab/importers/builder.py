"""Builds a :class:`History` from parsed lines, turning pairing mistakes into errors that name the file and line."""

from __future__ import annotations

from typing import Any

from faultlab.errors import HistoryFormatError
from faultlab.history import History


class HistoryBuilder:
    """Appends invokes and completions to ``history``; ``source`` is the file name used in error messages."""

    def __init__(self, source: str):
        self.source = source
        self.history = History()
        self._open_f: dict[Any, str] = {}

    def add(self, line: int, process: Any, type: str, f: str, value: Any, time: float, *, phase: str = "main",
            node: str | None = None) -> None:
        where = f"{self.source}: line {line}"
        try:
            if type == "invoke":
                self.history.invoke(process, f, value, time, phase=phase, node=node)
                self._open_f[process] = f
                return
            if type not in ("ok", "fail", "info"):
                raise HistoryFormatError(f"{where}: expected type invoke, ok, fail or info, got {type!r}")
            invoked = self._open_f.pop(process, None)
            if invoked is None:
                raise HistoryFormatError(f"{where}: process {process!r} completes ({type} {f}) an operation it "
                                         f"never invoked; each completion needs an earlier invoke by its process")
            if invoked != f:
                raise HistoryFormatError(f"{where}: process {process!r} invoked {invoked} but completes {f}; a "
                                         f"completion must name the function of its invoke")
            self.history.complete(process, type, value, time, node=node)
        except HistoryFormatError as e:
            if str(e).startswith(self.source):
                raise
            raise HistoryFormatError(f"{where}: {e}") from None
