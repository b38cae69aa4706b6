"""Retries judged from the history: adds applied at most once, replies that answer their own request, bounded
attempts, a circuit breaker that keeps its word, availability after recovery, and answers in bounded time.

Section 13 of the design document: "Retrying a non-idempotent operation causes data corruption", "idempotency keys
(safe to retry)", "3-5 attempts", "Stop retrying entirely when failure rate > threshold", "Set explicit timeouts on
every call". Pure functions over a :class:`~faultlab.history.History`; no trio, no engine state.

History conventions (protocols/retries writes them; any protocol may):

* ``f="add"`` with value ``[n, key]``: add the operation's number ``n`` (unique per operation) under idempotency
  key ``key``; its ``ok`` value is ``[n', balance]``, the request ``n'`` the reply answers;
* a final ``f="read"`` whose ``ok`` value is ``[balance, applied, ...]``, ``applied`` listing every ``n`` the
  service applied, in order (the last such read counts);
* a final ``f="audit"`` whose ``ok`` value is the caller's log, entries ``[kind, time, ...]``: ``["start", t,
  incarnation]``, ``["recv", t, n]``, ``["answer", t, n, status]``, ``["attempt", t, n, "call" | "probe"]``,
  ``["open", t]``, ``["half-open", t]``, ``["close", t]``, in the order they happened.

Witnesses carry ``ops`` (call indices) for the HTML timeline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from faultlab.history import History, Operation
from faultlab.result import CheckResult

__all__ = ["CHECKERS", "check_acknowledged_applied", "check_answers_in_time", "check_applied_at_most_once",
           "check_attempts_bounded", "check_available_after_recovery", "check_breaker_respected",
           "check_replies_match_requests"]

ATTEMPT_LIMIT = 5  # section 13: "3-5 attempts"
ANSWER_LIMIT = 5.0  # seconds: the patience of the engine's client (Protocol.client_timeout's default)


def _adds(history: History) -> list[Operation]:
    return [op for op in history.operations() if op.f == "add" and isinstance(op.input, (list, tuple))]


def _final(history: History, f: str) -> Operation | None:
    done = [op for op in history.operations() if op.f == f and op.phase == "final" and op.is_ok]
    return done[-1] if done else None


def _ops_of(adds: list[Operation], n: Any) -> list[Operation]:
    return [op for op in adds if op.input[0] == n]


def check_applied_at_most_once(history: History) -> CheckResult:
    """No add is applied more than once (a retry or a duplicate applied again: the balance is corrupted)."""
    name = "applied-at-most-once"
    adds, read = _adds(history), _final(history, "read")
    if not adds or read is None:
        return CheckResult.unexercised(name, "no add, or no final read of what the service applied")
    applied = Counter(read.output[1])
    for n, times in sorted(applied.items()):
        if times > 1:
            ops = _ops_of(adds, n)
            invoked = "; ".join(op.describe() for op in ops) or "never invoked"
            return CheckResult.violation(
                name, f"Let add({n}) be invoked once ({invoked}). Then the final read shows it applied {times} "
                      f"times: it was applied again by a retry or a duplicate, a contradiction!",
                op=n, times=times, ops=[op.call_index for op in ops] + [read.call_index], final_read=read.call_index)
    return CheckResult.holds(name, f"{len(applied)} adds applied, each once", applied=len(applied))


def check_acknowledged_applied(history: History) -> CheckResult:
    """Every acknowledged add was applied, and no failed one was (Fail means it definitely did not happen)."""
    name = "acknowledged-applied"
    adds, read = _adds(history), _final(history, "read")
    if not adds or read is None:
        return CheckResult.unexercised(name, "no add, or no final read of what the service applied")
    applied = set(read.output[1])
    judged = 0
    for op in adds:
        n = op.input[0]
        if op.is_ok and n not in applied:
            return CheckResult.violation(
                name, f"Let {op.describe()} be acknowledged. Then the final read's applied log lacks {n}: an "
                      f"acknowledged add is lost, a contradiction!", op=n, lost=op.call_index,
                ops=[op.call_index, read.call_index])
        if op.status == "fail" and n in applied:
            return CheckResult.violation(
                name, f"Let {op.describe()} fail. Then the final read shows {n} applied: a failed add happened, "
                      f"a contradiction!", op=n, failed=op.call_index, ops=[op.call_index, read.call_index])
        judged += op.status != "info"
    if not judged:
        return CheckResult.unexercised(name, "every add was indeterminate")
    return CheckResult.holds(name, f"{judged} determinate adds agree with the applied log")


def check_replies_match_requests(history: History) -> CheckResult:
    """An acknowledged add's reply answers that add, not another request that reused its idempotency key."""
    name = "replies-match-requests"
    adds = [op for op in _adds(history) if op.is_ok]
    if not adds:
        return CheckResult.unexercised(name, "no add was acknowledged")
    for op in adds:
        answered = op.output[0] if isinstance(op.output, (list, tuple)) and op.output else None
        if answered != op.input[0]:
            others = [o for o in _adds(history) if o.input[0] == answered]
            return CheckResult.violation(
                name, f"Let {op.describe()} be acknowledged. Then its reply answers add({answered}), another "
                      f"request under the same key {op.input[1]!r}: a reused key returned the wrong cached reply, a "
                      f"contradiction!", op=op.input[0], answered=answered, key=op.input[1],
                ops=[op.call_index] + [o.call_index for o in others])
    return CheckResult.holds(name, f"{len(adds)} acknowledged adds, each answered by its own reply")


def _audit(history: History) -> tuple[Operation | None, list[list[Any]]]:
    audit = _final(history, "audit")
    return audit, ([list(e) for e in audit.output] if audit is not None else [])


