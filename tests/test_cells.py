"""cells: a poison customer takes down its own cell and no other, under every fault kind (after recovery) and under
any single fault (in every phase); a spilling router and a shared database are each found; routing is proved and
the blast radius measured."""

from __future__ import annotations

import attrs
import pytest

from faultlab import ConfigError, RunSettings, SeededChoices, simulate
from faultlab.explore import explore
from faultlab.testing import assert_holds, assert_refuted
from protocols.cells import (
    CUSTOMERS,
    FAULT_FREE,
    SPEC,
    affected_customers,
    measure_blast_radius,
    measure_distribution,
    prove_routing,
)

# Known-bad variants are searched in one shard of 75 schedules from seed 0 without shrinking. Measured: all three
# found after 1 run (the final phase sends the poison customer's request, or asks where the rollout got to, and then
# every customer's, so a spilling router, a shared database or an all-at-once rollout shows its blast radius in any
# run); `check --variant V --seed S` for seeds 0-4: found after 1 run each time, shrunk to 3 operations (placement,
# the poison's request or the rollout, one customer of another cell). The spilling router's cross-cell traffic
# (served-by-home-cell) needs the main phase: found after 3-12 runs over seeds 0-9.
FIND_BUDGET = 75
FIND = ("failover-to-next-cell", "shared-database", "all-at-once-rollout")


def test_isolated_cells_keep_the_poison_in_its_cell_under_every_fault_kind():
    exp = assert_holds(SPEC, variant="isolated", examples=40, seed=0)
    cov = exp.coverage
    for kind in ("drop", "delay", "partition", "crash", "skew", "lose_unsynced"):
        assert cov.runs_with_event[kind] > 0, f"no run injected {kind}"
    assert cov.witnesses["poison in the main phase"] >= cov.runs // 2, cov.witnesses
    assert cov.exercised["cell-down-together"] == cov.runs


def test_any_single_fault_leaves_customers_outside_the_poisoned_cell_served_in_every_phase():
    # 600 schedules from seed 0 held as well (about 13 s); 40 here
    exp = assert_holds(SPEC, variant="isolated-single-fault", examples=40, seed=0)
    cov = exp.coverage
    assert cov.runs_with_event["crash"] > 0 and cov.runs_with_event["delay"] > 0, cov.runs_with_event
    assert cov.ops["request:fail"] > 0 and cov.ops["request:ok"] > cov.ops["request:fail"], cov.ops


@pytest.mark.parametrize("variant", FIND)
def test_known_bad_variant_is_found(variant):
    exp = assert_refuted(SPEC, variant=variant, examples=FIND_BUDGET, seed=0, shrink=False)
    run = exp.failure
    (broken,) = [c for c in run.violations if c.invariant == "blast-radius-after-recovery"]
    cfg = SPEC.make_config(SPEC.variant(variant).settings)
    routing = cfg.routing()
    origin = routing.cell_of(cfg.poison) if cfg.poison_customer else "cell-1"
    assert routing.cell_of(broken.witness["customer"]) != origin
    poisoned = {e["node"] for e in run.log.notes("poisoned")}
    if variant == "all-at-once-rollout":  # every replica got the bad version before any health check
        assert poisoned == set(cfg.cell_nodes()), poisoned
    elif variant == "shared-database":
        assert "shared-db" in poisoned
    else:  # the poison went from its cell to others through the router
        assert run.note_count("spilled") > 0 and len({cfg.cell_nodes()[n] for n in poisoned}) > 1, poisoned


def test_a_cell_by_cell_rollout_halts_at_the_canary_under_every_fault_kind():
    exp = assert_holds(SPEC, variant="cell-by-cell-rollout", examples=40, seed=0)
    cov = exp.coverage
    assert cov.runs_with_note["rollout_halted"] == cov.runs, cov.runs_with_note
    for kind in ("partition", "crash", "lose_unsynced"):
        assert cov.runs_with_event[kind] > 0, f"no run injected {kind}"
    cfg = SPEC.make_config(SPEC.variant("cell-by-cell-rollout").settings)
    for seed in range(5):
        run = simulate(SPEC, cfg, SeededChoices(seed), FAULT_FREE)
        broken = {cfg.cell_nodes()[e["node"]] for e in run.log.notes("poisoned")}
        assert broken == {"cell-1"} and [e["at"] for e in run.log.notes("rollout_halted")] == [["cell-1"]]
        assert affected_customers(run) == [c for c in CUSTOMERS if cfg.routing().cell_of(c) == "cell-1"]


