"""The simulation driver: one trio run per explored schedule, on virtual time, with every event chosen.

Nodes and clients are trio tasks. The network holds every message; nothing moves until the driver, having waited
until every task is blocked (``wait_all_tasks_blocked``), asks the choice source whether to inject a fault and
otherwise delivers the oldest message. When nothing is in flight, it jumps trio's ``MockClock`` to the next timer
(a ``trio.sleep``/``move_on_after`` deadline in protocol code, or a delayed message). So the only nondeterminism of a
run is its choice sequence: the same choices give the same events, in any process and under any ``PYTHONHASHSEED``.

A run has three phases: *main* (clients run the workload while faults are injected), *recovery* (partitions heal,
crashed nodes restart, the cluster settles for ``settle_time``) and *final* (the protocol's final operations, e.g. a
read through every node, recorded in the history with phase ``final``).
"""

from __future__ import annotations

import collections
import math
import traceback
import zlib
from collections.abc import Callable
from typing import Any

import attrs
import trio
import trio.testing

# Not bound as bare `_compat`: attrs-generated methods look that name up in this module's globals.
from faultlab import _compat as private_hooks
from faultlab import faults as F
from faultlab.choices import CAUSE, ChoiceSource
from faultlab.errors import ConfigError, FaultlabError
from faultlab.events import Events
from faultlab.history import History
from faultlab.injector import FaultInjector
from faultlab.network import Envelope, Network
from faultlab.node import NodeContext
from faultlab.outcomes import STATUS, Unknown
from faultlab.protocol import Invariant, Protocol
from faultlab.result import CheckResult
from faultlab.storage import Storage
from faultlab.timers import Timers, Wakeup

TAIL_STEPS = 200  # at most this many steps of faults after the last operation returned (see Simulation._main)


class VirtualClock(trio.abc.Clock):
    """trio's clock in a simulation: virtual time that moves only when the driver jumps it. (trio's MockClock with
    rate 0 reads the real clock on every call and multiplies it by 0; this one is a float, read 70k times a run.)"""

    __slots__ = ("now",)

    def __init__(self) -> None:
        self.now = 0.0

    def start_clock(self) -> None:
        pass

    def current_time(self) -> float:
        return self.now

    def deadline_to_sleep_time(self, deadline: float) -> float:
        return 0.0 if deadline <= self.now else 999999999.0  # never sleep for real: the driver moves time

    def jump(self, seconds: float) -> None:
        self.now += seconds


@attrs.frozen
class RunSettings:
    """Engine settings of one run (not the protocol's): workload size, faults, limits."""

    clients: int = 3
    ops_per_client: int = 6
    plan: F.FaultPlan = F.FaultPlan()
    max_steps: int = 1500
    max_time: float = 600.0
    # A client pauses before each further operation (a choice: 0 = no pause), so operations also spread over time.
    think_times: tuple[float, ...] = attrs.field(default=(0.0, 0.1, 1.0), converter=tuple)
    links: str | None = None  # the link model; None: the variant's, else the protocol's
    # What a reduced counterexample does without (faultlab.reduce): client operations by (client, position) and
    # final operations by position. Explorations run everything.
    skip_ops: tuple[tuple[int, int], ...] = attrs.field(default=(), converter=lambda v: tuple(tuple(x) for x in v))
    skip_final: tuple[int, ...] = attrs.field(default=(), converter=tuple)
    # The seed of the protocol's fair coins once faults stop (faultlab.node.Coins); None: a hash of every choice the
    # run made before. Exhaustive search fixes it, so that two runs reaching the same state have the same future.
    coin_seed: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.clients < 1 or self.ops_per_client < 0 or self.max_steps < 1:
            raise ConfigError("clients must be >= 1, ops_per_client >= 0 and max_steps >= 1")
        if not self.think_times or any(t < 0 for t in self.think_times):
            raise ConfigError("think_times must be a non-empty list of durations >= 0, the first the usual one")
        if self.links not in (None, "stream", "datagram"):
            raise ConfigError(f"links={self.links!r}; choose stream (TCP-like) or datagram (UDP-like)")

    def for_variant(self, variant: Any) -> RunSettings:
        """These settings with what the variant says of its faults: its fault kinds, when it names them (a claim
        about partitions only), its limits (at most one crash: "survives a single failure") and its link model."""
        if variant is None:
            return self
        settings = self
        if variant.faults is not None:
            settings = attrs.evolve(settings, plan=attrs.evolve(settings.plan,
                                                                kinds=F.parse_fault_kinds(list(variant.faults))))
        limits = {k: getattr(variant, k) for k in ("max_crashes", "max_faults", "max_destroyed_zones",
                                                   "max_destroyed_nodes") if getattr(variant, k) is not None}
        if limits:
            settings = attrs.evolve(settings, plan=attrs.evolve(settings.plan, **limits))
        if variant.links is not None and settings.links is None:
            settings = attrs.evolve(settings, links=variant.links)
        return settings

    def links_for(self, protocol: Protocol) -> str:
        """The link model a run of ``protocol`` uses under these settings."""
        return self.links or protocol.links

    def to_json(self) -> dict[str, Any]:
        d = attrs.asdict(self, recurse=True)
        d["plan"]["kinds"] = list(self.plan.kinds)
        d["think_times"] = list(self.think_times)
        if self.coin_seed is None:  # the usual case, left out: traces written before it existed read the same
            del d["coin_seed"]
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RunSettings:
        d = dict(d)
        plan = dict(d.pop("plan", {}))
        plan["kinds"] = tuple(plan.get("kinds", F.INJECTABLE))
        return cls(plan=F.FaultPlan(**plan), **d)


