"""The step-functions protocol's workload, invariants, variants, witnesses, claims and SPEC (see the package
docstring)."""

from __future__ import annotations

import trio

from faultlab import Claim, Invariant, Ok, Protocol, Unknown, Variant, Witness
from invariants.workflows import (
    check_effects_once,
    check_executions_complete,
    check_retries_bounded,
    check_saga_atomic,
)

from .config import StepFunctionsConfig
from .executor import EXECUTOR, Executor
from .measure import measure_duplicates
from .messages import DescribeExecution, DescribeExecutions, ExecutionStatus, ReadLedger, StartExecution
from .service import SERVICE, WORKERS, Service, Worker

# What an order meets, by workload choice (0 the boring one): a valid order that commits; an invalid one (the Choice
# rejects it); a declined card (Charge fails, is retried, then caught); an item out of stock or an unreachable
# customer (a Parallel branch fails: the charge, and a shipment already made, are compensated).
START_TIMEOUT = 1.0  # seconds a client waits for each reply of the executor
POLL = 0.5  # seconds between a client's DescribeExecution calls
FOLLOW = 12.0  # seconds a client follows its execution before it moves on
KINDS = ("ok", "declined", "out-of-stock", "unreachable", "invalid")


def workload(choices, op_index: int) -> tuple[str, object]:
    n = op_index + 1
    return "start", {"name": f"x{n}", "order": n, "kind": KINDS[choices.choose(len(KINDS))]}


async def client(api, f: str, value):
    """A client starts its execution (ok once the executor accepted it) and follows it with DescribeExecution until
    it ends or FOLLOW seconds pass, so that executions run while faults happen; the final phase's reads go to the
    executor and the service. The outcome is the start's: ok with the last status seen, info if no acceptance came."""
    if f == "describe":
        return await api.call(DescribeExecutions(), EXECUTOR)
    if f == "ledger":
        return await api.call(ReadLedger(), SERVICE)
    accepted = None
    with trio.move_on_after(START_TIMEOUT):
        accepted = await api.call(StartExecution(value["name"], value["order"], value["kind"]), EXECUTOR)
    if not isinstance(accepted, Ok):
        return Unknown("no acceptance of the start")
    status = "RUNNING"
    with trio.move_on_after(FOLLOW):
        while status in ("RUNNING", "UNKNOWN"):
            await trio.sleep(POLL)
            reply = None
            with trio.move_on_after(START_TIMEOUT):
                reply = await api.call(DescribeExecution(value["name"]), EXECUTOR)
            status = reply.status if isinstance(reply, ExecutionStatus) else status
    return Ok({"name": value["name"], "seen": status})


def final_ops(config: StepFunctionsConfig) -> list[tuple[str, object, str]]:
    """After recovery and settling: the executor's description of every execution, then the service's ledger."""
    return [("describe", None, EXECUTOR), ("ledger", None, SERVICE)]


INVARIANTS = (
    Invariant("saga-atomic", check_saga_atomic, "every ended order is fully committed (charged, shipped, notified) "
              "or fully compensated; no shipment or refund without a charge, no cancellation without a shipment"),
    Invariant("exactly-once", check_effects_once, "no charge, shipment, notification, refund or cancellation is "
              "applied twice to one order"),
    Invariant("executions-complete", check_executions_complete, "every acknowledged execution has ended after "
              "recovery (it resumed from its persisted state and completed)"),
    Invariant("retry-backoff", check_retries_bounded, "a task is attempted at most MaxAttempts times, each retry "
              "after its backoff, and a task that failed every attempt is caught (its execution does not succeed)"),
)
AT_LEAST_ONCE = ("saga-atomic", "executions-complete", "retry-backoff")

# Skew is left out: backoff is judged by the executor's clock (sent_at), and no sentence of the section is about
# clocks. Disk faults beyond power loss (torn writes, destroyed disks) are not claimed: the executor is one node.
FAULTS = ("drop", "duplicate", "delay", "partition", "crash", "restart", "lose_unsynced")

VARIANTS = (
    Variant("standard", {}, "Standard: every transition synced before it acts, idempotent tasks (the token of the "
            "transition), Retry 3 attempts with jittered exponential backoff, Catch -> compensations persisted step "
            "by step"),
    Variant("express", {"mode": "express"}, "Express: only the start and the end persisted; a crash re-runs the "
            "execution from the start (at-least-once)", invariants=("executions-complete", "retry-backoff")),
    Variant("express-exactly-once", {"mode": "express"}, "Express held to exactly-once: a re-run after a crash "
            "charges again", expect_violation="exactly-once"),
    Variant("express-saga", {"mode": "express"}, "Express held to the saga's atomicity: a re-run after a crash "
            "compensates only what it did itself, and the first run's charge stays", expect_violation="saga-atomic"),
    Variant("act-before-persist", {"persist_before_act": False}, "the executor sends a task before it persists "
            "the state's entry: after a crash the state is entered again with a new token and charged again",
            expect_violation="exactly-once"),
    Variant("no-charge-token", {"charge_token": False}, "the charge task carries no idempotency token: a retry "
            "after a charge whose reply was lost charges again", expect_violation="exactly-once"),
    Variant("compensation-not-persisted", {"persist_compensation": False}, "the catch records the execution's "
            "end at once and runs the compensations from memory: a crash during them leaves the saga half "
            "compensated", expect_violation="saga-atomic"),
    Variant("catch-swallows", {"compensate": False}, "the Catch fails the execution without compensating: a "
            "charge stays after the shipment failed", expect_violation="saga-atomic"),
    Variant("retry-forever", {"bounded_retries": False}, "a Retry without MaxAttempts: a declined charge is "
            "retried until the run ends", expect_violation="retry-backoff"),
)
VARIANTS = tuple(Variant(v.name, v.settings, v.description, expect_violation=v.expect_violation,
                         invariants=v.invariants, faults=FAULTS) for v in VARIANTS)

