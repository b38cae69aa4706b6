"""Tests for ``faultlab check-history``: verdict lines, --json, --html and the exit-code contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faultlab.cli import main

PORCUPINE = Path(__file__).resolve().parents[2] / "shared" / "data" / "histories" / "porcupine"
needs_data = pytest.mark.skipif(not PORCUPINE.exists(), reason=f"no recorded histories at {PORCUPINE}: they come "
                                f"from porcupine's test_data (github.com/anishathalye/porcupine)")
OK_LOG = PORCUPINE / "jepsen" / "etcd_002.log"  # linearizable
BAD_LOG = PORCUPINE / "jepsen" / "etcd_000.log"  # not linearizable
EMPTY_LOG = PORCUPINE / "jepsen" / "etcd_095.log"


def _edn(tmp_path: Path, read_value: int) -> Path:
    path = tmp_path / f"read-{read_value}.edn"
    path.write_text("{:type :invoke, :f :write, :value 1, :process 0}\n{:type :ok, :f :write, :value 1, :process 0}\n"
                    "{:type :invoke, :f :read, :value nil, :process 1}\n"
                    f"{{:type :ok, :f :read, :value {read_value}, :process 1}}\n")
    return path


def test_linearizable_exits_0_and_violation_exits_1_with_its_witness(tmp_path, capsys):
    assert main(["check-history", str(_edn(tmp_path, 1)), "--model", "register"]) == 0
    assert "linearizable (2 operations" in capsys.readouterr().out
    assert main(["check-history", str(_edn(tmp_path, 2)), "--model", "register"]) == 1
    out = capsys.readouterr().out
    assert "not-linearizable" in out and "a contradiction!" in out and "failed_op=2" in out


def test_json_lists_one_result_per_file(tmp_path, capsys):
    files = [str(_edn(tmp_path, 1)), str(_edn(tmp_path, 2))]
    assert main(["check-history", *files, "--model", "register", "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert [r["file"] for r in rows] == files
    assert [r["verdict"] for r in rows] == ["linearizable", "not-linearizable"]
    assert rows[0]["operations"] == 2 and rows[0]["witness"]["linearization"] == [0, 2]
    assert rows[1]["witness"]["failed_op"] == 2 and "explanation" in rows[1] and "seconds" in rows[1]


def test_initial_state_from_json(tmp_path, capsys):
    path = tmp_path / "read.edn"
    path.write_text("{:type :invoke, :f :read, :process 0}\n{:type :ok, :f :read, :value 5, :process 0}\n")
    assert main(["check-history", str(path), "--model", "register"]) == 1
    assert main(["check-history", str(path), "--model", "register", "--initial", "5"]) == 0


@needs_data
def test_exit_code_is_the_worst_over_the_files(capsys):
    assert main(["check-history", str(OK_LOG), "--model", "cas-register"]) == 0
    assert main(["check-history", str(EMPTY_LOG), "--model", "cas-register"]) == 2  # nothing to judge
    assert main(["check-history", str(OK_LOG), str(EMPTY_LOG), "--model", "cas-register"]) == 2
    assert main(["check-history", str(EMPTY_LOG), str(BAD_LOG), str(OK_LOG), "--model", "cas-register"]) == 1
    out = capsys.readouterr().out
    assert out.count("etcd_002.log: linearizable") == 3


def test_timeout_gives_unknown_exit_2(tmp_path, capsys):
    lines = [f"{{:type :invoke, :f :write, :value {p % 5}, :process {p}}}" for p in range(1500)]
    lines += [f"{{:type :ok, :f :write, :value {p % 5}, :process {p}}}" for p in range(1500)]
    lines += ["{:type :invoke, :f :read, :process r}", "{:type :ok, :f :read, :value 9, :process r}"]
    path = tmp_path / "wide.edn"
    path.write_text("\n".join(lines))
    assert main(["check-history", str(path), "--model", "register", "--timeout", "0.3", "--json"]) == 2
    assert json.loads(capsys.readouterr().out)[0]["verdict"] == "unknown"


@pytest.mark.parametrize("argv, message", [
    (["--model", "regsiter"], "unknown model 'regsiter'"),
    (["--model", "register", "--initial", "{oops"], "--initial"),
    (["--model", "register", "--timeout", "0"], "--timeout"),
])
def test_bad_arguments_exit_3_with_one_line(tmp_path, capsys, argv, message):
    assert main(["check-history", str(_edn(tmp_path, 1)), *argv]) == 3
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_an_unreadable_file_gets_its_own_error_and_never_hides_the_others(tmp_path, capsys):
    bad = tmp_path / "bad.edn"
    bad.write_text("{:type :invoke, :f :read, :process 0}\n{:type :ok :f\n")
    good, stale = str(_edn(tmp_path, 1)), str(_edn(tmp_path, 2))
    assert main(["check-history", good, str(bad), stale, "--model", "register"]) == 3  # the worst: unreadable
    captured = capsys.readouterr()
    assert f"{bad}: line 2" in captured.err and len(captured.err.strip().splitlines()) == 1
    assert "read-1.edn: linearizable" in captured.out and "read-2.edn: not-linearizable" in captured.out
    assert main(["check-history", good, str(bad), "--model", "register", "--json"]) == 3
    rows = json.loads(capsys.readouterr().out)
    assert [r["verdict"] for r in rows] == ["linearizable", "error"] and f"{bad}: line 2" in rows[1]["error"]
    assert main(["check-history", str(tmp_path / "missing.edn"), "--model", "register"]) == 3
    capsys.readouterr()
    # argparse: an unknown --format is a usage error, exit 3, one line (not the usage text)
    assert main(["check-history", str(bad), "--model", "register", "--format", "yaml"]) == 3
    err = capsys.readouterr().err
    assert "--format" in err and "porcupine-kv" in err and err.count("\n") == 1


def test_html_writes_a_timeline_per_file(tmp_path, capsys):
    pytest.importorskip("faultlab.report.timeline")
    out = tmp_path / "html"
    files = [str(_edn(tmp_path, 1)), str(_edn(tmp_path, 2))]
    assert main(["check-history", *files, "--model", "register", "--html", str(out), "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert sorted(p.name for p in out.iterdir()) == ["read-1.html", "read-2.html"]
    assert all(Path(r["html"]).exists() for r in rows)


# -- --check: the history checkers of invariants/ ------------------------------------------------------------------

def _writes_then_read(tmp_path: Path, read_value: int) -> Path:
    path = tmp_path / f"raw-{read_value}.edn"
    path.write_text("{:type :invoke, :f :write, :value 1, :process 0}\n{:type :ok, :f :write, :value 1, :process 0}\n"
                    "{:type :invoke, :f :write, :value 2, :process 0}\n{:type :ok, :f :write, :value 2, :process 0}\n"
                    "{:type :invoke, :f :read, :value nil, :process 1}\n"
                    f"{{:type :ok, :f :read, :value {read_value}, :process 1}}\n")
    return path


def test_a_named_checker_judges_each_file_and_exits_with_the_worst(tmp_path, capsys):
    good, stale = str(_writes_then_read(tmp_path, 2)), str(_writes_then_read(tmp_path, 1))
    assert main(["check-history", good, "--checker", "read-after-write"]) == 0
    assert "ok by session/read-after-write (3 operations" in capsys.readouterr().out
    assert main(["check-history", good, stale, "--checker", "session/read-after-write", "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert [r["verdict"] for r in rows] == ["ok", "violated"] and rows[1]["checker"] == "session/read-after-write"
    assert rows[1]["witness"]  # says which write the read missed


def test_a_checker_with_nothing_to_judge_is_unknown_not_a_pass(tmp_path, capsys):
    path = tmp_path / "writes.edn"
    path.write_text("{:type :invoke, :f :write, :value 1, :process 0}\n{:type :ok, :f :write, :value 1, :process 0}\n")
    assert main(["check-history", str(path), "--checker", "read-after-write"]) == 2
    assert ": unknown by session/read-after-write" in capsys.readouterr().out


@pytest.mark.parametrize("argv, says", [
    (["--checker", "no-such-checker"], "unknown --check 'no-such-checker'; the checkers are: "),
    (["--check", "read-after-write", "--initial", "0"], "--initial applies to --model"),
    ([], "needs --model MODEL (linearizability) or --check NAME"),
])
def test_checker_usage_errors_exit_3_with_one_line(tmp_path, capsys, argv, says):
    assert main(["check-history", str(_writes_then_read(tmp_path, 2)), *argv]) == 3
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1


def test_list_checkers_names_every_checker_with_what_it_judges(capsys):
    from faultlab.checkers import history_checkers

    assert main(["check-history", "--list-checkers"]) == 0
    out = capsys.readouterr().out.splitlines()
    table = history_checkers()
    assert len(out) == len(table) >= 20
    assert all(c.doc for c in table), [c.qualified for c in table if not c.doc]  # each says what it judges


def test_every_listed_checker_takes_a_history_alone():
    from faultlab.checkers import history_checkers
    from faultlab.history import History
    from faultlab.result import CheckResult

    for c in history_checkers():
        result = c.check(History())
        assert isinstance(result, CheckResult) and not result.violated, c.qualified


def test_checks_repeat_and_combine_with_a_model_one_row_each(tmp_path, capsys):
    stale = str(_writes_then_read(tmp_path, 1))
    argv = ["check-history", stale, "--model", "register", "--check", "read-after-write", "--check",
            "monotonic-reads", "--json"]
    assert main(argv) == 1
    rows = json.loads(capsys.readouterr().out)
    assert [(r.get("model"), r.get("checker"), r["verdict"]) for r in rows] == [
        ("register", None, "not-linearizable"), (None, "session/read-after-write", "violated"),
        (None, "session/monotonic-reads", "unknown")]  # one read: nothing for monotonic reads to judge
