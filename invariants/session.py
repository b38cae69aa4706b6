"""Session guarantees over register histories: read-after-write, read-your-writes and monotonic reads.

These are the guarantees a client notices first when a store is only eventually consistent (S3 before 2020, a
replica read after a primary write), weaker than linearizability and checkable in O(n log n) without search.

History conventions (shared with :mod:`invariants.durability` and :mod:`invariants.convergence`, which read register
histories through :func:`register_keys`):

* a write is ``f="write"`` with the written value as the invoke's value; written values are unique per key and never
  ``None`` (so a read's value names the one write it came from);
* a read is ``f="read"``; its ``ok`` value is the value read, ``None`` meaning the initial value (nothing written);
* keyed histories (``keyed=True``, Jepsen's "independent" style) use ``[key, v]`` as the write's value and as the
  read's ``ok`` value, and every guarantee is checked key by key;
* a compare-and-set is ``f="cas"`` with ``[expected, new]`` as its value (``[key, [expected, new]]`` keyed): it is
  a write of ``new``, which counts as written when it succeeded (``ok``), as possibly written when ``info``, and as
  never written when it failed; a written ``new`` must be unique like any written value;
* other functions are ignored.

How the three statuses count: a ``fail`` write definitely did not happen, so reading its value is a violation; an
``info`` write may or may not have happened, so it never counts as acknowledged, but a read may legally return its
value. "W' strictly precedes W" means W' completed before W was invoked (``W'.precedes(W)``: by time, and by event order
at the same instant); an ``info`` write
never completes, so it strictly precedes nothing.

Every violation's witness carries ``ops``: the ``call_index`` of each operation involved, for the HTML timeline.
"""

from __future__ import annotations

import bisect
import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from faultlab.errors import HistoryFormatError
from faultlab.history import History, Operation
from faultlab.result import CheckResult
from invariants import by_key

__all__ = ["RegisterKey", "check_monotonic_reads", "check_read_after_write", "check_read_your_writes",
           "register_keys"]


Ident = tuple[str, Any]


def identity(value: Any) -> Ident:
    """A hashable, sortable name for a JSON value: lists and dicts are not hashable, and 1, 1.0 and True are equal
    in Python but different values in a history. Scalars skip JSON encoding, which dominates large histories."""
    kind = type(value)
    if value is None or kind in (str, int, float, bool):
        return kind.__name__, value
    return "json", json.dumps(value, sort_keys=True, default=repr)


@attrs.frozen
class RegisterKey:
    """The operations on one register: every write by value, and every ``ok`` read with the value it returned."""

    key: Any
    writes: dict[Ident, Operation]
    reads: list[tuple[Operation, Any]]

    def source(self, value: Any) -> Operation | None:
        """The write whose value a read returned; None for the initial value or a value nobody wrote."""
        return None if value is None else self.writes.get(identity(value))

    def acknowledged(self) -> list[Operation]:
        return [w for w in self.writes.values() if w.is_ok]

    def value_of(self, write: Operation) -> Any:
        """The value ``write`` wrote (a cas: its new value)."""
        for (kind, v), op in self.writes.items():
            if op is write:
                return json.loads(v) if kind == "json" else v
        return write.input

    def where(self, key_phrase: bool = True) -> str:
        return f" of key {self.key!r}" if key_phrase and self.key is not None else ""


def register_keys(history: History, *, keyed: bool = False) -> list[RegisterKey]:
    """Split a register history into one :class:`RegisterKey` per key (one, with key None, when not keyed).

    Raises :class:`HistoryFormatError` for a keyed operation whose value is not ``[key, v]`` or for two writes of the
    same value to one key, because every checker here names a read's source by its value.
    """
    writes: dict[Ident, dict[Ident, Operation]] = defaultdict(dict)
    reads: dict[Ident, list[tuple[Operation, Any]]] = defaultdict(list)
    keys: dict[Ident, Any] = {}
    for op in history.operations():
        if op.f == "write" or op.f == "cas":
            key, value = _split(op, op.input, keyed)
            if op.f == "cas":  # a compare-and-set writes its new value
                if not isinstance(value, list | tuple) or len(value) != 2:
                    raise HistoryFormatError(f"{op.describe()}: a cas needs [expected, new] as its value, got "
                                             f"{value!r}")
                value = value[1]
            if value is None:
                raise HistoryFormatError(f"{op.describe()}: a write of None is indistinguishable from the initial "
                                         f"value; write distinct non-None values")
            k, v = identity(key), identity(value)
            if v in writes[k]:
                raise HistoryFormatError(f"{op.describe()} writes the same value as {writes[k][v].describe()}; "
                                         f"register checkers need unique written values per key")
            writes[k][v] = op
            keys[k] = key
        elif op.f == "read" and op.is_ok:
            key, value = _split(op, op.output if not keyed or op.output is not None else op.input, keyed)
            k = identity(key)
            reads[k].append((op, value))
            keys[k] = key
    return [RegisterKey(keys[k], writes[k], reads[k]) for k in sorted(keys)]


