"""Ordering guarantees of queues and change streams: FIFO per message group, increasing sequence per key.

FIFO queues with message groups (SQS FIFO, Kafka partitions by key) and change streams (DynamoDB Streams, CDC logs)
promise order only within a group or key; these checkers test exactly that promise and nothing stronger.

History conventions:

* :func:`check_fifo_per_group`: a producer's ``f="send"`` has value ``{"group": g, "id": i}``; a consumer's
  ``f="receive"`` has that message as its ``ok`` value (``None`` for an empty poll). Ids are unique per group.
* :func:`check_per_key_order`: a consumer's ``ok`` operation with ``f`` in ``fs`` (default ``"receive"`` and
  ``"consume"``) returns a record ``{"key": k, "seq": s}`` or a list of them (a batch, in stream order).

A consumer stream is the sequence of ``ok`` receives made by one ``Operation.process`` (or one ``Operation.node``
with ``consumer="node"``), in invocation order. Witnesses carry ``ops`` (call indices) for the HTML timeline.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from faultlab.errors import ConfigError, HistoryFormatError
from faultlab.history import History, Operation
from faultlab.result import CheckResult
from invariants.session import Ident, identity

__all__ = ["check_fifo_per_group", "check_per_key_order"]


def _stream_of(consumer: str):
    if consumer not in ("process", "node"):
        raise ConfigError(f"consumer must be 'process' or 'node' (what identifies a consumer stream), "
                          f"not {consumer!r}")
    return (lambda op: op.process) if consumer == "process" else (lambda op: op.node)


def check_fifo_per_group(history: History, *, consumer: str = "process") -> CheckResult:
    """Check that within each group every consumer stream receives messages in send-acknowledgement order.

    The rule: let a and b be messages of one group whose sends are ordered in real time, send(b) acknowledged
    before send(a) was invoked. Then no consumer stream receives a and later b, comparing the first receipt of
    each message in the stream (redelivered duplicates are :mod:`invariants.delivery`'s concern). Concurrent sends
    may be delivered in either order; an ``info`` send is never acknowledged, so it precedes no other send but may
    follow one; receipts of messages never sent are ignored here. Nothing to judge (ok, ``exercised=False``) when no stream received two
    messages of one group.
    """
    checker = "fifo-per-group"
    stream_of = _stream_of(consumer)
    sends: dict[tuple[Ident, Ident], Operation] = {}
    streams: dict[tuple[Ident, Ident], list[tuple[Operation, Any]]] = defaultdict(list)
    for op in history.operations():
        if op.f == "send":
            sends.setdefault(_message_id(op, op.input), op)
        elif op.f == "receive" and op.is_ok and op.output is not None:
            mid = _message_id(op, op.output)
            streams[(identity(stream_of(op)), mid[0])].append((op, op.output))
    judged = 0
    for stream, group in sorted(streams):
        seen: set[Ident] = set()
        # The message received so far whose send was invoked last: any later receipt must not have been sent
        # strictly before it.
        latest: tuple[Operation, Operation] | None = None
        for recv, msg in streams[(stream, group)]:
            mid = _message_id(recv, msg)
            send = sends.get(mid)
            if mid[1] in seen or send is None:
                continue
            seen.add(mid[1])
            if latest is not None and send.precedes(latest[1]):
                return _fifo_violation(checker, latest, (recv, send), msg.get("group"), consumer)
            if latest is None or send.called > latest[1].called:
                latest = (recv, send)
        judged += len(seen) >= 2
    if judged == 0:
        return CheckResult.unexercised(checker, "No consumer stream received two messages of one group, so FIFO order "
                                       "was never exercised.", streams_checked=0)
    return CheckResult.holds(checker, f"{judged} (consumer, group) streams received their messages in send order.",
                             streams_checked=judged)


def _message_id(op: Operation, msg: Any) -> tuple[Ident, Ident]:
    if not isinstance(msg, dict) or "group" not in msg or "id" not in msg:
        raise HistoryFormatError(f"{op.describe()}: a FIFO message must be {{'group': g, 'id': i}}, got {msg!r}")
    return identity(msg["group"]), identity(msg["id"])


def _fifo_violation(checker: str, earlier: tuple[Operation, Operation], later: tuple[Operation, Operation],
                    group: Any, consumer: str) -> CheckResult:
    (r_a, s_a), (r_b, s_b) = earlier, later
    text = (f"Let S1 = {s_b.describe()} and S2 = {s_a.describe()}, sends to group {group!r}. S1 was acknowledged at "
            f"t={s_b.ret:g}, event {s_b.ret_index}, before S2 was invoked at t={s_a.call:g}, event {s_a.call_index}, so group {group!r} must deliver S1's message "
            f"before S2's. Let R1 = {r_a.describe()} and R2 = {r_b.describe()}, receipts by the same {consumer}. "
            f"Then R1 received S2's message before R2 received S1's: a contradiction!")
    return CheckResult.violation(checker, text, group=group, first_sent=s_b.call_index, second_sent=s_a.call_index,
                                 received_first=r_a.call_index, received_second=r_b.call_index,
                                 ops=[s_b.call_index, s_a.call_index, r_a.call_index, r_b.call_index])


def check_per_key_order(history: History, *, fs: tuple[str, ...] = ("receive", "consume"),
                        consumer: str = "process") -> CheckResult:
    """Check that every consumer stream sees each key's records in strictly increasing ``seq``.

    A record whose seq is not greater than the previous one of the same key in the same stream is a violation (a
    reordering, or a replay the stream promised not to make). Nothing to judge (ok, ``exercised=False``) when no stream consumed two records of
    one key.
    """
    checker = "per-key-order"
    stream_of = _stream_of(consumer)
    last: dict[tuple[Ident, Ident], tuple[Operation, Any]] = {}
    judged: set[tuple[Ident, Ident]] = set()
    for op in history.operations():
        if op.f not in fs or not op.is_ok or op.output is None:
            continue
        for rec in op.output if isinstance(op.output, list) else [op.output]:
            if not isinstance(rec, dict) or "key" not in rec or "seq" not in rec:
                raise HistoryFormatError(f"{op.describe()}: a change record must be {{'key': k, 'seq': s}}, "
                                         f"got {rec!r}")
            slot = (identity(stream_of(op)), identity(rec["key"]))
            prev = last.get(slot)
            if prev is not None:
                judged.add(slot)
                if not rec["seq"] > prev[1]:
                    p_op = prev[0]
                    how = "again" if rec["seq"] == prev[1] else "after the later"
                    text = (f"Let C1 = {p_op.describe()} and C2 = {op.describe()}, consumed by the same {consumer} "
                            f"in that order. C1 delivered key {rec['key']!r} at seq {prev[1]!r}, so C2 may only "
                            f"deliver a greater seq. Then C2 delivered seq {rec['seq']!r} {how} seq {prev[1]!r}: "
                            f"a contradiction!")
                    return CheckResult.violation(checker, text, key=rec["key"], seqs=[prev[1], rec["seq"]],
                                                 earlier=p_op.call_index, later=op.call_index,
                                                 ops=sorted({p_op.call_index, op.call_index}))
            last[slot] = (op, rec["seq"])
    if not judged:
        return CheckResult.unexercised(checker, "No consumer stream saw two records of one key, so per-key order was "
                                       "never exercised.", streams_checked=0)
    return CheckResult.holds(checker, f"{len(judged)} (consumer, key) streams saw strictly increasing seqs.",
                             streams_checked=len(judged))


# For `faultlab check-history --check NAME` (faultlab.checkers): checkers that take a history alone.
CHECKERS = {"fifo-per-group": check_fifo_per_group, "per-key-order": check_per_key_order}
