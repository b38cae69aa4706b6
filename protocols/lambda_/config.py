"""Lambda's configuration (the ``--set`` settings, validated) and the timing constants the nodes share."""

from __future__ import annotations

import attrs

from faultlab import ConfigError

CALL_TIMEOUT = 0.5  # how long a node waits for a peer's answer to a short request
LEASE_GRACE = 0.5  # a slot outlives its deadline by this much (the worker stops the function at the deadline)
RESEND_INTERVAL = 0.5  # between retries of a release or of a send to the on-failure destination
FRONTENDS = ("fe1", "fe2")


# -- configuration ---------------------------------------------------------------------------------------------------
@attrs.frozen
class LambdaConfig:
    """One function on one account: its limits and retry policy, the sandbox fleet, and the design switches the
    known-bad variants turn off (each validated: a bad value raises ConfigError naming the setting)."""

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
