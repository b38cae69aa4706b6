"""Controls for the invariants of the messaging (sqs, lambda, kafka, kinesis) protocols: see test_checker_controls.py.

Split from controls_protocols.py (which holds the discovery of every SPEC and the first protocols' controls) so
that each file holds one family.
"""

from __future__ import annotations

from controls import CONTROLS, Control, _at, control, events, final, kfinal, kw, op, r, w  # noqa: F401
from controls_protocols import SPECS, invariant  # noqa: F401


# == sqs: consumers' logs (invariants/queues.py) ====================================================================
# send {"id", "group", "poison"} -> ok; consume -> ok {"visibility", "held": [entry, ...]}; final read-dlq -> ok
# {"max_receive_count", "messages"}. An entry: what one consumer did with one message it received (see the module).
def sqs_send(p, mid, call, ret, group="g1", poison=False, status="ok"):
    value = {"id": mid, "group": group, "poison": poison}
    return (p, "send", value, call, ret, status, value)


def sqs_entry(mid, received, lease, outcome="processed", processed_at=None, deleted=None, group="g1", copy=None,
              batch=0, released_at=None):
    return {"id": mid, "group": group, "copy": copy or str(mid), "poison": False, "batch": batch,
            "received": [received, received], "lease": lease, "outcome": outcome,
            "processed_at": processed_at, "released_at": released_at, "deleted": deleted}


def sqs_consume(p, entries, call, ret, phase="main", f="consume"):
    return (p, f, {"host": "h1"}, call, ret, "ok", {"visibility": 3.0, "held": entries, "crashed": False}, phase,
            "h1")


def sqs_dlq(messages, limit=3, call=50):
    return ("d", "read-dlq", None, call, call + 0.1, "ok", {"max_receive_count": limit, "messages": messages},
            "final", "h1")


def sqs_dead(mid, receives=3, group="g1"):
    return {"id": mid, "group": group, "copy": str(mid), "receives": receives}


control(**invariant("sqs", "at-least-once"),
        shows="message 2 was acknowledged, never processed, and is not in the dead-letter queue (the twin: it is)",
        rows=[sqs_send(0, 1, 0, 1), sqs_send(0, 2, 2, 3),
              sqs_consume(1, [sqs_entry(1, 4, 7, processed_at=4.2, deleted=[4.2, 4.3])], 4, 5), sqs_dlq([])],
        fix={3: sqs_dlq([sqs_dead(2)])},
        witness={"lost": [2], "send": 2, "ops": [2, 6]},
        because="Then no consumer processed it and the dead-letter queue read after recovery")
control(**invariant("sqs", "at-least-once"),
        shows="a consumer crashed holding message 1, which never came back (the twin: a later consumer processed it)",
        rows=[sqs_send(0, 1, 0, 1), sqs_consume(1, [sqs_entry(1, 2, 5, outcome="dropped")], 2, 3),
              sqs_consume(2, [], 6, 7), sqs_dlq([])],
        fix={2: sqs_consume(2, [sqs_entry(1, 6, 9, processed_at=6.2, deleted=[6.2, 6.3])], 6, 7)},
        witness={"lost": [1], "ops": [0, 6]},
        because="the message was lost")
control(**invariant("sqs", "exactly-once"),
        shows="message 1 is processed again after the queue acknowledged its delete (the twin: that delete, invoked "
              "within the lease, was never acknowledged)",
        rows=[sqs_send(0, 1, 0, 1),
              sqs_consume(1, [sqs_entry(1, 2, 5, processed_at=2.2, deleted=[2.2, 2.3])], 2, 3),
              sqs_consume(2, [sqs_entry(1, 6, 9, processed_at=6.2, deleted=[6.2, 6.3])], 6, 7)],
        fix={1: sqs_consume(1, [sqs_entry(1, 2, 5, processed_at=2.2, deleted=[2.2, None])], 2, 3)},
        witness={"duplicate": 1, "processed": [2, 4], "ops": [2, 4]},
        because="had its delete acknowledged at t=2.3. Then P2 processed it again")
