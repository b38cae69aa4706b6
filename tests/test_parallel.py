"""Exploring on several processes and on a Dask cluster gives exactly the results of one process.

An exploration is a fixed list of shards (``shard_plan``); a runner only decides where they run. So the verdict,
found-after count, coverage and shrunk trace bytes of an exploration must not depend on ``--workers`` or on a Dask
worker dying mid-shard.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import attrs
import pytest

from faultlab.cli import main
from faultlab.explore import SHARD_SCHEDULES, explore, shard_plan
from faultlab.parallel import Runner, shippable
from faultlab.registry import get_protocol
from faultlab.report.run import save_failure
from faultlab.runtime import RunSettings
from faultlab.testing import assert_holds

ROOT = Path(__file__).resolve().parents[1]
QR = get_protocol("quorum-register")


def _same(a, b) -> None:
    """Two explorations are the same result: verdict, counts, coverage and the failing run's choices."""
    assert (a.verdict, a.found_after, a.runs_total) == (b.verdict, b.found_after, b.runs_total)
    assert a.coverage.to_json() == b.coverage.to_json()
    assert (a.failure is None) == (b.failure is None)
    if a.failure is not None:
        assert a.failure.choices == b.failure.choices
        assert [repr(e) for e in a.failure.events] == [repr(e) for e in b.failure.events]  # envelopes: by identity


def _timeless(doc):
    """``doc`` without its timings (the only thing allowed to differ between two runs)."""
    if isinstance(doc, dict):
        return {k: _timeless(v) for k, v in doc.items() if k != "seconds"}
    if isinstance(doc, list):
        return [_timeless(v) for v in doc]
    return doc


def _explore(variant: str, examples: int, runner=None, seed: int = 0, shrink: bool = True):
    v = QR.variant(variant)
    return explore(QR, QR.make_config(v.settings), examples=examples, seed=seed, shrink=shrink,
                   settings=RunSettings().for_variant(v), invariants=v.promised(QR), runner=runner)


