"""The figure behind "Adding/removing nodes only moves ~1/N of data", measured in simulated runs with churn.

:func:`protocols.dynamo_ring.measure_movement` computes the movement on the ring alone; this runs the protocol. Seeded
runs (:class:`faultlab.choices.SeededChoices`, so the figure is the same every time) of ``dynamo`` with
``churn=true``, once with one spare joining five members and once with one of five members leaving, without faults,
and a workload of writes over many keys (the protocol's three keys are too few to measure a fraction). A change
starts when the first node routes on the new ring (its first ``ring_changed`` note). The keys present then are the
keys of writes acknowledged before it; for those, the *moved* replica copies are the distinct (key, receiver) pairs
of ``key_transfer`` notes for that change whose receiver gained the key (did not own it before). The fraction moved
is moved / (keys x N replicas); times the larger ring size it is 1.0 when exactly 1/N of the data moves. The table
also gives what the ring says should move (``expected``), so a run that moved less (a lost transfer) or more shows.
"""

from __future__ import annotations

import attrs

from faultlab.choices import SeededChoices
from faultlab.claims import Measurement
from faultlab.faults import FaultPlan
from faultlab.runtime import RunResult, RunSettings, simulate
from protocols.dynamo_ring import ring_of

RUNS = 30
KEYS = 40
QUIET = RunSettings(clients=4, ops_per_client=12, think_times=(0.0,), plan=FaultPlan(kinds=(), swarm=False))
CHANGES = {"join": {"spares": 1, "leaves": 0}, "leave": {"spares": 0, "leaves": 1}}


def _many_keys(choices, op_index: int) -> tuple[str, object]:
    return ("write", [f"k{op_index % KEYS}", op_index + 1])


def moved_in_run(result: RunResult) -> dict[str, int]:
    """For the run's one ring change: keys present when it began, replica copies the ring says move, and copies
    that moved (distinct (key, receiver) transfers to a node that gained the key)."""
    config = result.config
    before = config.members()
    after = tuple(n for n in config.node_ids() if n not in config.leavers())
    change = "".join([f"+{n}" for n in after if n not in before] + [f"-{n}" for n in before if n not in after])
    start = next((t for kind, t, p in result.events if kind == "note" and p["what"] == "ring_changed"
                  and p["change"] == change), None)
    if start is None:
        return {"keys": 0, "expected": 0, "moved": 0}
    present = {op.output[0] for op in result.history.operations()
               if op.f == "write" and op.is_ok and op.ret is not None and op.ret < start}
    old, new, n = ring_of(before, config.vnodes), ring_of(after, config.vnodes), config.n
    expected = sum(len(set(new.walk(k)[:n]) - set(old.walk(k)[:n])) for k in present)
    moved = {(k, p["to"]) for kind, _, p in result.events if kind == "note" and p["what"] == "key_transfer"
             and p["change"] == change for k in p["keys"] if k in present}
    return {"keys": len(present), "expected": expected, "moved": len(moved)}


def measure_churn_movement(seed: int, runs: int = RUNS) -> Measurement:
    from protocols.dynamo import SPEC

    protocol = attrs.evolve(SPEC, workload=_many_keys, final_ops=lambda config: [], variants=(), claims=())
    rows, scaled = [], []
    for direction, churn in CHANGES.items():
        config = SPEC.make_config({"sloppy": False, "churn": True, **churn})
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
