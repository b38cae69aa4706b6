"""``faultlab replay TRACE``: re-run a trace, print its timeline and verdict.

Exit codes: 1 the violation reproduces; 0 it no longer does; 3 the file is unreadable; 4 the replay diverged from
the recorded events (the engine or protocol is nondeterministic, or changed since the trace was written).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from faultlab.cli import int_in
from faultlab.registry import get_protocol
from faultlab.trace import format_timeline, read_trace, replay, trace_document


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="re-run a trace and print its timeline and verdict")
    p.add_argument("trace", type=Path, help="a trace file written by `faultlab check`")
    p.add_argument("--quiet", action="store_true", help="only the verdict, no timeline")
    p.add_argument("--limit", type=int_in(0, 10**9), default=None, help="print at most this many timeline lines")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    trace = read_trace(args.trace)
    protocol = get_protocol(trace.protocol)
    result = replay(trace, protocol)
    if not args.quiet:
        print(format_timeline(trace_document(result), limit=args.limit))
        print()
    ops = result.history.operations()
    print(f"{trace.protocol}: {len(result.events)} events, {len(ops)} operations, verdict {result.verdict} "
          f"(recorded: {trace.verdict})")
    if result.error:
        print(f"  the protocol raised: {result.error}")
    for c in result.checks:
        print(f"  {c.name}: {c.verdict.value}" + ("" if c.exercised else " (nothing to judge)"))
        if not c.ok and c.explanation:
            print(f"    {c.explanation}")
    return 1 if result.verdict == "violated" else 0
