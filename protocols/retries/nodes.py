"""The retries protocol's messages, configuration and nodes: the service ``svc`` and the retrying caller ``app``.

``svc`` serves through a :class:`faultlab.capacity.Capacity` (workers, service time, bounded queue: beyond it a
``Fail("throttled")``). It holds a balance that ``Add`` increments (non-idempotent unless idempotency keys are on)
and one row with a version for optimistic concurrency (``ReadRow``, ``WriteRow(version)``: a write with a stale
version fails with "conflict"). Its applied log (which adds it applied, in order) is kept for the checkers; the final
``ReadState`` returns it.

``app`` is the client library every caller uses, a node so that its backoff draws are the protocol's coins
(``ctx.random``: steered by the search while faults happen, fair from recovery on). It receives a user's operation,
calls ``svc`` with a timeout per attempt, retries retryable failures (timeouts, throttling, unavailability) with
the configured backoff up to ``max_attempts``, consults a circuit breaker before every attempt, and answers the user
``Ok``, ``Fail`` (definitely not applied) or ``Unknown`` (an attempt timed out: it may have been applied). It keeps a
durable audit log (when each operation arrived and was answered, each attempt and whether it was the breaker's
probe, each breaker transition, each incarnation's start) that the final ``Audit`` returns, so attempts per
operation, timeouts and the breaker are judged from the history alone.
"""

from __future__ import annotations

import math

import attrs
import trio

from faultlab import ConfigError, Fail, Node, Ok, Unknown, handler
from faultlab.capacity import Capacity, fine_uniform
from protocols.retries.backoff import JITTERED, STRATEGIES, sleep_for
from protocols.retries.breaker import CircuitBreaker

IDEMPOTENCY = ("off", "persisted", "memory", "key-only")
RETRYABLE = ("throttled", "unavailable")  # Fail reasons a caller may retry; "conflict" is retried by re-reading
FINAL_OP = 1_000_000  # adds numbered from here are the final phase's (the availability probe)
LOAD_OP = 10_000_000  # adds numbered from here are the load generator's (measurements)


# -- messages --------------------------------------------------------------------------------------------------------
@attrs.frozen
class Add:
    """Add ``op`` to the balance (the operation's number is its argument, so every request differs); ``key`` is
    the idempotency key, ignored by a service without them."""

    op: int
    key: str | None


@attrs.frozen
class ReadRow:
    pass


@attrs.frozen
class WriteRow:
    version: int  # the version read: the write succeeds only if the row still has it
    op: int


@attrs.frozen
class ReadState:
    pass


@attrs.frozen
class Invoke:
    """A user's operation, handed to the caller library."""

    f: str
    value: object


@attrs.frozen
class Audit:
    pass