@attrs.define
class RunResult:
    """Everything one run produced; :mod:`faultlab.trace` writes it as a trace file."""

    protocol: str
    config: Any
    settings: RunSettings
    choices: list[int]
    events: list[tuple]
    history: History
    checks: list[CheckResult]
    stats: dict[str, Any]
    error: str | None = None
    judged: tuple[str, ...] = ()
    spans: list[tuple[str, int, int]] = attrs.Factory(list)  # decisions in ``choices``: (label, start, end)
    causes: list[Any] = attrs.Factory(list)  # the operation each choice was made for (faultlab.choices.CAUSE)
    picked: dict[int, str] = attrs.Factory(dict)  # position -> the node a pick() chose

    @property
    def violations(self) -> list[CheckResult]:
        return [c for c in self.checks if c.violated]

    @property
    def violated_invariants(self) -> set[str]:
        return {c.name for c in self.checks if c.violated}

    @property
    def verdict(self) -> str:
        if self.error is not None or self.violations:
            return "violated"
        if any(c.unknown for c in self.checks):
            return "unknown"
        return "ok"

    @property
    def log(self) -> Events:
        """The run's events, typed and queryable (``run.log.of("crash")``, ``run.log.notes("failover")``)."""
        return Events(self.events)

    def count(self, kind: str) -> int:
        return self.stats["events"].get(kind, 0)

    def note_count(self, what: str) -> int:
        return self.stats["notes"].get(what, 0)

    def ok_ops(self, f: str | None = None) -> int:
        return sum(n for (fn, st), n in self.stats["ops"].items() if st == "ok" and (f is None or fn == f))


CONTINUE = 0.85  # probability a client issues one more operation (up to ops_per_client)
IDLE = "idle"  # the cause of a driver step's coin when there is nothing to deliver


class ClientAPI:
    """What a protocol's client function may use: ``call`` the chosen node, or another, and make choices."""

    def __init__(self, sim: Simulation, endpoint: str, node: str):
        self._sim = sim
        self.endpoint = endpoint
        self.node = node
        self.nodes = sim.node_ids
        self.config = sim.config

    async def call(self, msg: Any, node: str | None = None) -> Any:
        """Send ``msg`` to ``node`` (default: this operation's coordinator) and wait for the reply.

        There is no timeout here: the engine bounds the whole operation by the protocol's ``client_timeout`` and
        records it as ``info`` when it runs out.
        """
        return await self._call(msg, node, math.inf)

    async def _call(self, msg: Any, node: str | None, timeout: float) -> Any:
        """``call`` with a timeout kept by the driver (faultlab.timers): None if no reply came in time."""
        got: list[Any] = []
        done = Wakeup()
        mid = self._sim._send(self.endpoint, node or self.node, msg, None)
        waiting = self._sim._endpoints[self.endpoint]

        def on_reply(env: Envelope) -> None:
            if not got:
                got.append(env.msg)
                done.set()

        waiting[mid] = on_reply
        try:
            await self._sim.timers.wait(done, timeout)
        finally:
            waiting.pop(mid, None)
        return got[0] if got else None

    def choose(self, n: int) -> int:
        return self._sim.choices.choose(n)


