"""A Dynamo node's membership: gossip, failure beliefs, the ring of its own view, and (with ``churn``) joins, graceful
leaves and the key transfers they cause.

The gossip itself (views, heartbeats, merges) is the pure :class:`protocols.dynamo.gossip.Membership`; this module is
the node's side of it, the layer :class:`MemberNode` of :class:`protocols.dynamo.node.DynamoNode`. Every node routes
on the ring of its *own* view: the nodes it knows of that have not left. Failure beliefs never change the ring (a
crashed node keeps its ranges, as in Dynamo); only joins and leaves do. The gossip peer is the protocol's own coin
(``ctx.random``); when a spare joins and when a leaver leaves are the environment's decisions (``ctx.choose``).

With ``churn`` on, the engine runs ``spares`` more nodes than ``nodes``: a spare starts outside the ring, waits a delay
chosen for it (``JOIN_DELAYS``; choice 0 joins at once), and joins by gossiping with a seed member (any initial member,
picked by a coin), which learns of it as a join; the news spreads like any heartbeat. The last ``leaves`` initial
members leave gracefully after a chosen delay (``LEAVE_DELAYS``): hand their keys to the new owners, wait for the
transfers to be acknowledged (a few periods at most), then announce the leave to every member and stop serving.

When a node's ring changes it queues *transfers* (durable, retried every ``TRANSFER_PERIOD`` until acknowledged):
a key it still owns goes to the owners it gained (``gained``: they did not own it before), a key it no longer owns
goes to every new owner. Merkle anti-entropy (:mod:`protocols.dynamo.antientropy`) runs over the new ranges as well,
so a lost transfer is repaired. A replica answers a ``Get`` or ``Put`` only for keys it owns in its own view: a
coordinator with a stale view is refused (``stale_route_refused``), so no write is acknowledged by a node that
already handed its ranges on. Views still disagree for a while after a change, so a read and a write quorum taken
from two different rings need not intersect; :mod:`protocols.dynamo` says what the engine finds.
"""

from __future__ import annotations

import attrs
import trio

from faultlab import handler
from protocols.dynamo.config import REPLICA_TIMEOUT
from protocols.dynamo.gossip import Entry, Membership
from protocols.dynamo.replica import ReplicaNode
from protocols.dynamo.ring import ring_of

GOSSIP_PERIOD = 2.0       # seconds between a node's gossip exchanges (and heartbeat bumps)
SUSPECT_AFTER = 6.0       # seconds without a newer heartbeat before a node is suspect
FAIL_AFTER = 10.0         # ... and before it is believed failed (coordinators skip it)
JOIN_DELAYS = (0.0, 0.5, 1.5, 4.0)    # when a spare joins; choice 0: at once
LEAVE_DELAYS = (0.0, 0.5, 1.5, 4.0)   # when a leaver starts handing off; choice 0: at once
TRANSFER_PERIOD = 1.0     # seconds between attempts to deliver queued key transfers
LEAVE_ATTEMPTS = 4        # transfer periods a leaver waits for its handoff to be acknowledged before it leaves anyway

VIEW = ("view",)          # storage: the membership view as of the last ring change (a restart routes on it)
JOINED = ("joined",)      # storage: this spare has joined
LEFT = ("left",)          # storage: this node has left


# -- messages --------------------------------------------------------------------------------------------------------
@attrs.frozen
class Gossip:
    view: tuple[Entry, ...]


@attrs.frozen
class GossipReply:
    view: tuple[Entry, ...]


@attrs.frozen
class Transfer:
    entries: tuple  # ((key, versions), ...): the sender's state of keys the receiver owns in the sender's view


@attrs.frozen
class TransferAck:
    keys: tuple[str, ...]


def ring_change(old: tuple[str, ...], new: tuple[str, ...]) -> str:
    """A ring change as text: ``+n6`` (joined), ``-n5`` (left), or both."""
    return "".join([f"+{n}" for n in new if n not in old] + [f"-{n}" for n in old if n not in new])


