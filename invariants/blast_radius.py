"""Blast radius over a history: which customers a poison request (a bug, a noisy neighbour) took down.

The history names its own placement, so it can be judged alone (``faultlab check-history --checker``): a
``placement`` operation's input is ``{"kind": "cell" | "shard", "poison": CUSTOMER, "units": {CUSTOMER: [UNIT,
...]}}``, the cell (or the shards) each customer is assigned to by the configuration the code ran. A customer's
request is ``f="request"`` with input ``[customer, n]``; an ``ok`` value is ``[customer, unit]``: the unit that
served it. ``fail`` and ``info`` both count as "not served" here (availability, not linearizability).

A customer is *exposed* to the poison when all of its units are among the poison customer's units: with one cell
per customer, the customers of the poison's cell; with shuffle sharding, those sharing *every* shard (a customer
with one shard outside can be served there). The poison *arrives* when the poison customer's first request is
invoked.

* :func:`check_blast_radius`: no request of an unexposed customer invoked after the poison arrived fails
  (``phase="final"``: judged on the reads after healing and recovery only, where no injected fault is left to blame).
* :func:`check_served_by_own_units`: every request served ok was served by one of its customer's own units (no
  cross-cell traffic: a router that spills a failed cell's customers elsewhere shows here even when all succeed).
* :func:`check_exposed_customers_down`: after recovery every exposed customer (other than the poison) is down too:
  the poison took out the whole cell (or every shard of the set), not one replica.

Pure over a history: no trio, no Hypothesis.
"""

from __future__ import annotations

from faultlab.history import History, Operation
from faultlab.result import CheckResult

__all__ = ["check_blast_radius", "check_blast_radius_after_recovery", "check_exposed_customers_down",
           "check_served_by_own_units", "placement_of"]


def placement_of(history: History) -> tuple[str, dict[str, frozenset[str]], str] | None:
    """(poison customer, customer -> units, kind) from the history's ``placement`` operation, or None."""
    for op in history.operations():
        if op.f == "placement" and isinstance(op.input, dict):
            units = {c: frozenset(str(u) for u in us) for c, us in op.input["units"].items()}
            return op.input["poison"], units, op.input.get("kind", "unit")
    return None


def _requests(history: History) -> list[Operation]:
    return [op for op in history.operations() if op.f == "request"]


def _poison_arrival(requests: list[Operation], poison: str) -> Operation | None:
    return next((op for op in requests if op.input[0] == poison), None)


def _units(units: frozenset[str]) -> str:
    return "{" + ", ".join(sorted(units)) + "}"


def check_blast_radius(history: History, *, phase: str | None = None) -> CheckResult:
    """No customer whose units are not all the poison's fails after the poison arrived (in ``phase`` if given)."""
    checker = "blast-radius" if phase is None else f"blast-radius-{phase}"
    placed = placement_of(history)
    if placed is None:
        return CheckResult.unexercised(checker, "The history has no placement operation: nothing to judge.")
    poison, units, kind = placed
    requests = _requests(history)
    first = _poison_arrival(requests, poison)
    if first is None:
        return CheckResult.unexercised(checker, f"The poison customer {poison} sent no request.", poison=poison)
    bad_units = units[poison]
    judged = served = 0
    for op in requests:
        customer = op.input[0]
        if customer == poison or not first.called < op.called or (phase is not None and op.phase != phase):
            continue
        mine = units.get(customer)
        if mine is None or mine <= bad_units:
            continue  # exposed: all of its units are the poison's
        judged += 1
        if op.is_ok:
            served += 1
            continue
        return CheckResult.violation(
            checker, f"Let P = {first.describe()}: the poison customer {poison}, on {kind}s {_units(bad_units)}. "
            f"Let R = {op.describe()}: customer {customer}, on {kind}s {_units(mine)}, which are not all P's, "
            f"invoked after P. Then R was not served ({op.status}): the poison's blast radius reached a customer "
            f"outside it: a contradiction!", poison=poison, poison_units=sorted(bad_units), customer=customer,
            units=sorted(mine), request=op.call_index, ops=[first.call_index, op.call_index], status=op.status)
    if not judged:
        return CheckResult.unexercised(checker, "No request of an unexposed customer came after the poison.",
                                       poison=poison)
    return CheckResult.holds(checker, f"{served} requests of customers outside {poison}'s {kind}s "
                                      f"{_units(bad_units)} after the poison were all served", requests=judged,
                             poison=poison)


def check_blast_radius_after_recovery(history: History) -> CheckResult:
    """:func:`check_blast_radius` on the final phase: after healing, restarts and settling."""
    return check_blast_radius(history, phase="final")


def check_served_by_own_units(history: History) -> CheckResult:
    """Every request served ok names a unit of its own customer (a cell is self-contained)."""
    checker = "served-by-own-units"
    placed = placement_of(history)
    if placed is None:
        return CheckResult.unexercised(checker, "The history has no placement operation: nothing to judge.")
    _, units, kind = placed
    served = [op for op in _requests(history) if op.is_ok and op.output is not None]
    for op in served:
        customer, unit = op.output[0], str(op.output[1])
        mine = units.get(customer, frozenset())
        if unit not in mine:
            return CheckResult.violation(
                checker, f"Let R = {op.describe()}: customer {customer} is on {kind}s {_units(mine)}. Then R was "
                f"served by {kind} {unit}, not one of its own: traffic crossed {kind}s: a contradiction!",
                customer=customer, units=sorted(mine), served_by=unit, request=op.call_index, ops=[op.call_index])
    if not served:
        return CheckResult.unexercised(checker, "No request was served.")
    return CheckResult.holds(checker, f"{len(served)} served requests, each by its customer's own {kind}",
                             requests=len(served))


def check_exposed_customers_down(history: History) -> CheckResult:
    """After recovery, every customer whose units are all the poison's is down as well (none served)."""
    checker = "exposed-customers-down"
    placed = placement_of(history)
    if placed is None:
        return CheckResult.unexercised(checker, "The history has no placement operation: nothing to judge.")
    poison, units, kind = placed
    requests = _requests(history)
    first = _poison_arrival(requests, poison)
    if first is None:
        return CheckResult.unexercised(checker, f"The poison customer {poison} sent no request.", poison=poison)
    bad_units = units[poison]
    judged = 0
    for op in requests:
        customer = op.input[0]
        if customer == poison or op.phase != "final" or not first.called < op.called:
            continue
        if not units.get(customer, frozenset()) <= bad_units:
            continue
        judged += 1
        if op.is_ok:
            return CheckResult.violation(
                checker, f"Let P = {first.describe()}: the poison customer {poison} took down its {kind}s "
                f"{_units(bad_units)}. Let R = {op.describe()}: customer {customer}, on {kind}s "
                f"{_units(units[customer])}, all of them P's, after recovery. Then R was served by "
                f"{op.output[1] if op.output else '?'}: the poison did not take down what it was sent to: "
                f"a contradiction!", poison=poison, customer=customer, request=op.call_index,
                ops=[first.call_index, op.call_index])
    if not judged:
        return CheckResult.unexercised(checker, f"No customer shares all of {poison}'s {kind}s.", poison=poison)
    return CheckResult.holds(checker, f"all {judged} final requests of customers on {poison}'s {kind}s "
                                      f"{_units(bad_units)} went unserved", requests=judged)


# For `faultlab check-history --checker NAME` (faultlab.checkers): checkers that take a history alone.
CHECKERS = {"blast-radius": check_blast_radius, "blast-radius-after-recovery": check_blast_radius_after_recovery,
            "served-by-own-units": check_served_by_own_units, "exposed-customers-down": check_exposed_customers_down}