def test_shard_plan_covers_the_budget_and_starts_from_the_explorations_own_seed():
    for examples in (1, 74, 75, 76, 150, 600, 1001):
        plan = shard_plan(examples, 7)
        assert sum(n for n, _ in plan) == examples
        assert len(plan) == -(-examples // SHARD_SCHEDULES)
        assert max(n for n, _ in plan) - min(n for n, _ in plan) <= 1
        assert plan[0][1] == 7 and len({s for _, s in plan}) == len(plan)
    assert shard_plan(600, 7) == shard_plan(600, 7) and shard_plan(600, 7) != shard_plan(600, 8)


def test_two_workers_give_the_trace_bytes_and_coverage_of_one_process(tmp_path):
    one = _explore("stale-read", 600)
    with Runner(workers=2) as runner:
        two = _explore("stale-read", 600, runner)
        held_two = _explore("strict-quorum", 160, runner)  # three shards, all run, coverage summed
    _same(one, two)
    held_one = _explore("strict-quorum", 160)
    _same(held_one, held_two)
    assert held_two.verdict == "held" and held_two.coverage.runs == 160
    # what backs the held: 160 runs, and how many distinct schedules they were (shards' digests are united)
    assert 100 < held_two.coverage.to_json()["distinct_schedules"] <= 160
    assert f"({len(held_two.coverage.schedules)} distinct schedules)" in held_two.summary()
    a = save_failure(one, tmp_path / "one", "stale-read")
    b = save_failure(two, tmp_path / "two", "stale-read")
    assert a.name == b.name and a.read_bytes() == b.read_bytes()


def test_a_schedule_run_twice_counts_once():
    from faultlab.choices import SeededChoices
    from faultlab.explore import Coverage
    from faultlab.runtime import simulate

    cfg = QR.make_config({})
    a, b = (simulate(QR, cfg, SeededChoices(s), RunSettings()) for s in (1, 2))
    one, two = Coverage(), Coverage()
    one.add(a, QR)
    one.add(a, QR)
    two.add(b, QR)
    one.merge(two)
    assert one.runs == 3 and one.to_json()["distinct_schedules"] == 2


def test_a_failure_in_a_later_shard_counts_the_runs_of_the_shards_before_it():
    """Shard order decides, not which shard finished first: found_after adds up the earlier shards' runs. From seed
    31, no-read-repair is first violated in the fifth shard (after 311 runs; seeds 0-30 find it within 120)."""
    exp = _explore("no-read-repair", 600, seed=31, shrink=False)
    assert exp.found_after > 3 * SHARD_SCHEDULES, exp.found_after  # else pick a seed whose violation comes later
    assert exp.coverage.runs == exp.found_after
    with Runner(workers=2) as runner:
        _same(exp, _explore("no-read-repair", 600, runner, seed=31, shrink=False))


class _Recording(Runner):
    """A runner that notes each submit and how many of its shards were in flight then."""

    def __init__(self) -> None:
        super().__init__(workers=2)
        self.log: list[str] = []
        self.futures: list = []

    def submit(self, fn, *args):
        f = super().submit(fn, *args)
        self.futures.append(f)
        self.log.append(f"submit with {sum(not g.done() for g in self.futures)} in flight")
        return f


def test_no_speculative_shard_runs_while_other_explorations_wait_to_start():
    """A shard after the one awaited may be wasted (the awaited one may fail and end the exploration, and a running
    shard cannot be stopped), so while prefetch has explorations waiting, a second shard is not submitted early; with
    none waiting, the pool is kept full."""
    for waiting, most in ((1, 1), (0, 2)):
        with _Recording() as runner:
            runner.waiting = waiting
            exp = _explore("strict-quorum", 3 * SHARD_SCHEDULES, runner, shrink=False)
        assert exp.verdict == "held" and len(runner.futures) == 3
        assert max(int(line.split()[2]) for line in runner.log) == most, runner.log


def test_check_cli_prints_the_same_result_for_any_number_of_workers(tmp_path, capsys):
    outs = []
    for workers in ("1", "2"):
        code = main(["check", "quorum-register", "--variant", "stale-read", "--workers", workers, "--json",
                     "--out", str(tmp_path / workers)])
        assert code == 1
        doc = json.loads(capsys.readouterr().out)
        doc["trace"] = Path(doc["trace"]).read_bytes().decode()
        outs.append(doc)
    assert outs[0] == outs[1]


def test_a_protocol_no_worker_can_import_is_explored_in_this_process_with_the_same_result():
    local = attrs.evolve(QR, name="qr-built-in-a-function")  # bound to no module-level name: nothing to import
    assert shippable(local) is None and shippable(QR) == "quorum-register"
    v = QR.variant("stale-read")
    kw = dict(examples=200, seed=3, settings=RunSettings().for_variant(v), invariants=v.promised(QR))
    with Runner(workers=2) as runner:
        _same(explore(local, QR.make_config(v.settings), **kw),
              explore(local, QR.make_config(v.settings), runner=runner, **kw))


def test_pytest_helpers_take_workers():
    one = assert_holds(QR, variant="strict-quorum", examples=100, seed=2)
    two = assert_holds(QR, variant="strict-quorum", examples=100, seed=2, workers=2)
    _same(one, two)


def test_verify_rows_and_claims_are_the_same_with_two_workers(tmp_path):
    docs = []
    for workers in ("1", "2"):
        out = tmp_path / workers
        assert main(["verify", "dynamodb-streams", "global-tables", "--examples", "40", "--workers", workers,
                     "--out", str(out)]) == 0
        rows = json.loads((out / "verify.json").read_text())["rows"]
        claims = json.loads((out / "claims.json").read_text())
        rows, claims = _timeless(rows), _timeless(claims)
        for r in rows:
            if r.get("trace"):
                r["trace"] = Path(r["trace"]).read_bytes().decode()
        for c in claims:
            for key in ("trace", "replay"):
                c["evidence"].pop(key, None)
        docs.append((rows, claims))
    assert docs[0] == docs[1]


def test_bad_worker_and_scheduler_options_exit_3_with_one_line(capsys):
    assert main(["check", "quorum-register", "--workers", "0"]) == 3
    assert main(["check", "quorum-register", "--scheduler", "localhost:1"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "tcp://" in err[1]


# --- a real Dask cluster on loopback -------------------------------------------------------------------------------

distributed = pytest.importorskip("distributed", reason="Dask distributed is not installed (pip install -e '.[dev]')")


@pytest.fixture
def cluster(tmp_path):
    """A `dask scheduler` and two `dask worker` processes (one thread each, no nanny: a killed worker stays dead)."""
    if shutil.which("dask") is None:
        pytest.skip("the `dask` command is not on PATH (pip install -e '.[dev]')")
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("FAULTLAB_WORKERS", None)
    file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen(["dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(file)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)]
    try:
        for _ in range(600):
            if file.exists() and file.read_text().strip():
                break
            time.sleep(0.1)
        address = json.loads(file.read_text())["address"]
        for _ in range(2):
            procs.append(subprocess.Popen(["dask", "worker", address, "--nthreads", "1", "--no-nanny",
                                           "--no-dashboard"], env=env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, start_new_session=True))
        with Runner(scheduler=address) as runner:  # connects as the tests will, and waits for both workers
            runner._client.wait_for_workers(2, timeout=120)
        yield address, procs
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def test_a_dask_cluster_gives_the_results_of_one_process_even_when_a_worker_dies(cluster, tmp_path):
    address, procs = cluster
    bad_local = _explore("stale-read", 600)
    held_local = _explore("strict-quorum", 300)  # four shards
    with Runner(scheduler=address) as runner:
        assert runner.workers == 2
        _same(bad_local, _explore("stale-read", 600, runner))
        # kill one worker while it is running a shard: Dask re-runs the shard elsewhere, and it is counted once
        client = distributed.Client(address, timeout=30)
        pids = client.run(os.getpid)
        killed: list[str] = []

        def kill_a_busy_worker() -> None:
            for _ in range(1200):
                busy = [w for w, tasks in client.processing().items() if tasks]
                if busy:
                    os.kill(pids[busy[0]], signal.SIGKILL)
                    killed.append(busy[0])
                    return
                time.sleep(0.05)

        killer = threading.Thread(target=kill_a_busy_worker)
        killer.start()
        held_remote = _explore("strict-quorum", 300, runner)
        killer.join()
        client.close()
    assert killed, "no worker was ever busy"
    _same(held_local, held_remote)
    assert held_remote.verdict == "held" and held_remote.coverage.runs == 300


def test_verify_on_a_dask_cluster_matches_the_local_run(cluster, tmp_path):
    address, _ = cluster
    code = subprocess.run([sys.executable, "-m", "faultlab.cli", "check", "quorum-register", "--variant",
                           "stale-read", "--scheduler", address, "--json", "--out", str(tmp_path / "dask")],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    local = subprocess.run([sys.executable, "-m", "faultlab.cli", "check", "quorum-register", "--variant",
                            "stale-read", "--workers", "1", "--json", "--out", str(tmp_path / "local")],
                           capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert code.returncode == local.returncode == 1, code.stderr
    a, b = json.loads(code.stdout), json.loads(local.stdout)
    assert Path(a.pop("trace")).read_bytes() == Path(b.pop("trace")).read_bytes()
    assert a == b