control(**invariant("sqs", "exactly-once"),
        shows="a consumer processed message 1 after its lease ran out, and the queue gave it to another (the twin: "
              "it processed in time and its delete was lost)",
        rows=[sqs_send(0, 1, 0, 1),
              sqs_consume(1, [sqs_entry(1, 2, 5, processed_at=7, deleted=[7, None])], 2, 8),
              sqs_consume(2, [sqs_entry(1, 6, 9, processed_at=7.5, deleted=[7.5, 7.6])], 6, 8)],
        fix={1: sqs_consume(1, [sqs_entry(1, 2, 5, processed_at=4, deleted=[4, None])], 2, 8)},
        witness={"duplicate": 1, "processed": [2, 3]},
        because="after its lease ended at t=5")
control(**invariant("sqs", "exactly-once"),
        shows="a consumer processed message 2, whose only send failed (the twin: its outcome was unknown)",
        rows=[sqs_send(0, 2, 0, 1, status="fail"),
              sqs_consume(1, [sqs_entry(2, 2, 5, processed_at=2.2, deleted=[2.2, 2.3])], 2, 3)],
        fix={0: sqs_send(0, 2, 0, None, status="info")},
        witness={"phantom": 2, "ops": [0, 2]},
        because="But its only sends failed")
control(**invariant("sqs", "fifo-order"),
        shows="message 1 of g1 was acknowledged before message 2 was sent, but 2 was processed first",
        rows=[sqs_send(0, 1, 0, 1), sqs_send(0, 2, 2, 3),
              sqs_consume(1, [sqs_entry(1, 4, 7, processed_at=5, deleted=[5, 5.1])], 4, 6),
              sqs_consume(2, [sqs_entry(2, 4, 7, processed_at=4.5, deleted=[4.5, 4.6])], 4, 6)],
        fix={3: sqs_consume(2, [sqs_entry(2, 4, 7, processed_at=5.5, deleted=[5.5, 5.6])], 4, 6)},
        witness={"group": "g1", "first_sent": 1, "processed_first": 2, "ops": [0, 2, 4, 5]},
        because="Then P2 processed S2's message 2 at t=4.5, before P1 first processed S1's message 1 at t=5")
control(**invariant("sqs", "group-lock"),
        shows="a second consumer received g1's message 2 while the first still held message 1 (the twin: after the "
              "first invoked its delete)",
        rows=[sqs_send(0, 1, 0, 0.4), sqs_send(0, 2, 0.5, 0.9),
              sqs_consume(1, [sqs_entry(1, 1, 4, processed_at=2.8, deleted=[3, 3.1])], 1, 3.2),
              sqs_consume(2, [sqs_entry(2, 2, 5, processed_at=2.5, deleted=[2.5, 2.6])], 2, 2.7)],
        fix={3: sqs_consume(2, [sqs_entry(2, 3.5, 6.5, processed_at=3.6, deleted=[3.6, 3.7])], 3.5, 3.8)},
        witness={"group": "g1", "held": [1], "received": [2], "at": [1, 2], "ops": [4, 5]},
        because="two consumers held one group's messages at once")
control(**invariant("sqs", "visibility"),
        shows="a consumer crashed holding message 1 and another received it before the lease ran out (the twin: "
              "after)",
        rows=[sqs_send(0, 1, 0, 0.5), sqs_consume(1, [sqs_entry(1, 1, 4, outcome="dropped")], 1, 1.1),
              sqs_consume(2, [sqs_entry(1, 3, 6, processed_at=3.2, deleted=[3.2, 3.3])], 3, 3.4)],
        fix={2: sqs_consume(2, [sqs_entry(1, 4, 7, processed_at=4.2, deleted=[4.2, 4.3])], 4, 4.4)},
        witness={"copy": "1", "held_until": 4, "received": [1, 3], "ops": [2, 4]},
        because="while it was to be invisible")
control(**invariant("sqs", "poison-redriven"),
        shows="poison message 1 is not in the dead-letter queue and g1's next message was never processed (the "
              "twin: it was redriven after 3 receives)",
        rows=[sqs_send(0, 1, 0, 1, poison=True), sqs_send(0, 2, 2, 3),
              sqs_consume(1, [sqs_entry(1, 4, 7, outcome="failed", released_at=4.2)], 4, 5), sqs_dlq([])],
        fix={3: sqs_dlq([sqs_dead(1)])},
        witness={"poison": 1, "blocked": 1, "ops": [0, 6]},
        because="1 acknowledged messages of its group 'g1' were never processed: it was never redriven")
