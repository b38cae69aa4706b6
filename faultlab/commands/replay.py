"""``faultlab replay TRACE [--protocol REF]``: re-run a trace, print its timeline and verdict.

The trace's ``protocol`` field is resolved among the registered protocols only: a trace file never makes faultlab
import anything. A protocol loaded as ``package.module:ATTRIBUTE`` is named on the command line, as ``--protocol``
(the replay command ``faultlab check`` prints includes it).

Exit codes: 1 the violation reproduces; 0 it no longer does; 3 the file is unreadable or malformed, or its protocol
is not registered and ``--protocol`` was not given; 4 the replay diverged from the recorded events (the engine or
protocol is nondeterministic, or changed since the trace was written).
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from faultlab.cli import int_in
from faultlab.errors import UnknownProtocolError
from faultlab.importers.json_values import short
from faultlab.registry import get_protocol, is_registered, registered_protocol
from faultlab.trace import format_timeline, read_trace, replay, trace_document


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="re-run a trace and print its timeline and verdict")
    p.add_argument("trace", type=Path, help="a trace file written by `faultlab check`")
    p.add_argument("--protocol", metavar="REF",
                   help="the protocol to replay it with: a registered name, or package.module:ATTRIBUTE (imports "
                        "that module; needed when the trace's protocol is not registered)")
    p.add_argument("--quiet", action="store_true", help="only the verdict, no timeline")
    p.add_argument("--limit", type=int_in(0, 10**9), default=None, help="print at most this many timeline lines")
    p.add_argument("--all", dest="everything", action="store_true",
                   help="every event, not only what the violation depends on (the operations its witness names, "
                        "the messages they caused, every fault)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    trace = read_trace(args.trace)
    if args.protocol is not None:
        protocol = get_protocol(args.protocol)
        if protocol.name != trace.protocol:
            raise UnknownProtocolError(
                f"{trace.path}: --protocol {args.protocol} loads protocol {protocol.name!r}, but the trace is a run "
                f"of {short(trace.protocol)}; give the module:ATTRIBUTE that defines {short(trace.protocol)}")
    elif is_registered(trace.protocol):
        protocol = registered_protocol(trace.protocol)
    else:
        raise UnknownProtocolError(
            f"{trace.path}: the trace's protocol {short(trace.protocol)} is not registered (faultlab.protocols "
            f"entry points), and a trace never makes faultlab import code by itself; if you trust the module that "
            f"defines it, type: faultlab replay {shlex.quote(str(trace.path))} --protocol package.module:ATTRIBUTE")
    result = replay(trace, protocol)
    if not args.quiet:
        print(format_timeline(trace_document(result), limit=args.limit, everything=args.everything))
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
