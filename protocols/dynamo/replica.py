"""A Dynamo node's durable replica state: its versions of each key, and the hints it holds for other nodes.

Storage slots: ``("data", key)`` is this node's replica of a key; ``("hint", intended, key)`` a write it stores as a
stand-in for the unreachable preferred replica ``intended`` (sloppy quorum), until hinted handoff delivers it. Every
store merges (:func:`protocols.dynamo.versions.merge`: siblings or last-writer-wins) and is synced before the
acknowledgement that follows it. The layers above this one (membership, anti-entropy, the coordinator) all store
through :meth:`ReplicaNode._store`.
"""

from __future__ import annotations

from faultlab import Node
from protocols.dynamo.config import DynamoConfig
from protocols.dynamo.versions import Version, merge


class ReplicaNode(Node[DynamoConfig]):
    """The bottom layer of :class:`protocols.dynamo.node.DynamoNode`: what a replica stores, and how."""

    def _data(self, key: str) -> tuple[Version, ...]:
        return self.storage.get(("data", key), ())

    def _hints(self) -> list[tuple[str, str, tuple[Version, ...]]]:
        return [(k[1], k[2], v) for k, v in sorted(self.storage.items()) if k[0] == "hint" and v]

    def _served(self, key: str) -> tuple[Version, ...]:
        """What this node answers for ``key``: its own replica merged with any hints it holds for it."""
        held = [v for intended, k, versions in self._hints() if k == key for v in versions]
        return merge(self.config.conflict, [*self._data(key), *held])

    def _store(self, key: str, versions: tuple[Version, ...], hint: str | None, repaired_by: str | None = None) -> None:
        slot = ("data", key) if hint is None else ("hint", hint, key)
        before = self.storage.get(slot, ())
        after = merge(self.config.conflict, [*before, *versions])
        if after == before:
            return
        self.storage[slot] = after
        self.storage.sync()  # durable before the acknowledgement that follows
        if repaired_by is not None:
            self.ctx.note("anti_entropy_repair", key=key, peer=repaired_by)
        if hint is not None:
            self.ctx.note("hinted_write", key=key, intended=hint)
        elif len(after) > 1 and len(after) > len(before):
            self.ctx.note("siblings", key=key, values=[v.value for v in after])
