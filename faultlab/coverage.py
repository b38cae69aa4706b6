"""Invariant and fault coverage: did an invariant ever have something to judge, and under which faults?

A no-lost-writes check over runs in which no acknowledged write was ever followed by a crash "holds" and proves
nothing. So every exploration counts, per judged invariant, the runs that *exercised* it (its checker found
something to judge: ``CheckResult.exercised``), the faults present in those runs by *shape* (a partition by its
shape, a crash by what the node had just done, a power loss by its scope), and, for the runs that did not exercise
it, what the checker said was missing (its ``unexercised`` explanation: what exercising means for that checker).

:func:`fault_shapes` reads one run's event log; :class:`faultlab.explore.Coverage` sums them over an exploration;
:func:`invariant_rows` turns a verify run's rows into the table the reports show, with flags:

* ``rarely exercised``: judged in some runs but exercised in fewer than :data:`EXERCISE_FLOOR` of them;
* ``never under a fault``: exercised, but never in a run where a fault happened;
* ``never injected: K``: a fault kind the configuration enables, drawn in no run;
* ``partition shapes never drawn: S``: partitions happened, but never of these shapes.

:class:`SessionCoverage` aggregates the explorations of a pytest session (the plugin adds each one that
:mod:`faultlab.testing` runs, merges the xdist workers' on the controller and writes JSON with
``--faultlab-coverage PATH``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from faultlab import faults as F

EXERCISE_FLOOR = 0.10  # an invariant exercised in fewer than this share of the runs that judged it is flagged
_FAULT_EVENTS = frozenset(F.FAULT_KINDS) - {"deliver"}


def fault_shapes(events: Iterable[tuple]) -> set[str]:
    """The fault shapes of one run, from its event log ``(kind, time, payload)``: ``partition:split``,
    ``crash:leader`` / ``crash:after-ack`` / ``crash:other``, ``lose_unsynced:zone``, ``drop``, ``skew``, ...
    A crash is ``after-ack`` when the last client operation to complete before it was acknowledged by that node."""
    shapes: set[str] = set()
    roles: dict[str, Any] = {}
    node_of: dict[Any, str] = {}  # client process -> the node its open operation went to
    last_ack: str | None = None
    for kind, _time, payload in events:
        if kind == "invoke":
            node_of[payload.get("process")] = payload.get("node")
        elif kind in ("ok", "fail", "info"):
            last_ack = node_of.get(payload.get("process")) if kind == "ok" else None
        elif kind == "role":
            roles[payload.get("node")] = payload.get("role")
        elif kind == "partition":
            shapes.add(f"partition:{payload.get('shape', '?')}")
        elif kind in ("crash", "lose_unsynced"):
            why = payload.get("why")
            if why is not None:  # the engine's own recovery, not a fault
                continue
            node = payload.get("node")
            if kind == "lose_unsynced":
                shapes.add(f"lose_unsynced:{payload.get('scope', 'node')}")
            tags = [t for t, hit in (("leader", roles.get(node) == "leader"), ("after-ack", node == last_ack)) if hit]
            for tag in tags or ["other"]:
                shapes.add(f"{kind}:{tag}" if kind == "crash" else f"lose_unsynced:{tag}")
        elif kind == "destroy":
            shapes.add(f"destroy:{payload.get('scope', 'node')}")
        elif kind == "torn_write":
            shapes.add("torn_write:after-ack" if payload.get("node") == last_ack else "torn_write")
        elif kind in _FAULT_EVENTS and kind not in ("heal", "restart", "release"):
            if isinstance(payload, Mapping) and payload.get("why") is not None:
                continue
            shapes.add(kind)
    return shapes


def invariant_rows(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """One row per explored (protocol, configuration, invariant) of a verify run: runs, exercised share, violations,
    the fault shapes of the exercised runs, what the checker said was missing where it was not exercised, and
    flags. Only held configurations are flagged: a refuted one stopped at its first violation."""
    out = []
    for r in rows:
        cov = r.coverage
        if r.method != "explore" or not cov:
            continue
        inv = cov.get("invariants", {}).get(r.check)
        if inv is None:
            continue
        judged, exercised = inv["judged"], inv["exercised"]
        under = cov.get("exercised_under", {}).get(r.check, {})
        why = cov.get("unexercised_why", {}).get(r.check, {})
        flags = invariant_flags(cov, r.check, inv) + configuration_flags(cov) if r.verdict == "held" else []
        out.append({"protocol": r.protocol, "configuration": r.configuration, "invariant": r.check,
                    "verdict": r.verdict, "runs": judged, "exercised": exercised,
                    "share": round(exercised / judged, 3) if judged else 0.0, "violated": inv["violated"],
                    "undecided": inv["undecided"],
                    "exercised_under": {k: n for k, n in sorted(under.items()) if k != "any fault"},
                    "exercised_with_a_fault": under.get("any fault", 0),
                    "not_exercised_because": max(why, key=why.get) if why else "", "flags": flags})
    return out


def configuration_flags(cov: Mapping[str, Any]) -> list[str]:
    """What a configuration's exploration never tried: enabled fault kinds never injected, partition shapes never
    drawn (of those that exist for it)."""
    flags = []
    enabled = cov.get("runs_enabled", {})
    seen = cov.get("runs_with_event", {})
    never = sorted(k for k, n in enabled.items() if n and k not in ("heal", "restart") and not seen.get(k))
    if never:
        flags.append(f"never injected: {', '.join(never)}")
    shapes = cov.get("fault_shapes", {})
    if seen.get("partition"):
        missing = sorted(s for s in cov.get("partition_shapes_available", ()) if not shapes.get(f"partition:{s}"))
        if missing:
            flags.append(f"partition shapes never drawn: {', '.join(missing)}")
    return flags


class SessionCoverage:
    """The coverage of every exploration in a pytest session, by (protocol, configuration): summed, JSON in and out
    (xdist workers send theirs to the controller as JSON)."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], dict[str, Any]] = {}

    def add(self, protocol: str, configuration: str, coverage: Mapping[str, Any]) -> None:
        key = (protocol, configuration)
        self.entries[key] = merge_json(self.entries.get(key), coverage)

    def merge(self, other: Mapping[str, Any]) -> None:
        for e in other.get("explorations", []):
            self.add(e["protocol"], e["configuration"], e["coverage"])

    def to_json(self) -> dict[str, Any]:
        explorations = [{"protocol": p, "configuration": c, "coverage": cov,
                         # a refuted exploration stopped at its first violation: what it did not reach is no gap
                         "flags": [] if cov.get("violations") else configuration_flags(cov),
                         "invariants": {name: {**inv, "flags": invariant_flags(cov, name, inv)}
                                        for name, inv in cov.get("invariants", {}).items()}}
                        for (p, c), cov in sorted(self.entries.items())]
        return {"explorations": explorations}

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return path


