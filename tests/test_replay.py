"""Trace names never collide between different runs, and the same run always gets the same name."""

from __future__ import annotations

import contextlib
import io

from faultlab.cli import main
from faultlab.explore import Coverage, Exploration
from faultlab.faults import FaultPlan
from faultlab.registry import get_protocol
from faultlab.report.run import trace_name
from faultlab.runtime import RunSettings

QR = get_protocol("quorum-register")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


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