def _split(op: Operation, value: Any, keyed: bool) -> tuple[Any, Any]:
    if not keyed:
        return None, value
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise HistoryFormatError(f"{op.describe()}: a keyed history needs [key, value] as the value, got {value!r}; "
                                 f"pass keyed=False for a single register")
    return value[0], value[1]


def impossible_read(checker: str, rk: RegisterKey, read: Operation, value: Any) -> CheckResult | None:
    """A violation if ``read`` returned a value no write wrote, or the value of a write that failed."""
    if value is None:
        return None
    w = rk.source(value)
    if w is None:
        return CheckResult.violation(
            checker,
            f"Let R = {read.describe()}. Then R returned {value!r}{rk.where()}, but no operation ever wrote "
            f"{value!r}: a contradiction!",
            read=read.call_index, key=rk.key, value=value, ops=[read.call_index])
    if w.status == "fail":
        return CheckResult.violation(
            checker,
            f"Let W = {w.describe()} and R = {read.describe()}. W failed, so it definitely did not happen. "
            f"Then R returned W's value {value!r}{rk.where()}: a contradiction!",
            read=read.call_index, failed_write=w.call_index, key=rk.key, value=value,
            ops=[w.call_index, read.call_index])
    return None


@attrs.frozen
class StaleRead:
    """A read that returned a value older than an acknowledged write it should have seen."""

    read: Operation
    value: Any
    source: Operation | None  # None: the initial value
    newer: Operation          # the acknowledged write the read missed


def find_stale_read(rk: RegisterKey, reads: Iterable[tuple[Operation, Any]], acknowledged: Iterable[Operation],
                    lag: float = 0) -> StaleRead | None:
    """The first read that began more than ``lag`` after some acknowledged write W completed yet returned the
    initial value or the value of a write that strictly precedes W.

    Among the acknowledged writes that completed before ``read.call - lag`` the one invoked last is the hardest to
    have missed, so it alone is compared: writes sorted by completion plus a running maximum of invocation time.
    """
    by_ret = sorted(acknowledged, key=lambda w: w.returned)
    rets = [w.returned for w in by_ret]
    latest: list[Operation] = []
    for w in by_ret:
        latest.append(w if not latest or w.called > latest[-1].called else latest[-1])
    for read, value in sorted(reads, key=lambda rv: rv[0].call_index):
        # With no lag, real-time order (event order breaks ties at one instant); with a lag, time alone.
        horizon = read.called if lag == 0 else (read.call - lag, -math.inf)
        n = bisect.bisect_left(rets, horizon)
        if n == 0:
            continue
        newer = latest[n - 1]
        src = rk.source(value)
        if value is None or (src is not None and src.precedes(newer)):
            return StaleRead(read, value, src, newer)
    return None


def explain_stale(stale: StaleRead, rk: RegisterKey, promise: str) -> str:
    """Elle-style prose for a :class:`StaleRead`; ``promise`` says why the read had to see the newer write."""
    w, r = stale.newer, stale.read
    head = f"Let W = {w.describe()} and R = {r.describe()}{rk.where()}. {promise}, so R must return " \
           f"{rk.value_of(w)!r} " \
           f"or a newer value."
    if stale.source is None:
        return f"{head} Then R returned the initial value, as if W had never happened: a contradiction!"
    s = stale.source
    return (f"{head} Let W' = {s.describe()}. Then R returned {stale.value!r}, the value of W', which completed at "
            f"t={s.ret:g}, event {s.ret_index}, before W was even invoked at t={w.call:g}, event {w.call_index}: W' is older than W: a contradiction!")


def stale_witness(stale: StaleRead, rk: RegisterKey) -> dict[str, Any]:
    ops = [stale.newer.call_index, stale.read.call_index]
    if stale.source is not None:
        ops.insert(0, stale.source.call_index)
    return {"read": stale.read.call_index, "acknowledged_write": stale.newer.call_index,
            "stale_write": None if stale.source is None else stale.source.call_index,
            "key": rk.key, "value": stale.value, "ops": ops}


def check_read_after_write(history: History, *, keyed: bool = False) -> CheckResult:
    """Read-after-write: a read that begins after a write was acknowledged returns that write's value or a newer one.

    Violated when such a read returns the initial value, the value of a write that strictly precedes the
    acknowledged one, a value never written, or the value of a failed write. Nothing to judge (ok, ``exercised=False``) when no read began after
    an acknowledged write (nothing was tested).
    """
    return _check_stale("read-after-write", history, keyed, lambda op: None,
                        "W was acknowledged before R began")


def check_read_your_writes(history: History, *, keyed: bool = False) -> CheckResult:
    """Read-your-writes: a process that had a write acknowledged reads that value or a newer one afterwards.

    Like :func:`check_read_after_write`, but only a process's own writes bind its reads. Nothing to judge (ok, ``exercised=False``) when no
    process read after one of its own writes was acknowledged.
    """
    return _check_stale("read-your-writes", history, keyed, lambda op: op.process,
                        "W, by the same process, was acknowledged before R began")


