"""Measured claims of the Timestream model: how soon aged points reach magnetic, and what the compression gives.

Tiering is measured in simulated time from seeded fault-free runs. The engine has no latency model (a message takes
no time), so the delay is the protocol's own timing at work (``migrate_interval`` and the batch backlog), and the
summary states the parameters.
"""

from __future__ import annotations

from faultlab import FaultPlan, Measurement, RunSettings, SeededChoices, simulate

from .compression import measure_compression

__all__ = ["measure_compression", "measure_tiering"]

FAULT_FREE = FaultPlan(kinds=(), swarm=False)


def measure_tiering(seed: int, runs: int = 10) -> Measurement:
    """Per acknowledged point: seconds from when it became due (its age passed ``memory_retention``, or it was
    acknowledged, whichever is later) to its first copy at magnetic; and whether every point moved by the run's
    end (after the engine's settle time)."""
    from . import SPEC

    cfg = SPEC.make_config({})
    table, delays = [], []
    for i in range(runs):
        run = simulate(SPEC, cfg, SeededChoices(seed * 1_000_003 + i), RunSettings(plan=FAULT_FREE))
        acked = {(op.input[0], float(op.input[1])): op.ret for op in run.history.operations()
                 if op.f == "write" and op.is_ok}
        copied: dict[tuple, float] = {}
        for e in run.log.notes("copied"):
            for series, ts, _ in e["points"]:
                copied.setdefault((series, float(ts)), e.time)
        lags = [copied[k] - max(k[1] + cfg.memory_retention, ret) for k, ret in acked.items() if k in copied]
        delays += lags
        table.append({"run": i, "points": len(acked), "migrated": sum(k in copied for k in acked),
                      "max_delay_s": round(max(lags), 3) if lags else None,
                      "batches": run.note_count("migrated")})
    points = sum(r["points"] for r in table)
    moved = sum(r["migrated"] for r in table)
    if not delays:
        return Measurement(0.0, "s", "no point was acknowledged and migrated: nothing measured", table)
    worst = max(delays)
    return Measurement(round(worst, 3), "s (worst delay)",
                       f"{moved} of {points} acknowledged points over {runs} fault-free runs moved to magnetic with "
                       f"no client asking; from due to copied: worst {worst:.2f} s, mean "
                       f"{sum(delays) / len(delays):.2f} s, with memory_retention={cfg.memory_retention} s, "
                       f"migrate_interval={cfg.migrate_interval} s, batch_size={cfg.batch_size} (a backlog waits "
                       f"a round per batch). 'cheaper' is not judged: the engine has no cost model", table)
