"""List-append anomaly detection: one hand-made history per anomaly, and serializable ones that must pass."""

import json

import pytest
from histories import txn_history

from faultlab.errors import ConfigError, HistoryFormatError
from faultlab.history import History
from invariants.elle import check_elle_list_append, check_list_append


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


# -- Elle's inference of appends no read returned, and the Elle-parity checkers on larger histories ----------------

def test_an_append_no_read_returned_follows_the_last_value_read():
    # x's order, from the reads, is [1]; T3's append of 2 was never read, yet it must follow 1 (ww T1 -> T3) and
    # follow every read of [1] (rw T2 -> T3). T3 also read y as [] before T2 appended to y: T3 -rw-> T2. Without
    # the unread append's edges there is no cycle.
    h = run((0, [a("x", 1)], 0, 1, "ok"), (1, [r("x", [1]), a("y", 1)], 0, 3, "ok"),
            (2, [r("y", []), a("x", 2)], 0, 3, "ok"), (3, [r("y", [1])], 4, 5, "ok"))
    res = check_list_append(h)
    assert res.violated and types(res) == ["G2"], res
    assert sorted(e["kind"] for e in res.witness["anomalies"][0]["cycle"]) == ["rw", "rw"]


def _serial_list_append(seed: int, n: int, keys: int = 3):
    """A history of n transactions run one after another on a correct list store: serializable, strictly."""
    import random

    rng = random.Random(seed)
    state: dict[str, list[int]] = {}
    rows, counter = [], 0
    for i in range(n):
        mops = []
        for _ in range(rng.randint(1, 4)):
            k = f"k{rng.randrange(keys)}"
            if rng.random() < 0.5:
                counter += 1
                state.setdefault(k, []).append(counter)
                mops.append(a(k, counter))
            else:
                mops.append(r(k, list(state.get(k, []))))
        rows.append((i % 5, mops, 2 * i, 2 * i + 1, "ok"))
    return rows


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_serial_history_is_strict_serializable_and_a_stale_read_in_it_is_found(seed):
    rows = _serial_list_append(seed, 120)
    assert judged_ok(check_elle_list_append(run(*rows), ("strict-serializable",)))
    # Make the last read of a non-empty list that has a later append stale by one element: T reads the state
    # before the last append it should have seen, after that append completed (a realtime anomaly at least).
    for i in range(len(rows) - 1, -1, -1):
        p, mops, call, ret, status = rows[i]
        hit = next((j for j, m in enumerate(mops) if m[0] == "r" and m[2]), None)
        if hit is not None and all(m[0] == "r" for m in mops):
            stale = [list(m) for m in mops]
            stale[hit][2] = stale[hit][2][:-1]
            rows[i] = (p, stale, call, ret, status)
            break
    res = check_elle_list_append(run(*rows), ("strict-serializable",))
    assert res.violated and any(t.endswith("-realtime") or t.startswith("G-single") for t in types(res)), res


def test_elle_checkers_are_registered_for_check_history():
    from invariants import elle, rw_register

    assert sorted(elle.CHECKERS) == ["elle-list-append", "list-append"]
    assert sorted(rw_register.CHECKERS) == ["rw-register", "rw-register-wfr"]
