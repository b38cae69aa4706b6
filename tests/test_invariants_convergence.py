"""Eventual convergence across replicas and bounded staleness."""

import pytest

from faultlab.errors import ConfigError
from faultlab.history import History
from invariants.convergence import check_bounded_staleness, check_convergence


def judged_ok(result) -> bool:
    """ok, and exercised: an ok for lack of anything to judge shows nothing."""
    return result.ok and result.exercised


def run(*ops):
    return History.from_intervals(ops)


def w(p, v, call, ret, status="ok"):
    return (p, "write", v, call, ret, status, None, "main", "n1")


def r(p, v, call, ret, node="n2"):
    return (p, "read", None, call, ret, "ok", v, "main", node)


def final(p, v, call, node):
    return (p, "read", None, call, call + 0.5, "ok", v, "final", node)


# -- convergence ---------------------------------------------------------------------------------------------------

def test_replicas_that_agree_converge():
    h = run(w(0, 1, 0, 1), w(0, 2, 2, 3), final(10, 2, 10, "n1"), final(11, 2, 11, "n2"), final(12, 2, 12, "n3"))
    res = check_convergence(h)
    assert judged_ok(res), res


def test_replicas_that_disagree_do_not_converge():
    h = run(w(0, 1, 0, 1), w(0, 2, 2, 3), final(10, 2, 10, "n1"), final(11, 1, 11, "n2"))
    res = check_convergence(h)
    assert res.violated
    assert res.witness["nodes"] == ["n1", "n2"] and res.witness["values"] == [2, 1]
    assert "did not converge" in res.explanation


def test_convergence_on_an_info_write_is_fine_if_everyone_agrees():
    h = run(w(0, 1, 0, 1), w(1, 2, 2, None, status="info"), final(10, 2, 10, "n1"), final(11, 2, 11, "n2"))
    assert judged_ok(check_convergence(h))


def test_convergence_has_nothing_to_judge_with_a_single_replica():
    h = run(w(0, 1, 0, 1), final(10, 1, 10, "n1"), final(11, 1, 11, "n1"))
    res = check_convergence(h)
    assert res.ok and not res.exercised and res.witness["keys_compared"] == 0


def test_keyed_convergence_compares_key_by_key():
    h = run(("a", "write", ["x", 1], 0, 1, "ok", None, "main", "n1"),
            ("a", "write", ["y", 2], 2, 3, "ok", None, "main", "n1"),
            ("f1", "read", ["x", None], 10, 11, "ok", ["x", 1], "final", "n1"),
            ("f2", "read", ["y", None], 10, 11, "ok", ["y", 2], "final", "n2"),
            ("f3", "read", ["y", None], 12, 13, "ok", ["y", None], "final", "n3"))
    res = check_convergence(h, keyed=True)
    assert res.violated and res.witness["key"] == "y" and "the initial value" in res.explanation


# -- bounded staleness ---------------------------------------------------------------------------------------------

def test_a_stale_read_within_the_bound_is_allowed():
    h = run(w(0, 1, 0, 1), w(0, 2, 2, 3), r(1, 1, 4, 5), r(1, 2, 9, 10))
    assert judged_ok(check_bounded_staleness(h, bound=5))


def test_a_stale_read_past_the_bound_is_a_violation():
    h = run(w(0, 1, 0, 1), w(0, 2, 2, 3), r(1, 1, 9, 10))
    res = check_bounded_staleness(h, bound=5)
    assert res.violated and res.witness["bound"] == 5 and res.witness["acknowledged_write"] == 2
    assert "staleness bound 5" in res.explanation


def test_bound_zero_is_read_after_write():
    h = run(w(0, 1, 0, 1), w(0, 2, 2, 3), r(1, 1, 4, 5))
    assert check_bounded_staleness(h, bound=0).violated
    assert judged_ok(check_bounded_staleness(h, bound=1))  # R began only 1 after W(2) was acknowledged


def test_info_writes_do_not_start_the_staleness_clock():
    h = run(w(0, 1, 0, 1), w(0, 2, 2, None, status="info"), r(1, 1, 20, 21))
    assert judged_ok(check_bounded_staleness(h, bound=5))


def test_negative_bound_is_a_config_error():
    with pytest.raises(ConfigError, match="non-negative"):
        check_bounded_staleness(History(), bound=-1)