control(**invariant("sqs", "poison-redriven"),
        shows="message 1 was dead-lettered after 1 receive, below maxReceiveCount 3 (the twin: after 3)",
        rows=[sqs_send(0, 1, 0, 1, poison=True), sqs_dlq([sqs_dead(1, receives=1)])],
        fix={1: sqs_dlq([sqs_dead(1, receives=3)])},
        witness={"early": 1, "receives": 1, "limit": 3, "ops": [2]},
        because="fewer than maxReceiveCount 3")



# == lambda =========================================================================================================
# Invokes carry [event, kind, duration, key]; the final reads give the function's configuration (placement), the
# slots still taken (placement), the execution records (store) and the on-failure destination's entries.
LAMBDA_CONFIG = {"concurrency_limit": 2, "timeout": 3.0, "maximum_retry_attempts": 2, "maximum_event_age": 120.0}


def lx(exec_id, event, begin, commit=None, end=None, kind="work", sandbox="w1.1.1", key=None, ticket=None):
    """An execution record as the store keeps it."""
    return {"exec": exec_id, "event": event, "kind": kind, "sandbox": sandbox, "begin": begin, "commit": commit,
            "end": end, "outcome": None if end is None else ("ok" if commit is not None else "error"), "key": key,
            "ticket": ticket}


def lread(p, f, out, call, node):
    return op(p, f, None, call, call + 0.5, out, phase="final", node=node)


def lfinals(executions, failures=(), held=(), at=100):
    """The four final reads, in the order the protocol makes them (call indices from 2 x the rows before them)."""
    return [lread(90, "get-function-configuration", LAMBDA_CONFIG, at, "placement"),
            lread(91, "slots", {"held": list(held)}, at + 1, "placement"),
            lread(92, "executions", list(executions), at + 2, "store"),
            lread(93, "failures", list(failures), at + 3, "destination")]


def linvoke(p, event, kind, call, ret=None, status="ok"):
    return op(p, "invoke", [event, kind, 0.2, None], call, call if ret is None else ret, event, status, node="fe1")


def lfail(event, at, reason="retries-exhausted"):
    return {"event": event, "reason": reason, "at": at, "tries": 3, "errors": 3}


control(**invariant("lambda", "concurrency-limit"),
        shows="three executions run at t=1 against a limit of 2 (the twin: the third begins as the first ends)",
        rows=[*lfinals([lx("1.1", 1, 0.0, 2.0, 2.0), lx("2.1", 2, 0.5, 1.5, 1.5), lx("3.1", 3, 1.0, None, 1.2)])],
        fix={2: lread(92, "executions", [lx("1.1", 1, 0.0, 2.0, 2.0), lx("2.1", 2, 0.5, 1.5, 1.5),
                                         lx("3.1", 3, 2.0, None, 2.2)], 102, "store")},
        witness={"limit": 2, "running": 3, "at": 1.0, "executions": ["1.1", "2.1", "3.1"], "ops": [4]},
        because="Then all 3 were running at t=1")
control(**invariant("lambda", "slots-released"),
        shows="after settling the placement still holds a slot (the twin: none)",
        rows=[*lfinals([lx("1.1", 1, 0.0, 1.0, 1.0)], held=["fe1.1.1"])],
        fix={1: lread(91, "slots", {"held": []}, 101, "placement")},
        witness={"held": ["fe1.1.1"], "ops": [2]},
        because="the placement still counts 1 slot(s) as taken (fe1.1.1)")
control(**invariant("lambda", "events-accounted"),
        shows="an accepted poison event began once, never committed and is not in the destination (the twin: it is)",
        rows=[linvoke(0, 1, "poison", 0), *lfinals([lx("1.1", 1, 0.5, None, 0.7, kind="poison")])],
        fix={4: lread(93, "failures", [lfail(1, 5.0)], 103, "destination")},
        witness={"event": 1, "executions": ["1.1"], "ops": [0, 6, 8]},
        because="the event was dropped silently")
control(**invariant("lambda", "no-processing-after-failure"),
        shows="an execution commits at t=6 after its event went to the destination at t=5 (the twin: at t=4)",
        rows=[linvoke(0, 1, "work", 0),
              *lfinals([lx("1.3", 1, 3.5, 6.0, 6.0)], failures=[lfail(1, 5.0)])],
        fix={3: lread(92, "executions", [lx("1.3", 1, 3.5, 4.0, 4.0)], 102, "store")},
        witness={"event": 1, "exec": "1.3", "sent_at": 5.0, "commit": 6.0, "ops": [6, 8]},
        because="Then X committed its side effect after the event was sent to the failure destination")
