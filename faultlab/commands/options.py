"""Command-line options shared by several commands: protocol settings, variants and engine limits."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import attrs

from faultlab.cli import int_in
from faultlab.errors import ConfigError
from faultlab.faults import FaultPlan, parse_fault_kinds
from faultlab.parallel import Runner, default_workers
from faultlab.profiles import Profile, get_profile
from faultlab.protocol import Protocol, Variant, config_to_json
from faultlab.registry import all_protocols, get_protocol
from faultlab.runtime import RunSettings
from faultlab.trace_schema import LIMITS

MAX_EXAMPLES = 10_000_000  # schedules per exploration: days of work, still an integer Hypothesis takes
MAX_SEED = 2**63 - 1  # a seed is part of every trace's file name


def add_protocol_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("protocol", help="a protocol name from `faultlab list`, or module:ATTRIBUTE")
    p.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                   help="a protocol setting, e.g. --set n=3 --set ack_before_sync=true (repeatable)")
    p.add_argument("--variant", help="start from a named variant's settings (see `faultlab list`)")


def add_engine_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--faults", default="all", metavar="KINDS",
                   help="fault kinds to inject: comma-separated from drop,duplicate,delay,partition,crash,skew,"
                        "lose_unsynced,torn_write,destroy, or 'all' or 'none' (default: all the protocol supports)")
    p.add_argument("--clients", type=int_in(1, LIMITS["clients"]), default=None,
                   help="concurrent client processes (default 3; 2 with --exhaustive)")
    p.add_argument("--ops", type=int_in(0, LIMITS["ops_per_client"]), default=None,
                   help="operations per client at most (default 6; 1 with --exhaustive)")
    p.add_argument("--max-steps", type=int_in(1, LIMITS["max_steps"]), default=None,
                   help="deliveries and faults per run at most (default 1500; 300 with --exhaustive)")
    p.add_argument("--max-crashes", type=int_in(0, LIMITS["max_crashes"]), default=4,
                   help="crashes per run at most")
    p.add_argument("--max-destroyed-zones", type=int_in(0, 100), default=None,
                   help="zones a destroy fault may wipe for good per run (default 1, or the variant's budget)")
    p.add_argument("--max-destroyed-nodes", type=int_in(0, 1000), default=None,
                   help="single disks a destroy fault may wipe for good per run (default 1, or the variant's)")
    p.add_argument("--no-swarm", action="store_true", help="enable every fault kind in every run")
    p.add_argument("--undirected", action="store_true", help="uniform fault targets, no aiming after acks")
    p.add_argument("--links", choices=("stream", "datagram"), default=None,
                   help="link model: stream (TCP-like: in order, never twice, loss resets a connection) or datagram "
                        "(loss, duplication, reordering); default: what the protocol or variant declares")


def add_parallel_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=int_in(1, 4096), default=None,
                   help="processes to explore on (default: this machine's cores); results are the same for any "
                        "number")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                   help="explore on a Dask cluster at this scheduler address instead of local processes "
                        "(pip install 'faultlab[dask]')")


def make_runner(args: argparse.Namespace) -> Runner:
    """Where explorations run, from --workers and --scheduler."""
    if args.scheduler is not None:
        if not str(args.scheduler).startswith(("tcp://", "tls://", "inproc://", "ucx://")):
            raise ConfigError(f"--scheduler {args.scheduler!r}: give a Dask scheduler address like "
                              f"tcp://127.0.0.1:8786")
        return Runner(scheduler=args.scheduler)
    return Runner(workers=args.workers if args.workers is not None else default_workers())


def parse_settings(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {pair!r}: expected KEY=VALUE, e.g. --set n=3")
        out[key.strip()] = value.strip()
    return out


def resolve(args: argparse.Namespace) -> tuple[Protocol, Any, Variant | None]:
    """The protocol, its validated configuration and the variant it started from (if any)."""
    protocol = get_protocol(args.protocol)
    variant = protocol.variant(args.variant) if getattr(args, "variant", None) else None
    settings = dict(variant.settings) if variant else {}
    settings.update(parse_settings(args.settings))
    config = protocol.make_config(settings)
    for key, value in config_to_json(config).items():  # a trace must hold it, and JSON has no NaN or infinity
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"--set {key}={settings.get(key, value)}: {protocol.name}'s setting {key} must be a "
                              f"finite number")
    return protocol, config, variant


# The workload of a search when the command line does not give one: an exploration's, and a smaller one for an
# exhaustive search, whose schedules grow exponentially with the workload.
WORKLOAD = {"explore": (3, 6, 1500), "exhaustive": (2, 1, 300)}


def run_settings(args: argparse.Namespace, variant: Variant | None = None, *, search: str = "explore") -> RunSettings:
    plan = FaultPlan(kinds=parse_fault_kinds(args.faults), swarm=not args.no_swarm, directed=not args.undirected,
                     max_crashes=args.max_crashes)
    clients, ops, steps = WORKLOAD[search]
    settings = RunSettings(clients=args.clients if args.clients is not None else clients,
                           ops_per_client=args.ops if args.ops is not None else ops, plan=plan,
                           max_steps=args.max_steps if args.max_steps is not None else steps, links=args.links)
    if args.faults != "all":  # the kinds asked for replace the variant's; its link model still applies
        settings = attrs.evolve(settings.for_variant(variant), plan=plan)
    else:
        settings = settings.for_variant(variant)
    budgets = {k: v for k, v in (("max_destroyed_zones", args.max_destroyed_zones),
                                 ("max_destroyed_nodes", args.max_destroyed_nodes)) if v is not None}
    return attrs.evolve(settings, plan=attrs.evolve(settings.plan, **budgets)) if budgets else settings


def describe_config(protocol: Protocol, config: Any) -> str:
    """Settings that differ from the defaults, as ``k=v`` (or ``defaults``)."""
    default = config_to_json(protocol.make_config({}))
    now = config_to_json(config)
    diff = [f"{k}={json.dumps(v)}" for k, v in now.items() if default.get(k) != v]
    return " ".join(diff) or "defaults"


def add_scope_arguments(p: argparse.ArgumentParser, what: str) -> None:
    """Options of the commands that sweep protocols (verify, claims)."""
    p.add_argument("protocols", nargs="*", help="only these protocols (default: all)")
    p.add_argument("--profile", help="dev, ci or thorough (default: ci when CI is set, else dev)")
    p.add_argument("--examples", type=int_in(1, MAX_EXAMPLES), help=f"schedules per {what} (default: the profile's)")
    p.add_argument("--seed", type=int_in(0, MAX_SEED), default=0)
    p.add_argument("--out", type=Path, default=Path("reports"), help="report directory (default reports/)")
    add_parallel_arguments(p)


def resolve_scope(args: argparse.Namespace) -> tuple[Profile, int, list[Protocol]]:
    """The profile, the number of schedules per exploration and the protocols a sweep covers."""
    profile = get_profile(args.profile)
    examples = args.examples if args.examples is not None else profile.examples
    protocols = [get_protocol(n) for n in args.protocols] if args.protocols else all_protocols()
    return profile, examples, protocols
