"""Throughput of one exploration with 1 and N workers (and on a Dask cluster), measured in the same run.

Explores held configurations (every shard runs, so the work is fixed) and prints schedules per second and the
ratio to one worker; it also checks that every runner gave the same coverage, since a faster wrong answer is no
answer.

    python benchmarks/bench_parallel.py [--workers 2] [--examples 600] [--scheduler tcp://HOST:PORT]
    python benchmarks/bench_parallel.py --verify [--workers 2]

``--verify`` times the main job instead: ``faultlab verify`` (every protocol, the default profile) with 1 worker and
with N, each in a fresh process writing its own reports, prints the wall time ratio and checks that the rows, claims
and trace bytes are the same.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from faultlab.explore import explore
from faultlab.parallel import Runner, default_workers
from faultlab.registry import get_protocol
from faultlab.runtime import RunSettings

CASES = (("quorum-register", "strict-quorum"), ("dynamodb", "raft-leader"))


def run(runner: Runner | None, examples: int) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    coverage = []
    for name, variant in CASES:
        protocol = get_protocol(name)
        v = protocol.variant(variant)
        exp = explore(protocol, protocol.make_config(v.settings), examples=examples, seed=0,
                      settings=RunSettings().for_variant(v), invariants=v.promised(protocol), runner=runner)
        assert exp.verdict == "held", exp.summary()
        coverage.append(exp.coverage.to_json())
    return time.perf_counter() - start, coverage


def _timeless(doc):
    if isinstance(doc, dict):
        return {k: _timeless(v) for k, v in doc.items() if k not in ("seconds", "trace", "replay")}
    if isinstance(doc, list):
        return [_timeless(v) for v in doc]
    return doc


def verify_once(workers: int, out: Path) -> tuple[float, object]:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sys; from faultlab.cli import main; sys.exit(main(sys.argv[1:]))",
                    "verify", "--workers", str(workers), "--out", str(out)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    secs = time.perf_counter() - start
    result = (_timeless(json.loads((out / "verify.json").read_text())),
              _timeless(json.loads((out / "claims.json").read_text())),
              {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((out / "traces").iterdir())})
    return secs, result


def bench_verify(workers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base, want = verify_once(1, Path(tmp) / "1")
        print(f"faultlab verify, 1 worker: {base:.1f}s  (baseline)")
        secs, got = verify_once(workers, Path(tmp) / str(workers))
        same = "same rows, claims and trace bytes" if got == want else "DIFFERENT RESULTS (a bug)"
        print(f"faultlab verify, {workers} workers: {secs:.1f}s = {secs / base:.2f}x the baseline's wall time; {same}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=max(2, default_workers()))
    ap.add_argument("--examples", type=int, default=600)
    ap.add_argument("--scheduler")
    ap.add_argument("--verify", action="store_true", help="time `faultlab verify` with 1 and N workers")
    args = ap.parse_args()
    if args.verify:
        bench_verify(args.workers)
        return
    total = args.examples * len(CASES)
    base, want = run(None, args.examples)
    print(f"1 worker (this process): {total} schedules in {base:.1f}s = {total / base:.1f}/s  (baseline)")
    rows = [(f"{args.workers} local workers", Runner(workers=args.workers))]
    if args.scheduler:
        rows.append((f"Dask at {args.scheduler}", Runner(scheduler=args.scheduler)))
    for label, runner in rows:
        with runner:
            secs, got = run(runner, args.examples)
        same = "same coverage" if got == want else "DIFFERENT COVERAGE (a bug)"
        print(f"{label}: {total} schedules in {secs:.1f}s = {total / secs:.1f}/s, {base / secs:.2f}x the "
              f"baseline; {same}")


if __name__ == "__main__":
    main()
