"""A consumer group member running consume-transform-produce: fetch a batch after its position, transform each
record into an output, and commit outputs and the new offset, in a transaction or as two steps."""

from __future__ import annotations

import trio

from faultlab import Node

from .config import BROKERS, CONTROLLER, WORKERS, KafkaConfig
from .messages import (
    AppendOutputs,
    Assignment,
    CommitOffset,
    Committed,
    Fetch,
    GroupHeartbeat,
    JoinGroup,
    Offset,
    OffsetFetch,
    Records,
    Redirect,
    TxnCommit,
)

CALL_TIMEOUT = 0.5
COMMIT_ATTEMPTS = 6  # a transactional commit is retried (same transaction id) for about the transaction timeout
BATCH = 3


class Worker(Node[KafkaConfig]):
    """Not message-driven: it only calls the coordinator and the brokers."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.group = WORKERS[self.id]
        self.generation: int | None = None
        self.partitions: tuple = ()
        self.position: dict[int, int] = {}
        self.leader: dict[int, str] = {}
        self.txns = 0

    def start(self) -> None:
        self.ctx.spawn(self._consume)
        self.ctx.every(self.config.heartbeat, self._beat)

    def _adopt(self, a: Assignment) -> None:
        if a.generation != self.generation:
            self.generation, self.partitions, self.position = a.generation, a.partitions, {}

    def _beat(self) -> None:
        if self.generation is not None:
            self.ctx.spawn(self._heartbeat)

    async def _heartbeat(self) -> None:
        got = await self.ctx.call(CONTROLLER, GroupHeartbeat(self.group, self.id, self.generation), CALL_TIMEOUT)
        if isinstance(got, Assignment) and got.generation != self.generation:
            self.ctx.note("generation_lost" if got.generation is None else "reassigned", member=self.id)
            self._adopt(got)

    async def _consume(self) -> None:
        while True:
            if self.generation is None:
                got = await self.ctx.call(CONTROLLER, JoinGroup(self.group, self.id), CALL_TIMEOUT)
                if isinstance(got, Assignment):
                    self._adopt(got)
            busy = False
            for p in self.partitions:
                if self.generation is not None:
                    busy |= await self._poll(p)
            if not busy:
                await trio.sleep(self.config.heartbeat)

    async def _fetch(self, p: int, offset: int) -> Records | None:
        target = self.leader.get(p, BROKERS[p % len(BROKERS)])
        for _ in range(len(BROKERS)):
            got = await self.ctx.call(target, Fetch(p, offset, BATCH), CALL_TIMEOUT)
            if isinstance(got, Records):
                self.leader[p] = target
                return got
            hint = got.leader if isinstance(got, Redirect) else None
            target = hint if hint and hint != target else BROKERS[(BROKERS.index(target) + 1) % len(BROKERS)]
        return None

    async def _poll(self, p: int) -> bool:
        """One batch of partition p; True if it processed records."""
        generation = self.generation
        if p not in self.position:
            got = await self.ctx.call(CONTROLLER, OffsetFetch(self.group, p), CALL_TIMEOUT)
            if not isinstance(got, Offset) or generation != self.generation:
                return False
            self.position[p] = got.offset
        start = self.position[p]
        batch = await self._fetch(p, start)
        if batch is None or not batch.records or generation != self.generation:
            return False
        outputs = tuple({"group": self.group, "member": self.id, "generation": generation, "partition": p,
                         "offset": o, "id": rid} for o, rid in batch.records)
        end = batch.records[-1][0] + 1
        if await self._commit(p, generation, end, outputs):
            if generation == self.generation:
                self.position[p] = end
            return True
        # A commit that did not go through (refused, or no answer): start over from the committed offset in a new
        # generation, so that a late arrival of the old commit is fenced.
        self.generation, self.partitions, self.position = None, (), {}
        return False

    async def _commit(self, p: int, generation: int, end: int, outputs: tuple) -> bool:
        cfg = self.config
        if cfg.transactions:
            self.txns += 1
            msg = TxnCommit((self.id, self.ctx.incarnation, self.txns), self.group, self.id, generation, p, end,
                            outputs)
            return await self._retry(msg, COMMIT_ATTEMPTS)
        offset = CommitOffset(self.group, self.id, generation, p, end)
        steps = [AppendOutputs(outputs), offset] if cfg.commit == "after" else [offset, AppendOutputs(outputs)]
        for msg in steps:
            if not await self._retry(msg, 3):
                return False
        return True

    async def _retry(self, msg, attempts: int) -> bool:
        for _ in range(attempts):
            got = await self.ctx.call(CONTROLLER, msg, CALL_TIMEOUT)
            if isinstance(got, Committed):
                return got.ok
        return False
