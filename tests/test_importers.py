"""Tests for the history importers (faultlab/importers/): every format, format guessing, and malformed input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faultlab.errors import ConfigError, HistoryFormatError
from faultlab.history import History
from faultlab.importers import FORMATS, guess_format, load_history

PORCUPINE = Path(__file__).resolve().parents[2] / "shared" / "data" / "histories" / "porcupine"
needs_data = pytest.mark.skipif(not PORCUPINE.exists(), reason=f"no recorded histories at {PORCUPINE}: they come "
                                f"from porcupine's test_data (github.com/anishathalye/porcupine)")


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_formats_are_named():
    assert set(FORMATS) == {"jepsen-edn", "porcupine-etcd", "porcupine-kv", "faultlab-json"}


@needs_data
def test_porcupine_etcd_log():
    h = load_history(PORCUPINE / "jepsen" / "etcd_000.log")
    ops = h.operations()
    assert len(ops) == 85
    assert (ops[0].f, ops[0].input, ops[0].status) == ("read", None, "ok")
    cas = [op for op in ops if op.f == "cas"]
    assert cas and all(isinstance(op.input, list) and len(op.input) == 2 for op in cas)
    assert {op.status for op in ops} >= {"ok", "fail", "info"}
    assert guess_format((PORCUPINE / "jepsen" / "etcd_100.log").read_text()) == "porcupine-etcd"
    assert len(load_history(PORCUPINE / "jepsen" / "etcd_100.log").operations()) == 77  # spaces, not tabs


@needs_data
def test_empty_etcd_log_is_an_empty_history():
    assert len(load_history(PORCUPINE / "jepsen" / "etcd_095.log")) == 0
    assert len(load_history(PORCUPINE / "jepsen" / "etcd_095.log", "porcupine-etcd")) == 0


@needs_data
def test_porcupine_kv_puts_the_key_into_the_value():
    h = load_history(PORCUPINE / "kv" / "c01-ok.txt")
    ops = h.operations()
    assert len(ops) == 58
    get = next(op for op in ops if op.f == "get")
    append = next(op for op in ops if op.f == "append")
    assert set(get.input) == {"key"} and isinstance(get.output, str)
    assert set(append.input) == {"key", "value"}


def test_jepsen_edn_one_map_per_line_skips_the_nemesis(tmp_path):
    path = _write(tmp_path, "history.edn", "\n".join([
        "{:type :invoke, :f :write, :value 3, :process 0, :time 10}",
        "{:type :info, :f :start, :value nil, :process :nemesis, :time 11}",
        "{:type :ok, :f :write, :value 3, :process 0, :time 12}",
        "{:type :invoke, :f :cas, :value [3 4], :process 1, :time 13}",
        "{:type :info, :f :cas, :value [3 4], :process 1, :time 14, :error :timeout}",
    ]))
    h = load_history(path)
    assert [(e.type, e.f, e.value, e.time) for e in h] == [
        ("invoke", "write", 3, 10.0), ("ok", "write", 3, 12.0), ("invoke", "cas", [3, 4], 13.0),
        ("info", "cas", [3, 4], 14.0)]


def test_jepsen_edn_vector_of_maps(tmp_path):
    path = _write(tmp_path, "history.edn", '[{:type :invoke, :f :read, :value nil, :process 0}\n'
                                           ' {:type :ok, :f :read, :value {:x #{1}}, :process 0}]\n')
    h = load_history(path)
    assert h[1].value == {"x": [1]} and h[0].time == 1.0


def test_faultlab_json_list_and_trace_file_round_trip(tmp_path):
    h = History()
    h.invoke(0, "write", 1, 0.0)
    h.complete(0, "ok", 1, 1.0)
    h.invoke("c1", "read", None, 2.0, phase="final", node="n2")
    h.complete("c1", "ok", 1, 3.0)
    as_list = _write(tmp_path, "h.json", json.dumps(h.to_json(), indent=1))
    as_trace = _write(tmp_path, "t.json", json.dumps({"version": 1, "history": h.to_json()}))
    assert load_history(as_list) == h
    assert load_history(as_trace) == h
    assert load_history(as_list, "faultlab-json") == h


def test_guessing_the_format():
    assert guess_format("INFO  jepsen.util - 0\t:invoke\t:read\tnil\n") == "porcupine-etcd"
    assert guess_format('{:process 0, :type :invoke, :f :get, :key "1", :value nil}') == "porcupine-kv"
    assert guess_format("{:type :invoke, :f :read, :process 0}") == "jepsen-edn"
    assert guess_format("[{:type :invoke, :f :read, :process 0}]") == "jepsen-edn"
    assert guess_format('[{"process": 0}]') == "faultlab-json"
    assert guess_format('{"history": []}') == "faultlab-json"
    with pytest.raises(HistoryFormatError, match="line 1"):
        guess_format("hello")


@pytest.mark.parametrize("name, text, fragment", [
    ("bad.log", "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:frobnicate\t3\n",
     "line 2: expected"),
    ("bad2.log", "INFO  jepsen.util - 0\t:ok\t:read\t3\n", "line 1: process 0 completes"),
    ("bad.edn", "{:type :invoke, :f :read, :process 0}\n{:type :ok, :f :read, :process 0\n", "line 2: not valid EDN"),
    ("bad2.edn", "{:type :invoke, :f :read, :process 0}\n{:type :ok, :process 0}\n", "line 2: no :f"),
    ("bad3.edn", "{:type :invoke, :f :read, :process 0}\n{:type :ok, :f :write, :process 0}\n",
     "line 2: process 0 invoked read but completes write"),
    ("bad.json", '[\n{"process": 0, "type": "invoke", "f": "read"},\n{"process": 0, "type": "ok"}\n]',
     "line 3: event 1 has no 'f'"),
    ("bad2.json", '[\n{"process": 0, "type": "invoke", "f": "read"},\n{"process": 0, "type": "ok", "f": "read",}\n]',
     "line 3: not valid JSON"),
    ("bad3.json", '{"trace": []}', 'without a "history" key'),
    ("bad.kv", '{:process 0, :type :invoke, :f :get, :key "1", :value nil}\n{:process 0, :type :ok, :f :get}\n',
     "line 2: no :key"),
])
def test_malformed_input_names_the_file_and_line(tmp_path, name, text, fragment):
    path = _write(tmp_path, name, text)
    fmt = {"log": "porcupine-etcd", "edn": "jepsen-edn", "json": "faultlab-json", "kv": "porcupine-kv"}[
        name.rsplit(".", 1)[1]]
    with pytest.raises(HistoryFormatError) as e:
        load_history(path, fmt)
    assert str(e.value).startswith(str(path)) and fragment in str(e.value)


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(HistoryFormatError, match="no such file"):
        load_history(tmp_path / "nope.edn")
    with pytest.raises(ConfigError, match="porcupine-etcd"):
        load_history(_write(tmp_path, "x.edn", "{}"), "yaml")


def test_empty_files_in_any_format_are_empty_histories(tmp_path):
    for fmt in FORMATS:
        assert len(load_history(_write(tmp_path, "empty", "\n  \n"), fmt)) == 0


def _read_maps_plainly(text: str) -> list:
    """The maps as the whole-file ``edn_format`` path reads them, bypassing the shape path."""
    from faultlab.importers import edn

    saved = edn._read_maps_by_shape
    edn._read_maps_by_shape = lambda text: None
    try:
        return edn.read_maps(text, "history")
    finally:
        edn._read_maps_by_shape = saved


@pytest.mark.parametrize("text", [
    '{:process 6, :type :invoke, :f :append, :key "0", :value "x 6 0 y"}\n{:process -6, :type :ok, :value nil}',
    '{:s "a \\"quoted\\" \\\\ string, with {braces} and 12", :n +3, :m -0, :v [1 "2" [3 :k4]], :f 1.5, :r 1/2}',
    '{:sym a-1, :kw :x2, :big 12345678901234567890, :list (1 2), :nested {:a "b"}, :t true, :nil nil}',
])
def test_reading_by_shape_gives_what_parsing_each_map_gives(text):
    from faultlab.importers.edn import _read_maps_by_shape

    assert list(_read_maps_by_shape(text)) == _read_maps_plainly(text)


@pytest.mark.parametrize("text", [
    '{:c \\", :s "x"}',  # a character literal: a quote outside a string
    '{:s "x"} ; a comment "y"',
    '{:t #inst "2020-01-01T00:00:00Z"}',
    '{:set #{"b" "a"}}',
    '{"k" 1}',  # a literal as a map key
    '{:a 1\n :b 2}',  # a map that spans lines
    '{:s "faultlab-edn-hole-0"}',
])
def test_lines_the_shape_path_cannot_vouch_for_take_the_plain_path(text):
    from faultlab.importers.edn import _read_maps_by_shape

    assert _read_maps_by_shape(text) is None


@needs_data
def test_porcupine_kv_files_read_by_shape_as_by_parsing_each_map():
    from faultlab.importers.edn import _read_maps_by_shape

    for path in sorted((PORCUPINE / "kv").glob("*.txt")):
        text = path.read_text()
        by_shape = _read_maps_by_shape(text)
        assert by_shape is not None and list(by_shape) == _read_maps_plainly(text), path.name


# -- EDN as Jepsen writes it ---------------------------------------------------------------------------------------

JEPSEN_LIST = """; a history as Jepsen's store writes it: a comment header, then one list of maps
; (nemesis operations anywhere in it)
({:type :invoke, :f :write, :value 1, :process 0, :time 1}
 {:type :info, :f :start, :value nil, :process :nemesis, :time 2}
 {:type :ok, :f :write, :value 1, :process 0, :time 3}
 {:type :invoke, :f :read, :value nil, :process 1, :time 4}
 {:type :ok, :f :read, :value 1, :process 1, :time 5})
