"""A storage segment: one of the six copies of the volume's redo log, two per availability zone.

A segment appends what it is sent to its redo log on disk (``Storage.append``: checksummed records), syncs before
acknowledging (a writer's records take ``DISK_WRITE`` to reach the platter), fences writers of older epochs, and
repairs itself and its peers by pushing its log to a random peer every ``gossip_interval`` (``segment_repair`` is
noted when a push fills records the receiver lacked). Its view of the log is the merge of every record on disk
(:func:`.log.merge`: per LSN the valid record with the newest stamp).

Torn writes: power can fail while a record is being written (the engine's ``torn_write``), leaving it half on disk.
With ``checksum`` (Aurora's log records are checksummed) a segment verifies every record when it starts and truncates
its log at the first that fails (``torn_record_truncated``): the torn record was never acknowledged, so dropping it
loses nothing. Without (the known-bad ``no-checksum``) it trusts the zeros: a record with a zeroed value, stamp or
LSN that it serves to a recovery, a volume read and its gossip peers.

Lost disks: a segment named in ``lose`` is destroyed at ``lose_at`` (its copy is wiped and it never answers again);
a segment whose disk the engine's ``destroy`` took (``storage.destroyed``) is likewise gone for good: a replacement
would have to be rebuilt from its peers before it may count in a quorum (membership change), which is not
modelled, so it stays silent rather than answer with an empty log.
"""

from __future__ import annotations

import trio

from faultlab import Node, handler

from .config import AuroraConfig
from .log import NO_EPOCH, merge, merge_starts
from .messages import Append, Confirm, Gossip, Install, ReadLog, Recover, SegmentAck, SegmentLog

LOST = "lost"
REDO = "redo"          # the segment's redo log on disk: records (lsn, stamp, value), checksummed
DISK_WRITE = 0.0005    # seconds from appending a writer's records to their fsync: a power loss in between tears


class Segment(Node[AuroraConfig]):
    def start(self) -> None:
        if self.config.checksum:
            dropped = self.storage.recover_log(REDO)
            if dropped:
                self.ctx.note("torn_record_truncated", segment=self.id, dropped=dropped)
        if self.id in self.config.lost_segments():
            self.ctx.spawn(self._destroy_at, self.config.lose_at)
        self.ctx.every(self.config.gossip_interval, self._gossip)

    # durable state
    @property
    def lost(self) -> bool:
        return self.storage.destroyed > 0 or self.storage.get(LOST, False)

    @property
    def epoch(self) -> tuple:
        return tuple(self.storage.get("epoch", NO_EPOCH))

    @property
    def log(self) -> tuple:
        """The merged view of every record on disk (trusted as read: ``start`` checked them, with ``checksum``)."""
        return merge([[r.record for r in self.storage.read_log(REDO)]], self.starts)

    @property
    def starts(self) -> tuple:
        return self.storage.get("starts", ())

    def _append(self, records, epoch=None) -> None:
        """Append the records that change this segment's view (unsynced: the caller syncs)."""
        if epoch is not None:
            self.storage["epoch"] = tuple(epoch)
        before = set(self.log)
        for record in merge([records], self.starts):
            if record not in before:
                self.storage.append(REDO, record)

    async def _destroy_at(self, when: float) -> None:
        await trio.sleep(max(0.0, when - trio.current_time()))
        for key in list(self.storage.keys()):
            self.storage.delete(key)
        self.storage.truncate_log(REDO, 0)
        self.storage[LOST] = True
        self.storage.sync()
        self.ctx.note("segment_lost", segment=self.id, zone=self.ctx.zone)

    # -- the writer's requests -----------------------------------------------------------------------------------
    @handler
    async def on_append(self, msg: Append) -> SegmentAck | None:
        if self.lost:
            return None
        if self.config.fence and tuple(msg.epoch) < self.epoch:
            return SegmentAck(False, self.epoch)
        epoch = max(self.epoch, tuple(msg.epoch))
        self._append(tuple((lsn, tuple(msg.epoch), v) for lsn, v in msg.records), epoch=epoch)
        await trio.sleep(DISK_WRITE)  # the write reaches the disk; power lost meanwhile tears the last record
        self.storage.sync()
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
        self._append(tuple((lsn, tuple(msg.epoch), v) for lsn, v in msg.records), epoch=msg.epoch)
        self.storage.sync()
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
            self._append(merged)
            self.storage.sync()
            gained = sorted({r[0] for r in merged} - {r[0] for r in before})
            if gained:
                self.ctx.note("segment_repair", segment=self.id, lsns=gained)
