"""Lambda's messages, its configuration and its nodes: frontends, the placement's slot counter, workers with
sandboxes, the event queue with its asynchronous invoker, the function's external store and the on-failure
destination. What they do and why is in the package docstring (``protocols/lambda_/__init__.py``)."""

from __future__ import annotations

import attrs
import trio

from faultlab import ConfigError, Fail, Node, Ok, Unknown, handler

CALL_TIMEOUT = 0.5  # how long a node waits for a peer's answer to a short request
LEASE_GRACE = 0.5  # a slot outlives its deadline by this much (the worker stops the function at the deadline)
RESEND_INTERVAL = 0.5  # between retries of a release or of a send to the on-failure destination
FRONTENDS = ("fe1", "fe2")
KINDS = ("work", "tally", "poison", "slow")


# -- messages --------------------------------------------------------------------------------------------------------
# An event is [id, kind, duration, key]: "work" runs ``duration`` seconds and writes its result to the store;
# "tally" counts the events of ``key`` (the count is its result); "poison" always raises after ``duration``; "slow"
# runs twice the timeout.
@attrs.frozen
class Invoke:  # InvocationType=Event: acknowledged once the event is queued
    event: tuple


@attrs.frozen
class InvokeSync:  # InvocationType=RequestResponse: the function's result, or an error
    event: tuple


@attrs.frozen
class ReadExecutions:
    pass


@attrs.frozen
class ReadFailures:
    pass


@attrs.frozen
class ReadSlots:
    pass


@attrs.frozen
class GetFunctionConfiguration:
    pass


@attrs.frozen
class Enqueue:
    event: tuple


@attrs.frozen
class Queued:
    pass


@attrs.frozen
class Dispatch:  # the asynchronous invoker asks a frontend to run one attempt
    event: tuple
    exec_id: str
    deadline: float


@attrs.frozen
class AttemptResult:
    outcome: str  # ok | error | timeout | throttled | not-started | unknown


@attrs.frozen
class Acquire:  # atomic: take a slot if fewer than the limit are taken
    lease: str
    expires: float | None  # None: the slot is held until released


@attrs.frozen
class CountSlots:  # the non-atomic design's check
    pass


@attrs.frozen
class Slots:
    held: tuple


@attrs.frozen
class TakeSlot:  # the non-atomic design's increment
    lease: str
    expires: float | None


@attrs.frozen
class Granted:
    granted: bool


@attrs.frozen
class Release:
    lease: str


@attrs.frozen
class Released:
    pass


@attrs.frozen
class Run:  # a frontend asks a worker to run the function once, in a sandbox, before the deadline
    event: tuple
    exec_id: str
    lease: str
    deadline: float


@attrs.frozen
class RunResult:
    outcome: str  # ok | error | timeout | not-started


@attrs.frozen
class Begin:  # an execution starts: recorded in the store before the function body runs
    exec_id: str
    event: int
    kind: str
    sandbox: str
    at: float


@attrs.frozen
class Commit:  # the function's side effect, at its end: its result (a tally's count) goes to the store
    exec_id: str
    at: float
    key: str | None = None
    ticket: int | None = None  # the count a stateful function kept in its sandbox
    tally: bool = False  # count in the store (the stateless function)


@attrs.frozen
class End:  # the runtime's report line at an execution's end (its log): when the function stopped, and how
    exec_id: str
    at: float
    outcome: str


@attrs.frozen
class Committed:
    ticket: int | None


@attrs.frozen
class Ack:
    pass


@attrs.frozen
class ToDestination:
    entry: dict


