"""The figures dynamo's claims measure in simulated runs of the protocol: availability and data movement.

Both are seeded runs (:class:`faultlab.SeededChoices`), so each figure is the same every time, and both read the
run's typed events (``run.log``).

*Availability*, behind "Sloppy quorum allows writes even when some replicas are temporarily down": runs with crash
faults only, once with ``sloppy=true`` and once strict, on the same seeds. Each write whose coordinator was up when
it began is put in a bucket by ``k``, the number of the key's N preferred replicas that were down at that moment
(reconstructed from the run's crash and restart events), and the fraction acknowledged is reported per bucket. With
N=3, W=2 a strict quorum cannot acknowledge a write once k >= 2; the claim is that a sloppy one still does. The
figure is the sloppy acknowledged fraction at k >= 2.

*Movement*, behind "Adding/removing nodes only moves ~1/N of data" in runs
(:func:`protocols.dynamo.ring.measure_movement` computes it on the ring alone): runs with ``churn=true``, once with
one spare joining five members and once with one of five members leaving, without faults, and a workload of writes
over many keys (the protocol's three keys are too few to measure a fraction). A change starts when the first node
routes on the new ring (its first ``ring_changed`` note). The keys present then are the keys of writes acknowledged
before it; for those, the *moved* replica copies are the distinct (key, receiver) pairs of ``key_transfer`` notes for
that change whose receiver gained the key (did not own it before). The fraction moved is moved / (keys x N
replicas); times the larger ring size it is 1.0 when exactly 1/N of the data moves. The table also gives what the
ring says should move (``expected``), so a run that moved less (a lost transfer) or more shows.
"""

from __future__ import annotations

from collections import Counter

import attrs

from faultlab import FaultPlan, Measurement, RunResult, RunSettings, SeededChoices, simulate
from protocols.dynamo.membership import ring_change
from protocols.dynamo.protocol import PROTOCOL
from protocols.dynamo.ring import ring_of

# -- availability with preferred replicas down -----------------------------------------------------------------------
AVAILABILITY_RUNS = 60
CRASH_ONLY = RunSettings(plan=FaultPlan(kinds=("crash",), swarm=False, max_crashes=4))


def writes_by_down_replicas(result: RunResult) -> Counter:
    """Counter of (k, status) over the run's main-phase writes whose coordinator was up when they began."""
    config = result.config
    down: set[str] = set()
    begun: dict[object, int] = {}
    counts: Counter = Counter()
    for e in result.log.of("crash", "lose_unsynced", "restart", "invoke", "ok", "fail", "info"):
        if e.kind in ("crash", "lose_unsynced"):
            down.add(e["node"])
        elif e.kind == "restart":
            down.discard(e["node"])
        elif e.kind == "invoke":
            if e["f"] == "write" and e["node"] not in down:
                begun[e["process"]] = len(set(config.walk(e["value"][0])[: config.n]) & down)
        elif e["process"] in begun:
            counts[(begun.pop(e["process"]), e.kind)] += 1
    for k in begun.values():  # never completed: the client's operation stayed open, i.e. info
        counts[(k, "info")] += 1
    return counts


def measure_availability(seed: int, runs: int = AVAILABILITY_RUNS) -> Measurement:
    rows, fraction = [], {}
    for sloppy in (True, False):
        config = PROTOCOL.make_config({"sloppy": sloppy, "conflict": "vclock"})
        counts: Counter = Counter()
        for i in range(runs):
            run = simulate(PROTOCOL, config, SeededChoices(seed * 1_000_003 + i), CRASH_ONLY)
            counts += writes_by_down_replicas(run)
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


# -- data movement under churn ------------------------------------------------------------------------------------
MOVEMENT_RUNS = 30
MOVEMENT_KEYS = 40
MOVEMENT_SETTLE = 30.0
QUIET = RunSettings(clients=4, ops_per_client=12, think_times=(0.0,), plan=FaultPlan(kinds=(), swarm=False))
CHANGES = {"join": {"spares": 1, "leaves": 0}, "leave": {"spares": 0, "leaves": 1}}


def _many_keys(choices, op_index: int) -> tuple[str, object]:
    return ("write", [f"k{op_index % MOVEMENT_KEYS}", op_index + 1])


def moved_in_run(result: RunResult) -> dict[str, int]:
    """For the run's one ring change: keys present when it began, replica copies the ring says move, and copies
    that moved (distinct (key, receiver) transfers to a node that gained the key)."""
    config = result.config
    before = config.members()
    after = tuple(n for n in config.node_ids() if n not in config.leavers())
    change = ring_change(before, after)
    start = next((e.time for e in result.log.notes("ring_changed") if e["change"] == change), None)
    if start is None:
        return {"keys": 0, "expected": 0, "moved": 0}
    present = {op.output[0] for op in result.history.operations()
               if op.f == "write" and op.is_ok and op.ret is not None and op.ret < start}
    old, new, n = ring_of(before, config.vnodes), ring_of(after, config.vnodes), config.n
    expected = sum(len(set(new.walk(k)[:n]) - set(old.walk(k)[:n])) for k in present)
    moved = {(k, e["to"]) for e in result.log.notes("key_transfer") if e["change"] == change
             for k in e["keys"] if k in present}
    return {"keys": len(present), "expected": expected, "moved": len(moved)}


def measure_churn_movement(seed: int, runs: int = MOVEMENT_RUNS) -> Measurement:
    # Observed until the change has spread: gossip is push-pull with one random peer every GOSSIP_PERIOD, and the
    # default 10 s of settling (5 rounds) leaves a node uninformed in about one run in fifteen; its keys then have
    # not moved yet when the run ends, which says nothing about how many a join moves. 30 s is 15 rounds.
    protocol = attrs.evolve(PROTOCOL, workload=_many_keys, final_ops=lambda config: [], variants=(),
                            settle_time=MOVEMENT_SETTLE)
    rows, scaled = [], []
    for direction, churn in CHANGES.items():
        config = PROTOCOL.make_config({"sloppy": False, "churn": True, **churn})
        totals = {"keys": 0, "expected": 0, "moved": 0}
        counted = 0
        for i in range(runs):
            got = moved_in_run(simulate(protocol, config, SeededChoices(seed * 1_000_003 + i), QUIET))
            counted += got["keys"] > 0
            for k in totals:
                totals[k] += got[k]
        size = max(len(config.members()), len(config.node_ids()))  # the larger ring: N of "~1/N"
        fraction = totals["moved"] / (totals["keys"] * config.n) if totals["keys"] else 0.0
        scaled.append(fraction * size)
        rows.append({"change": direction, "ring": f"{len(config.members())} -> "
                     f"{len(config.node_ids()) - len(config.leavers())}", "runs": runs, "runs_with_keys": counted,
                     "keys": totals["keys"], "replica_copies": totals["keys"] * config.n,
                     "expected_moves": totals["expected"], "moved": totals["moved"],
                     "fraction_moved": round(fraction, 4), "x_N": round(fraction * size, 3)})
    figure = sum(scaled) / len(scaled)
    join, leave = rows
    return Measurement(
        figure=round(figure, 3), unit="x 1/N (fraction of replica copies moved, times N)",
        summary=f"in {runs} simulated runs each, a join (5 -> 6 nodes) moved {join['moved']} of "
                f"{join['replica_copies']} replica copies ({join['x_N']:.2f}/N) and a leave (5 -> 4) moved "
                f"{leave['moved']} of {leave['replica_copies']} ({leave['x_N']:.2f}/N); the ring predicted "
                f"{join['expected_moves']} and {leave['expected_moves']}",
        table=rows)
