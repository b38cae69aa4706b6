"""DynamoDB Global Tables: every region accepts writes and replicates them to the others through its stream,
conflicts resolved by last-writer-wins on the writing region's clock.

Seed sections 20 (Multi-Region Active-Active: "go active-active with DynamoDB Global Tables — both regions serve
reads and writes, with last-writer-wins conflict resolution") and 1 ("Added Global Tables → multi-region
active-active replication"; "Removed vector clocks → replaced with last-writer-wins").

Each region node keeps its items as ``(value, timestamp, region)`` and a stream of its local writes. A client write
is stamped with the region's clock (``ctx.now()``, which a ``skew`` fault moves), applied locally if it is newer
than what the region holds, appended to the stream, synced, and acknowledged: the client never waits for another
region. A replicator ships the stream after the peer's acknowledged position, retrying until acknowledged; the peer
applies each write only if its ``(timestamp, region)`` is greater than the item's, so every region orders writes the
same way and, once replication catches up, the regions converge.

Claimed and checked: convergence of the final reads after healing (under partitions, loss, duplication, delay,
crashes and power loss). Not given, and refuted: "acknowledged means kept". LWW keeps the write with the larger
region timestamp, so with region clocks apart (a ``skew`` fault) an acknowledged write made later in real time
loses to an older one from the region whose clock runs ahead, silently: no client is told.
"""

from __future__ import annotations

import attrs
import trio

from faultlab import Claim, ConfigError, Invariant, Node, Ok, Protocol, Variant, Witness, handler
from invariants.convergence import check_convergence
from invariants.durability import check_no_lost_writes

KEYS = ("k1", "k2")
SHIP_INTERVAL = 0.5    # seconds between replication rounds
SHIP_TIMEOUT = 1.0     # how long a replicator waits for the peer's acknowledgement
REGIONAL_COMMIT = 0.01  # a region's own multi-AZ write latency before it acknowledges (virtual seconds)
# Fault kinds without clock skew: the configuration under which LWW keeps every acknowledged write.
FAULTS_WITHOUT_SKEW = ("drop", "duplicate", "delay", "partition", "crash", "lose_unsynced")


# -- messages --------------------------------------------------------------------------------------------------------
@attrs.frozen
class ClientWrite:
    key: str
    value: int


@attrs.frozen
class ClientRead:
    key: str


@attrs.frozen
class Replicate:
    """A batch of the sender's stream: ``(position, key, value, timestamp, region)`` tuples, in stream order."""

    source: str
    entries: tuple


@attrs.frozen
class ReplicateAck:
    position: int


# -- configuration ---------------------------------------------------------------------------------------------------
@attrs.frozen
class GlobalTablesConfig:
    regions: int = attrs.field(default=2, metadata={"help": "regions, each a replica that accepts writes"})
    batch: int = attrs.field(default=4, metadata={"help": "stream entries per replication message"})

    def __attrs_post_init__(self) -> None:
        if not 2 <= self.regions <= 4:
            raise ConfigError(f"global-tables: regions={self.regions} must be between 2 and 4")
        if not 1 <= self.batch <= 1000:
            raise ConfigError(f"global-tables: batch={self.batch} must be between 1 and 1000")

    def names(self) -> tuple[str, ...]:
        return ("us-east-1", "eu-west-1", "ap-south-1", "sa-east-1")[: self.regions]


