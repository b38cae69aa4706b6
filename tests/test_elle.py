"""List-append anomaly detection: one hand-made history per anomaly, and serializable ones that must pass."""

import json

import pytest
from histories import txn_history

from faultlab.errors import ConfigError, HistoryFormatError
from faultlab.history import History
from invariants.elle import check_list_append


def judged_ok(result) -> bool:
    """ok, and exercised: an ok for lack of anything to judge shows nothing."""
    return result.ok and result.exercised


def run(*txns):
    """A history from (process, micro-ops as completed, call, ret, status); ret None = never completes."""
    return txn_history(txns)


def a(k, v):
    return ["append", k, v]


def r(k, vs):
    return ["r", k, vs]


def types(res):
    return res.witness.get("anomaly_types", [])


def test_serializable_history_passes():
    h = run((0, [a("x", 1)], 0, 1, "ok"), (1, [r("x", [1]), a("x", 2)], 2, 3, "ok"), (2, [r("x", [1, 2])], 4, 5, "ok"),
            (3, [a("y", 1), r("y", [1])], 4, 5, "ok"))
    res = check_list_append(h)
    assert judged_ok(res), res
    assert res.witness["edges"] == 2  # T0 -> T1 (ww and wr on x), T1 -> T2 (wr on x); T3 reads only itself


def test_info_transaction_may_commit_and_be_read():
    h = run((0, [a("x", 1)], 0, None, "info"), (1, [r("x", [1])], 2, 3, "ok"), (2, [a("x", 2)], 0, 1, "fail"))
    assert judged_ok(check_list_append(h))


def test_g0_write_cycle():
    h = run((0, [a("x", 1), a("y", 2)], 0, 2, "ok"), (1, [a("x", 2), a("y", 1)], 0, 2, "ok"),
            (2, [r("x", [1, 2]), r("y", [1, 2])], 3, 4, "ok"))
    res = check_list_append(h)
    assert res.violated and types(res) == ["G0"]
    g0 = res.witness["anomalies"][0]
    assert [e["kind"] for e in g0["cycle"]] == ["ww", "ww"] and sorted(g0["txns"]) == [0, 1]
    assert "T2 appended 2 after T1 appended 1 to key 'x'" in g0["explanation"]
    assert g0["explanation"].endswith("a contradiction!")


def test_g1a_aborted_read():
    h = run((0, [a("x", 1)], 0, 1, "fail"), (1, [r("x", [1])], 2, 3, "ok"))
    res = check_list_append(h)
    assert res.violated and types(res) == ["G1a"]
    assert res.witness["anomalies"][0]["txns"] == [0, 2]


def test_g1b_intermediate_read():
    h = run((0, [a("x", 1), a("x", 2)], 0, 3, "ok"), (1, [r("x", [1])], 1, 2, "ok"))
    res = check_list_append(h)
    # T1's second append was never read, yet it came after 1, which T2 read: Elle infers T2 -rw-> T1 from that, so
    # the intermediate read is also a G-single cycle (wr T1 -> T2, rw T2 -> T1), as Elle reports it.
    assert res.violated and types(res) == ["G-single", "G1b"]
    assert "intermediate" in res.explanation


def test_g1c_circular_information_flow():
    h = run((0, [a("x", 1), r("y", [1])], 0, 2, "ok"), (1, [a("y", 1), r("x", [1])], 0, 2, "ok"))
    res = check_list_append(h)
    assert res.violated and types(res) == ["G1c"]
    cycle = res.witness["anomalies"][0]["cycle"]
    assert {e["kind"] for e in cycle} == {"wr"}
    assert "because T2 read T1's append of 1 to key" in res.explanation


def test_g_single_read_skew():
    h = run((0, [a("x", 1), a("y", 1)], 0, 2, "ok"), (1, [r("x", []), r("y", [1])], 0, 3, "ok"),
            (2, [r("x", [1])], 4, 5, "ok"))
    res = check_list_append(h)
    assert res.violated and types(res) == ["G-single"]
    kinds = sorted(e["kind"] for e in res.witness["anomalies"][0]["cycle"])
    assert kinds == ["rw", "wr"]
    assert "which did not yet include" in res.explanation


def test_g2_write_skew():
    h = run((0, [r("x", []), a("y", 1)], 0, 2, "ok"), (1, [r("y", []), a("x", 1)], 0, 2, "ok"),
            (2, [r("x", [1]), r("y", [1])], 3, 4, "ok"))
    res = check_list_append(h)
    assert res.violated and types(res) == ["G2"]
    assert [e["kind"] for e in res.witness["anomalies"][0]["cycle"]] == ["rw", "rw"]
    # Write skew is not G-single, and is only found when G2 is asked for.
    assert judged_ok(check_list_append(h, anomalies=("G0", "G1c", "G-single")))


def test_g2_includes_single_rw_cycles_when_g_single_is_not_requested():
    h = run((0, [a("x", 1), a("y", 1)], 0, 2, "ok"), (1, [r("x", []), r("y", [1])], 0, 3, "ok"),
            (2, [r("x", [1])], 4, 5, "ok"))
    assert types(check_list_append(h, anomalies=("G2",))) == ["G2"]


def test_incompatible_order_is_always_reported():
    h = run((0, [a("x", 1)], 0, 1, "ok"), (1, [a("x", 2)], 0, 1, "ok"), (2, [r("x", [1, 2])], 2, 3, "ok"),
            (3, [r("x", [2])], 2, 3, "ok"))
    res = check_list_append(h, anomalies=())
    assert res.violated and types(res) == ["incompatible-order"]


def test_realtime_edges_find_a_stale_read_only_when_asked():
    h = run((0, [a("x", 1)], 0, 1, "ok"), (1, [r("x", [])], 2, 3, "ok"), (2, [r("x", [1])], 4, 5, "ok"))
    assert judged_ok(check_list_append(h))
    res = check_list_append(h, realtime=True)
    assert res.violated and types(res) == ["G-single-realtime"]
    assert "T1 completed (t=1, event 1) before T2 began (t=2, event 2)" in res.explanation


def test_witness_is_json_and_names_every_op():
    h = run((0, [r("x", []), a("y", 1)], 0, 2, "ok"), (1, [r("y", []), a("x", 1)], 0, 2, "ok"),
            (2, [r("x", [1]), r("y", [1])], 3, 4, "ok"))
    res = check_list_append(h)
    json.dumps(res.to_json())
    assert res.witness["ops"] == [0, 1]


def test_no_ok_transaction_is_nothing_to_judge_and_bad_input_is_rejected():
    res = check_list_append(run((0, [a("x", 1)], 0, None, "info")))
    assert res.ok and not res.exercised and res.witness["txns"] == 1
    with pytest.raises(ConfigError, match="G3"):
        check_list_append(History(), anomalies=("G3",))
    with pytest.raises(HistoryFormatError, match="micro-ops"):
        h = History()
        h.invoke(0, "txn", [["write", "x", 1]], 0)
        check_list_append(h)
