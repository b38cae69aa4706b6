"""``faultlab list``: protocols, their settings with defaults, invariants and known-bad variants."""

from __future__ import annotations

import argparse
import json

import attrs

from faultlab.registry import all_protocols


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="protocols, settings, invariants and variants")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)


def describe(protocol) -> dict:
    return {
        "name": protocol.name,
        "summary": protocol.summary,
        "settings": [{"name": f.name, "default": f.default, "type": getattr(f.type, "__name__", str(f.type)),
                      "help": f.metadata.get("help", "")} for f in attrs.fields(protocol.config_class)],
        "invariants": [{"name": i.name, "description": i.description} for i in protocol.invariants],
        "faults": list(protocol.faults),
        "links": protocol.links,
        "variants": [{"name": v.name, "settings": dict(v.settings), "description": v.description,
                      "expect_violation": v.expect_violation, "links": v.links or protocol.links}
                     for v in protocol.variants],
    }


def run(args: argparse.Namespace) -> int:
    protocols = [describe(p) for p in all_protocols()]
    if args.json:
        print(json.dumps(protocols, indent=2))
        return 0
    for p in protocols:
        print(f"{p['name']}: {p['summary']}")
        print("  settings:")
        for s in p["settings"]:
            print(f"    {s['name']}={json.dumps(s['default'])}  {s['help']}")
        print("  invariants:")
        for i in p["invariants"]:
            print(f"    {i['name']}: {i['description']}")
        print(f"  faults: {', '.join(p['faults'])} (over {p['links']} links)")
        print("  variants:")
        for v in p["variants"]:
            settings = " ".join(f"--set {k}={json.dumps(x)}" for k, x in v["settings"].items())
            kind = f"known-bad, breaks {v['expect_violation']}" if v["expect_violation"] else "good"
            links = f", over {v['links']} links" if v["links"] != p["links"] else ""
            print(f"    {v['name']} ({kind}{links}): {v['description']}  [{settings}]")
        print()
    return 0