# -- the node --------------------------------------------------------------------------------------------------------
class Region(Node[GlobalTablesConfig]):
    """One region's table replica, its stream of local writes, and a replicator to each other region."""

    def start(self) -> None:
        for peer in self.ctx.peers:
            self.ctx.spawn(self._replicator, peer)

    @handler
    async def on_write(self, msg: ClientWrite) -> Ok:
        """Stamp with this region's clock, apply, append to the stream, sync, then acknowledge after the regional
        commit latency (which is also what makes real time pass between one client's operations)."""
        st = self.storage
        if (msg.key, msg.value) in st.get("written", ()):
            # A duplicated request (values are unique, standing in for a client request token): re-stamping it
            # would let an old write overwrite newer ones (found by exploring: a delayed duplicate, seed 17).
            return Ok([msg.key, msg.value])
        st["written"] = st.get("written", ()) + ((msg.key, msg.value),)
        stamp = (self.ctx.now(), self.id)
        position = st.get("position", 0) + 1
        st["stream"] = st.get("stream", ()) + ((position, msg.key, msg.value, *stamp),)
        st["position"] = position
        self._apply(msg.key, msg.value, stamp)
        st.sync()
        await trio.sleep(REGIONAL_COMMIT)
        return Ok([msg.key, msg.value])

    @handler
    def on_read(self, msg: ClientRead) -> Ok:
        value, *_ = self.storage.get(("item", msg.key), (None, float("-inf"), ""))
        return Ok([msg.key, value])

    @handler
    def on_replicate(self, msg: Replicate) -> ReplicateAck:
        st = self.storage
        applied = st.get(("applied", msg.source), 0)
        for position, key, value, ts, region in msg.entries:
            if position == applied + 1:  # in stream order, each entry once
                self._apply(key, value, (ts, region))
                applied = position
        st[("applied", msg.source)] = applied
        st.sync()
        self.ctx.note("replicated", source=msg.source, position=applied)
        return ReplicateAck(applied)

    def _apply(self, key: str, value: int, stamp: tuple[float, str]) -> None:
        st = self.storage
        current = st.get(("item", key), (None, float("-inf"), ""))
        if stamp > (current[1], current[2]):
            if current[0] is not None:
                self.ctx.note("lww_overwrite", key=key, kept=value, dropped=current[0])
            st[("item", key)] = (value, *stamp)
        else:
            self.ctx.note("lww_discard", key=key, kept=current[0], dropped=value)

    async def _replicator(self, peer: str) -> None:
        """Ship the stream to ``peer`` from what it acknowledged; the acknowledged position is durable. Not
        @every: while the peer acknowledges, the next batch goes at once; it waits a round only when idle or
        unanswered."""
        st = self.storage
        while True:
            shipped = st.get(("shipped", peer), 0)
            pending = tuple(e for e in st.get("stream", ()) if e[0] > shipped)[: self.config.batch]
            if pending:
                ack = await self.ctx.call(peer, Replicate(self.id, pending), SHIP_TIMEOUT)
                if ack is not None and ack.position > shipped:
                    st[("shipped", peer)] = ack.position
                    st.sync()
                    continue
            await trio.sleep(SHIP_INTERVAL)


# -- workload --------------------------------------------------------------------------------------------------------
def request(f: str, value) -> ClientWrite | ClientRead:
    return ClientWrite(value[0], value[1]) if f == "write" else ClientRead(value)


def workload(choices, op_index: int) -> tuple[str, object]:
    """Writes of unique values to two keys, and reads; choice 0 is a write to k1 (in the region the engine picks)."""
    key = KEYS[choices.choose(len(KEYS))]
    return ("write", [key, op_index + 1]) if choices.choose(3) < 2 else ("read", key)


def final_ops(config: GlobalTablesConfig) -> list[tuple[str, object, str]]:
    return [("read", key, region) for key in KEYS for region in config.names()]


# -- spec ------------------------------------------------------------------------------------------------------------
CLAIMS = (
    Claim("20", "go active-active with DynamoDB Global Tables — both regions serve reads and writes, with "
                "last-writer-wins conflict resolution", "invariant", variant="lww-synced-clocks",
          invariants=("convergence",),
          note="after healing and settling, every region's final read of each key returns the same value; explored "
               "without clock skew in the test and with it below: convergence holds either way", expect="held"),
    Claim("1", "**Removed vector clocks** → replaced with last-writer-wins (simpler for most applications)",
          "invariant", variant="lww-skewed-clocks", invariants=("no-lost-writes",),
          note="refuted: with the regions' clocks apart, a write acknowledged later in real time loses to an older "
               "one from the region whose clock runs ahead, and no client is told", expect="refuted"),
)

SPEC = Protocol(
    name="global-tables",
    summary="DynamoDB Global Tables: regions accept writes, replicate through their streams, last-writer-wins on "
            "region clocks",
    config_class=GlobalTablesConfig,
    nodes=lambda cfg: {r: Region for r in cfg.names()},
    zones=lambda cfg: {r: r for r in cfg.names()},
    request=request,
    workload=workload,
    final_ops=final_ops,
    invariants=(
        Invariant("convergence", lambda h: check_convergence(h, keyed=True),
                  "after healing and settling every region returns the same value for each key"),
        Invariant("no-lost-writes", lambda h: check_no_lost_writes(h, keyed=True),
                  "the final value of each key is the latest acknowledged write or one concurrent with it"),
    ),
    witnesses=(
        Witness.acknowledged("write"),
        Witness.noted("replicated", "replication happened"),
        Witness("conflict resolved by LWW", lambda run: run.note_count("lww_overwrite") > 0
                or run.note_count("lww_discard") > 0),
    ),
    variants=(
        Variant("lww-synced-clocks", {}, "LWW with the regions' clocks in step (no skew fault)",
                faults=FAULTS_WITHOUT_SKEW),
        Variant("lww-skewed-clocks", {}, "LWW while a region's clock is moved: a later acknowledged write is lost",
                expect_violation="no-lost-writes", faults=("skew",)),
    ),
    claims=CLAIMS,
)
