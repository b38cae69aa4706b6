"""Partitioned logs (Kafka, Kinesis): acknowledged records kept, no duplicates, one record per offset, per-partition
order, exactly-once consume-transform-produce, and every consumer group seeing every record.

A log is judged by what consumers and the final reads saw, never by the brokers' state. History conventions:

* a producer's ``f="produce"`` has value ``{"partition": p, "id": i}`` (ids unique per run); its ``ok`` value is
  ``{"partition": p, "offset": o, "id": i}`` (where the leader says it put the record);
* ``f="replay"`` (a consumer reading from an offset) has value ``{"partition": p, "from": o}`` and returns a list of
  records ``{"partition": p, "offset": o, "id": i}`` in log order;
* the final ``f="read-log"`` (after healing and settling) returns one partition's committed log, the same records
  from its first offset on, or ``{"start": s, "records": [...]}`` when retention deleted the records below offset s;
  its invoke value is ``{"partition": p}``;
* the final ``f="audit"`` returns ``{"outputs": [...]}``: the effects consumer groups committed, in commit order,
  each ``{"group": g, "member": m, "generation": n, "partition": p, "offset": o, "id": i}`` (a record consumed by
  member m of group g in generation n; for a transactional consume-transform-produce, only committed transactions'
  outputs).

What may happen: a record whose produce was ``info`` may or may not be in the log; a record in the log may be
consumed by a group at any time; an acknowledged record below the final log start offset was deleted by retention,
not lost (it still had to reach every group before it expired). What must not: an acknowledged record missing from the final log, a record at two
offsets, two records (or a record no log holds) at one offset, acknowledged records of one partition in the log out
of acknowledgement order, a consumer going back within one generation, a group's effect of a record twice (exactly
once) or never (every group sees every record).

Each checker returns a witness with ``ops`` (call indices) for the timeline. ``CHECKERS`` maps the names used by
``faultlab check-history --checker`` to the checkers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from faultlab.errors import HistoryFormatError
from faultlab.history import History, Operation
from faultlab.result import CheckResult

__all__ = ["CHECKERS", "check_exactly_once_output", "check_groups_see_all", "check_no_duplicate_records",
           "check_no_lost_acked", "check_offsets_consistent", "check_partition_order"]


# -- reading a history -----------------------------------------------------------------------------------------------
def _record(op: Operation, rec: Any) -> tuple[Any, int, Any]:
    if not isinstance(rec, dict) or not {"partition", "offset", "id"} <= set(rec):
        raise HistoryFormatError(f"{op.describe()}: a log record must be {{'partition': p, 'offset': o, 'id': i}}, "
                                 f"got {rec!r}")
    return rec["partition"], rec["offset"], rec["id"]


def _final_logs(history: History, starts: dict | None = None) -> dict[Any, tuple[Operation, list[tuple[int, Any]]]]:
    """The last ok final read of each partition: partition -> (operation, [(offset, id)]); each partition's log start
    offset goes into ``starts`` when given."""
    logs: dict[Any, tuple[Operation, list[tuple[int, Any]]]] = {}
    for op in history.operations():
        if op.f == "read-log" and op.phase == "final" and op.is_ok:
            part = op.input["partition"] if isinstance(op.input, dict) else op.input
            out = op.output
            start, rows = (out.get("start", 0), out.get("records", [])) if isinstance(out, dict) else (0, out or [])
            logs[part] = (op, [_record(op, r)[1:] for r in rows])
            if starts is not None:
                starts[part] = start
    return logs


def _expired(history: History, logs: dict, starts: dict) -> list[tuple[Any, int, Any, Operation]]:
    """Acknowledged records retention deleted: (partition, offset, id, produce), offset below the log start."""
    out = []
    for op in _acked(history):
        part = op.input["partition"]
        off = op.output.get("offset") if isinstance(op.output, dict) else None
        if part in logs and off is not None and off < starts.get(part, 0) and \
                op.input["id"] not in _in_log(logs, part):
            out.append((part, off, op.input["id"], op))
    return out


def _audit(history: History) -> tuple[Operation | None, list[dict]]:
    ops = [op for op in history.operations() if op.f == "audit" and op.phase == "final" and op.is_ok]
    if not ops:
        return None, []
    outputs = ops[-1].output.get("outputs", []) if isinstance(ops[-1].output, dict) else None
    if not isinstance(outputs, list):
        raise HistoryFormatError(f"{ops[-1].describe()}: an audit returns {{'outputs': [...]}}")
    for o in outputs:
        if not isinstance(o, dict) or not {"group", "member", "generation", "partition", "offset", "id"} <= set(o):
            raise HistoryFormatError(f"{ops[-1].describe()}: an output must name group, member, generation, "
                                     f"partition, offset and id, got {o!r}")
    return ops[-1], outputs


def _acked(history: History) -> list[Operation]:
    return [op for op in history.operations() if op.f == "produce" and op.phase == "main" and op.is_ok]


def _in_log(logs: dict, part: Any) -> dict[Any, list[int]]:
    """id -> the offsets it holds in partition ``part``'s final log."""
    where: dict[Any, list[int]] = defaultdict(list)
    for off, rid in logs[part][1]:
        where[rid].append(off)
    return where


