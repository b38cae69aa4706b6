"""Read-after-write, read-your-writes and monotonic reads on small hand-made register histories."""

import pytest

from faultlab.errors import HistoryFormatError
from faultlab.history import History
from invariants.session import check_monotonic_reads, check_read_after_write, check_read_your_writes


def judged_ok(result) -> bool:
    """ok, and exercised: an ok for lack of anything to judge shows nothing."""
    return result.ok and result.exercised


def run(*ops):
    return History.from_intervals(ops)


def w(p, v, call, ret, status="ok"):
    return (p, "write", v, call, ret, status, None)


def r(p, v, call, ret, status="ok"):
    return (p, "read", None, call, ret, status, v)


# -- read-after-write ----------------------------------------------------------------------------------------------

def test_read_after_write_holds_when_reads_see_the_latest_acknowledged_write():
    h = run(w(0, 1, 0, 1), w(0, 2, 2, 3), r(1, 2, 4, 5), r(2, 2, 6, 7))
    res = check_read_after_write(h)
    assert judged_ok(res), res


def test_read_after_write_allows_a_concurrent_older_value():
    # W(1) and W(2) overlap, so neither strictly precedes the other: reading 1 after both is fine.
    h = run(w(0, 1, 0, 5), w(1, 2, 1, 3), r(2, 1, 6, 7))
    assert judged_ok(check_read_after_write(h))


def test_read_after_write_finds_a_read_of_a_strictly_older_write():
    h = run(w(0, 1, 0, 1), w(0, 2, 2, 3), r(1, 1, 4, 5))
    res = check_read_after_write(h)
    assert res.violated
    assert res.witness["stale_write"] == 0 and res.witness["read"] == 4
    assert sorted(res.witness["ops"]) == [0, 2, 4]
    assert "a contradiction!" in res.explanation and res.explanation.startswith("Let W =")


def test_read_after_write_finds_the_initial_value_after_an_ack():
    h = run(w(0, 1, 0, 1), r(1, None, 2, 3))
    res = check_read_after_write(h)
    assert res.violated and res.witness["stale_write"] is None
    assert "initial value" in res.explanation


def test_info_write_is_never_acknowledged_but_may_be_read():
    # The info write might have happened: reading it is legal; not reading it is legal too.
    h = run(w(0, 1, 0, 1), w(1, 2, 2, None, status="info"), r(2, 2, 4, 5), r(3, 1, 6, 7))
    assert judged_ok(check_read_after_write(h))


def test_info_write_value_may_be_read_after_a_later_ack():
    # The info write never completed, so it strictly precedes nothing: it may have taken effect after W(2).
    h = run(w(0, 1, 0, None, status="info"), w(1, 2, 5, 6), r(2, 1, 7, 8))
    assert judged_ok(check_read_after_write(h))


def test_reading_a_failed_write_is_a_violation():
    h = run(w(0, 1, 0, 1), w(1, 2, 2, 3, status="fail"), r(2, 2, 4, 5))
    res = check_read_after_write(h)
    assert res.violated and res.witness["failed_write"] == 2


def test_reading_a_value_never_written_is_a_violation():
    h = run(w(0, 1, 0, 1), r(1, 99, 2, 3))
    res = check_read_after_write(h)
    assert res.violated and "no operation ever wrote 99" in res.explanation


def test_read_after_write_has_nothing_to_judge_when_no_read_follows_an_ack():
    h = run(w(0, 1, 0, 10), r(1, None, 1, 2))
    res = check_read_after_write(h)
    assert res.ok and not res.exercised and res.witness["reads_tested"] == 0


def test_keyed_read_after_write_checks_each_key_separately():
    h = run(("a", "write", ["x", 1], 0, 1, "ok", None), ("a", "write", ["y", 2], 2, 3, "ok", None),
            ("b", "read", ["x", None], 4, 5, "ok", ["x", 1]), ("b", "read", ["y", None], 6, 7, "ok", ["y", None]))
    res = check_read_after_write(h, keyed=True)
    assert res.violated and res.witness["key"] == "y"
    assert "of key 'y'" in res.explanation


def test_duplicate_write_values_are_rejected_with_a_fix():
    h = run(w(0, 1, 0, 1), w(1, 1, 2, 3), r(2, 1, 4, 5))
    with pytest.raises(HistoryFormatError, match="unique written values"):
        check_read_after_write(h)


# -- read-your-writes ----------------------------------------------------------------------------------------------

