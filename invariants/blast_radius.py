"""Blast radius over a history: which customers a poison request (a bug, a noisy neighbour) took down.

The history names its own placement, so it can be judged alone (``faultlab check-history --checker``): a
``placement`` operation's input is ``{"kind": "cell" | "shard", "poison": CUSTOMER, "units": {CUSTOMER: [UNIT,
...]}}``, the cell (or the shards) each customer is assigned to by the configuration the code ran. A customer's
request is ``f="request"`` with input ``[customer, n]``; an ``ok`` value is ``[customer, unit]``: the unit that
served it. ``fail`` and ``info`` both count as "not served" here (availability, not linearizability).

A bad deployment is placed the same way with ``"canary": [UNIT, ...]`` and ``"trigger": F`` instead of a poison:
the outage begins with the first operation ``F`` (a rollout) and is meant to stay in the canary units.

A customer is *exposed* to the poison when all of its units are among the poison customer's units (or the canary
units): with one cell per customer, the customers of the poison's cell; with shuffle sharding, those sharing *every*
shard (a customer with one shard outside can be served there). The poison *arrives* when the poison customer's first
request is invoked (a deployment: when the trigger operation is).

* :func:`check_blast_radius`: no request of an unexposed customer invoked after the poison arrived fails
  (``phase="final"``: judged on the reads after healing and recovery only, where no injected fault is left to blame).
* :func:`check_served_by_own_units`: every request served ok was served by one of its customer's own units (no
  cross-cell traffic: a router that spills a failed cell's customers elsewhere shows here even when all succeed).
* :func:`check_exposed_customers_down`: after recovery every exposed customer (other than the poison) is down too:
  the poison took out the whole cell (or every shard of the set), not one replica.

Pure over a history: no trio, no Hypothesis.
"""

from __future__ import annotations

import attrs

from faultlab.history import History, Operation
from faultlab.result import CheckResult

__all__ = ["Placement", "check_blast_radius", "check_blast_radius_after_recovery", "check_exposed_customers_down",
           "check_served_by_own_units", "placement_of"]


@attrs.frozen
class Placement:
    """What a history's ``placement`` operation says: every customer's units, and where the outage starts: the
    ``poison`` customer's units, or (a bad deployment) the ``canary`` units the first ``trigger`` operation breaks."""

    kind: str
    units: dict[str, frozenset[str]]
    poison: str | None
    origin: frozenset[str]
    trigger: str

    def arrival(self, ops: list[Operation]) -> Operation | None:
        """The operation that brings the outage: the poison's first request, or the first trigger operation."""
        if self.poison is not None:
            return next((op for op in ops if op.f == "request" and op.input[0] == self.poison), None)
        return next((op for op in ops if op.f == self.trigger), None)

    def describe(self, first: Operation) -> str:
        if self.poison is not None:
            return (f"Let P = {first.describe()}: the poison customer {self.poison}, on {self.kind}s "
                    f"{_units(self.origin)}.")
        return (f"Let P = {first.describe()}: the rollout of a bad version, whose canary is {self.kind}s "
                f"{_units(self.origin)}.")

    def missing(self) -> str:
        if self.poison is not None:
            return f"The poison customer {self.poison} sent no request."
        return f"No {self.trigger} operation."


def placement_of(history: History) -> Placement | None:
    """The history's placement (see the module docstring), or None."""
    for op in history.operations():
        if op.f == "placement" and isinstance(op.input, dict):
            spec = op.input
            units = {c: frozenset(str(u) for u in us) for c, us in spec["units"].items()}
            poison = spec.get("poison")
            origin = units[poison] if poison is not None else frozenset(str(u) for u in spec.get("canary", ()))
            return Placement(spec.get("kind", "unit"), units, poison, origin, spec.get("trigger", "deploy"))
    return None


def _requests(history: History) -> list[Operation]:
    return [op for op in history.operations() if op.f == "request"]


def _units(units: frozenset[str]) -> str:
    return "{" + ", ".join(sorted(units)) + "}"