def test_spilling_router_also_serves_customers_from_another_cell():
    exp = assert_refuted(SPEC, variant="failover-to-next-cell", invariant="served-by-home-cell",
                         examples=FIND_BUDGET, seed=0, shrink=False)
    (crossed,) = [c for c in exp.failure.violations if c.invariant == "served-by-home-cell"]
    assert crossed.witness["served_by"] not in crossed.witness["units"]


def test_shrunk_shared_database_counterexample_is_the_poison_and_one_other_customer():
    exp = assert_refuted(SPEC, variant="shared-database", examples=10, seed=0)
    requests = [op for op in exp.failure.history.operations() if op.f == "request"]
    assert len(requests) == 2 and requests[0].input[0] == SPEC.make_config({}).poison, requests


def test_without_faults_good_variants_hold_and_bad_ones_break_in_every_run():
    for v in SPEC.variants:
        cfg = SPEC.make_config(v.settings)
        for seed in range(8):
            run = simulate(SPEC, cfg, SeededChoices(seed), RunSettings(plan=FAULT_FREE.plan), v.promised(SPEC))
            assert run.error is None, run.error
            assert bool(run.violations) == bool(v.expect_violation), (v.name, seed, [str(c) for c in run.checks])


def test_the_poison_takes_exactly_its_cell():
    for poison in CUSTOMERS[:4]:
        cfg = SPEC.make_config({"poison": poison})
        routing = cfg.routing()
        run = simulate(SPEC, cfg, SeededChoices(1), FAULT_FREE)
        assert affected_customers(run) == sorted(c for c in CUSTOMERS if routing.cell_of(c) == routing.cell_of(poison))


def test_routing_is_proved_for_every_cell_count():
    for n in range(1, 9):
        proofs = prove_routing(SPEC.make_config({"cells": n}))
        assert [p.verdict for p in proofs] == ["proved", "proved"], [str(p) for p in proofs]


def test_blast_radius_is_one_cell_measured_against_one_over_n():
    m = measure_blast_radius(0, (1, 4))
    one, four = m.table
    assert one["exactly_the_poisons_cell"] and four["exactly_the_poisons_cell"]
    assert one["simulated_affected_pct"] == 100.0
    assert four["affected_pct_poison_cell_uniform"] == 25.0  # exactly one cell, averaged over cells
    assert abs(four["affected_pct_10000_customers"] - 25.0) < 0.1
    assert four["simulated_affected_pct"] > 25.0  # 12 customers hash unevenly: cells of 1, 1, 5 and 5
    spread = measure_distribution(0)
    assert spread.figure < 6.0 and all(r["largest_over_mean"] < 1.06 for r in spread.table)



@pytest.mark.parametrize("variant", ("failover-to-next-cell", "shared-database"))
def test_known_bad_variant_is_found_in_the_main_phase_alone(variant):
    """Without the final requests (only the placement is kept), under the single-fault plan the good configuration
    holds in every phase (isolated-single-fault), the search still finds the bug while the workload runs. Measured: failover-to-next-cell after 5, 6, 3, 5, 3 runs (seeds 0-4), shared-database after 5, 5, 10, 7, 3."""
    cfg = SPEC.make_config(SPEC.variant(variant).settings)
    settings = attrs.evolve(RunSettings().for_variant(SPEC.variant("isolated-single-fault")),
                            skip_final=tuple(range(1, len(SPEC.final_ops(cfg)))))
    exp = explore(SPEC, cfg, examples=FIND_BUDGET, seed=0, settings=settings, invariants=("blast-radius",),
                  shrink=False)
    assert exp.failure is not None, exp.summary()
    assert all(op.phase == "main" for op in exp.failure.history.operations() if op.f == "request")

@pytest.mark.parametrize("setting", ["cells=0", "cells=9", "replicas=4", "poison=nobody"])
def test_bad_settings_are_rejected_naming_the_setting(setting):
    key, _, value = setting.partition("=")
    with pytest.raises(ConfigError, match=key):
        SPEC.make_config({key: value})


def test_spill_needs_a_second_cell():
    with pytest.raises(ConfigError, match="spill"):
        SPEC.make_config({"cells": 1, "spill": True})
