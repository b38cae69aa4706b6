"""The simulated network: it only holds messages; nothing is delivered until the driver says so.

Messages wait in send order. The driver delivers the oldest one unless it chooses a fault: ``drop`` removes a
message, ``duplicate`` delivers it and queues a copy behind everything else, ``delay`` holds it back for a stretch of
virtual time, after which it re-enters the queue behind newer messages (that is how messages get reordered).
A partition is a set of cut links between nodes; a message sent over a cut link, or still in flight when its link
is cut, is lost. Client endpoints are never partitioned from nodes: as in Jepsen, clients stand outside the cluster;
their requests can be lost or delayed but are never duplicated (see the injector).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class Envelope:
    """A message in flight. ``id`` is its stable identity: unique per run, increasing in send order."""

    __slots__ = ("id", "src", "dst", "msg", "reply_to", "sent_at", "deliver_at")

    def __init__(self, id: int, src: str, dst: str, msg: Any, reply_to: int | None, sent_at: float):
        self.id = id
        self.src = src
        self.dst = dst
        self.msg = msg
        self.reply_to = reply_to
        self.sent_at = sent_at
        self.deliver_at = sent_at

    def __repr__(self) -> str:
        return f"<#{self.id} {self.src}->{self.dst} {type(self.msg).__name__}>"


class Network:
    """In-flight messages plus the current partition."""

    def __init__(self, nodes: Iterable[str]):
        self.nodes = tuple(sorted(nodes))
        self._queue: dict[int, Envelope] = {}  # insertion order is delivery order
        self._held: dict[int, Envelope] = {}   # delayed: re-enter the queue at deliver_at
        self._cut: frozenset[tuple[str, str]] = frozenset()
        self._next_id = 0

    # -- sending -------------------------------------------------------------------------------------------------
    def send(self, src: str, dst: str, msg: Any, reply_to: int | None, now: float) -> tuple[Envelope, bool]:
        """Queue a message; the flag is False (and nothing is queued) when the link is cut."""
        self._next_id += 1
        env = Envelope(self._next_id, src, dst, msg, reply_to, now)
        if (src, dst) in self._cut:
            return env, False
        self._queue[env.id] = env
        return env, True

    # -- the driver's view ---------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._queue)

    @property
    def in_flight(self) -> int:
        return len(self._queue) + len(self._held)

    def oldest(self) -> Envelope | None:
        for env in self._queue.values():
            return env
        return None

    def oldest_n(self, n: int) -> list[Envelope]:
        out = []
        for env in self._queue.values():
            out.append(env)
            if len(out) == n:
                break
        return out

    def pop(self, env: Envelope) -> None:
        del self._queue[env.id]

    def requeue_copy(self, env: Envelope) -> Envelope:
        """A duplicate of ``env`` behind everything in flight, with a new identity."""
        self._next_id += 1
        copy = Envelope(self._next_id, env.src, env.dst, env.msg, env.reply_to, env.sent_at)
        self._queue[copy.id] = copy
        return copy

    def hold(self, env: Envelope, until: float) -> None:
        del self._queue[env.id]
        env.deliver_at = until
        self._held[env.id] = env

    def next_release(self) -> float | None:
        return min((e.deliver_at for e in self._held.values()), default=None)

    def release(self, now: float) -> list[Envelope]:
        """Move delayed messages whose time has come back into the queue (behind newer ones), by identity order."""
        due = sorted((e for e in self._held.values() if e.deliver_at <= now), key=lambda e: (e.deliver_at, e.id))
        for e in due:
            del self._held[e.id]
            self._queue[e.id] = e
        return due

    # -- partitions ----------------------------------------------------------------------------------------------
    def is_cut(self, src: str, dst: str) -> bool:
        return (src, dst) in self._cut

    def partition(self, sides: list[list[str]], bridge: str | None = None) -> None:
        """Cut every link between nodes on different sides; a ``bridge`` node keeps links to every side."""
        side_of = {n: i for i, side in enumerate(sides) for n in side}
        cut = set()
        for a in self.nodes:
            for b in self.nodes:
                if a == b or bridge in (a, b):
                    continue
                if side_of.get(a, -1) != side_of.get(b, -2):
                    cut.add((a, b))
        self._cut = frozenset(cut)

    def heal(self) -> None:
        self._cut = frozenset()

    @property
    def partitioned(self) -> bool:
        return bool(self._cut)
