"""Lambda's workload, invariants, variants and claims: the spec the engine runs (see the package docstring)."""

from __future__ import annotations

from faultlab import Claim, Invariant, Protocol, Variant, Witness
from invariants.invocations import (
    check_concurrency_limit,
    check_events_accounted,
    check_failure_after_retries,
    check_no_processing_after_failure,
    check_slots_released,
    check_stateless_tallies,
    check_timeout_enforced,
)
from protocols.lambda_ import figures
from protocols.lambda_.config import FRONTENDS, LambdaConfig
from protocols.lambda_.event_queue import EventQueue
from protocols.lambda_.frontend import Frontend, Placement
from protocols.lambda_.messages import (
    GetFunctionConfiguration,
    Invoke,
    InvokeSync,
    ReadExecutions,
    ReadFailures,
    ReadSlots,
)
from protocols.lambda_.store import Destination, Store
from protocols.lambda_.worker import Worker

KEYS = ("k1", "k2")
DURATIONS = (0.2, 1.0)


def nodes(cfg: LambdaConfig) -> dict:
    return {**dict.fromkeys(FRONTENDS, Frontend), "placement": Placement, "events": EventQueue, "store": Store,
            "destination": Destination, **dict.fromkeys(cfg.worker_ids(), Worker)}


def request(f: str, value):
    if f == "invoke":
        return Invoke(tuple(value))
    if f == "invoke-sync":
        return InvokeSync(tuple(value))
    return {"executions": ReadExecutions, "failures": ReadFailures, "slots": ReadSlots,
            "get-function-configuration": GetFunctionConfiguration}[f]()


def workload(choices, op_index: int) -> tuple[str, object]:
    """Two thirds asynchronous invokes, a third synchronous; a third of the events are work, a third tallies, the
    rest poison and slow (past the timeout) events. Choice 0: an asynchronous invoke of 0.2 s of work."""
    f = ("invoke", "invoke", "invoke-sync")[choices.choose(3)]
    kind = ("work", "work", "tally", "tally", "poison", "slow")[choices.choose(6)]
    duration = DURATIONS[choices.choose(len(DURATIONS))]
    key = KEYS[choices.choose(len(KEYS))] if kind == "tally" else None
    return f, [op_index + 1, kind, duration, key]


def final_ops(config: LambdaConfig) -> list[tuple[str, object, str]]:
    return [("get-function-configuration", None, "placement"), ("slots", None, "placement"),
            ("executions", None, "store"), ("failures", None, "destination")]


INVARIANTS = (
    Invariant("concurrency-limit", check_concurrency_limit,
              "never more executions running at once than the concurrency limit"),
    Invariant("slots-released", check_slots_released,
              "after settling no concurrency slot is still taken (none leaked)"),
    Invariant("events-accounted", check_events_accounted,
              "every accepted event is processed or in the on-failure destination after settling"),
    Invariant("no-processing-after-failure", check_no_processing_after_failure,
              "no execution of an event begins or commits after it was sent to the on-failure destination"),
    Invariant("failure-after-retries", check_failure_after_retries,
              "an event is given up only after 1 + maximum_retry_attempts executions or its maximum age"),
    Invariant("timeout-enforced", check_timeout_enforced, "no execution is seen running past the timeout"),
    Invariant("stateless-tallies", check_stateless_tallies,
              "a count kept across invocations gives distinct events distinct counts"),
)

CONCURRENCY = "1000 concurrent executions per account (adjustable)"