control(**invariant("lambda", "no-processing-after-failure"),
        shows="an execution begins at t=7 after its event went to the destination at t=5 (the twin: it began at t=4)",
        rows=[linvoke(0, 1, "poison", 0),
              *lfinals([lx("1.4", 1, 7.0, None, 7.2, kind="poison")], failures=[lfail(1, 5.0)])],
        fix={3: lread(92, "executions", [lx("1.4", 1, 4.0, None, 4.2, kind="poison")], 102, "store")},
        witness={"event": 1, "exec": "1.4", "begin": 7.0, "ops": [6, 8]},
        because="Then X began after the event was sent to the failure destination")
control(**invariant("lambda", "failure-after-retries"),
        shows="an event is given up 2 s after its invoke with one execution begun (the twin: three began)",
        rows=[linvoke(0, 1, "work", 0),
              *lfinals([lx("1.1", 1, 0.5, None, 0.7)], failures=[lfail(1, 2.0)])],
        fix={3: lread(92, "executions", [lx("1.1", 1, 0.5, None, 0.7), lx("1.2", 1, 1.0, None, 1.2),
                                         lx("1.3", 1, 1.5, None, 1.7)], 102, "store")},
        witness={"event": 1, "began": 1, "age": 2.0, "ops": [0, 8]},
        because="when only 1 execution(s) of it had begun, fewer than the 3 attempts a failure needs")
control(**invariant("lambda", "failure-after-retries"),
        shows="the maximum event age excuses too few executions: given up at 150 s with none begun is fine, at "
              "100 s it is not",
        rows=[linvoke(0, 1, "work", 0), *lfinals([lx("2.1", 2, 0.5, 1.0, 1.0)], failures=[lfail(1, 100.0)], at=200)],
        fix={4: lread(93, "failures", [lfail(1, 150.0, "maximum-event-age")], 203, "destination")},
        witness={"event": 1, "began": 0, "ops": [0, 8]},
        because="younger than the maximum event age of 120 s")
control(**invariant("lambda", "timeout-enforced"),
        shows="an execution commits 4 s after it began, past the 3 s timeout (the twin: after 2.9 s)",
        rows=[*lfinals([lx("1.1", 1, 1.0, 5.0, 5.0)])],
        fix={2: lread(92, "executions", [lx("1.1", 1, 1.0, 3.9, 3.9)], 102, "store")},
        witness={"exec": "1.1", "ran": 4.0, "timeout": 3.0, "ops": [4]},
        because="past the function's timeout of 3 s")
control(**invariant("lambda", "timeout-enforced"),
        shows="an execution that never committed reports its end 5 s after it began (the twin: it was stopped at 3 s)",
        rows=[*lfinals([lx("1.1", 1, 1.0, None, 6.0, kind="slow"), lx("2.1", 2, 1.0, 1.2, 1.2)])],
        fix={2: lread(92, "executions", [lx("1.1", 1, 1.0, None, 4.0, kind="slow"), lx("2.1", 2, 1.0, 1.2, 1.2)],
                      102, "store")},
        witness={"exec": "1.1", "ran": 5.0},
        because="was still running 5 s after it began")
control(**invariant("lambda", "stateless-tallies"),
        shows="two tally events of k1 on two sandboxes both count 1 (the twin: the second counts 2)",
        rows=[*lfinals([lx("1.1", 1, 0.0, 0.2, 0.2, "tally", "w1.1.1", "k1", 1),
                        lx("2.1", 2, 1.0, 1.2, 1.2, "tally", "w2.1.1", "k1", 1)])],
        fix={2: lread(92, "executions", [lx("1.1", 1, 0.0, 0.2, 0.2, "tally", "w1.1.1", "k1", 1),
                                         lx("2.1", 2, 1.0, 1.2, 1.2, "tally", "w2.1.1", "k1", 2)], 102, "store")},
        witness={"key": "k1", "ticket": 1, "events": [1, 2], "sandboxes": ["w1.1.1", "w2.1.1"], "ops": [4]},
        because="Then both counted 1")
