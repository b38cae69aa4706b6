"""Unit tests for the sequential models and their registry (models/)."""

from __future__ import annotations

import pytest

from faultlab.errors import ConfigError
from faultlab.history import History
from invariants.linearizability import check_linearizable
from models import FAILED, MODELS, UNKNOWN, Model, get_model


def judged_ok(result) -> bool:
    """ok, and exercised: an ok for lack of anything to judge shows nothing."""
    return result.ok and result.exercised


def test_registry_names_every_builtin_model():
    assert set(MODELS) == {"register", "cas-register", "knossos-register", "knossos-cas-register", "kv", "mutex",
                           "multi-register", "queue", "set", "log"}
    assert get_model("cas-register") is MODELS["cas-register"]


def test_unknown_model_names_it_and_lists_the_valid_ones():
    with pytest.raises(ConfigError) as e:
        get_model("regsiter")
    assert "'regsiter'" in str(e.value) and f"choose one of: {', '.join(sorted(MODELS))}" in str(e.value)


def test_register_reads_nil_before_any_write_then_the_last_write():
    step = get_model("register").step
    assert step(None, "read", None, None) == (True, None)
    assert step(None, "read", None, 3)[0] is False
    assert step(None, "write", 3, None) == (True, 3)
    assert step(3, "read", None, 3) == (True, 3)


def test_cas_register_follows_etcd_semantics():
    step = get_model("cas-register").step
    assert step(1, "cas", [1, 2], [1, 2]) == (True, 2)
    assert step(0, "cas", [1, 2], [1, 2])[0] is False
    assert step(0, "cas", [1, 2], FAILED) == (True, 0)  # a failed cas saw a value other than A
    assert step(1, "cas", [1, 2], FAILED)[0] is False
    assert step(1, "cas", [1, 2], UNKNOWN) == (True, 2)
    assert step(0, "cas", [1, 2], UNKNOWN)[0] is False  # no effect: the same as leaving it out
    assert "cas" in get_model("cas-register").failures_checked


def test_kv_strings_start_empty_and_append_concatenates():
    m = get_model("kv")
    ok, s = m.step(m.init, "get", {"key": "a"}, "")
    assert ok
    _, s = m.step(s, "append", {"key": "a", "value": "x"}, None)
    _, s = m.step(s, "append", {"key": "a", "value": "y"}, None)
    assert m.step(s, "get", {"key": "a"}, "xy")[0] and not m.step(s, "get", {"key": "a"}, "yx")[0]
    _, s = m.step(s, "put", ["a", "z"], None)  # Jepsen's [k v] form
    assert m.step(s, "get", {"key": "a"}, "z")[0]
    assert m.step(s, "get", {"key": "b"}, "")[0]
    hash(s)


def test_kv_partitions_by_key():
    h = History()
    for p, key in enumerate("abab"):
        h.invoke(p, "put", {"key": key, "value": str(p)}, p)
        h.complete(p, "ok", None, p + 0.5)
    parts = get_model("kv").partition(h.operations())
    assert sorted(len(p) for p in parts) == [2, 2]
    assert {op.input["key"] for op in parts[0]} == {"a"}


def test_mutex_queue_set_log_and_multi_register():
    mutex = get_model("mutex").step
    assert mutex(False, "acquire", None, None) == (True, True)
    assert mutex(True, "acquire", None, None)[0] is False
    assert mutex(False, "release", None, None)[0] is False
    queue = get_model("queue").step
    _, q = queue((), "enqueue", 1, None)
    _, q = queue(q, "enqueue", 2, None)
    assert queue(q, "dequeue", None, 1) == (True, (2,))
    assert queue(q, "dequeue", None, 2)[0] is False
    assert queue((), "dequeue", None, None) == (True, ())
    sets = get_model("set").step
    _, s = sets(frozenset(), "add", 1, None)
    assert sets(s, "read", None, [1])[0] and not sets(s, "read", None, [])[0]
    log = get_model("log").step
    _, entries = log((), "append", "a", None)
    _, entries = log(entries, "append", "b", None)
    assert log(entries, "read", None, ["a", "b"])[0] and not log(entries, "read", None, ["b", "a"])[0]
    multi = get_model("multi-register")
    ok, state = multi.step(multi.init, "txn", [["w", "x", 1], ["w", "y", 2]], [["w", "x", 1], ["w", "y", 2]])
    assert ok
    assert multi.step(state, "txn", [["r", "x", None]], [["r", "x", 1]])[0]
    assert not multi.step(state, "txn", [["r", "x", None]], [["r", "x", 2]])[0]
    assert multi.step(multi.init, "txn", [["r", "z", None]], [["r", "z", None]])[0]  # nil before any write


def test_initial_state_from_json_is_hashable():
    for model, value in [("kv", {"a": "x"}), ("multi-register", {"x": 1}), ("set", [1, 2]), ("log", ["a"]),
                         ("queue", [1]), ("register", 3)]:
        hash(get_model(model).from_json(value))
    assert get_model("kv").step(get_model("kv").from_json({"a": "x"}), "get", {"key": "a"}, "x")[0]


# The docstring's example of a user-defined model, checked end to end.
counter = Model(
    name="counter", init=0, functions=("add", "read"),
    step=lambda state, f, input, output: (
        (True, state + input) if f == "add"
        else (output is UNKNOWN or output == state, state)),
)


def _counter_history(read_value: int) -> History:
    h = History()
    h.invoke("a", "add", 2, 0)
    h.invoke("b", "add", 3, 1)
    h.complete("a", "ok", None, 2)
    h.complete("b", "ok", None, 3)
    h.invoke("a", "read", None, 4)
    h.complete("a", "ok", read_value, 5)
    return h


def test_a_user_defined_model_in_a_few_lines():
    assert judged_ok(check_linearizable(_counter_history(5), counter))
    result = check_linearizable(_counter_history(4), counter)
    assert result.violated and result.witness["failed_op"] == 4


def test_true_is_not_one_and_false_is_not_zero():
    """Python's True == 1 must not make a register written true and read 1 linearizable."""
    from faultlab.history import History
    from invariants.linearizability import check_linearizable

    for written, read in ((True, 1), (1, True), (False, 0), ((True,), (1,))):
        h = History.from_intervals([(0, "write", written, 0, 1, "ok", written), (1, "read", None, 2, 3, "ok", read)])
        assert check_linearizable(h, "register").violated, (written, read)
        assert check_linearizable(h, "cas-register").violated, (written, read)
    ok = History.from_intervals([(0, "write", True, 0, 1, "ok", True), (1, "read", None, 2, 3, "ok", True)])
    assert check_linearizable(ok, "register").ok
