"""A Dynamo storage node: the replica requests it answers, hinted handoff, and the coordinator of client operations.

The top of four layers, each importing only those below it: :mod:`protocols.dynamo.replica` (what a replica stores),
:mod:`protocols.dynamo.membership` (gossip, the ring of the node's view, churn), :mod:`protocols.dynamo.antientropy`
(Merkle repair) and this one. :mod:`protocols.dynamo` describes how a coordinator uses the preference list, stand-ins
and versions. A client is answered ``Ok([key, value])``, ``Fail`` (no read quorum, or the node is not a ring member:
nothing was written) or ``Unknown`` (fewer than W acknowledgements: the write may be on some replicas).
"""

from __future__ import annotations

import attrs

from faultlab import Fail, Ok, Unknown, every, handler
from protocols.dynamo.antientropy import AntiEntropyNode
from protocols.dynamo.config import REPLICA_TIMEOUT
from protocols.dynamo.versions import Version, client_value, context_of, merge

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
    """A storage node: replica for the keys whose preference lists name it, stand-in for others, coordinator."""

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
