"""Dynamo's partitioning: a consistent-hash ring with virtual nodes, and preference lists walked clockwise.

Every physical node owns ``vnodes`` tokens at ``md5("node#i")`` on a 64-bit ring; a key lives at ``md5(key)`` and
its preference list is the distinct physical nodes met walking clockwise from there. The first N are the key's
preferred replicas; the rest, in order, are the stand-ins a sloppy quorum falls back to. md5 rather than Python's
``hash()``: the ring must be the same in every process and under every ``PYTHONHASHSEED``.

Also here, because it is a pure computation on this ring: :func:`measure_movement`, the figure behind the seed's
"Adding/removing nodes only moves ~1/N of data", compared with modular hashing (``md5(key) mod N``).
"""

from __future__ import annotations

import bisect
import functools
import hashlib

from faultlab import Measurement, Plot


def ring_position(text: str) -> int:
    """A position on the 64-bit ring: the first 8 bytes of md5, the same in every process."""
    return int.from_bytes(hashlib.md5(text.encode()).digest()[:8], "big")


class Ring:
    """A consistent-hash ring over ``nodes`` with ``vnodes`` tokens each. Immutable; walks are cached per key."""

    def __init__(self, nodes: tuple[str, ...], vnodes: int):
        tokens = sorted((ring_position(f"{node}#{i}"), node) for node in nodes for i in range(vnodes))
        self.nodes = tuple(sorted(nodes))
        self._positions = [t for t, _ in tokens]
        self._owners = [n for _, n in tokens]
        self._walks: dict[str, tuple[str, ...]] = {}

    def primary(self, key: str) -> str:
        """The node owning the first token clockwise from the key (the coordinator in the paper)."""
        i = bisect.bisect_right(self._positions, ring_position(key)) % len(self._positions)
        return self._owners[i]

    def walk(self, key: str) -> tuple[str, ...]:
        """Every physical node, in the order met walking clockwise from the key: the extended preference list."""
        walk = self._walks.get(key)
        if walk is None:
            start = bisect.bisect_right(self._positions, ring_position(key))
            seen: dict[str, None] = {}
            for j in range(len(self._owners)):
                seen.setdefault(self._owners[(start + j) % len(self._owners)], None)
                if len(seen) == len(self.nodes):
                    break
            walk = self._walks[key] = tuple(seen)
        return walk

    def preference_list(self, key: str, n: int) -> tuple[str, ...]:
        """The key's N preferred replicas: the first N distinct physical nodes clockwise."""
        return self.walk(key)[:n]


@functools.lru_cache(maxsize=64)
def ring_of(nodes: tuple[str, ...], vnodes: int) -> Ring:
    return Ring(nodes, vnodes)


def node_names(count: int) -> tuple[str, ...]:
    return tuple(f"n{i + 1}" for i in range(count))


# -- the measured claim ----------------------------------------------------------------------------------------------
MOVEMENT_SIZES = (4, 8, 16, 32)
MOVEMENT_VNODES = 64
MOVEMENT_KEYS = 20_000


def _moved(before: Ring, after: Ring, keys: list[str]) -> float:
    return sum(before.primary(k) != after.primary(k) for k in keys) / len(keys)


def measure_movement(seed: int, sizes: tuple[int, ...] = MOVEMENT_SIZES, vnodes: int = MOVEMENT_VNODES,
                     keys: int = MOVEMENT_KEYS) -> Measurement:
    """Fraction of keys whose owner changes when an N-th node joins (N-1 -> N) or one of N leaves (N -> N-1).

    The claim is ~1/N, so the figure is the fraction times N, averaged over sizes and both directions: 1.0 means the
    claim holds exactly. Modular hashing, the alternative the seed names, is measured the same way for contrast
    (about N-1: nearly every key moves). ``seed`` picks the key names, so the figure is reproducible.
    """
    names = [f"key-{seed}-{i}" for i in range(keys)]
    rows, scaled = [], []
    for n in sizes:
        nodes = node_names(n)
        full = Ring(nodes, vnodes)
        added = _moved(Ring(nodes[:-1], vnodes), full, names)
        leaver = nodes[n // 2]
        removed = _moved(full, Ring(tuple(x for x in nodes if x != leaver), vnodes), names)
        positions = [ring_position(k) for k in names]
        modular = sum(p % (n - 1) != p % n for p in positions) / keys
        scaled += [added * n, removed * n]
        rows.append({"N": n, "vnodes": vnodes, "keys": keys, "moved_on_join": round(added, 4),
                     "moved_on_leave": round(removed, 4), "join_x_N": round(added * n, 3),
                     "leave_x_N": round(removed * n, 3), "modular_moved": round(modular, 4),
                     "modular_x_N": round(modular * n, 3)})
    figure = sum(scaled) / len(scaled)
    return Measurement(
        figure=round(figure, 3), unit="x 1/N (fraction of keys moved, times N)",
        summary=f"a join or leave moves {figure:.2f}/N of the keys on average for N in {list(sizes)} with "
                f"{vnodes} virtual nodes each (modular hashing: {rows[-1]['modular_x_N']:.1f}/N at N={sizes[-1]})",
        table=rows, plot=Plot("N", ("moved_on_join", "moved_on_leave", "modular_moved"),
                              title="fraction of keys moved by one join or leave: consistent vs modular hashing"))