# -- the node's membership -------------------------------------------------------------------------------------------
class MemberNode(ReplicaNode):
    """A replica that is a member of the ring: its membership view, its ring, and with ``churn`` its joins, leaves
    and transfers."""

    def __init__(self, ctx):
        super().__init__(ctx)
        initial = self.config.members()
        self.joined = self.id in initial or bool(self.storage.get(JOINED, False))
        self.members = Membership(self.id, ctx.incarnation, initial if self.id in initial else (self.id,), ctx.now(),
                                  suspect_after=SUSPECT_AFTER, fail_after=FAIL_AFTER)
        if self.config.churn:
            self.members.merge(self.storage.get(VIEW, ()), ctx.now())
        self.departed = bool(self.storage.get(LEFT, False))
        if self.departed:
            self.members.leave(ctx.now())
        self.leaving = False  # handing its keys off before it leaves: no longer on its own ring
        self.ring_nodes = self._ring_of_view()
        self.noted_failed: set[str] = set()  # members this incarnation noted as failed, so a note marks a change

    def start(self) -> None:
        if self.config.gossip:
            self.ctx.every(GOSSIP_PERIOD, self.gossip_round)
        if self.config.churn:
            self.ctx.every(TRANSFER_PERIOD, self.send_transfers)
            if not self.joined:
                self.ctx.spawn(self.join_ring)
            elif self.id in self.config.leavers() and not self.departed:
                self.ctx.spawn(self.leave_ring)

    # -- the ring of this node's view ----------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """A ring member now: joined and not left. Only an active node coordinates and serves replicas."""
        return self.joined and not self.departed

    def _ring_of_view(self) -> tuple[str, ...]:
        if not self.config.churn:
            return self.config.members()
        now = self.ctx.now()
        return tuple(n for n in self.members.known() if self.members.status(n, now) != "left"
                     and (n != self.id or (self.active and not self.leaving)))

    def walk(self, key: str) -> tuple[str, ...]:
        """The key's extended preference list on this node's ring: the top N are its owners."""
        return ring_of(self.ring_nodes, self.config.vnodes).walk(key)

    def owners(self, key: str) -> tuple[str, ...]:
        return self.walk(key)[: self.config.n]

    def _owns(self, key: str) -> bool:
        return not self.config.churn or (self.active and self.id in self.owners(key))

    def _believed_failed(self) -> frozenset[str]:
        return self.members.failed(self.ctx.now()) if self.config.gossip else frozenset()

    def _merge_view(self, view) -> None:
        """Merge a gossiped view; if the ring changed, route on the new one and queue the transfers it causes."""
        self.members.merge(view, self.ctx.now())
        if not self.config.churn:
            return
        new = self._ring_of_view()
        if new != self.ring_nodes:
            self._ring_changed(self.ring_nodes, new)

    def _ring_changed(self, old: tuple[str, ...], new: tuple[str, ...]) -> None:
        storage, me, n = self.storage, self.id, self.config.n
        self.ring_nodes = new
        storage[VIEW] = self.members.view()
        change = ring_change(old, new)
        self.ctx.note("ring_changed", change=change, ring=list(new))
        old_ring, new_ring = ring_of(old, self.config.vnodes), ring_of(new, self.config.vnodes)
        for slot in [s for s, _ in storage.items() if s[0] == "transfer" and s[1] not in new]:
            storage.delete(slot)  # its receiver left: the key goes to the new owners instead
        for slot, versions in storage.items():
            if slot[0] != "data" or not versions or len(old) < n or len(new) < n:
                continue
            key = slot[1]
            before, after = old_ring.walk(key)[:n], new_ring.walk(key)[:n]
            targets = [o for o in after if o not in before] if me in after else list(after)
            for to in targets:
                if to != me:
                    storage[("transfer", to, key)] = (change, to not in before)
        storage.sync()

    # -- gossip ----------------------------------------------------------------------------------------------------
    @handler
    def on_gossip(self, msg: Gossip) -> GossipReply:
        self._merge_view(msg.view)
        return GossipReply(self.members.view())

    async def gossip_round(self) -> None:
        """Every ``GOSSIP_PERIOD`` (with ``gossip`` on): bump the own heartbeat, note changed failure beliefs, and
        exchange views with one peer."""
        if not self.joined:
            return  # a spare gossips once it has joined
        now = self.ctx.now()
        self.members.tick(now)
        failed = {m for m in self.members.failed(now) if self.members.status(m, now) == "failed"}
        for member in sorted(failed - self.noted_failed):
            self.ctx.note("member_failed", member=member)
        for member in sorted(self.noted_failed - failed):
            self.ctx.note("member_recovered", member=member)
        self.noted_failed = failed  # a node that left is not failed: it said goodbye
        targets = self.members.gossip_targets()
        if not targets:
            return
        peer = self.ctx.random.choice(targets)  # the gossip peer is the protocol's own coin
        reply = await self.ctx.call(peer, Gossip(self.members.view()), timeout=REPLICA_TIMEOUT)
        if reply is not None:
            self._merge_view(reply.view)

    # -- churn: join, leave, transfers -------------------------------------------------------------------------------
    async def join_ring(self) -> None:
        """A spare: wait the chosen delay, then gossip with a seed member until one answers; that is the join."""
        await trio.sleep(JOIN_DELAYS[self.ctx.choose(len(JOIN_DELAYS))])
        seeds = self.config.members()
        while True:
            seed = self.ctx.random.choice(seeds)
            reply = await self.ctx.call(seed, Gossip(self.members.view()), timeout=REPLICA_TIMEOUT)
            if reply is not None:
                break
            await trio.sleep(GOSSIP_PERIOD)
        self.joined = True
        self.storage[JOINED] = True
        self.storage.sync()
        self.ctx.note("member_joined", member=self.id, seed=seed)
        self.members.merge(reply.view, self.ctx.now())
        self._ring_changed(self.ring_nodes, self._ring_of_view())

    async def leave_ring(self) -> None:
        """A leaver: wait the chosen delay, hand every key to its new owners, then announce the leave and stop."""
        await trio.sleep(LEAVE_DELAYS[self.ctx.choose(len(LEAVE_DELAYS))])
        without_me = tuple(n for n in self.ring_nodes if n != self.id)
        if len(without_me) < self.config.n:
            return  # the rest could not hold N replicas: stay (config validation makes this a crash-only case)
        self.ctx.note("member_leaving", member=self.id)
        self.leaving = True
        self._ring_changed(self.ring_nodes, without_me)  # queues the handoff; this node no longer routes to itself
        for _ in range(LEAVE_ATTEMPTS):
            if not self._pending_transfers():
                break
            await trio.sleep(TRANSFER_PERIOD)
        self.departed = True
        self.storage[LEFT] = True
        self.members.leave(self.ctx.now())
        self.storage[VIEW] = self.members.view()
        self.storage.sync()
        self.ctx.note("member_left", member=self.id, undelivered=len(self._pending_transfers()))
        # Announce it to every member at once rather than to one peer: the sooner every coordinator stops routing
        # here, the shorter the window of refused requests. Gossip carries it on from there.
        await self.ctx.gather(self.ring_nodes, Gossip(self.members.view()), need=len(self.ring_nodes),
                              timeout=REPLICA_TIMEOUT)

    def _pending_transfers(self) -> list[tuple[str, str, tuple[str, bool]]]:
        return [(s[1], s[2], tag) for s, tag in sorted(self.storage.items()) if s[0] == "transfer"]

    @handler
    def on_transfer(self, msg: Transfer) -> TransferAck | None:
        if not self.active:
            return None  # not a ring member (any more): the sender learns that through gossip and re-targets
        for key, versions in msg.entries:
            self._store(key, versions, None)
        return TransferAck(tuple(k for k, _ in msg.entries))

    async def send_transfers(self) -> None:
        """Every ``TRANSFER_PERIOD`` (with ``churn`` on): deliver the queued transfers, one message per receiver."""
        by_receiver: dict[str, list[tuple[str, tuple[str, bool]]]] = {}
        for to, key, tag in self._pending_transfers():
            by_receiver.setdefault(to, []).append((key, tag))
        for to, items in sorted(by_receiver.items()):
            if to in self._believed_failed():
                continue
            entries = tuple((key, self._data(key)) for key, _ in items)
            if await self.ctx.call(to, Transfer(entries), timeout=REPLICA_TIMEOUT) is None:
                continue  # unreachable or not a member: retry next period (or re-target on the next change)
            for key, tag in items:
                if self.storage.get(("transfer", to, key)) == tag:
                    self.storage.delete(("transfer", to, key))
            self.storage.sync()
            for change in sorted({tag[0] for _, tag in items}):
                self.ctx.note("key_transfer", to=to, change=change,
                              keys=[k for k, tag in items if tag[0] == change and tag[1]],
                              refreshed=[k for k, tag in items if tag[0] == change and not tag[1]])
