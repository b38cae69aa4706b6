"""Kafka (MSK): a partitioned, replicated log with a controller, in-sync replicas, consumer groups and
transactions for exactly-once consume-transform-produce.

Seed section 6 (Kinesis vs Kafka (MSK)): Exactly-once is "Native (Kafka transactions)"; section 5's SQS-vs-Kafka
table: the Model is "Log (message retained, multiple consumers)", Replay and Multiple consumers "✅ (consumer
groups)", Ordering "Per partition". The model:

* three brokers (one per zone) each hold a replica of two partitions; a fixed controller node (a KRaft quorum of
  one, durable) tracks broker liveness by heartbeats, owns each partition's leader, leader epoch and ISR, and on a
  leader's silence for ``session_timeout`` elects a live ISR member (a new epoch). With no live ISR member the
  partition goes offline, unless ``unclean_election`` picks any live replica;
* the leader appends (flushed when ``fsync``), pushes its log to the other replicas with its epoch and keeps the high
  watermark: the offset every ISR member (the maximal ISR, a proposed member included) holds. A follower lagging
  more than ``lag_timeout`` is dropped from the ISR through the controller, which checks the leader epoch and the
  partition version (fencing), and a caught-up one is added back. Consumers read only up to the high watermark.
  A broker's heartbeat carries its incarnation (the broker epoch): a restarted broker leaves the ISR and leadership
  moves away from it (it may have lost unflushed records), and until the controller has answered it leads nothing;
* ``acks=all`` acknowledges once the record is below the high watermark and refuses a produce while the ISR is
  smaller than ``min_isr``; ``acks=1`` acknowledges on append. Fencing: a replica refuses replication from an epoch
  older than it knows and the deposed leader steps down; without it a replica follows whoever replicated last;
* producers retry on a timeout; the idempotent producer's (producer id, sequence) lets the leader drop a retry of a
  record it has;
* two consumer groups (``app``: members w1 and w2; ``mirror``: w3) on a group coordinator with generations and a
  range assignment; a member fetches from its position, turns each record into an output and commits outputs and the
  offset in one transaction (``transactions``), or as two steps (outputs then offset: at-least-once; offset then
  outputs, ``commit=before``: at-most-once). The coordinator refuses a commit of an older generation
  (``generation_fencing``); a member whose commit failed rejoins, so a late old commit is fenced.

Faults tolerated (claimed, variant ``eos``): losses, delays, partitions including a zone, crashes, restarts, clock
skew and power loss (every append flushed): acknowledged records survive leader failover, each record is in the log
once, every group sees every record, and each group's committed outputs hold each record once. Not claimed (found
and refuted, see the variants): acks=1, unclean election, min ISR 1 with unclean election, no flush per append (a
site-wide power loss), reads above the high watermark, no epoch fencing, retries without idempotence, offset commits
before processing, a retention shorter than a consumer's outage, no transactions, and transactions without
generation fencing. Found held and claimed: min ISR 1
with clean election and a flush per append loses nothing (the partition goes offline with its only in-sync
replica).

Simplifications: one controller node (no controller failover: it restarts from disk); the output topic and committed
offsets live on the coordinator's disk, so a transaction is one atomic step (what Kafka's two-phase commit with
transaction markers and ``read_committed`` consumers gives); the leader pushes its whole log (a test's log is short)
where Kafka's followers fetch; retention deletes committed records by age (the log start offset moves), not
segments. No latency model: the section 6 Latency row is not measured; the throughput and cost rows are not
checkable.
"""

from __future__ import annotations

import trio

from faultlab import Claim, Fail, Invariant, Ok, Protocol, Unknown, Variant, Witness
from invariants.logs import (
    check_exactly_once_output,
    check_groups_see_all,
    check_no_duplicate_records,
    check_no_lost_acked,
    check_offsets_consistent,
    check_partition_order,
)

from .broker import PRODUCE_TIMEOUT, Broker
from .config import BROKERS, CONTROLLER, GROUPS, PARTITIONS, WORKERS, KafkaConfig
from .controller import Controller
from .messages import Audit, Fetch, Produce, ReadLog, Records, Redirect
from .worker import Worker

ATTEMPT_TIMEOUT = PRODUCE_TIMEOUT + 0.2  # the producer's request timeout: the leader's wait for the ISR, and a margin


