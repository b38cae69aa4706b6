"""Tests for the linearizability checker (invariants/linearizability.py).

Data-driven over porcupine's recorded histories (every file must get its published verdict), plus small
hand-made histories that hold and that do not, indeterminate operations, budgets and the witness contract.
"""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import pytest

from faultlab.errors import ConfigError
from faultlab.history import History
from faultlab.result import InvariantViolation, Verdict
from invariants.linearizability import assert_linearizable, check_linearizable
from models import get_model

HISTORIES = Path(__file__).resolve().parents[2] / "shared" / "data" / "histories"
PORCUPINE = HISTORIES / "porcupine"
EXPECTED = {"linearizable": Verdict.OK, "not-linearizable": Verdict.VIOLATED, "none": Verdict.UNKNOWN}


def judged_ok(result) -> bool:
    """ok, and exercised: an ok for lack of anything to judge shows nothing."""
    return result.ok and result.exercised


def _published_verdicts() -> list[dict]:
    if not (PORCUPINE / "verdicts.csv").exists():
        return []
    with open(PORCUPINE / "verdicts.csv", newline="") as f:
        return list(csv.DictReader(f))


def _model_for(file: str) -> str:
    return "kv" if file.startswith("kv/") else "cas-register"


@pytest.mark.parametrize("row", _published_verdicts() or [None], ids=lambda r: r["file"] if r else "no-data")
def test_recorded_history_gets_its_published_verdict(row):
    if row is None:
        pytest.skip(f"no recorded histories at {PORCUPINE}: they come from porcupine's test_data "
                    f"(github.com/anishathalye/porcupine)")
    from faultlab.importers import load_history

    history = load_history(PORCUPINE / row["file"])
    assert len(history.operations()) == int(row["operations"])
    result = check_linearizable(history, _model_for(row["file"]), timeout=60)
    reported = result.verdict if result.exercised else Verdict.UNKNOWN  # nothing to judge is reported unknown
    assert reported is EXPECTED[row["expected"]], result.explanation
    _assert_witness_contract(history, _model_for(row["file"]), result)


def _assert_witness_contract(history: History, model_name: str, result) -> None:
    """The keys other code depends on, and that a linearization really is one."""
    ops = {op.call_index: op for op in history.operations()}
    if result.verdict is Verdict.OK:
        order = result.witness["linearization"]
        assert len(order) == len(set(order))
        assert {i for i, op in ops.items() if op.status == "ok"} <= set(order)
        assert all(ops[i].status != "fail" or ops[i].f == "cas" for i in order)
        _assert_is_linearization([ops[i] for i in order], get_model(model_name))
    elif result.verdict is Verdict.VIOLATED:
        w = result.witness
        assert w["failed_op"] in ops and w["failed_op"] not in w["longest_prefix"]
        assert set(w["longest_prefix"]) <= set(ops) and isinstance(w["states"], list) and w["states"]
        assert "partition" in w and "a contradiction!" in result.explanation
    else:
        assert set(result.witness["longest_prefix"]) <= set(ops)


def _assert_is_linearization(order, model) -> None:
    """Replay the order through the model (per partition) and check real time: an independent check of ``ok``."""
    from models.sequential import FAILED, UNKNOWN

    for part in model.partition(order):
        state = model.init
        for op in part:
            output = UNKNOWN if op.status == "info" else FAILED if op.status == "fail" else op.output
            legal, state = model.step(state, op.f, op.input, output)
            assert legal, f"{op.describe()} is illegal where the linearization puts it"
        position = {op.call_index: k for k, op in enumerate(part)}  # partitions are concatenated
        for a in part:
            for b in part:
                if a.ret_index is not None and a.status != "info" and a.ret_index < b.call_index:
                    assert position[a.call_index] < position[b.call_index], "the order breaks real time"


def _history(*events) -> History:
    """Events as (process, type, f, value); time is the position."""
    h = History()
    for t, (process, type, f, value) in enumerate(events):
        if type == "invoke":
            h.invoke(process, f, value, t)
        else:
            h.complete(process, type, value, t)
    return h


def test_sequential_write_then_read_holds():
    h = _history((0, "invoke", "write", 1), (0, "ok", "write", 1), (1, "invoke", "read", None),
                 (1, "ok", "read", 1))
    result = check_linearizable(h, "register")
    assert judged_ok(result) and result.witness["linearization"] == [0, 2]


