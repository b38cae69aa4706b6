"""Observed writes are durable: a value some read returned is never lost, even if its write was never acknowledged.

``no-lost-writes`` (:mod:`invariants.durability`) protects acknowledged writes only: a write whose client timed out
(``info``) may take effect or not. But once a read has *returned* its value, it took effect; a store that later loses
it served a value it had not made durable (a replica applying log records past the durable point, a writer serving
a record a failover then truncates). This checker counts such observed writes as acknowledged and applies the same
rule as ``no-lost-writes`` to the final reads: let a final read return the value of W' (or the initial value); an
acknowledged or observed write W with W' completed before W was invoked is lost.

Pure over a history. ``observers`` are the read functions whose ``ok`` values count as observations (any phase but
``final``), ``finals`` the functions of the final reads judged. Values are unique per write, as the register checkers
require; reads return a write's value or ``None`` (initial).
"""

from __future__ import annotations

from collections.abc import Sequence

from faultlab.history import History
from faultlab.result import CheckResult

__all__ = ["check_observed_writes_durable"]


def check_observed_writes_durable(history: History, *, observers: Sequence[str] = ("read",),
                                  finals: Sequence[str] = ("read",)) -> CheckResult:
    checker = "observed-writes-durable"
    ops = history.operations()
    writes = {op.input: op for op in ops if op.f == "write"}
    observed: dict[object, object] = {}  # write value -> the first read that returned it
    for op in ops:
        if op.f in observers and op.is_ok and op.phase != "final" and op.output is not None:
            observed.setdefault(op.output, op)
    must = {v: w for v, w in writes.items() if w.is_ok or v in observed}
    final_reads = [op for op in ops if op.f in finals and op.is_ok and op.phase == "final"]
    if not final_reads:
        return CheckResult.unexercised(checker, "The history has no ok final reads: durability was never observed.",
                                       final_reads=0)
    for read in final_reads:
        value = read.output
        src = writes.get(value) if value is not None else None
        if value is not None and (src is None or src.status == "fail"):
            return CheckResult.violation(
                checker, f"Let R = {read.describe()}. Then R returned {value!r}, which no write that may have "
                f"happened wrote: a contradiction!", final_read=read.call_index, ops=[read.call_index])
        lost = [w for v, w in must.items() if w is not src and (src is None or src.precedes(w))]
        if lost:
            w = max(lost, key=lambda op: op.called)
            seen = observed.get(w.input)
            how = "was acknowledged" if w.is_ok else f"was never acknowledged, but {seen.describe()} returned its value"
            was = "the initial value" if src is None else f"the value of W' = {src.describe()}, which completed " \
                f"before W was invoked"
            return CheckResult.violation(
                checker, f"Let W = {w.describe()}: it {how}, so it took effect. Let R = {read.describe()}, a final "
                f"read after healing and recovery. Then R returned {was}, so W is lost: a contradiction!",
                lost_write=w.call_index, observed_by=None if seen is None else seen.call_index,
                final_read=read.call_index,
                ops=[x for x in (w.call_index, None if seen is None else seen.call_index,
                                 None if src is None else src.call_index, read.call_index) if x is not None])
    return CheckResult.holds(checker, f"{len(final_reads)} final reads each saw every acknowledged or observed write "
                             f"or a value that could have superseded it.", final_reads=len(final_reads),
                             observed=len(observed))
