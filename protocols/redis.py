"""ElastiCache Redis: a primary with replicas in other zones, asynchronous replication, automatic failover.

Seed section 7 (ElastiCache): "Multi-AZ with auto-failover" (Replication) and "Redis if you need data to survive
restart" (Persistence); section 20's Multi-AZ diagram puts the Redis primary in AZ-a and a replica in each of AZ-b
and AZ-c ("Redis: Multi-AZ with auto-failover."). The model:

* the primary applies a write to its dataset, appends it to its replication stream (and to its AOF, when on) and
  acknowledges; replicas receive the stream (the primary pushes it on every write and every heartbeat) and apply
  it in order. ``wait=n`` is ``WAIT n``: the primary acknowledges only once n replicas hold the write, and answers
  ``info`` when they do not in time (the write is applied locally and may survive, as in Redis);
* automatic failover, sentinel style: a replica that hears no heartbeat for ``failover_timeout`` starts an election
  for a new epoch; every node's sentinel votes once per epoch (a node that is itself an acting primary refuses), and
  a majority of the nodes elects. With ``pick_most_up_to_date`` the candidate takes office only if no node that
  answered it holds a longer replication stream (the most up-to-date *reachable* replica, as sentinel picks);
* fencing: the primary's stream carries its epoch; a replica refuses a stream of an older epoch and says so, and a
  primary that learns of a newer epoch steps down and resynchronizes from the new primary (a full resync: its
  unreplicated writes are gone, as in Redis). Without ``fencing`` nothing compares epochs on the stream: a deposed
  primary keeps acknowledging and replicas follow whichever primary spoke last;
* persistence ``aof``: ``always`` (fsync every write before the acknowledgement), ``everysec`` (fsync once a second),
  ``no`` (the OS decides: never, in this model) or ``off`` (in memory: a restart comes back empty). Epoch and vote
  are the sentinel's own state and always synced (a sync flushes the one storage, so an election also flushes the
  AOF: this makes the no-fsync settings a little safer than real Redis, never less safe).

``wait=1`` (fewer than the 2 replicas) with fencing and AOF always held over 7,800 runs (900 from seeds 0 and 1, 2,000 from seeds 2-4): a majority
must elect and the candidate defers to any more up-to-date node that answered, so a node holding an acknowledged
write is always asked. It is not claimed: offsets are compared by length, as Redis compares replication offsets, so
a deposed primary with a longer tail of unacknowledged writes could in principle outrank a replica holding an
acknowledged one; the search has not found such a schedule.

Faults tolerated (claimed): losses, delays, partitions including a zone, crashes and restarts and power loss with
``aof=always``, with writes acknowledged by all replicas (``wait=2``) kept across failovers. Not claimed (found and
refuted, see the variants): asynchronous replication loses acknowledged writes in a failover; reads at the primary
see writes no replica has (dirty reads), so even ``wait=2`` is not linearizable; without fencing two primaries
acknowledge at once; promoting any replica loses what only the up-to-date one had; without fsync a power loss loses
acknowledged writes; without persistence a restart does. No latency model in the engine: messages take no time
unless a ``delay`` fault holds them, so failover time is the detection settings at work.
"""

from __future__ import annotations

import statistics

import attrs
import trio

from faultlab import (
    Claim,
    ConfigError,
    Fail,
    FaultPlan,
    History,
    Invariant,
    Measurement,
    Node,
    Ok,
    Protocol,
    RunSettings,
    SeededChoices,
    Unknown,
    Variant,
    Witness,
    handler,
    simulate,
)
from faultlab.clients import follow_leader
from invariants.convergence import check_convergence
from invariants.durability import check_no_lost_writes
from invariants.linearizability import RUN_SEARCH_STEPS, check_linearizable

AOF_MODES = ("always", "everysec", "no", "off")


# -- messages --------------------------------------------------------------------------------------------------------
@attrs.frozen
class ClientWrite:
    value: int


@attrs.frozen
class ClientRead:
    pass


@attrs.frozen
class Redirect:
    """A replica's answer to a request only the primary serves: ask ``primary`` (who it believes it is) instead."""

    primary: str | None