# -- the checkers ----------------------------------------------------------------------------------------------------
def check_no_lost_acked(history: History) -> CheckResult:
    """Every acknowledged produce is in its partition's committed log read after healing and settling."""
    checker = "no-lost-acked"
    starts: dict = {}
    logs, acked = _final_logs(history, starts), _acked(history)
    expired = {(part, rid) for part, _off, rid, _op in _expired(history, logs, starts)}
    judged = 0
    for op in acked:
        part = op.input["partition"]
        if part not in logs or (part, op.input["id"]) in expired:
            continue  # deleted by retention after it was committed: not lost
        judged += 1
        read, log = logs[part]
        if op.input["id"] not in _in_log(logs, part):
            return CheckResult.violation(
                checker, f"Let P = {op.describe()}, an acknowledged produce of record {op.input['id']!r} to "
                         f"partition {part!r}, and R = {read.describe().split(' -> ')[0]}, the partition's committed "
                         f"log read after healing and recovery ({len(log)} records). Then R does not hold record "
                         f"{op.input['id']!r} at any offset: an acknowledged record is lost: a contradiction!",
                lost=op.input["id"], partition=part, produce=op.call_index, final_read=read.call_index,
                ops=[op.call_index, read.call_index])
    if not judged:
        return CheckResult.unexercised(checker, "No acknowledged produce to a partition whose log was read after "
                                       "recovery: durability was never observed.", acknowledged=len(acked))
    return CheckResult.holds(checker, f"{judged} acknowledged records are each in the final log.", acknowledged=judged)


def check_no_duplicate_records(history: History) -> CheckResult:
    """No record (by id) is in the final logs twice: retries of one produce were appended once."""
    checker = "no-duplicate-records"
    logs = _final_logs(history)
    total = 0
    for part in sorted(logs, key=repr):
        read, log = logs[part]
        total += len(log)
        for rid, offsets in _in_log(logs, part).items():
            if len(offsets) > 1:
                sends = [op for op in history.operations() if op.f == "produce" and op.input.get("id") == rid]
                return CheckResult.violation(
                    checker, f"Let R = {read.describe().split(' -> ')[0]}, partition {part!r}'s committed log after "
                             f"recovery. Then R holds record {rid!r} at offsets {offsets}, though it was produced by "
                             f"{len(sends)} operation{'s' if len(sends) != 1 else ''}: a retried produce was appended "
                             f"again: a contradiction!",
                    duplicate=rid, partition=part, offsets=offsets, final_read=read.call_index,
                    ops=[op.call_index for op in sends] + [read.call_index])
    if not total:
        return CheckResult.unexercised(checker, "No final log held a record.", records=0)
    return CheckResult.holds(checker, f"{total} records in the final logs, each once.", records=total)


def check_partition_order(history: History) -> CheckResult:
    """Within a partition, a record acknowledged before another was produced sits at a lower offset."""
    checker = "partition-order"
    logs = _final_logs(history)
    by_part: dict[Any, list[tuple[Operation, int]]] = defaultdict(list)
    for op in _acked(history):
        part = op.input["partition"]
        if part in logs and (offs := _in_log(logs, part).get(op.input["id"])):
            by_part[part].append((op, offs[0]))
    judged = 0
    for part in sorted(by_part, key=repr):
        pairs = by_part[part]
        for a, oa in pairs:
            for b, ob in pairs:
                if a is not b and a.precedes(b):
                    judged += 1
                    if not oa < ob:
                        return CheckResult.violation(
                            checker, f"Let P1 = {a.describe()} and P2 = {b.describe()}, produces to partition "
                                     f"{part!r}; P1 was acknowledged before P2 began. Then the final log holds P2's "
                                     f"record at offset {ob} and P1's at offset {oa}: the partition is out of order: "
                                     f"a contradiction!",
                            partition=part, first=a.call_index, second=b.call_index, offsets=[oa, ob],
                            ops=[a.call_index, b.call_index, logs[part][0].call_index])
    if not judged:
        return CheckResult.unexercised(checker, "No two acknowledged produces to one partition were ordered in real "
                                       "time, so partition order was never exercised.", pairs=0)
    return CheckResult.holds(checker, f"{judged} ordered pairs of acknowledged produces are in order in their "
                                      f"partitions.", pairs=judged)


