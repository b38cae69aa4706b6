"""The figure behind "Sloppy quorum allows writes even when some replicas are temporarily down".

Seeded simulation runs (:class:`faultlab.choices.SeededChoices`, so the figure is the same every time) of the
``dynamo`` protocol with crash faults only, once with ``sloppy=true`` and once strict, on the same seeds. Each write
whose coordinator was up when it began is put in a bucket by ``k``, the number of the key's N preferred replicas
that were down at that moment (reconstructed from the run's crash and restart events), and the fraction
acknowledged is reported per bucket. With N=3, W=2 a strict quorum cannot acknowledge a write once k >= 2; the
claim is that a sloppy one still does. The figure is the sloppy acknowledged fraction at k >= 2.
"""

from __future__ import annotations

from collections import Counter

from faultlab.choices import SeededChoices
from faultlab.claims import Measurement
from faultlab.faults import FaultPlan
from faultlab.runtime import RunResult, RunSettings, simulate

RUNS = 60
CRASH_ONLY = RunSettings(plan=FaultPlan(kinds=("crash",), swarm=False, max_crashes=4))


def writes_by_down_replicas(result: RunResult) -> Counter:
    """Counter of (k, status) over the run's main-phase writes whose coordinator was up when they began."""
    config = result.config
    down: set[str] = set()
    begun: dict[object, int] = {}
    counts: Counter = Counter()
    for kind, _, payload in result.events:
        if kind in ("crash", "lose_unsynced"):
            down.add(payload["node"])
        elif kind == "restart":
            down.discard(payload["node"])
        elif kind == "invoke" and payload["f"] == "write" and payload["node"] not in down:
            key = payload["value"][0]
            begun[payload["process"]] = len(set(config.walk(key)[: config.n]) & down)
        elif kind in ("ok", "fail", "info") and payload["process"] in begun:
            counts[(begun.pop(payload["process"]), kind)] += 1
    for k in begun.values():  # never completed: the client's operation stayed open, i.e. info
        counts[(k, "info")] += 1
    return counts


def measure_availability(seed: int, runs: int = RUNS) -> Measurement:
    from protocols.dynamo import SPEC

    rows, fraction = [], {}
    for sloppy in (True, False):
        config = SPEC.make_config({"sloppy": sloppy, "conflict": "vclock"})
        counts: Counter = Counter()
        for i in range(runs):
            counts += writes_by_down_replicas(simulate(SPEC, config, SeededChoices(seed * 1_000_003 + i),
                                                       CRASH_ONLY))
        for bucket, ks in (("0", (0,)), ("1", (1,)), (">=2", tuple(range(2, config.n + 1)))):
            total = sum(n for (k, _), n in counts.items() if k in ks)
            ok = sum(n for (k, st), n in counts.items() if k in ks and st == "ok")
            fraction[(sloppy, bucket)] = ok / total if total else None
            rows.append({"quorum": "sloppy" if sloppy else "strict", "preferred_down": bucket, "writes": total,
                         "acknowledged": ok, "fraction": None if not total else round(ok / total, 3)})
    sloppy_2, strict_2 = fraction[(True, ">=2")], fraction[(False, ">=2")]

    def pct(f):
        return "n/a" if f is None else f"{f:.0%}"

    return Measurement(
        figure=round(sloppy_2 or 0.0, 3), unit="fraction of writes acknowledged with >= 2 of 3 preferred replicas down",
        summary=f"with 2 or more of a key's 3 preferred replicas crashed, a sloppy quorum acknowledged "
                f"{pct(sloppy_2)} of writes and a strict one {pct(strict_2)} (with one down: "
                f"{pct(fraction[(True, '1')])} vs {pct(fraction[(False, '1')])}); {runs} seeded runs each",
        table=rows)