class Simulation:
    """One run of ``protocol`` under ``config`` and ``settings``, every decision taken from ``choices``."""

    def __init__(self, protocol: Protocol, config: Any, settings: RunSettings, choices: ChoiceSource,
                 invariants: tuple[str, ...] | None = None):
        self.protocol = protocol
        self.judged = protocol.judged(invariants)
        self.config = config
        self.settings = settings
        self.choices = choices
        factories = protocol.nodes(config)
        self.factories = factories
        self.node_ids: tuple[str, ...] = tuple(sorted(factories))
        self.zone_of: dict[str, str] = dict(protocol.zones(config)) if protocol.zones else {}
        self.client_nodes: tuple[str, ...] = self.node_ids
        if protocol.client_nodes is not None:
            self.client_nodes = tuple(protocol.client_nodes(config))
            unknown = sorted(set(self.client_nodes) - set(self.node_ids))
            if not self.client_nodes or unknown:
                raise ConfigError(f"{protocol.name}: client_nodes must name some of its nodes; unknown: {unknown}")
        self.network = Network(self.node_ids, settings.links_for(protocol))
        self.latency = protocol.latency(config) if protocol.latency is not None else None
        self.skew: dict[str, float] = {}
        self.roles: dict[str, str | None] = {}
        self.storages = {n: Storage() for n in self.node_ids}
        self.contexts: dict[str, NodeContext] = {}
        self.incarnation = dict.fromkeys(self.node_ids, 0)
        self.scopes: dict[str, trio.CancelScope] = {}
        self.down: set[str] = set()
        self._endpoints: dict[str, dict[int, Callable[[Envelope], None]]] = {}
        self.events: list[tuple] = []
        self.history = History()
        self.steps = 0
        self.notes: collections.Counter[str] = collections.Counter()
        self.last_invoked: str | None = None
        self.injector = FaultInjector(self)
        self.truncated = False
        self._clients_done = 0
        self._final_done = False
        self._op_counter = 0
        self._clock = VirtualClock()
        self.timers = Timers(self._clock)  # the deadlines of gathers and client calls, kept by the driver
        self.coin_seed: int | None = None  # set when faults stop: from then on the protocol's coins are fair

    # -- public --------------------------------------------------------------------------------------------------
    def run(self) -> RunResult:
        private_hooks.check_once()
        private_hooks.deterministic_trio(0)
        error = None
        try:
            trio.run(self._main, clock=self._clock, strict_exception_groups=True)
        except FaultlabError:
            raise
        except BaseExceptionGroup as group:
            # Control flow that is not an error of the protocol must get out unwrapped: Hypothesis stopping a test
            # case (StopTest, a BaseException), Ctrl-C, and faultlab's own errors (a replay that diverged).
            control = group.subgroup(lambda e: not isinstance(e, Exception) and not isinstance(e, BaseExceptionGroup))
            if control is not None:
                raise _first_leaf(control) from None
            fe = group.subgroup(lambda e: isinstance(e, FaultlabError))
            if fe is not None:
                raise _first_leaf(fe) from None
            error = _describe_error(group)
        except Exception as e:  # an exception in protocol code is a finding, replayable like any other
            error = _describe_error(e)
        checks = [] if error else [self._judge(inv) for inv in self.protocol.invariants if inv.name in self.judged]
        ops: collections.Counter[tuple[str, str]] = collections.Counter()
        for op in self.history.operations():
            if op.phase == "main":
                ops[(op.f, op.status)] += 1
        stats = {"steps": self.steps, "virtual_time": round(self._clock.current_time(), 6),
                 "events": dict(sorted(collections.Counter(e[0] for e in self.events).items())), "notes": dict(sorted(self.notes.items())),
                 "ops": ops, "enabled_faults": list(self.injector.enabled), "fault_rate": self.injector.rate,
                 "coin_seed": self.coin_seed, "links": str(self.network.links), "truncated": self.truncated}
        return RunResult(self.protocol.name, self.config, self.settings, list(self.choices.record), self.events,
                         self.history, checks, stats, error, self.judged, list(self.choices.spans),
                         list(self.choices.causes), dict(self.choices.picked))

    def _judge(self, inv: Invariant) -> CheckResult:
        """Run one invariant's check and stamp the result with the invariant's name: verdicts are matched by the
        invariant that produced them, whatever the checker calls itself."""
        result = inv.judge(self.history, self.config)
        if not isinstance(result, CheckResult):
            raise ConfigError(f"{self.protocol.name}: invariant {inv.name!r} returned a {type(result).__name__}, not "
                              f"a faultlab.CheckResult; a check must return CheckResult.holds/violation/...")
        return result.judged_as(inv.name)

    # -- phases --------------------------------------------------------------------------------------------------
    async def _main(self) -> None:
        async with trio.open_nursery() as root:
            self._root = root
            for n in self.node_ids:
                self._start_node(n)
            self.injector.draw_swarm()
            clients = [trio.CancelScope() for _ in range(self.settings.clients)]
            for i, scope in enumerate(clients):
                root.start_soon(self._client, i, scope)
            await self._drive(lambda: self._clients_done == self.settings.clients, faults=True)
            if not self.truncated:
                # The tail: faults go on hitting what the last operations left in flight (the replication that
                # follows an ack, a held message) until nothing is in flight. Without it the last acknowledged
                # write could never lose its replicas: the run went straight to recovery.
                await self._drive(lambda: not len(self.network) and not self.network.in_transit, faults=True,
                                  steps=TAIL_STEPS)
            for scope in clients:  # after a truncated run, open operations stay open: they become info
                scope.cancel()
            await trio.testing.wait_all_tasks_blocked()
            self._recover()
            settled = trio.current_time() + self.protocol.settle_time
            await self._drive(lambda: False, faults=False, horizon=settled)
            root.start_soon(self._final_client)
            await self._drive(lambda: self._final_done, faults=False)
            root.cancel_scope.cancel()

    async def _drive(self, until: Callable[[], bool], *, faults: bool, horizon: float | None = None,
                     steps: int | None = None) -> None:
        """Deliver, inject and advance time until ``until()``; with a ``horizon``, run until that virtual time
        instead (settling), which is not a truncation when it is reached; with ``steps``, for at most that many
        steps, which is not a truncation either.

        Each step starts at quiescence: every task blocked. The driver waits for it (``wait_all_tasks_blocked``, a
        scheduler pass or more) only when it may have ended: the step woke a task (trio's run queue is not empty:
        a reply completed a gather, a handler spawned a task, a crash cancelled one) or moved the clock (timers may
        fire). A delivery to an atomic handler that wakes nobody, the common case, costs no scheduler pass. The
        driver is woken alone from that wait, so an empty run queue while it runs means every other task is still
        blocked, and the run is the one the waits would have given.
        """
        wait = trio.testing.wait_all_tasks_blocked
        runq = private_hooks.run_queue()
        limit = self.steps + (steps if steps is not None else self.settings.max_steps)
        network = self.network
        injector = self.injector
        quiet = False  # known to be at quiescence without waiting
        while True:
            if not quiet or runq:
                await wait()
            quiet = True
            if until():
                return
            if self.steps >= limit:
                self.truncated = self.truncated or (horizon is None and steps is None)
                return
            if faults and injector.enabled:
                # The step's coin belongs to the message it is about to deliver: a variation of the run that leaves
                # an operation out takes that operation's steps with it, and every fault stays where it was.
                upcoming = network.oldest()
                token = CAUSE.set(upcoming.cause if upcoming is not None else IDLE)
                try:
                    injected = injector.maybe_inject()
                finally:
                    CAUSE.reset(token)
                if injected:
                    continue
            env = network.oldest()
            if env is not None:
                network.pop(env)
                self._deliver(env)
            elif not self._advance_time(self.settings.max_time if horizon is None else horizon):
                if horizon is None:
                    self.truncated = True
                else:
                    self._jump_to(horizon)
                return
            else:
                quiet = False  # the clock moved: timers may fire

    def _recover(self) -> None:
        # Faults stop here. The protocol's coins turn fair (see faultlab.node.Coins), seeded by a hash of every
        # choice the run made so far: the search seeds them, through everything it chose, but cannot steer them
        # (drawn as a choice, Hypothesis gave the seed 0 in most runs, so most runs shared one coin stream).
        self.coin_seed = self.settings.coin_seed if self.settings.coin_seed is not None else \
            zlib.crc32(",".join(map(str, self.choices.record)).encode())
        if self.network.partitioned:
            self.network.heal()
            self._event("heal", {"why": "recovery"})
        if self.network.end_slow_paths():
            self._event("release", {"why": "recovery"})
        for n in sorted(self.down):
            self._start_node(n)
            self._event("restart", {"node": n, "why": "recovery"})

    # -- time ----------------------------------------------------------------------------------------------------
    def _advance_time(self, horizon: float) -> bool:
        """Jump to the next timer or delayed message; False if there is none before ``horizon``."""
        now = trio.current_time()
        target = now + trio.lowlevel.current_statistics().seconds_to_next_deadline
        release = self.network.next_release()
        if release is not None and release < target:
            target = release
        timer = self.timers.next_deadline()
        if timer < target:
            target = timer
        if math.isinf(target) or target > horizon:
            return False
        self._jump_to(target)
        self.network.release(target)
        self.timers.fire(target)
        return True

    def _jump_to(self, t: float) -> None:
        now = trio.current_time()
        if t > now:
            self._clock.jump(t - now)

    # -- nodes and messages --------------------------------------------------------------------------------------
    def _start_node(self, nid: str) -> None:
        self.incarnation[nid] += 1
        ctx = NodeContext(self, nid, self.storages[nid], self.incarnation[nid])
        scope = trio.CancelScope()
        self.contexts[nid] = ctx
        self.scopes[nid] = scope
        self.down.discard(nid)
        token = CAUSE.set(None)  # an incarnation works for nobody in particular (a restart is not its cause)
        self._root.start_soon(self._node_main, ctx, scope)
        CAUSE.reset(token)

    def _stop_node(self, nid: str) -> None:
        """Crash: cancel everything the incarnation was doing; what it still tries to send goes nowhere. On stream
        links its connections break: nothing in flight to or from it arrives, so nothing sent to this incarnation
        reaches the next one."""
        self.down.add(nid)
        self.scopes[nid].cancel()
        self.contexts[nid]._dead = True
        if self.network.stream:
            self._lost(self.network.reset_endpoint(nid), "crash")

    def _lost(self, envelopes: list[Envelope], why: str) -> None:
        for env in envelopes:
            self._event("lost", _lost_payload(env, why))

    async def _node_main(self, ctx: NodeContext, scope: trio.CancelScope) -> None:
        with scope:
            async with trio.open_nursery() as nursery:
                ctx._nursery = nursery
                node = self.factories[ctx.id](ctx)
                await node.run()

    def _send(self, src: str, dst: str, msg: Any, reply_to: int | None) -> int:
        network = self.network
        after = len(self.events) - 1
        if self.latency is None:
            env, queued = network.send(src, dst, msg, reply_to, self._clock.now, CAUSE.get())
        else:
            latency = self.latency.nominal(src, dst, self.zone_of)
            if latency > 0.0:  # a coin per message; False: the nominal latency
                latency *= self.latency.draw(self.choices)
            env, queued = network.send(src, dst, msg, reply_to, self._clock.now, CAUSE.get(), latency)
        env.sent_after = after
        if not queued:
            self._event("lost", _lost_payload(env, "partition"))
        elif self.down and dst in self.down and network.stream:  # no connection to a node that is down
            network.discard(env)
            self._event("lost", _lost_payload(env, "down"))
        return env.id

    def _deliver(self, env: Envelope) -> None:
        self.steps += 1
        dst = env.dst
        ctx = self.contexts.get(dst)
        if ctx is not None:
            if dst in self.down:
                self._event("lost", _lost_payload(env, "down"))
                return
            if self.network.is_cut(env.src, dst):
                self._event("lost", _lost_payload(env, "partition"))
                return
            self._event("deliver", env)
            ctx._deliver(env)
            return
        waiting = self._endpoints.get(dst)
        self._event("deliver", env)
        if waiting is not None:
            cb = waiting.get(env.reply_to) if env.reply_to is not None else None
            if cb is not None:
                cb(env)

    def _event(self, kind: str, payload: Any) -> None:
        self.events.append((kind, self._clock.now, payload))

    def _set_role(self, node: str, role: str | None) -> None:
        if self.roles.get(node) != role:
            self.roles[node] = role
            self._event("role", {"node": node, "role": role})

    def _note(self, node: str, what: str, fields: dict[str, Any]) -> None:
        self.notes[what] += 1
        self._event("note", {"node": node, "what": what, **fields})

    # -- clients -------------------------------------------------------------------------------------------------
    def _route(self, f: str, value: Any) -> str:
        """The node an operation goes to: the protocol's route for it, else one of the client nodes (a choice)."""
        if self.protocol.route is not None:
            node = self.protocol.route(f, value)
            if node is not None:
                return node
        return self.client_nodes[self.choices.choose(len(self.client_nodes))]

    async def _client(self, i: int, scope: trio.CancelScope) -> None:
        endpoint = f"c{i}"
        self._endpoints[endpoint] = {}
        process = i
        try:
            with scope:
                for k in range(self.settings.ops_per_client):
                    CAUSE.set((i, k))  # what this operation leads to is caused by it
                    # One decision: whether to go on (False = stop, so shrinking drops operations; the first one
                    # always runs, so even the simplest run does something, and faultlab.reduce takes it out when
                    # a counterexample does not need it), how long to think first, what to do and where. Drawn
                    # together, before the pause, so no other task's choices fall inside the span.
                    with self.choices.span("operation"):
                        if k and not self.choices.flip(CONTINUE):
                            break
                        think = self.settings.think_times[self.choices.choose(len(self.settings.think_times))] \
                            if k else 0.0
                        f, value = self.protocol.workload(self.choices, self._op_counter)
                        self._op_counter += 1
                        node = self._route(f, value)
                    if think:
                        await trio.sleep(think)
                    if (i, k) in self.settings.skip_ops:
                        continue  # a reduced counterexample left it out (its decision was drawn all the same)
                    status = await self._perform(process, endpoint, node, f, value, "main")
                    if status == "info":
                        process += self.settings.clients  # the crashed process never returns; a new one takes over
        finally:
            self._clients_done += 1

    async def _final_client(self) -> None:
        endpoint = "final"
        self._endpoints[endpoint] = {}
        base = 1000 * (self.settings.clients + 1)
        for k, (f, value, node) in enumerate(self.protocol.final_ops(self.config)):
            # Final operations always run in an exploration; faultlab.explore drops the ones a shrunk violation
            # does not need (settings.skip_final), since a coin here would skip them in many generated runs.
            if k not in self.settings.skip_final:
                CAUSE.set(("final", k))
                await self._perform(base + k, endpoint, node or self.client_nodes[0], f, value, "final")
        self._final_done = True

    async def _perform(self, process: int, endpoint: str, node: str, f: str, value: Any, phase: str) -> str:
        api = ClientAPI(self, endpoint, node)
        self.last_invoked = node
        self.history.invoke(process, f, value, trio.current_time(), phase=phase, node=node)
        self._event("invoke", {"process": process, "f": f, "value": value, "node": node, "op": list(CAUSE.get())})
        outcome: Any = None
        if self.protocol.client is not None:
            with trio.move_on_after(self.protocol.client_timeout):  # no answer in time: info
                outcome = await self.protocol.client(api, f, value)
        else:  # one request, one reply: the driver keeps the timeout (faultlab.timers), no cancel scope needed
            outcome = await api._call(self.protocol.request(f, value), None, self.protocol.client_timeout)
        if outcome is None:
            outcome = Unknown("no reply in time")
        status = STATUS.get(type(outcome))
        if status is None:
            raise BadOutcome(f"{self.protocol.name}: the outcome of {f}({value!r}) must be Ok(value), Fail() or "
                             f"Unknown(), not {outcome!r}: a handler for a client request returns one of them")
        result = outcome.value if status == "ok" else None
        self.history.complete(process, status, result, trio.current_time())
        self._event(status, {"process": process, "f": f, "value": result})
        if status == "ok":
            self.injector.after_ack(node)
        return status