# -- configuration ---------------------------------------------------------------------------------------------------
@attrs.frozen
class RetriesConfig:
    # the service
    idempotency: str = attrs.field(default="persisted", metadata={
        "help": "idempotency keys at the service: off (an add applies every time), persisted (the dedup table is "
                "synced with the balance), memory (the table is lost in a crash), key-only (a reused key returns "
                "the cached reply even for other arguments)"})
    workers: int = attrs.field(default=2, metadata={"help": "requests the service serves at once"})
    queue: int = attrs.field(default=8, metadata={"help": "requests that may wait; beyond them: throttled"})
    service_time: float = attrs.field(default=0.01, metadata={"help": "seconds per request"})
    service_spread: float = attrs.field(default=0.0, metadata={
        "help": "service time varies uniformly over [service_time, service_time + spread] (a coin per request)"})
    outage_at: float = attrs.field(default=0.0, metadata={"help": "seconds into the run the scenario outage starts"})
    outage_for: float = attrs.field(default=0.0, metadata={"help": "seconds the outage lasts (0: none)"})
    outage: str = attrs.field(default="error", metadata={
        "help": "error (every request fails fast: unavailable) or slow (service time times slowdown)"})
    slowdown: float = attrs.field(default=10.0, metadata={"help": "service time multiplier in a slow outage"})
    # the caller
    strategy: str = attrs.field(default="full", metadata={"help": f"backoff: {', '.join(STRATEGIES)}"})
    base: float = attrs.field(default=0.05, metadata={"help": "backoff base, seconds"})
    cap: float = attrs.field(default=0.4, metadata={"help": "backoff cap (max_backoff), seconds"})
    max_attempts: int = attrs.field(default=4, metadata={"help": "attempts per operation (0: retry forever)"})
    attempt_timeout: float = attrs.field(default=0.5, metadata={
        "help": "seconds the caller waits for each attempt (0: no timeout, wait forever)"})
    breaker: bool = attrs.field(default=True, metadata={"help": "a circuit breaker in the caller"})
    breaker_window: int = attrs.field(default=4, metadata={"help": "outcomes the breaker judges the rate over"})
    breaker_threshold: float = attrs.field(default=0.5, metadata={
        "help": "the breaker opens when the failure rate exceeds this"})
    breaker_open_for: float = attrs.field(default=1.0, metadata={"help": "seconds open before the half-open probe"})
    breaker_half_open: bool = attrs.field(default=True, metadata={
        "help": "the breaker half-opens after open_for (off: the known-bad breaker that stays open)"})
    net_latency: float = attrs.field(default=0.001, metadata={"help": "one-way latency app <-> svc, seconds"})
    audit: bool = attrs.field(default=True, metadata={"help": "the caller keeps its durable audit log"})
    load_rate: float = attrs.field(default=0.0, metadata={
        "help": "the caller also generates this many adds per second itself (open loop; 0: none; measurements)"})
    load_for: float = attrs.field(default=0.0, metadata={"help": "seconds the generated load lasts"})

    def __attrs_post_init__(self) -> None:
        def bad(setting: str, fix: str) -> None:
            raise ConfigError(f"retries: {setting}={getattr(self, setting)!r}; {fix}")

        if self.idempotency not in IDEMPOTENCY:
            bad("idempotency", f"choose one of {', '.join(IDEMPOTENCY)}")
        if self.strategy not in STRATEGIES:
            bad("strategy", f"choose one of {', '.join(STRATEGIES)}")
        if self.outage not in ("error", "slow"):
            bad("outage", "choose error or slow")
        if self.workers < 1:
            bad("workers", "give at least 1")
        if self.queue < 0:
            bad("queue", "give 0 or more")
        if self.max_attempts < 0:
            bad("max_attempts", "give 0 (unbounded) or a number of attempts such as 3-5")
        if self.breaker_window < 1:
            bad("breaker_window", "give at least 1")
        if not 0.0 <= self.breaker_threshold < 1.0:
            bad("breaker_threshold", "give a failure rate from 0 to 1 (exclusive)")
        for name in ("service_time", "service_spread", "outage_at", "outage_for", "base", "cap", "attempt_timeout",
                     "breaker_open_for", "net_latency", "load_rate", "load_for"):
            if not getattr(self, name) >= 0:
                bad(name, "give a number of seconds (or a rate) >= 0")
        if self.slowdown < 1:
            bad("slowdown", "give a multiplier >= 1")
        if self.cap < self.base:
            bad("cap", f"give a cap >= base={self.base}")
        if self.strategy != "none" and self.base <= 0:
            bad("base", "give a positive base for a backoff strategy (strategy=none retries at once)")
        if self.strategy == "none" and self.net_latency <= 0 and self.attempt_timeout <= 0:
            bad("net_latency", "give a positive latency: immediate retries over a network taking no time never let "
                               "virtual time move")


