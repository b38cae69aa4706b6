"""A broker: a replica of every partition; the leader of some. The leader appends, pushes its log to the other
replicas, keeps the high watermark (the offset every in-sync replica holds) and the ISR (through the controller);
followers take the log of the leader of the newest epoch they know."""

from __future__ import annotations

import trio

from faultlab import Fail, Node, Ok, Unknown, handler

from .config import BROKERS, CONTROLLER, PARTITIONS, KafkaConfig
from .messages import (
    AlterIsr,
    BrokerHeartbeat,
    ClusterState,
    Fetch,
    PartitionState,
    Produce,
    ReadLog,
    Records,
    Redirect,
    Replicate,
    ReplicateAck,
)

PRODUCE_TIMEOUT = 1.0  # request.timeout at the leader: how long acks=all waits for the ISR


class Broker(Node[KafkaConfig]):
    def __init__(self, ctx):
        super().__init__(ctx)
        self.hw = {p: 0 for p in PARTITIONS}
        self.leo_of: dict[int, dict[str, int]] = {p: {} for p in PARTITIONS}  # leader: followers' log end offsets
        self.caught_up: dict[int, dict[str, float]] = {p: {} for p in PARTITIONS}
        self.expanding: dict[int, tuple] = {p: () for p in PARTITIONS}  # proposed ISR additions, counted at once
        self.advanced = {p: trio.Event() for p in PARTITIONS}
        # With fencing a restarted broker leads nothing until the controller has seen its new incarnation and
        # answered (it may have lost unflushed records, so the controller moves leadership away first).
        self.ready = not self.config.fencing

    def start(self) -> None:
        st = self.storage
        for p in PARTITIONS:
            if ("meta", p) not in st:
                st[("meta", p)] = (BROKERS[p % len(BROKERS)], 1, 1, BROKERS)  # as the controller creates it
                st[("log", p)] = ()
        st.sync()
        for p in PARTITIONS:
            if self.leads(p):
                self._became_leader(p)
        self._role()
        self._heartbeat()
        self.ctx.every(self.config.heartbeat, self._heartbeat)

    # -- durable state ----------------------------------------------------------------------------------------------
    def meta(self, p: int) -> PartitionState:
        leader, epoch, version, isr = self.storage[("meta", p)]
        return PartitionState(p, leader, epoch, version, tuple(isr))

    def log(self, p: int) -> tuple:
        return self.storage[("log", p)]  # records (id, epoch, pid, seq, at); a record's offset is its index

    def start_of(self, p: int) -> int:
        """The log start offset: records below it were deleted by retention (kept in the tuple so that a record's
        offset stays its index, never served)."""
        return self.storage.get(("start", p), 0)

    def leads(self, p: int) -> bool:
        return self.ready and self.meta(p).leader == self.id

    def _set_meta(self, s: PartitionState) -> None:
        was = self.leads(s.partition)
        self.storage[("meta", s.partition)] = (s.leader, s.epoch, s.version, s.isr)
        self.storage.sync()  # metadata is small and always flushed
        if was and s.leader != self.id:
            self.ctx.note("stepped_down", partition=s.partition, epoch=s.epoch)
        if s.leader == self.id and not was:
            self._became_leader(s.partition)
        if s.leader == self.id:
            self.expanding[s.partition] = tuple(b for b in self.expanding[s.partition] if b not in s.isr)
        self._role()

    def _set_log(self, p: int, log: tuple) -> None:
        self.storage[("log", p)] = log
        if self.config.fsync:
            self.storage.sync()

    def _role(self) -> None:
        self.ctx.set_role("leader" if any(self.leads(p) for p in PARTITIONS) else None)

    def _became_leader(self, p: int) -> None:
        now = self.ctx.now()
        self.leo_of[p] = {}
        self.caught_up[p] = {b: now for b in BROKERS if b != self.id}
        self.expanding[p] = ()
        self.hw[p] = min(self.hw[p], len(self.log(p)))

    # -- metadata from the controller -----------------------------------------------------------------------------
    def _apply(self, cluster: ClusterState) -> None:
        if not self.ready:
            self.ready = True
            for s in cluster.partitions:
                mine = self.meta(s.partition)
                if (s.leader, s.epoch) == (self.id, mine.epoch) and mine.leader == self.id:
                    self._became_leader(s.partition)  # the controller kept it leader: it leads from now on
        for s in cluster.partitions:
            mine = self.meta(s.partition)
            if (s.epoch, s.version) > (mine.epoch, mine.version) or (
                    not self.config.fencing and (s.leader, s.isr) != (mine.leader, mine.isr)):
                self._set_meta(s)

    def _heartbeat(self) -> None:
        self.ctx.spawn(self._report)
        for p in PARTITIONS:
            if self.leads(p):
                self._expire(p)
                self.ctx.spawn(self._push, p)

    def _expire(self, p: int) -> None:
        """Retention: move the log start past committed records older than ``retention``."""
        if not self.config.retention:
            return
        log, start = self.log(p), self.start_of(p)
        horizon = self.ctx.now() - self.config.retention
        new = start
        while new < self.hw[p] and log[new][4] < horizon:
            new += 1
        if new > start:
            self.storage[("start", p)] = new
            self.storage.sync()
            self.ctx.note("records_expired", partition=p, start=new)

    async def _report(self) -> None:
        got = await self.ctx.call(CONTROLLER, BrokerHeartbeat(self.id, self.ctx.incarnation), self.config.heartbeat)
        if isinstance(got, ClusterState):
            self._apply(got)

    # -- leader: replication, high watermark, ISR ---------------------------------------------------------------
    async def _push(self, p: int) -> None:
        s = self.meta(p)
        log = self.log(p)
        msg = Replicate(p, s.epoch, self.id, log, self.hw[p], self.start_of(p))
        acks = await self.ctx.gather([b for b in BROKERS if b != self.id], msg, need=len(BROKERS) - 1,
                                     timeout=self.config.heartbeat)
        now = self.ctx.now()
        cur = self.meta(p)
        if not self.leads(p) or cur.epoch != s.epoch:
            return
        newer = [a.epoch for a in acks.values() if a.epoch > cur.epoch]
        if newer and self.config.fencing:
            # fenced: a replica knows a newer epoch; the controller's metadata names the new leader
            self._set_meta(PartitionState(p, None, max(newer), cur.version, cur.isr))
            return
        for b, a in acks.items():
            if a.accepted and a.epoch == s.epoch:
                self.leo_of[p][b] = max(self.leo_of[p].get(b, 0), a.leo)
                if a.leo >= len(log):
                    self.caught_up[p][b] = now
        self._advance_hw(p)
        await self._maintain_isr(p, now)

    def _advance_hw(self, p: int) -> None:
        s = self.meta(p)
        members = set(s.isr) | set(self.expanding[p])  # the maximal ISR: a proposed member counts at once
        leos = [len(self.log(p)) if b == self.id else self.leo_of[p].get(b, 0) for b in members]
        hw = min(leos) if leos else 0
        if hw > self.hw[p]:
            self.hw[p] = hw
            self.advanced[p].set()
            self.advanced[p] = trio.Event()

    async def _maintain_isr(self, p: int, now: float) -> None:
        s = self.meta(p)
        leo = len(self.log(p))
        lagging = [b for b in s.isr if b != self.id and now - self.caught_up[p].get(b, now) > self.config.lag_timeout]
        joining = [b for b in BROKERS if b not in s.isr and b not in self.expanding[p]
                   and self.leo_of[p].get(b, -1) >= leo]
        if not lagging and not joining:
            return
        if joining:
            self.expanding[p] = self.expanding[p] + tuple(joining)
        isr = tuple(b for b in BROKERS if (b in s.isr or b in joining) and b not in lagging)
        got = await self.ctx.call(CONTROLLER, AlterIsr(p, s.epoch, s.version, isr), self.config.heartbeat)
        if isinstance(got, ClusterState):
            self._apply(got)  # the smaller ISR is used only once the controller has it

    # -- follower ------------------------------------------------------------------------------------------------
    @handler
    def on_replicate(self, msg: Replicate, src: str) -> ReplicateAck:
        p, mine = msg.partition, self.meta(msg.partition)
        if self.config.fencing:
            if msg.epoch < mine.epoch or (msg.epoch == mine.epoch and mine.leader not in (None, msg.leader)):
                return ReplicateAck(p, mine.epoch, False, len(self.log(p)))
            if msg.epoch > mine.epoch or mine.leader is None:
                self._set_meta(PartitionState(p, msg.leader, msg.epoch, mine.version, mine.isr))
        elif mine.leader != msg.leader:
            # no epochs to compare: a replica follows whoever replicated to it last, even a leader steps down
            self._set_meta(PartitionState(p, msg.leader, max(msg.epoch, mine.epoch), mine.version, mine.isr))
        if msg.log != self.log(p):
            self._set_log(p, msg.log)  # truncate to the leader's log and append what is new
        if msg.start != self.start_of(p):
            self.storage[("start", p)] = msg.start
            self.storage.sync()
        self.hw[p] = msg.hw
        return ReplicateAck(p, self.meta(p).epoch, True, len(self.log(p)))

    # -- clients -------------------------------------------------------------------------------------------------
    @handler
    async def on_produce(self, msg: Produce) -> Ok | Fail | Unknown | Redirect:
        p = msg.partition
        s = self.meta(p)
        if not self.leads(p):
            return Redirect(s.leader if self.ready else None)
        if self.config.acks == "all" and len(s.isr) < self.config.min_isr:
            return Fail(f"NOT_ENOUGH_REPLICAS: ISR {list(s.isr)} < min.insync.replicas={self.config.min_isr}")
        log = self.log(p)
        have = [o for o, r in enumerate(log) if r[2] == msg.pid and r[3] == msg.seq] if self.config.idempotence \
            else []
        if have:
            offset = have[0]  # a retry of a batch already appended: answered, not appended again
            self.ctx.note("duplicate_dropped", partition=p, id=msg.id)
        else:
            offset = len(log)
            self._set_log(p, log + ((msg.id, s.epoch, msg.pid, msg.seq, self.ctx.now()),))
            self.ctx.spawn(self._push, p)
        out = {"partition": p, "offset": offset, "id": msg.id}
        if self.config.acks == "1":
            return Ok(out)
        with trio.move_on_after(PRODUCE_TIMEOUT):
            while self.hw[p] <= offset:
                await self.advanced[p].wait()
        cur = self.meta(p)
        if self.hw[p] > offset and self.leads(p) and cur.epoch == s.epoch:
            if len(cur.isr) < self.config.min_isr:
                return Unknown("NOT_ENOUGH_REPLICAS_AFTER_APPEND")
            if len(cur.isr) == 1:
                self.ctx.note("acked_alone", partition=p, id=msg.id)  # the leader is the only copy
            return Ok(out)
        return Unknown("REQUEST_TIMED_OUT: appended, not yet on every in-sync replica")

    def _readable(self, p: int) -> int:
        return len(self.log(p)) if self.config.read_uncommitted_log else self.hw[p]

    @handler
    def on_fetch(self, msg: Fetch) -> Records | Redirect:
        s = self.meta(msg.partition)
        if not self.leads(msg.partition):
            return Redirect(s.leader if self.ready else None)
        log, end = self.log(msg.partition), min(self._readable(msg.partition), msg.offset + msg.limit)
        begin = max(msg.offset, self.start_of(msg.partition))  # auto.offset.reset=earliest past deleted records
        return Records(msg.partition, s.epoch, tuple((o, log[o][0]) for o in range(begin, end)),
                       self.hw[msg.partition])

    @handler
    def on_read_log(self, msg: ReadLog) -> Ok | Redirect:
        s = self.meta(msg.partition)
        if not self.leads(msg.partition):
            return Redirect(s.leader if self.ready else None)
        log = self.log(msg.partition)
        start = self.start_of(msg.partition)
        return Ok({"start": start, "records": [{"partition": msg.partition, "offset": o, "id": log[o][0]}
                                               for o in range(start, self.hw[msg.partition])]})
