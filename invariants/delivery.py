"""Delivery guarantees of queues and workers: at-least-once and exactly-once processing of message ids.

"Every acknowledged message is processed" and "no message is processed twice" are the two halves most queue and
job-runner designs claim (SQS with idempotent consumers, Kafka transactions, outbox patterns); retries under faults
break one or the other.

History conventions:

* a producer's ``f="send"`` has the message as its value: an id, or a dict with an ``"id"`` field;
* processing is ``f="process"`` if the history has any such operation, else ``f="receive"`` (override with
  ``processed_by``). A processing operation names its message by its ``ok`` value if it has one, else by its invoke
  value (``process(m)``); a list value is a batch of messages; ``ok None`` (an empty poll) names nothing.

How statuses count: an ``ok`` send is acknowledged and must be processed; an ``info`` send may or may not have
happened, so it need not be processed but may be; a ``fail`` send definitely did not happen, so processing its
message is a violation of exactly-once. An ``ok`` processing happened; an ``info`` processing that names its message
may have happened, so it never counts towards a duplicate, and an acknowledged message whose only processing is
``info`` makes at-least-once ``unknown`` rather than violated. An ``info`` receive cannot name what it received (the
client never saw it): the queue must redeliver such a message, so it does not excuse a loss.

Witnesses carry ``ops`` (call indices) for the HTML timeline.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from faultlab.history import History, Operation
from faultlab.result import CheckResult
from invariants.session import Ident, identity

__all__ = ["check_at_least_once", "check_exactly_once"]


class _Deliveries:
    """Sends and processings grouped by message id."""

    def __init__(self, history: History, processed_by: str | None):
        ops = history.operations()
        if processed_by is None:
            processed_by = "process" if any(op.f == "process" for op in ops) else "receive"
        self.processed_by = processed_by
        self.verb = {"process": "processed", "receive": "received"}.get(processed_by, f"ran {processed_by} on")
        self.ids: dict[Ident, Any] = {}
        self.sends: dict[Ident, list[Operation]] = defaultdict(list)
        self.done: dict[Ident, list[Operation]] = defaultdict(list)
        self.maybe: dict[Ident, list[Operation]] = defaultdict(list)
        for op in ops:
            if op.f == "send":
                for m in _messages(op.input):
                    self.sends[self._name(m)].append(op)
            elif op.f == processed_by:
                value = op.output if op.is_ok and op.output is not None else op.input
                if op.status == "fail":
                    continue
                for m in _messages(value):
                    (self.done if op.is_ok else self.maybe)[self._name(m)].append(op)

    def _name(self, message: Any) -> Ident:
        mid = message["id"] if isinstance(message, dict) and "id" in message else message
        k = identity(mid)
        self.ids[k] = mid
        return k

    def acknowledged(self) -> list[Ident]:
        return sorted(k for k, ops in self.sends.items() if any(s.is_ok for s in ops))


def _messages(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def check_at_least_once(history: History, *, processed_by: str | None = None) -> CheckResult:
    """Check that every acknowledged send was processed at least once.

    Violated when an acknowledged message has no processing at all; ``unknown`` when every unprocessed one was
    possibly processed by an ``info`` operation, or when no send was acknowledged.
    """
    return _at_least_once("at-least-once", _Deliveries(history, processed_by))


def _at_least_once(checker: str, d: _Deliveries) -> CheckResult:
    acked = d.acknowledged()
    if not acked:
        return CheckResult.unexercised(checker, "No send was acknowledged, so delivery was never promised.",
                                       acknowledged=0)
    lost = [k for k in acked if not d.done[k] and not d.maybe[k]]
    if lost:
        first = min((s for s in d.sends[lost[0]] if s.is_ok), key=lambda s: s.call_index)
        more = f" ({len(lost) - 1} more acknowledged messages were never processed either)" if len(lost) > 1 else ""
        return CheckResult.violation(
            checker,
            f"Let S = {first.describe()}, an acknowledged send of message {d.ids[lost[0]]!r}. Then no operation "
            f"{d.verb} it, not even possibly: the message was lost{more}: a contradiction!",
            lost=[d.ids[k] for k in lost], send=first.call_index,
            ops=[min(s.call_index for s in d.sends[k] if s.is_ok) for k in lost])
    uncertain = [k for k in acked if not d.done[k]]
    if uncertain:
        return CheckResult.undecided(
            checker, f"{len(uncertain)} acknowledged messages (first {d.ids[uncertain[0]]!r}) were only possibly "
                     f"processed, by operations whose outcome is unknown (info).",
            uncertain=[d.ids[k] for k in uncertain],
            ops=[op.call_index for k in uncertain for op in d.maybe[k]])
    return CheckResult.holds(checker, f"All {len(acked)} acknowledged messages were processed.",
                             acknowledged=len(acked))


def check_exactly_once(history: History, *, processed_by: str | None = None) -> CheckResult:
    """Check that no message was processed twice or invented, and every acknowledged send was processed.

    Violated on two ``ok`` processings of one id, on processing a message never sent or whose every send failed,
    or on an acknowledged message never processed (see :func:`check_at_least_once`, whose ``unknown`` it inherits).
    """
    checker = "exactly-once"
    d = _Deliveries(history, processed_by)
    for k in sorted(d.done):
        first, *rest = sorted(d.done[k], key=lambda op: op.call_index)
        if rest:
            return CheckResult.violation(
                checker,
                f"Let P1 = {first.describe()} and P2 = {rest[0].describe()}. Then both {d.verb} message "
                f"{d.ids[k]!r}, so it was processed {len(rest) + 1} times: a contradiction!",
                duplicate=d.ids[k], processed=[first.call_index] + [op.call_index for op in rest],
                ops=[first.call_index] + [op.call_index for op in rest])
        sends = d.sends.get(k, [])
        if all(s.status == "fail" for s in sends):
            why = (f"its only sends failed, so it was definitely never sent ({sends[0].describe()})" if sends
                   else "no operation ever sent it")
            return CheckResult.violation(
                checker, f"Let P = {first.describe()}. Then P {d.verb} message {d.ids[k]!r}, but {why}: "
                         f"a contradiction!",
                phantom=d.ids[k], processed=[first.call_index],
                ops=[s.call_index for s in sends] + [first.call_index])
    return _at_least_once(checker, d)


# For `faultlab check-history --check NAME` (faultlab.checkers): checkers that take a history alone.
CHECKERS = {"at-least-once": check_at_least_once, "exactly-once": check_exactly_once}
