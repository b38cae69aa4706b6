"""A quorum-replicated register, Dynamo-style strict quorum (N, R, W) with versioned values.

Seed section 1 (DynamoDB - The Dynamo Paper): "Sloppy quorum (N=3, W=2, R=2 typical) with hinted handoff". This
module is the *strict* quorum underneath that sentence: every node holds a replica of one register and can
coordinate a client operation. A write first asks R replicas for the highest version, then stores
``(version + 1, coordinator, incarnation, sequence)`` (unique per write, so two concurrent writes never tie) on all N and succeeds once W acknowledge. A read asks all N, takes the highest version
among the first R replies and, with ``read_repair``, writes it back to W replicas before answering (ABD-style), so
that a later read cannot see an older value than an earlier one.

Claims. With R + W > N, every read quorum meets every write quorum (proved by z3 from the same configuration), so a
read that starts after a write was acknowledged returns it or newer, and the register is linearizable with read
repair; with writes synced before they are acknowledged, no acknowledged write is lost to crashes, power loss
(``lose_unsynced``), partitions, message loss, duplication, reordering or clock skew (versions never read clocks).
What it does not claim: availability. With fewer than R (W) replicas reachable an operation fails or times out.

Known-bad variants the suite must refute: ``stale-read`` (R=1, W=1: R + W <= N), ``ack-before-sync`` (a replica
acknowledges before fsync; a power loss then loses an acknowledged write) and ``no-read-repair`` (a read that sees
a partially written value does not write it back, so a later read can see the older value: not linearizable).
"""

from __future__ import annotations

import attrs

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
from invariants.durability import check_no_lost_writes
from invariants.linearizability import RUN_SEARCH_STEPS, check_linearizable
from invariants.session import check_read_after_write
from models.quorum import QuorumSystem, placement, prove_all

REPLICA_TIMEOUT = 1.0  # how long a coordinator waits for a quorum of replicas
REGISTER = "register"  # the storage key of the replica's (version, value)
Version = tuple  # (counter, coordinator, incarnation, sequence): ordered, and unique per write


# -- messages --------------------------------------------------------------------------------------------------------
@attrs.frozen
class ClientRead:
    pass


@attrs.frozen
class ClientWrite:
    value: int


@attrs.frozen
class GetVersion:
    pass


@attrs.frozen
class VersionReply:
    version: Version
    value: int | None


@attrs.frozen
class Put:
    version: Version
    value: int | None


@attrs.frozen
class PutAck:
    version: Version


# -- configuration ---------------------------------------------------------------------------------------------------
@attrs.frozen
class QuorumRegisterConfig:
    n: int = attrs.field(default=3, metadata={"help": "number of replicas"})
    r: int = attrs.field(default=2, metadata={"help": "read quorum: replies a read waits for"})
    w: int = attrs.field(default=2, metadata={"help": "write quorum: acknowledgements a write waits for"})
    read_repair: bool = attrs.field(default=True, metadata={"help": "a read writes the value it returns back to W "
                                                                    "replicas before answering"})
    ack_before_sync: bool = attrs.field(default=False, metadata={"help": "a replica acknowledges a write before it is "
                                                                         "synced to durable storage"})
    sync_interval: float = attrs.field(default=2.0, metadata={"help": "with ack_before_sync, seconds between fsyncs"})
    zones: int = attrs.field(default=3, metadata={"help": "availability zones the replicas are spread over"})

    def __attrs_post_init__(self) -> None:
        if not 1 <= self.n <= 9:
            raise ConfigError(f"quorum-register: n={self.n} must be between 1 and 9")
        for name in ("r", "w"):
            if not 1 <= getattr(self, name) <= self.n:
                raise ConfigError(f"quorum-register: {name}={getattr(self, name)} must be between 1 and n={self.n}")
        if not 1 <= self.zones <= self.n:
            raise ConfigError(f"quorum-register: zones={self.zones} must be between 1 and n={self.n}")
        if self.sync_interval <= 0:
            raise ConfigError("quorum-register: sync_interval must be > 0")

    def replicas(self) -> tuple[str, ...]:
        return tuple(f"n{i + 1}" for i in range(self.n))

    def zone_of(self) -> dict[str, str]:
        _, zone_of = placement(self.n, self.zones)
        return {f"n{i + 1}": zone_of[f"r{i + 1}"] for i in range(self.n)}

    def quorum_system(self) -> QuorumSystem:
        return QuorumSystem(self.replicas(), self.r, self.w, self.zone_of())


# -- the node --------------------------------------------------------------------------------------------------------
INITIAL = ((0, "", 0, 0), None)


