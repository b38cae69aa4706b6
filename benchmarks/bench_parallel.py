"""Throughput of one exploration with 1 and N workers (and on a Dask cluster), measured in the same run.

Explores held configurations (every shard runs, so the work is fixed) and prints schedules per second and the
ratio to one worker; it also checks that every runner gave the same coverage, since a faster wrong answer is no
answer.

    python benchmarks/bench_parallel.py [--workers 2] [--examples 600] [--scheduler tcp://HOST:PORT]
"""

from __future__ import annotations

import argparse
import time

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=max(2, default_workers()))
    ap.add_argument("--examples", type=int, default=600)
    ap.add_argument("--scheduler")
    args = ap.parse_args()
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
