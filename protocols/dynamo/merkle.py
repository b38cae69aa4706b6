"""Dynamo's anti-entropy: a Merkle tree over the keys two replicas share, compared top-down to find what differs.

Two replicas share a *range*: the keys whose N preferred replicas include both. Each builds a hash tree of fixed
``depth`` over its keys in the range: a key falls in leaf ``md5(key) >> (64 - depth)`` (its ring position's top
bits, so a leaf is a contiguous arc of the ring), a leaf hashes its ``(key, versions)`` entries in key order, and an
inner node hashes its two children. sha256 and md5 from hashlib, never ``hash()``: two processes, or two replicas
under different ``PYTHONHASHSEED``, must build the same tree from the same data.

:class:`MerkleDiff` is the comparison, written without I/O so the protocol and the measurement run the same code:
``query()`` names the tree nodes whose hashes it needs from the other replica (the root first), ``answer(hashes)``
compares them with its own and descends only into the children of nodes that differ, until it has the leaves that
differ. The protocol sends each query as a message (:mod:`protocols.dynamo`); :func:`measure_comparisons` answers it
from a second tree in memory. Only the entries of differing leaves are then exchanged.

Also here, as a pure computation on this code: the figure behind "Merkle trees identify differences with O(log N)
comparisons", against the N comparisons of full data comparison.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping

from faultlab import Measurement, Plot
from protocols.dynamo.ring import ring_position
from protocols.dynamo.versions import Version

EMPTY = hashlib.sha256(b"").digest()  # the hash of a leaf with no keys


def entry_digest(key: str, versions: Iterable[Version]) -> bytes:
    """A replica's state of one key as bytes: equal exactly when the (canonical, dot-sorted) version sets are."""
    canon = [[list(v.dot), [list(d) for d in v.context], v.value, v.ts] for v in versions]
    return hashlib.sha256(json.dumps([key, canon], separators=(",", ":")).encode()).digest()


def leaf_of(key: str, depth: int) -> int:
    """The leaf a key falls in: the top ``depth`` bits of its ring position."""
    return ring_position(key) >> (64 - depth) if depth else 0


class MerkleTree:
    """A complete binary hash tree of ``depth`` levels below the root over ``{key: entry digest}``. Immutable."""

    def __init__(self, digests: Mapping[str, bytes], depth: int):
        if not 0 <= depth <= 24:
            raise ValueError(f"MerkleTree depth={depth} must be between 0 and 24")
        self.depth = depth
        buckets: dict[int, list[tuple[str, bytes]]] = {}
        for key in sorted(digests):
            buckets.setdefault(leaf_of(key, depth), []).append((key, digests[key]))
        self._buckets = buckets
        leaves = [EMPTY] * (1 << depth)
        for i, entries in buckets.items():
            h = hashlib.sha256()
            for key, digest in entries:
                h.update(key.encode() + b"\0" + digest)
            leaves[i] = h.digest()
        levels = [leaves]
        while len(levels[0]) > 1:
            below = levels[0]
            levels.insert(0, [hashlib.sha256(below[i] + below[i + 1]).digest() for i in range(0, len(below), 2)])
        self._levels = levels  # levels[0] = [root], levels[depth] = the leaves

    @classmethod
    def of(cls, state: Mapping[str, tuple[Version, ...]], depth: int) -> MerkleTree:
        return cls({k: entry_digest(k, v) for k, v in state.items()}, depth)

    @property
    def root(self) -> bytes:
        return self._levels[0][0]

    def hashes(self, level: int, indices: Iterable[int]) -> tuple[bytes, ...]:
        return tuple(self._levels[level][i] for i in indices)

    def keys_in(self, leaves: Iterable[int]) -> list[str]:
        return [k for i in sorted(set(leaves)) for k, _ in self._buckets.get(i, ())]


