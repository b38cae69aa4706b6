"""Replay works for every protocol `faultlab check` accepts, the replay command printed works as printed, a trace
file never makes faultlab import code, and trace names never collide between different runs."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from faultlab.claims import Claim, judge
from faultlab.cli import main
from faultlab.explore import Coverage, Exploration
from faultlab.faults import FaultPlan
from faultlab.registry import get_protocol, reference
from faultlab.report.run import replay_command, trace_name
from faultlab.runtime import RunSettings
from faultlab.testing import assert_holds

CHECKOUT = Path(__file__).resolve().parents[1]
QR = get_protocol("quorum-register")
LOCAL = attrs.evolve(QR, name="local-register")  # neither registered nor loaded by module:ATTR


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory):
    """A folder outside the repository with a protocol module and a module that leaves a mark when imported."""
    folder = tmp_path_factory.mktemp("elsewhere")
    (folder / "outside_protocol.py").write_text(
        "import attrs\nfrom protocols.quorum_register import SPEC as _QR\n"
        "SPEC = attrs.evolve(_QR, name='outside-register')\n")
    (folder / "leaves_a_mark.py").write_text(
        f"open({str(folder / 'IMPORTED')!r}, 'w').write('a trace made faultlab import me')\nSPEC = None\n")
    sys.path.insert(0, str(folder))
    yield folder
    sys.path.remove(str(folder))
    for name in ("outside_protocol", "leaves_a_mark"):
        sys.modules.pop(name, None)


@pytest.fixture(scope="module")
def outside_check(elsewhere, tmp_path_factory) -> tuple[str, Path]:
    """``faultlab check outside_protocol:SPEC --variant stale-read``: its output and its trace."""
    out = tmp_path_factory.mktemp("outside")
    code, printed, err = run("check", "outside_protocol:SPEC", "--variant", "stale-read", "--out", str(out))
    assert code == 1, err
    (trace,) = out.glob("*.json")
    return printed, trace


@pytest.fixture(scope="module")
def registered_trace(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("registered")
    assert run("check", "quorum-register", "--variant", "stale-read", "--no-shrink", "--out", str(out))[0] == 1
    (trace,) = out.glob("*.json")
    return trace


def test_a_module_attr_protocol_replays_with_the_command_check_prints(elsewhere, outside_check):
    out, trace = outside_check
    printed = next(line for line in out.splitlines() if line.strip().startswith("replay: "))
    command = shlex.split(printed.split("replay: ", 1)[1])
    assert command == ["faultlab", "replay", str(trace), "--protocol", "outside_protocol:SPEC"]
    code, out, err = run(*command[1:], "--quiet")
    assert code == 1 and "outside-register:" in out and "verdict violated" in out, err
    # and in a fresh process, where nothing is remembered: exactly as printed
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(CHECKOUT), str(elsewhere)])}
    r = subprocess.run([sys.executable, "-m", "faultlab.cli", *command[1:], "--quiet"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "verdict violated" in r.stdout, r.stderr


def test_an_unregistered_protocol_needs_protocol_and_the_names_must_match(outside_check):
    _, trace = outside_check
    code, out, err = run("replay", str(trace))
    assert code == 3 and out == "" and err.count("\n") == 1
    assert '"outside-register" is not registered' in err
    assert f"faultlab replay {trace} --protocol package.module:ATTRIBUTE" in err
    code, _, err = run("replay", str(trace), "--protocol", "quorum-register")
    assert code == 3 and err.count("\n") == 1
    assert "--protocol quorum-register loads protocol 'quorum-register', but the trace is a run of " \
           '"outside-register"' in err


@pytest.mark.parametrize("field", ["leaves_a_mark:SPEC", "leaves_a_mark", "leaves_a_mark:"])
def test_a_trace_never_imports_the_module_its_protocol_field_names(elsewhere, registered_trace, tmp_path, field):
    doc = json.loads(registered_trace.read_text())
    doc["protocol"] = field
    hostile = tmp_path / "someone-elses.json"
    hostile.write_text(json.dumps(doc))
    code, out, err = run("replay", str(hostile))
    assert code == 3 and out == "" and err.count("\n") == 1, err
    assert "is not registered" in err and "--protocol" in err
    assert not (elsewhere / "IMPORTED").exists() and "leaves_a_mark" not in sys.modules
    # the history importer reads a trace's history without looking at its protocol at all
    run("check-history", str(hostile), "--model", "register")
    assert not (elsewhere / "IMPORTED").exists()


def test_replay_commands_say_protocol_only_when_it_is_needed(elsewhere, tmp_path):
    assert replay_command(QR, tmp_path / "a b.json") == f"faultlab replay '{tmp_path}/a b.json'"
    outside = get_protocol("outside_protocol:SPEC")
    assert reference(outside) == reference("outside-register") == "outside_protocol:SPEC"
    assert replay_command(outside, "t.json") == "faultlab replay t.json --protocol outside_protocol:SPEC"
    # a protocol object bound at module level, not loaded by reference: found where it is bound, and loadable
    ref = reference(LOCAL)
    assert ref.endswith(":LOCAL") and get_protocol(ref) is LOCAL


def test_the_replay_commands_of_claims_and_pytest_helpers_name_the_protocol(elsewhere, tmp_path, monkeypatch):
    outside = get_protocol("outside_protocol:SPEC")
    claim = Claim("1", "R=1, W=1 reads its writes", "invariant", variant="stale-read",
                  invariants=("read-after-write",))
    evidence = judge(outside, claim, examples=100, seed=0, traces=tmp_path).evidence
    assert evidence["replay"] == f"faultlab replay {evidence['trace']} --protocol outside_protocol:SPEC"
    monkeypatch.setattr("faultlab.testing.TRACE_DIR", tmp_path / "pytest")
    with pytest.raises(AssertionError) as failed:
        assert_holds(outside, variant="stale-read", examples=100, seed=0)
    assert "--protocol outside_protocol:SPEC" in str(failed.value)


# -- trace names -------------------------------------------------------------------------------------------------
def _exploration(**changes) -> Exploration:
    base = dict(protocol=QR, config=QR.make_config({"r": 1, "w": 1}), settings=RunSettings(), seed=0, examples=600,
                coverage=Coverage(), invariants=("read-after-write",))
    return Exploration(**{**base, **changes})


def test_a_trace_name_is_a_stable_function_of_everything_that_determines_the_run():
    variations = {
        "base": _exploration(),
        "config": _exploration(config=QR.make_config({"r": 1, "w": 1, "read_repair": False})),
        "fault plan": _exploration(settings=RunSettings(plan=FaultPlan(kinds=("partition", "crash")))),
        "no swarm": _exploration(settings=RunSettings(plan=FaultPlan(swarm=False))),
        "clients": _exploration(settings=RunSettings(clients=4)),
        "steps": _exploration(settings=RunSettings(max_steps=1000)),
        "invariants": _exploration(invariants=("read-after-write", "linearizable")),
        "seed": _exploration(seed=1),
        "examples": _exploration(examples=200),
        "unshrunk": _exploration(shrunk=False),
    }
    names = {what: trace_name(exp, "stale-read") for what, exp in variations.items()}
    assert len(set(names.values())) == len(names), names
    assert trace_name(_exploration(), "stale-read") == names["base"]  # same inputs, same name
    for name in names.values():
        assert name.startswith("quorum-register-stale-read-") and len(name) < 60
    assert names["seed"].endswith("-seed1.json") and names["unshrunk"].endswith("-unshrunk.json")


def test_two_runs_of_one_variant_with_different_fault_plans_keep_both_traces(tmp_path):
    argv = ["check", "quorum-register", "--variant", "stale-read", "--no-shrink", "--out", str(tmp_path)]
    assert run(*argv)[0] == 1
    (first,) = tmp_path.glob("*.json")
    written = first.read_bytes()
    assert run(*argv, "--faults", "partition,crash")[0] == 1
    assert len(list(tmp_path.glob("*.json"))) == 2 and first.read_bytes() == written
    assert run(*argv)[0] == 1  # the same run again: the same name, byte for byte the same file
    assert len(list(tmp_path.glob("*.json"))) == 2 and first.read_bytes() == written


def test_the_timeline_shows_what_the_violation_depends_on_and_all_shows_everything(tmp_path, capsys):
    from faultlab.cli import main
    from faultlab.trace import depends_on, read_trace

    # A counterexample with events the violation does not depend on: ack-before-sync's second write, which the crash
    # leaves open, and its messages (36 of 52 events are kept). The stale read shrinks to 2 operations whose every
    # event is part of the violation.
    argv = ["check", "quorum-register", "--variant", "ack-before-sync", "--seed", "0", "--out", str(tmp_path)]
    assert main(argv) == 1
    (path,) = tmp_path.glob("*.json")
    doc = read_trace(path).doc
    keep = depends_on(doc)
    named = {i for c in doc["checks"] if c["verdict"] == "violated" for i in c["witness"]["ops"]}
    assert keep is not None and 0 < len(keep) < len(doc["events"])
    invokes = [e for e in doc["events"] if e["event"] == "invoke"]
    history_invokes = [h["index"] for h in doc["history"] if h["type"] == "invoke"]
    for index, event in zip(history_invokes, invokes, strict=True):  # the witness's operations are shown, no other
        assert (doc["events"].index(event) in keep) == (index in named)
    assert all(i in keep for i, e in enumerate(doc["events"]) if e["event"] in ("delay", "partition", "crash"))
    capsys.readouterr()
    assert main(["replay", str(path)]) == 1
    focused = capsys.readouterr().out
    assert main(["replay", str(path), "--all"]) == 1
    everything = capsys.readouterr().out
    assert f"{len(keep)} of {len(doc['events'])} events" in focused
    assert focused.count("\n") < everything.count("\n") and "--all shows everything" not in everything