# -- client and workload ---------------------------------------------------------------------------------------------
async def client(api, f: str, value) -> Ok | Fail | Unknown:
    """The Kafka client: find the partition's leader (follow a redirect, else try the next broker), retry a produce
    on a timeout (the idempotent producer's retry carries the same sequence number)."""
    if f == "audit":
        with trio.move_on_after(ATTEMPT_TIMEOUT):
            return await api.call(Audit(), CONTROLLER)
        return Fail("the coordinator did not answer")
    p = value["partition"]
    if f == "produce":
        msg = Produce(p, value["id"], api.endpoint, value["id"])
    elif f == "replay":
        msg = Fetch(p, value["from"], 100)
    else:
        msg = ReadLog(p)
    target = api.node if api.node in BROKERS else BROKERS[0]
    maybe = False
    for _ in range(2 * len(BROKERS)):
        reply = None
        with trio.move_on_after(ATTEMPT_TIMEOUT):
            reply = await api.call(msg, target)
        if isinstance(reply, Ok):
            return reply
        if isinstance(reply, Records):
            return Ok([{"partition": p, "offset": o, "id": rid} for o, rid in reply.records])
        if reply is None or isinstance(reply, Unknown):
            maybe = True
        if isinstance(reply, Fail) and f == "produce" and not maybe:
            return reply  # the leader refused it (not enough in-sync replicas) and no earlier attempt appended
        hint = reply.leader if isinstance(reply, Redirect) else None
        target = hint if hint and hint != target else BROKERS[(BROKERS.index(target) + 1) % len(BROKERS)]
    if f == "produce" and maybe:
        return Unknown("no attempt was acknowledged, and one may have been appended")
    return Fail("no leader served it")


def workload(choices, op_index: int) -> tuple[str, object]:
    """Produces of unique records to either partition, and replays of a partition from its first offset; choice 0
    is a produce to partition 0."""
    k = choices.choose(4)
    if k == 3:
        return "replay", {"partition": choices.choose(len(PARTITIONS)), "from": 0}
    return "produce", {"partition": k % len(PARTITIONS), "id": op_index + 1}


def final_ops(config: KafkaConfig) -> list[tuple[str, object, str]]:
    return [("read-log", {"partition": p}, BROKERS[0]) for p in PARTITIONS] + [("audit", None, BROKERS[0])]


# -- invariants ------------------------------------------------------------------------------------------------------
INVARIANTS = (
    Invariant("no-lost-acked", check_no_lost_acked,
              "after healing and settling every acknowledged produce is in its partition's committed log"),
    Invariant("no-duplicate-records", check_no_duplicate_records, "no record is in a final log twice"),
    Invariant("partition-order", check_partition_order,
              "records acknowledged one after the other are at increasing offsets of their partition"),
    Invariant("offsets-consistent", check_offsets_consistent,
              "every consumer saw at an offset the record the final log holds there, never going back"),
    Invariant("exactly-once-output", lambda h: check_exactly_once_output(h, groups=GROUPS),
              "each group's committed outputs hold each record of the final logs exactly once"),
    Invariant("groups-see-all", lambda h: check_groups_see_all(h, groups=GROUPS),
              "each of the two consumer groups consumed every record of the final logs"),
)

AT_LEAST_ONCE = ("no-lost-acked", "no-duplicate-records", "partition-order", "groups-see-all")

