"""Determinism is the product: the same seed writes byte-identical traces in other processes, under other hash seeds,
and every trace replays to the same events."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from faultlab.registry import all_protocols, get_protocol
from faultlab.trace import read_trace, replay

WORKER = Path(__file__).with_name("determinism_worker.py")
SEEDS = 12


def _run(args: list[str], hashseed: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("protocol", [p.name for p in all_protocols()])
def test_same_seed_same_trace_bytes_across_processes_and_hash_seeds(tmp_path, protocol):
    for hashseed in ("1", "2"):
        r = _run([sys.executable, str(WORKER), str(tmp_path / hashseed), protocol, str(SEEDS)], hashseed, tmp_path)
        assert r.returncode == 0, r.stderr
    first = sorted((tmp_path / "1").glob("*.json"))
    assert len(first) == SEEDS * len(get_protocol(protocol).variants)
    for path in first:
        other = tmp_path / "2" / path.name
        assert path.read_bytes() == other.read_bytes(), f"{path.name} differs between PYTHONHASHSEED=1 and 2"
    # and every trace replays to exactly the recorded events (replay raises ReplayDivergence otherwise)
    for path in first:
        trace = read_trace(path)
        result = replay(trace, get_protocol(trace.protocol))
        assert result.verdict == trace.verdict


def test_check_writes_identical_shrunk_traces_in_two_processes(tmp_path):
    """The whole pipeline, Hypothesis shrinking included, is a function of the seed."""
    traces = []
    for hashseed in ("3", "4"):
        out = tmp_path / hashseed
        r = _run([sys.executable, "-m", "faultlab.cli", "check", "quorum-register", "--variant", "stale-read",
                  "--examples", "60", "--seed", "7", "--out", str(out)], hashseed, tmp_path)
        assert r.returncode == 1, r.stdout + r.stderr
        (trace,) = out.glob("*.json")
        traces.append(trace)
    assert traces[0].read_bytes() == traces[1].read_bytes()
    r = _run([sys.executable, "-m", "faultlab.cli", "replay", str(traces[0]), "--quiet"], "5", tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "verdict violated" in r.stdout
