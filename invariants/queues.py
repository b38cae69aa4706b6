"""Message-queue guarantees judged from consumers' logs: at-least-once with a dead-letter queue, exactly-once
processing as SQS FIFO defines it, order per message group across consumers, one in-flight batch per group, the
visibility timeout, and poison messages redriven instead of blocking.

SQS (seed section 5) makes each of these claims for one kind of queue or the other; a consumer's receive, its
processing, its visibility extensions and its delete happen at different times inside one "receive, process,
delete" cycle, so the checkers read what the consumer logged, with the times it saw them.

History conventions:

* a producer's ``f="send"`` has the message ``{"id": i, "group": g, "poison": bool}`` as its value; ``ok`` is an
  acknowledged send, ``info`` may have happened, ``fail`` did not. Ids are unique per run: a retry of a send (the
  same message, the same FIFO deduplication id) is the same id;
* a consumer's ``f="consume"`` (or ``"drain"``, the final phase's) ends ``ok`` with its log: the consumer's own
  record of what it did, kept by the application whatever happened to the consumer (a crashed consumer's log ends
  at the crash). ``{"visibility": V, "held": [entry, ...]}``, one entry per message it received::

      {"id": i, "group": g, "copy": c, "batch": b, "received": [t_request, t_reply], "lease": t,
       "outcome": "processed" | "failed" | "abandoned" | "released" | "dropped",
       "processed_at": t | None, "released_at": t | None, "deleted": [t_invoke, t_ack | None] | None}

  ``copy`` names the queue's message (a standard queue stores a retried send as a new message); ``batch`` numbers
  the consumer's receive calls; ``lease`` is the consumer's lower bound on the message's visibility deadline (the
  request's time plus V, moved on by each acknowledged extension); ``processed_at`` is when the processing's side
  effect happened; ``deleted`` is the delete's invocation and, if the queue confirmed it, its acknowledgement;
* the final phase's ``f="read-dlq"`` ends ``ok`` with ``{"max_receive_count": n | None, "messages": [...]}``: the
  dead-letter queue's messages ``{"id", "group", "copy", "receives"}`` (None: the queue has no redrive policy).

A message is *certainly held* by a consumer from its receive's reply until the earliest of its lease, its release
(visibility set to 0) and its delete's invocation: the queue cannot have made it visible, or deleted it, before.
Witnesses carry ``ops`` (call indices) for the HTML timeline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from faultlab.history import History, Operation
from faultlab.result import CheckResult
from invariants.session import identity

__all__ = ["CHECKERS", "check_exactly_once_processing", "check_group_order", "check_invisible_while_held",
           "check_one_batch_per_group", "check_poison_redriven", "check_processed_or_dead_lettered"]

CONSUMERS = ("consume", "drain")


def _sends(history: History) -> dict[Any, list[Operation]]:
    out: dict[Any, list[Operation]] = defaultdict(list)
    for op in history.operations():
        if op.f == "send":
            out[identity(op.input["id"])].append(op)
    return out


def _entries(history: History) -> list[tuple[Operation, dict]]:
    """(consume operation, log entry) for every message a consumer logged, in invocation order."""
    return [(op, e) for op in history.operations() if op.f in CONSUMERS and op.is_ok and op.output
            for e in op.output["held"]]


def _dlq(history: History) -> Operation | None:
    ops = [op for op in history.operations() if op.f == "read-dlq" and op.is_ok and op.phase == "final"]
    return ops[-1] if ops else None


def _first_ack(sends: list[Operation]) -> Operation | None:
    acked = [s for s in sends if s.is_ok]
    return min(acked, key=lambda s: s.call_index) if acked else None


def check_processed_or_dead_lettered(history: History) -> CheckResult:
    """Every acknowledged message was processed by some consumer or is in the dead-letter queue after recovery.

    Judged on the final read of the dead-letter queue, after the final drain: without it nothing is judged."""
    checker = "at-least-once"
    dlq = _dlq(history)
    if dlq is None:
        return CheckResult.unexercised(checker, "The dead-letter queue was never read after recovery.")
    processed = {identity(e["id"]) for _, e in _entries(history) if e["outcome"] == "processed"}
    dead = {identity(m["id"]) for m in dlq.output["messages"]}
    acked = [(k, _first_ack(ss)) for k, ss in sorted(_sends(history).items()) if _first_ack(ss) is not None]
    lost = [(k, s) for k, s in acked if k not in processed and k not in dead]
    if lost:
        k, s = lost[0]
        more = f" ({len(lost) - 1} more acknowledged messages neither)" if len(lost) > 1 else ""
        return CheckResult.violation(
            checker, f"Let S = {s.describe()}, an acknowledged send of message {s.input['id']!r}. Then no consumer "
                     f"processed it and the dead-letter queue read after recovery and the final drain "
                     f"({dlq.describe().split(' -> ')[0]}) does not hold it: the message was lost{more}: "
                     f"a contradiction!",
            lost=[s.input["id"] for _, s in lost], send=s.call_index, ops=[s.call_index, dlq.call_index])
    if not acked:
        return CheckResult.unexercised(checker, "No send was acknowledged, so delivery was never promised.")
    n_dead = sum(1 for k, _ in acked if k in dead and k not in processed)
    return CheckResult.holds(checker, f"All {len(acked)} acknowledged messages were processed "
                                      f"({n_dead} of them only dead-lettered).", acknowledged=len(acked))


def check_exactly_once_processing(history: History) -> CheckResult:
    """No message is processed twice while the queue was told it was done, and none is processed that was never
    sent: exactly-once processing as SQS FIFO defines it.

    The rule: let P1 and P2 be two processings of message id m, P1's side effect first. P2 is a duplicate (a send
    retry the queue did not deduplicate, a redelivery of a deleted message, or of one processed after its
    visibility timeout ran out) unless P1's consumer invoked its delete while its lease still ran and the queue
    never acknowledged it: a delete lost on the way, after which SQS promises nothing. A message is phantom if it
    was processed and no send of it may have happened.
    """
    checker = "exactly-once"
    sends = _sends(history)
    by_id: dict[Any, list[tuple[Operation, dict]]] = defaultdict(list)
    for op, e in _entries(history):
        if e["outcome"] == "processed":
            by_id[identity(e["id"])].append((op, e))
    for k in sorted(by_id):
        done = sorted(by_id[k], key=lambda x: (x[1]["processed_at"], x[0].call_index))
        ss = sends.get(k, [])
        if all(s.status == "fail" for s in ss):
            op, e = done[0]
            why = f"its only sends failed ({ss[0].describe()})" if ss else "no operation ever sent it"
            return CheckResult.violation(
                checker, f"Let P = {op.describe().split(' -> ')[0]}, which processed message {e['id']!r} at "
                         f"t={e['processed_at']:g}. But {why}: a contradiction!",
                phantom=e["id"], ops=[s.call_index for s in ss] + [op.call_index])
        for (op1, e1), (op2, e2) in zip(done, done[1:], strict=False):
            deleted = e1["deleted"]
            if deleted and deleted[1] is None and deleted[0] < e1["lease"]:
                continue  # P1's timely delete was lost: a redelivery is allowed
            if deleted is None:
                how = "never deleted it"
            elif deleted[1] is not None:
                how = f"had its delete acknowledged at t={deleted[1]:g}"
            else:
                how = f"invoked its delete at t={deleted[0]:g}, after its lease ended at t={e1['lease']:g}"
            return CheckResult.violation(
                checker, f"Let P1 = {op1.describe().split(' -> ')[0]} and P2 = "
                         f"{op2.describe().split(' -> ')[0]}. P1 processed message {e1['id']!r} at "
                         f"t={e1['processed_at']:g} (its lease ran until t={e1['lease']:g}) and {how}. Then P2 "
                         f"processed it again at t={e2['processed_at']:g} (queue message {e2['copy']!r}, "
                         f"received at t={e2['received'][1]:g}): a duplicate: a contradiction!",
                duplicate=e1["id"], copies=[e1["copy"], e2["copy"]], processed=[op1.call_index, op2.call_index],
                ops=sorted({op1.call_index, op2.call_index}))
    if not by_id:
        return CheckResult.unexercised(checker, "No message was processed.")
    return CheckResult.holds(checker, f"{len(by_id)} messages processed, none again but after a "
                                      f"timely delete was lost.", messages=len(by_id))


def check_group_order(history: History) -> CheckResult:
    """Within each message group, across all consumers, messages are first processed in send order.

    The rule: let a and b be messages of one group, send(b) acknowledged before send(a) was invoked. Then a is not
    first processed before b is (comparing each message's first processing; a message never processed, dead-
    lettered say, orders nothing). Concurrent sends may be processed in either order."""
    checker = "fifo-order"
    sends = _sends(history)
    first_send = {k: min(ss, key=lambda s: s.call_index) for k, ss in sends.items()}
    first: dict[Any, tuple[Operation, dict]] = {}
    for op, e in _entries(history):
        k = identity(e["id"])
        if e["outcome"] == "processed" and (k not in first or e["processed_at"] < first[k][1]["processed_at"]):
            first[k] = (op, e)
    groups: dict[Any, list[tuple[Any, Operation, dict]]] = defaultdict(list)
    for k, (op, e) in first.items():
        if k in first_send:
            groups[identity(e["group"])].append((k, op, e))
    judged = 0
    for g in sorted(groups):
        seq = sorted(groups[g], key=lambda x: (x[2]["processed_at"], x[1].call_index))
        judged += len(seq) >= 2
        for i, (ka, op_a, ea) in enumerate(seq):
            for kb, op_b, eb in seq[i + 1:]:
                sa = first_send[ka]
                send_b = [s for s in sends[kb] if s.is_ok]
                if any(s.precedes(sa) for s in send_b) and eb["processed_at"] > ea["processed_at"]:
                    s = next(s for s in send_b if s.precedes(sa))
                    return CheckResult.violation(
                        checker, f"Let S1 = {s.describe()} and S2 = {sa.describe()}, sends to group "
                                 f"{ea['group']!r}: S1 was acknowledged before S2 was invoked. Let P2 = "
                                 f"{op_a.describe().split(' -> ')[0]} and P1 = {op_b.describe().split(' -> ')[0]}. "
                                 f"Then P2 processed S2's message {ea['id']!r} at t={ea['processed_at']:g}, before "
                                 f"P1 first processed S1's message {eb['id']!r} at t={eb['processed_at']:g}: "
                                 f"a contradiction!",
                        group=ea["group"], first_sent=eb["id"], processed_first=ea["id"],
                        ops=sorted({s.call_index, sa.call_index, op_a.call_index, op_b.call_index}))
    if not judged:
        return CheckResult.unexercised(checker, "No group had two messages processed, so order was never exercised.")
    return CheckResult.holds(checker, f"{judged} groups processed their messages in send order.", groups=judged)


def _held_until(e: dict) -> float:
    """The end of the interval the consumer certainly held the message: lease, release or delete invocation."""
    ends = [e["lease"]]
    if e["released_at"] is not None:
        ends.append(e["released_at"])
    if e["deleted"]:
        ends.append(e["deleted"][0])
    return min(ends)


def _overlap(first: tuple[Operation, dict], second: tuple[Operation, dict], end: float) -> bool:
    (op1, e1), (op2, e2) = first, second
    return op1.call_index != op2.call_index and e1["received"][1] <= e2["received"][1] < end


def check_invisible_while_held(history: History) -> CheckResult:
    """No queue message is received by a second consumer while a first one certainly holds it: the message is
    invisible for the visibility timeout after a read (and while extended), until released or deleted."""
    checker = "visibility"
    by_copy: dict[Any, list[tuple[Operation, dict]]] = defaultdict(list)
    for op, e in _entries(history):
        by_copy[identity(e["copy"])].append((op, e))
    judged = 0
    for k in sorted(by_copy):
        rs = sorted(by_copy[k], key=lambda x: (x[1]["received"][1], x[0].call_index))
        judged += len(rs) >= 2
        for i, a in enumerate(rs):
            end = _held_until(a[1])
            for b in rs[i + 1:]:
                if _overlap(a, b, end):
                    (op1, e1), (op2, e2) = a, b
                    return CheckResult.violation(
                        checker, f"Let C1 = {op1.describe().split(' -> ')[0]} and C2 = "
                                 f"{op2.describe().split(' -> ')[0]}. C1 received queue message {e1['copy']!r} at "
                                 f"t={e1['received'][1]:g} and certainly held it until t={end:g} (its lease, release "
                                 f"or delete). Then C2 received it at t={e2['received'][1]:g}, while it was to be "
                                 f"invisible: a contradiction!",
                        copy=e1["copy"], held_until=end, received=[e1["received"][1], e2["received"][1]],
                        ops=[op1.call_index, op2.call_index])
    if not judged:
        return CheckResult.unexercised(checker, "No queue message was received twice.")
    return CheckResult.holds(checker, f"{judged} queue messages received more than once, never while held.",
                             messages=judged)


def check_one_batch_per_group(history: History) -> CheckResult:
    """At most one consumer holds messages of a message group at any time (SQS FIFO's group lock): a receive of a
    group's messages begins only after every message of the group's previous in-flight batch was deleted, released
    or its lease ran out."""
    checker = "group-lock"
    batches: dict[tuple, list[tuple[Operation, dict]]] = defaultdict(list)
    for op, e in _entries(history):
        batches[(identity(e["group"]), op.call_index, e["batch"])].append((op, e))
    by_group: dict[Any, list[tuple[float, float, Operation, list[dict]]]] = defaultdict(list)
    for (g, _, _), items in batches.items():
        op = items[0][0]
        es = [e for _, e in items]
        by_group[g].append((es[0]["received"][1], max(_held_until(e) for e in es), op, es))
    judged = 0
    for g in sorted(by_group):
        bs = sorted(by_group[g], key=lambda b: (b[0], b[2].call_index))
        judged += len(bs) >= 2
        for i, (start1, end1, op1, es1) in enumerate(bs):
            for start2, _, op2, es2 in bs[i + 1:]:
                if op1.call_index != op2.call_index and start1 <= start2 < end1:
                    return CheckResult.violation(
                        checker, f"Let C1 = {op1.describe().split(' -> ')[0]} and C2 = "
                                 f"{op2.describe().split(' -> ')[0]}. C1 received messages "
                                 f"{[e['id'] for e in es1]} of group {es1[0]['group']!r} at t={start1:g} and held "
                                 f"some of them until t={end1:g}. Then C2 received messages "
                                 f"{[e['id'] for e in es2]} of the same group at t={start2:g}: two consumers held one "
                                 f"group's messages at once: a contradiction!",
                        group=es1[0]["group"], held=[e["id"] for e in es1], received=[e["id"] for e in es2],
                        at=[start1, start2], ops=[op1.call_index, op2.call_index])
    if not judged:
        return CheckResult.unexercised(checker, "No group was received in two batches.")
    return CheckResult.holds(checker, f"{judged} groups received in several batches, one at a time.", groups=judged)


def check_poison_redriven(history: History) -> CheckResult:
    """Every acknowledged poison message (one no consumer can process) is in the dead-letter queue after recovery,
    moved there only after the queue's maxReceiveCount receives, so it does not block its queue or group forever."""
    checker = "poison-redriven"
    dlq = _dlq(history)
    if dlq is None:
        return CheckResult.unexercised(checker, "The dead-letter queue was never read after recovery.")
    limit = dlq.output["max_receive_count"]
    dead: dict[Any, list[dict]] = defaultdict(list)
    for m in dlq.output["messages"]:
        dead[identity(m["id"])].append(m)
    for k in sorted(dead):
        early = [m for m in dead[k] if limit is not None and m["receives"] < limit]
        if early:
            m = early[0]
            return CheckResult.violation(
                checker, f"Let D = {dlq.describe().split(' -> ')[0]}. Its queue message {m['copy']!r} (message "
                         f"{m['id']!r}) was moved to the dead-letter queue after {m['receives']} receives, fewer "
                         f"than maxReceiveCount {limit}: a contradiction!",
                early=m["id"], receives=m["receives"], limit=limit, ops=[dlq.call_index])
    poison = [(k, _first_ack(ss)) for k, ss in sorted(_sends(history).items())
              if ss[0].input.get("poison") and _first_ack(ss) is not None]
    processed = {identity(e["id"]) for _, e in _entries(history) if e["outcome"] == "processed"}
    for k, s in poison:
        if k not in dead:
            group = s.input["group"]
            later = [x for x, ss in sorted(_sends(history).items()) if x not in processed and x != k
                     and ss[0].input["group"] == group and _first_ack(ss) is not None]
            blocked = f"; {len(later)} acknowledged messages of its group {group!r} were never processed" \
                if later else ""
            policy = "the queue has no redrive policy" if limit is None else f"maxReceiveCount is {limit}"
            return CheckResult.violation(
                checker, f"Let S = {s.describe()}, an acknowledged poison message. After recovery and the final "
                         f"drain the dead-letter queue ({dlq.describe().split(' -> ')[0]}, {policy}) does not "
                         f"hold it{blocked}: it was never redriven: a contradiction!",
                poison=s.input["id"], blocked=len(later), ops=[s.call_index, dlq.call_index])
    if not poison:
        return CheckResult.unexercised(checker, "No poison message was acknowledged.")
    return CheckResult.holds(checker, f"{len(poison)} poison messages redriven after {limit} receives.",
                             poison=len(poison))


CHECKERS: dict[str, Callable[[History], CheckResult]] = {
    "queue-at-least-once": check_processed_or_dead_lettered,
    "queue-exactly-once": check_exactly_once_processing,
    "queue-group-order": check_group_order,
    "queue-visibility": check_invisible_while_held,
    "queue-group-lock": check_one_batch_per_group,
    "queue-poison-redriven": check_poison_redriven,
}
