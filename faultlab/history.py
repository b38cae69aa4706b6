"""Histories recorded at the client boundary, in the shape Jepsen and Elle use.

A history is a list of :class:`Event` in the order they happened: each operation is an ``invoke`` followed later by
exactly one completion from the same process: ``ok`` (it happened, with its result), ``fail`` (it definitely did not
happen) or ``info`` (it may or may not have happened: a timeout, a crash). An invoke with no completion is treated as
``info``. The engine records histories; protocol code never does. Checkers in ``invariants/`` consume
:class:`Operation` pairs from :meth:`History.operations`.

Values must be JSON values (None, bool, int, float, str, lists, dicts with string keys) so that a history can be
written to a trace and read back unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import attrs

from faultlab.errors import HistoryFormatError

EVENT_TYPES = ("invoke", "ok", "fail", "info")
COMPLETION_TYPES = ("ok", "fail", "info")


@attrs.frozen
class Event:
    """One line of a history: an invocation or a completion by ``process`` of function ``f``.

    ``time`` is virtual time (or, for imported histories, whatever order-preserving time the source had; only order
    matters to the checkers). ``index`` is the position in the history. ``phase`` is ``"main"`` for the workload run
    under faults and ``"final"`` for reads the engine makes after healing and recovery.
    """

    index: int
    process: Any
    type: str
    f: str
    value: Any
    time: float
    phase: str = "main"
    node: str | None = None

    def to_json(self) -> dict:
        d = {"index": self.index, "process": self.process, "type": self.type, "f": self.f,
             "value": self.value, "time": self.time}
        if self.phase != "main":
            d["phase"] = self.phase
        if self.node is not None:
            d["node"] = self.node
        return d


@attrs.frozen
class Operation:
    """An invocation paired with its completion.

    ``status`` is ``ok``, ``fail`` or ``info``; for ``info`` (and never-completed invokes) ``ret`` is ``math.inf``:
    the operation may take effect at any time after ``call``, or never. ``input`` is the invoke's value, ``output``
    the completion's value (None unless ``ok``).
    """

    process: Any
    f: str
    input: Any
    output: Any
    call: float
    ret: float
    status: str
    call_index: int
    ret_index: int | None
    phase: str = "main"
    node: str | None = None

    @property
    def is_ok(self) -> bool:
        return self.status == "ok"

    @property
    def called(self) -> tuple[float, float]:
        """When it was invoked, as ``(time, event index)``: real-time order even among events at the same instant.

        A simulation records many events at one virtual instant, and a history file's line order is its real-time
        order, so ``a.returned < b.called`` is "a completed before b was invoked" exactly, not only when the clock
        moved in between.
        """
        return (self.call, self.call_index)

    @property
    def returned(self) -> tuple[float, float]:
        """When it completed, as ``(time, event index)``; ``(inf, inf)`` for ``info`` and never-completed ops."""
        if self.status == "info" or self.ret_index is None:
            return (math.inf, math.inf)
        return (self.ret, self.ret_index)

    def precedes(self, other: Operation) -> bool:
        """True when this operation completed before ``other`` was invoked (real-time order)."""
        return self.returned < other.called

    @property
    def is_indeterminate(self) -> bool:
        return self.status == "info"

    def describe(self) -> str:
        """A short human form such as ``process 2 write(3) -> ok`` used in witnesses."""
        out = {"ok": f"ok {self.output!r}" if self.output is not None else "ok",
               "fail": "fail", "info": "unknown (info)"}[self.status]
        arg = "" if self.input is None else repr(self.input)
        return f"process {self.process} {self.f}({arg}) -> {out} [t={self.call:g}..{_fmt_time(self.ret)}]"


def _fmt_time(t: float) -> str:
    return "∞" if math.isinf(t) else f"{t:g}"


class History(Sequence[Event]):
    """An ordered, append-only list of events with the pairing rules above."""

    __slots__ = ("_events", "_open")

    def __init__(self, events: Iterable[Event] = ()):
        self._events: list[Event] = []
        self._open: dict[Any, int] = {}
        for e in events:
            self._append(e)

    # -- recording -----------------------------------------------------------------------------------------------
    def invoke(self, process: Any, f: str, value: Any, time: float, *, phase: str = "main",
               node: str | None = None) -> Event:
        return self._append(Event(len(self._events), process, "invoke", f, value, time, phase, node))

    def complete(self, process: Any, type: str, value: Any, time: float, *, node: str | None = None) -> Event:
        if type not in COMPLETION_TYPES:
            raise ValueError(f"completion type must be one of {COMPLETION_TYPES}, not {type!r}")
        inv = self._open.get(process)
        if inv is None:
            raise ValueError(f"process {process!r} completes an operation it never invoked")
        f = self._events[inv].f
        phase = self._events[inv].phase
        return self._append(Event(len(self._events), process, type, f, value, time, phase,
                                  node if node is not None else self._events[inv].node))

    def _append(self, e: Event) -> Event:
        if e.type not in EVENT_TYPES:
            raise HistoryFormatError(f"event {e.index}: type must be one of {EVENT_TYPES}, not {e.type!r}")
        if e.type == "invoke":
            if e.process in self._open:
                raise HistoryFormatError(
                    f"event {e.index}: process {e.process!r} invokes {e.f} while its previous operation is still "
                    f"open; a process runs one operation at a time (give a crashed process a new id)")
            self._open[e.process] = len(self._events)
        else:
            if self._open.pop(e.process, None) is None:
                raise HistoryFormatError(
                    f"event {e.index}: process {e.process!r} completes ({e.type}) without an open invoke")
        if e.index != len(self._events):
            e = attrs.evolve(e, index=len(self._events))
        self._events.append(e)
        return e

    # -- reading -------------------------------------------------------------------------------------------------
    def __getitem__(self, i):  # type: ignore[override]
        return self._events[i]

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, History) and self._events == other._events

    def __repr__(self) -> str:
        return f"History({len(self._events)} events)"

    def operations(self) -> list[Operation]:
        """Pair each invoke with its completion, in invocation order; open invokes become ``info``."""
        ops: list[Operation] = []
        open_: dict[Any, Event] = {}
        for e in self._events:
            if e.type == "invoke":
                open_[e.process] = e
                continue
            inv = open_.pop(e.process)
            ret = e.time if e.type != "info" else math.inf
            ops.append(Operation(inv.process, inv.f, inv.value, e.value if e.type == "ok" else None,
                                 inv.time, ret, e.type, inv.index, e.index, inv.phase, inv.node or e.node))
        for inv in open_.values():
            ops.append(Operation(inv.process, inv.f, inv.value, None, inv.time, math.inf, "info",
                                 inv.index, None, inv.phase, inv.node))
        ops.sort(key=lambda o: o.call_index)
        return ops

    def to_json(self) -> list[dict]:
        return [e.to_json() for e in self._events]

    @classmethod
    def from_intervals(cls, ops: Iterable[tuple]) -> History:
        """A history from ``(process, f, value, call, ret, status, ok_value[, phase[, node]])`` rows.

        ``ret`` None means the operation never completes. Events are emitted in time order (at equal times,
        invocations first), so overlapping operations interleave as they would in a real run: handy for writing
        checker tests by hand.
        """
        events = []
        for process, f, value, call, ret, status, out, *rest in ops:
            phase, node = (list(rest) + ["main", None])[:2]
            events.append((call, 0, process, "invoke", f, value, phase, node))
            if ret is not None:
                events.append((ret, 1, process, status, f, out if status == "ok" else None, phase, node))
        h = cls()
        for t, _, process, typ, f, value, phase, node in sorted(events, key=lambda e: (e[0], e[1])):
            if typ == "invoke":
                h.invoke(process, f, value, t, phase=phase, node=node)
            else:
                h.complete(process, typ, value, t)
        return h

    @classmethod
    def from_json(cls, rows: list, *, source: str = "history") -> History:
        """Rebuild a history from :meth:`to_json` rows; malformed rows raise :class:`HistoryFormatError`."""
        if not isinstance(rows, list):
            raise HistoryFormatError(f"{source}: a history must be a JSON list of events, got {type(rows).__name__}")
        h = cls()
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise HistoryFormatError(f"{source}: event {i} must be an object, got {type(row).__name__}")
            try:
                h._append(Event(i, row["process"], row["type"], row["f"], row.get("value"),
                                float(row.get("time", i)), row.get("phase", "main"), row.get("node")))
            except KeyError as missing:
                raise HistoryFormatError(f"{source}: event {i} has no {missing.args[0]!r} field "
                                         f"(each event needs process, type, f)") from None
        return h
