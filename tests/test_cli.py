"""The command line: exit codes scripts rely on, one-line errors, traces that replay."""

from __future__ import annotations

import json

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