def test_stale_read_after_a_completed_write_is_a_violation():
    h = _history((0, "invoke", "write", 1), (0, "ok", "write", 1), (0, "invoke", "write", 2),
                 (0, "ok", "write", 2), (1, "invoke", "read", None), (1, "ok", "read", 1))
    result = check_linearizable(h, "register")
    assert result.violated
    assert result.witness["failed_op"] == 4 and result.witness["longest_prefix"] == [0, 2]
    assert result.witness["states"] == ["2"] and result.witness["partition"] is None
    assert "Let P" in result.explanation and "a contradiction!" in result.explanation
    with pytest.raises(InvariantViolation):
        assert_linearizable(h, "register")


def test_concurrent_reads_may_see_either_side_of_a_write():
    h = _history((0, "invoke", "write", 1), (1, "invoke", "read", None), (2, "invoke", "read", None),
                 (1, "ok", "read", None), (2, "ok", "read", 1), (0, "ok", "write", 1))
    assert judged_ok(check_linearizable(h, "register"))
    flipped = _history((0, "invoke", "write", 1), (0, "ok", "write", 1), (1, "invoke", "read", None),
                       (2, "invoke", "read", None), (1, "ok", "read", None), (2, "ok", "read", 1))
    assert check_linearizable(flipped, "register").violated


def test_an_indeterminate_write_may_never_happen():
    h = _history((0, "invoke", "write", 1), (0, "info", "write", None), (1, "invoke", "read", None),
                 (1, "ok", "read", None), (1, "invoke", "read", None), (1, "ok", "read", None))
    result = check_linearizable(h, "register")
    assert judged_ok(result) and result.witness["linearization"] == [2, 4]  # never forced to take effect


def test_an_indeterminate_write_may_happen_late_but_only_once():
    late = _history((0, "invoke", "write", 1), (0, "info", "write", None), (1, "invoke", "read", None),
                    (1, "ok", "read", None), (1, "invoke", "read", None), (1, "ok", "read", 1))
    assert judged_ok(check_linearizable(late, "register"))
    undone = _history((0, "invoke", "write", 1), (0, "info", "write", None), (1, "invoke", "read", None),
                      (1, "ok", "read", 1), (1, "invoke", "read", None), (1, "ok", "read", None))
    assert check_linearizable(undone, "register").violated


def test_a_never_completed_invoke_is_indeterminate():
    h = _history((0, "invoke", "write", 1), (1, "invoke", "read", None), (1, "ok", "read", 1))
    assert h.operations()[0].status == "info" and math.isinf(h.operations()[0].ret)
    assert judged_ok(check_linearizable(h, "register"))


def test_a_failed_op_did_not_happen_but_a_failed_cas_is_checked():
    dropped = _history((0, "invoke", "write", 1), (0, "fail", "write", None), (1, "invoke", "read", None),
                       (1, "ok", "read", 1))
    assert check_linearizable(dropped, "register").violated
    cas_saw_a = _history((0, "invoke", "write", 1), (0, "ok", "write", 1), (1, "invoke", "cas", [1, 2]),
                         (1, "fail", "cas", None))
    assert check_linearizable(cas_saw_a, "cas-register").violated  # etcd: fail means the value was not 1
    cas_saw_other = _history((0, "invoke", "write", 3), (0, "ok", "write", 3), (1, "invoke", "cas", [1, 2]),
                             (1, "fail", "cas", None))
    assert judged_ok(check_linearizable(cas_saw_other, "cas-register"))


def test_kv_violation_names_its_partition():
    h = _history((0, "invoke", "put", {"key": "a", "value": "x"}), (0, "ok", "put", None),
                 (1, "invoke", "get", {"key": "b"}), (1, "ok", "get", ""),
                 (1, "invoke", "get", {"key": "a"}), (1, "ok", "get", "y"))
    result = check_linearizable(h, "kv")
    assert result.violated and result.witness["partition"] == "a" and result.witness["failed_op"] == 4


def test_an_empty_history_is_not_exercised_so_never_a_pass():
    result = check_linearizable(History(), "register")
    assert not result.exercised and result.ok and result.witness["longest_prefix"] == []


def test_an_operation_the_model_does_not_have_is_a_config_error():
    h = _history((0, "invoke", "cas", [1, 2]), (0, "ok", "cas", [1, 2]))
    with pytest.raises(ConfigError, match="'cas'.*cas-register|cas-register"):
        check_linearizable(h, "register")


