"""Kinesis Data Streams with a KCL application: shards, producers that retry, workers holding leases in a lease
table, application-level checkpoints, and a sink the application writes its effects to.

Seed section 6 (Kinesis vs Kafka (MSK)): Exactly-once is "Application-level" for Kinesis. The model:

* ``stream``: the managed service, two shards, each a durable ordered log; ``PutRecord`` appends and answers the
  record's sequence number. A producer retries a put whose answer it did not get, and Kinesis has no idempotent
  producer, so a retry can put the same record twice;
* ``leases``: the KCL lease table (a DynamoDB table): per shard an owner, a lease counter and a checkpoint. A worker
  renews its leases every ``lease_interval``; a lease not renewed for ``lease_duration`` (by the table's clock) may
  be taken by another worker, which bumps the counter. A checkpoint is a conditional write: owner and counter must
  match, so a worker that lost its lease cannot move the checkpoint;
* ``w1``, ``w2``: KCL workers of one application. For a shard it holds, a worker reads a batch after the checkpoint,
  applies each record's effect to ``sink`` and then checkpoints the batch (``checkpoint=before``: checkpoints first,
  at-most-once). A failure (no answer) abandons the batch and restarts from the checkpoint;
* ``sink``: the application's destination (a table it updates). With ``dedup`` it remembers the record ids it has
  applied and skips a repeat: the application-level idempotence that makes processing exactly-once.

What the design gives (claimed): every acknowledged record is in its shard, in order, and processed at least once.
What it does not: exactly-once. A worker that crashes (or stalls past its lease) after applying records and before
checkpointing them has them processed again by the worker that takes the lease over, and a producer retry puts a
record into the stream twice; only ``dedup`` in the application removes both. No latency model (the section 6
Latency row is not measured); no retention (records stay for the whole run, the "Max 365 days" is not exercised).
"""

from __future__ import annotations

import attrs
import trio

from faultlab import (
    Claim,
    ConfigError,
    Fail,
    Invariant,
    Node,
    Ok,
    Protocol,
    Unknown,
    Variant,
    Witness,
    handler,
)
from invariants.logs import (
    check_exactly_once_output,
    check_groups_see_all,
    check_no_duplicate_records,
    check_no_lost_acked,
    check_offsets_consistent,
    check_partition_order,
)

SHARDS = (0, 1)
WORKERS = ("w1", "w2")
APP = "app"
CALL_TIMEOUT = 0.5
BATCH = 3


# -- messages --------------------------------------------------------------------------------------------------------
@attrs.frozen
class PutRecord:
    shard: int
    id: int


@attrs.frozen
class GetRecords:
    shard: int
    after: int  # the first sequence number to return
    limit: int


@attrs.frozen
class ShardRecords:
    records: tuple  # (seq, id) pairs


@attrs.frozen
class ReadShard:  # final read of a whole shard
    shard: int


@attrs.frozen
class TakeLease:
    shard: int
    worker: str


@attrs.frozen
class RenewLease:
    shard: int
    worker: str
    counter: int


@attrs.frozen
class Lease:
    held: bool
    counter: int
    checkpoint: int  # the next sequence number to process


@attrs.frozen
class Checkpoint:
    shard: int
    worker: str
    counter: int
    seq: int


@attrs.frozen
class Apply:
    output: dict


@attrs.frozen
class Done:
    ok: bool


@attrs.frozen
class Audit:
    pass


# -- configuration ---------------------------------------------------------------------------------------------------
@attrs.frozen
class KinesisConfig:
    checkpoint: str = attrs.field(default="after", metadata={
        "help": "after: checkpoint a batch once its effects are applied (at-least-once); before: at-most-once"})
    dedup: bool = attrs.field(default=False, metadata={
        "help": "the application's sink skips a record id it already applied (application-level exactly-once)"})
    lease_interval: float = attrs.field(default=0.5, metadata={"help": "seconds between lease renewals"})
    lease_duration: float = attrs.field(default=1.5, metadata={
        "help": "seconds without renewal after which another worker may take a lease"})

    def __attrs_post_init__(self) -> None:
        if self.checkpoint not in ("after", "before"):
            raise ConfigError(f"kinesis: checkpoint={self.checkpoint!r}; use after (at-least-once) or before")
        if self.lease_interval <= 0 or self.lease_duration <= 2 * self.lease_interval:
            raise ConfigError(f"kinesis: lease_duration={self.lease_duration} must exceed two renewals "
                              f"(lease_interval={self.lease_interval}, positive); raise lease_duration")


