"""The controller (a fixed node, as a KRaft controller quorum of one): broker liveness, the ISR of each partition,
leader elections with epochs; and on the same node the group coordinator (members, generations, assignments,
committed offsets) and the transaction coordinator with the output topic.

The output topic lives on the coordinator's durable storage rather than on replicated brokers: a simplification
that keeps a transaction one atomic step (outputs and offset commit together, or neither), which is what Kafka's
two-phase commit with transaction markers and ``read_committed`` consumers gives."""

from __future__ import annotations

from faultlab import Node, Ok, handler

from .config import BROKERS, PARTITIONS, KafkaConfig
from .messages import (
    AlterIsr,
    AppendOutputs,
    Assignment,
    Audit,
    BrokerHeartbeat,
    ClusterState,
    CommitOffset,
    Committed,
    GroupHeartbeat,
    JoinGroup,
    Offset,
    OffsetFetch,
    PartitionState,
    TxnCommit,
)


class Controller(Node[KafkaConfig]):
    def __init__(self, ctx):
        super().__init__(ctx)
        now = self.ctx.now()
        self.seen = {b: now for b in BROKERS}  # a new incarnation gives every broker a full session
        self.dead: set[str] = set()
        self.member_seen: dict[tuple[str, str], float] = {}

    def start(self) -> None:
        st = self.storage
        if ("part", 0) not in st:
            # Creation: partition p led by the p-th broker, epoch 1, every replica in sync.
            for p in PARTITIONS:
                st[("part", p)] = (BROKERS[p % len(BROKERS)], 1, 1, BROKERS)
            st.sync()
        self.ctx.every(self.config.heartbeat, self._tick)

    # -- partition metadata ----------------------------------------------------------------------------------------
    def _state(self, p: int) -> PartitionState:
        leader, epoch, version, isr = self.storage[("part", p)]
        return PartitionState(p, leader, epoch, version, tuple(isr))

    def _cluster(self) -> ClusterState:
        return ClusterState(tuple(self._state(p) for p in PARTITIONS))

    def _put(self, s: PartitionState) -> None:
        self.storage[("part", s.partition)] = (s.leader, s.epoch, s.version, s.isr)
        self.storage.sync()

    def _elect(self, s: PartitionState, why: str) -> None:
        live = [b for b in s.isr if b not in self.dead]
        isr = s.isr
        if live:
            leader = live[self.ctx.random.randrange(len(live))]
            unclean = False
        elif self.config.unclean_election and (others := [b for b in BROKERS if b not in self.dead]):
            leader, unclean = others[self.ctx.random.randrange(len(others))], True
            isr = (leader,)
        else:
            leader, unclean = None, False
        self._put(PartitionState(s.partition, leader, s.epoch + 1, s.version + 1, isr))
        self.ctx.note("unclean_election" if unclean else ("failover" if leader else "offline"),
                      partition=s.partition, leader=leader, epoch=s.epoch + 1, why=why)

    def _tick(self) -> None:
        now = self.ctx.now()
        for b in BROKERS:
            if b not in self.dead and now - self.seen[b] > self.config.session_timeout:
                self.dead.add(b)
                self.ctx.note("broker_fenced", broker=b)
                for p in PARTITIONS:
                    s = self._state(p)
                    if s.leader == b:
                        self._elect(PartitionState(p, s.leader, s.epoch, s.version,
                                                   tuple(x for x in s.isr if x != b) or s.isr), f"{b} fenced")
                    elif b in s.isr and len(s.isr) > 1:
                        self._put(PartitionState(p, s.leader, s.epoch, s.version + 1,
                                                 tuple(x for x in s.isr if x != b)))
        self._expire_members(now)

    @handler
    def on_broker_heartbeat(self, msg: BrokerHeartbeat) -> ClusterState:
        self.seen[msg.broker] = self.ctx.now()
        known = self.storage.get(("incarnation", msg.broker))
        if known != msg.incarnation:
            self.storage[("incarnation", msg.broker)] = msg.incarnation
            self.storage.sync()
            if known is not None and self.config.fencing:
                self._restarted(msg.broker)
        if msg.broker in self.dead:
            self.dead.discard(msg.broker)
            for p in PARTITIONS:
                s = self._state(p)
                if s.leader is None and (msg.broker in s.isr or self.config.unclean_election):
                    self._elect(s, f"{msg.broker} back")
        return self._cluster()

    def _restarted(self, b: str) -> None:
        """A broker came back as a new incarnation: it may have lost unflushed records, so it leaves the ISR and
        leads nothing it was leading (unless it is the only ISR member: then nothing better exists)."""
        self.ctx.note("broker_restarted", broker=b)
        for p in PARTITIONS:
            s = self._state(p)
            rest = tuple(x for x in s.isr if x != b)
            if s.leader == b and rest:
                self._elect(PartitionState(p, s.leader, s.epoch, s.version, rest), f"{b} restarted")
            elif b in s.isr and rest:
                self._put(PartitionState(p, s.leader, s.epoch, s.version + 1, rest))

    @handler
    def on_alter_isr(self, msg: AlterIsr, src: str) -> ClusterState:
        s = self._state(msg.partition)
        current = msg.epoch == s.epoch and msg.version == s.version and src == s.leader
        if (current or not self.config.fencing) and set(msg.isr) != set(s.isr):
            isr = tuple(b for b in BROKERS if b in msg.isr)
            self._put(PartitionState(s.partition, s.leader, s.epoch, s.version + 1, isr))
            self.ctx.note("isr_changed", partition=s.partition, isr=list(isr), by=src)
        return self._cluster()

    # -- group coordinator -----------------------------------------------------------------------------------------
    def _group(self, g: str) -> tuple[int, tuple, tuple]:
        return self.storage.get(("group", g), (0, (), ()))  # generation, members, assignment ((member, parts)...)

    def _rebalance(self, g: str, members: tuple, why: str) -> None:
        generation = self._group(g)[0] + 1
        members = tuple(sorted(members))
        assignment = tuple((m, tuple(p for p in PARTITIONS if members and members[p % len(members)] == m))
                           for m in members)
        self.storage[("group", g)] = (generation, members, assignment)
        self.storage.sync()
        self.ctx.note("rebalance", group=g, generation=generation, members=list(members), why=why)

    def _assignment(self, g: str, member: str) -> Assignment:
        generation, members, assignment = self._group(g)
        if member not in members:
            return Assignment(None, ())
        return Assignment(generation, dict(assignment)[member])

    def _expire_members(self, now: float) -> None:
        for g in sorted({g for g, _ in self.member_seen}):
            generation, members, _ = self._group(g)
            gone = [m for m in members if now - self.member_seen.get((g, m), now) > self.config.session_timeout]
            if gone:
                for m in gone:
                    self.member_seen.pop((g, m), None)
                self._rebalance(g, tuple(m for m in members if m not in gone), f"{', '.join(gone)} expired")

    @handler
    def on_join_group(self, msg: JoinGroup) -> Assignment:
        self.member_seen[(msg.group, msg.member)] = self.ctx.now()
        _, members, _ = self._group(msg.group)
        # A join always starts a new generation, even of a known member: it may have lost its state.
        self._rebalance(msg.group, tuple(set(members) | {msg.member}), f"{msg.member} joined")
        return self._assignment(msg.group, msg.member)

    @handler
    def on_group_heartbeat(self, msg: GroupHeartbeat) -> Assignment:
        a = self._assignment(msg.group, msg.member)
        if a.generation is not None:
            self.member_seen[(msg.group, msg.member)] = self.ctx.now()
        return a

    @handler
    def on_offset_fetch(self, msg: OffsetFetch) -> Offset:
        return Offset(self.storage.get(("offset", msg.group, msg.partition), 0))

    def _fenced(self, group: str, member: str, generation: int, partition: int) -> str:
        """Why a commit is refused: a member of an older generation, or not the partition's owner ('' if neither)."""
        if not self.config.generation_fencing:
            return ""
        a = self._assignment(group, member)
        if a.generation != generation:
            return f"generation {generation} is not current ({self._group(group)[0]})"
        if partition not in a.partitions:
            return f"partition {partition} is not assigned to {member}"
        return ""

    @handler
    def on_txn_commit(self, msg: TxnCommit) -> Committed:
        st = self.storage
        if msg.txn in st.get("txns", ()):
            return Committed(True, "already committed")  # a retried commit of a transaction applied once
        if why := self._fenced(msg.group, msg.member, msg.generation, msg.partition):
            self.ctx.note("txn_fenced", group=msg.group, member=msg.member, why=why)
            return Committed(False, why)
        st["outputs"] = st.get("outputs", ()) + msg.outputs
        st[("offset", msg.group, msg.partition)] = msg.offset
        st["txns"] = st.get("txns", ()) + (msg.txn,)
        st.sync()
        self.ctx.note("txn_committed", group=msg.group, member=msg.member, records=len(msg.outputs))
        return Committed(True)

    @handler
    def on_append_outputs(self, msg: AppendOutputs) -> Committed:
        self.storage.save(outputs=self.storage.get("outputs", ()) + msg.outputs)
        return Committed(True)

    @handler
    def on_commit_offset(self, msg: CommitOffset) -> Committed:
        if why := self._fenced(msg.group, msg.member, msg.generation, msg.partition):
            return Committed(False, why)
        self.storage[("offset", msg.group, msg.partition)] = msg.offset
        self.storage.sync()
        return Committed(True)

    @handler
    def on_audit(self, msg: Audit) -> Ok:
        return Ok({"outputs": [dict(o) for o in self.storage.get("outputs", ())]})