WITNESSES = (
    Witness.acknowledged("start"),
    Witness.noted("resumed", "an execution resumed after an executor restart"),
    Witness.noted("retry", "a task retried after its backoff"),
    Witness.noted("caught", "an error caught"),
    Witness.noted("compensated", "a saga compensated"),
    Witness.noted("deduplicated", "a repeated task attempt deduplicated by its token"),
    Witness("a charge committed", lambda run: any(
        e.fields.get("outcome") == "committed" for e in run.log.notes("execution-ended"))),
)

PERSISTED = "Zero infrastructure; state is persisted automatically"
TYPES = "Standard (durable, up to 1 year) + Express (high-volume, 5 min)"
ERRORS = "Built-in retry, catch, fallback states"
SAGA = "Distributed transactions are hard (no cross-service DB transactions)"
WORKFLOW = "order processing: validate → charge → ship → notify"

CLAIMS = (
    Claim("19", PERSISTED, "invariant", variant="standard", invariants=("executions-complete", "exactly-once"),
          expect="held", note="a Standard execution survives executor crashes and power loss: it resumes from its "
          "persisted transitions and completes after recovery, without applying any effect twice"),
    Claim("19", PERSISTED, "invariant", variant="act-before-persist", invariants=("exactly-once",),
          expect="refuted", note="persisting a transition after acting instead: a crash between the two re-enters "
          "the state with a new token and the service charges again"),
    Claim("19", ERRORS, "invariant", variant="standard", invariants=("retry-backoff", "saga-atomic"),
          expect="held", note="every failing task is retried at most 3 times (MaxAttempts across executor crashes), "
          "each retry after its jittered exponential backoff, and then caught; the Catch's fallback compensates"),
    Claim("19", ERRORS, "invariant", variant="retry-forever", invariants=("retry-backoff",), expect="refuted",
          note="a Retry without MaxAttempts retries a declined charge past any limit and is never caught"),
    Claim("19", ERRORS, "invariant", variant="no-charge-token", invariants=("exactly-once",), expect="refuted",
          note="the built-in retry is safe only for idempotent tasks: a charge sent without the transition's token "
          "is charged again by the retry that follows a lost reply (section 13: retrying a non-idempotent "
          "operation causes data corruption)"),
    Claim("19", ERRORS, "invariant", variant="catch-swallows", invariants=("saga-atomic",), expect="refuted",
          note="a Catch that swallows the error without a compensation leaves the customer charged for an order "
          "that was not shipped"),
    Claim("19", TYPES, "invariant", variant="standard", invariants=("exactly-once", "executions-complete"),
          expect="held", note="Standard, exactly-once state transitions with idempotent tasks: no effect applied "
          "twice under executor crashes, power loss, worker crashes, message loss, duplication, delay and "
          "partitions (the section's 'durable'; AWS documents Standard as exactly-once)"),
    Claim("19", TYPES, "invariant", variant="express", invariants=("executions-complete", "retry-backoff"),
          expect="held", note="Express, at-least-once: every execution still completes after executor crashes "
          "(re-run from its start)"),
    Claim("19", TYPES, "invariant", variant="express-exactly-once", invariants=("exactly-once",), expect="refuted",
          note="the expected tradeoff: Express is at-least-once (AWS's wording); a crash re-runs the execution and "
          "its tasks run twice: a duplicated charge"),
    Claim("19", TYPES, "measure", measure=measure_duplicates, expect="measured",
          note="duplicated effects per execution, Standard against Express, under the default fault mix"),
    Claim("15", SAGA, "invariant", variant="standard", invariants=("saga-atomic",), expect="held",
          note="without a cross-service transaction the saga's compensations are the transaction: every order "
          "ends fully committed or fully compensated, under every fault of the standard variant"),
    Claim("15", SAGA, "invariant", variant="express-saga", invariants=("saga-atomic",), expect="refuted",
          note="an Express saga is not atomic under executor crashes: the re-run mints new tokens, so its "
          "compensation refunds its own charge and not the lost run's (a saga needs the durable, Standard mode)"),
    Claim("15", SAGA, "invariant", variant="compensation-not-persisted", invariants=("saga-atomic",),
          expect="refuted", note="compensations run from memory: an executor crash during them leaves the order "
          "half compensated"),
    Claim("19", WORKFLOW, "invariant", variant="standard", invariants=("saga-atomic", "executions-complete"),
          expect="held", note="the interview's workflow is the model's saga (with a Choice after validate and "
          "ship and notify as a Parallel state)"),
)

SPEC = Protocol(
    name="step-functions",
    summary="Step Functions: a durable executor (task, choice, retry with backoff, catch, parallel) running an "
            "order saga (validate, charge, ship, notify, with compensations), Standard against Express",
    config_class=StepFunctionsConfig,
    nodes=lambda cfg: {EXECUTOR: Executor, **{w: Worker for w in WORKERS}, SERVICE: Service},
    zones=lambda cfg: {EXECUTOR: "zone-a", WORKERS[0]: "zone-a", WORKERS[1]: "zone-b", SERVICE: "zone-c"},
    client=client,
    workload=workload,
    final_ops=final_ops,
    invariants=INVARIANTS,
    witnesses=WITNESSES,
    variants=VARIANTS,
    claims=CLAIMS,
    faults=FAULTS,
    links="datagram",
    settle_time=40.0,
    client_timeout=20.0,
)
