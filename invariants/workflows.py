"""Workflow (Step Functions) and saga guarantees judged from the external service's ledger and the executor's
final description of its executions: a saga ends fully committed or fully compensated, each effect is applied once,
every started execution completes, and a task is retried at most MaxAttempts times with backoff, then caught.

Seed section 19 ("state is persisted automatically", "Built-in retry, catch, fallback states", Standard against
Express) and section 15's "Distributed transactions are hard (no cross-service DB transactions)": an order's
charge, shipment and notification are effects in another service, so what the saga promises is judged there.

History conventions (protocols/step_functions writes them; any workflow protocol may):

* ``f="start"`` with value ``{"name": execution, "order": n, "kind": k}``: StartExecution; ``ok`` means the execution
  was accepted (and, for a durable executor, persisted);
* a final ``f="describe"`` whose ``ok`` value is ``{"executions": {name: {"order", "kind", "status", "outcome"}}}``,
  status ``RUNNING``, ``SUCCEEDED`` or ``FAILED``;
* a final ``f="ledger"`` whose ``ok`` value is ``{"effects": [...], "attempts": [...], "retry": policy}``: every
  effect the service applied, ``{"seq", "action", "order", "token", "of", "execution", "at"}`` (action charge,
  refund, ship, cancel-shipment, notify), and every attempt it received, ``{"execution", "order", "action",
  "token", "attempt", "sent_at", "compensation", "result", "at"}`` (result applied, deduplicated, transient, permanent,
  voided); ``policy`` is the Retrier: ``{"max_attempts", "interval", "backoff_rate", "max_delay", "jitter_min"}``.

The last such final read counts. Witnesses carry ``ops`` (call indices) for the HTML timeline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from faultlab.history import History, Operation
from faultlab.result import CheckResult

__all__ = ["CHECKERS", "check_effects_once", "check_executions_complete", "check_retries_bounded",
           "check_saga_atomic"]

FORWARD = ("charge", "ship", "notify")
TERMINAL = ("SUCCEEDED", "FAILED")


def _final(history: History, f: str) -> Operation | None:
    done = [op for op in history.operations() if op.f == f and op.phase == "final" and op.is_ok and op.output]
    return done[-1] if done else None


def _executions(history: History) -> tuple[Operation | None, dict[str, dict]]:
    op = _final(history, "describe")
    return op, (op.output.get("executions", {}) if op else {})


def check_saga_atomic(history: History) -> CheckResult:
    """Every order's saga ends fully committed (charged, shipped, notified) or fully compensated (each charge
    refunded, each shipment cancelled); no shipment without a charge, no refund without a charge, no cancellation
    without a shipment. Orders whose execution had not ended at the final read are left to executions-complete."""
    name = "saga-atomic"
    ledger = _final(history, "ledger")
    if ledger is None:
        return CheckResult.unexercised(name, "no final read of the service's ledger")
    describe, executions = _executions(history)
    running = {e["order"] for e in executions.values() if e["status"] not in TERMINAL}
    by_order: dict[Any, list[dict]] = defaultdict(list)
    for eff in sorted(ledger.output["effects"], key=lambda e: e["seq"]):
        by_order[eff["order"]].append(eff)
    ops = [ledger.call_index] + ([describe.call_index] if describe else [])
    judged = 0
    for order, effects in sorted(by_order.items()):
        if order in running:
            continue
        judged += 1
        net = {"charge": 0, "ship": 0, "notify": 0}
        for eff in effects:
            a = eff["action"]
            if a == "refund" and net["charge"] <= 0:
                return _saga(name, order, eff, "refund without a charge to refund", ops)
            if a == "cancel-shipment" and net["ship"] <= 0:
                return _saga(name, order, eff, "cancel-shipment without a shipment", ops)
            if a == "ship" and net["charge"] <= 0:
                return _saga(name, order, eff, "shipment without a charge", ops)
            if a in net:
                net[a] += 1
            elif a == "refund":
                net["charge"] -= 1
            elif a == "cancel-shipment":
                net["ship"] -= 1
        committed = net["charge"] > 0 and net["ship"] > 0 and net["notify"] > 0
        compensated = net["charge"] == 0 and net["ship"] == 0
        if not (committed or compensated):
            what = ", ".join(f"{e['action']}#{e['seq']}" for e in effects)
            return CheckResult.violation(
                name, f"Let order {order}'s effects at the service be {what}. Then it ends with {net['charge']} "
                      f"charge(s) not refunded and {net['ship']} shipment(s) not cancelled, {net['notify']} "
                      f"notification(s): neither fully committed nor fully compensated, a contradiction!",
                order=order, net=net, effects=[e["seq"] for e in effects], ops=ops)
    if not judged:
        return CheckResult.unexercised(name, "no ended order had an effect at the service")
    return CheckResult.holds(name, f"{judged} orders' sagas ended committed or compensated", orders=judged)


def _saga(name: str, order: Any, eff: dict, what: str, ops: list[int]) -> CheckResult:
    return CheckResult.violation(
        name, f"Let order {order}'s effect #{eff['seq']} be {eff['action']} (token {eff['token']}). Then it is a "
              f"{what}, a contradiction!", order=order, effect=eff["seq"], action=eff["action"], ops=ops)


def check_effects_once(history: History) -> CheckResult:
    """No effect is applied twice to one order: one charge, one shipment, one notification, one refund and one
    cancellation at most (a re-executed transition or a retry that the service applied again)."""
    name = "exactly-once"
    ledger = _final(history, "ledger")
    if ledger is None or not ledger.output["effects"]:
        return CheckResult.unexercised(name, "no effect in a final read of the service's ledger")
    seen: dict[tuple, list[dict]] = defaultdict(list)
    for eff in sorted(ledger.output["effects"], key=lambda e: e["seq"]):
        seen[(eff["order"], eff["action"])].append(eff)
        twice = seen[(eff["order"], eff["action"])]
        if len(twice) > 1:
            first, again = twice[0], twice[1]
            return CheckResult.violation(
                name, f"Let order {eff['order']} be {eff['action']} by effect #{first['seq']} (token "
                      f"{first['token']}, execution {first['execution']}). Then effect #{again['seq']} (token "
                      f"{again['token']}) is the same {eff['action']} applied again, a contradiction!",
                order=eff["order"], action=eff["action"], effects=[first["seq"], again["seq"]],
                tokens=[first["token"], again["token"]], ops=[ledger.call_index])
    return CheckResult.holds(name, f"{len(seen)} effects, each applied once", effects=len(seen))


def check_executions_complete(history: History) -> CheckResult:
    """Every execution whose start was acknowledged has ended (SUCCEEDED or FAILED) by the final read, after
    recovery; one whose start may have happened has ended if the executor knows it."""
    name = "executions-complete"
    describe, executions = _executions(history)
    starts = [op for op in history.operations() if op.f == "start" and op.phase == "main"]
    if describe is None or not starts:
        return CheckResult.unexercised(name, "no start, or no final description of the executions")
    judged = 0
    for op in starts:
        e = executions.get(op.input["name"])
        if e is None and op.is_ok:
            return CheckResult.violation(
                name, f"Let {op.describe()} be acknowledged. Then the executor does not know execution "
                      f"{op.input['name']} after recovery: its persisted start is lost, a contradiction!",
                execution=op.input["name"], status=None, ops=[op.call_index, describe.call_index])
        if e is not None and e["status"] not in TERMINAL:
            return CheckResult.violation(
                name, f"Let {op.describe()} start execution {op.input['name']}. Then after recovery and settling "
                      f"it is still {e['status']}: it did not resume to completion, a contradiction!",
                execution=op.input["name"], status=e["status"], ops=[op.call_index, describe.call_index])
        judged += e is not None
    if not judged:
        return CheckResult.unexercised(name, "no execution was known to the executor")
    return CheckResult.holds(name, f"{judged} executions ended", executions=judged)


def check_retries_bounded(history: History) -> CheckResult:
    """A forward task is attempted at most MaxAttempts times, each retry after its backoff (at least the jitter's
    lower bound of IntervalSeconds x BackoffRate^(n-1), capped at MaxDelaySeconds, by the executor's clock), and a
    task whose every attempt failed is caught: its execution does not succeed.

    Attempts are counted per entry of the state, which the attempts' idempotency token names: a durable executor
    keeps the token (and the count) across its crashes; a re-run from the start (Express) is a new entry with a new
    budget."""
    name = "retry-backoff"
    ledger = _final(history, "ledger")
    if ledger is None:
        return CheckResult.unexercised(name, "no final read of the service's ledger")
    policy = ledger.output["retry"]
    limit = policy["max_attempts"]
    describe, executions = _executions(history)
    ops = [ledger.call_index] + ([describe.call_index] if describe else [])
    tasks: dict[tuple, dict[int, dict]] = defaultdict(dict)
    succeeded: dict[tuple, bool] = {}
    for a in ledger.output["attempts"]:
        if not a["compensation"]:
            key = (a["execution"], a["action"], a["token"] or "")
            tasks[key].setdefault(a["attempt"], a)  # a duplicated attempt's first delivery: the one sent_at judges
            succeeded[key] = succeeded.get(key, False) or a["result"] in ("applied", "deduplicated")
    last_entry = {(execution, action): token for execution, action, token in tasks}  # insertion order: the last
    retried = 0
    for (execution, action, _token), attempts in sorted(tasks.items()):
        if max(attempts) > limit:
            return CheckResult.violation(
                name, f"Let the Retry of {action} in execution {execution} allow {limit} attempts. Then the "
                      f"service received attempt {max(attempts)}: retried past MaxAttempts, a contradiction!",
                execution=execution, action=action, attempts=max(attempts), limit=limit, ops=ops)
        for n in sorted(attempts):
            if n + 1 in attempts:
                retried += 1
                nominal = min(policy["max_delay"], policy["interval"] * policy["backoff_rate"] ** (n - 1))
                gap = attempts[n + 1]["sent_at"] - attempts[n]["sent_at"]
                if gap < nominal * policy["jitter_min"] - 1e-9:
                    return CheckResult.violation(
                        name, f"Let attempt {n} of {action} in execution {execution} be sent at "
                              f"{attempts[n]['sent_at']:g}. Then attempt {n + 1} was sent {gap:g} s later, before "
                              f"the backoff's {nominal * policy['jitter_min']:g} s, a contradiction!",
                        execution=execution, action=action, attempt=n + 1, gap=gap, ops=ops)
        later = last_entry[(execution, action)] != _token  # an Express re-run entered the state again after it
        exhausted = len(attempts) == limit and not later and not succeeded[(execution, action, _token)]
        status = executions.get(execution, {}).get("status")
        if exhausted and status == "SUCCEEDED":
            return CheckResult.violation(
                name, f"Let every one of the {limit} attempts of {action} in execution {execution} fail at the "
                      f"service. Then the execution SUCCEEDED: the error was not caught, a contradiction!",
                execution=execution, action=action, status=status, ops=ops)
    if not retried:
        return CheckResult.unexercised(name, "no task was retried")
    return CheckResult.holds(name, f"{len(tasks)} tasks within {limit} attempts, {retried} retries after their "
                                   f"backoff", retries=retried)


CHECKERS: dict[str, Callable[[History], CheckResult]] = {
    "saga-atomic": check_saga_atomic,
    "workflow-exactly-once": check_effects_once,
    "workflow-executions-complete": check_executions_complete,
    "workflow-retry-backoff": check_retries_bounded,
}
