"""``faultlab check``: explore a protocol configuration under faults; exit 1 with a shrunk trace on a violation.

Exit codes: 0 no invariant violated and the exploration exercised what it should; 1 a violation (the trace is
written under ``--out`` and the replay command printed); 2 no violation but the runs were vacuous (never
acknowledged a write, never injected an enabled fault kind): nothing was shown; 3 a usage or input error; 4 a run
did not repeat when Hypothesis re-ran it (nondeterminism: a bug). The printed replay command works as printed: it
names ``--protocol`` when the protocol was loaded as ``module:ATTRIBUTE``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from faultlab.cli import int_in
from faultlab.commands.options import (
    MAX_EXAMPLES,
    MAX_SEED,
    add_engine_arguments,
    add_parallel_arguments,
    add_protocol_arguments,
    describe_config,
    make_runner,
    resolve,
    run_settings,
)
from faultlab.errors import ConfigError
from faultlab.exhaustive import DEFAULT_DEPTH, DEFAULT_MAX_RUNS, exhaust
from faultlab.explore import budget_for, explore
from faultlab.profiles import get_profile
from faultlab.report.run import replay_command, save_exhaustive_failure, save_failure


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="explore a protocol under faults and report violations")
    add_protocol_arguments(p)
    p.add_argument("--examples", type=int_in(1, MAX_EXAMPLES), help="schedules to explore (default: the profile's)")
    p.add_argument("--seed", type=int_in(0, MAX_SEED), default=0, help="seed of the exploration (default 0)")
    p.add_argument("--profile", help="dev, ci or thorough (default: ci when CI is set, else dev)")
    p.add_argument("--out", type=Path, default=Path("reports/traces"), help="where traces go")
    p.add_argument("--invariant", action="append",
                   help="judge only these invariants (repeatable; default: what --variant promises, else all)")
    p.add_argument("--no-shrink", action="store_true",
                   help="stop at the first violation without shrinking it (faster; the trace is longer)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--exhaustive", action="store_true",
                   help="run every schedule up to --depth instead of sampling (small workloads: 2 clients, 1 "
                        "operation each unless --clients/--ops say otherwise)")
    p.add_argument("--depth", type=int_in(0, 8), default=DEFAULT_DEPTH,
                   help=f"with --exhaustive: decisions (faults, operations) that differ from the simplest run "
                        f"(default {DEFAULT_DEPTH})")
    p.add_argument("--max-runs", type=int_in(1, 10_000_000), default=DEFAULT_MAX_RUNS,
                   help=f"with --exhaustive: stop after this many runs, saying the search is incomplete "
                        f"(default {DEFAULT_MAX_RUNS})")
    add_engine_arguments(p)
    add_parallel_arguments(p)
    p.set_defaults(run=run)


EXIT = {"refuted": 1, "held": 0, "vacuous": 2, "unknown": 2, "incomplete": 2}


def run(args: argparse.Namespace) -> int:
    if args.exhaustive:
        return run_exhaustive(args)
    protocol, config, variant = resolve(args)
    settings = run_settings(args, variant)
    examples = args.examples if args.examples is not None else budget_for(variant, get_profile(args.profile).examples)
    # What is judged: --invariant, else what the variant promises (or breaks, for a known-bad one), else the
    # protocol's default set. Unknown names fail early with the list of valid ones.
    invariants = protocol.judged(tuple(args.invariant) if args.invariant else
                                 variant.promised(protocol) if variant else None)
    with make_runner(args) as runner:
        exp = explore(protocol, config, examples=examples, seed=args.seed, settings=settings,
                      invariants=invariants, shrink=not args.no_shrink, runner=runner)
    path = save_failure(exp, args.out, variant.name if variant else None) if exp.failure else None
    code = EXIT[exp.verdict]
    if args.json:
        print(json.dumps({"protocol": protocol.name, "config": describe_config(protocol, config),
                          "verdict": exp.verdict, "runs": exp.coverage.runs, "runs_total": exp.runs_total,
                          "found_after": exp.found_after, "trace": str(path) if path else None,
                          "missing_witnesses": exp.missing_witnesses(), "coverage": exp.coverage.to_json(),
                          "violations": [c.to_json() for c in exp.failure.violations] if exp.failure else []},
                         indent=2))
        return code
    print(f"{protocol.name} ({describe_config(protocol, config)}): {exp.summary()} "
          f"[{exp.runs_total} runs in {exp.seconds:.1f}s, seed {args.seed}]")
    if exp.failure is not None:
        if exp.failure.error:
            print(f"  the protocol raised: {exp.failure.error}")
        for c in exp.failure.violations:
            print(f"  {c.invariant}: violated\n    {c.explanation}")
        print(f"  trace:  {path}")
        print(f"  timeline: {path.with_suffix('.html')}")
        print(f"  replay: {replay_command(protocol, path)}")
    elif exp.verdict == "vacuous":
        print("  (exit 2: a run where nothing happened is not a pass; raise --examples or --ops, or check --faults)",
              file=sys.stderr)
    return code


def run_exhaustive(args: argparse.Namespace) -> int:
    if args.workers not in (None, 1) or args.scheduler is not None:
        raise ConfigError("--exhaustive runs in one process (its pruning shares one table of states); leave out "
                          "--workers and --scheduler")
    protocol, config, variant = resolve(args)
    settings = run_settings(args, variant, search="exhaustive")
    invariants = protocol.judged(tuple(args.invariant) if args.invariant else
                                 variant.promised(protocol) if variant else None)
    ex = exhaust(protocol, config, settings=settings, depth=args.depth, invariants=invariants,
                 max_runs=args.max_runs, shrink=not args.no_shrink)
    path = save_exhaustive_failure(ex, args.out, variant.name if variant else None) if ex.failure else None
    code = EXIT[ex.verdict]
    workload = f"{ex.settings.clients} clients x {ex.settings.ops_per_client} operations, {ex.settings.max_steps} steps"
    if args.json:
        print(json.dumps({"protocol": protocol.name, "config": describe_config(protocol, config), "search": "exhaustive",
                          "workload": workload, **ex.to_json(), "trace": str(path) if path else None,
                          "missing_witnesses": ex.exploration.missing_witnesses(),
                          "violations": [c.to_json() for c in ex.failure.violations] if ex.failure else []},
                         indent=2))
        return code
    print(f"{protocol.name} ({describe_config(protocol, config)}; {workload}): {ex.summary()} "
          f"[{ex.seconds:.1f}s]")
    if ex.failure is not None:
        for c in ex.failure.violations:
            print(f"  {c.invariant}: violated\n    {c.explanation}")
        print(f"  trace:  {path}")
        print(f"  replay: {replay_command(protocol, path)}")
    return code
