"""The simulated network: it only holds messages; nothing is delivered until the driver says so.

Messages wait in send order, and the driver delivers the oldest deliverable one unless it chooses a fault. What
the network can do to a message is a declared property of the protocol (``Protocol.links``, overridable per variant
and run), one of two link models:

``stream`` (the default: services talk over TCP)
    Messages between two endpoints travel over a connection: they arrive in the order they were sent and never twice.
    Loss is a broken connection: a ``drop`` resets one connection and loses everything in flight on it, both ways; a
    partition resets every connection it cuts, and a message sent over a cut link is lost (and resets its
    connection); a crash resets every connection of the crashed node, so nothing sent to one incarnation reaches the
    next, and a message to a node that is down is lost at once. A ``delay`` holds a whole direction of a connection
    (a slow path): the held message and everything sent after it on that direction wait, still in order. There is
    no ``duplicate``: duplicates come from a protocol's own retries, which the protocol must make safe.
``datagram`` (UDP-like)
    Any message may be lost, duplicated (between nodes: a client's request is never duplicated, see the injector) or
    delayed past later ones on the same link. A message in flight when its link is cut, or addressed to a node that
    is down when it arrives, is lost.

Client endpoints are never partitioned from nodes: as in Jepsen, clients stand outside the cluster.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from typing import Any


class Links(enum.StrEnum):
    """The link models: what the network may do to a message (see the module docstring)."""

    STREAM = "stream"
    DATAGRAM = "datagram"


class Envelope:
    """A message in flight. ``id`` is its stable identity: unique per run, increasing in send order."""

    __slots__ = ("id", "src", "dst", "msg", "reply_to", "sent_at", "deliver_at", "cause")

    def __init__(self, id: int, src: str, dst: str, msg: Any, reply_to: int | None, sent_at: float,
                 cause: Any = None):
        self.id = id
        self.src = src
        self.dst = dst
        self.msg = msg
        self.reply_to = reply_to
        self.sent_at = sent_at
        self.deliver_at = sent_at
        self.cause = cause  # the operation the sender was working for (faultlab.choices.CAUSE)

    def __repr__(self) -> str:
        return f"<#{self.id} {self.src}->{self.dst} {type(self.msg).__name__}>"


class Network:
    """In-flight messages, the current partition, and (stream) the directions of connections being held back."""

    def __init__(self, nodes: Iterable[str], links: Links | str = Links.STREAM):
        self.nodes = tuple(sorted(nodes))
        self.links = Links(links)
        self._queue: dict[int, Envelope] = {}  # insertion order is send order
        self._held: dict[int, Envelope] = {}   # datagram: delayed messages, re-entering the queue at deliver_at
        self._slow: dict[tuple[str, str], float] = {}  # stream: (src, dst) held back until this time
        self._cut: frozenset[tuple[str, str]] = frozenset()
        self._next_id = 0
        # latency (faultlab.latency): messages on the wire until their arrival time, then in the queue
        self._transit: dict[int, Envelope] = {}
        self._last_arrival: dict[tuple[str, str], float] = {}  # stream: a message never overtakes the one before

    @property
    def stream(self) -> bool:
        return self.links is Links.STREAM

    # -- sending -------------------------------------------------------------------------------------------------
    def send(self, src: str, dst: str, msg: Any, reply_to: int | None, now: float,
             cause: Any = None, latency: float = 0.0) -> tuple[Envelope, bool]:
        """Queue a message, or with a ``latency`` put it on the wire until it arrives; the flag is False (and
        nothing is queued) when the link is cut."""
        self._next_id += 1
        env = Envelope(self._next_id, src, dst, msg, reply_to, now, cause)
        if (src, dst) in self._cut:
            return env, False
        if latency > 0.0:
            arrive = now + latency
            if self.stream:
                link = (src, dst)
                arrive = max(arrive, self._last_arrival.get(link, arrive))
                self._last_arrival[link] = arrive
            env.deliver_at = arrive
            self._transit[env.id] = env
            return env, True
        self._queue[env.id] = env
        return env, True

    @property
    def in_transit(self) -> int:
        """Messages still on the wire (latency)."""
        return len(self._transit)

    # -- the driver's view ---------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._queue)

    @property
    def in_flight(self) -> int:
        return len(self._queue) + len(self._held) + len(self._transit)

    def _deliverable(self) -> Iterator[Envelope]:
        slow = self._slow
        for env in self._queue.values():
            if not slow or (env.src, env.dst) not in slow:
                yield env

    def oldest(self) -> Envelope | None:
        """The message due next: the oldest one not held back."""
        if not self._slow:  # the common case, once per step: no generator
            for env in self._queue.values():
                return env
            return None
        for env in self._deliverable():
            return env
        return None

    def oldest_n(self, n: int) -> list[Envelope]:
        """The ``n`` oldest deliverable messages, oldest first."""
        out = []
        for env in self._deliverable():
            out.append(env)
            if len(out) == n:
                break
        return out

    def deliverable(self) -> list[Envelope]:
        return list(self._deliverable())

    def pop(self, env: Envelope) -> None:
        del self._queue[env.id]

    def discard(self, env: Envelope) -> None:
        """Take ``env`` out of the network, queued or still on the wire."""
        self._queue.pop(env.id, None)
        self._transit.pop(env.id, None)

    def requeue_copy(self, env: Envelope) -> Envelope:
        """A duplicate of ``env`` behind everything in flight, with a new identity (datagram links only)."""
        assert not self.stream, "a stream link never duplicates"
        self._next_id += 1
        copy = Envelope(self._next_id, env.src, env.dst, env.msg, env.reply_to, env.sent_at, env.cause)
        self._queue[copy.id] = copy
        return copy

    # -- delays --------------------------------------------------------------------------------------------------
    def hold(self, env: Envelope, until: float) -> list[Envelope]:
        """Hold ``env`` back until ``until``; returns what is held. On a stream link the whole direction of its
        connection waits (what is sent on it later too), so order is kept; on a datagram link only ``env``, which
        then re-enters the queue behind newer messages (that is how datagrams get reordered)."""
        if self.stream:
            link = (env.src, env.dst)
            self._slow[link] = max(until, self._slow.get(link, until))
            return [e for e in self._queue.values() if (e.src, e.dst) == link]
        del self._queue[env.id]
        env.deliver_at = until
        self._held[env.id] = env
        return [env]

    def next_release(self) -> float | None:
        """When the next held message becomes deliverable (a stream direction counts only if it holds messages)."""
        times = [e.deliver_at for e in self._held.values()]
        if self._transit:
            times.append(min(e.deliver_at for e in self._transit.values()))
        if self._slow:
            busy = {(e.src, e.dst) for e in self._queue.values()}
            times += [t for link, t in self._slow.items() if link in busy]
        return min(times, default=None)

    def release(self, now: float) -> None:
        """Let held messages whose time has come be delivered: datagrams re-enter the queue behind newer ones (by
        identity order); stream directions resume in order."""
        if self._slow:
            for link in [link for link, t in self._slow.items() if t <= now]:
                del self._slow[link]
        if self._held:
            due = sorted((e for e in self._held.values() if e.deliver_at <= now), key=lambda e: (e.deliver_at, e.id))
            for e in due:
                del self._held[e.id]
                self._queue[e.id] = e
        if self._transit:  # arrivals join the queue in arrival order
            due = sorted((e for e in self._transit.values() if e.deliver_at <= now),
                         key=lambda e: (e.deliver_at, e.id))
            for e in due:
                del self._transit[e.id]
                self._queue[e.id] = e

    def end_slow_paths(self) -> bool:
        """Stop holding back stream directions (recovery: a slow path is a fault, and faults end); True if any was
        held. Delayed datagrams are messages in flight and keep their arrival times."""
        held = bool(self._slow)
        self._slow.clear()
        return held

    # -- connections (stream) ------------------------------------------------------------------------------------
    def reset(self, a: str, b: str) -> list[Envelope]:
        """Break the connection between ``a`` and ``b``: everything in flight on it, both ways, is lost."""
        lost = [e for e in self._queue.values() if (e.src, e.dst) in ((a, b), (b, a))]
        lost += [e for e in self._held.values() if (e.src, e.dst) in ((a, b), (b, a))]
        lost += [e for e in self._transit.values() if (e.src, e.dst) in ((a, b), (b, a))]
        for e in lost:
            self._queue.pop(e.id, None)
            self._held.pop(e.id, None)
            self._transit.pop(e.id, None)
        self._slow.pop((a, b), None)
        self._slow.pop((b, a), None)
        return sorted(lost, key=lambda e: e.id)

    def reset_endpoint(self, node: str) -> list[Envelope]:
        """Break every connection of ``node`` (it crashed): everything in flight to or from it is lost."""
        lost = [e for e in (*self._queue.values(), *self._held.values(), *self._transit.values())
                if node in (e.src, e.dst)]
        for e in lost:
            self._queue.pop(e.id, None)
            self._held.pop(e.id, None)
            self._transit.pop(e.id, None)
        for link in [link for link in self._slow if node in link]:
            del self._slow[link]
        return sorted(lost, key=lambda e: e.id)

    # -- partitions ----------------------------------------------------------------------------------------------
    def is_cut(self, src: str, dst: str) -> bool:
        return (src, dst) in self._cut

    def partition(self, sides: list[list[str]], bridge: str | None = None) -> list[Envelope]:
        """Cut every link between nodes on different sides; a ``bridge`` node keeps links to every side. On stream
        links the connections cut are reset: returns the messages that were in flight on them."""
        side_of = {n: i for i, side in enumerate(sides) for n in side}
        cut = set()
        for a in self.nodes:
            for b in self.nodes:
                if a == b or bridge in (a, b):
                    continue
                if side_of.get(a, -1) != side_of.get(b, -2):
                    cut.add((a, b))
        self._cut = frozenset(cut)
        if not self.stream:
            return []
        lost = []
        for a, b in sorted(cut):
            if a < b:
                lost += self.reset(a, b)
        return sorted(lost, key=lambda e: e.id)

    def heal(self) -> None:
        self._cut = frozenset()

    @property
    def partitioned(self) -> bool:
        return bool(self._cut)
