"""SQS: standard and FIFO queues on three storage hosts, with visibility timeouts, a dead-letter queue, long
polling, producers that retry and consumers that crash, stall and meet poison messages.

Seed section 5 (SQS - Simple Queue Service), its design-decision table: delivery "At-least-once (standard) /
Exactly-once (FIFO)", ordering "Standard: best-effort ordering. FIFO: strict per message group", the visibility
timeout ("Message invisible for N seconds after read; re-appears if not deleted", "Handles consumer crashes —
unprocessed messages reappear automatically"), the dead-letter queue ("Prevents poison messages from blocking the
queue forever") and long polling ("Reduces empty responses").

The model (``host.py``, ``client.py``): a *standard* queue stores each message on the three hosts ``h1``-``h3`` (one
per zone); the send's coordinator (the host of its group, as for FIFO below) stores and syncs it and replicates it,
acknowledging once ``ack_after`` hosts have it. A receive samples one host (short polling: it answers at once, maybe empty; long polling: it waits up to
``wait_time``), which hides its copy for the visibility timeout and tells the other hosts to hide theirs, best
effort, and picks its visible copies in no promised order; deletes and visibility changes by receipt handle go the
same way. So a copy a host missed the news about can be received again, or twice at once: at-least-once, with
duplicates, as SQS documents. A *FIFO* queue keeps each message group on one host (``g1`` on ``h1``, ``g2`` on
``h2``), which serves it with a group lock (no message of a group is received while a batch of it is in flight),
deduplication ids remembered for the deduplication window (also after the message is deleted), and receipt handles
that expire with the visibility timeout. Both redrive a message to the dead-letter queue once it was received
``max_receive_count`` times. Consumers are clients (see ``client.py``): each cycle's log, with the times the
consumer saw, is the history :mod:`invariants.queues` judges.

Faults: message loss and delay, partitions (a host or a zone), host crashes and restarts, power loss; consumer
crashes, stalls and poison messages come from the workload. Claimed for the good configurations: no acknowledged
message is lost; FIFO processes each message once while consumers delete in time and retries come within the
window, in group order, one batch per group at a time. Not claimed, and why: clock skew, which the good
configurations are not judged under (visibility deadlines and the deduplication window are instants of the serving
host's clock, so a host whose clock jumps forward lets a message reappear while held, or takes a retry for a new
message: refuted on its own, variant ``fifo-clock-skew``; the section says nothing of clocks); a FIFO group has no
replica and no failover (its host's synced disk keeps it; while the host is down the group is unavailable);
retention is not modelled. Not judged: throughput ("300 msg/s per group", "3,000 msg/s with batching"), cost and
latency (no such model). Times are scaled 1/10 (``config.SCALE``).
"""

from __future__ import annotations

from faultlab import (
    Claim,
    FaultPlan,
    Invariant,
    Measurement,
    Protocol,
    RunSettings,
    SeededChoices,
    Variant,
    Witness,
    simulate,
)
from invariants.queues import (
    check_exactly_once_processing,
    check_group_order,
    check_invisible_while_held,
    check_one_batch_per_group,
    check_poison_redriven,
    check_processed_or_dead_lettered,
)

from .client import client
from .config import SCALE, SqsConfig
from .host import GROUPS, HOSTS, QueueHost, home_of

__all__ = ["SPEC", "SqsConfig", "measure_duplicates", "measure_empty_responses"]