# -- configuration ---------------------------------------------------------------------------------------------------
@attrs.frozen
class LambdaConfig:
    concurrency_limit: int = attrs.field(default=2, metadata={
        "help": "concurrent executions allowed (the account's 1000, scaled down)"})
    timeout: float = attrs.field(default=3.0, metadata={
        "help": "seconds an execution may run (15 minutes, scaled 1:300)"})
    maximum_retry_attempts: int = attrs.field(default=2, metadata={
        "help": "retries of an asynchronous event after a function error (AWS: 2)"})
    maximum_event_age: float = attrs.field(default=120.0, metadata={
        "help": "seconds an asynchronous event is retried before it is given up (6 hours, scaled)"})
    retry_delay: float = attrs.field(default=1.0, metadata={
        "help": "seconds before the first retry after a function error, doubling (AWS: 1 then 2 minutes)"})
    backoff_base: float = attrs.field(default=0.25, metadata={
        "help": "seconds of the first backoff after a throttle or system error, doubling, with equal jitter"})
    backoff_max: float = attrs.field(default=4.0, metadata={"help": "the backoff's cap in seconds"})
    retry_policy: str = attrs.field(default="backoff", metadata={
        "help": "backoff (throttles and system errors retried with backoff until the maximum event age) or "
                "immediate (every failed attempt retried at once and counted against the retries)"})
    invoke_timeout: float = attrs.field(default=0.0, metadata={
        "help": "0: the invoker waits out an attempt's deadline and does not count silence as a failure; > 0: it "
                "waits this long and counts silence as a function error"})
    on_failure_destination: bool = attrs.field(default=True, metadata={
        "help": "a given-up event goes to the on-failure destination (off: it is dropped)"})
    durable_enqueue: bool = attrs.field(default=True, metadata={
        "help": "the queue syncs an event before acknowledging it (off: acknowledges, syncs within a second)"})
    atomic_acquire: bool = attrs.field(default=True, metadata={
        "help": "the placement checks and takes a slot in one step (off: a frontend counts, then takes)"})
    slot_expiry: bool = attrs.field(default=True, metadata={
        "help": "a slot is a lease that expires at its execution's deadline (off: held until the worker releases)"})
    slot_leases: bool = attrs.field(default=True, metadata={
        "help": "slots are leases named by their attempt (off: one counter, a release decrements it)"})
    stateful_handler: bool = attrs.field(default=False, metadata={
        "help": "the function keeps its tally in the sandbox's memory (off: in the external store)"})
    enforce_timeout: bool = attrs.field(default=True, metadata={
        "help": "the worker stops a function at its timeout (off: only at the slot's deadline)"})
    cold_start_min: float = attrs.field(default=0.1, metadata={"help": "the fastest cold start in seconds"})
    cold_start_max: float = attrs.field(default=10.0, metadata={
        "help": "the slowest cold start in seconds (drawn log-uniformly between the two, 16 levels)"})
    snapstart: bool = attrs.field(default=False, metadata={
        "help": "a new sandbox is restored from a snapshot in snapstart_restore seconds instead of a cold start"})
    snapstart_restore: float = attrs.field(default=0.2, metadata={"help": "seconds a SnapStart restore takes"})
    provisioned: int = attrs.field(default=0, metadata={
        "help": "pre-initialized sandboxes per worker (provisioned concurrency), never reaped"})
    idle_reap: float = attrs.field(default=5.0, metadata={"help": "seconds an idle sandbox lives"})
    scaling_rate: float = attrs.field(default=100.0, metadata={
        "help": "new sandboxes per second over all workers (AWS: 1000 per 10 s per function)"})
    workers: int = attrs.field(default=2, metadata={"help": "worker hosts"})
    invoker_parallelism: int = attrs.field(default=4, metadata={
        "help": "attempts the asynchronous invoker runs at once"})

    def __attrs_post_init__(self) -> None:
        def bad(name: str, fix: str) -> None:
            raise ConfigError(f"lambda: {name}={getattr(self, name)!r}; {fix}")

        if not 1 <= self.concurrency_limit <= 10_000:
            bad("concurrency_limit", "give 1 to 10000 concurrent executions")
        for name in ("timeout", "maximum_event_age", "retry_delay", "backoff_base", "backoff_max", "idle_reap",
                     "scaling_rate", "cold_start_min", "snapstart_restore"):
            if not getattr(self, name) > 0:
                bad(name, "give a positive number of seconds (or per second)")
        if self.cold_start_max < self.cold_start_min:
            bad("cold_start_max", f"give at least cold_start_min={self.cold_start_min}")
        if not 0 <= self.maximum_retry_attempts <= 2:
            bad("maximum_retry_attempts", "give 0, 1 or 2 (AWS allows 0-2)")
        if self.retry_policy not in ("backoff", "immediate"):
            bad("retry_policy", "choose backoff or immediate")
        if self.invoke_timeout < 0:
            bad("invoke_timeout", "give 0 (wait out the deadline) or a positive number of seconds")
        if not 1 <= self.workers <= 8:
            bad("workers", "give 1 to 8 worker hosts")
        if not 0 <= self.provisioned <= 100:
            bad("provisioned", "give 0 to 100 sandboxes per worker")
        if self.invoker_parallelism < 1:
            bad("invoker_parallelism", "give 1 or more")

    @property
    def lease_time(self) -> float:
        """How long after an attempt is dispatched its execution may still run: the slowest sandbox start plus the
        timeout, and a second for the scaling queue."""
        start = self.snapstart_restore if self.snapstart else self.cold_start_max
        return start + (self.timeout if self.enforce_timeout else 2 * self.timeout + 1.0) + 1.0

    def worker_ids(self) -> tuple[str, ...]:
        return tuple(f"w{i + 1}" for i in range(self.workers))

    def function_configuration(self) -> dict:
        return {"concurrency_limit": self.concurrency_limit, "timeout": self.timeout,
                "maximum_retry_attempts": self.maximum_retry_attempts, "maximum_event_age": self.maximum_event_age}


