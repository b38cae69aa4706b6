"""A storage segment: one of the six copies of the volume's redo log, two per availability zone.

A segment stores what it is sent, syncs it before acknowledging, fences writers of older epochs, and repairs itself
and its peers by pushing its log to a random peer every ``gossip_interval`` (``segment_repair`` is noted when a push
fills records the receiver lacked). A segment named in ``lose`` is destroyed at ``lose_at``: its copy is wiped and it
never answers again, in this incarnation or any later one (the engine's crash keeps a disk; this is a lost disk).
"""

from __future__ import annotations

import trio

from faultlab import Node, handler

from .config import AuroraConfig
from .log import NO_EPOCH, merge, merge_starts
from .messages import Append, Confirm, Gossip, Install, ReadLog, Recover, SegmentAck, SegmentLog

LOST = "lost"


class Segment(Node[AuroraConfig]):
    def start(self) -> None:
        if self.id in self.config.lost_segments():
            self.ctx.spawn(self._destroy_at, self.config.lose_at)
        self.ctx.every(self.config.gossip_interval, self._gossip)

    # durable state
    @property
    def lost(self) -> bool:
        return self.storage.get(LOST, False)

    @property
    def epoch(self) -> tuple:
        return tuple(self.storage.get("epoch", NO_EPOCH))

    @property
    def log(self) -> tuple:
        return self.storage.get("log", ())

    @property
    def starts(self) -> tuple:
        return self.storage.get("starts", ())

    def _store(self, log, starts=None, epoch=None) -> None:
        if epoch is not None:
            self.storage["epoch"] = tuple(epoch)
        if starts is not None:
            self.storage["starts"] = starts
        self.storage["log"] = merge([log], self.starts)
        self.storage.sync()

    async def _destroy_at(self, when: float) -> None:
        await trio.sleep(max(0.0, when - trio.current_time()))
        for key in list(self.storage.keys()):
            self.storage.delete(key)
        self.storage[LOST] = True
        self.storage.sync()
        self.ctx.note("segment_lost", segment=self.id, zone=self.ctx.zone)

    # -- the writer's requests -----------------------------------------------------------------------------------
    @handler
    def on_append(self, msg: Append) -> SegmentAck | None:
        if self.lost:
            return None
        if self.config.fence and tuple(msg.epoch) < self.epoch:
            return SegmentAck(False, self.epoch)
        epoch = max(self.epoch, tuple(msg.epoch))
        self._store(self.log + tuple((lsn, tuple(msg.epoch), v) for lsn, v in msg.records), epoch=epoch)
        return SegmentAck(True, self.epoch)

    @handler
    def on_recover(self, msg: Recover) -> SegmentLog | None:
        if self.lost:
            return None
        if tuple(msg.epoch) <= self.epoch:
            return SegmentLog(False, self.epoch, (), ())
        self.storage["epoch"] = tuple(msg.epoch)
        self.storage.sync()
        return SegmentLog(True, self.epoch, self.log, self.starts)

    @handler
    def on_install(self, msg: Install) -> SegmentAck | None:
        if self.lost:
            return None
        if tuple(msg.epoch) < self.epoch:
            return SegmentAck(False, self.epoch)
        starts = merge_starts(self.starts, [(tuple(msg.epoch), msg.end)])
        self.storage["starts"] = starts
        self._store(self.log + tuple((lsn, tuple(msg.epoch), v) for lsn, v in msg.records), epoch=msg.epoch)
        return SegmentAck(True, self.epoch)

    @handler
    def on_confirm(self, msg: Confirm) -> SegmentAck | None:
        if self.lost:
            return None
        return SegmentAck(tuple(msg.epoch) >= self.epoch, self.epoch)

    @handler
    def on_read_log(self, msg: ReadLog) -> SegmentLog | None:
        if self.lost:
            return None
        return SegmentLog(True, self.epoch, self.log, self.starts)

    # -- repair --------------------------------------------------------------------------------------------------
    def _gossip(self) -> None:
        if self.lost:
            return
        peers = [s for s in self.config.segments() if s != self.id]
        self.ctx.send(self.ctx.random.choice(peers), Gossip(self.log, self.starts))

    @handler
    def on_gossip(self, msg: Gossip) -> None:
        if self.lost:
            return
        before = self.log
        starts = merge_starts(self.starts, msg.starts)
        merged = merge([before, msg.log], starts)
        if merged != before or starts != self.starts:
            self.storage["starts"] = starts
            self._store(merged)
            gained = sorted({r[0] for r in merged} - {r[0] for r in before})
            if gained:
                self.ctx.note("segment_repair", segment=self.id, lsns=gained)