def check_blast_radius(history: History, *, phase: str | None = None) -> CheckResult:
    """No customer whose units are not all the poison's fails after the poison arrived (in ``phase`` if given)."""
    checker = "blast-radius" if phase is None else f"blast-radius-{phase}"
    pl = placement_of(history)
    if pl is None:
        return CheckResult.unexercised(checker, "The history has no placement operation: nothing to judge.")
    ops = history.operations()
    first = pl.arrival(ops)
    if first is None:
        return CheckResult.unexercised(checker, pl.missing(), poison=pl.poison)
    judged = served = 0
    for op in ops:
        if op.f != "request":
            continue
        customer = op.input[0]
        if customer == pl.poison or not first.called < op.called or (phase is not None and op.phase != phase):
            continue
        mine = pl.units.get(customer)
        if mine is None or mine <= pl.origin:
            continue  # exposed: all of its units are where the outage is
        judged += 1
        if op.is_ok:
            served += 1
            continue
        return CheckResult.violation(
            checker, f"{pl.describe(first)} Let R = {op.describe()}: customer {customer}, on {pl.kind}s "
            f"{_units(mine)}, which are not all P's, invoked after P. Then R was not served ({op.status}): the "
            f"blast radius reached a customer outside it: a contradiction!", poison=pl.poison,
            poison_units=sorted(pl.origin), customer=customer, units=sorted(mine), request=op.call_index,
            ops=[first.call_index, op.call_index], status=op.status)
    if not judged:
        return CheckResult.unexercised(checker, "No request of an unexposed customer came after the outage began.",
                                       poison=pl.poison)
    return CheckResult.holds(checker, f"{served} requests of customers outside {pl.kind}s {_units(pl.origin)} "
                                      f"after the outage began were all served", requests=judged,
                             poison=pl.poison)


def check_blast_radius_after_recovery(history: History) -> CheckResult:
    """:func:`check_blast_radius` on the final phase: after healing, restarts and settling."""
    return check_blast_radius(history, phase="final")


def check_served_by_own_units(history: History) -> CheckResult:
    """Every request served ok names a unit of its own customer (a cell is self-contained)."""
    checker = "served-by-own-units"
    pl = placement_of(history)
    if pl is None:
        return CheckResult.unexercised(checker, "The history has no placement operation: nothing to judge.")
    units, kind = pl.units, pl.kind
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
    pl = placement_of(history)
    if pl is None:
        return CheckResult.unexercised(checker, "The history has no placement operation: nothing to judge.")
    ops = history.operations()
    first = pl.arrival(ops)
    if first is None:
        return CheckResult.unexercised(checker, pl.missing(), poison=pl.poison)
    judged = 0
    for op in ops:
        if op.f != "request":
            continue
        customer = op.input[0]
        if customer == pl.poison or op.phase != "final" or not first.called < op.called:
            continue
        if not pl.units.get(customer, frozenset()) <= pl.origin:
            continue
        judged += 1
        if op.is_ok:
            return CheckResult.violation(
                checker, f"{pl.describe(first)} Let R = {op.describe()}: customer {customer}, on {pl.kind}s "
                f"{_units(pl.units[customer])}, all of them P's, after recovery. Then R was served by "
                f"{op.output[1] if op.output else '?'}: the outage did not take down what it hit: "
                f"a contradiction!", poison=pl.poison, customer=customer, request=op.call_index,
                ops=[first.call_index, op.call_index])
    if not judged:
        return CheckResult.unexercised(checker, f"No other customer is on {pl.kind}s {_units(pl.origin)}.",
                                       poison=pl.poison)
    return CheckResult.holds(checker, f"all {judged} final requests of customers on {pl.kind}s "
                                      f"{_units(pl.origin)} went unserved", requests=judged)


# For `faultlab check-history --checker NAME` (faultlab.checkers): checkers that take a history alone.
CHECKERS = {"blast-radius": check_blast_radius, "blast-radius-after-recovery": check_blast_radius_after_recovery,
            "served-by-own-units": check_served_by_own_units, "exposed-customers-down": check_exposed_customers_down}