def test_read_your_writes_ignores_other_processes_writes():
    # Process 1 reads the initial value after process 0's ack: a read-after-write violation, not read-your-writes.
    h = run(w(0, 1, 0, 1), r(0, 1, 2, 3), r(1, None, 4, 5))
    assert judged_ok(check_read_your_writes(h))
    assert check_read_after_write(h).violated


def test_read_your_writes_finds_a_process_missing_its_own_write():
    h = run(w(0, 1, 0, 1), w(0, 2, 2, 3), r(0, 1, 4, 5))
    res = check_read_your_writes(h)
    assert res.violated and res.witness["acknowledged_write"] == 2 and res.witness["read"] == 4


def test_read_your_writes_has_nothing_to_judge_without_own_reads():
    h = run(w(0, 1, 0, 1), r(1, 1, 2, 3))
    res = check_read_your_writes(h)
    assert res.ok and not res.exercised and res.witness["reads_tested"] == 0


# -- monotonic reads -----------------------------------------------------------------------------------------------

def test_monotonic_reads_hold_when_a_process_moves_forward():
    h = run(w(0, 1, 0, 1), w(0, 2, 2, 3), r(1, None, 0.5, 0.6), r(1, 1, 1.5, 1.6), r(1, 2, 4, 5), r(1, 2, 6, 7))
    assert judged_ok(check_monotonic_reads(h))


def test_monotonic_reads_find_a_process_going_back_in_time():
    h = run(w(0, 1, 0, 1), w(0, 2, 2, 3), r(1, 2, 4, 5), r(1, 1, 6, 7))
    res = check_monotonic_reads(h)
    assert res.violated
    assert res.witness["earlier_read"] == 4 and res.witness["later_read"] == 6 and res.witness["stale_write"] == 0


def test_monotonic_reads_find_a_return_to_the_initial_value():
    h = run(w(0, 1, 0, None, status="info"), r(1, 1, 4, 5), r(1, None, 6, 7))
    res = check_monotonic_reads(h)
    assert res.violated and "initial value" in res.explanation


def test_monotonic_reads_allow_concurrent_writes_in_either_order():
    h = run(w(0, 1, 0, 5), w(2, 2, 1, 6), r(1, 2, 7, 8), r(1, 1, 9, 10))
    assert judged_ok(check_monotonic_reads(h))


def test_monotonic_reads_have_nothing_to_judge_with_one_read_per_process():
    h = run(w(0, 1, 0, 1), r(1, 1, 2, 3), r(2, 1, 2, 3))
    res = check_monotonic_reads(h)
    assert res.ok and not res.exercised and res.witness["reads_tested"] == 0


# -- a compare-and-set that succeeded is a write -----------------------------------------------------------------------

def cas(p, old, new, call, ret, status="ok"):
    return (p, "cas", [old, new], call, ret, status, None)


def test_a_successful_cas_is_a_write_the_next_read_must_see():
    stale = run(w(0, 1, 0, 1), cas(0, 1, 2, 2, 3), r(1, 1, 4, 5))
    res = check_read_after_write(stale)
    assert res.violated and res.witness["acknowledged_write"] == 2, res  # the cas, not the older write
    assert "so R must return 2 or a newer value" in res.explanation
    assert judged_ok(check_read_after_write(run(w(0, 1, 0, 1), cas(0, 1, 2, 2, 3), r(1, 2, 4, 5))))
    assert judged_ok(check_monotonic_reads(run(w(0, 1, 0, 1), cas(0, 1, 2, 2, 3), r(1, 2, 4, 5), r(1, 2, 6, 7))))


def test_a_failed_cas_wrote_nothing_and_its_value_cannot_be_read():
    res = check_read_after_write(run(w(0, 1, 0, 1), cas(0, 7, 2, 2, 3, "fail"), r(1, 2, 4, 5)))
    assert res.violated and res.witness["failed_write"] == 2
    assert judged_ok(check_read_after_write(run(w(0, 1, 0, 1), cas(0, 7, 2, 2, 3, "fail"), r(1, 1, 4, 5))))


def test_a_cas_whose_value_is_not_a_pair_is_a_format_error():
    with pytest.raises(HistoryFormatError, match=r"a cas needs \[expected, new\]"):
        check_read_after_write(run(w(0, 1, 0, 1), (0, "cas", 5, 2, 3, "ok", None), r(1, 1, 4, 5)))