# -- the service -----------------------------------------------------------------------------------------------------
class Service(Node[RetriesConfig]):
    """A balance with optional idempotency keys, and one versioned row, behind bounded capacity."""

    def __init__(self, ctx):
        super().__init__(ctx)
        cfg = self.config
        self.capacity = Capacity(cfg.workers, cfg.queue, cfg.service_time, spread=cfg.service_spread,
                                 coins=ctx.random, name="retries service")
        self.down = False
        self.memory_dedup: dict[str, tuple[int, object]] = {}  # idempotency=memory: gone with the process

    def start(self) -> None:
        self.ctx.set_role("leader")  # directed faults aim at the service, not at the caller library
        if "balance" not in self.storage:
            self.storage.save(balance=0, applied=(), version=0)
        if self.config.outage_for > 0:
            self.ctx.spawn(self._outage)

    async def _outage(self) -> None:
        cfg = self.config
        now = trio.current_time()
        if now >= cfg.outage_at + cfg.outage_for:
            return
        await trio.sleep(max(0.0, cfg.outage_at - now))
        self.down = cfg.outage == "error"
        if cfg.outage == "slow":
            self.capacity.service_time = cfg.service_time * cfg.slowdown
        self.ctx.note("outage_started", kind=cfg.outage)
        await trio.sleep(cfg.outage_at + cfg.outage_for - trio.current_time())
        self.down = False
        self.capacity.service_time = cfg.service_time
        self.ctx.note("outage_ended")

    async def _serve(self, work):
        if self.down:
            return Fail("unavailable")
        # applied when a worker takes it, answered after the service time: a crash in service loses the reply of an
        # applied request, the case idempotency keys are for
        return await self.capacity.serve(work, lambda: Fail("throttled"), apply_first=True)

    @handler
    async def on_add(self, msg: Add):
        return await self._serve(lambda: self._add(msg))

    def _add(self, msg: Add):
        mode = self.config.idempotency
        if mode != "off" and msg.key is not None:
            cached = self.memory_dedup.get(msg.key) if mode == "memory" else self.storage.get(f"dedup/{msg.key}")
            if cached is not None:
                op, reply = cached
                if op == msg.op or mode == "key-only":
                    self.ctx.note("dedup_hit", key=msg.key, op=msg.op)
                    return Ok(reply)
                # Stripe's rule: a key names one request; the same key with other arguments is refused, not served
                # another request's reply (and nothing is applied)
                return Fail("idempotency key reused with other arguments")
        balance = self.storage["balance"] + msg.op
        reply = [msg.op, balance]
        fields = {"balance": balance, "applied": self.storage["applied"] + (msg.op,)}
        if mode in ("persisted", "key-only") and msg.key is not None:
            fields[f"dedup/{msg.key}"] = (msg.op, reply)  # synced with the balance: one write, one sync
        self.storage.save(**fields)
        if mode == "memory" and msg.key is not None:
            self.memory_dedup[msg.key] = (msg.op, reply)
        return Ok(reply)

    @handler
    async def on_read_row(self, msg: ReadRow):
        return await self._serve(lambda: Ok(self.storage["version"]))

    @handler
    async def on_write_row(self, msg: WriteRow):
        return await self._serve(lambda: self._write_row(msg))

    def _write_row(self, msg: WriteRow):
        if msg.version != self.storage["version"]:
            return Fail("conflict")
        self.storage.save(version=msg.version + 1)
        return Ok(msg.version + 1)

    @handler
    def on_read_state(self, msg: ReadState):
        return Ok([self.storage["balance"], list(self.storage["applied"]), self.storage["version"]])