def _check_stale(checker: str, history: History, keyed: bool, session: Callable[[Operation], Any],
                 promise: str) -> CheckResult:
    tested = 0
    for rk in register_keys(history, keyed=keyed):
        for read, value in rk.reads:
            if bad := impossible_read(checker, rk, read, value):
                return bad
        writes: dict[Any, list[Operation]] = defaultdict(list)
        for w in rk.acknowledged():
            writes[identity(session(w))].append(w)
        reads: dict[Any, list[tuple[Operation, Any]]] = defaultdict(list)
        for read, value in rk.reads:
            reads[identity(session(read))].append((read, value))
        for s in sorted(reads):
            if stale := find_stale_read(rk, reads[s], writes.get(s, ())):
                return CheckResult.violation(checker, explain_stale(stale, rk, promise), **stale_witness(stale, rk))
            first_ack = min((w.returned for w in writes.get(s, ())), default=None)
            tested += sum(1 for r, _ in reads[s] if first_ack is not None and r.called > first_ack)
    if tested == 0:
        return CheckResult.unexercised(checker, "No read began after an acknowledged write it was bound by, so the "
                                       "guarantee was never exercised.", reads_tested=0)
    return CheckResult.holds(checker, f"{tested} reads began after an acknowledged write and each returned it or "
                                      f"a newer value.", reads_tested=tested)


def check_monotonic_reads(history: History, *, keyed: bool = False) -> CheckResult:
    """Monotonic reads: once a process has read a write's value, its later reads never return an older value.

    "Older" means the initial value, or the value of a write that strictly precedes the write the earlier read
    returned. Nothing to judge (ok, ``exercised=False``) when no process read the same key twice.
    """
    checker = "monotonic-reads"
    tested = 0
    for rk in register_keys(history, keyed=keyed):
        per_process: dict[Ident, list[tuple[Operation, Any]]] = defaultdict(list)
        for read, value in rk.reads:
            if bad := impossible_read(checker, rk, read, value):
                return bad
            per_process[identity(read.process)].append((read, value))
        for p in sorted(per_process):
            reads = sorted(per_process[p], key=lambda rv: rv[0].call_index)
            tested += len(reads) - 1
            # The earlier read whose source write was invoked last: the hardest floor to fall below.
            floor: tuple[Operation, Operation] | None = None
            for read, value in reads:
                src = rk.source(value)
                if floor is not None and (src is None or src.precedes(floor[1])):
                    return _monotonic_violation(checker, rk, floor, read, value, src)
                if src is not None and (floor is None or src.called > floor[1].called):
                    floor = (read, src)
    if tested == 0:
        return CheckResult.unexercised(checker, "No process read the same key twice, so monotonic reads were never "
                                       "exercised.", reads_tested=0)
    return CheckResult.holds(checker, f"{tested} later reads never went back to an older value.",
                             reads_tested=tested)


def _monotonic_violation(checker: str, rk: RegisterKey, floor: tuple[Operation, Operation], read: Operation,
                         value: Any, src: Operation | None) -> CheckResult:
    r1, w1 = floor
    head = (f"Let R1 = {r1.describe()} and R2 = {read.describe()}{rk.where()}, reads by the same process, and "
            f"W = {w1.describe()}. R1 returned W's value {w1.input!r}, so R2, which came later, must return it or a "
            f"newer value.")
    if src is None:
        text = f"{head} Then R2 returned the initial value, which precedes every write: a contradiction!"
        ops = [w1.call_index, r1.call_index, read.call_index]
    else:
        text = (f"{head} Let W' = {src.describe()}. Then R2 returned W''s value {value!r}, but W' completed at "
                f"t={src.ret:g}, event {src.ret_index}, before W was invoked at t={w1.call:g}, event {w1.call_index}: a contradiction!")
        ops = [src.call_index, w1.call_index, r1.call_index, read.call_index]
    return CheckResult.violation(checker, text, earlier_read=r1.call_index, later_read=read.call_index,
                                 earlier_write=w1.call_index, stale_write=None if src is None else src.call_index,
                                 key=rk.key, value=value, ops=ops)


# For `faultlab check-history --check NAME` (faultlab.checkers): checkers that take a history alone.
CHECKERS = {"read-after-write": check_read_after_write, "read-your-writes": check_read_your_writes,
            "monotonic-reads": check_monotonic_reads,
            "read-after-write-keyed": by_key(check_read_after_write, "Read-after-write, key by key: writes and reads "
                                             "carry ``[key, value]``."),
            "read-your-writes-keyed": by_key(check_read_your_writes, "Read-your-writes, key by key: writes and reads "
                                             "carry ``[key, value]``."),
            "monotonic-reads-keyed": by_key(check_monotonic_reads, "Monotonic reads, key by key: writes and reads "
                                            "carry ``[key, value]``.")}