# -- the placement: concurrency slots --------------------------------------------------------------------------------
class Placement(Node[LambdaConfig]):
    """Counts the slots taken against the concurrency limit. Durable: ``slots``, a tuple of (lease, expires)."""

    def _held(self) -> tuple:
        if not self.config.slot_leases:  # a bare counter: n slots taken, by nobody in particular
            return tuple((f"slot{i + 1}", None) for i in range(self.storage.get("count", 0)))
        now = self.ctx.now()
        return tuple(s for s in self.storage.get("slots", ()) if s[1] is None or s[1] > now)

    def _take(self, lease: str, expires: float | None) -> None:
        if not self.config.slot_leases:
            self.storage.save(count=self.storage.get("count", 0) + 1)
        else:
            self.storage.save(slots=self._held() + ((lease, expires),))

    @handler
    def on_acquire(self, msg: Acquire) -> Granted:
        held = self._held()
        if self.config.slot_leases and any(s[0] == msg.lease for s in held):
            return Granted(True)  # a retried request: the slot is already this lease's
        if msg.expires is not None and msg.expires <= self.ctx.now():
            return Granted(False)  # arrived after its own deadline: nothing could run under it
        if len(held) >= self.config.concurrency_limit:
            self.ctx.note("throttled")
            return Granted(False)
        self._take(msg.lease, msg.expires)
        return Granted(True)

    @handler
    def on_count_slots(self, msg: CountSlots) -> Slots:
        return Slots(tuple(s[0] for s in self._held()))

    @handler
    def on_take_slot(self, msg: TakeSlot) -> Granted:
        if not any(s[0] == msg.lease for s in self._held()):
            self._take(msg.lease, msg.expires)
        return Granted(True)

    @handler
    def on_release(self, msg: Release) -> Released:
        if not self.config.slot_leases:  # whoever releases, one fewer: a retried release counts twice
            self.storage.save(count=max(0, self.storage.get("count", 0) - 1))
            return Released()
        held = self._held()
        if any(s[0] == msg.lease for s in held):
            self.storage.save(slots=tuple(s for s in held if s[0] != msg.lease))
        return Released()

    @handler
    def on_read_slots(self, msg: ReadSlots) -> Ok:
        return Ok({"held": sorted(s[0] for s in self._held())})

    @handler
    def on_get_function_configuration(self, msg: GetFunctionConfiguration) -> Ok:
        return Ok(self.config.function_configuration())


