"""Every input path validates: a malformed trace, history or argument is exit 3 with one line, never a verdict.

Fuzz tests start from real valid files (a trace `faultlab check` writes, porcupine's recorded histories read in
place from ``../shared``) and mutate them structurally: a value replaced by one of another type, a huge or negative
integer, NaN, a deep nesting, a key deleted or added, bytes truncated or made non-UTF-8. Whatever comes out, the
exit code is 3 with exactly one line on stderr (or a legitimate verdict when the mutation happens to leave a valid
file, or 4 when it changes what a trace's run does), and never a traceback. Hypothesis runs derandomized, so the
inputs are the same on every run.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faultlab.cli import main

HISTORIES = Path(__file__).resolve().parents[2] / "shared" / "data" / "histories" / "porcupine"
needs_data = pytest.mark.skipif(not HISTORIES.exists(), reason=f"no recorded histories at {HISTORIES}: they come "
                                f"from porcupine's test_data (github.com/anishathalye/porcupine)")
FUZZ = settings(derandomize=True, database=None, max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def run(*argv: str) -> tuple[int, str, str]:
    """``faultlab ARGV`` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def assert_input_error(code: int, err: str, *fragments: str) -> None:
    assert code == 3, err
    assert err.count("\n") == 1 and err.startswith("faultlab"), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


# -- mutations ---------------------------------------------------------------------------------------------------
# Values that no text-free JSON document can hold are written as a marker string and put into the text afterwards.
DEEP = "\x00deep\x00"          # 100,000 nested lists: json raises RecursionError
HUGE_DIGITS = "\x00digits\x00"  # a 5,000-digit integer: more than Python converts from text
REPLACEMENTS = [None, True, False, 0, -1, 7, 2**31, 10**400, 1.5, -0.25, float("nan"), float("inf"), "", "x",
                "n9", [], [1], [[[[1]]]], {}, {"a": 1}, {"type": "Put"}, DEEP, HUGE_DIGITS]