# -- nodes -----------------------------------------------------------------------------------------------------------
class Stream(Node[KinesisConfig]):
    """The managed stream: each shard a durable log, a record's sequence number its position."""

    def _shard(self, s: int) -> tuple:
        return self.storage.get(("shard", s), ())

    @handler
    def on_put(self, msg: PutRecord) -> Ok:
        shard = self._shard(msg.shard)
        self.storage[("shard", msg.shard)] = shard + (msg.id,)
        self.storage.sync()
        return Ok({"partition": msg.shard, "offset": len(shard), "id": msg.id})

    @handler
    def on_get_records(self, msg: GetRecords) -> ShardRecords:
        shard = self._shard(msg.shard)
        return ShardRecords(tuple((q, shard[q]) for q in range(msg.after, min(len(shard), msg.after + msg.limit))))

    @handler
    def on_read_shard(self, msg: ReadShard) -> Ok:
        return Ok([{"partition": msg.shard, "offset": q, "id": rid} for q, rid in enumerate(self._shard(msg.shard))])


class LeaseTable(Node[KinesisConfig]):
    """The KCL lease table: owner, counter, checkpoint per shard (durable), renewal times (this node's clock)."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.renewed: dict[int, float] = {}  # a new incarnation gives every lease a full duration

    def _lease(self, s: int) -> tuple:
        return self.storage.get(("lease", s), (None, 0, 0))  # owner, counter, checkpoint

    def _put(self, s: int, lease: tuple) -> None:
        self.storage[("lease", s)] = lease
        self.storage.sync()

    @handler
    def on_take(self, msg: TakeLease) -> Lease:
        owner, counter, checkpoint = self._lease(msg.shard)
        now = self.ctx.now()
        expired = owner is None or now - self.renewed.setdefault(msg.shard, now) > self.config.lease_duration
        if owner != msg.worker and not expired:
            return Lease(False, counter, checkpoint)
        self._put(msg.shard, (msg.worker, counter + 1, checkpoint))
        self.renewed[msg.shard] = now
        self.ctx.note("lease_taken", shard=msg.shard, worker=msg.worker, previous=owner, counter=counter + 1)
        return Lease(True, counter + 1, checkpoint)

    @handler
    def on_renew(self, msg: RenewLease) -> Lease:
        owner, counter, checkpoint = self._lease(msg.shard)
        if (owner, counter) != (msg.worker, msg.counter):
            return Lease(False, counter, checkpoint)
        self.renewed[msg.shard] = self.ctx.now()
        return Lease(True, counter, checkpoint)

    @handler
    def on_checkpoint(self, msg: Checkpoint) -> Done:
        owner, counter, _ = self._lease(msg.shard)
        if (owner, counter) != (msg.worker, msg.counter):
            return Done(False)  # the conditional write fails: the lease was taken over
        self._put(msg.shard, (owner, counter, msg.seq))
        self.ctx.note("checkpoint", shard=msg.shard, worker=msg.worker, seq=msg.seq)
        return Done(True)


class Sink(Node[KinesisConfig]):
    """The application's destination: applies each record's effect (an output row), deduplicated when ``dedup``."""

    @handler
    def on_apply(self, msg: Apply) -> Done:
        st = self.storage
        outputs = st.get("outputs", ())
        if self.config.dedup and any(o["id"] == msg.output["id"] and o["partition"] == msg.output["partition"]
                                     for o in outputs):
            self.ctx.note("deduplicated", id=msg.output["id"])
            return Done(True)
        st.save(outputs=outputs + (msg.output,))
        return Done(True)

    @handler
    def on_audit(self, msg: Audit) -> Ok:
        return Ok({"outputs": [dict(o) for o in self.storage.get("outputs", ())]})


class Worker(Node[KinesisConfig]):
    """A KCL worker: renews or takes leases, processes the shards it holds, checkpoints."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.held: dict[int, tuple[int, int]] = {}  # shard -> (lease counter, next sequence number)
        self.attempts = 0  # a session: a batch abandoned restarts from the checkpoint in a new one

    def start(self) -> None:
        self.ctx.every(self.config.lease_interval, lambda: self.ctx.spawn(self._leases))
        self.ctx.spawn(self._process)

    async def _leases(self) -> None:
        for s in SHARDS:
            if s in self.held:
                got = await self.ctx.call("leases", RenewLease(s, self.id, self.held[s][0]), CALL_TIMEOUT)
                if isinstance(got, Lease) and not got.held:
                    self.held.pop(s, None)
                    self.ctx.note("lease_lost", shard=s, worker=self.id)
            else:
                got = await self.ctx.call("leases", TakeLease(s, self.id), CALL_TIMEOUT)
                if isinstance(got, Lease) and got.held and s not in self.held:
                    self.held[s] = (got.counter, got.checkpoint)

    async def _process(self) -> None:
        while True:
            busy = False
            for s in sorted(self.held):
                busy |= await self._batch(s)
            if not busy:
                await trio.sleep(self.config.lease_interval)

    def _abandon(self, s: int) -> None:
        self.held.pop(s, None)  # taken again (a new counter) from the checkpoint at the next lease round
        self.attempts += 1

    async def _batch(self, s: int) -> bool:
        if s not in self.held:
            return False
        counter, position = self.held[s]
        got = await self.ctx.call("stream", GetRecords(s, position, BATCH), CALL_TIMEOUT)
        if not isinstance(got, ShardRecords) or not got.records or self.held.get(s, (None,))[0] != counter:
            return False
        end = got.records[-1][0] + 1
        session = f"{counter}.{self.attempts}"
        outputs = [{"group": APP, "member": self.id, "generation": session, "partition": s, "offset": q, "id": rid}
                   for q, rid in got.records]
        if self.config.checkpoint == "before" and not await self._checkpoint(s, counter, end):
            return False
        for out in outputs:
            done = await self.ctx.call("sink", Apply(out), CALL_TIMEOUT)
            if not isinstance(done, Done):
                self._abandon(s)
                return False
        if self.config.checkpoint == "after" and not await self._checkpoint(s, counter, end):
            return False
        if self.held.get(s, (None,))[0] == counter:
            self.held[s] = (counter, end)
        return True

    async def _checkpoint(self, s: int, counter: int, seq: int) -> bool:
        done = await self.ctx.call("leases", Checkpoint(s, self.id, counter, seq), CALL_TIMEOUT)
        if not (isinstance(done, Done) and done.ok):
            self._abandon(s)
            return False
        return True