# -- frontends -------------------------------------------------------------------------------------------------------
class Frontend(Node[LambdaConfig]):
    """The Invoke API: queues asynchronous events, and runs an attempt (a client's synchronous invoke or one the
    asynchronous invoker dispatches): take a slot, pick a worker, wait for the result until the deadline."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.seq = 0
        self.counting = trio.Lock()  # the non-atomic design still counts one request at a time per frontend

    @handler
    async def on_invoke(self, msg: Invoke) -> Ok | Unknown:
        if await self.ctx.call("events", Enqueue(msg.event), CALL_TIMEOUT) is None:
            return Unknown("the event queue did not acknowledge: queued or not")
        return Ok(msg.event[0])

    @handler
    async def on_invoke_sync(self, msg: InvokeSync) -> Ok | Fail | Unknown:
        outcome = await self._attempt(msg.event, f"s{msg.event[0]}", self.ctx.now() + self.config.lease_time)
        if outcome == "ok":
            return Ok(msg.event[0])
        if outcome == "throttled":
            return Fail("TooManyRequestsException: concurrency limit reached")
        if outcome in ("error", "not-started"):
            return Fail(f"the function {'raised' if outcome == 'error' else 'did not run'}")
        return Unknown(f"{outcome}: the side effect may or may not have happened")

    @handler
    async def on_dispatch(self, msg: Dispatch) -> AttemptResult:
        return AttemptResult(await self._attempt(msg.event, msg.exec_id, msg.deadline))

    async def _attempt(self, event: tuple, exec_id: str, deadline: float) -> str:
        self.seq += 1
        lease = f"{self.id}.{self.ctx.incarnation}.{self.seq}"
        expires = deadline + LEASE_GRACE if self.config.slot_expiry and self.config.slot_leases else None
        granted = await self._acquire(lease, expires)
        if granted is None:
            return "not-started"
        if not granted:
            return "throttled"
        workers = self.config.worker_ids()
        worker = workers[self.ctx.choose(len(workers))]  # where the placement puts it: the environment's choice
        reply = await self.ctx.call(worker, Run(event, exec_id, lease, deadline),
                                    max(0.0, deadline - self.ctx.now()) + LEASE_GRACE)
        return reply.outcome if reply is not None else "unknown"

    async def _acquire(self, lease: str, expires: float | None) -> bool | None:
        if self.config.atomic_acquire:
            reply = await self.ctx.call("placement", Acquire(lease, expires), CALL_TIMEOUT)
            return None if reply is None else reply.granted
        async with self.counting:
            slots = await self.ctx.call("placement", CountSlots(), CALL_TIMEOUT)
            if slots is None:
                return None
            if len(slots.held) >= self.config.concurrency_limit:
                return False
            # The gap: another frontend may count the same free slot before this one takes it.
            taken = await self.ctx.call("placement", TakeSlot(lease, expires), CALL_TIMEOUT)
            return None if taken is None else True


# -- workers and sandboxes -------------------------------------------------------------------------------------------
@attrs.define
class Sandbox:
    """A microVM with the function initialized in it; volatile, as its worker's memory is."""

    sid: str
    pinned: bool = False  # provisioned concurrency: never reaped
    busy: bool = False
    last_used: float = 0.0
    memory: dict = attrs.Factory(dict)  # what a stateful function keeps between invocations


