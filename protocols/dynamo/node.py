"""Dynamo: a consistent-hash ring, sloppy quorums (N, R, W) with hinted handoff, and vector clocks or LWW.

Seed section 1 (DynamoDB - The Dynamo Paper). Every node can coordinate a client operation on a key. The key's
preference list is walked on the ring (:mod:`protocols.dynamo.ring`): the first N distinct nodes are its preferred
replicas. A coordinator sends a write to those N; with ``sloppy`` on, each preferred replica that does not answer
within a timeout is replaced by the next node of the extended list, which stores the write as a *hint* for it
(``hinted_write``) and counts toward W; a periodic task hands hints back once the intended replica answers
(``handoff``). With ``sloppy`` off (strict quorum) only the top N count. Reads ask the top N (sloppy: then the
stand-ins) and merge the first R answers. Versioning (:mod:`protocols.dynamo.versions`): with ``vclock`` a write
first reads R replicas and carries the merged clock, so concurrent writes become siblings that a read returns as a
list for the client to reconcile; with ``lww`` a write is stamped with the coordinator's clock ``ctx.now()`` and
the largest stamp wins. Anti-entropy (:mod:`protocols.dynamo.merkle`): every period each pair of replicas compares
Merkle trees over the keys both replicate, top-down over messages, descending only into subtrees whose hashes
differ, then swaps the entries of the differing leaves (``anti_entropy_repair``). Membership
(:mod:`protocols.dynamo.gossip`, on unless ``gossip=false``): each node gossips its view of heartbeats and
incarnations to a random peer every period and believes a node failed when its heartbeat has not advanced for
``FAIL_AFTER`` (``member_failed``, ``member_recovered``); a sloppy coordinator skips preferred replicas it believes
failed, handing their writes to stand-ins at once instead of after a timeout, and tries stand-ins believed up
first. Every replica syncs a write to disk before acknowledging it.

Claims and what the suite finds. Strict quorum with R + W > N and vector clocks holds read-after-write, no lost
acknowledged writes and convergence under drops, duplicates, delays, partitions, crashes, power loss and skew.
Sloppy quorums do not intersect: a write acknowledged by stand-ins on one side of a partition is missed by a read
quorum on the other, so "Sloppy quorum (N=3, W=2, R=2 typical)" does not give read-after-write (refuted, variant
``sloppy-vclock``), though no acknowledged write is lost once hints are handed off. Last-writer-wins silently drops
a later write stamped by a clock that runs behind: ``lww-skew`` loses acknowledged writes. Measured: Merkle
comparison finds one differing key among N with about 2 log2 N hash comparisons (full comparison: N); any one
crashed node is detected by every live node, and gossip spreads a join, a leave or a failure in about log2 N
rounds. Churn (``churn=true``, :mod:`protocols.dynamo.membership`): spares join through a seed member and
the last members leave gracefully during the run, every node routes on the ring of its own view, and ring changes
move keys to their new owners (durable, retried transfers; Merkle anti-entropy over the new ranges). Under every
fault no acknowledged write is lost and replicas converge (``strict-vclock-churn``), and a join or a leave moves
about 1/N of the replica copies in runs (:mod:`protocols.dynamo.measurements`). Read-after-write does not hold under
churn even with strict quorums: views disagree for a few gossip rounds, and a write quorum on the old ring misses a
read quorum on the new one, which includes a joiner that has not received its keys yet (refuted,
``strict-vclock-churn-stale-read``). Not claimed: availability of the coordinator a client picked (a crashed
coordinator, a spare not yet joined or a node that left answers nothing or ``fail``), agreement on membership, and
churn with sloppy quorums (hints for a node that left are not re-targeted; the configuration is rejected).
"""

from __future__ import annotations

import attrs

from faultlab import Fail, Ok, Unknown, every, handler
from faultlab.claims import Claim
from faultlab.protocol import Invariant, Protocol, Variant, Witness
from invariants.durability import check_no_lost_writes
from invariants.session import check_read_after_write
from protocols.dynamo.antientropy import AntiEntropyNode
from protocols.dynamo.config import REPLICA_TIMEOUT, DynamoConfig
from protocols.dynamo.ring import measure_movement
from protocols.dynamo.siblings import check_sibling_convergence, resolve_siblings
from protocols.dynamo.versions import Version, client_value, context_of, merge