# -- client and workload ---------------------------------------------------------------------------------------------
async def client(api, f: str, value) -> Ok | Fail | Unknown:
    """A producer that retries a put without an answer (the SDK's retries: no idempotence, so maybe twice), a
    consumer reading a shard from a sequence number, and the final reads."""
    if f == "audit":
        msg, node = Audit(), "sink"
    elif f == "produce":
        msg, node = PutRecord(value["partition"], value["id"]), "stream"
    elif f == "replay":
        msg, node = GetRecords(value["partition"], value["from"], 100), "stream"
    else:
        msg, node = ReadShard(value["partition"]), "stream"
    for _ in range(3):
        reply = None
        with trio.move_on_after(CALL_TIMEOUT * 2):
            reply = await api.call(msg, node)
        if isinstance(reply, ShardRecords):
            return Ok([{"partition": value["partition"], "offset": q, "id": rid} for q, rid in reply.records])
        if reply is not None:
            return reply
    return Unknown("no answer: the put may have been appended") if f == "produce" else Fail("no answer")


def workload(choices, op_index: int) -> tuple[str, object]:
    """Puts of unique records to either shard, and reads of a shard from its start; choice 0 is a put to shard 0."""
    k = choices.choose(4)
    if k == 3:
        return "replay", {"partition": choices.choose(len(SHARDS)), "from": 0}
    return "produce", {"partition": k % len(SHARDS), "id": op_index + 1}


