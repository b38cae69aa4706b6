"""Every checker has a negative control and a near-miss twin, so a checker broken either way fails the suite.

Thirteen bugs were planted in the code one at a time; one went uncaught: dynamo's sibling convergence returning ok
always, with all tests passing. So each checker here, in ``invariants/`` (linearizability under every model, every
list-append anomaly) and every invariant a protocol in ``protocols/`` hands to the engine, gets

* a *control*: a hand-written history it must report ``violated``, with the witness naming the operations (call
  indices), the key and the value, and an explanation that says why and ends "a contradiction!"; and
* a *twin*: the same history with the one difference removed, which it must judge ``ok`` *and exercised* (an ``ok``
  for lack of anything to judge shows nothing).

A checker mutated to "always ok" fails its control; one mutated to "always violated" fails its twin.
:func:`test_every_checker_has_a_control` finds the checkers by introspection, so a new one without a control fails.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import controls_invariants  # noqa: F401  (registers its controls)
import controls_messaging  # noqa: F401
import controls_resilience  # noqa: F401
import pytest
from controls import CONTROLS, Control, _at
from controls_protocols import SPECS

import invariants
import protocols
from invariants.elle import ANOMALIES
from models import MODELS

# == the tests ======================================================================================================

@pytest.mark.parametrize("c", [pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=c.bug)) if c.bug else c
                               for c in CONTROLS], ids=str)
def test_control_history_is_violated_with_a_witness_that_says_why(c: Control):
    result = c.check(c.violating())
    assert result.violated and result.exercised, result
    assert {path: _at(result.witness, path) for path in c.witness} == c.witness
    assert c.because in result.explanation, result.explanation
    assert "a contradiction!" in result.explanation


@pytest.mark.parametrize("c", CONTROLS, ids=str)
def test_near_miss_twin_is_judged_ok(c: Control):
    result = c.check(c.twin())
    assert result.ok and result.exercised, result


def _checkers() -> set[str]:
    """What must have a control: every public check_* of invariants/, linearizability per model, list-append per
    anomaly, every check_* defined in protocols/, and every invariant of every protocol."""
    names = set()
    for package in (invariants, protocols):
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):  # a protocol may be a package
            module = importlib.import_module(info.name)
            for name, fn in inspect.getmembers(module, inspect.isfunction):
                if name.startswith("check_") and fn.__module__ == module.__name__:
                    names.add(f"{module.__name__}.{name}")
    names.remove("invariants.linearizability.check_linearizable")
    names |= {f"invariants.linearizability.check_linearizable[{m}]" for m in MODELS}
    names.remove("invariants.elle.check_list_append")
    names |= {f"invariants.elle.check_list_append[{x}]" for x in (*ANOMALIES, "incompatible-order", "garbage-read")}
    for spec in SPECS.values():
        names |= {f"{spec.name}/{inv.name}" for inv in spec.invariants}
    return names


def test_every_checker_has_a_control():
    covered = {c.target for c in CONTROLS}
    # A protocol-level check_* is covered by the control of the invariant that hands it to the engine.
    for spec in SPECS.values():
        for inv in spec.invariants:
            if f"{spec.name}/{inv.name}" in covered and inv.check.__name__.startswith("check_"):
                covered.add(f"{inv.check.__module__}.{inv.check.__name__}")
    missing = sorted(_checkers() - covered)
    assert not missing, f"checkers without a negative control and twin: {missing}"