VARIANTS = (
    Variant("eos", {}, "acks=all, min ISR 2, clean election, epoch fencing, every append flushed, idempotent "
                       "producer, transactional consume-transform-produce with generation fencing"),
    Variant("at-least-once", {"transactions": False},
            "as eos, but outputs and the offset commit are two steps, outputs first: every group sees every record, "
            "some twice", invariants=AT_LEAST_ONCE),
    Variant("acks-1", {"acks": "1"},
            "the leader acknowledges on append; it crashes or is cut off before a follower has the record, and the "
            "elected follower never had it", expect_violation="no-lost-acked"),
    Variant("min-isr-1-clean", {"min_isr": 1},
            "acks=all with min ISR 1 but clean election and a flush per append: the ISR may shrink to the leader, "
            "which then holds an acknowledged record alone; its failure makes the partition unavailable, not lossy",
            invariants=("no-lost-acked",)),
    Variant("unclean-election", {"unclean_election": True},
            "with no live ISR member the controller elects an out-of-sync replica, which lacks acknowledged records "
            "(searched under crashes, partitions and delays: it takes a lagging replica and the loss of every ISR "
            "member)", expect_violation="no-lost-acked",
            faults=("crash", "restart", "partition", "heal", "delay", "release")),
    Variant("min-isr-1", {"min_isr": 1, "unclean_election": True},
            "acks=all with min ISR 1 (and unclean election, Kafka's defaults before 0.11): the ISR shrinks to the "
            "leader, it acknowledges alone, fails, and an out-of-sync follower is elected",
            expect_violation="no-lost-acked", faults=("crash", "restart", "partition", "heal")),
    Variant("no-flush", {"fsync": False},
            "Kafka's default flush policy (the OS flushes; never, here): acknowledged records are on every ISR "
            "member's page cache only, and a power loss of the whole site takes them", expect_violation="no-lost-acked"),
    Variant("read-above-hw", {"read_uncommitted_log": True},
            "fetches return records above the high watermark: a consumer reads a record no follower has yet; the "
            "leader fails and the elected follower's log holds another record at that offset, or none",
            expect_violation="offsets-consistent", faults=("crash", "restart", "partition", "heal")),
    Variant("no-fencing", {"fencing": False},
            "no leader epochs: a deposed leader (restarted, or cut off) replicates its log and replicas, even the new "
            "leader, follow whoever replicated last: records acknowledged by the new leader are overwritten",
            expect_violation="no-lost-acked"),
    Variant("retries-no-idempotence", {"idempotence": False},
            "the producer retries a produce whose acknowledgement was lost, and the leader appends it again",
            expect_violation="no-duplicate-records"),
    Variant("commit-before", {"transactions": False, "commit": "before"},
            "the offset is committed before the outputs are produced: a member crashing in between loses those "
            "records for its group (at-most-once)", expect_violation="groups-see-all"),
    Variant("short-retention", {"retention": 2.0},
            "retention 2 s (scaled down from Kafka's Unlimited): a group whose member is down, or cut off, for longer "
            "finds the records deleted and skips them (auto.offset.reset=earliest)", expect_violation="groups-see-all"),
    Variant("no-transactions", {"transactions": False},
            "outputs then offset commit, not atomic: a member crashing in between (or a lost reply and a retry) "
            "produces a record's output twice", expect_violation="exactly-once-output"),
    Variant("rebalance-no-fencing", {"generation_fencing": False},
            "transactions, but the coordinator accepts a commit from a member of an older generation: a zombie "
            "member cut off past its session commits the batch its successor already committed",
            expect_violation="exactly-once-output"),
)