def invariant_flags(cov: Mapping[str, Any], name: str, inv: Mapping[str, Any]) -> list[str]:
    """What an exploration's coverage says against invariant ``name`` (``inv``: its judged/exercised/violated
    counts): exercised in too few runs, or never in a run with a fault. None for a violated invariant (the search
    stopped at its violation)."""
    if inv.get("violated"):
        return []
    flags = []
    if inv["judged"] and inv["exercised"] < EXERCISE_FLOOR * inv["judged"]:
        flags.append(f"rarely exercised ({inv['exercised']} of {inv['judged']} runs)")
    if inv["exercised"] and not cov.get("exercised_under", {}).get(name, {}).get("any fault"):
        flags.append("never under a fault")
    return flags


def merge_json(a: Mapping[str, Any] | None, b: Mapping[str, Any]) -> dict[str, Any]:
    """The sum of two ``Coverage.to_json()`` documents (counts add, nested counts add, the distinct-schedule count
    is an upper bound once two explorations are summed: schedules are not shipped)."""
    if a is None:
        return json.loads(json.dumps(b))
    out: dict[str, Any] = {}
    for k in sorted(set(a) | set(b)):
        x, y = a.get(k), b.get(k)
        if x is None or y is None:
            out[k] = json.loads(json.dumps(x if y is None else y))
        elif isinstance(x, Mapping):
            out[k] = merge_json(x, y)
        elif isinstance(x, list):
            out[k] = sorted(set(x) | set(y))
        elif isinstance(x, (int, float)) and not isinstance(x, bool):
            out[k] = x + y
        else:
            out[k] = x
    return out


def partition_shapes_available(protocol: Any, config: Any) -> list[str]:
    """The partition shapes the injector can draw for this configuration (as ``FaultInjector.fault_partition``)."""
    nodes = protocol.nodes(config)
    zones = set(dict(protocol.zones(config)).values()) if protocol.zones else set()
    return [s for s in F.PARTITION_SHAPES
            if (s != "zone" or len(zones) > 1) and (s != "bridge" or len(nodes) >= 3)]


# The explorations faultlab.testing runs in this process (the pytest plugin writes and merges it).
SESSION = SessionCoverage()
