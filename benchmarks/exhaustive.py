"""Exhaustive search against random search, per protocol and variant, on a small configuration.

For every variant (or those named): ``exhaust`` up to ``--depth`` (default 1) with a small workload (2 clients x 1
operation, 300 steps), at most ``--max-runs`` runs, and the default Hypothesis search on the same workload. Prints
what each explored and how long it took: for a known-bad variant, which found it first (runs, seconds, and the
depth of the schedule exhaustive search found); for a good one, whether every schedule up to the depth held, with
the number of schedules, pruned runs and states.

    python benchmarks/exhaustive.py [PROTOCOL[:VARIANT] ...] [--depth 1] [--max-runs 3000] [--examples 150]
"""

from __future__ import annotations

import argparse
import time

from faultlab.exhaustive import exhaust
from faultlab.explore import explore
from faultlab.registry import all_protocols, get_protocol
from faultlab.runtime import RunSettings


def cases(names: list[str]):
    if not names:
        for p in all_protocols():
            for v in p.variants:
                yield p, v
        return
    for name in names:
        proto, _, variant = name.partition(":")
        p = get_protocol(proto)
        for v in p.variants:
            if not variant or v.name == variant:
                yield p, v


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("names", nargs="*")
    ap.add_argument("--depth", type=int, default=1)
    ap.add_argument("--max-runs", type=int, default=3000)
    ap.add_argument("--examples", type=int, default=150)
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--ops", type=int, default=1)
    args = ap.parse_args()
    print(f"workload: {args.clients} clients x {args.ops} operations, 300 steps; exhaustive depth <= {args.depth}, "
          f"at most {args.max_runs} runs; random: Hypothesis, {args.examples} schedules, seed 0")
    print("| protocol | variant | expect | exhaustive | runs+pruned | states | s | depth found | random | found after "
          "| s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for p, v in cases(args.names):
        config = p.make_config(v.settings)
        settings = RunSettings(clients=args.clients, ops_per_client=args.ops, max_steps=300).for_variant(v)
        inv = v.promised(p)
        start = time.perf_counter()
        ex = exhaust(p, config, settings=settings, depth=args.depth, invariants=inv, max_runs=args.max_runs,
                     shrink=False)
        ex_s = time.perf_counter() - start
        start = time.perf_counter()
        rnd = explore(p, config, examples=args.examples, seed=0, settings=settings, invariants=inv, shrink=False)
        rnd_s = time.perf_counter() - start
        print(f"| {p.name} | {v.name} | {'refuted' if v.expect_violation else 'held'} | {ex.verdict} | "
              f"{ex.runs}+{ex.pruned} | {ex.states} | {ex_s:.1f} | "
              f"{ex.failure_depth if ex.failure_depth is not None else ''} | {rnd.verdict} | "
              f"{rnd.found_after if rnd.found_after is not None else ''} | {rnd_s:.1f} |", flush=True)


if __name__ == "__main__":
    main()