control(**invariant("lambda", "stateless-tallies"),
        shows="one event retried on two sandboxes may count twice, but another event may not share its count",
        rows=[*lfinals([lx("1.1", 1, 0.0, 0.2, 0.2, "tally", "w1.1.1", "k1", 1),
                        lx("1.2", 1, 1.0, 1.2, 1.2, "tally", "w1.1.1", "k1", 2),
                        lx("2.1", 2, 2.0, 2.2, 2.2, "tally", "w2.1.1", "k1", 2)])],
        fix={2: lread(92, "executions", [lx("1.1", 1, 0.0, 0.2, 0.2, "tally", "w1.1.1", "k1", 1),
                                         lx("1.2", 1, 1.0, 1.2, 1.2, "tally", "w1.1.1", "k1", 2),
                                         lx("2.1", 2, 2.0, 2.2, 2.2, "tally", "w2.1.1", "k1", 3)], 102, "store")},
        witness={"key": "k1", "ticket": 2, "events": [1, 2]},
        because="Then both counted 2")

# == kafka and kinesis: partitioned logs (invariants/logs.py) =======================================================
# produce {"partition", "id"} -> ok {"partition", "offset", "id"}; replay {"partition", "from"} -> records; final
# read-log {"partition"} -> the committed log; final audit -> {"outputs": [...]} (group, member, generation,
# partition, offset, id). Kinesis uses the same conventions (a shard is a partition, a session a generation).
from invariants.logs import (  # noqa: E402
    check_exactly_once_output,
    check_groups_see_all,
    check_no_duplicate_records,
    check_no_lost_acked,
    check_offsets_consistent,
    check_partition_order,
)


def prod(p, part, rid, call, ret, status="ok", offset=0):
    return (p, "produce", {"partition": part, "id": rid}, call, ret, status,
            {"partition": part, "offset": offset, "id": rid})


def recs(part, ids):
    return [{"partition": part, "offset": o, "id": rid} for o, rid in ids]


def readlog(p, part, ids, call=10):
    return (p, "read-log", {"partition": part}, call, call + 0.5, "ok", recs(part, enumerate(ids)), "final", "b1")


def readlog_from(p, part, start, pairs, call=10):
    """A final read after retention deleted the records below ``start``."""
    return (p, "read-log", {"partition": part}, call, call + 0.5, "ok", {"start": start, "records": recs(part, pairs)},
            "final", "b1")


RETAINED = [prod(0, 0, 1, 0, 1), prod(1, 0, 2, 2, 3, offset=1), prod(1, 0, 3, 4, 5, offset=2)]


def replay(p, part, pairs, call, ret):
    return (p, "replay", {"partition": part, "from": 0}, call, ret, "ok", recs(part, pairs))


def out(group, member, gen, part, off, rid):
    return {"group": group, "member": member, "generation": gen, "partition": part, "offset": off, "id": rid}


def audit(outputs, call=12):
    return ("audit", "audit", None, call, call + 0.5, "ok", {"outputs": outputs}, "final", "ctl")


LOG = [prod(0, 0, 1, 0, 1), prod(1, 0, 2, 2, 3, offset=1)]
BOTH = [out("app", "w1", 1, 0, 0, 1), out("app", "w1", 1, 0, 1, 2), out("mirror", "w3", 1, 0, 0, 1),
        out("mirror", "w3", 1, 0, 1, 2)]