def final_ops(config: KinesisConfig) -> list[tuple[str, object, str]]:
    return [("read-log", {"partition": s}, "stream") for s in SHARDS] + [("audit", None, "sink")]


# -- spec ------------------------------------------------------------------------------------------------------------
INVARIANTS = (
    Invariant("no-lost-acked", check_no_lost_acked, "every acknowledged put is in its shard after recovery"),
    Invariant("shard-order", check_partition_order,
              "records acknowledged one after the other are at increasing sequence numbers of their shard"),
    Invariant("offsets-consistent", check_offsets_consistent,
              "every reader saw at a sequence number the record the shard holds there, never going back in a session"),
    Invariant("at-least-once", lambda h: check_groups_see_all(h, groups=(APP,), min_groups=1),
              "the application applied every record of the final shards at least once"),
    Invariant("exactly-once-output", lambda h: check_exactly_once_output(h, groups=(APP,)),
              "the application's sink holds each record's effect exactly once", by_default=False),
    Invariant("no-duplicate-records", check_no_duplicate_records, "no record is in a shard twice",
              by_default=False),
)

CLAIMS = (
    Claim("6", "Application-level", "invariant", variant="kcl", invariants=("at-least-once",),
          note="the KCL with checkpoints after processing: every record is processed at least once, across worker "
               "crashes, lease takeovers and lost messages", expect="held"),
    Claim("6", "Application-level", "invariant", variant="kcl-exactly-once", invariants=("exactly-once-output",),
          note="refuted without application dedup: a worker applies a batch and crashes (or stalls past its lease) "
               "before its checkpoint; the worker taking the lease over applies the batch again", expect="refuted"),
    Claim("6", "Application-level", "invariant", variant="kcl-dedup", invariants=("exactly-once-output",),
          note="with the application deduplicating by record id in its sink, each record's effect is there once, "
               "even for records a producer retry put twice", expect="held"),
    Claim("6", "Application-level", "invariant", variant="producer-retries", invariants=("no-duplicate-records",),
          note="refuted: the stream itself is not exactly-once; a producer retry of a put whose answer was lost "
               "puts the record twice", expect="refuted"),
    Claim("6", "Application-level", "invariant", variant="checkpoint-before", invariants=("at-least-once",),
          note="refuted: checkpointing before processing loses the batch of a worker that crashes in between",
          expect="refuted"),
)

SPEC = Protocol(
    name="kinesis",
    summary="Kinesis Data Streams + KCL: 2 shards, producers that retry, workers with leases and application-level "
            "checkpoints in a lease table, a sink with optional dedup",
    config_class=KinesisConfig,
    nodes=lambda cfg: {"stream": Stream, "leases": LeaseTable, "sink": Sink, **{w: Worker for w in WORKERS}},
    zones=lambda cfg: {"stream": "zone-a", "leases": "zone-b", "sink": "zone-c", "w1": "zone-a", "w2": "zone-b"},
    client_nodes=lambda cfg: ("stream",),
    client=client,
    workload=workload,
    final_ops=final_ops,
    invariants=INVARIANTS,
    witnesses=(
        Witness.acknowledged("produce"),
        Witness.noted("checkpoint"),
        Witness.noted("lease_taken"),
    ),
    variants=(
        Variant("kcl", {}, "checkpoint after processing, no dedup: at-least-once, in order per shard"),
        Variant("kcl-dedup", {"dedup": True}, "as kcl, and the sink skips a record id it has applied",
                invariants=("no-lost-acked", "shard-order", "offsets-consistent", "at-least-once",
                            "exactly-once-output")),
        Variant("kcl-exactly-once", {}, "kcl held to exactly-once: a worker crashing between its effects and its "
                "checkpoint has them applied again by the next lease holder (searched under crashes alone)",
                expect_violation="exactly-once-output", faults=("crash", "restart")),
        Variant("producer-retries", {}, "a put whose answer is lost is retried and appended twice",
                expect_violation="no-duplicate-records"),
        Variant("checkpoint-before", {"checkpoint": "before"},
                "the batch is checkpointed before its effects: a worker crashing in between loses them",
                expect_violation="at-least-once"),
    ),
    claims=CLAIMS,
    settle_time=6.0,
    client_timeout=4.0,
)
