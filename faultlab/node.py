"""The small API protocol code is written against: a node's context and its durable storage.

A protocol node is an object with ``async def run(self)``, built by a factory from a :class:`NodeContext`. Its
attributes and locals are its volatile state: a crash cancels everything it was doing and throws the object away;
a restart builds a new object (a new incarnation) over the same :class:`Storage`. Protocol code talks to the world
only through the context: it never calls ``random``, ``time``, sockets or threads, and it never touches the network
object or trio internals. Timers are plain trio (``trio.sleep``, ``trio.move_on_after``) on the virtual clock.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import trio

from faultlab.network import Envelope

if TYPE_CHECKING:
    from faultlab.runtime import Simulation


_DELETED = object()  # a tombstone in the unsynced overlay


class Storage:
    """A node's durable key-value store, with an explicit sync.

    Writes land in an unsynced overlay (the OS page cache); :meth:`sync` makes them durable. A plain ``crash`` keeps
    the overlay (the process died, the machine did not); ``lose_unsynced`` throws it away (power loss).
    """

    __slots__ = ("_synced", "_unsynced")

    def __init__(self) -> None:
        self._synced: dict[Any, Any] = {}
        self._unsynced: dict[Any, Any] = {}

    def get(self, key: Any, default: Any = None) -> Any:
        if key in self._unsynced:
            value = self._unsynced[key]
            return default if value is _DELETED else value
        return self._synced.get(key, default)

    def __getitem__(self, key: Any) -> Any:
        value = self.get(key, _DELETED)
        if value is _DELETED:
            raise KeyError(key)
        return value

    def __contains__(self, key: Any) -> bool:
        return self.get(key, _DELETED) is not _DELETED

    def __setitem__(self, key: Any, value: Any) -> None:
        self._unsynced[key] = value

    def delete(self, key: Any) -> None:
        """Remove ``key``; like a write, the removal is durable only after :meth:`sync`."""
        self._unsynced[key] = _DELETED

    def keys(self) -> list[Any]:
        return [k for k, _ in self.items()]

    def items(self) -> list[tuple[Any, Any]]:
        merged = {**self._synced, **self._unsynced}
        return [(k, v) for k, v in merged.items() if v is not _DELETED]

    def sync(self) -> None:
        """Make every write (and delete) so far durable (fsync)."""
        for key, value in self._unsynced.items():
            if value is _DELETED:
                self._synced.pop(key, None)
            else:
                self._synced[key] = value
        self._unsynced.clear()

    @property
    def has_unsynced(self) -> bool:
        return bool(self._unsynced)

    def lose_unsynced(self) -> int:
        n = len(self._unsynced)
        self._unsynced.clear()
        return n


class Coins:
    """A node's own random draws: Raft's election timeouts, a gossip peer, retry jitter.

    These are the protocol's coins, not the environment's. While faults are injected (the main phase) the search
    steers them like any other choice (``random()`` is one of 16 levels, 0 first), because safety must hold for
    every coin, including the worst. From recovery on (faults stopped: the "global stabilization time" every
    liveness claim assumes) they are fair: independent draws from a generator seeded per run, node and incarnation
    from the run's coin seed (itself a recorded choice), so the search seeds them but does not steer them. Liveness
    (convergence, anything "eventually") is therefore judged with fair coins, as Raft's liveness argument needs.
    Environment decisions (which replica answers first, when an operator adds a node) use :meth:`NodeContext.choose`
    instead, which is steered throughout.
    """

    LEVELS = 16  # resolution of a steered random(): few values, so the search (and shrinking) can reach ties

    __slots__ = ("_sim", "_node", "_incarnation", "_rng")

    def __init__(self, sim: Simulation, node: str, incarnation: int):
        self._sim = sim
        self._node = node
        self._incarnation = incarnation
        self._rng: random.Random | None = None

    def _fair(self) -> random.Random | None:
        if self._sim.coin_seed is None:
            return None
        if self._rng is None:  # str seeds hash with sha512: the same stream under any PYTHONHASHSEED
            self._rng = random.Random(f"{self._sim.coin_seed}/{self._node}/{self._incarnation}")
        return self._rng

    def random(self) -> float:
        """A float in [0, 1)."""
        rng = self._fair()
        if rng is not None:
            return rng.random()
        return self._sim.choices.choose(self.LEVELS) / self.LEVELS

    def uniform(self, a: float, b: float) -> float:
        """A float in [a, b); ``a`` is the steered default."""
        return a + (b - a) * self.random()

    def randrange(self, n: int) -> int:
        """An int in [0, n)."""
        rng = self._fair()
        return rng.randrange(n) if rng is not None else self._sim.choices.choose(n)

    def choice(self, seq: Sequence[Any]) -> Any:
        """One element of a non-empty sequence."""
        return seq[self.randrange(len(seq))]


class NodeContext:
    """What a node may do: send and receive, call peers, read its own clock, use its storage, make choices."""

    def __init__(self, sim: Simulation, node_id: str, storage: Storage, incarnation: int):
        self._sim = sim
        self.id = node_id
        self.storage = storage
        self.incarnation = incarnation
        self.config = sim.config
        self.nodes: tuple[str, ...] = sim.node_ids
        self.peers: tuple[str, ...] = tuple(n for n in sim.node_ids if n != node_id)
        self.zone: str | None = sim.zone_of.get(node_id)
        self._send, self._recv = trio.open_memory_channel[Envelope](float("inf"))
        self._waiting: dict[int, Callable[[Envelope], None]] = {}
        self._nursery: trio.Nursery | None = None
        self._dead = False  # set when this incarnation crashes: its last words go nowhere
        self.random = Coins(sim, node_id, incarnation)

    def _post(self, dst: str, msg: Any, reply_to: int | None) -> int:
        if self._dead:
            return -1
        return self._sim._send(self.id, dst, msg, reply_to)

    # -- messages ------------------------------------------------------------------------------------------------
    def send(self, dst: str, msg: Any) -> int:
        """Send ``msg`` to ``dst`` (a node or a client); returns the message id. Never blocks."""
        return self._post(dst, msg, None)

    def reply(self, request: Envelope, msg: Any) -> None:
        """Answer a request received from :meth:`recv`; the reply reaches whoever is waiting in :meth:`call`."""
        self._post(request.src, msg, request.id)

    async def recv(self) -> Envelope:
        """The next delivered message that is not a reply to one of our own calls."""
        return await self._recv.receive()

    async def call(self, dst: str, msg: Any, timeout: float) -> Any | None:
        """Send a request and wait up to ``timeout`` for its reply; None if none came (lost, slow, peer down)."""
        replies = await self.gather({dst: msg}, need=1, timeout=timeout)
        return replies.get(dst)

    async def gather(self, requests: Mapping[str, Any] | Iterable[str], msg: Any = None, *, need: int,
                     timeout: float) -> dict[str, Any]:
        """Send a request to each destination and wait until ``need`` replied or ``timeout`` passed.

        ``requests`` maps destination to message, or is a list of destinations all sent ``msg``. Returns the replies
        received so far by destination (possibly fewer than ``need``). Later replies are discarded.
        """
        if not isinstance(requests, Mapping):
            requests = {dst: msg for dst in requests}
        got: dict[str, Any] = {}
        done = trio.Event()
        ids: list[int] = []

        def on_reply(env: Envelope) -> None:
            if env.src not in got:
                got[env.src] = env.msg
                if len(got) >= need:
                    done.set()

        for dst, m in requests.items():
            mid = self._post(dst, m, None)
            ids.append(mid)
            self._waiting[mid] = on_reply
        try:
            if need <= 0:
                return got
            with trio.move_on_after(timeout):
                await done.wait()
            return dict(got)
        finally:
            for mid in ids:
                self._waiting.pop(mid, None)

    def _deliver(self, env: Envelope) -> None:
        if env.reply_to is not None:
            waiter = self._waiting.get(env.reply_to)
            if waiter is not None:
                waiter(env)
            return  # a reply nobody waits for any more is dropped, as a closed socket would
        self._send.send_nowait(env)

    # -- time, tasks, choices ------------------------------------------------------------------------------------
    def now(self) -> float:
        """This node's clock: virtual time plus its skew (a fault can move it)."""
        return trio.current_time() + self._sim.skew.get(self.id, 0.0)

    def spawn(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run a task for the life of this incarnation; a crash cancels it."""
        assert self._nursery is not None, "spawn is available once the node runs"
        self._nursery.start_soon(fn, *args)

    def choose(self, n: int) -> int:
        """An environment decision in ``[0, n)`` (0 is the boring one), steered by the search in every phase: which
        replica answers first, when an operator acts. The protocol's own randomness is :attr:`random`."""
        return self._sim.choices.choose(n)

    def set_role(self, role: str | None) -> None:
        """Announce a role such as ``"leader"``; directed faults aim at it (partition the leader)."""
        self._sim._set_role(self.id, role)

    def note(self, what: str, **fields: Any) -> None:
        """Record a protocol-level event (``hinted_write``, ``failover``) for the trace and the run's witnesses."""
        self._sim._note(self.id, what, fields)