def _log_controls(target: str, check, *, kinesis: bool = False) -> None:
    """The controls every log checker (and each protocol invariant handing one to the engine) must pass."""
    groups = [o for o in BOTH if o["group"] == "app"] if kinesis else BOTH
    name = target.rsplit("/", 1)[-1].rsplit(".check_", 1)[-1].replace("_", "-")
    if name == "no-lost-acked":
        control(target=target, check=check, shows="record 2 was acknowledged; the final log of partition 0 holds 1",
                rows=LOG + [readlog(9, 0, [1])], fix={2: readlog(9, 0, [1, 2])},
                witness={"lost": 2, "partition": 0, "produce": 2, "final_read": 4},
                because="an acknowledged record is lost")
        control(target=target, check=check, shows="record 1 is missing from a log that starts at offset 0 (the twin: "
                "retention moved the start past it, so it expired)",
                rows=RETAINED + [readlog_from(9, 0, 0, [(1, 2), (2, 3)])],
                fix={3: readlog_from(9, 0, 1, [(1, 2), (2, 3)])},
                witness={"lost": 1, "partition": 0}, because="an acknowledged record is lost")
    elif name == "no-duplicate-records":
        control(target=target, check=check, shows="the final log holds record 1 at offsets 0 and 1",
                rows=[LOG[0], readlog(9, 0, [1, 1])], fix={1: readlog(9, 0, [1])},
                witness={"duplicate": 1, "offsets": [0, 1], "partition": 0},
                because="a retried produce was appended again")
    elif name in ("partition-order", "shard-order"):
        control(target=target, check=check, shows="record 1 was acknowledged before 2 was produced; the log holds 2 "
                "first", rows=LOG + [readlog(9, 0, [2, 1])], fix={2: readlog(9, 0, [1, 2])},
                witness={"partition": 0, "first": 0, "second": 2, "offsets": [1, 0]},
                because="the partition is out of order")
    elif name == "offsets-consistent":
        control(target=target, check=check, shows="a replay saw record 3 at offset 1, where the final log holds 2",
                rows=LOG + [replay(2, 0, [(0, 1), (1, 3)], 4, 5), readlog(9, 0, [1, 2])],
                fix={2: replay(2, 0, [(0, 1), (1, 2)], 4, 5)},
                witness={"partition": 0, "offset": 1, "seen": 3, "logged": 2},
                because="a consumer saw a record the log does not keep there")
        control(target=target, check=check, shows="member w1 consumed offset 1, then offset 0, in one generation",
                rows=LOG + [readlog(9, 0, [1, 2]), audit([out("app", "w1", 1, 0, 1, 2), out("app", "w1", 1, 0, 0, 1)])],
                fix={3: audit([out("app", "w1", 1, 0, 1, 2), out("app", "w1", 2, 0, 0, 1)])},
                witness={"member": "w1", "generation": 1, "offsets": [1, 0]}, because="a consumer went back")
    elif name == "exactly-once-output":
        control(target=target, check=check, shows="group app committed record 1's output twice (w1, then w2)",
                rows=LOG + [readlog(9, 0, [1, 2]), audit(groups + [out("app", "w2", 2, 0, 0, 1)])],
                fix={3: audit(groups)}, witness={"group": "app", "id": 1, "times": 2},
                because="exactly-once allows one")
        control(target=target, check=check, shows="group app never committed an output of record 2",
                rows=LOG + [readlog(9, 0, [1, 2]), audit([o for o in groups if o["id"] == 1])],
                fix={3: audit(groups)}, witness={"group": "app", "id": 2, "times": 0},
                because="the record was consumed zero times")
    elif name in ("groups-see-all", "at-least-once"):
        missing = "app" if kinesis else "mirror"
        control(target=target, check=check, shows=f"group {missing} never consumed record 2",
                rows=LOG + [readlog(9, 0, [1, 2]), audit([o for o in groups if (o["group"], o["id"]) != (missing, 2)])],
                fix={3: audit(groups)}, witness={"group": missing, "id": 2, "offset": 1},
                because="a retained record did not reach every consumer group")
        apps = [out(g, m, 1, 0, o, rid) for g, m in ([("app", "w1")] if kinesis else [("app", "w1"), ("mirror", "w3")])
                for o, rid in ((0, 1), (1, 2), (2, 3))]
        control(target=target, check=check, shows=f"retention deleted record 1 before group {missing} consumed it",
                rows=RETAINED + [readlog_from(9, 0, 1, [(1, 2), (2, 3)]),
                                 audit([o for o in apps if (o["group"], o["id"]) != (missing, 1)])],
                fix={4: audit(apps)}, witness={"group": missing, "id": 1, "offset": 0},
                because="an acknowledged record deleted by retention since")


for _name, _check in [("no_lost_acked", check_no_lost_acked), ("no_duplicate_records", check_no_duplicate_records),
                      ("partition_order", check_partition_order), ("offsets_consistent", check_offsets_consistent),
                      ("exactly_once_output", check_exactly_once_output), ("groups_see_all", check_groups_see_all)]:
    _log_controls(f"invariants.logs.check_{_name}", _check)
for _inv in SPECS["kafka"].invariants:
    _log_controls(**invariant("kafka", _inv.name))
for _inv in SPECS["kinesis"].invariants:
    _log_controls(**invariant("kinesis", _inv.name), kinesis=True)