KEYS = ("a", "b", "c")    # the workload's keys: few, so that concurrent writes to one key are common
HANDOFF_PERIOD = 2.0      # seconds between attempts to hand hints back to their intended replicas
COUNTER = ("counter",)    # storage key of this node's write counter (the second half of every dot it makes)


# -- messages --------------------------------------------------------------------------------------------------------
@attrs.frozen
class ClientGet:
    key: str


@attrs.frozen
class ClientPut:
    key: str
    value: int


@attrs.frozen
class Get:
    key: str


@attrs.frozen
class GetReply:
    versions: tuple[Version, ...]


@attrs.frozen
class Put:
    key: str
    versions: tuple[Version, ...]
    hint: str | None  # the preferred replica this stand-in holds the write for; None when sent to a preferred one


@attrs.frozen
class PutAck:
    key: str


@attrs.frozen
class Handoff:
    entries: tuple[tuple[str, tuple[Version, ...]], ...]  # (key, versions) hinted for the receiver


@attrs.frozen
class HandoffAck:
    keys: tuple[str, ...]


# -- the node --------------------------------------------------------------------------------------------------------
class DynamoNode(AntiEntropyNode):
    """A storage node: replica for the keys whose preference lists name it, stand-in for others, coordinator.

    It is built in layers, each using only those below it: :class:`protocols.dynamo.replica.ReplicaNode` (what a
    replica stores), :class:`protocols.dynamo.membership.MemberNode` (gossip, the ring of its view, churn) and
    :class:`protocols.dynamo.antientropy.AntiEntropyNode` (Merkle repair); this class answers replica requests,
    hands hints back and coordinates client operations.
    """

    # -- as a replica --------------------------------------------------------------------------------------------
    def _serves(self, src: str, key: str) -> bool:
        """Whether this replica answers for ``key``: with churn, only for keys it owns in its own view (the
        coordinator's view may be stale), so no write is acknowledged by a node that handed the key on."""
        if self._owns(key):
            return True
        self.ctx.note("stale_route_refused", key=key, coordinator=src)
        return False

    @handler
    def on_put(self, msg: Put, src: str) -> PutAck | None:
        if msg.hint is None and not self._serves(src, msg.key):
            return None
        self._store(msg.key, msg.versions, msg.hint)
        return PutAck(msg.key)

    @handler
    def on_get(self, msg: Get, src: str) -> GetReply | None:
        return GetReply(self._served(msg.key)) if self._serves(src, msg.key) else None

    @handler
    def on_handoff(self, msg: Handoff) -> HandoffAck:
        for key, versions in msg.entries:
            self._store(key, versions, None)
        return HandoffAck(tuple(k for k, _ in msg.entries))

    # -- hinted handoff --------------------------------------------------------------------------------------------
    @every(HANDOFF_PERIOD)
    async def hand_off_hints(self) -> None:
        by_intended: dict[str, list[tuple[str, tuple[Version, ...]]]] = {}
        for intended, key, versions in self._hints():
            by_intended.setdefault(intended, []).append((key, versions))
        for intended, entries in sorted(by_intended.items()):
            if await self.ctx.call(intended, Handoff(tuple(entries)), timeout=REPLICA_TIMEOUT) is None:
                continue  # still unreachable: keep the hints and try again next period
            for key, delivered in entries:
                slot = ("hint", intended, key)
                self.storage[slot] = tuple(v for v in self.storage.get(slot, ()) if v not in delivered)
            self.storage.sync()
            self.ctx.note("handoff", to=intended, keys=[k for k, _ in entries])

    # -- coordination --------------------------------------------------------------------------------------------
    @handler
    async def on_client_put(self, msg: ClientPut) -> Ok | Fail | Unknown | None:
        if not self.active:
            return Fail("not a ring member: it coordinates nothing")
        # A duplicated request must not run twice: re-run later, it would read the newer writes and supersede them
        # with this old value. Written values are unique, so (key, value) names the request.
        request = ("coordinated", msg.key, msg.value)
        if request in self.storage:
            return None
        self.storage[request] = True
        self.storage.sync()
        context: tuple = ()
        if self.config.conflict == "vclock":
            seen = await self._fetch(msg.key)
            if seen is None:
                return Fail("no read quorum")  # nothing was sent to any replica yet
            context = context_of(seen)
        counter = self.storage.get(COUNTER, 0) + 1
        self.storage[COUNTER] = counter
        self.storage.sync()  # a dot is never reused, even across a crash
        version = Version((self.id, counter), context, msg.value, self.ctx.now())
        if await self._replicate(msg.key, version) >= self.config.w:
            return Ok([msg.key, msg.value])
        return Unknown("fewer than W acknowledgements: the write may be on some replicas")

    @handler
    async def on_client_get(self, msg: ClientGet) -> Ok | Fail:
        if not self.active:
            return Fail("not a ring member: it coordinates nothing")
        seen = await self._fetch(msg.key)
        if seen is None:
            return Fail("no read quorum")
        return Ok([msg.key, client_value(seen)])

    def _extended(self, key: str) -> tuple[list[str], list[str], list[str]]:
        """The key's preferred replicas split into (believed up, believed failed), and its stand-ins in the order a
        sloppy coordinator tries them: the ones believed up first, then the rest as a last resort."""
        walk, down = self.walk(key), self._believed_failed() - {self.id}
        preferred = walk[: self.config.n]
        stand_ins = walk[self.config.n:]
        return ([p for p in preferred if p not in down], [p for p in preferred if p in down],
                [s for s in stand_ins if s not in down] + [s for s in stand_ins if s in down])

    async def _fetch(self, key: str) -> tuple[Version, ...] | None:
        """Merge the answers of R replicas (sloppy: stand-ins fill in for silent preferred ones); None if fewer."""
        walk, cfg = self.walk(key), self.config
        up, _, stand_ins = self._extended(key) if cfg.sloppy else (list(walk[: cfg.n]), [], [])
        replies = await self.ctx.gather(up, Get(key), need=cfg.r, timeout=REPLICA_TIMEOUT)
        if len(replies) < cfg.r and cfg.sloppy and stand_ins:
            more = await self.ctx.gather(stand_ins, Get(key), need=cfg.r - len(replies), timeout=REPLICA_TIMEOUT)
            replies.update(more)
        if len(replies) < cfg.r:
            return None
        return merge(cfg.conflict, [v for reply in replies.values() for v in reply.versions])

    async def _replicate(self, key: str, version: Version) -> int:
        """Send the write to the N preferred replicas (sloppy: stand-ins for silent ones); returns the acks."""
        walk, cfg = self.walk(key), self.config
        if not cfg.sloppy:
            acks = await self.ctx.gather(walk[: cfg.n], Put(key, (version,), None), need=cfg.w,
                                         timeout=REPLICA_TIMEOUT)
            return len(acks)
        up, down, stand_ins = self._extended(key)
        acks = await self.ctx.gather(up, Put(key, (version,), None), need=len(up), timeout=REPLICA_TIMEOUT)
        missing = down + [p for p in up if p not in acks]  # believed failed: a stand-in holds the write at once
        total = len(acks)
        while missing and stand_ins:
            batch = dict(zip(stand_ins, missing, strict=False))  # stand-in -> the preferred replica it holds for
            del stand_ins[: len(batch)]
            got = await self.ctx.gather({s: Put(key, (version,), intended) for s, intended in batch.items()},
                                        need=len(batch), timeout=REPLICA_TIMEOUT)
            total += len(got)
            missing = [intended for s, intended in batch.items() if s not in got]
        return total


