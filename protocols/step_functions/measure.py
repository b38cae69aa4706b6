"""Measured: how often an effect is applied twice, Standard against Express, under the default fault mix."""

from __future__ import annotations

from faultlab import FaultPlan, Measurement, Plot, RunSettings, SeededChoices, simulate


def measure_duplicates(seed: int, runs: int = 30) -> Measurement:
    """Duplicated effects (a second charge, shipment, ... of one order) per mode, over seeded runs of the default
    workload (3 clients x 6 orders) under the protocol's faults, and executor restarts seen."""
    from .spec import FAULTS, SPEC

    table = []
    for mode in ("standard", "express"):
        cfg = SPEC.make_config({"mode": mode})
        settings = RunSettings(plan=FaultPlan(kinds=FAULTS))
        orders = duplicated = resumed = 0
        for i in range(runs):
            run = simulate(SPEC, cfg, SeededChoices(seed * 1_000_003 + i), settings)
            ledger = [op.output for op in run.history.operations() if op.f == "ledger" and op.is_ok]
            resumed += run.note_count("resumed")
            if not ledger:
                continue
            counts: dict[tuple, int] = {}
            for e in ledger[-1]["effects"]:
                counts[(e["order"], e["action"])] = counts.get((e["order"], e["action"]), 0) + 1
            orders += len({o for o, _ in counts})
            duplicated += len({o for (o, _), n in counts.items() if n > 1})
        table.append({"mode": mode, "orders_with_effects": orders, "orders_with_a_duplicate": duplicated,
                      "duplicate_share": round(duplicated / orders, 3) if orders else None,
                      "executions_resumed": resumed})
    std, exp = table
    return Measurement(exp["duplicate_share"] or 0.0, "share of orders with an effect applied twice (Express)",
                       f"{runs} seeded runs per mode, 3 clients x 6 orders, under message loss, duplication, delay, "
                       f"partitions, crashes and power loss: Standard {std['orders_with_a_duplicate']} of "
                       f"{std['orders_with_effects']} orders with a duplicated effect, Express "
                       f"{exp['orders_with_a_duplicate']} of {exp['orders_with_effects']}", table,
                       plot=Plot("mode", "duplicate_share", kind="bar"))