def _lost_payload(env: Envelope, why: str) -> dict[str, Any]:
    payload: dict[str, Any] = {"id": env.id, "src": env.src, "dst": env.dst, "why": why,
                               "sent_after": env.sent_after}
    if env.cause is not None:
        payload["cause"] = list(env.cause)
    return payload


class BadOutcome(TypeError):
    """A client operation ended with something other than Ok / Fail / Unknown: a bug in the protocol."""


def _first_leaf(group: BaseExceptionGroup) -> BaseException:
    e: BaseException = group
    while isinstance(e, BaseExceptionGroup):
        e = e.exceptions[0]
    return e


def _describe_error(e: BaseException) -> str:
    leaf = _first_leaf(e) if isinstance(e, BaseExceptionGroup) else e
    tb = traceback.extract_tb(leaf.__traceback__)
    where = f" at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno} in {tb[-1].name}" if tb else ""
    return f"{type(leaf).__name__}: {leaf}{where}"


def simulate(protocol: Protocol, config: Any, choices: ChoiceSource, settings: RunSettings | None = None,
             invariants: tuple[str, ...] | None = None) -> RunResult:
    """Run ``protocol`` once, judging ``invariants`` (default: the protocol's default set); the entry point for
    tests and the explorer."""
    return Simulation(protocol, config, settings or RunSettings(), choices, invariants).run()
