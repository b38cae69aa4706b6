"""The small API protocol code is written against: a node's context and its durable storage.

A protocol node is an object with ``async def run(self)``, built by a factory from a :class:`NodeContext`. Its
attributes and locals are its volatile state: a crash cancels everything it was doing and throws the object away;
a restart builds a new object (a new incarnation) over the same :class:`Storage`. Protocol code talks to the world
only through the context: it never calls ``random``, ``time``, sockets or threads, and it never touches the network
object or trio internals. Timers are plain trio (``trio.sleep``, ``trio.move_on_after``) on the virtual clock.
"""

from __future__ import annotations

import inspect
import random
import sys
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import trio

from faultlab.choices import CAUSE
from faultlab.network import Envelope
from faultlab.storage import Storage
from faultlab.timers import Wakeup

if TYPE_CHECKING:
    from faultlab.runtime import Simulation


class Coins:
    """A node's own random draws: Raft's election timeouts, a gossip peer, retry jitter.

    These are the protocol's coins, not the environment's. While faults are injected (the main phase) the search
    steers them like any other choice (``random()`` is one of 16 levels, 0 first), because safety must hold for
    every coin, including the worst. From recovery on (faults stopped: the "global stabilization time" every
    liveness claim assumes) they are fair: independent draws from a generator seeded per run, node and incarnation
    from the run's coin seed (a hash of every choice the run made before), so the search seeds them but does not
    steer them. Liveness (convergence, anything "eventually") is therefore judged with fair coins, as Raft's
    liveness argument needs.
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
        self._inline: Callable[[Envelope], None] | None = None  # Node._handle, once the receive loop is up
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
        """The next delivered message that is not a reply to one of our own calls. What the receiving task does next
        counts as caused by it (see faultlab.choices.CAUSE)."""
        env = await self._recv.receive()
        CAUSE.set(env.cause)
        return env

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
        done = Wakeup()
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
            await self._sim.timers.wait(done, timeout)
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
        if self._inline is not None:
            self._inline(env)
        else:
            self._send.send_nowait(env)

    # -- time, tasks, choices ------------------------------------------------------------------------------------
    def now(self) -> float:
        """This node's clock: virtual time plus its skew (a fault can move it)."""
        return self._sim._clock.now + self._sim.skew.get(self.id, 0.0)

    def every(self, seconds: float, fn: Callable[[], Any]) -> None:
        """Call ``fn`` every ``seconds`` for the life of this incarnation, first after one period (a period known
        only at run time; for a fixed one, decorate the method with :func:`every`)."""
        if seconds <= 0:
            raise ValueError("every(seconds) needs a period > 0")
        self.spawn(Node._every, fn, float(seconds))

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


# -- the node base class ---------------------------------------------------------------------------------------------
ConfigT = TypeVar("ConfigT")
_HANDLER = "_faultlab_handler"
_EVERY = "_faultlab_every"


class UnhandledMessage(Exception):
    """A node received a message type it has no handler for: a bug in the protocol, found and replayable like any
    other (not silence). Declare a handler, or list the type in ``Node.ignores``."""


def handler(fn: Callable[..., Any] | type | None = None) -> Any:
    """Declare a method as the handler of one message type: the type of its ``msg`` parameter (``def f(self, msg:
    Put)``), or given explicitly (``@handler(Put)``). Its return value is its reply (``None``: no reply).

    A plain ``def`` runs atomically in the node's receive task, so no other handler interleaves with it. An
    ``async def`` runs as a task of its own, so it may await peers and timers; a crash cancels it (and its reply).
    The handler takes ``(self, msg)`` or ``(self, msg, src)``, ``src`` the sender's id.
    """
    if isinstance(fn, type):
        msg_type = fn
        return lambda f: _mark_handler(f, msg_type)
    if fn is None:
        return lambda f: _mark_handler(f, None)
    return _mark_handler(fn, None)


def _mark_handler(fn: Callable[..., Any], msg_type: type | None) -> Callable[..., Any]:
    params = list(inspect.signature(fn).parameters)
    if len(params) not in (2, 3):
        raise TypeError(f"handler {fn.__qualname__} must take (self, msg) or (self, msg, src)")
    setattr(fn, _HANDLER, msg_type)
    return fn


