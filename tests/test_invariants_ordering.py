"""FIFO per message group and per-key order of change streams."""

import pytest

from faultlab.errors import ConfigError, HistoryFormatError
from faultlab.history import History
from invariants.ordering import check_fifo_per_group, check_per_key_order


def judged_ok(result) -> bool:
    """ok, and exercised: an ok for lack of anything to judge shows nothing."""
    return result.ok and result.exercised


def run(*ops):
    return History.from_intervals(ops)


def send(p, g, i, call, ret, status="ok"):
    return (p, "send", {"group": g, "id": i}, call, ret, status, None)


def recv(p, g, i, call, ret):
    return (p, "receive", None, call, ret, "ok", None if g is None else {"group": g, "id": i})


# -- FIFO per group ------------------------------------------------------------------------------------------------

def test_fifo_holds_when_each_group_is_received_in_send_order():
    h = run(send("p", "a", 1, 0, 1), send("p", "b", 1, 2, 3), send("p", "a", 2, 4, 5),
            recv("c", "b", 1, 6, 7), recv("c", "a", 1, 8, 9), recv("c", None, None, 10, 11), recv("c", "a", 2, 12, 13))
    res = check_fifo_per_group(h)
    assert judged_ok(res), res


def test_fifo_finds_an_inversion_within_a_group():
    h = run(send("p", "a", 1, 0, 1), send("p", "a", 2, 2, 3), recv("c", "a", 2, 4, 5), recv("c", "a", 1, 6, 7))
    res = check_fifo_per_group(h)
    assert res.violated
    assert res.witness["first_sent"] == 0 and res.witness["second_sent"] == 2
    assert res.witness["received_first"] == 4 and res.witness["received_second"] == 6
    assert "a contradiction!" in res.explanation


def test_fifo_allows_concurrent_sends_in_either_order():
    h = run(send("p", "a", 1, 0, 3), send("q", "a", 2, 1, 2), recv("c", "a", 2, 4, 5), recv("c", "a", 1, 6, 7))
    assert judged_ok(check_fifo_per_group(h))


def test_fifo_info_send_precedes_nothing_but_can_follow_an_ack():
    # The info send of 1 never completed: 2 may be delivered first.
    assert judged_ok(check_fifo_per_group(run(send("p", "a", 1, 0, None, "info"), send("q", "a", 2, 1, 2),
                                              recv("c", "a", 2, 4, 5), recv("c", "a", 1, 6, 7))))
    # The info send of 2 was invoked after 1 was acknowledged, so if 2 arrives at all it comes after 1.
    assert check_fifo_per_group(run(send("p", "a", 1, 0, 1), send("q", "a", 2, 2, None, "info"),
                                    recv("c", "a", 2, 4, 5), recv("c", "a", 1, 6, 7))).violated


def test_fifo_orders_per_consumer_and_ignores_redelivered_duplicates():
    h = run(send("p", "a", 1, 0, 1), send("p", "a", 2, 2, 3),
            recv("c1", "a", 1, 4, 5), recv("c2", "a", 2, 4, 5), recv("c1", "a", 2, 6, 7), recv("c1", "a", 1, 8, 9))
    assert judged_ok(check_fifo_per_group(h))


def test_fifo_has_nothing_to_judge_without_two_messages_in_a_stream():
    h = run(send("p", "a", 1, 0, 1), recv("c", "a", 1, 2, 3))
    res = check_fifo_per_group(h)
    assert res.ok and not res.exercised and res.witness["streams_checked"] == 0


def test_fifo_rejects_malformed_messages_and_consumers():
    with pytest.raises(HistoryFormatError, match="group"):
        check_fifo_per_group(run(("p", "send", 7, 0, 1, "ok", None)))
    with pytest.raises(ConfigError, match="consumer"):
        check_fifo_per_group(History(), consumer="thread")


# -- per-key order -------------------------------------------------------------------------------------------------

def consume(p, records, call, ret):
    return (p, "consume", None, call, ret, "ok", records)


def test_per_key_order_holds_with_interleaved_keys_and_batches():
    h = run(consume("c", [{"key": "x", "seq": 1}, {"key": "y", "seq": 1}], 0, 1),
            consume("c", {"key": "x", "seq": 3}, 2, 3), consume("c", [{"key": "y", "seq": 2}], 4, 5))
    assert judged_ok(check_per_key_order(h))


def test_per_key_order_finds_a_reordered_key():
    h = run(consume("c", [{"key": "x", "seq": 1}, {"key": "x", "seq": 3}], 0, 1),
            consume("c", {"key": "x", "seq": 2}, 2, 3))
    res = check_per_key_order(h)
    assert res.violated and res.witness["seqs"] == [3, 2] and res.witness["ops"] == [0, 2]


def test_per_key_order_finds_a_replayed_record_within_a_batch():
    h = run(consume("c", [{"key": "x", "seq": 1}, {"key": "x", "seq": 1}], 0, 1))
    res = check_per_key_order(h)
    assert res.violated and "again" in res.explanation


def test_per_key_order_is_per_consumer_and_skips_info():
    h = run(consume("c1", {"key": "x", "seq": 2}, 0, 1), consume("c2", {"key": "x", "seq": 1}, 0, 1),
            consume("c1", {"key": "x", "seq": 3}, 2, 3), ("c2", "consume", None, 2, None, "info", None),
            consume("c3", {"key": "x", "seq": 5}, 4, 5), consume("c3", {"key": "x", "seq": 6}, 6, 7))
    assert judged_ok(check_per_key_order(h))


def test_per_key_order_has_nothing_to_judge_with_single_records():
    h = run(consume("c", {"key": "x", "seq": 1}, 0, 1), consume("c", {"key": "y", "seq": 1}, 2, 3))
    res = check_per_key_order(h)
    assert res.ok and not res.exercised and res.witness["streams_checked"] == 0
