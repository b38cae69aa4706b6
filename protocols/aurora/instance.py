"""A database instance: the writer, or a read replica that takes over when the writer goes silent.

The compute layer keeps nothing durable but the number of its last takeover attempt: the volume is the database.

* **Writer.** A write becomes redo record ``lsn`` of the writer's epoch; the writer ships the tail above its durable
  point to all six segments and the record is durable once ``write_quorum`` of them hold it (and every record
  before it). Then the client is told ok and the log with its new durable point goes to the replicas. A read
  through the writer endpoint answers from the writer's cache after ``read_quorum`` segments confirm its epoch is
  still the newest: a deposed writer cannot serve a stale value (see the package docstring for why this departs
  from "normal reads go to local buffer cache").
* **Replica.** Applies shipped records up to the durable point after ``apply_delay`` and serves reads from what it
  applied. Hearing nothing from a writer for ``failover_timeout`` it takes over (``failover``): a new epoch, a
  ``Recover`` round that fences older epochs and reads ``read_quorum`` segments, whose merged log up to its first gap
  is the durable log (every durable record is on ``write_quorum`` segments, so on at least one of any
  ``read_quorum``), then an ``Install`` round that writes that log, restamped, to ``write_quorum`` segments and
  truncates everything older above its end. Only then does it accept writes.
"""

from __future__ import annotations

import trio

from faultlab import Fail, Node, Ok, Unknown, handler

from .config import INSTANCES, AuroraConfig
from .log import NO_EPOCH, contiguous, merge, merge_starts, value_at
from .messages import (
    Append,
    ClientRead,
    ClientWrite,
    Confirm,
    Install,
    ReadLog,
    Recover,
    Redirect,
    ReplicaRead,
    SegmentAck,
    SegmentLog,
    Ship,
    VolumeRead,
)

STORAGE_TIMEOUT = 1.0  # how long an instance waits for segment quorums
# The engine has no latency model: a message is delivered in send order and takes no time. A segment that is slow
# to receive a log record is the case quorum commit exists for (commit without waiting for the slowest), so the
# writer puts each Append on the wire at once or after SLOW_APPEND: an environment choice per round says how many of
# the segments (the last of the rotation) are slow this time (0 = none). A writer that crashes before a slow Append
# left loses it, as a crash loses what is still in flight.
SLOW_APPEND = 0.002
ATTEMPT = "attempt"    # durable: the highest epoch number this instance has tried, so no epoch is used twice