class MerkleDiff:
    """A top-down comparison of ``tree`` with another replica's tree of the same depth, one level per round trip.

    ``query()`` is ``(level, indices)`` to ask the other side for, or None when done; ``answer(hashes)`` takes
    the other side's hashes of those nodes. ``comparisons`` counts hashes compared; ``differing_leaves`` is the
    result. Contract: the other side answers from a tree of the same depth (a different depth is a bug, not a
    difference).
    """

    def __init__(self, tree: MerkleTree):
        self.tree = tree
        self.level = 0
        self.pending: tuple[int, ...] = (0,)
        self.comparisons = 0
        self.round_trips = 0
        self.differing_leaves: tuple[int, ...] = ()

    @property
    def done(self) -> bool:
        return not self.pending

    def query(self) -> tuple[int, tuple[int, ...]] | None:
        return None if self.done else (self.level, self.pending)

    def answer(self, theirs: tuple[bytes, ...]) -> None:
        if len(theirs) != len(self.pending):
            raise ValueError(f"MerkleDiff: got {len(theirs)} hashes for {len(self.pending)} nodes")
        mine = self.tree.hashes(self.level, self.pending)
        self.comparisons += len(self.pending)
        self.round_trips += 1
        differ = [i for i, a, b in zip(self.pending, mine, theirs, strict=True) if a != b]
        if self.level == self.tree.depth:
            self.differing_leaves, self.pending = tuple(differ), ()
            return
        self.level += 1
        self.pending = tuple(c for i in differ for c in (2 * i, 2 * i + 1))


def compare(mine: MerkleTree, theirs: MerkleTree) -> MerkleDiff:
    """Run a whole comparison in memory (the other tree answers every query at once)."""
    diff = MerkleDiff(mine)
    while (q := diff.query()) is not None:
        diff.answer(theirs.hashes(*q))
    return diff


# -- the measured claim ----------------------------------------------------------------------------------------------
MERKLE_SIZES = tuple(2 ** e for e in range(6, 15))  # N = 64 .. 16,384 keys
DIFFERING = (1, 8)


def measure_comparisons(seed: int, sizes: tuple[int, ...] = MERKLE_SIZES,
                        differing: tuple[int, ...] = DIFFERING) -> Measurement:
    """Hashes compared to find ``k`` differing keys among N, against the N comparisons of full data comparison.

    The tree depth is ``ceil(log2 N)`` (about one key per leaf, as a Dynamo tree's leaves are small key ranges).
    Two replicas hold the same N keys except that ``k`` of them (picked by ``seed``) carry a newer version on one
    side. The figure is comparisons / log2 N for k = 1, averaged over the sizes: the claim holds if it stays flat
    as N grows (for one difference it is 1 + 2 log2 N, so about 2); full comparison's N / log2 N grows without
    bound. Every run also checks the comparison found exactly the differing keys, or the figure would be
    meaningless.
    """
    rows, ratios = [], []
    for n in sizes:
        depth = max(1, math.ceil(math.log2(n)))
        keys = [f"key-{seed}-{i}" for i in range(n)]
        base = {k: (Version(("n1", i + 1), (), i + 1, 0.0),) for i, k in enumerate(keys)}
        for k in differing:
            changed = {keys[(seed * 7919 + j * (n // k + 1)) % n] for j in range(k)}
            other = dict(base)
            for key in changed:
                (v,) = base[key]
                other[key] = (Version(("n2", 1), (tuple(v.dot),), -v.value, 0.0),)
            a, b = MerkleTree.of(base, depth), MerkleTree.of(other, depth)
            diff = compare(a, b)
            found = set(a.keys_in(diff.differing_leaves)) | set(b.keys_in(diff.differing_leaves))
            candidates = {key for key in found if base.get(key) != other.get(key)}
            if candidates != changed:
                raise AssertionError(f"Merkle comparison at N={n} found {sorted(candidates)}, not {sorted(changed)}")
            log_n = math.log2(n)
            if k == 1:
                ratios.append(diff.comparisons / log_n)
            rows.append({"N": n, "differing_keys": k, "depth": depth, "comparisons": diff.comparisons,
                         "round_trips": diff.round_trips, "keys_exchanged": len(a.keys_in(diff.differing_leaves)),
                         "comparisons_per_log2N": round(diff.comparisons / log_n, 3), "full_comparison": n,
                         "full_per_log2N": round(n / log_n, 1)})
    figure = sum(ratios) / len(ratios)
    ones = [r for r in rows if r["differing_keys"] == 1]
    return Measurement(
        figure=round(figure, 3), unit="hashes compared / log2 N (one differing key)",
        summary=f"one differing key among N = {sizes[0]}..{sizes[-1]} is found with {ones[0]['comparisons']}.."
                f"{ones[-1]['comparisons']} hash comparisons, {min(ratios):.2f}..{max(ratios):.2f} x log2 N "
                f"(flat: O(log N)); full data comparison takes N = {sizes[0]}..{sizes[-1]}",
        table=rows, plot=Plot("N", "comparisons", series="differing_keys", log_y=True,
                              title="hash comparisons to find the differing keys, vs N"))