def _thousands_concurrent(n: int) -> History:
    """n writers all open at once, then reads whose values force a search through their orders."""
    h = History()
    for p in range(n):
        h.invoke(p, "write", p % 7, p)
    for p in range(n):
        h.complete(p, "ok", p % 7, n + p)
    for k, v in enumerate([8, 1, 2]):  # 8 was never written: a violation, but only after exhausting the orders
        h.invoke(n + k, "read", None, 2 * n + 2 * k)
        h.complete(n + k, "ok", v, 2 * n + 2 * k + 1)
    return h


def test_thousands_of_concurrent_ops_return_unknown_within_the_budget():
    h = _thousands_concurrent(2000)
    started = time.monotonic()
    result = check_linearizable(h, "register", timeout=0.5)
    assert time.monotonic() - started < 5
    assert result.verdict is Verdict.UNKNOWN
    assert "timeout" in result.explanation and len(result.witness["longest_prefix"]) > 0


def test_step_and_memory_budgets_also_give_unknown():
    h = _thousands_concurrent(300)
    by_steps = check_linearizable(h, "register", max_steps=10_000)
    assert by_steps.verdict is Verdict.UNKNOWN and "search steps" in by_steps.explanation
    by_memory = check_linearizable(h, "register", max_cache=5_000)
    assert by_memory.verdict is Verdict.UNKNOWN and "memo cache" in by_memory.explanation


def test_a_small_version_of_the_hard_history_is_decided():
    assert check_linearizable(_thousands_concurrent(12), "register", timeout=20).violated


def test_one_hard_key_does_not_starve_a_violation_in_another():
    h = History()
    n = 400
    for p in range(n):  # key "hard": hundreds of concurrent appends, then a get no order can produce
        h.invoke(p, "append", {"key": "hard", "value": "x"}, p)
    for p in range(n):
        h.complete(p, "ok", None, n + p)
    h.invoke("r", "get", {"key": "hard"}, 2 * n)
    h.complete("r", "ok", "y", 2 * n + 1)
    h.invoke("w", "put", {"key": "easy", "value": "1"}, 2 * n + 2)
    h.complete("w", "ok", None, 2 * n + 3)
    h.invoke("r2", "get", {"key": "easy"}, 2 * n + 4)
    h.complete("r2", "ok", "2", 2 * n + 5)
    result = check_linearizable(h, "kv", timeout=10)
    assert result.violated and result.witness["partition"] == "easy"


def test_initial_state_is_used():
    h = _history((0, "invoke", "read", None), (0, "ok", "read", 5))
    assert check_linearizable(h, "register").violated
    assert judged_ok(check_linearizable(h, "register", initial=5))


# -- Knossos's semantics next to etcd/porcupine's ---------------------------------------------------------------------

def _hist(*rows):
    from faultlab.history import History
    return History.from_intervals(rows)


def test_knossos_reads_of_nil_match_any_value_where_etcd_style_means_the_initial_value():
    h = _hist((0, "write", 1, 0, 1, "ok", None), (1, "read", None, 2, 3, "ok", None))
    assert check_linearizable(h, "register").violated
    assert check_linearizable(h, "cas-register").violated
    assert check_linearizable(h, "knossos-register").ok
    assert check_linearizable(h, "knossos-cas-register").ok
    stale = _hist((0, "write", 1, 0, 1, "ok", None), (0, "write", 2, 2, 3, "ok", None), (1, "read", None, 4, 5, "ok", 1))
    assert check_linearizable(stale, "knossos-register").violated  # a value that was read is still judged


def test_knossos_leaves_out_a_failed_cas_where_etcd_style_says_it_saw_another_value():
    h = _hist((0, "write", 1, 0, 1, "ok", None), (1, "cas", [1, 2], 2, 3, "fail", None),
              (1, "read", None, 4, 5, "ok", 1))
    assert check_linearizable(h, "cas-register").violated   # etcd: a failed cas saw a value other than 1
    assert check_linearizable(h, "knossos-cas-register").ok  # Knossos: a failure did not happen, says nothing
    ok_cas = _hist((0, "write", 1, 0, 1, "ok", None), (1, "cas", [3, 2], 2, 3, "ok", None))
    assert check_linearizable(ok_cas, "knossos-cas-register").violated  # an ok cas must have seen 3