CLAIMS = (
    Claim("4", CONCURRENCY, "invariant", variant="good", invariants=("concurrency-limit", "slots-released"),
          note="scaled to a limit of 2 (the concurrency_limit setting): never more than 2 executions running at "
               "once, under crashes of workers, frontends and the placement, partitions, loss and power loss; "
               "slots are leases that expire at their execution's deadline, so none leaks", expect="held"),
    Claim("4", CONCURRENCY, "measure", measure=figures.measure_concurrency_limit,
          note="a burst of synchronous invokes of 2 s functions at limits 2 and 4: the peak of executions running "
               "at once, and how many were throttled", expect="measured"),
    Claim("4", "Auto-scales from 0 to 1000+ concurrent in seconds", "measure", measure=figures.measure_scale_from_zero,
          note="a burst of long invocations at zero sandboxes: the time until all run at once, with the scaling "
               "rate and the cold start as stated inputs", expect="measured"),
    Claim("4", "Stateless, ephemeral", "invariant", variant="stateful-handler", invariants=("stateless-tallies",),
          note="refuted for a function that keeps a count in its sandbox's memory between invocations: an "
               "invocation on another or a new sandbox (a cold start, a reaped or crashed one) counts from zero, "
               "so two events get the same count", expect="refuted"),
    Claim("4", "Stateless — must use external state stores", "invariant", variant="good",
          invariants=("stateless-tallies",),
          note="held when the count is kept in the external store (one idempotent counter per key)", expect="held"),
    Claim("4", "Max 15 minutes per invocation", "invariant", variant="good",
          invariants=("timeout-enforced", "no-processing-after-failure"),
          note="scaled 1:300 to a 3 s timeout: no execution is seen running past it, and an event given up after "
               "its attempts timed out is never processed after", expect="held"),
    Claim("4", "Cold starts (100ms-10s depending on runtime and VPC)", "measure", measure=figures.measure_cold_starts,
          note="the cold start distribution is an input (log-uniform over the quoted 100 ms-10 s); measured is its "
               "effect on the client: synchronous invoke latency p50/p99 with and without provisioned concurrency",
          expect="measured"),
    Claim("4", "SnapStart reduces from seconds to ~200ms", "measure", measure=figures.measure_snapstart,
          note="the 200 ms restore is an input (snapstart_restore), not a finding; measured is what it does to the "
               "client's p99 against the cold starts it replaces", expect="measured"),
)

SPEC = Protocol(
    name="lambda",
    summary="Lambda invocation: async events through a durable queue with retries and an on-failure destination, "
            "a concurrency limit by expiring slots, sandboxes scaling from zero with cold starts, the timeout",
    config_class=LambdaConfig,
    nodes=nodes,
    client_nodes=lambda cfg: FRONTENDS,
    request=request,
    workload=workload,
    final_ops=final_ops,
    invariants=INVARIANTS,
    witnesses=(
        Witness.acknowledged("invoke", "event accepted"),
        Witness.acknowledged("invoke-sync", "synchronous invoke returned"),
        Witness.noted("cold_start"),
        Witness.noted("throttled"),
        Witness.noted("function_error"),
        Witness.noted("sent_to_destination", "event sent to the on-failure destination"),
        Witness.noted("timeout_kill", "function stopped at its timeout"),
    ),
    variants=(
        Variant("good", {}, "expiring slots taken atomically, durable queue, backoff, on-failure destination, "
                            "state in the external store, the timeout enforced"),
        Variant("slot-leak", {"slot_expiry": False},
                "a slot is held until the worker gives it back: a worker crash mid-execution leaks it for good",
                expect_violation="slots-released"),
        Variant("release-by-count", {"slot_leases": False},
                "one slot counter, decremented by every release: a release retried after its answer was lost or "
                "held back counts twice, and the limit is exceeded", expect_violation="concurrency-limit",
                faults=("drop", "delay")),
        Variant("racy-acquire", {"atomic_acquire": False},
                "a frontend counts the slots taken, then takes one: two frontends take the last slot both",
                expect_violation="concurrency-limit"),
        Variant("ack-before-queued", {"durable_enqueue": False},
                "the queue acknowledges an event before syncing it: a power loss drops accepted events",
                expect_violation="events-accounted", faults=("lose_unsynced",)),
        Variant("no-destination", {"on_failure_destination": False},
                "no on-failure destination: a poison event is dropped after its retries, silently",
                expect_violation="events-accounted"),
        Variant("retry-without-backoff", {"retry_policy": "immediate"},
                "every failed attempt, a throttle too, is retried at once and counted: under throttling the "
                "retries are spent in a poll or two and the event is given up though the function never failed",
                expect_violation="failure-after-retries"),
        Variant("stateful-handler", {"stateful_handler": True},
                "the function keeps its tally in the sandbox: another or a new sandbox counts from zero",
                expect_violation="stateless-tallies"),
        Variant("no-timeout", {"enforce_timeout": False},
                "the worker does not stop a function at its timeout", expect_violation="timeout-enforced"),
        Variant("short-invoker-timeout", {"invoke_timeout": 0.5},
                "the invoker waits 0.5 s for an attempt and counts silence as a failure: it gives an event up while "
                "an execution still runs, which then commits", expect_violation="no-processing-after-failure"),
    ),
    claims=CLAIMS,
    faults=("drop", "delay", "partition", "crash", "restart", "lose_unsynced"),
    # After healing every accepted event must be done: the worst a run can leave is 18 events that each fail 3
    # attempts of a slowest cold start plus the timeout (13 s) on 2 slots, ~350 s, plus a lost attempt's deadline.
    settle_time=600.0,
    client_timeout=30.0,  # longer than an attempt's deadline (slowest cold start + timeout)
)
