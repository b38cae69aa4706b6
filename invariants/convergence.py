"""Eventual convergence and bounded staleness of replicated registers.

An eventually consistent store promises two things a test can check: once writes stop and faults heal, every replica
ends up with the same value (convergence), and a configured replication lag bounds how old a read can be (bounded
staleness, e.g. "a read more than 5 s after an ack sees it").

History conventions are those of :mod:`invariants.session` (``f="write"`` with unique non-None values, ``f="read"``
returning the value or ``None`` for the initial value, ``[key, v]`` when ``keyed=True``). The final reads are the
``ok`` reads with ``phase == "final"`` that the engine makes after the quiet period; :attr:`Operation.node` names
the replica a read was served by.

As everywhere, an ``info`` write never counts as acknowledged but may be read, and "W' strictly precedes W" means
W' completed before W was invoked. Violation witnesses carry ``ops`` (call indices) for the HTML timeline.
"""

from __future__ import annotations

from faultlab.errors import ConfigError
from faultlab.history import History
from faultlab.result import CheckResult
from invariants import by_key
from invariants.session import (
    explain_stale,
    find_stale_read,
    identity,
    impossible_read,
    register_keys,
    stale_witness,
)

__all__ = ["check_bounded_staleness", "check_convergence"]


def check_convergence(history: History, *, keyed: bool = False) -> CheckResult:
    """Check that all final reads of a key return the same value, whichever replica served them.

    Violated when two final reads of one key disagree (the witness names both reads and their nodes) or when one
    returns a value never written or written by a failed write. Nothing to judge (ok, ``exercised=False``) when no key was read finally on at
    least two distinct replicas: agreement between replicas was never observed.
    """
    checker = "convergence"
    compared = 0
    for rk in register_keys(history, keyed=keyed):
        finals = sorted(((r, v) for r, v in rk.reads if r.phase == "final"), key=lambda rv: rv[0].call_index)
        for read, value in finals:
            if bad := impossible_read(checker, rk, read, value):
                return bad
        if not finals:
            continue
        first, first_value = finals[0]
        for read, value in finals[1:]:
            if identity(value) != identity(first_value):
                return CheckResult.violation(
                    checker,
                    f"Let R1 = {first.describe()} on node {first.node} and R2 = {read.describe()} on node "
                    f"{read.node}, final reads{rk.where()} made after the faults healed and writes stopped. Then "
                    f"the replicas still disagree ({_value(first_value)} vs {_value(value)}): they did not "
                    f"converge: a contradiction!",
                    reads=[first.call_index, read.call_index], nodes=[first.node, read.node],
                    values=[first_value, value], key=rk.key, ops=[first.call_index, read.call_index])
        if len({identity(r.node) for r, _ in finals if r.node is not None}) >= 2:
            compared += 1
    if compared == 0:
        return CheckResult.unexercised(checker, "No key had final reads from two or more replicas (Operation.node), "
                                       "so convergence between replicas was never observed.",
                                       keys_compared=0)
    return CheckResult.holds(checker, f"On {compared} key(s) every replica's final read returned the same value.",
                             keys_compared=compared)


def _value(v: object) -> str:
    return "the initial value" if v is None else repr(v)


def check_bounded_staleness(history: History, bound: float, *, keyed: bool = False) -> CheckResult:
    """Check that a read beginning more than ``bound`` time units after a write W was acknowledged does not return
    the initial value or a value of a write that strictly precedes W.

    ``bound=0`` is read-after-write. Raises :class:`ConfigError` for a negative bound. Nothing to judge (ok, ``exercised=False``) when no read
    began more than ``bound`` after an acknowledged write.
    """
    if not bound >= 0:
        raise ConfigError(f"check_bounded_staleness: bound must be a non-negative time, got {bound!r}")
    checker = "bounded-staleness"
    tested = 0
    for rk in register_keys(history, keyed=keyed):
        for read, value in rk.reads:
            if bad := impossible_read(checker, rk, read, value):
                return bad
        acknowledged = rk.acknowledged()
        if stale := find_stale_read(rk, rk.reads, acknowledged, lag=bound):
            promise = (f"W was acknowledged at t={stale.newer.ret:g}, more than the staleness bound {bound:g} "
                       f"before R began at t={stale.read.call:g}")
            return CheckResult.violation(checker, explain_stale(stale, rk, promise), bound=bound,
                                         **stale_witness(stale, rk))
        first_ack = min((w.ret for w in acknowledged), default=None)
        tested += sum(1 for r, _ in rk.reads if first_ack is not None and r.call - first_ack > bound)
    if tested == 0:
        return CheckResult.unexercised(checker, f"No read began more than {bound:g} after an acknowledged write, so "
                                       f"the staleness bound was never exercised.", reads_tested=0)
    return CheckResult.holds(checker, f"{tested} reads that began more than {bound:g} after an acknowledged write "
                                      f"returned it or a newer value.", reads_tested=tested, bound=bound)


# For `faultlab check-history --check NAME` (faultlab.checkers): checkers that take a history alone.
CHECKERS = {"convergence": check_convergence,
            "convergence-keyed": by_key(check_convergence, "Convergence, key by key: final reads carry "
                                        "``[key, value]``.")}