class Worker(Node[LambdaConfig]):
    """A worker host: runs each attempt in an idle sandbox, or starts one (a cold start, at most ``scaling_rate``
    new sandboxes per second over the fleet), stops the function at its timeout and its deadline, reaps idle
    sandboxes and gives the slot back."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.sandboxes: dict[str, Sandbox] = {}
        self.went_idle = trio.Event()  # wakes the reaper
        self.started = 0
        self.next_start = 0.0  # the scaling queue: when the next new sandbox may start initializing

    def start(self) -> None:
        for _ in range(self.config.provisioned):
            if self.ctx.incarnation == 1:  # configured before the traffic came: initialized already
                self.started += 1
                sid = f"{self.id}.1.{self.started}"
                self.sandboxes[sid] = Sandbox(sid, pinned=True)
            else:  # a restarted worker initializes its provisioned sandboxes again, off the request path
                self.ctx.spawn(self._provision)
        self.ctx.spawn(self._reaper)

    async def _provision(self) -> None:
        sandbox = await self._new_sandbox(pinned=True)
        sandbox.busy = False
        self.went_idle.set()

    async def _new_sandbox(self, pinned: bool = False) -> Sandbox:
        """A new sandbox, after its turn in the scaling queue and its initialization; returned busy."""
        cfg = self.config
        now = self.ctx.now()
        interval = cfg.workers / cfg.scaling_rate
        begin = max(now, self.next_start)
        self.next_start = begin + interval
        if cfg.snapstart:
            init = cfg.snapstart_restore
        else:  # the environment's draw: runtime, package size, VPC (cold_start_min..max, log-uniform)
            init = cfg.cold_start_min * (cfg.cold_start_max / cfg.cold_start_min) ** (self.ctx.choose(16) / 15)
        self.started += 1
        sandbox = Sandbox(f"{self.id}.{self.ctx.incarnation}.{self.started}", pinned=pinned, busy=True)
        self.sandboxes[sandbox.sid] = sandbox
        await trio.sleep(begin - now + init)
        self.ctx.note("cold_start", sandbox=sandbox.sid, init=round(init, 6), queued=round(begin - now, 6),
                      provisioned=pinned)
        return sandbox

    def _idle(self) -> Sandbox | None:
        idle = [s for s in self.sandboxes.values() if not s.busy]
        if not idle:
            return None
        sandbox = min(idle, key=lambda s: (not s.pinned, s.sid))
        sandbox.busy = True
        return sandbox

    async def _reaper(self) -> None:
        """Reap each unpinned sandbox ``idle_reap`` seconds after its last use; asleep while there is none (not a
        periodic timer: an idle fleet costs the simulation nothing)."""
        while True:
            idle = [s for s in self.sandboxes.values() if not s.busy and not s.pinned]
            if not idle:
                self.went_idle = trio.Event()
                await self.went_idle.wait()
                continue
            due = min(s.last_used for s in idle) + self.config.idle_reap
            now = self.ctx.now()
            if due > now:
                await trio.sleep(due - now)
                continue
            for s in sorted(idle, key=lambda s: s.sid):
                if s.last_used + self.config.idle_reap <= now:
                    del self.sandboxes[s.sid]
                    self.ctx.note("reaped", sandbox=s.sid)

    @handler
    async def on_run(self, msg: Run) -> RunResult:
        sandbox = self._idle() or await self._new_sandbox()
        budget = msg.deadline - self.ctx.now()
        outcome = await self._execute(sandbox, msg, budget) if budget > 0 else "not-started"
        if outcome != "not-started":  # the function ran: its report line says when it stopped
            self.ctx.send("store", End(msg.exec_id, self.ctx.now(), outcome))
        if outcome == "timeout":
            self.sandboxes.pop(sandbox.sid, None)  # a timed-out sandbox is reset: its next use is a cold start
        sandbox.busy = False
        sandbox.last_used = self.ctx.now()
        self.went_idle.set()
        self.ctx.spawn(self._release, msg.lease)  # a crash before this leaves the slot to its expiry
        return RunResult(outcome)

    async def _execute(self, sandbox: Sandbox, msg: Run, budget: float) -> str:
        cfg = self.config
        eid, kind, duration, key = msg.event
        limit = min(cfg.timeout, budget) if cfg.enforce_timeout else budget
        began = False
        with trio.move_on_after(limit):
            begin = Begin(msg.exec_id, eid, kind, sandbox.sid, self.ctx.now())
            if await self.ctx.call("store", begin, CALL_TIMEOUT) is None:
                return "not-started"  # the function body never ran (a system error, not the function's)
            began = True
            if kind == "slow":
                duration = 2 * cfg.timeout
            await trio.sleep(duration)
            if kind == "poison":
                return "error"
            commit = Commit(msg.exec_id, self.ctx.now(), key)
            if kind == "tally":
                if cfg.stateful_handler:
                    sandbox.memory[key] = sandbox.memory.get(key, 0) + 1
                    commit = attrs.evolve(commit, ticket=sandbox.memory[key])
                else:
                    commit = attrs.evolve(commit, tally=True)
            done = await self.ctx.call("store", commit, CALL_TIMEOUT)
            return "ok" if done is not None else "error"  # the function's write failed: it raises
        if not began:
            return "not-started"  # stopped while recording its beginning: the body never ran
        self.ctx.note("timeout_kill", exec=msg.exec_id, kind=kind)
        return "timeout"

    async def _release(self, lease: str) -> None:
        # Retried while this incarnation lives; if the worker crashes first, only the slot's expiry frees it.
        while await self.ctx.call("placement", Release(lease), CALL_TIMEOUT) is None:
            await trio.sleep(RESEND_INTERVAL)


# -- the event queue and the asynchronous invoker --------------------------------------------------------------------
class EventQueue(Node[LambdaConfig]):
    """The durable queue of asynchronous events and the invoker that drains it: each event is attempted through a
    frontend; throttles and system errors are retried with backoff until the maximum event age (a throttle pauses
    the whole invoker for the backoff, so a throttled function is not flooded with retries), function errors
    ``maximum_retry_attempts`` times after ``retry_delay`` (doubling); then the event goes to the on-failure
    destination. Durable: ``("ev", id)`` per event (its state) and ``order``."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.inflight: set[int] = set()
        self.paused_until = 0.0  # throttled: no new attempt before this (the invoker slows down as a whole)
        self.wake = trio.Event()  # set when something changed: the invoker looks again

    def start(self) -> None:
        self.ctx.spawn(self._invoker)

    async def _invoker(self) -> None:
        """Start what is due, then sleep until the next thing is (or something changes: an event queued, an attempt
        done). Not a periodic poll: an idle queue costs the simulation nothing."""
        while True:
            self.wake = trio.Event()
            delay = self._poll()
            if delay is None:
                await self.wake.wait()
            else:
                with trio.move_on_after(delay):
                    await self.wake.wait()

    async def _group_commit(self) -> None:
        await trio.sleep(1.0)  # what was acknowledged is synced within a second
        self.storage.sync()

    def _rec(self, eid: int) -> dict:
        return dict(self.storage[("ev", eid)])

    def _put(self, rec: dict, sync: bool = True) -> None:
        self.storage[("ev", rec["id"])] = rec
        if sync:
            self.storage.sync()

    @handler
    def on_enqueue(self, msg: Enqueue) -> Queued:
        eid = msg.event[0]
        if ("ev", eid) not in self.storage:
            self.storage["order"] = self.storage.get("order", ()) + (eid,)
            self._put({"id": eid, "event": tuple(msg.event), "state": "pending", "accepted": self.ctx.now(),
                       "tries": 0, "errors": 0, "throttles": 0, "next": self.ctx.now(), "busy_until": 0.0},
                      sync=self.config.durable_enqueue)
            if not self.config.durable_enqueue:
                self.ctx.spawn(self._group_commit)
            self.wake.set()
        return Queued()

    def _poll(self) -> float | None:
        """Start each due attempt (and each send to the destination); the seconds until the next falls due, or None
        when nothing will without a change."""
        now = self.ctx.now()
        due: list[float] = []
        for eid in self.storage.get("order", ()):
            if eid in self.inflight:
                continue
            rec = self.storage[("ev", eid)]
            if rec["state"] == "to-destination":
                self.inflight.add(eid)
                self.ctx.spawn(self._to_destination, eid)
            elif rec["state"] == "pending":
                at = max(rec["next"], rec["busy_until"], self.paused_until)
                if at > now:
                    due.append(at - now)
                elif len(self.inflight) < self.config.invoker_parallelism:
                    self.inflight.add(eid)
                    self.ctx.spawn(self._attempt, eid)
        return min(due) if due else None

    async def _attempt(self, eid: int) -> None:
        cfg = self.config
        try:
            rec = self._rec(eid)
            rec["tries"] += 1
            now = self.ctx.now()
            deadline = now + cfg.lease_time
            wait = cfg.invoke_timeout or (deadline - now + 2 * LEASE_GRACE)
            rec["busy_until"] = now + wait  # a new incarnation waits this out: the attempt may still be running
            self._put(rec)
            fe = FRONTENDS[self.ctx.choose(len(FRONTENDS))]  # the load balancer's choice
            reply = await self.ctx.call(fe, Dispatch(rec["event"], f"{eid}.{rec['tries']}", deadline), wait)
            self._settle(eid, reply.outcome if reply is not None else "unknown")
        finally:
            self.inflight.discard(eid)
            self.wake.set()

    def _settle(self, eid: int, outcome: str) -> None:
        cfg = self.config
        rec = self._rec(eid)
        rec["busy_until"] = 0.0
        now = self.ctx.now()
        if outcome == "ok":
            rec["state"] = "done"
            self.ctx.note("processed", event_id=eid, tries=rec["tries"])
        elif cfg.retry_policy == "immediate":
            rec["errors"] += 1
            self.ctx.note("retry", event_id=eid, outcome=outcome)
            rec["next"] = now
            if rec["errors"] > cfg.maximum_retry_attempts:
                self._give_up(rec, "retries-exhausted")
        elif outcome in ("error", "timeout") or (outcome == "unknown" and cfg.invoke_timeout > 0):
            rec["errors"] += 1
            self.ctx.note("function_error", event_id=eid, outcome=outcome)
            if rec["errors"] > cfg.maximum_retry_attempts:
                self._give_up(rec, "retries-exhausted")
            else:
                rec["next"] = now + cfg.retry_delay * 2 ** (rec["errors"] - 1)
        else:  # throttled, not started, or no answer by the deadline: not the function's failure
            rec["throttles"] += 1
            self.ctx.note("retry", event_id=eid, outcome=outcome)
            backoff = min(cfg.backoff_max, cfg.backoff_base * 2 ** (rec["throttles"] - 1))
            rec["next"] = now + backoff / 2 + self.ctx.random.uniform(0.0, backoff / 2)  # equal jitter
            if outcome == "throttled":  # every event would be: back off as a whole, not one event at a time
                self.paused_until = max(self.paused_until, rec["next"])
        if rec["state"] == "pending" and now - rec["accepted"] >= cfg.maximum_event_age:
            self._give_up(rec, "maximum-event-age")
        self._put(rec)

    def _give_up(self, rec: dict, reason: str) -> None:
        rec["reason"], rec["failed_at"] = reason, self.ctx.now()
        if self.config.on_failure_destination:
            rec["state"] = "to-destination"  # durable before the send: no attempt after this
        else:
            rec["state"] = "dropped"
            self.ctx.note("dropped", event_id=rec["id"], reason=reason)

    async def _to_destination(self, eid: int) -> None:
        try:
            rec = self._rec(eid)
            entry = {"event": eid, "reason": rec["reason"], "at": rec["failed_at"], "tries": rec["tries"],
                     "errors": rec["errors"]}
            while await self.ctx.call("destination", ToDestination(entry), CALL_TIMEOUT) is None:
                await trio.sleep(RESEND_INTERVAL)
            rec["state"] = "failed"
            self._put(rec)
            self.ctx.note("sent_to_destination", event_id=eid, reason=rec["reason"])
        finally:
            self.inflight.discard(eid)
            self.wake.set()