def check_offsets_consistent(history: History) -> CheckResult:
    """Every consumer sees at an offset the record the final log holds there, and never goes back: a replay's
    offsets increase, and within one group member's generation its outputs of a partition increase."""
    checker = "offsets-consistent"
    starts: dict = {}
    logs = _final_logs(history, starts)
    final_at = {part: dict(log) for part, (_read, log) in logs.items()}
    seen: list[tuple[Operation, str, Any, int, Any]] = []  # (op, who, partition, offset, id)
    last: dict[tuple, tuple[int, Operation]] = {}
    for op in history.operations():
        if op.f == "replay" and op.is_ok:
            prev = None
            for rec in op.output or []:
                part, off, rid = _record(op, rec)
                if prev is not None and not off > prev:
                    return CheckResult.violation(
                        checker, f"Let C = {op.describe()}, one read of partition {part!r}. Then C returned offset "
                                 f"{off} after offset {prev}: a consumer went back in the log: a contradiction!",
                        partition=part, offsets=[prev, off], ops=[op.call_index])
                prev = off
                seen.append((op, "the consumer", part, off, rid))
    audit, outputs = _audit(history)
    for o in outputs:
        who = f"member {o['member']!r} of group {o['group']!r} (generation {o['generation']})"
        slot = (o["group"], o["member"], o["generation"], o["partition"])
        if slot in last and not o["offset"] > last[slot][0]:
            return CheckResult.violation(
                checker, f"Let A = {audit.describe().split(' -> ')[0]}, the committed outputs after recovery. Then "
                         f"{who} consumed partition {o['partition']!r} at offset {o['offset']} after offset "
                         f"{last[slot][0]} within one generation: a consumer went back: a contradiction!",
                group=o["group"], member=o["member"], generation=o["generation"], partition=o["partition"],
                offsets=[last[slot][0], o["offset"]], ops=[audit.call_index])
        last[slot] = (o["offset"], audit)
        seen.append((audit, who, o["partition"], o["offset"], o["id"]))
    judged = 0
    for op, who, part, off, rid in seen:
        if part not in final_at or off < starts.get(part, 0):
            continue  # no final read of the partition, or deleted by retention: nothing to compare with
        judged += 1
        have = final_at[part].get(off)
        if have != rid:
            there = f"record {have!r}" if have is not None else "no record"
            read = logs[part][0]
            return CheckResult.violation(
                checker, f"Let C = {op.describe().split(' -> ')[0]}, in which {who} saw record {rid!r} at offset "
                         f"{off} of partition {part!r}, and R = {read.describe().split(' -> ')[0]}, the committed log "
                         f"after recovery. Then R holds {there} at offset {off}: a consumer saw a record the log "
                         f"does not keep there (read before it was committed, then truncated): a contradiction!",
                partition=part, offset=off, seen=rid, logged=have, ops=sorted({op.call_index, read.call_index}))
    if not judged:
        return CheckResult.unexercised(checker, "No consumer saw a record of a partition whose log was read after "
                                       "recovery.", observations=0)
    return CheckResult.holds(checker, f"{judged} records seen by consumers match the final logs at their offsets.",
                             observations=judged)


