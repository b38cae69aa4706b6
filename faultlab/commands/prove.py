"""``faultlab prove PROTOCOL``: z3 proofs about the quorums of exactly the configuration the protocol runs.

By default: every read quorum meets every write quorum, every two write quorums meet, and (with zones) reads and
writes survive the loss of one zone. ``--tolerate ZONES+NODES[:read|write]`` adds "survives losing ZONES whole zones
plus NODES more replicas". Exit 0 when everything is proved, 1 when something is refuted (the counterexample is
printed), 2 when z3 could not decide.
"""

from __future__ import annotations

import argparse
import json

from faultlab.commands.options import add_protocol_arguments, describe_config, resolve
from faultlab.proofs import proofs_for


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prove", help="z3 proofs of quorum intersection and failure tolerance")
    add_protocol_arguments(p)
    p.add_argument("--tolerate", action="append", default=[], metavar="ZONES+NODES[:OP]",
                   help="also prove tolerance of losing ZONES zones plus NODES replicas, e.g. 1+1 or 0+1:write")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    protocol, config, _ = resolve(args)
    system, results = proofs_for(protocol, config, args.tolerate)
    if args.json:
        print(json.dumps([r.to_json() for r in results], indent=2))
    else:
        print(f"{protocol.name} ({describe_config(protocol, config)}): {system.describe()}")
        for r in results:
            print(f"  {r.verdict:8} {r.claim}")
            if r.verdict != "proved":
                print(f"           {r.explanation}")
                if r.counterexample:
                    print(f"           counterexample: {json.dumps(r.counterexample)}")
    if any(r.verdict == "refuted" for r in results):
        return 1
    return 2 if any(r.verdict == "unknown" for r in results) else 0
