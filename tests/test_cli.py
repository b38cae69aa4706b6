"""The command line: exit codes scripts rely on, one-line errors, traces that replay."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from faultlab.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list_names_protocols_settings_invariants_and_variants(capsys):
    code, out, _ = run(capsys, "list", "--json")
    assert code == 0
    qr = next(p for p in json.loads(out) if p["name"] == "quorum-register")
    assert {s["name"] for s in qr["settings"]} >= {"n", "r", "w", "read_repair", "ack_before_sync"}
    assert {v["name"] for v in qr["variants"] if v["expect_violation"]} >= {"stale-read", "ack-before-sync"}


def test_check_good_configuration_exits_0(capsys, tmp_path):
    code, out, _ = run(capsys, "check", "quorum-register", "--examples", "40", "--out", str(tmp_path))
    assert code == 0, out
    assert "held over 40 runs" in out
    assert not list(tmp_path.iterdir())


def test_check_bad_configuration_exits_1_writes_trace_and_replays(capsys, tmp_path):
    code, out, _ = run(capsys, "check", "quorum-register", "--set", "r=1", "--set", "w=1", "--examples", "100",
                       "--out", str(tmp_path))
    assert code == 1, out
    (trace,) = tmp_path.glob("*.json")
    assert f"faultlab replay {trace}" in out
    assert "lane" in trace.with_suffix(".html").read_text()  # the timeline page beside the trace
    code, out, _ = run(capsys, "replay", str(trace))
    assert code == 1
    assert "verdict violated" in out and "deliver" in out


def test_vacuous_exploration_is_not_a_pass(capsys, tmp_path):
    code, out, err = run(capsys, "check", "quorum-register", "--ops", "0", "--examples", "5", "--out", str(tmp_path))
    assert code == 2
    assert "vacuous" in out and "write acknowledged" in out


@pytest.mark.parametrize("argv, message", [
    (["check", "no-such-protocol"], "unknown protocol 'no-such-protocol'"),
    (["check", "quorum-register", "--set", "nn=3"], "has no setting 'nn'"),
    (["check", "quorum-register", "--set", "r"], "expected KEY=VALUE"),
    (["check", "quorum-register", "--faults", "explode"], "unknown fault kind 'explode'"),
    (["check", "quorum-register", "--variant", "nope"], "has no variant 'nope'"),
    (["check", "quorum-register", "--profile", "fast"], "unknown profile 'fast'"),
    (["prove", "quorum-register", "--tolerate", "x"], "expected ZONES+NODES"),
])
def test_usage_errors_exit_3_with_one_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 3
    assert message in err and err.count("\n") == 1


def test_unreadable_traces_exit_3_and_diverged_replay_exits_4(capsys, tmp_path):
    missing = tmp_path / "missing.json"
    assert run(capsys, "replay", str(missing))[0] == 3
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"kind": "faultlab-trace", "version": 1, "protocol"')
    code, _, err = run(capsys, "replay", str(corrupt))
    assert code == 3 and "not a JSON trace" in err
    # a real trace, then tampered with: the replay must notice
    code, _, _ = run(capsys, "check", "quorum-register", "--variant", "stale-read", "--examples", "100",
                     "--out", str(tmp_path / "t"))
    assert code == 1
    (trace,) = (tmp_path / "t").glob("*.json")
    doc = json.loads(trace.read_text())
    doc["events"][3]["dst"] = "n9"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(doc))
    code, _, err = run(capsys, "replay", str(tampered))
    assert code == 4 and "event 3 differs" in err
    doc["version"] = 99
    tampered.write_text(json.dumps(doc))
    code, _, err = run(capsys, "replay", str(tampered))
    assert code == 3 and "version 99" in err


def test_prove_exit_codes(capsys):
    code, out, _ = run(capsys, "prove", "quorum-register")
    assert code == 0 and out.count("proved") == 4
    code, out, _ = run(capsys, "prove", "quorum-register", "--set", "r=1", "--set", "w=1")
    assert code == 1 and "refuted" in out and "counterexample" in out


def test_no_shrink_stops_at_the_first_violation_and_keeps_the_shrunk_trace_apart(capsys, tmp_path):
    code, out, _ = run(capsys, "check", "quorum-register", "--variant", "stale-read", "--no-shrink",
                       "--out", str(tmp_path))
    assert code == 1 and "not shrunk:" in out
    (trace,) = tmp_path.glob("*.json")
    assert trace.name.endswith("-unshrunk.json")
    assert run(capsys, "replay", str(trace), "--quiet")[0] == 1


# -- exit codes a script can trust -------------------------------------------------------------------------------
CHECKOUT = Path(__file__).resolve().parents[1]
FLAKY_PROTOCOL = '''
import attrs
from faultlab.protocol import Invariant
from faultlab.result import CheckResult
from protocols.quorum_register import SPEC as _QR

calls = [0]


def _violated_once(history, config):  # nondeterministic: the third run fails, and never again
    calls[0] += 1
    if calls[0] == 3:
        return CheckResult.violation("once", "Let the third call fail. Then it failed: a contradiction!")
    return CheckResult.holds("once")


SPEC = attrs.evolve(_QR, name="flaky-register", invariants=(Invariant("once", _violated_once),), variants=(),
                    claims=())
'''


def test_a_run_that_does_not_repeat_is_nondeterminism_exit_4(capsys, tmp_path, monkeypatch):
    (tmp_path / "flaky_protocol.py").write_text(FLAKY_PROTOCOL)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        code, out, err = run(capsys, "check", "flaky_protocol:SPEC", "--examples", "20", "--out", str(tmp_path))
    finally:
        sys.modules.pop("flaky_protocol", None)
    assert code == 4, out + err
    assert err.startswith("faultlab: nondeterminism: flaky-register: a run did not repeat") and err.count("\n") == 1


def test_an_internal_error_is_exit_5_never_a_verdict(capsys, monkeypatch):
    def broken(args):
        raise KeyError("a bug")

    monkeypatch.setattr("faultlab.commands.list_protocols.run", broken)
    code, out, err = run(capsys, "list")
    assert code == 5 and out == ""
    assert err == "faultlab: internal error (a bug in faultlab, not a verdict): KeyError: 'a bug' " \
                  "(FAULTLAB_DEBUG=1 shows the traceback)\n"
    monkeypatch.setenv("FAULTLAB_DEBUG", "1")
    with pytest.raises(KeyError, match="a bug"):
        main(["list"])


def _through_a_pipe(command: str, reader: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(CHECKOUT), "PYTHONUNBUFFERED": "1"}
    line = f"{shlex.quote(sys.executable)} -m faultlab.cli {command} | {reader}"
    return subprocess.run(["bash", "-o", "pipefail", "-c", line], env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("reader", ["head -1", "head -n 0"])  # head -n 0 leaves before anything is written
def test_a_reader_that_leaves_early_does_not_change_the_exit_code(tmp_path, reader):
    refuted = _through_a_pipe(f"check quorum-register --variant stale-read --no-shrink --out {tmp_path}", reader)
    assert refuted.returncode == 1, refuted.stderr
    assert refuted.stdout.startswith("quorum-register (r=1 w=1): refuted") or reader == "head -n 0"
    assert "Traceback" not in refuted.stderr and "BrokenPipe" not in refuted.stderr
    held = _through_a_pipe(f"check quorum-register --examples 40 --out {tmp_path}", reader)
    assert held.returncode == 0, held.stderr
    usage = _through_a_pipe("check no-such-protocol 2>&1", reader)
    assert usage.returncode == 3
