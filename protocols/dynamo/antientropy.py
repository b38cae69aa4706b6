"""A Dynamo node's anti-entropy: every period each pair of replicas compares Merkle trees over the keys both own.

The trees and the comparison are :mod:`protocols.dynamo.merkle` (pure); this module is the node's side, the layer
:class:`AntiEntropyNode` of :class:`protocols.dynamo.node.DynamoNode`: the messages, the periodic round, and the
replies. Two replicas share the keys whose N owners, on the ring of this node's view, include both. The comparison
goes top-down over messages, descending only into subtrees whose hashes differ, then the pair swaps the entries of
the differing leaves (``anti_entropy_repair``). Each pair syncs both ways in one exchange, so only its smaller node
starts it. After a join or a leave the shared ranges follow the new ring, so a key transfer that was lost is repaired
here.
"""

from __future__ import annotations

import attrs

from faultlab import every, handler
from protocols.dynamo.config import REPLICA_TIMEOUT
from protocols.dynamo.membership import MemberNode
from protocols.dynamo.merkle import MerkleDiff, MerkleTree
from protocols.dynamo.versions import Version

ANTI_ENTROPY_PERIOD = 3.0  # seconds between Merkle-tree comparisons with each peer
MERKLE_DEPTH = 3           # levels below the root of each anti-entropy tree: 8 leaves, ample for the workload's keys


# -- messages --------------------------------------------------------------------------------------------------------
@attrs.frozen
class TreeQuery:
    level: int                 # of the Merkle tree over the keys the sender and receiver both replicate
    indices: tuple[int, ...]   # nodes of that level whose hashes the sender wants


@attrs.frozen
class TreeHashes:
    hashes: tuple[bytes, ...]


@attrs.frozen
class LeafSync:
    leaves: tuple[int, ...]    # the leaves that differ
    entries: tuple[tuple[str, tuple[Version, ...]], ...]  # the sender's (key, versions) in those leaves


@attrs.frozen
class LeafSyncAck:
    entries: tuple[tuple[str, tuple[Version, ...]], ...]  # the receiver's state of those leaves after merging


# -- the node's anti-entropy -----------------------------------------------------------------------------------------
class AntiEntropyNode(MemberNode):
    """A ring member that compares Merkle trees with every peer it shares a range with, and repairs what differs."""

    def _shared(self, peer: str) -> dict[str, tuple[Version, ...]]:
        """This replica's state of the keys whose N owners include both it and ``peer``."""
        pair = {self.id, peer}
        return {slot[1]: versions for slot, versions in sorted(self.storage.items())
                if slot[0] == "data" and versions and pair <= set(self.owners(slot[1]))}

    def _tree(self, peer: str) -> MerkleTree:
        return MerkleTree.of(self._shared(peer), MERKLE_DEPTH)

    def _leaf_entries(self, peer: str, leaves: tuple[int, ...]) -> tuple[tuple[str, tuple[Version, ...]], ...]:
        shared = self._shared(peer)
        return tuple((k, shared[k]) for k in MerkleTree.of(shared, MERKLE_DEPTH).keys_in(leaves))

    @handler
    def on_tree_query(self, msg: TreeQuery, src: str) -> TreeHashes | None:
        if not self.active:
            return None  # not a ring member: it shares no range with anyone
        return TreeHashes(self._tree(src).hashes(msg.level, msg.indices))

    @handler
    def on_leaf_sync(self, msg: LeafSync, src: str) -> LeafSyncAck | None:
        if not self.active:
            return None
        for key, versions in msg.entries:
            self._store(key, versions, None, repaired_by=src)
        return LeafSyncAck(self._leaf_entries(src, msg.leaves))

    @every(ANTI_ENTROPY_PERIOD)
    async def sync_replicas(self) -> None:
        if not self.active:
            return
        for peer in sorted(self.ring_nodes):
            if peer > self.id and peer not in self._believed_failed():
                await self._sync_with(peer)

    async def _sync_with(self, peer: str) -> None:
        """Compare trees with ``peer`` top-down, then swap the entries of the leaves that differ."""
        diff = MerkleDiff(self._tree(peer))
        while (query := diff.query()) is not None:
            reply = await self.ctx.call(peer, TreeQuery(*query), timeout=REPLICA_TIMEOUT)
            if reply is None:
                return  # unreachable: the next period tries again
            diff.answer(reply.hashes)
        if not diff.differing_leaves:
            return
        leaves = diff.differing_leaves
        reply = await self.ctx.call(peer, LeafSync(leaves, self._leaf_entries(peer, leaves)), timeout=REPLICA_TIMEOUT)
        if reply is not None:
            for key, versions in reply.entries:
                self._store(key, versions, None, repaired_by=peer)