CLAIMS = (
    Claim("6", "Native (Kafka transactions)", "invariant", variant="eos", invariants=("exactly-once-output",),
          note="consume-transform-produce in transactions with generation fencing: across member crashes, "
               "rebalances and broker failovers each group's committed outputs hold each record once", expect="held"),
    Claim("6", "Native (Kafka transactions)", "invariant", variant="no-transactions",
          invariants=("exactly-once-output",),
          note="refuted without transactions: a member produces a batch's outputs, then crashes (or its offset "
               "commit is lost) before the offset commit; the batch is processed again", expect="refuted"),
    Claim("6", "Native (Kafka transactions)", "invariant", variant="rebalance-no-fencing",
          invariants=("exactly-once-output",),
          note="refuted: transactions alone are not enough; without generation fencing a zombie member commits a "
               "batch its successor after the rebalance already committed", expect="refuted"),
    Claim("6", "Native (Kafka transactions)", "invariant", variant="eos", invariants=("no-duplicate-records",),
          note="the idempotent producer: retried produces (lost acknowledgements, leader failover) are in the log "
               "once", expect="held"),
    Claim("6", "Native (Kafka transactions)", "invariant", variant="retries-no-idempotence",
          invariants=("no-duplicate-records",),
          note="refuted: without idempotence a retry of a produce whose acknowledgement was lost is appended again",
          expect="refuted"),
    Claim("5", "Log (message retained, multiple consumers)", "invariant", variant="eos",
          invariants=("no-lost-acked",),
          note="acks=all with min ISR 2 and clean election: every acknowledged record survives leader failover",
          expect="held"),
    Claim("5", "Log (message retained, multiple consumers)", "invariant", variant="acks-1",
          invariants=("no-lost-acked",),
          note="refuted, the expected tradeoff: acks=1 acknowledges before a follower has the record; the leader "
               "fails and the elected follower never had it", expect="refuted"),
    Claim("5", "Log (message retained, multiple consumers)", "invariant", variant="unclean-election",
          invariants=("no-lost-acked",),
          note="refuted: unclean leader election promotes a replica outside the ISR, missing acknowledged records",
          expect="refuted"),
    Claim("5", "Log (message retained, multiple consumers)", "invariant", variant="min-isr-1",
          invariants=("no-lost-acked",),
          note="refuted: acks=all with min ISR 1 acknowledges on the leader alone once the ISR shrank to it; the "
               "leader fails and (unclean election on) a follower without the record is elected", expect="refuted"),
    Claim("5", "Log (message retained, multiple consumers)", "invariant", variant="min-isr-1-clean",
          invariants=("no-lost-acked",),
          note="min ISR 1 alone does not lose acknowledged records here: with clean election and a flush per append "
               "the partition waits offline for its only in-sync replica", expect="held"),
    Claim("5", "Log (message retained, multiple consumers)", "invariant", variant="no-flush",
          invariants=("no-lost-acked",),
          note="refuted: without a flush per append acknowledged records live in page caches; a power loss of "
               "the whole site (every replica at once) loses them", expect="refuted"),
    Claim("5", "Log (message retained, multiple consumers)", "invariant", variant="eos",
          invariants=("groups-see-all",),
          note="every record in the log is consumed by both consumer groups", expect="held"),
    Claim("6", "Unlimited", "invariant", variant="eos", invariants=("groups-see-all",),
          note="Retention (MSK): with no retention limit every record stays until every group consumed it",
          expect="held"),
    Claim("6", "Unlimited", "invariant", variant="short-retention", invariants=("groups-see-all",),
          note="refuted, scaled down, for a limited retention (2 s here): a group down longer than the retention "
               "never sees the records deleted meanwhile, so retention must outlast the longest consumer outage",
          expect="refuted"),
    Claim("5", "✅ (consumer groups)", "invariant", variant="eos", invariants=("groups-see-all",),
          note="Multiple consumers: two groups with their own committed offsets each consume every record",
          expect="held"),
    Claim("5", "✅ (consumer groups)", "invariant", variant="commit-before", invariants=("groups-see-all",),
          note="refuted: a group committing offsets before processing loses the records of a member that crashed "
               "in between (at-most-once)", expect="refuted"),
    Claim("5", "Event streaming, multiple consumers, replay", "invariant", variant="eos",
          invariants=("offsets-consistent",),
          note="Replay: a consumer reading a partition from offset 0 sees, at every offset, the record every other "
               "consumer and the final log see there", expect="held"),
    Claim("5", "Per partition", "invariant", variant="eos", invariants=("partition-order", "offsets-consistent"),
          note="Ordering: records acknowledged one after another are in that order in their partition, and no "
               "consumer goes back within a generation", expect="held"),
)


SPEC = Protocol(
    name="kafka",
    summary="Kafka (MSK): 3 brokers x 2 partitions, a controller with ISR and leader epochs, acks and min ISR, "
            "idempotent producer, two consumer groups, transactional consume-transform-produce",
    config_class=KafkaConfig,
    nodes=lambda cfg: {CONTROLLER: Controller, **{b: Broker for b in BROKERS}, **{w: Worker for w in WORKERS}},
    zones=lambda cfg: cfg.zone_of(),
    client_nodes=lambda cfg: BROKERS,
    client=client,
    workload=workload,
    final_ops=final_ops,
    invariants=INVARIANTS,
    witnesses=(
        Witness.acknowledged("produce"),
        Witness.acknowledged("replay", "replay returned"),
        Witness.noted("failover"),
        Witness.noted("rebalance"),
    ),
    variants=VARIANTS,
    claims=CLAIMS,
    settle_time=8.0,
    client_timeout=6 * ATTEMPT_TIMEOUT,
)