def _per_group(history: History, expected: tuple | None) -> tuple[Operation | None, dict, dict, list, dict]:
    starts: dict = {}
    logs = _final_logs(history, starts)
    audit, outputs = _audit(history)
    groups: dict[Any, dict[Any, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for g in expected or ():
        groups[g]  # a group that committed nothing consumed nothing: it is judged too
    for o in outputs:
        groups[o["group"]][(o["partition"], o["id"])].append(o)
    # what every group had to consume: the final logs' records and the acknowledged ones retention deleted since
    records = [(part, off, rid, read, f"{read.describe().split(' -> ')[0]}, holding record {rid!r} at offset {off}")
               for part, (read, log) in sorted(logs.items(), key=repr) for off, rid in log]
    records += [(part, off, rid, prod, f"{prod.describe()}, an acknowledged record deleted by retention since (the "
                                       f"final log of partition {part!r} starts at offset {starts[part]})")
                for part, off, rid, prod in _expired(history, logs, starts)]
    return audit, logs, groups, records, starts


def check_exactly_once_output(history: History, *, groups: tuple | None = None) -> CheckResult:
    """Every consumer group's committed outputs hold each record of the final logs exactly once (judged over
    committed transactions: the audit holds only those), and no output of a record the logs do not hold.
    ``groups``: the groups that must have consumed (default: those with outputs)."""
    checker = "exactly-once-output"
    audit, logs, groups, records, starts = _per_group(history, groups)
    if audit is None or not logs:
        return CheckResult.unexercised(checker, "The outputs or the logs were never read after recovery.")
    judged = 0
    for g in sorted(groups, key=repr):
        for (part, rid), outs in sorted(groups[g].items(), key=repr):
            if len(outs) > 1:
                return CheckResult.violation(
                    checker, f"Let A = {audit.describe().split(' -> ')[0]}, the committed outputs after recovery. "
                             f"Then group {g!r} committed the output of record {rid!r} (partition {part!r}) "
                             f"{len(outs)} times, by " + ", ".join(f"{o['member']} in generation {o['generation']}"
                                                                   for o in outs) +
                             ": exactly-once allows one: a contradiction!",
                    group=g, id=rid, partition=part, times=len(outs), ops=[audit.call_index])
            if part in logs and rid not in _in_log(logs, part) and \
                    not any(o["offset"] < starts.get(part, 0) for o in outs):
                return CheckResult.violation(
                    checker, f"Let A = {audit.describe().split(' -> ')[0]}. Then group {g!r} committed an output of "
                             f"record {rid!r}, which partition {part!r}'s final log does not hold: an output of a "
                             f"record that was never committed: a contradiction!",
                    group=g, id=rid, partition=part, times=1, ops=[audit.call_index])
        for part, _off, rid, read, what in records:
            judged += 1
            if (part, rid) not in groups[g]:
                return CheckResult.violation(
                    checker, f"Let R = {what}. Then group {g!r}'s committed outputs after recovery and settling "
                             f"have no output of record {rid!r}: the record was consumed zero times: a contradiction!",
                    group=g, id=rid, partition=part, times=0, ops=[read.call_index, audit.call_index])
    if not judged:
        return CheckResult.unexercised(checker, "No group output was judged against a non-empty log.")
    return CheckResult.holds(checker, f"{len(groups)} groups each committed one output per record "
                                      f"({judged} records judged).", records=judged)


def check_groups_see_all(history: History, *, groups: tuple | None = None, min_groups: int = 2) -> CheckResult:
    """Every consumer group saw every record of the final logs at least once (a log keeps a record for all groups;
    a queue would give it to one). Exercised with ``min_groups`` groups (two: multiple consumers; one: a single
    application's at-least-once); ``groups`` as for exactly-once."""
    checker = "groups-see-all"
    audit, logs, groups, records, starts = _per_group(history, groups)
    if audit is None or not logs:
        return CheckResult.unexercised(checker, "The outputs or the logs were never read after recovery.")
    for g in sorted(groups, key=repr):
        for part, off, rid, read, what in records:
            if (part, rid) not in groups[g]:
                others = [h for h in groups if h != g and (part, rid) in groups[h]]
                also = f" (group {others[0]!r} did consume it)" if others else ""
                return CheckResult.violation(
                    checker, f"Let R = {what}. Then group {g!r} never consumed record {rid!r}{also}: a retained "
                             f"record did not reach every consumer group: a contradiction!",
                    group=g, id=rid, partition=part, offset=off, ops=[read.call_index, audit.call_index])
    if len(groups) < min_groups or not records:
        return CheckResult.unexercised(checker, f"{len(groups)} consumer group(s) and {len(records)} records: "
                                       f"multiple consumers were never exercised.", groups=len(groups))
    return CheckResult.holds(checker, f"{len(groups)} groups each consumed all {len(records)} records.",
                             groups=len(groups), records=len(records))


CHECKERS: dict[str, Callable[[History], CheckResult]] = {
    "no-lost-acked": check_no_lost_acked,
    "no-duplicate-records": check_no_duplicate_records,
    "partition-order": check_partition_order,
    "offsets-consistent": check_offsets_consistent,
    "exactly-once-output": check_exactly_once_output,
    "groups-see-all": check_groups_see_all,
}