def check_attempts_bounded(history: History, *, limit: int = ATTEMPT_LIMIT) -> CheckResult:
    """No operation makes more than ``limit`` attempts (section 13: "3-5 attempts"; "don't retry forever")."""
    name = "attempts-bounded"
    audit, entries = _audit(history)
    attempts = Counter(e[2] for e in entries if e[0] == "attempt")
    if audit is None or not attempts:
        return CheckResult.unexercised(name, "no audit of the caller's attempts")
    n, most = max(attempts.items(), key=lambda kv: (kv[1], -kv[0]))
    if most > limit:
        ops = [op.call_index for op in _ops_of(_adds(history), n)]
        return CheckResult.violation(
            name, f"Let operation {n} be retried with at most {limit} attempts. Then the caller's audit shows "
                  f"{most} attempts for it: it retried without a bound, a contradiction!",
            op=n, attempts=most, limit=limit, ops=ops + [audit.call_index])
    return CheckResult.holds(name, f"{len(attempts)} operations, at most {most} attempts each", most=most)


def check_breaker_respected(history: History) -> CheckResult:
    """Once the breaker opens, no attempt is made until it half-opens, and a half-open breaker lets exactly one
    probe through before it closes or opens again."""
    name = "breaker-respected"
    audit, entries = _audit(history)
    if audit is None:
        return CheckResult.unexercised(name, "no audit of the caller")
    state, since, probes, opened = "closed", 0.0, 0, 0
    for i, e in enumerate(entries):
        kind = e[0]
        if kind == "start":
            state, probes = "closed", 0  # a new incarnation starts with a closed breaker
        elif kind == "open":
            state, since, opened = "open", e[1], opened + 1
        elif kind == "half-open":
            state, since, probes = "half-open", e[1], 0
        elif kind == "close":
            state = "closed"
        elif kind == "attempt":
            bad = None
            if state == "open":
                bad = f"the breaker opened at t={since:g} and had not half-opened"
            elif state == "half-open":
                probes += 1
                if e[3] != "probe" or probes > 1:
                    bad = f"the breaker half-opened at t={since:g} and its one probe was already sent"
            if bad:
                ops = [op.call_index for op in _ops_of(_adds(history), e[2])]
                return CheckResult.violation(
                    name, f"Let {bad}. Then operation {e[2]} made an attempt at t={e[1]:g} (audit entry {i}): a "
                          f"call went through an open breaker, a contradiction!",
                    op=e[2], entry=i, at=e[1], ops=ops + [audit.call_index])
    if not opened:
        return CheckResult.unexercised(name, "the breaker never opened")
    return CheckResult.holds(name, f"the breaker opened {opened} times and no call went through while open",
                             opened=opened)


def check_available_after_recovery(history: History) -> CheckResult:
    """After healing and recovery every add through the caller succeeds (a breaker that never half-opens fails
    this: availability never returns)."""
    name = "available-after-recovery"
    final = [op for op in _adds(history) if op.phase == "final"]
    if not final:
        return CheckResult.unexercised(name, "no add in the final phase")
    for op in final:
        if not op.is_ok:
            return CheckResult.violation(
                name, f"Let the service be healthy again (faults healed, nodes restarted, settled). Then "
                      f"{op.describe()} still did not succeed: availability never returned, a contradiction!",
                op=op.input[0], ops=[op.call_index])
    return CheckResult.holds(name, f"{len(final)} adds after recovery succeeded")


def check_answers_in_time(history: History, *, limit: float = ANSWER_LIMIT) -> CheckResult:
    """The caller answers every operation it received within ``limit`` seconds, unless its incarnation crashed
    first (section 13: "Set explicit timeouts on every call"; "Don't wait forever; fail fast")."""
    name = "answers-in-time"
    audit, entries = _audit(history)
    if audit is None:
        return CheckResult.unexercised(name, "no audit of the caller")
    open_ops: dict[Any, float] = {}
    answered = 0
    slowest = 0.0

    def late(n: Any, since: float, what: str) -> CheckResult:
        ops = [op.call_index for op in _ops_of(_adds(history), n)]
        return CheckResult.violation(
            name, f"Let the caller receive operation {n} at t={since:g}. Then {what}: it waited longer than "
                  f"{limit:g} s, a contradiction!", op=n, received=since, limit=limit, ops=ops + [audit.call_index])

    for e in entries:
        if e[0] == "start":
            open_ops.clear()  # the incarnation that received them crashed: nobody is left to answer
        elif e[0] == "recv":
            open_ops[e[2]] = e[1]
        elif e[0] == "answer" and e[2] in open_ops:
            since = open_ops.pop(e[2])
            slowest = max(slowest, e[1] - since)
            answered += 1
            if e[1] - since > limit:
                return late(e[2], since, f"it answered only at t={e[1]:g}")
    for n, since in sorted(open_ops.items(), key=lambda kv: kv[1]):
        return late(n, since, f"it never answered (audit read at t={audit.call:g})")
    if not answered:
        return CheckResult.unexercised(name, "the caller answered nothing")
    return CheckResult.holds(name, f"{answered} operations answered, the slowest in {slowest:.3g} s",
                             slowest=slowest)


CHECKERS: dict[str, Callable[[History], CheckResult]] = {
    "applied-at-most-once": check_applied_at_most_once,
    "acknowledged-applied": check_acknowledged_applied,
    "replies-match-requests": check_replies_match_requests,
    "attempts-bounded": check_attempts_bounded,
    "breaker-respected": check_breaker_respected,
    "available-after-recovery": check_available_after_recovery,
    "answers-in-time": check_answers_in_time,
}