class Instance(Node[AuroraConfig]):
    ignores = (SegmentAck, SegmentLog)  # late replies to a round that has already finished

    def __init__(self, ctx):
        super().__init__(ctx)
        self.role = "replica"
        self.epoch: tuple = NO_EPOCH      # the newest epoch this instance knows of
        self.writer: str | None = None    # who it believes is the writer
        self.log: tuple = ()              # values of records 1..len (writer: all it wrote; replica: what it got)
        self.durable = 0                  # writer: its durable point; replica: the durable point it was told
        self.applied = 0                  # replica: records applied to its cache
        self.applied_epoch: tuple = NO_EPOCH
        self.acks: dict[int, set[str]] = {}
        self.lock = trio.Lock()
        self.heard = trio.Event()

    def start(self) -> None:
        if self.id == INSTANCES[0] and self.ctx.incarnation == 1:
            self.storage[ATTEMPT] = 1  # epoch (1, db1) is taken: a restarted db1 must never reuse it
            self.storage.sync()
            self._become_writer((1, self.id), (), initial=True)  # the cluster is created with db1 as the writer
        self.ctx.spawn(self._failover_timer)
        self.ctx.every(self.config.heartbeat_interval, self._heartbeat)

    # -- the writer ----------------------------------------------------------------------------------------------
    def _become_writer(self, epoch: tuple, log: tuple, *, initial: bool = False) -> None:
        self.role, self.epoch, self.writer = "writer", epoch, self.id
        self.log, self.durable, self.applied = log, len(log), len(log)
        self.acks = {}
        self.ctx.set_role("leader")
        if not initial:
            self.ctx.note("failover", epoch=list(epoch), end=len(log))
        self._heartbeat()

    def _step_down(self, epoch: tuple) -> None:
        if tuple(epoch) > self.epoch:
            self.epoch = tuple(epoch)
        if self.role == "writer":
            self.ctx.set_role(None)
            self.ctx.note("deposed", epoch=list(self.epoch))
        self.role, self.writer = "replica", None
        self.log, self.durable = self.log[:self.applied], self.applied  # only what it applied is known durable
        self.heard.set()  # its failover timer starts over

    def _rotated(self) -> list[str]:
        # Which segments answer first varies with network latency; the rotation (an environment choice, 0 = in
        # order) stands in for that, so the segments in a quorum differ from one round to the next.
        segments = list(self.config.segments())
        k = self.ctx.choose(len(segments))
        return segments[k:] + segments[:k]

    async def _replicate(self) -> bool:
        """Ship the tail above the durable point; advance the durable point over records on a write quorum."""
        epoch, first = self.epoch, self.durable + 1
        records = tuple((lsn, self.log[lsn - 1]) for lsn in range(first, len(self.log) + 1))
        replies = await self._append_round(Append(epoch, records))
        if self.role != "writer" or self.epoch != epoch:
            return False
        for segment, reply in sorted(replies.items()):
            if not reply.accepted:
                self._step_down(reply.epoch)
                return False
            for lsn, _ in records:
                self.acks.setdefault(lsn, set()).add(segment)
        while len(self.acks.get(self.durable + 1, ())) >= self.config.write_quorum:
            self.durable += 1
        self.applied = self.durable
        return True

    async def _append_round(self, msg: Append) -> dict[str, SegmentAck]:
        """Send ``msg`` to every segment, each after its latency; the replies once a write quorum has answered (or
        the timeout passed). Sends outlive the round: a slow segment still gets the record unless the writer dies."""
        got: dict[str, SegmentAck] = {}
        done = trio.Event()

        async def send(segment: str, latency: float) -> None:
            if latency:
                await trio.sleep(latency)
            reply = await self.ctx.call(segment, msg, STORAGE_TIMEOUT)
            if reply is not None and not done.is_set():
                got[segment] = reply
                if len(got) >= self.config.write_quorum:
                    done.set()

        segments = self._rotated()
        slow = self.ctx.choose(len(segments))  # the last ``slow`` of them are slow this time (0: none)
        for i, segment in enumerate(segments):
            self.ctx.spawn(send, segment, SLOW_APPEND if i >= len(segments) - slow else 0.0)
        with trio.move_on_after(STORAGE_TIMEOUT + SLOW_APPEND):
            await done.wait()
        done.set()
        return dict(got)

    @handler
    async def on_write(self, msg: ClientWrite) -> Ok | Unknown | Redirect:
        if self.role != "writer":
            return Redirect(self.writer)
        async with self.lock:  # one commit at a time: the durable point only moves forward over whole prefixes
            if self.role != "writer":
                return Unknown("deposed while waiting") if msg.value in self.log else Redirect(self.writer)
            if msg.value not in self.log:
                self.log += (msg.value,)
            lsn = self.log.index(msg.value) + 1
            await self._replicate()
            if self.role == "writer" and self.durable >= lsn:
                self._heartbeat()  # ship the new durable point to the replicas at once
                return Ok(msg.value)
            return Unknown("fewer than the write quorum acknowledged: the record may still become durable")

    @handler
    async def on_read(self, msg: ClientRead) -> Ok | Fail | Redirect:
        if self.role != "writer":
            return Redirect(self.writer)
        epoch, value = self.epoch, value_at_values(self.log, self.durable)
        replies = await self.ctx.gather(self._rotated(), Confirm(epoch), need=self.config.read_quorum,
                                        timeout=STORAGE_TIMEOUT)
        newer = [r.epoch for r in replies.values() if not r.accepted]
        if newer:
            if self.epoch == epoch:
                self._step_down(max(tuple(e) for e in newer))
            return Fail("deposed: a newer writer exists")
        if len(replies) < self.config.read_quorum:
            return Fail("could not confirm the epoch at a read quorum")
        return Ok(value)

    def _heartbeat(self) -> None:
        if self.role != "writer":
            return
        shipped = self.log if self.config.replica_applies == "received" else self.log[:self.durable]
        for peer in INSTANCES:
            if peer != self.id:
                self.ctx.send(peer, Ship(self.epoch, self.id, shipped, self.durable))

    # -- a replica -----------------------------------------------------------------------------------------------
    @handler
    def on_ship(self, msg: Ship) -> None:
        if tuple(msg.epoch) < self.epoch:
            return  # a deposed writer
        if self.role == "writer" and tuple(msg.epoch) > self.epoch:
            self._step_down(msg.epoch)
        if self.role == "writer":
            return
        self.epoch, self.writer = tuple(msg.epoch), msg.writer
        self.heard.set()
        upto = len(msg.log) if self.config.replica_applies == "received" else min(msg.durable, len(msg.log))
        if tuple(msg.log[:upto]) != self.log[:upto] or upto > self.applied:
            self.ctx.spawn(self._apply, tuple(msg.epoch), tuple(msg.log), msg.durable, upto)

    async def _apply(self, epoch: tuple, log: tuple, durable: int, upto: int) -> None:
        await trio.sleep(self.config.apply_delay)
        if self.role == "writer" or (epoch, upto) < (self.applied_epoch, self.applied):
            return  # a newer shipment was applied first
        self.log, self.durable, self.applied, self.applied_epoch = log, durable, upto, epoch
        self.ctx.note("replica_applied", applied=upto, values=list(log[:upto]))

    @handler
    def on_replica_read(self, msg: ReplicaRead) -> Ok:
        if self.role == "writer":
            return Ok(value_at_values(self.log, self.durable))
        return Ok(value_at_values(self.log, self.applied))

    async def _failover_timer(self) -> None:
        # A per-incarnation coin staggers the two instances' timers, so a restarted old writer and the replica
        # rarely take over at the same instant (if they do, epochs are unique and one of them is fenced).
        while True:
            timeout = self.config.failover_timeout * (1 + 0.25 * self.ctx.random.random())
            self.heard = trio.Event()
            with trio.move_on_after(timeout) as scope:
                await self.heard.wait()
            if scope.cancelled_caught and self.role != "writer":
                await self._take_over()

    async def _take_over(self) -> None:
        attempt = max(self.storage.get(ATTEMPT, 0), self.epoch[0]) + 1
        self.storage[ATTEMPT] = attempt
        self.storage.sync()
        # On a replacement disk (the engine's destroy took the old one) the attempts of earlier incarnations are
        # unknown: the epoch names this incarnation, so it can never repeat one of theirs.
        epoch = (attempt, self.id if not self.storage.destroyed else f"{self.id}/{self.ctx.incarnation}")
        self.role = "candidate"
        self.ctx.note("takeover", epoch=list(epoch))  # detection ends here; recovery (two quorum rounds) begins
        if self.config.recover_from == "quorum":
            replies = await self.ctx.gather(self._rotated(), Recover(epoch), need=self.config.read_quorum,
                                            timeout=STORAGE_TIMEOUT)
            if self.role != "candidate":
                return
            good = [r for r in replies.values() if r.accepted]
            for r in replies.values():
                self.epoch = max(self.epoch, tuple(r.epoch)) if not r.accepted else self.epoch
            if len(good) < self.config.read_quorum:
                self.role = "replica"
                return
            starts = merge_starts(*(r.starts for r in good))
            recovered = tuple(v for _, _, v in contiguous(merge((r.log for r in good), starts)))
        else:
            recovered = self.log[:self.applied]  # known-bad: replay only what this replica had applied
        records = tuple((lsn, v) for lsn, v in enumerate(recovered, start=1))
        acks = await self.ctx.gather(self._rotated(), Install(epoch, records, len(recovered)),
                                     need=self.config.write_quorum, timeout=STORAGE_TIMEOUT)
        if self.role != "candidate":
            return
        if sum(1 for a in acks.values() if a.accepted) < self.config.write_quorum:
            for a in acks.values():
                self.epoch = max(self.epoch, tuple(a.epoch))
            self.role = "replica"
            return
        self._become_writer(epoch, recovered)

    # -- the volume itself ---------------------------------------------------------------------------------------
    @handler
    async def on_volume_read(self, msg: VolumeRead) -> Ok | Fail:
        replies = await self.ctx.gather(self._rotated(), ReadLog(), need=self.config.read_quorum,
                                        timeout=STORAGE_TIMEOUT)
        if len(replies) < self.config.read_quorum:
            return Fail(f"only {len(replies)} segments answered, fewer than the read quorum")
        starts = merge_starts(*(r.starts for r in replies.values()))
        log = contiguous(merge((r.log for r in replies.values()), starts))
        return Ok(value_at(log, len(log)))


def value_at_values(values: tuple, end: int):
    return values[end - 1] if end else None