@attrs.frozen
class Replicate:
    """Primary to replica: its whole replication stream (short in a test) and the epoch it is primary of."""

    epoch: int
    primary: str
    log: tuple


@attrs.frozen
class ReplicateAck:
    epoch: int
    accepted: bool
    offset: int  # length of the stream the replica now holds


@attrs.frozen
class RequestVote:
    epoch: int
    candidate: str


@attrs.frozen
class Vote:
    epoch: int
    granted: bool
    offset: int  # the voter's stream length: the candidate defers to a more up-to-date reachable node


# -- configuration ---------------------------------------------------------------------------------------------------
@attrs.frozen
class RedisConfig:
    replicas: int = attrs.field(default=2, metadata={"help": "replicas, one per further zone (0 to 2)"})
    wait: int = attrs.field(default=0, metadata={
        "help": "WAIT n: replicas that must hold a write before the primary acknowledges it (0: asynchronous)"})
    failover: bool = attrs.field(default=True, metadata={"help": "automatic failover when the primary is silent"})
    fencing: bool = attrs.field(default=True, metadata={
        "help": "the replication stream carries the primary's epoch; stale primaries are refused and step down"})
    pick_most_up_to_date: bool = attrs.field(default=True, metadata={
        "help": "a candidate defers to a reachable node with a longer stream; off: any replica may be promoted"})
    aof: str = attrs.field(default="always", metadata={
        "help": "persistence: always (fsync each write), everysec, no (never fsync), off (in memory only)"})
    heartbeat: float = attrs.field(default=0.2, metadata={"help": "seconds between the primary's stream pushes"})
    failover_timeout: float = attrs.field(default=1.0, metadata={
        "help": "seconds of silence before a replica starts an election (plus a coin of up to 0.8 s)"})
    wait_timeout: float = attrs.field(default=0.5, metadata={"help": "the WAIT timeout, seconds"})

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.replicas <= 2:
            raise ConfigError(f"elasticache-redis: replicas={self.replicas}; choose 0 to 2 (one per further zone)")
        if not 0 <= self.wait <= self.replicas:
            raise ConfigError(f"elasticache-redis: wait={self.wait}; choose 0 to replicas={self.replicas}")
        if self.aof not in AOF_MODES:
            raise ConfigError(f"elasticache-redis: aof={self.aof!r}; use one of {', '.join(AOF_MODES)}")
        for name in ("heartbeat", "failover_timeout", "wait_timeout"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"elasticache-redis: {name}={getattr(self, name)}; give a positive number of "
                                  f"seconds")

    def nodes(self) -> tuple[str, ...]:
        return tuple(f"n{i + 1}" for i in range(self.replicas + 1))

    def zone_of(self) -> dict[str, str]:
        return {n: f"zone-{'abc'[i]}" for i, n in enumerate(self.nodes())}

    @property
    def majority(self) -> int:
        return len(self.nodes()) // 2 + 1