class Replica(Node[QuorumRegisterConfig]):
    """A replica of the register that also coordinates client operations."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.writes = 0  # per-incarnation sequence number, part of every version this node assigns

    def start(self) -> None:
        if self.config.ack_before_sync:
            self.ctx.every(self.config.sync_interval, self.storage.sync)

    # -- as a replica --------------------------------------------------------------------------------------------
    @handler
    def on_get_version(self, msg: GetVersion) -> VersionReply:
        version, value = self.storage.get(REGISTER, INITIAL)
        return VersionReply(version, value)

    @handler
    def on_put(self, msg: Put) -> PutAck:
        current, _ = self.storage.get(REGISTER, INITIAL)
        if tuple(msg.version) > tuple(current):
            self.storage[REGISTER] = (tuple(msg.version), msg.value)
            if not self.config.ack_before_sync:
                self.storage.sync()
        return PutAck(msg.version)

    # -- as a coordinator ----------------------------------------------------------------------------------------
    @handler
    async def on_write(self, msg: ClientWrite) -> Ok | Fail | Unknown:
        latest = await self._query()
        if latest is None:
            return Fail("no read quorum")  # nothing was sent to any replica yet
        (counter, *_), _ = latest
        self.writes += 1
        if await self._put((counter + 1, self.id, self.ctx.incarnation, self.writes), msg.value):
            return Ok(msg.value)
        return Unknown("fewer than W acknowledgements: the write may still be on some replicas")

    @handler
    async def on_read(self, msg: ClientRead) -> Ok | Fail:
        latest = await self._query()
        if latest is None:
            return Fail("no read quorum")
        version, value = latest
        if self.config.read_repair and not await self._put(version, value):
            return Fail("write-back incomplete")  # a read has no effect of its own; write-back may be partial
        return Ok(value)

    def _replicas(self) -> list[str]:
        # Which replicas answer first varies with network latency; the rotation (an environment choice, 0 = in
        # order) stands in for that, so read quorums differ from one operation to the next even without faults.
        replicas = list(self.config.replicas())
        k = self.ctx.choose(len(replicas))
        return replicas[k:] + replicas[:k]

    async def _query(self) -> tuple[Version, int | None] | None:
        replies = await self.ctx.gather(self._replicas(), GetVersion(), need=self.config.r, timeout=REPLICA_TIMEOUT)
        if len(replies) < self.config.r:
            return None
        best = max(replies.values(), key=lambda rep: tuple(rep.version))
        return tuple(best.version), best.value

    async def _put(self, version: Version, value: int | None) -> bool:
        acks = await self.ctx.gather(self._replicas(), Put(version, value), need=self.config.w,
                                     timeout=REPLICA_TIMEOUT)
        return len(acks) >= self.config.w


# -- workload ----------------------------------------------------------------------------------------------------
def request(f: str, value: int | None) -> ClientWrite | ClientRead:
    return ClientWrite(value) if f == "write" else ClientRead()


def workload(choices, op_index: int) -> tuple[str, object]:
    """Writes of unique values (op_index + 1) and reads, half and half; choice 0 is a write."""
    return ("write", op_index + 1) if choices.choose(2) == 0 else ("read", None)


def final_reads(config: QuorumRegisterConfig) -> list[tuple[str, object, str]]:
    return [("read", None, node) for node in config.replicas()]


# -- spec ------------------------------------------------------------------------------------------------------------
def _linearizable(history):
    return check_linearizable(history, "register", max_steps=RUN_SEARCH_STEPS)


SPEC = Protocol(
    name="quorum-register",
    summary="Dynamo-style strict quorum register: N replicas, R/W quorums, versioned values, optional read repair",
    config_class=QuorumRegisterConfig,
    nodes=lambda cfg: {n: Replica for n in cfg.replicas()},
    zones=lambda cfg: cfg.zone_of(),
    request=request,
    workload=workload,
    final_ops=final_reads,
    quorum_system=lambda cfg: cfg.quorum_system(),
    invariants=(
        Invariant("read-after-write", check_read_after_write,
                  "a read that starts after a write was acknowledged returns it or newer"),
        Invariant("no-lost-writes", check_no_lost_writes,
                  "after healing and recovery every acknowledged write is still readable or was superseded"),
        Invariant("linearizable", _linearizable, "the register history is linearizable"),
    ),
    witnesses=(Witness.acknowledged("write"), Witness.acknowledged("read", "read returned")),
    claims=(
        Claim("1", "Sloppy quorum (N=3, W=2, R=2 typical)", "z3", variant="strict-quorum",
              prove=lambda cfg: prove_all(cfg.quorum_system(), [(1, 0, "read"), (1, 0, "write")]),
              note="the strict quorum underneath: with N=3, W=2, R=2 over 3 zones every read quorum meets every "
                   "write quorum and a zone can be lost", expect="proved"),
        Claim("1", "Sloppy quorum (N=3, W=2, R=2 typical)", "invariant", variant="strict-quorum",
              invariants=("read-after-write", "no-lost-writes", "linearizable"),
              note="as a strict quorum with synced writes and read repair, under every fault kind", expect="held"),
    ),
    variants=(
        Variant("strict-quorum", {"n": 3, "r": 2, "w": 2}, "N=3, R=2, W=2, synced writes, read repair"),
        Variant("strict-quorum-datagram", {"n": 3, "r": 2, "w": 2},
                "the same over datagram links: replica messages may also be duplicated and reordered (versions make "
                "a repeated or late Put harmless)", links="datagram"),
        Variant("stale-read", {"n": 3, "r": 1, "w": 1}, "R + W <= N: a read quorum can miss the last write",
                expect_violation="read-after-write"),
        Variant("ack-before-sync", {"ack_before_sync": True},
                "replicas acknowledge before fsync; a power loss can lose an acknowledged write",
                expect_violation="no-lost-writes"),
        Variant("no-read-repair", {"read_repair": False},
                "reads do not write back what they saw: a new-then-old read pair is possible",
                expect_violation="linearizable"),
    ),
)