"""


@pytest.mark.parametrize("text", [JEPSEN_LIST, JEPSEN_LIST.replace("({", "[{").replace("})", "}]")])
def test_a_top_level_list_or_vector_after_comments_with_nemesis_operations(tmp_path, text):
    path = _write(tmp_path, "h.edn", text)
    assert guess_format(text) == "jepsen-edn"
    ops = load_history(path).operations()
    assert [(op.f, op.status, op.output) for op in ops] == [("write", "ok", 1), ("read", "ok", 1)]


def test_nemesis_operations_in_a_json_export_are_not_client_operations(tmp_path):
    path = _write(tmp_path, "h.json", json.dumps([
        {"type": "invoke", "f": "write", "value": 1, "process": 0},
        {"type": "info", "f": "kill", "value": None, "process": "nemesis"},
        {"type": "ok", "f": "write", "value": 1, "process": 0}]))
    assert [(op.f, op.status) for op in load_history(path).operations()] == [("write", "ok")]


@pytest.mark.parametrize("read, linearizable", [
    ('{:b "x", :a [1 2]}', True),   # the same map, its keys in another order
    ('{:a [1 2], :b "x"}', True),
    ('{:a [1 3], :b "x"}', False),  # a different value: a real violation
    ('[1 2]', False),
])
def test_maps_and_vectors_as_register_values_are_compared_as_values(tmp_path, read, linearizable):
    from invariants.linearizability import check_linearizable

    path = _write(tmp_path, "h.edn", "{:type :invoke, :f :write, :value {:a [1 2], :b \"x\"}, :process 0}\n"
                                     "{:type :ok, :f :write, :value {:a [1 2], :b \"x\"}, :process 0}\n"
                                     "{:type :invoke, :f :read, :value nil, :process 1}\n"
                                     f"{{:type :ok, :f :read, :value {read}, :process 1}}\n")
    for model in ("register", "cas-register"):
        result = check_linearizable(load_history(path), model)
        assert result.ok is linearizable, (model, read, result.explanation)
