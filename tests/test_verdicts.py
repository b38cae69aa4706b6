"""The verdict contracts: a verdict is matched by the invariant that produced it, an exhausted budget is unknown
(never a pass), and an invariant no run gave anything to judge leaves the exploration vacuous."""

from __future__ import annotations

import attrs

from faultlab.explore import explore
from faultlab.protocol import Invariant, Variant
from faultlab.registry import get_protocol
from faultlab.result import CheckResult
from faultlab.verification import verify_protocol
from invariants.linearizability import RUN_SEARCH_STEPS, check_linearizable
from invariants.session import check_read_after_write

QR = get_protocol("quorum-register")


def _with(*invariants: Invariant, **changes) -> object:
    """quorum-register judged by other invariants (and no variants or claims that name its own)."""
    return attrs.evolve(QR, **{"name": "test-register", "invariants": invariants, "variants": (), "claims": (),
                               **changes})


def _renamed() -> object:
    """quorum-register with its read-after-write check under another name, and R=1, W=1 declared good."""
    return _with(Invariant("fresh-reads", lambda h, cfg: check_read_after_write(h), "renamed"),
                 variants=(Variant("fast", {"r": 1, "w": 1}, "R=1, W=1 declared good (it is not)"),))


def test_a_renamed_invariant_is_judged_by_its_own_name_so_the_row_is_refuted(tmp_path):
    rows = verify_protocol(_renamed(), examples=100, seed=0, traces=tmp_path)
    (row,) = [r for r in rows if r.check == "fresh-reads"]
    assert row.verdict == "refuted" and not row.as_expected, row
    assert row.trace and "read-after-write" not in row.check


def test_results_are_stamped_with_the_invariant_not_the_checker():
    exp = explore(_renamed(), QR.make_config({"r": 1, "w": 1}), examples=100, seed=0)
    (violation,) = exp.failure.violations
    assert violation.invariant == "fresh-reads" and violation.checker == "read-after-write"
    assert exp.coverage.violations["fresh-reads"] == 1 and "read-after-write" not in exp.coverage.violations


def test_an_exhausted_search_budget_is_unknown_never_held():
    def starved_search(history, config):
        result = check_linearizable(history, "register", max_steps=RUN_SEARCH_STEPS)
        # what a search that ran out of steps returns (tests/test_linearizability.py shows the checker does)
        return CheckResult.undecided("linearizable", "gave up", steps=result.witness["steps"])

    starved = _with(Invariant("linearizable", starved_search))
    exp = explore(starved, QR.make_config({}), examples=20, seed=0)
    assert exp.failure is None and exp.coverage.undecided["linearizable"] > 0
    assert exp.verdict == "unknown" and "budget" in exp.summary()


def test_an_invariant_never_exercised_makes_the_exploration_vacuous():
    idle = _with(Invariant("never-judged", lambda h, cfg: CheckResult.unexercised("never-judged", "nothing to judge")))
    exp = explore(idle, QR.make_config({}), examples=20, seed=0)
    assert exp.verdict == "vacuous" and "never-judged exercised" in exp.missing_witnesses()


def test_a_check_that_returns_something_else_is_a_usage_error():
    import pytest

    from faultlab.errors import ConfigError

    broken = _with(Invariant("sloppy", lambda h, cfg: True))
    with pytest.raises(ConfigError, match="invariant 'sloppy' returned a bool"):
        explore(broken, QR.make_config({}), examples=2, seed=0)