# -- the node --------------------------------------------------------------------------------------------------------
class RedisNode(Node[RedisConfig]):
    """A Redis process with its sentinel: primary or replica. The dataset is the replication stream ``log`` of
    ``(epoch, value)`` entries (a single key: the last value); its durability follows ``aof``."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.index = self.config.nodes().index(self.id)
        self.memory: tuple = ()  # the dataset when aof=off: gone with the process
        self.heard = trio.Event()

    def start(self) -> None:
        st = self.storage
        if "epoch" not in st:
            # A fresh replication group starts with n1 primary of epoch 1 (what the control plane does on creation).
            st["epoch"], st["voted"], st["primary"] = 1, (1, "n1"), "n1"
            st.sync()
        if self.config.aof != "off" and "log" not in st:
            st["log"] = ()
        if self.config.aof == "everysec":
            self.ctx.every(1.0, st.sync)
        if self.is_primary:
            self.ctx.set_role("leader")
            self.ctx.spawn(self._heartbeats, self.epoch)
        if self.config.failover:
            self.ctx.spawn(self._failure_detector)

    # durable sentinel state and the dataset
    @property
    def epoch(self) -> int:
        return self.storage["epoch"]

    @property
    def primary(self) -> str | None:
        return self.storage["primary"]

    @property
    def is_primary(self) -> bool:
        return self.primary == self.id

    @property
    def log(self) -> tuple:
        return self.memory if self.config.aof == "off" else self.storage["log"]

    def _set_log(self, log: tuple) -> None:
        if self.config.aof == "off":
            self.memory = log
            return
        self.storage["log"] = log
        if self.config.aof == "always":
            self.storage.sync()

    def _step_down(self, epoch: int, primary: str | None) -> None:
        if self.is_primary:
            self.ctx.set_role(None)
            self.ctx.note("stepped_down", epoch=self.epoch, new_epoch=epoch)
        self.storage.save(epoch=epoch, primary=primary)

    # -- replica side --------------------------------------------------------------------------------------------
    @handler
    def on_replicate(self, msg: Replicate, src: str) -> ReplicateAck:
        if self.config.fencing:
            if msg.epoch < self.epoch:
                return ReplicateAck(self.epoch, False, len(self.log))
            if msg.epoch > self.epoch or not self.is_primary and self.primary != msg.primary:
                self._step_down(msg.epoch, msg.primary)
        elif self.is_primary:
            return ReplicateAck(self.epoch, False, len(self.log))  # nothing tells it the other one is newer
        elif self.primary != msg.primary:
            self.storage.save(primary=msg.primary)  # without fencing a replica follows whoever spoke last
        if self.is_primary:  # a primary of the same epoch cannot exist with fencing: one vote per epoch and node
            return ReplicateAck(self.epoch, False, len(self.log))
        self.heard.set()
        if msg.log != self.log:
            self._set_log(msg.log)  # a full resync; in a test the stream is short enough to send whole
        return ReplicateAck(self.epoch, True, len(self.log))

    @handler
    def on_request_vote(self, msg: RequestVote) -> Vote:
        offset = len(self.log)
        if msg.epoch < self.epoch or self.is_primary:
            return Vote(self.epoch, False, offset)
        voted_epoch, _ = self.storage["voted"]
        if voted_epoch >= msg.epoch:
            return Vote(self.epoch, False, offset)
        self.storage.save(voted=(msg.epoch, msg.candidate), epoch=max(self.epoch, msg.epoch))
        self.heard.set()
        return Vote(self.epoch, True, offset)

    async def _failure_detector(self) -> None:
        # The sentinel's health check: silence for failover_timeout (plus the node's coin, so the search can make
        # any replica time out first, or two at once) starts an election. Drawn at start and after each campaign.
        def draw() -> float:
            return self.config.failover_timeout + 0.4 * ((self.index + 2 * self.ctx.random.random()) % 2)

        timeout = draw()
        while True:
            self.heard = trio.Event()
            with trio.move_on_after(timeout) as scope:
                await self.heard.wait()
            if scope.cancelled_caught and not self.is_primary:
                await self._campaign()
                timeout = draw()

    async def _campaign(self) -> None:
        epoch = self.epoch + 1
        self.storage.save(epoch=epoch, voted=(epoch, self.id))
        votes = await self.ctx.gather(self.ctx.peers, RequestVote(epoch, self.id), need=len(self.ctx.peers),
                                      timeout=self.config.wait_timeout)
        if self.epoch != epoch or self.is_primary:
            return
        if max((v.epoch for v in votes.values()), default=0) > epoch:
            return
        granted = 1 + sum(1 for v in votes.values() if v.granted and v.epoch == epoch)
        best = max((v.offset for v in votes.values()), default=0)
        if granted < self.config.majority:
            return
        if self.config.pick_most_up_to_date and best > len(self.log):
            self.ctx.note("deferred", epoch=epoch, offset=len(self.log), best=best)
            return  # a more up-to-date node answered: it will time out and be elected instead
        self.storage.save(primary=self.id)
        self.ctx.set_role("leader")
        self.ctx.note("failover", epoch=epoch, offset=len(self.log))
        self.ctx.spawn(self._heartbeats, epoch)

    # -- primary side --------------------------------------------------------------------------------------------
    async def _replicate(self, epoch: int, need: int, timeout: float) -> bool:
        """Push the stream to every replica; True once ``need`` of them hold all of it."""
        length = len(self.log)
        acks = await self.ctx.gather(self.ctx.peers, Replicate(epoch, self.id, self.log), need=need,
                                     timeout=timeout)
        newer = [(a.epoch, src) for src, a in acks.items() if a.epoch > self.epoch]
        if newer and self.config.fencing and self.is_primary:
            self._step_down(max(newer)[0], None)  # fenced: learns the next heartbeat's sender as its primary
        good = sum(1 for a in acks.values() if a.accepted and a.epoch == epoch and a.offset >= length)
        return self.is_primary and self.epoch == epoch and good >= need

    async def _heartbeats(self, epoch: int) -> None:
        while self.is_primary and self.epoch == epoch:
            self.ctx.spawn(self._replicate, epoch, len(self.ctx.peers), self.config.heartbeat)
            await trio.sleep(self.config.heartbeat)

    @handler
    async def on_write(self, msg: ClientWrite) -> Ok | Unknown | Redirect:
        if not self.is_primary:
            return Redirect(self.primary)
        epoch = self.epoch
        if not any(v == msg.value for _e, v in self.log):  # a retried request is applied once
            self._set_log(self.log + ((epoch, msg.value),))
        if self.config.wait == 0:
            self.ctx.spawn(self._replicate, epoch, 0, self.config.heartbeat)
            return Ok(msg.value)
        if await self._replicate(epoch, self.config.wait, self.config.wait_timeout):
            return Ok(msg.value)
        return Unknown(f"WAIT {self.config.wait} timed out: applied on the primary, maybe on replicas")

    @handler
    def on_read(self, msg: ClientRead) -> Ok | Redirect:
        if not self.is_primary:
            return Redirect(self.primary)
        return Ok(self.log[-1][1] if self.log else None)


# -- client and workload -----------------------------------------------------------------------------------------
ATTEMPT_TIMEOUT = 1.0  # the client's wait per attempt before it tries another node


async def client(api, f: str, value) -> Ok | Fail | Unknown:
    """The ElastiCache client: ask the chosen node, follow a redirect to the primary, try the others on a timeout.

    A write that timed out or came back unknown may still be applied, so if no later attempt succeeds it is
    indeterminate, never failed; a retried write is applied once because the primary ignores a value it has.
    """
    msg = ClientWrite(value) if f == "write" else ClientRead()
    return await follow_leader(api, msg, write=f == "write", attempt_timeout=ATTEMPT_TIMEOUT, who="primary",
                               redirect=lambda reply: reply.primary if isinstance(reply, Redirect) else None)


def workload(choices, op_index: int) -> tuple[str, object]:
    """Two thirds writes of unique values, a third reads at the primary; choice 0 is a write."""
    return [("write", op_index + 1), ("write", op_index + 1), ("read", None)][choices.choose(3)]


def final_ops(config: RedisConfig) -> list[tuple[str, object, str]]:
    """A read through every node, each redirected to the primary that node believes in (two, after split brain)."""
    return [("read", None, n) for n in config.nodes()]


# -- invariants ------------------------------------------------------------------------------------------------------
def _linearizable(history: History):
    ops = [op for op in history.operations() if op.f in ("read", "write")]
    return check_linearizable(ops, "register", max_steps=RUN_SEARCH_STEPS)


INVARIANTS = (
    Invariant("no-lost-writes", check_no_lost_writes,
              "after healing and recovery a read at the primary sees every acknowledged write or a newer one"),
    Invariant("linearizable", _linearizable, "writes and reads at the primary are linearizable"),
    Invariant("convergence", check_convergence,
              "after healing and settling every node's read reaches a primary with the same value (one primary)"),
)


# -- claims ----------------------------------------------------------------------------------------------------------
def measure_failover(seed: int, runs: int = 30) -> Measurement:
    """The primary's zone fails (its node crashes, the only fault): time to the new primary and to the first
    write it acknowledges, over seeded runs with the default timing settings and asynchronous replication."""
    cfg = SPEC.make_config({})
    settings = RunSettings(clients=2, ops_per_client=10, plan=FaultPlan(kinds=("crash",), swarm=False, max_crashes=1))
    table = []
    for i in range(runs):
        run = simulate(SPEC, cfg, SeededChoices(seed * 1_000_003 + i), settings)
        crashes = [e for e in run.log.of("crash") if "n1" in (e.get("nodes") or [e.get("node")])]
        if not crashes:
            continue
        t0 = crashes[0].time
        took = [e for e in run.log.notes("failover") if e.time >= t0]
        if not took:
            table.append({"run": i, "crash_at": round(t0, 3), "failover_s": None, "first_write_s": None})
            continue
        new = took[0]["node"]
        writes = [op.ret for op in run.history.operations()
                  if op.f == "write" and op.is_ok and op.phase == "main" and op.ret > took[0].time]
        table.append({"run": i, "crash_at": round(t0, 3), "new_primary": new,
                      "zone": cfg.zone_of()[new], "failover_s": round(took[0].time - t0, 3),
                      "first_write_s": round(min(writes) - t0, 3) if writes else None})
    times = sorted(r["failover_s"] for r in table if r["failover_s"] is not None)
    resumed = [r for r in table if r["first_write_s"] is not None]
    if not times:
        return Measurement(0.0, "s", "no run crashed the primary: nothing measured", table)
    median = statistics.median(times)
    return Measurement(round(median, 3), "s (median, primary crash to new primary)",
                       f"the primary's zone failed in {len(table)} runs; a replica in another zone took over in "
                       f"{len(times)} (median {median:.2f} s, range {times[0]:.2f}-{times[-1]:.2f} s) and writes "
                       f"were acknowledged again in {len(resumed)} of them; with heartbeat={cfg.heartbeat} s, "
                       f"failover_timeout={cfg.failover_timeout} s (+ a coin of up to 0.8 s), election timeout "
                       f"{cfg.wait_timeout} s; no latency model (messages take no time), so the figure is the "
                       f"detection settings at work", table)


CLAIMS = (
    Claim("7", "Multi-AZ with auto-failover", "measure", measure=measure_failover,
          note="availability: the primary's node crashes (its zone fails); measured is the simulated time until a "
               "replica in another zone is elected, and whether writes are acknowledged again", expect="measured"),
    Claim("7", "Multi-AZ with auto-failover", "invariant", variant="async-failover", invariants=("no-lost-writes",),
          note="durability with asynchronous replication (ElastiCache's default, wait=0): does an acknowledged write "
               "survive a failover? No: the primary acknowledges a write, is cut off or crashes before the stream "
               "reaches a replica, and the replica promoted on the majority side never had it", expect="refuted"),
    Claim("7", "Multi-AZ with auto-failover", "invariant", variant="wait-all-fenced",
          invariants=("no-lost-writes", "convergence"),
          note="durability with WAIT 2 (every replica holds a write before it is acknowledged), epochs fencing a "
               "deposed primary and AOF fsync on every write: acknowledged writes survive every fault kind",
          expect="held"),
    Claim("7", "Multi-AZ with auto-failover", "invariant", variant="wait-all-linearizable",
          invariants=("linearizable",),
          note="even with WAIT 2 and fencing the primary is not strongly consistent: a read at the primary sees a "
               "write no replica has yet (its WAIT then times out, info), and a failover drops it",
          expect="refuted"),
    Claim("20", "Redis: Multi-AZ with auto-failover.", "invariant", variant="async-failover-partition",
          invariants=("no-lost-writes",),
          note="section 20's diagram (primary in zone-a, replicas in zone-b and zone-c) under partitions alone "
               "(node or zone): the old primary acknowledges on the minority side while the majority side fails "
               "over, and rejoining as a replica discards those writes",
          expect="refuted"),
    Claim("7", "Redis if you need data to survive restart", "invariant", variant="single-aof-always",
          invariants=("no-lost-writes", "linearizable"),
          note="one node with AOF fsync on every write, under crashes, restarts and power loss: every acknowledged "
               "write survives", expect="held"),
    Claim("7", "Redis if you need data to survive restart", "invariant", variant="aof-everysec-power-loss",
          invariants=("no-lost-writes",),
          note="the same node with appendfsync everysec: a power loss within the second loses acknowledged writes",
          expect="refuted"),
    Claim("7", "Redis if you need data to survive restart", "invariant", variant="no-persistence-restart",
          invariants=("no-lost-writes",),
          note="without persistence (aof off) a restart comes back empty: data does not survive restart",
          expect="refuted"),
)

SINGLE = {"replicas": 0, "wait": 0}
SINGLE_FAULTS = ("drop", "delay", "crash", "restart", "skew", "lose_unsynced")  # one node: nothing to partition

SPEC = Protocol(
    name="elasticache-redis",
    summary="ElastiCache Redis: a primary and 2 replicas across zones, async replication (WAIT n optional), "
            "sentinel-style failover by epoch and majority, AOF persistence",
    config_class=RedisConfig,
    nodes=lambda cfg: {n: RedisNode for n in cfg.nodes()},
    zones=lambda cfg: cfg.zone_of(),
    client=client,
    workload=workload,
    final_ops=final_ops,
    invariants=INVARIANTS,
    witnesses=(
        Witness.acknowledged("write"),
        Witness.acknowledged("read", "read returned"),
        # a configuration with replicas and failover must have failed over in some run, or its durability verdict
        # was never judged across a failover; one without them has nothing to fail over to
        Witness("failover happened", lambda run: run.note_count("failover") > 0
                or not (run.config.failover and run.config.replicas)),
    ),
    variants=(
        Variant("wait-all-fenced", {"wait": 2},
                "WAIT 2, epochs fence a deposed primary, the most up-to-date reachable replica is promoted, AOF "
                "fsync always", invariants=("no-lost-writes", "convergence")),
        Variant("wait-one-fenced", {"wait": 1},
                "WAIT 1 (fewer than the 2 replicas), fencing, the most up-to-date reachable replica promoted, AOF "
                "fsync always", invariants=("no-lost-writes", "convergence")),
        Variant("single-primary", {"failover": False},
                "no failover: one primary serves reads and writes, replicas only copy (AOF fsync always)",
                invariants=("no-lost-writes", "linearizable")),
        Variant("single-aof-always", SINGLE, "one node, AOF fsync on every write", faults=SINGLE_FAULTS,
                invariants=("no-lost-writes", "linearizable")),
        Variant("async-failover", {"wait": 0},
                "asynchronous replication: the primary acknowledges before any replica has the write; cut off or "
                "crashed before replicating, the failover promotes a replica without it",
                expect_violation="no-lost-writes"),
        Variant("async-failover-partition", {"wait": 0},
                "asynchronous replication under partitions alone: the old primary goes on acknowledging on the "
                "minority side while the majority side fails over, and its writes are discarded when it rejoins",
                expect_violation="no-lost-writes", faults=("partition", "heal")),
        Variant("wait-all-linearizable", {"wait": 2},
                "WAIT 2 held to linearizability: the primary's reads see writes whose WAIT then times out and a "
                "failover drops", expect_violation="linearizable"),
        Variant("no-fencing", {"wait": 1, "fencing": False},
                "failover without epochs on the stream: a deposed primary (cut off, or restarted believing it still "
                "leads) goes on as primary beside the new one, and a replica follows whichever spoke last, so a "
                "write WAIT 1 acknowledged on one primary is wiped by the other's stream: split brain",
                expect_violation="no-lost-writes"),
        Variant("promote-any", {"wait": 1, "pick_most_up_to_date": False},
                "WAIT 1, but the first replica to time out is promoted even when the other one holds more",
                expect_violation="no-lost-writes"),
        Variant("aof-everysec-power-loss", {**SINGLE, "aof": "everysec"},
                "one node, appendfsync everysec: acknowledged before fsync, a power loss drops them", faults=SINGLE_FAULTS,
                expect_violation="no-lost-writes"),
        Variant("aof-no-power-loss", {**SINGLE, "aof": "no"},
                "one node, appendfsync no: the OS never syncs in this model, a power loss drops everything", faults=SINGLE_FAULTS,
                expect_violation="no-lost-writes"),
        Variant("no-persistence-restart", {**SINGLE, "aof": "off"},
                "one node without persistence: a crash and restart comes back empty", faults=SINGLE_FAULTS,
                expect_violation="no-lost-writes"),
    ),
    claims=CLAIMS,
    settle_time=4.0,  # twenty heartbeats: every replica holds the primary's stream
)
