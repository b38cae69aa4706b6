"""At-least-once and exactly-once processing with acknowledged, failed and indeterminate operations."""

from faultlab.history import History
from faultlab.result import Verdict
from invariants.delivery import check_at_least_once, check_exactly_once


def judged_ok(result) -> bool:
    """ok, and exercised: an ok for lack of anything to judge shows nothing."""
    return result.ok and result.exercised


def run(*ops):
    return History.from_intervals(ops)


def send(p, i, call, ret, status="ok"):
    return (p, "send", {"id": i}, call, ret, status, None)


def recv(p, ids, call, ret, status="ok"):
    return (p, "receive", None, call, ret, status, ids)


def process(p, i, call, ret, status="ok"):
    return (p, "process", i, call, ret, status, None)


def test_every_message_once_is_exactly_once():
    h = run(send("p", 1, 0, 1), send("p", 2, 2, 3), recv("c", [1, 2], 4, 5), recv("c", None, 6, 7))
    assert judged_ok(check_exactly_once(h))
    assert judged_ok(check_at_least_once(h))


def test_a_lost_acknowledged_message_violates_both():
    h = run(send("p", 1, 0, 1), send("p", 2, 2, 3), recv("c", 1, 4, 5), recv("c", None, 6, 7, status="info"))
    for check in (check_at_least_once, check_exactly_once):
        res = check(h)
        assert res.violated and res.witness["lost"] == [2] and res.witness["ops"] == [2]
        assert "was lost" in res.explanation


def test_info_sends_need_not_be_delivered_but_may_be():
    h = run(send("p", 1, 0, 1), send("p", 2, 2, None, "info"), send("q", 3, 2, None, "info"), recv("c", [1, 3], 4, 5))
    assert judged_ok(check_exactly_once(h))


def test_a_duplicate_is_exactly_once_violation_but_at_least_once():
    h = run(send("p", 1, 0, 1), recv("c", 1, 2, 3), recv("c", 1, 4, 5))
    res = check_exactly_once(h)
    assert res.violated and res.witness["duplicate"] == 1 and res.witness["processed"] == [2, 4]
    assert judged_ok(check_at_least_once(h))


def test_processing_counts_process_ops_not_receives_when_present():
    h = run(send("p", "m", 0, 1), recv("c", "m", 2, 3), process("c", "m", 4, 5))
    assert judged_ok(check_exactly_once(h))


def test_info_processing_is_never_a_duplicate_and_makes_a_loss_unknown():
    h = run(send("p", "m", 0, 1), send("q", "n", 0.5, 1.5), process("c", "m", 2, 3), process("d", "m", 2, None, "info"),
            process("c", "n", 4, None, "info"))
    res = check_exactly_once(h)
    assert res.verdict is Verdict.UNKNOWN and res.witness["uncertain"] == ["n"]
    assert check_at_least_once(h).verdict is Verdict.UNKNOWN


def test_processing_a_failed_or_unsent_message_is_a_phantom():
    failed = run(send("p", 1, 0, 1), send("p", 2, 2, 3, status="fail"), recv("c", [1, 2], 4, 5))
    res = check_exactly_once(failed)
    assert res.violated and res.witness["phantom"] == 2 and "definitely never sent" in res.explanation
    invented = run(send("p", 1, 0, 1), recv("c", [1, 9], 4, 5))
    assert check_exactly_once(invented).witness["phantom"] == 9


def test_no_acknowledged_send_is_nothing_to_judge():
    h = run(send("p", 1, 0, None, "info"), recv("c", None, 2, 3))
    for check in (check_at_least_once, check_exactly_once):
        res = check(h)
        assert res.ok and not res.exercised and res.witness["acknowledged"] == 0
