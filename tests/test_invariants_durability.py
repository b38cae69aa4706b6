"""No lost writes: final reads after healing against acknowledged, failed and indeterminate writes."""

from faultlab.history import History
from invariants.durability import check_no_lost_writes


def judged_ok(result) -> bool:
    """ok, and exercised: an ok for lack of anything to judge shows nothing."""
    return result.ok and result.exercised


def run(*ops):
    return History.from_intervals(ops)


def w(p, v, call, ret, status="ok"):
    return (p, "write", v, call, ret, status, None, "main")


def final(p, v, call):
    return (p, "read", None, call, call + 0.5, "ok", v, "final")


def test_final_read_of_the_last_acknowledged_write_holds():
    h = run(w(0, 1, 0, 1), w(0, 2, 2, 3), final(9, 2, 10))
    res = check_no_lost_writes(h)
    assert judged_ok(res), res
    assert res.witness["final_reads"] == 1


def test_final_read_of_a_concurrent_write_is_a_legal_supersession():
    h = run(w(0, 1, 0, 5), w(1, 2, 1, 3), final(9, 1, 10))
    assert judged_ok(check_no_lost_writes(h))


def test_final_read_of_an_older_write_loses_the_acknowledged_one():
    h = run(w(0, 1, 0, 1), w(0, 2, 2, 3), w(1, 3, 4, 5), final(9, 1, 10))
    res = check_no_lost_writes(h)
    assert res.violated
    assert res.witness["lost_write"] == 4 and res.witness["lost_writes"] == [2, 4]
    assert res.witness["final_read"] == 6 and res.witness["stale_write"] == 0
    assert "W is lost" in res.explanation and res.explanation.endswith("a contradiction!")


def test_final_read_of_the_initial_value_loses_every_ack():
    h = run(w(0, 1, 0, 1), final(9, None, 10))
    res = check_no_lost_writes(h)
    assert res.violated and res.witness["lost_writes"] == [0]


def test_info_write_may_be_lost_and_may_win():
    lost_info = run(w(0, 1, 0, 1), w(1, 2, 2, None, status="info"), final(9, 1, 10))
    assert judged_ok(check_no_lost_writes(lost_info))
    # The info write was invoked before W(3) but never completed: it may have taken effect after W(3).
    won_info = run(w(1, 2, 0, None, status="info"), w(0, 3, 2, 3), final(9, 2, 10))
    assert judged_ok(check_no_lost_writes(won_info))


def test_final_read_of_a_failed_write_is_a_violation():
    h = run(w(0, 1, 0, 1), w(0, 2, 2, 3, status="fail"), final(9, 2, 10))
    res = check_no_lost_writes(h)
    assert res.violated and res.witness["failed_write"] == 2


def test_no_final_read_is_nothing_to_judge_and_says_so():
    h = run(w(0, 1, 0, 1), (1, "read", None, 2, 3, "ok", 1, "main"))
    res = check_no_lost_writes(h)
    assert not res.exercised and res.ok
    assert "no final reads" in res.explanation


def test_keyed_history_names_the_key_without_a_final_read():
    h = run(("a", "write", ["x", 1], 0, 1, "ok", None, "main"), ("a", "write", ["y", 2], 2, 3, "ok", None, "main"),
            ("f", "read", ["x", None], 10, 11, "ok", ["x", 1], "final"))
    res = check_no_lost_writes(h, keyed=True)
    assert not res.exercised and res.ok and res.witness["unread_keys"] == ["y"]


def test_keyed_lost_write_on_one_key():
    h = run(("a", "write", ["x", 1], 0, 1, "ok", None, "main"), ("a", "write", ["y", 2], 2, 3, "ok", None, "main"),
            ("f", "read", ["x", None], 10, 11, "ok", ["x", 1], "final"),
            ("f", "read", ["y", None], 12, 13, "ok", ["y", None], "final"))
    res = check_no_lost_writes(h, keyed=True)
    assert res.violated and res.witness["key"] == "y" and res.witness["lost_write"] == 2


def test_a_violation_counts_every_lost_write_of_every_key_not_only_the_first():
    def kw(p, k, v, call, ret):
        return (p, "write", [k, v], call, ret, "ok", None, "main")

    def kfinal(p, k, v, call):
        return (p, "read", [k, None], call, call + 0.5, "ok", [k, v], "final")

    h = run(kw(0, "a", 1, 0, 1), kw(0, "a", 2, 2, 3), kw(1, "b", 1, 4, 5), kw(1, "b", 2, 6, 7), kw(1, "b", 3, 8, 9),
            kfinal(9, "a", 1, 20), kfinal(9, "b", None, 22))
    res = check_no_lost_writes(h, keyed=True)
    assert res.violated and res.witness["key"] == "a" and res.witness["lost_writes"] == [2]
    assert res.witness["lost_count"] == 4  # a's second write, and all three of b's (b reads the initial value)
    assert "4 acknowledged writes are lost in all, of 2 keys" in res.explanation
    one = check_no_lost_writes(run(kw(0, "a", 1, 0, 1), kw(0, "a", 2, 2, 3), kfinal(9, "a", 1, 20)), keyed=True)
    assert one.witness["lost_count"] == 1 and "in all" not in one.explanation