def every(seconds: float) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run a method every ``seconds`` of virtual time for the life of the incarnation (heartbeats, flushes,
    anti-entropy rounds), first after one period. A plain ``def`` runs atomically; an ``async def`` is awaited, so
    the next period starts when it returns."""
    if seconds <= 0:
        raise ValueError("every(seconds) needs a period > 0")

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        setattr(fn, _EVERY, float(seconds))
        return fn
    return mark


class _Handler:
    __slots__ = ("fn", "is_task", "wants_src", "name")

    def __init__(self, fn: Callable[..., Any]):
        self.fn = fn
        self.is_task = inspect.iscoroutinefunction(fn)
        self.wants_src = len(inspect.signature(fn).parameters) == 3
        self.name = fn.__name__


class Node(Generic[ConfigT]):
    """The base class of a protocol node: handlers per message type, periodic tasks, and a context.

    Subclass it, declare handlers with :func:`handler` and periodic work with :func:`every`, and (optionally)
    override :meth:`start` for what an incarnation does when it comes up. The object is the incarnation's volatile
    state: a crash throws it away, a restart builds a new one over the same durable :attr:`storage`. Override
    :meth:`run` only for a node that is not message-driven. ``ignores`` lists message types the node drops on
    purpose; any other message without a handler is an :class:`UnhandledMessage` error.
    """

    ignores: tuple[type, ...] = ()

    def __init__(self, ctx: NodeContext):
        self.ctx = ctx
        self.id: str = ctx.id
        self.config: ConfigT = ctx.config
        self.storage: Storage = ctx.storage

    def start(self) -> None:
        """Called when this incarnation comes up, before its first message (spawn tasks here with ``ctx.spawn``)."""

    async def run(self) -> None:
        for name, seconds in _periodic(type(self)):
            self.ctx.spawn(self._every, getattr(self, name), seconds)
        self.start()
        self.ctx._inline = self._handle  # from here on the driver hands each message to _handle itself
        while True:
            self._handle(await self.ctx.recv())

    def _handle(self, env: Envelope) -> None:
        """Handle one delivered message: an atomic handler runs here and now, an ``async`` one as a task of its
        own. The driver calls this directly at quiescence (the receive loop is parked in ``recv``, so it is the
        same run, without a scheduler pass); anything else comes through the receive loop."""
        msg_type = type(env.msg)
        table = _TABLES.get(type(self)) or _handler_table(type(self))
        h = table.get(msg_type)
        if h is None:
            h = _lookup(table, msg_type)
        if h is None:
            if isinstance(env.msg, self.ignores):
                return
            raise UnhandledMessage(
                f"node {self.id} ({type(self).__name__}) has no handler for {type(env.msg).__name__} from "
                f"{env.src}: add `@handler def on_{type(env.msg).__name__.lower()}(self, msg: "
                f"{type(env.msg).__name__})`, or list it in {type(self).__name__}.ignores")
        token = CAUSE.set(env.cause)  # what a handler does (and the tasks it spawns) is caused by the message
        try:
            if h.is_task:
                self.ctx.spawn(self._task, h, env)
            else:
                reply = h.fn(self, env.msg, env.src) if h.wants_src else h.fn(self, env.msg)
                if reply is not None:
                    self.ctx.reply(env, reply)
        finally:
            CAUSE.reset(token)

    async def _task(self, h: _Handler, env: Envelope) -> None:
        reply = await (h.fn(self, env.msg, env.src) if h.wants_src else h.fn(self, env.msg))
        if reply is not None:
            self.ctx.reply(env, reply)

    @staticmethod
    async def _every(fn: Callable[[], Any], seconds: float) -> None:
        is_async = inspect.iscoroutinefunction(fn)
        while True:
            await trio.sleep(seconds)
            if is_async:
                await fn()
            else:
                fn()


_TABLES: dict[type, dict[type, _Handler]] = {}


def _handler_table(cls: type) -> dict[type, _Handler]:
    """Message type -> handler for a node class (base classes first, so a subclass overrides), built once."""
    table = _TABLES.get(cls)
    if table is not None:
        return table
    table = {}
    for klass in reversed(cls.__mro__):
        for fn in vars(klass).values():
            if not callable(fn) or not hasattr(fn, _HANDLER):
                continue
            msg_type = getattr(fn, _HANDLER) or _annotated_type(fn, klass)
            table[msg_type] = _Handler(fn)
    _TABLES[cls] = table
    return table


def _annotated_type(fn: Callable[..., Any], klass: type) -> type:
    msg_param = list(inspect.signature(fn).parameters)[1]
    module = sys.modules.get(klass.__module__)
    try:
        hints = typing.get_type_hints(fn, globalns=vars(module) if module else None)
    except NameError as e:
        raise TypeError(f"handler {fn.__qualname__}: cannot resolve the type of {msg_param!r} ({e}); define the "
                        f"message class before the node or name it: @handler(MessageType)") from None
    msg_type = hints.get(msg_param)
    if not isinstance(msg_type, type):
        raise TypeError(f"handler {fn.__qualname__}: annotate {msg_param!r} with its message class (def "
                        f"{fn.__name__}(self, {msg_param}: Put)) or name it: @handler(Put)")
    return msg_type


def _lookup(table: dict[type, _Handler], msg_type: type) -> _Handler | None:
    h = table.get(msg_type)
    if h is None:
        for base in msg_type.__mro__[1:]:
            h = table.get(base)
            if h is not None:
                table[msg_type] = h
                break
    return h


def _periodic(cls: type) -> list[tuple[str, float]]:
    # Not cached: found again for each incarnation, so a class changed at run time (a test that deletes a
    # periodic method to show what it is for) is seen as it is now. It costs about 10 us an incarnation.
    seen: dict[str, float] = {}
    for klass in reversed(cls.__mro__):
        for name, fn in vars(klass).items():
            if callable(fn) and hasattr(fn, _EVERY):
                seen[name] = getattr(fn, _EVERY)
    return sorted(seen.items())
