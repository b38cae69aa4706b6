"""Benchmark: the linearizability checker on porcupine's recorded histories, against a baseline in the same run.

Workloads: the 102 etcd histories (cas-register; plus the empty etcd_095) and the two c50 kv histories (about
2,000 operations each). For each, three figures are measured here:

* faultlab: ``check_linearizable`` (memoized WGL, P-compositional), check time only, then load + check;
* the whole process, ``python -m faultlab.cli check-history ...`` as a subprocess (what porcupine's figure is);
* the baseline: the same WGL search without memoization, without partitioning and without the two prunings
  (interchangeable unobserved ops, forced no-op ops), with a per-history budget; the ratio is taken on the subset
  of histories the baseline finishes, and the subset is printed.

Porcupine's figures (Go, whole ``go test`` process: 0.46 s etcd, 0.26 s c50 kv) are reference figures stated by the
issue, not measured here. Timings on a shared machine are noisy, so every faultlab figure is the best of
``REPEATS`` runs; the search steps are printed too, since they do not depend on the machine.

Run: ``python benchmarks/bench_checkers.py``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from faultlab.importers import load_history  # noqa: E402
from invariants.linearizability import _run_interleaved, _Search, check_linearizable  # noqa: E402
from models import get_model  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "histories" / "porcupine"
PORCUPINE_SECONDS = {"etcd (102)": 0.46, "kv c50 (2)": 0.26}
BASELINE_BUDGET_SECONDS = 1.0
REPEATS = 3


def _baseline(history, model) -> bool | None:
    """Plain WGL: one search over all operations, no memo, no pruning; None if it runs out of budget."""
    ops = [op for op in history.operations() if op.status != "fail" or op.f in model.failures_checked]
    search = _Search(ops, model, model.init, memoize=False, heuristics=False)
    outcome = _run_interleaved([search], time.monotonic() + BASELINE_BUDGET_SECONDS, None, 1 << 62)
    return outcome.decided.get(0)


def _whole_process(files: list[Path], model: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "faultlab.cli", "check-history", *map(str, files), "--model", model],
                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def main() -> int:
    if not DATA.exists():
        print(f"no histories at {DATA}: they come from porcupine's test_data (github.com/anishathalye/porcupine)")
        return 1
    workloads = {
        "etcd (102)": (sorted((DATA / "jepsen").glob("etcd_*.log")), "cas-register"),
        "kv c50 (2)": ([DATA / "kv" / "c50-ok.txt", DATA / "kv" / "c50-bad.txt"], "kv"),
    }
    rows = []
    for name, (files, model_name) in workloads.items():
        model = get_model(model_name)
        load, check_times, whole = float("inf"), [float("inf")] * len(files), float("inf")
        for _ in range(REPEATS):
            started = time.perf_counter()
            histories = [load_history(f) for f in files]
            load = min(load, time.perf_counter() - started)
            verdicts, steps = [], 0
            for k, h in enumerate(histories):
                started = time.perf_counter()
                result = check_linearizable(h, model)
                check_times[k] = min(check_times[k], time.perf_counter() - started)
                verdicts.append(result.verdict.value)
                steps += result.witness.get("steps", 0)
            whole = min(whole, _whole_process(files, model_name))
        base_ours, base_time, finished = 0.0, 0.0, 0
        for h, ours in zip(histories, check_times, strict=True):
            if not h:
                continue
            started = time.perf_counter()
            decided = _baseline(h, model)
            if decided is not None:
                base_time += time.perf_counter() - started
                base_ours += ours
                finished += 1
        rows.append((name, sum(check_times), load, whole, base_ours, base_time, finished, len(histories),
                     PORCUPINE_SECONDS[name], verdicts, steps))
    print(f"{'workload':<12} {'check s':>8} {'load s':>7} {'process s':>9} {'vs porcupine':>13} "
          f"{'baseline subset':>16} {'ours s':>7} {'base s':>7} {'speedup':>8}")
    for name, check, load, whole, base_ours, base_time, finished, n, ref, verdicts, steps in rows:
        speedup = f"{base_time / base_ours:.1f}x" if base_ours else "n/a"
        print(f"{name:<12} {check:>8.3f} {load:>7.3f} {whole:>9.3f} {whole / ref:>12.2f}x "
              f"{f'{finished}/{n} finish':>16} {base_ours:>7.3f} {base_time:>7.3f} {speedup:>8}")
        counts = {v: verdicts.count(v) for v in sorted(set(verdicts))}
        print(f"{'':<12} verdicts: {counts}; {steps} search steps; in-process load + check vs porcupine's whole "
              f"process: {(load + check) / ref:.2f}x")
    print(f"porcupine reference (Go, whole process, not measured here): "
          f"{', '.join(f'{k} {v} s' for k, v in PORCUPINE_SECONDS.items())}. 'vs porcupine' = our whole process / "
          f"reference (below 1 is faster). Baseline: plain WGL without memoization, partitions or pruning, "
          f"{BASELINE_BUDGET_SECONDS:g} s budget per history; speedup is measured on the histories it finishes. "
          f"faultlab figures: best of {REPEATS}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