# -- the function's external store and the on-failure destination ----------------------------------------------------
class Store(Node[LambdaConfig]):
    """The function's external state (a DynamoDB table): execution records and side effects, synced on every write.
    Durable: ``("x", exec_id)`` per execution, ``order``, and ``("tally", key)`` (the events counted)."""

    @handler
    def on_begin(self, msg: Begin) -> Ack:
        if ("x", msg.exec_id) not in self.storage:
            self.storage["order"] = self.storage.get("order", ()) + (msg.exec_id,)
            self.storage[("x", msg.exec_id)] = {"exec": msg.exec_id, "event": msg.event, "kind": msg.kind,
                                                "sandbox": msg.sandbox, "begin": msg.at, "commit": None,
                                                "end": None, "outcome": None, "key": None, "ticket": None}
            self.storage.sync()
        return Ack()

    @handler
    def on_end(self, msg: End) -> None:
        rec = self.storage.get(("x", msg.exec_id))
        if rec is not None and rec["end"] is None:
            self.storage[("x", msg.exec_id)] = {**rec, "end": msg.at, "outcome": msg.outcome}
            self.storage.sync()

    @handler
    def on_commit(self, msg: Commit) -> Committed | None:
        if ("x", msg.exec_id) not in self.storage:
            return None  # no execution began under this id: the write fails (the function sees an error)
        rec = dict(self.storage[("x", msg.exec_id)])
        ticket = msg.ticket
        if msg.tally:  # one counter per key in the store, idempotent per event
            counted = self.storage.get(("tally", msg.key), ())
            if rec["event"] not in counted:
                counted = counted + (rec["event"],)
                self.storage[("tally", msg.key)] = counted
            ticket = counted.index(rec["event"]) + 1
        if rec["commit"] is None:
            rec.update(commit=msg.at, key=msg.key, ticket=ticket)
            self.storage[("x", msg.exec_id)] = rec
        self.storage.sync()
        return Committed(ticket)

    @handler
    def on_read_executions(self, msg: ReadExecutions) -> Ok:
        return Ok([dict(self.storage[("x", x)]) for x in self.storage.get("order", ())])


class Destination(Node[LambdaConfig]):
    """The on-failure destination (an SQS queue): entries synced before they are acknowledged."""

    @handler
    def on_to_destination(self, msg: ToDestination) -> Ack:
        entries = self.storage.get("entries", ())
        if not any(e["event"] == msg.entry["event"] for e in entries):
            self.storage.save(entries=entries + (dict(msg.entry),))
        return Ack()

    @handler
    def on_read_failures(self, msg: ReadFailures) -> Ok:
        return Ok([dict(e) for e in self.storage.get("entries", ())])