def workload(choices, op_index: int) -> tuple[str, object]:
    """Sends of unique ids to two groups, consumes at h1 and h2, and poison messages; choice 0 is a send to g1."""
    k = choices.choose(5)
    if k in (1, 3):
        return "consume", {"host": HOSTS[k // 2]}
    group = GROUPS[choices.choose(2)] if k == 4 else GROUPS[k // 2]
    return "send", {"id": op_index + 1, "group": group, "poison": k == 4}


def route(f: str, value) -> str:
    """A send goes to its group's home host; a consume (or the final drain) to the host it samples."""
    if f == "send":
        return home_of(value["group"])
    return value["host"] if isinstance(value, dict) else HOSTS[0]


def final_ops(config: SqsConfig) -> list[tuple[str, object, str]]:
    """After recovery: a careful consumer drains every host (until two long polls come back empty), then the
    dead-letter queue is read."""
    return [("drain", {"host": h}, h) for h in HOSTS] + [("read-dlq", None, HOSTS[0])]


def _logs(run, phase: str = "main") -> list[dict]:
    return [op.output for op in run.history.operations() if op.f in ("consume", "drain") and op.is_ok
            and op.phase == phase]


INVARIANTS = (
    Invariant("at-least-once", check_processed_or_dead_lettered,
              "every acknowledged message was processed or is in the dead-letter queue after recovery"),
    Invariant("poison-redriven", check_poison_redriven,
              "every acknowledged poison message is in the dead-letter queue, after maxReceiveCount receives"),
    Invariant("exactly-once", check_exactly_once_processing,
              "no message is processed again after its delete was acknowledged, none that was never sent",
              by_default=False),
    Invariant("fifo-order", check_group_order, "each group's messages are first processed in send order, across "
              "consumers", by_default=False),
    Invariant("group-lock", check_one_batch_per_group, "no two consumers hold messages of one group at once",
              by_default=False),
    Invariant("visibility", check_invisible_while_held,
              "no message is received while another consumer certainly holds it", by_default=False),
)

# Skew is left to its own variant: visibility deadlines and the deduplication window are instants of the serving
# host's clock, which no claim of the section covers (see the docstring).
NO_SKEW = ("drop", "delay", "partition", "crash", "restart", "lose_unsynced")
FIFO_PROMISES = ("at-least-once", "poison-redriven", "exactly-once", "fifo-order", "group-lock", "visibility")

VARIANTS = (
    Variant("standard", {}, "a standard queue: 3 hosts, acknowledged after 2 synced copies, DLQ after 3 receives, "
            "careful consumers", invariants=("at-least-once", "poison-redriven"),
            faults=NO_SKEW),
    Variant("fifo", {"fifo": True}, "a FIFO queue: groups on their home hosts with a group lock, deduplication ids "
            "kept for the window, DLQ after 3 receives, careful consumers", invariants=FIFO_PROMISES,
            faults=NO_SKEW),
    Variant("standard-duplicates", {}, "the standard queue held to exactly-once processing: retried sends and "
            "copies received from two hosts are processed twice", expect_violation="exactly-once", faults=NO_SKEW),
    Variant("standard-order", {}, "the standard queue held to order per group: best-effort only",
            expect_violation="fifo-order", faults=NO_SKEW),
    Variant("standard-visibility", {}, "the standard queue held to the visibility timeout across its copies: a "
            "copy another host has not hidden yet is received while the first consumer holds it",
            expect_violation="visibility", faults=NO_SKEW),
    Variant("delete-on-receive", {"visibility": False}, "no visibility timeout: a received message is deleted at "
            "once, so a consumer that crashes or fails loses it", expect_violation="at-least-once", faults=NO_SKEW),
    Variant("ack-one-unsynced", {"ack_after": 1, "sync": False}, "a send is acknowledged once one host has it, "
            "unsynced: a power loss loses acknowledged messages", expect_violation="at-least-once", faults=NO_SKEW),
    Variant("standard-no-dlq", {"dlq": False}, "no redrive policy: a poison message is retried forever",
            expect_violation="poison-redriven", faults=NO_SKEW),
    Variant("fifo-no-dlq", {"fifo": True, "dlq": False}, "FIFO without a redrive policy: a poison message at the "
            "head of its group blocks the group forever", expect_violation="poison-redriven", faults=NO_SKEW),
    Variant("fifo-no-group-lock", {"fifo": True, "group_lock": False}, "FIFO without the group lock: a second "
            "consumer receives a group's next message while the first batch is in flight, and processes it first",
            expect_violation="fifo-order", faults=NO_SKEW),
    Variant("fifo-dedup-forgets-deleted", {"fifo": True, "dedup_after_delete": False}, "FIFO whose deduplication "
            "forgets an id once its message is deleted: a retry after the delete is processed again",
            expect_violation="exactly-once", faults=NO_SKEW),
    Variant("fifo-visibility-shorter-than-processing", {"fifo": True, "heartbeat": False, "lease_check": False},
            "FIFO consumers that neither extend the visibility timeout nor check it: a stall (5 s) outlasts the "
            "3 s timeout, another consumer processes and deletes the message, then the first processes it too",
            expect_violation="exactly-once", faults=NO_SKEW),
    Variant("fifo-no-lease-check", {"fifo": True, "lease_check": False}, "FIFO consumers that heartbeat but do "
            "not check their lease: a lost extension lets the timeout run out mid-processing, and the message is "
            "processed anyway and again by the next consumer", expect_violation="exactly-once", faults=NO_SKEW),
    Variant("fifo-clock-skew", {"fifo": True}, "FIFO under clock skew alone (not claimed): a host clock that jumps "
            "forward ends visibility timeouts and the deduplication window early", expect_violation="exactly-once",
            faults=("skew",)),
    Variant("fifo-retry-after-window", {"fifo": True, "retry_delay": 40.0}, "FIFO with producers retrying 40 s "
            "after a send, past the 30 s deduplication window: the retry is a new message",
            expect_violation="exactly-once", faults=NO_SKEW),
)


def _processed(run) -> bool:
    return any(e["outcome"] == "processed" for log in _logs(run) for e in log["held"])


WITNESSES = (
    Witness.acknowledged("send"),
    Witness("message processed", _processed),
    Witness("consumer crashed holding messages", lambda run: any(log["crashed"] for log in _logs(run))),
    Witness("lease ran out while processing",
            lambda run: any(e["outcome"] == "abandoned" or (e["processed_at"] or 0) > e["lease"]
                            for log in _logs(run) for e in log["held"])),
    Witness.noted("redelivery", "message received again"),
    Witness.noted("redrive", "message moved to the dead-letter queue"),
    Witness("FIFO send deduplicated", lambda run: run.note_count("deduplicated") > 0 or not run.config.fifo),
)


# -- measurements ----------------------------------------------------------------------------------------------------
def measure_empty_responses(seed: int, runs: int = 20) -> Measurement:
    """The share of receives that come back empty with short polling and with long polling, over seeded runs of
    the default workload without faults (the standard queue; 3 clients x 6 operations, think times 0, 0.1 or 1 s)."""
    settings = RunSettings(plan=FaultPlan(kinds=(), swarm=False))
    table = []
    for wait in (0.0, 2.0):
        cfg = SPEC.make_config({"wait_time": wait})
        polls = empty = 0
        for i in range(runs):
            run = simulate(SPEC, cfg, SeededChoices(seed * 1_000_003 + i), settings)
            ps = [p for log in _logs(run) for p in log["polls"]]
            polls += len(ps)
            empty += sum(1 for p in ps if p["n"] == 0)
        table.append({"wait_time_s": wait, "stands_for_s": wait * SCALE, "receives": polls, "empty": empty,
                      "empty_share": round(empty / polls, 3) if polls else None})
    short, long_ = table[0]["empty_share"] or 0.0, table[1]["empty_share"] or 0.0
    return Measurement(round(short - long_, 3), "share of receives that were empty (short minus long polling)",
                       f"short polling: {short:.0%} of {table[0]['receives']} receives empty; long polling with a "
                       f"{table[1]['wait_time_s']:g} s wait (SQS 20 s, scaled 1/{SCALE}): {long_:.0%} of "
                       f"{table[1]['receives']}; {runs} fault-free runs each of the default workload (3 clients x 6 "
                       f"operations, two fifths consumes, think times 0/0.1/1 s)", table)


def measure_duplicates(seed: int, runs: int = 40) -> Measurement:
    """How often the standard queue hands one queue message to consumers that both process it (a duplicate the
    queue made, not a producer's retry, which is another queue message), without faults and under the default
    fault mix; over seeded runs of the default workload."""
    table = []
    for label, plan in (("no faults", FaultPlan(kinds=(), swarm=False)), ("faults", FaultPlan(kinds=NO_SKEW))):
        cfg, settings = SPEC.make_config({}), RunSettings(plan=plan)
        copies = twice = 0
        for i in range(runs):
            run = simulate(SPEC, cfg, SeededChoices(seed * 1_000_003 + i), settings)
            counts: dict[str, int] = {}
            for log in _logs(run) + _logs(run, "final"):
                for e in log["held"]:
                    if e["outcome"] == "processed":
                        counts[e["copy"]] = counts.get(e["copy"], 0) + 1
            copies += len(counts)
            twice += sum(1 for n in counts.values() if n > 1)
        table.append({"faults": label, "queue_messages_processed": copies, "processed_twice": twice,
                      "duplicate_share": round(twice / copies, 3) if copies else None})
    clean, faulty = table[0]["duplicate_share"] or 0.0, table[1]["duplicate_share"] or 0.0
    return Measurement(faulty, "share of queue messages processed more than once (under faults)",
                       f"standard queue, {runs} seeded runs each: {clean:.1%} of {table[0]['queue_messages_processed']} "
                       f"queue messages processed twice without faults, {faulty:.1%} of "
                       f"{table[1]['queue_messages_processed']} under message loss, delay, partitions, host crashes "
                       f"and power loss (consumers crash and stall in both); producers' retries, which are new "
                       f"queue messages, are not counted", table)


CLAIMS = (
    Claim("5", "At-least-once (standard) / Exactly-once (FIFO)", "invariant", variant="standard",
          invariants=("at-least-once",), note="standard: every acknowledged message is processed or dead-lettered "
          "after recovery, under host crashes, power loss, partitions and consumer crashes and stalls",
          expect="held"),
    Claim("5", "At-least-once (standard) / Exactly-once (FIFO)", "invariant", variant="standard-duplicates",
          invariants=("exactly-once",), note="the expected tradeoff, refuted on purpose: a standard queue processes "
          "a message twice (a producer's retry is a new message; a copy a host has not hidden yet is received from "
          "it)", expect="refuted"),
    Claim("5", "At-least-once (standard) / Exactly-once (FIFO)", "measure", measure=measure_duplicates,
          note="standard: how often the queue itself delivers one message to two consumers that both process it",
          expect="measured"),
    Claim("5", "At-least-once (standard) / Exactly-once (FIFO)", "invariant", variant="fifo",
          invariants=("exactly-once", "at-least-once"), note="FIFO, exactly-once processing as AWS defines it: no "
          "message processed again once its delete was acknowledged, with producer retries 2 s after a send within "
          "the 30 s deduplication window (5 minutes, scaled 1/10)", expect="held"),
    Claim("5", "At-least-once (standard) / Exactly-once (FIFO)", "invariant", variant="fifo-retry-after-window",
          invariants=("exactly-once",), note="refuted, scaled 1/10: a retry 40 s after the send comes after the 30 s "
          "deduplication window (5 minutes in SQS), is queued as a new message and processed again: exactly-once "
          "holds only within the window", expect="refuted"),
    Claim("5", "Standard: best-effort ordering. FIFO: strict per message group", "invariant", variant="fifo",
          invariants=("fifo-order", "group-lock"), note="FIFO: across all consumers each group's messages are first "
          "processed in send order, and no two consumers hold one group's messages at once", expect="held"),
    Claim("5", "Standard: best-effort ordering. FIFO: strict per message group", "invariant",
          variant="standard-order", invariants=("fifo-order",), note="standard, as documented: best effort is no "
          "guarantee; a later message of a group is processed before an earlier one", expect="refuted"),
    Claim("5", "Message invisible for N seconds after read; re-appears if not deleted", "invariant", variant="fifo",
          invariants=("visibility", "at-least-once"), note="FIFO, N = 3 s (30 s scaled 1/10): no message is "
          "received while a consumer certainly holds it, and one not deleted is received again (crashed and "
          "stalled consumers' messages are processed or dead-lettered)", expect="held"),
    Claim("5", "Message invisible for N seconds after read; re-appears if not deleted", "invariant",
          variant="standard-visibility", invariants=("visibility",), note="standard: refuted, as AWS documents ("
          "the visibility timeout is no guarantee against receiving a message twice): a host that has not yet "
          "heard a copy was received hands it to a second consumer", expect="refuted"),
    Claim("5", "Handles consumer crashes — unprocessed messages reappear automatically", "invariant",
          variant="standard", invariants=("at-least-once",), note="consumers crash holding messages (witnessed) "
          "and those messages are received again and processed", expect="held"),
    Claim("5", "Handles consumer crashes — unprocessed messages reappear automatically", "invariant",
          variant="delete-on-receive", invariants=("at-least-once",), note="the alternative, immediate deletion on "
          "read: a consumer that crashes loses its message", expect="refuted"),
    Claim("5", "Prevents poison messages from blocking the queue forever", "invariant", variant="fifo",
          invariants=("poison-redriven", "at-least-once"), note="FIFO group: the poison message is redriven after 3 "
          "receives and the group's later messages are processed", expect="held"),
    Claim("5", "Prevents poison messages from blocking the queue forever", "invariant", variant="standard",
          invariants=("poison-redriven",), note="standard queue: every poison message ends in the DLQ",
          expect="held"),
    Claim("5", "Prevents poison messages from blocking the queue forever", "invariant", variant="fifo-no-dlq",
          invariants=("poison-redriven",), note="the alternative, infinite retry: without a redrive policy a poison "
          "message blocks its FIFO group forever", expect="refuted"),
    Claim("5", "(one consumer per message)", "invariant", variant="fifo", invariants=("visibility", "exactly-once"),
          note="SQS against Kafka, FIFO: a message is held by one consumer at a time and processed once",
          expect="held"),
    Claim("5", "(one consumer per message)", "invariant", variant="standard-visibility", invariants=("visibility",),
          note="standard: refuted, two consumers can hold one message at once (see the visibility timeout)",
          expect="refuted"),
    Claim("5", "Reduces empty responses", "measure", measure=measure_empty_responses,
          note="long polling against short polling: the share of receives that come back empty", expect="measured"),
)

SPEC = Protocol(
    name="sqs",
    summary="SQS standard and FIFO queues: 3 storage hosts, visibility timeout, receipt handles, DLQ redrive, "
            "FIFO groups with a group lock and deduplication, long polling; producers retry, consumers crash",
    config_class=SqsConfig,
    nodes=lambda cfg: {h: QueueHost for h in HOSTS},
    zones=lambda cfg: {h: f"zone-{'abc'[i]}" for i, h in enumerate(HOSTS)},
    client=client,
    route=route,
    workload=workload,
    final_ops=final_ops,
    invariants=INVARIANTS,
    witnesses=WITNESSES,
    variants=VARIANTS,
    claims=CLAIMS,
    faults=("drop", "delay", "partition", "crash", "restart", "skew", "lose_unsynced"),
    client_timeout=120.0,
    settle_time=10.0,
)