# -- client and workload -----------------------------------------------------------------------------------------
def request(f: str, value) -> ClientPut | ClientGet:
    key, v = value
    return ClientPut(key, v) if f == "write" else ClientGet(key)


def workload(choices, op_index: int) -> tuple[str, object]:
    """Writes of unique values (op_index + 1) and reads of a few keys; choice 0 is a write to the first key."""
    key = KEYS[choices.choose(len(KEYS))]
    return ("write", [key, op_index + 1]) if choices.choose(2) == 0 else ("read", [key, None])


def final_reads(config: DynamoConfig) -> list[tuple[str, object, str]]:
    """After recovery: every key read through two coordinators (the first and last node), so that convergence
    compares two merges of replica answers; more would only slow every run and every shrink step down."""
    ids = config.node_ids()
    return [("read", [key, None], node) for key in KEYS for node in dict.fromkeys((ids[0], ids[-1]))]


# -- spec ------------------------------------------------------------------------------------------------------------
def _read_after_write(history, config):
    return check_read_after_write(resolve_siblings(history), keyed=True)


def _no_lost_writes(history, config):
    return check_no_lost_writes(resolve_siblings(history), keyed=True)


def _convergence(history, config):
    return check_sibling_convergence(history)


def _measure_availability(seed: int):
    from protocols.dynamo.measurements import measure_availability

    return measure_availability(seed)