# -- the caller library ----------------------------------------------------------------------------------------------
class Caller(Node[RetriesConfig]):
    """The retrying client library: timeouts, backoff with the configured jitter, max attempts, circuit breaker."""

    def __init__(self, ctx):
        super().__init__(ctx)
        cfg = self.config
        self.breaker = CircuitBreaker(window=cfg.breaker_window, threshold=cfg.breaker_threshold,
                                      open_for=cfg.breaker_open_for, half_open=cfg.breaker_half_open) \
            if cfg.breaker else None
        self.timeout = cfg.attempt_timeout if cfg.attempt_timeout > 0 else math.inf

    def start(self) -> None:
        if "audit" not in self.storage:
            self.storage.save(audit=())
        self._audit("start", self.ctx.incarnation)
        if self.config.load_rate > 0 and self.config.load_for > 0:
            self.ctx.spawn(self._generate_load)

    def _audit(self, *entry) -> None:
        if self.config.audit:
            self.storage.save(audit=self.storage["audit"] + ((entry[0], trio.current_time(), *entry[1:]),))

    # -- users -----------------------------------------------------------------------------------------------------
    @handler
    async def on_invoke(self, msg: Invoke):
        if msg.f == "add":
            n, key = msg.value
            self._audit("recv", n)
            reply = await self.add(n, key)
            self._audit("answer", n, type(reply).__name__.lower())
            return reply
        if msg.f == "update":
            return await self.update(msg.value)
        return Fail(f"unknown operation {msg.f}")

    @handler
    def on_audit(self, msg: Audit):
        return Ok([list(e) for e in self.storage["audit"]])

    async def _generate_load(self) -> None:
        cfg = self.config
        for i in range(int(cfg.load_rate * cfg.load_for)):
            self.ctx.spawn(self._one_load, LOAD_OP + i)
            await trio.sleep(1.0 / cfg.load_rate)

    async def _one_load(self, n: int) -> None:
        began = trio.current_time()
        reply = await self.add(n, f"k{n}")
        self.ctx.note("load_done", op=n, status=type(reply).__name__.lower(), began=began,
                      took=trio.current_time() - began)

    # -- retrying --------------------------------------------------------------------------------------------------
    def _backoff(self, attempt: int, previous: float) -> float:
        cfg = self.config
        u = fine_uniform(self.ctx.random, 0.0, 1.0) if cfg.strategy in JITTERED else 0.0
        sleep = sleep_for(cfg.strategy, attempt, cfg.base, cfg.cap, previous, u)
        self.ctx.note("backoff", attempt=attempt, sleep=sleep, previous=previous)
        return sleep

    def _may_call(self, n: int) -> str | None:
        """Ask the breaker (if any) for an attempt of operation ``n``: "call", "probe", or None (refused)."""
        if self.breaker is None:
            return "call"
        kind, transition = self.breaker.allow(trio.current_time())
        if transition:
            self._audit(transition)
            self.ctx.note("breaker_" + transition.replace("-", "_"))
        return kind

    def _outcome(self, ok: bool, kind: str) -> None:
        if self.breaker is None:
            return
        transition = self.breaker.record(ok, trio.current_time(), probe=kind == "probe")
        if transition:
            self._audit(transition)
            self.ctx.note("breaker_" + transition)

    async def add(self, n: int, key: str | None):
        cfg = self.config
        maybe_applied = False
        sleep = cfg.base
        attempt = 0
        while True:
            kind = self._may_call(n)
            if kind is None:
                self.ctx.note("short_circuited", op=n)
                return Unknown("circuit open; an earlier attempt may have been applied") if maybe_applied \
                    else Fail("circuit open")
            attempt += 1
            if attempt > 1:
                self.ctx.note("retry", op=n, attempt=attempt)
            self._audit("attempt", n, kind)
            reply = await self.ctx.call("svc", Add(n, key), self.timeout)
            retryable = reply is None or isinstance(reply, Fail) and reply.reason in RETRYABLE
            self._outcome(not retryable, kind)
            if not retryable:
                return reply  # Ok, or a Fail that retrying cannot fix (nothing was applied)
            maybe_applied = maybe_applied or reply is None
            if cfg.max_attempts and attempt >= cfg.max_attempts:
                self.ctx.note("gave_up", op=n, attempts=attempt)
                return Unknown(f"{attempt} attempts; one timed out and may have been applied") if maybe_applied \
                    else Fail(f"{attempt} attempts failed")
            sleep = self._backoff(attempt, sleep)
            if sleep > 0:
                await trio.sleep(sleep)

    async def update(self, n: int):
        """Optimistic concurrency on the row: read the version, write if unchanged, on a conflict back off and
        start again (the AWS simulator's client: it retries until it wins)."""
        cfg = self.config
        sleep = cfg.base
        attempt = 0
        while True:
            version = await self.ctx.call("svc", ReadRow(), self.timeout)
            written = None
            if isinstance(version, Ok):
                written = await self.ctx.call("svc", WriteRow(version.value, n), self.timeout)
                if isinstance(written, Ok):
                    return Ok([n, written.value])
            attempt += 1
            if cfg.max_attempts and attempt >= cfg.max_attempts:
                return Unknown("gave up") if written is None else Fail("gave up")
            sleep = self._backoff(attempt, sleep)
            if sleep > 0:
                await trio.sleep(sleep)