def _paths(doc, prefix=()):
    """Every path into a JSON document: tuples of keys and indices."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:6]):  # the first few elements of a long list are enough
            yield from _paths(v, (*prefix, i))


def _serialize(doc) -> bytes:
    text = json.dumps(doc)
    text = text.replace(json.dumps(DEEP), "[" * 100_000 + "]" * 100_000)
    return text.replace(json.dumps(HUGE_DIGITS), "9" * 5000).encode()


@st.composite
def mutated_json(draw, doc):
    """``doc`` as bytes with one structural mutation, and the top-level key it touched (None for bytes)."""
    kind = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add-key", "nest", "truncate",
                                 "bytes"]))
    if kind in ("truncate", "bytes"):
        raw = _serialize(doc)
        at = draw(st.integers(0, len(raw) - 1))
        if kind == "truncate":
            return raw[:at], None
        return raw[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00"])) + raw[at:], None
    paths = [p for p in _paths(doc) if p]
    path = draw(st.sampled_from(paths))
    doc = copy.deepcopy(doc)
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if kind == "replace":
        parent[last] = draw(st.sampled_from(REPLACEMENTS))
    elif kind == "delete":
        del parent[last]
    elif kind == "add-key":
        target = parent[last] if isinstance(parent[last], dict) else parent
        if isinstance(target, dict):
            target[draw(st.sampled_from(["zzz", "clients", "kind", "t"]))] = draw(st.sampled_from(REPLACEMENTS))
        else:
            target.append(draw(st.sampled_from(REPLACEMENTS)))
    else:  # wrap the value in many lists
        value = parent[last]
        for _ in range(draw(st.sampled_from([2, 101, 900]))):
            value = [value]
        parent[last] = value
    return _serialize(doc), path[0]


# -- traces ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trace_file(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("trace")
    code, _, err = run("check", "quorum-register", "--variant", "stale-read", "--out", str(out))
    assert code == 1, err
    (trace,) = out.glob("*.json")
    return trace


# the fields that decide what the replayed run does: a valid change to them may make the replay diverge (exit 4)
RUN_FIELDS = {"config", "settings", "choices", "events", "invariants", "protocol"}


def test_fuzzed_traces_are_input_errors_or_replay_never_a_traceback(trace_file, tmp_path):
    doc = json.loads(trace_file.read_text())
    target = tmp_path / "fuzzed.json"
    seen = []

    @FUZZ
    @given(mutated_json(doc))
    def replay_mutated(mutation):
        data, field = mutation
        target.write_bytes(data)
        code, out, err = run("replay", str(target), "--quiet")
        seen.append(code)
        assert "Traceback" not in err
        if code in (3, 4):
            assert err.count("\n") == 1 and err.startswith("faultlab"), err
            assert code == 3 or field in RUN_FIELDS, f"{field} changed, yet: {err}"
        else:
            assert code in (0, 1, 2) and err == "", (code, err)
            assert "verdict" in out

    replay_mutated()
    assert len(seen) == 300 and seen.count(3) > 200  # most mutations break the file; all were told apart


@pytest.mark.parametrize("field, value, fragment", [
    (("choices", 2), 10**400, "field choices[2]: "),
    (("choices", 2), -1, "field choices[2]: "),
    (("choices", 2), "1", "field choices[2]: expected an integer"),
    (("choices", 2), True, "field choices[2]: expected an integer"),
    (("settings", "clients"), 10**400, "field settings.clients: "),
    (("settings", "clients"), "3", "field settings.clients: expected an integer"),
    (("settings", "plan"), "all", "field settings.plan: expected an object"),
    (("settings", "plan", "kinds", 0), "explode", "field settings.plan.kinds[0]: expected one of"),
    (("settings", "bogus"), 1, "field settings.bogus: not a field of settings"),
    (("settings", "think_times"), [], "field settings.think_times: expected 1 to 100 items"),
    (("config", "r"), "1", "field config.r: quorum-register's setting r is an integer"),
    (("config", "read_repair"), [1], "field config.read_repair: quorum-register's setting read_repair is true or false"),
    (("config", "sync_interval"), 10**400, "field config.sync_interval: "),
    (("config", "nn"), 3, "field config.nn: quorum-register has no such setting"),
    (("config", "r"), 7, "field config: quorum-register: r=7 must be between 1 and n=3"),
    (("invariants",), ["no-such-invariant"], "field invariants: quorum-register has no invariant"),
    (("events", 3), 7, "field events[3]: expected an object"),
    (("events", 3, "t"), "0", "field events[3].t: expected a number"),
    (("history", 1), "x", "field history[1]: expected an object"),
    (("history", 1, "process"), [1], "history event 1: the process must be an integer or a name"),
    (("history", 1, "value"), {"a": [1]}, "field history[1] does not match the events"),
    (("verdict",), "passed", "field verdict: expected one of ok, violated, unknown"),
    (("version",), True, "trace version true is not supported"),
    (("zzz",), 1, "field zzz: not a field of a trace"),
])
def test_each_malformed_trace_field_is_named_in_one_line(trace_file, tmp_path, field, value, fragment):
    doc = json.loads(trace_file.read_text())
    parent = doc
    for step in field[:-1]:
        parent = parent[step]
    parent[field[-1]] = value
    target = tmp_path / "bad.json"
    target.write_text(json.dumps(doc))
    code, _, err = run("replay", str(target))
    assert_input_error(code, err, str(target), fragment)


@pytest.mark.parametrize("text, fragment", [
    ('{"kind": "faultlab-trace", "version": 1, "clients": ' + "[" * 100_000 + "]" * 100_000 + "}",
     "nested more than 100 deep"),
    ('{"kind": "faultlab-trace", "version": 1, "n": ' + "9" * 5000 + "}", "a number with 5000 digits"),
    ('{"kind": "faultlab-trace", "version": 1, "t": NaN}', "NaN is not JSON"),
    ('{"kind": "faultlab-trace", "version": 1, "t": -Infinity}', "-Infinity is not JSON"),
    ('{"kind": "faultlab-trace", "version": 1, "t": 1e400}', "too large to be a finite float"),
    ('{"kind": "faultlab-trace", "version": 1, "protocol"', "not a JSON trace (line 1"),
], ids=["deep", "digits", "nan", "-infinity", "1e400", "truncated"])
def test_json_python_accepts_but_a_trace_may_not_hold_is_rejected(tmp_path, text, fragment):
    target = tmp_path / "bad.json"
    target.write_text(text)
    assert_input_error(*run("replay", str(target))[::2], fragment)


def test_a_non_utf8_trace_names_the_byte(tmp_path, trace_file):
    target = tmp_path / "bytes.json"
    target.write_bytes(trace_file.read_bytes()[:40] + b"\xff" + trace_file.read_bytes()[40:])
    assert_input_error(*run("replay", str(target))[::2], "not UTF-8 text (byte 40)")


# -- histories ---------------------------------------------------------------------------------------------------
JEPSEN_EDN = """{:type :invoke, :f :write, :value 1, :process 0, :time 10}
{:type :info, :f :start, :value nil, :process :nemesis, :time 11}
{:type :ok, :f :write, :value 1, :process 0, :time 12}
{:type :invoke, :f :cas, :value [1 2], :process 1, :time 13}
{:type :invoke, :f :read, :value nil, :process 2, :time 14}
{:type :ok, :f :cas, :value [1 2], :process 1, :time 15}
{:type :ok, :f :read, :value 2, :process 2, :time 16}
{:type :invoke, :f :write, :value 3, :process 0, :time 17}
{:type :info, :f :write, :value 3, :process 0, :time 18, :error :timeout}
"""
EDN_TOKENS = ["nil", "-1", "7", "9" * 400, "9" * 5000, "1.5", "##NaN", "##Inf", "[1 2]", "[1]", "[[[[1]]]]",
              "{:a 1}", "#{1}", "(1 2)", ":x", ":invoke", ":ok", ":fail", ":info", ":read", ":write", ":cas",
              ":get", ":put", ":append", '"s"', '"0"', "true", "\\c", '#inst "2020-01-01"', "[" * 100_000,
              "]", "{", "}", ":process", ":value"]


@st.composite
def mutated_lines(draw, text: str):
    """``text`` (a line format) with one token or line changed, or its bytes truncated or made non-UTF-8."""
    lines = text.splitlines()
    kind = draw(st.sampled_from(["token", "token", "token", "drop-token", "drop-line", "copy-line", "swap",
                                 "truncate", "bytes"]))
    raw = text.encode()
    if kind == "truncate":
        return raw[:draw(st.integers(0, len(raw) - 1))]
    if kind == "bytes":
        at = draw(st.integers(0, len(raw) - 1))
        return raw[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\x00"])) + raw[at:]
    i = draw(st.integers(0, len(lines) - 1))
    if kind in ("token", "drop-token"):
        tokens = lines[i].replace(",", " ,").split(" ")
        j = draw(st.integers(0, len(tokens) - 1))
        if kind == "token":
            tokens[j] = draw(st.sampled_from(EDN_TOKENS))
        else:
            del tokens[j]
        lines[i] = " ".join(tokens).replace(" ,", ",")
    elif kind == "drop-line":
        del lines[i]
    elif kind == "copy-line":
        lines.insert(draw(st.integers(0, len(lines))), lines[i])
    else:
        j = draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines).encode()


@st.composite
def mutated_history(draw, seeds: dict):
    name = draw(st.sampled_from(sorted(seeds)))
    text, model = seeds[name]
    if name == "faultlab.json":
        data, _ = draw(mutated_json(json.loads(text)))
    else:
        data = draw(mutated_lines(text))
    if draw(st.integers(0, 4)) == 0:  # now and then a model the file was not written for
        model = draw(st.sampled_from(["register", "cas-register", "kv", "mutex", "multi-register", "queue", "set",
                                      "log"]))
    return name, data, model


@needs_data
def test_fuzzed_histories_are_input_errors_or_verdicts_never_a_traceback(tmp_path):
    faultlab_json = json.dumps([
        {"index": 0, "process": 0, "type": "invoke", "f": "write", "value": 1, "time": 0.0},
        {"index": 1, "process": 0, "type": "ok", "f": "write", "value": 1, "time": 0.5},
        {"index": 2, "process": "c1", "type": "invoke", "f": "read", "value": None, "time": 1.0, "node": "n2"},
        {"index": 3, "process": "c1", "type": "ok", "f": "read", "value": 1, "time": 2.0},
        {"index": 4, "process": 3, "type": "invoke", "f": "write", "value": 2, "time": 2.0, "phase": "final"},
        {"index": 5, "process": 3, "type": "info", "f": "write", "value": None, "time": 7.0},
    ], indent=1)
    seeds = {  # read in place; only the mutated copy is written, into tmp_path
        "etcd_000.log": ((HISTORIES / "jepsen" / "etcd_000.log").read_text(), "cas-register"),
        "etcd_002.log": ((HISTORIES / "jepsen" / "etcd_002.log").read_text(), "cas-register"),
        "c01-ok.txt": ((HISTORIES / "kv" / "c01-ok.txt").read_text(), "kv"),
        "jepsen.edn": (JEPSEN_EDN, "cas-register"),
        "faultlab.json": (faultlab_json, "register"),
    }
    target = tmp_path / "fuzzed-history"
    seen = []

    @FUZZ
    @given(mutated_history(seeds))
    def check_mutated(mutation):
        name, data, model = mutation
        target.write_bytes(data)
        code, out, err = run("check-history", str(target), "--model", model, "--timeout", "5")
        seen.append(code)
        assert "Traceback" not in err
        if code == 3:
            assert err.count("\n") == 1 and err.startswith("faultlab"), err
            assert str(target) in err, err
        else:
            assert code in (0, 1, 2) and err == "", (name, code, err)

    check_mutated()
    assert len(seen) == 300 and {0, 1, 3} <= set(seen)


@pytest.mark.parametrize("name, text, model, fragment", [
    ("deep.json", '[{"process": 0, "type": "invoke", "f": "write", "value": ' + "[" * 100_000 + "]" * 100_000
     + "}]", "register", "nested more than 100 deep"),
    ("nan.json", '[{"process": 0, "type": "invoke", "f": "write", "value": NaN}]', "register", "NaN is not JSON"),
    ("time.json", '[{"process": 0, "type": "invoke", "f": "write", "time": ' + "9" * 400 + "}]", "register",
     "is not a finite number"),
    ("proc.json", '[{"process": [1], "type": "invoke", "f": "write"}]', "register", "the process must be"),
    ("phase.json", '[{"process": 0, "type": "invoke", "f": "write", "phase": 3}]', "register", "the phase must be"),
    ("node.json", '[{"process": 0, "type": "invoke", "f": "write", "node": [1]}]', "register", "the node must be"),
    ("index.json", '[{"process": 0, "type": "invoke", "f": "write", "index": "a"}]', "register", "has index"),
    ("digits.log", "INFO  jepsen.util - 0\t:invoke\t:write\t" + "9" * 5000 + "\n", "cas-register",
     "line 1: a value of more than"),
    ("deep.edn", "{:type :invoke, :f :write, :value " + "[" * 100_000 + "]" * 100_000 + ", :process 0}",
     "register", "line 1: vectors, lists or maps are nested more than 100 deep"),
    ("proc.edn", "{:type :invoke, :f :write, :value 1, :process [1 2]}", "register", "the process must be"),
    ("fn.edn", "{:type :invoke, :f 5, :value 1, :process 0}", "register", "the function (f) must be a name"),
    ("time.edn", "{:type :invoke, :f :write, :value 1, :process 0, :time \"x\"}", "register", "the time must be"),
    ("nan.edn", "{:type :invoke, :f :write, :value ##NaN, :process 0}", "register", "not a finite number"),
    ("key.kv", '{:process 0, :type :invoke, :f :put, :key [1], :value "x"}', "kv", "line 1: :key must be a string"),
    ("value.kv", '{:process 0, :type :invoke, :f :append, :key "1", :value 5}', "kv",
     "line 1: :value must be nil or a string"),
    # values of the right JSON type for the format but the wrong shape for the model
    ("cas.edn", "{:type :invoke, :f :cas, :value 5, :process 0}\n{:type :ok, :f :cas, :value 5, :process 0}",
     "cas-register", "is not one the cas-register model can take"),
    ("kv.edn", "{:type :invoke, :f :append, :value 5, :process 0}", "kv", "is not one the kv model can take"),
    ("read.edn", "{:type :invoke, :f :read, :value nil, :process 0}", "kv", "calls 'read', which the 'kv' model"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 20 else "")
def test_each_malformed_history_is_named_in_one_line(tmp_path, name, text, model, fragment):
    target = tmp_path / name
    target.write_text(text)
    code, out, err = run("check-history", str(target), "--model", model)
    assert_input_error(code, err, str(target), fragment)
    assert out == ""


# -- command-line arguments --------------------------------------------------------------------------------------
BIG = "9" * 400


@pytest.mark.parametrize("argv, fragment", [
    (["check", "quorum-register", "--examples", "-1"], "argument --examples: -1 is out of range"),
    (["check", "quorum-register", "--examples", "0"], "argument --examples: 0 is out of range"),
    (["check", "quorum-register", "--examples", BIG], "argument --examples"),
    (["check", "quorum-register", "--seed", "-1"], "argument --seed: -1 is out of range"),
    (["check", "quorum-register", "--seed", BIG], "argument --seed"),
    (["check", "quorum-register", "--clients", "0"], "argument --clients"),
    (["check", "quorum-register", "--clients", BIG], "argument --clients"),
    (["check", "quorum-register", "--ops", "-1"], "argument --ops"),
    (["check", "quorum-register", "--ops", "1e9"], "argument --ops: '1e9' is not an integer"),
    (["check", "quorum-register", "--max-steps", "0"], "argument --max-steps"),
    (["check", "quorum-register", "--max-crashes", BIG], "argument --max-crashes"),
    (["check", "quorum-register", "--set", "sync_interval=nan"], "sync_interval must be a finite number"),
    (["check", "quorum-register", "--set", "sync_interval=1e400"], "sync_interval must be a finite number"),
    (["check", "quorum-register", "--set", f"n={BIG}"], "n="),
    (["check", "quorum-register", "--set", "n=" + "9" * 5000], "setting n="),
    (["check", "quorum-register", "--set", "r=-5"], "r=-5 must be between 1 and n=3"),
    (["check", "quorum-register", "--set", "read_repair=maybe"], "read_repair=maybe is not a valid bool"),
    (["verify", "--examples", "-3"], "argument --examples"),
    (["claims", "--seed", BIG], "argument --seed"),
    (["replay", "x.json", "--limit", "-1"], "argument --limit"),
    (["check-history", "x.edn", "--model", "register", "--timeout", "nan"], "argument --timeout"),
    (["check-history", "x.edn", "--model", "register", "--timeout", "inf"], "argument --timeout"),
    (["check", "quorum-register", "--bogus"], "unrecognized arguments: --bogus"),
    ([], "the following arguments are required: COMMAND"),
])
def test_absurd_arguments_are_usage_errors_in_one_line(argv, fragment):
    assert_input_error(*run(*argv)[::2], fragment)


@pytest.mark.parametrize("initial, fragment", [
    ("[" * 100_000 + "]" * 100_000, "nested more than 100 deep"),
    ("[" * 500 + "]" * 500, "nested more than 100 deep"),
    ("NaN", "NaN is not JSON"),
    ("1e400", "too large to be a finite float"),
    ("9" * 5000, "a number with 5000 digits"),
    ("{oops", "is not JSON"),
], ids=["deep", "deep500", "nan", "1e400", "digits", "broken"])
def test_initial_state_that_is_not_strict_json_is_a_usage_error(tmp_path, initial, fragment):
    history = tmp_path / "h.edn"
    history.write_text("{:type :invoke, :f :read, :process 0}\n{:type :ok, :f :read, :value 5, :process 0}\n")
    assert_input_error(*run("check-history", str(history), "--model", "register", "--initial", initial)[::2],
                       "--initial", fragment)


@pytest.mark.parametrize("model, initial", [("kv", '"x"'), ("kv", "[1, 2]"), ("set", "5"), ("queue", "5")])
def test_initial_state_the_model_cannot_start_from_is_a_usage_error(tmp_path, model, initial):
    history = tmp_path / "h.edn"
    f = {"kv": "get", "set": "read", "queue": "dequeue"}[model]
    history.write_text(f"{{:type :invoke, :f :{f}, :value {{:key \"k\"}}, :process 0}}\n"
                       f"{{:type :ok, :f :{f}, :value nil, :process 0}}\n")
    code, out, err = run("check-history", str(history), "--model", model, "--initial", initial, "--format",
                         "jepsen-edn")
    assert_input_error(code, err, "--initial")
    assert out == ""