def _measure_churn_movement(seed: int):
    from protocols.dynamo.measurements import measure_churn_movement

    return measure_churn_movement(seed)


def _measure_merkle(seed: int):
    from protocols.dynamo.merkle import measure_comparisons

    return measure_comparisons(seed)


def _measure_detection(seed: int):
    from protocols.dynamo.gossip import measure_detection_everywhere

    return measure_detection_everywhere(seed)


def _measure_gossip(seed: int):
    from protocols.dynamo.gossip import measure_gossip_rounds

    return measure_gossip_rounds(seed)


SECTION = "1"
SLOPPY_TEXT = "Sloppy quorum (N=3, W=2, R=2 typical)"

SPEC = Protocol(
    name="dynamo",
    summary="Dynamo: consistent-hash ring with virtual nodes, sloppy quorum with hinted handoff, vector clocks or LWW",
    config_class=DynamoConfig,
    nodes=lambda cfg: {n: DynamoNode for n in cfg.node_ids()},
    request=request,
    workload=workload,
    final_ops=final_reads,
    invariants=(
        Invariant("read-after-write", _read_after_write,
                  "a read that starts after a write to its key was acknowledged returns it or newer (a sibling set "
                  "satisfies it when one sibling is the write or newer)"),
        Invariant("no-lost-writes", _no_lost_writes,
                  "after healing, recovery and handoff every acknowledged write is still read, as a value or a "
                  "sibling, or was superseded"),
        Invariant("convergence", _convergence,
                  "after healing and recovery every node's final read of a key returns the same sibling set"),
    ),
    witnesses=(
        Witness("write acknowledged", lambda run: run.ok_ops("write") > 0),
        Witness("read returned", lambda run: run.ok_ops("read") > 0),
        Witness("hinted write stored", lambda run: not run.config.sloppy or run.note_count("hinted_write") > 0,
                "sloppy only: a stand-in stored a write for an unreachable preferred replica"),
        Witness("hint handed off", lambda run: not run.config.sloppy or run.note_count("handoff") > 0,
                "sloppy only: a stand-in delivered a hint back to its intended replica"),
        Witness("anti-entropy repaired a replica", lambda run: run.note_count("anti_entropy_repair") > 0,
                "a Merkle comparison found a differing leaf and the exchange changed a replica"),
        Witness("node joined", lambda run: not run.config.churn or run.note_count("member_joined") > 0,
                "churn only: a spare joined the ring through a seed member"),
        Witness("node left", lambda run: not run.config.churn or run.note_count("member_left") > 0,
                "churn only: a member handed its keys off and left the ring"),
        Witness("keys transferred", lambda run: not run.config.churn or run.note_count("key_transfer") > 0,
                "churn only: a ring change moved keys to their new owners"),
        Witness("siblings created", lambda run: run.config.conflict != "vclock" or run.note_count("siblings") > 0,
                "vclock only: concurrent writes were kept side by side on a replica"),
    ),
    variants=(
        Variant("strict-vclock", {"sloppy": False, "conflict": "vclock"},
                "strict quorum N=3, R=2, W=2 over the top-3 of 5 nodes, vector clocks"),
        Variant("sloppy-vclock", {"sloppy": True, "conflict": "vclock"},
                "sloppy quorum N=3, R=2, W=2 with hinted handoff: stand-ins on one side of a partition acknowledge "
                "a write a read quorum on the other side misses", expect_violation="read-after-write",
                faults=("partition",)),
        Variant("lww-skew", {"sloppy": False, "conflict": "lww"},
                "last-writer-wins on coordinator clocks: a later write stamped by a clock that runs behind is "
                "silently dropped", expect_violation="no-lost-writes", faults=("skew", "delay")),
        Variant("strict-vclock-churn", {"sloppy": False, "conflict": "vclock", "churn": True},
                "strict quorum N=3, R=2, W=2, vector clocks, while a spare joins 5 members and one member leaves: "
                "no acknowledged write is lost and replicas converge (read-after-write is not promised: see "
                "strict-vclock-churn-stale-read)", invariants=("no-lost-writes", "convergence")),
        Variant("strict-vclock-churn-stale-read", {"sloppy": False, "conflict": "vclock", "churn": True,
                                                   "spares": 2},
                "strict quorums taken on two different rings do not intersect: while views disagree after a "
                "join, a write acknowledged by the old owners is missed by a read of the new ones (the joiner "
                "answers before its keys reach it)", expect_violation="read-after-write",
                faults=("partition", "delay")),
    ),
    claims=(
        Claim(SECTION, "Adding/removing nodes only moves ~1/N of data", "measure", measure=measure_movement,
              note="pure computation on this module's ring (64 virtual nodes, 20,000 keys): fraction of keys whose "
                   "owner changes when a node joins or leaves, times N; 1.0 means exactly 1/N"),
        Claim(SECTION, "Adding/removing nodes only moves ~1/N of data", "measure", measure=_measure_churn_movement,
              expect="measured",
              note="row 'Consistent hashing (virtual nodes)', in runs: seeded fault-free runs with churn=true (a "
                   "spare joins 5 members; one of 5 leaves), 40 keys written; replica copies actually transferred "
                   "to a node that gained the key, over keys x N present when the ring changed, times the ring "
                   "size; 1.0 means exactly 1/N"),
        Claim(SECTION, "Sloppy quorum allows writes even when some replicas are temporarily down", "measure",
              measure=_measure_availability,
              note="seeded simulation runs with crash faults: fraction of writes acknowledged, bucketed by how many "
                   "of the key's preferred replicas were down when the write began, sloppy vs strict"),
        Claim(SECTION, SLOPPY_TEXT, "invariant", variant="sloppy-vclock", invariants=("read-after-write",),
              note="read as 'R + W > N, so reads see acknowledged writes' for the sloppy quorum the row names; "
                   "expected refuted: stand-ins outside the top N do not intersect a read quorum"),
        Claim(SECTION, SLOPPY_TEXT, "invariant", variant="strict-vclock", invariants=("read-after-write",),
              note="the same sentence for a strict quorum (sloppy=false): expected held"),
        Claim(SECTION, SLOPPY_TEXT, "invariant", variant="strict-vclock-churn-stale-read",
              invariants=("read-after-write",), expect="refuted",
              note="the same sentence for a strict quorum while nodes join and leave: expected refuted, because a "
                   "coordinator routes on its own view and views disagree for a few gossip rounds after a change"),
        Claim(SECTION, "Vector clocks allow concurrent writes without coordination", "invariant",
              variant="sloppy-vclock", invariants=("no-lost-writes", "convergence"),
              note="concurrent writes are kept as siblings or superseded by a write that saw them, so none is lost, "
                   "even through sloppy quorums and partitions"),
        Claim(SECTION, "last-writer-wins for simplicity", "invariant", variant="lww-skew",
              invariants=("no-lost-writes",),
              note="under clock skew a later write with a lower timestamp is dropped: expected refuted"),
        Claim(SECTION, "Merkle trees identify differences with O(log N) comparisons", "measure",
              measure=_measure_merkle,
              note="pure computation on the Merkle code the anti-entropy runs (dynamo_merkle): hashes compared to "
                   "find 1 (and 8) differing keys among N = 2^6..2^14, tree depth log2 N; figure = comparisons / "
                   "log2 N for one key, flat if O(log N); full data comparison is N"),
        Claim(SECTION, "Merkle trees for replica synchronization", "invariant", variant="strict-vclock",
              invariants=("convergence", "no-lost-writes"),
              note="with Merkle anti-entropy the final reads of every key agree after healing; the exploration is "
                   "vacuous unless some run repaired a replica through it (witness)"),
        Claim(SECTION, "Decentralized — no single point of failure", "measure", measure=_measure_detection,
              note="row 'Failure detection', 'Why' column; seeded round-based runs of the gossip code the nodes "
                   "run (dynamo_gossip): crash each of 8 nodes in turn, the first contact of joiners included; "
                   "figure = fraction of (crashed, live observer) pairs where the observer marked it failed"),
        Claim(SECTION, "Gossip protocol", "measure", measure=_measure_gossip,
              note="seeded round-based runs of the same gossip code for N = 4..64: rounds until every node knows "
                   "of a join, a leave and (beyond the timeout) a crash; figure = join rounds / log2 N"),
    ),
)
