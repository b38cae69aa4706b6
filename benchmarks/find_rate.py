"""How reliably does `faultlab check` find each known-bad variant? Runs the exploration verify runs, for 10 seeds.

Each variant is explored exactly as `faultlab verify` and `faultlab check --variant` explore it: its own fault kinds
and limits (RunSettings.for_variant), the known-bad budget (budget_for: KNOWN_BAD_SEARCH times the profile's) and
the invariants it promises.

Prints, per known-bad variant: seeds on which the violation was found, the median and worst number of runs until
it was found, and (with --shrink) the median size of the shrunk trace. `faultlab check` must find every known-bad
variant on every seed with its default budget, not by luck.

    python benchmarks/find_rate.py [--seeds 10] [--examples 150] [--shrink] [--variant V] [PROTOCOL ...]
"""

from __future__ import annotations

import argparse
import statistics
import time

from faultlab.explore import KNOWN_BAD_SEARCH, budget_for, explore
from faultlab.registry import all_protocols, get_protocol
from faultlab.runtime import RunSettings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("protocols", nargs="*")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--examples", type=int, default=150, help="the dev profile budget (ci uses 200)")
    ap.add_argument("--shrink", action="store_true")
    ap.add_argument("--variant")
    args = ap.parse_args()
    protocols = [get_protocol(n) for n in args.protocols] if args.protocols else all_protocols()
    print(f"budget per known-bad variant: {args.examples} x {KNOWN_BAD_SEARCH} schedules")
    print(f"{'protocol':18} {'variant':22} {'found':>7} {'median runs':>11} {'worst':>6} {'events':>7} {'ops':>4} "
          f"{'seconds':>8}")
    for protocol in protocols:
        for v in protocol.variants:
            if not v.expect_violation or (args.variant and v.name != args.variant):
                continue
            config = protocol.make_config(v.settings)
            found, runs, events, ops = 0, [], [], []
            start = time.perf_counter()
            for seed in range(args.seeds):
                exp = explore(protocol, config, examples=budget_for(v, args.examples), seed=seed,
                              shrink=args.shrink, settings=RunSettings().for_variant(v), invariants=v.promised(protocol))
                if exp.failure is not None:
                    found += 1
                    runs.append(exp.found_after)
                    events.append(len(exp.failure.events))
                    ops.append(len(exp.failure.history.operations()))
            secs = time.perf_counter() - start
            med = statistics.median(runs) if runs else "-"
            print(f"{protocol.name:18} {v.name:22} {found:>3}/{args.seeds:<3} {med:>11} {max(runs, default='-'):>6} "
                  f"{statistics.median(events) if events else '-':>7} {statistics.median(ops) if ops else '-':>4} "
                  f"{secs:8.1f}", flush=True)


if __name__ == "__main__":
    main()
