"""No lost writes: after healing and recovery, every acknowledged write is still readable or was superseded.

This is the promise behind "acknowledged means durable": a store that acks before fsync, or a failover that elects a
replica missing the tail of the log, loses data silently, and only the final reads show it.

History conventions are those of :mod:`invariants.session` (``f="write"`` with unique non-None values, ``f="read"``
returning the value or ``None`` for the initial value, ``[key, v]`` when ``keyed=True``). The final reads are the
``ok`` reads with ``phase == "final"``, which the engine makes after healing every fault and letting nodes recover.

The rule: let a final read return the value of write W' (or the initial value). If some acknowledged write W exists
such that W' strictly precedes W in real time (W' completed before W was invoked), W could not have been
overwritten by W', so W was lost; the initial value loses every acknowledged write. An ``info`` write is never
counted as acknowledged (losing it is legal), and since it never completes it strictly precedes nothing: a final read
of its value loses no write, because it may have taken effect last. A final read of a value never written or of a
failed write is a violation too. With no final read of a key that had acknowledged writes there is
nothing to judge (ok, ``exercised=False``): durability was never observed.

The witness names the first final read that shows a loss and the write(s) it lost (``lost_write``,
``lost_writes``, ``final_read``, ``ops`` for the timeline), and counts every acknowledged write any final read shows
lost, over every key (``lost_in_all``, ``lost_count``): how much was lost, not only that something was.
"""

from __future__ import annotations

from faultlab.history import History
from faultlab.result import CheckResult
from invariants import by_key
from invariants.session import impossible_read, register_keys

__all__ = ["check_no_lost_writes"]


def check_no_lost_writes(history: History, *, keyed: bool = False) -> CheckResult:
    """Check that the final reads still see every acknowledged write or something that superseded it."""
    checker = "no-lost-writes"
    unread: list = []
    judged = 0
    first = None  # the first violating final read: its explanation and witness
    lost_all: dict[int, object] = {}  # every acknowledged write some final read shows lost, by call index
    for rk in register_keys(history, keyed=keyed):
        acknowledged = sorted(rk.acknowledged(), key=lambda w: w.call_index)
        finals = [(r, v) for r, v in rk.reads if r.phase == "final"]
        if not finals:
            if acknowledged:
                unread.append(rk.key)
            continue
        for read, value in sorted(finals, key=lambda rv: rv[0].call_index):
            if bad := impossible_read(checker, rk, read, value):
                return bad
            src = rk.source(value)
            lost = [w for w in acknowledged if w is not src and (src is None or src.precedes(w))]
            judged += 1
            for w in lost:
                lost_all.setdefault(w.call_index, (rk.key, w))
            if lost and first is None:
                first = (rk, read, value, src, lost)
    if first is not None:
        rk, read, value, src, lost = first
        newest = max(lost, key=lambda w: w.called)
        if src is None:
            why = "returned the initial value, as if no write had ever happened"
            ops = []
        else:
            why = (f"returned {value!r}, the value of W' = {src.describe()}, which completed at t={src.ret:g}, "
                   f"event {src.ret_index}, before W was invoked at t={newest.call:g}, event {newest.call_index}, "
                   f"so W' cannot have overwritten W")
            ops = [src.call_index]
        more = f" ({len(lost) - 1} more acknowledged writes are lost with it)" if len(lost) > 1 else ""
        keys = sorted({repr(k) for k, _ in lost_all.values()})
        total = (f"; {len(lost_all)} acknowledged writes are lost in all" +
                 (f", of {len(keys)} keys" if keyed else "")) if len(lost_all) > len(lost) else ""
        return CheckResult.violation(
            checker,
            f"Let W = {newest.describe()}{rk.where()}, an acknowledged write, and R = {read.describe()}, a final "
            f"read after healing and recovery. Then R {why}: W is lost{more}{total}: a contradiction!",
            lost_write=newest.call_index, lost_writes=[w.call_index for w in lost],
            lost_in_all=sorted(lost_all), lost_count=len(lost_all),
            final_read=read.call_index, stale_write=None if src is None else src.call_index,
            key=rk.key, value=value, ops=ops + [w.call_index for w in lost] + [read.call_index])
    if unread:
        what = "the history has no final reads" if judged == 0 else \
            f"no final read of {'key' if len(unread) == 1 else 'keys'} {', '.join(map(repr, unread))}"
        return CheckResult.unexercised(checker, f"Durability was never observed: {what}, so acknowledged writes "
                                       f"cannot be shown to survive (record reads with phase \"final\").",
                                       unread_keys=unread, final_reads=judged)
    if judged == 0:
        return CheckResult.unexercised(checker, "The history has no final reads and no acknowledged writes: nothing "
                                       "to judge.", final_reads=0)
    return CheckResult.holds(checker, f"{judged} final reads each saw the latest acknowledged writes or a value "
                                      f"that could have superseded them.", final_reads=judged)


# For `faultlab check-history --check NAME` (faultlab.checkers): checkers that take a history alone.
CHECKERS = {"no-lost-writes": check_no_lost_writes,
            "no-lost-writes-keyed": by_key(check_no_lost_writes, "No lost writes, key by key: writes and final reads "
                                           "carry ``[key, value]`` (Jepsen's independent keys).")}
