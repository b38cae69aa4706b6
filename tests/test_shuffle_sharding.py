"""shuffle-sharding: a poison customer takes down only customers sharing both its shards (retry on the other shard),
under every fault kind after recovery and under any one transient fault in every phase; no retry and retry on every
shard are each found; the 28 virtual shards and 1/28 (and 1/8 for simple sharding) are proved exactly on the
assignment the clients run, refuted for a clustered one, and measured."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import attrs
import pytest

from faultlab import ConfigError, RunSettings, SeededChoices, simulate
from faultlab.explore import explore
from faultlab.testing import assert_holds, assert_refuted
from models.sharding import HASH_SPACE, ShardAssignment, prove_virtual_shards, residue_counts
from protocols.shuffle_sharding import (
    CUSTOMERS,
    FAULT_FREE,
    SPEC,
    measure_combinations,
    measure_overlap,
    population_overlap,
    prove_pair_overlap,
    prove_simple_overlap,
    prove_unique_pairs,
    prove_virtual_shard_count,
)

# Known-bad variants are searched in one shard of 75 schedules from seed 0 without shrinking. Measured: both found
# after 1 run (the final phase sends the poison's request, then every customer's); `check --variant V --seed S` for
# seeds 0-4: found after 1 run each time, shrunk to 3 operations. clustered-assignment is refuted by the proofs
# (its runs hold: the blast radius is still "customers sharing both shards", only there are many of them).
FIND_BUDGET = 75
FIND = ("no-retry", "retry-every-shard")


def test_shuffle_sharding_keeps_the_poison_on_its_pair_under_every_fault_kind():
    exp = assert_holds(SPEC, variant="shuffle", examples=40, seed=0)
    cov = exp.coverage
    for kind in ("drop", "delay", "partition", "crash", "skew", "lose_unsynced"):
        assert cov.runs_with_event[kind] > 0, f"no run injected {kind}"
    # customers sharing one shard with the poison were served by their other one
    assert cov.witnesses["a neighbour of the poison served"] == cov.runs
    assert cov.exercised["sharing-all-shards-down"] == cov.runs  # cust-05 shares cust-04's pair (0, 3)


def test_any_single_transient_fault_leaves_every_other_customer_served_in_every_phase():
    # 600 schedules from seed 0 held as well (about 26 s); 40 here
    exp = assert_holds(SPEC, variant="shuffle-transient", examples=40, seed=0)
    assert exp.coverage.runs_with_event["delay"] > 0 and exp.coverage.runs_with_event["drop"] > 0


def test_a_clustered_assignment_holds_its_runs_the_proofs_refute_it():
    exp = assert_holds(SPEC, variant="clustered-assignment", examples=10, seed=0)
    assert exp.coverage.ops["request:fail"] > 0


def test_simple_sharding_takes_down_everyone_on_the_poisons_shard_and_no_one_else():
    exp = assert_holds(SPEC, variant="simple-sharding", examples=20, seed=0)
    assert exp.coverage.exercised["sharing-all-shards-down"] == exp.coverage.runs


@pytest.mark.parametrize("variant", FIND)
def test_known_bad_variant_is_found(variant):
    exp = assert_refuted(SPEC, variant=variant, examples=FIND_BUDGET, seed=0, shrink=False)
    (broken,) = [c for c in exp.failure.violations if c.invariant == "blast-radius-after-recovery"]
    mine, poison = set(broken.witness["units"]), set(broken.witness["poison_units"])
    if variant == "no-retry":
        assert mine & poison  # a neighbour: one shard in common, the other never asked
    poisoned = {e["node"] for e in exp.failure.log.notes("poisoned")}
    assert (len(poisoned) > 2) == (variant == "retry-every-shard"), poisoned


def test_without_faults_good_variants_hold_and_retry_every_shard_breaks_in_every_run():
    for v in SPEC.variants:
        cfg = SPEC.make_config(v.settings)
        broke = 0
        for seed in range(6):
            run = simulate(SPEC, cfg, SeededChoices(seed), RunSettings(plan=FAULT_FREE.plan), v.promised(SPEC))
            assert run.error is None, run.error
            broke += bool(run.violations)
        if v.expect_violation is None:
            assert broke == 0, v.name
        elif v.name == "retry-every-shard":
            assert broke == 6
        else:
            assert broke > 0, v.name  # no-retry: only when a neighbour's first choice is a poisoned shard


def test_28_virtual_shards_and_one_in_28_are_proved_for_the_assignment_the_clients_run():
    cfg = SPEC.make_config({})
    assert [p.verdict for p in prove_virtual_shard_count(cfg)] == ["proved", "proved"]
    assert [p.verdict for p in prove_pair_overlap(cfg)] == ["proved", "proved"]
    p = cfg.shard_assignment().overlap_probability()
    q = HASH_SPACE // 28
    assert p == Fraction(24 * q * q + 4 * (q + 1) ** 2, HASH_SPACE ** 2) == Fraction(1, 28) + Fraction(3, 7 * 2 ** 61)
    assert [p.verdict for p in prove_simple_overlap(SPEC.make_config({"k": 1}))] == ["proved"]
    assert SPEC.make_config({"k": 1}).shard_assignment().overlap_probability() == Fraction(1, 8)


@pytest.mark.parametrize("assignment,sets,overlap", [("blocks", 4, Fraction(1, 4)), ("adjacent", 8, Fraction(1, 8))])
def test_an_assignment_that_is_not_a_shuffle_is_refuted(assignment, sets, overlap):
    cfg = SPEC.make_config({"assignment": assignment})
    distinct, virtual = prove_virtual_shard_count(cfg)
    assert distinct.verdict == "proved" and virtual.verdict == "refuted"
    assert virtual.counterexample["reached"] == sets
    assert prove_pair_overlap(cfg)[1].verdict == "refuted"
    assert cfg.shard_assignment().overlap_probability() == overlap


def test_z3_reachable_sets_agree_with_enumerating_the_table():
    for n, k in [(4, 2), (5, 2), (6, 3), (8, 1)]:
        for kind in ("shuffle", "adjacent"):
            a = ShardAssignment.build(n, k, kind)
            proof = prove_virtual_shards(a)
            reached = len(set(a.table))
            assert (proof.verdict == "proved") == (reached == math.comb(n, k)), (n, k, kind)
            if proof.verdict == "refuted":
                assert proof.counterexample["reached"] == reached
    assert sum(residue_counts(28)) == HASH_SPACE and max(residue_counts(28)) - min(residue_counts(28)) == 1


def test_unique_pairs_are_refuted_for_the_simulated_customers():
    (proof,) = prove_unique_pairs(SPEC.make_config({}))
    assert proof.verdict == "refuted" and proof.counterexample["customers"] == ["cust-04", "cust-05"]


def test_overlap_is_measured_near_the_exact_figures():
    m = measure_overlap(0)
    rows = {r["configuration"]: r for r in m.table}
    shuffle, simple = rows["shuffle n=8 k=2"], rows["simple n=8 k=1"]
    assert abs(shuffle["population_pct"] - 100 / 28) < 0.05 and abs(simple["population_pct"] - 12.5) < 0.1
    # 16 customers, three pairs of them share a pair: 6 of 240 (poison, other) pairs
    assert shuffle["simulated_affected_pct"] == 2.5
    assert simple["simulated_affected_pct"] > shuffle["simulated_affected_pct"]
    assert rows["clustered blocks n=8 k=2"]["simulated_affected_pct"] > 20
    combos = {(r["shards"], r["k"]): r["virtual_shards"] for r in measure_combinations(0).table}
    assert combos[(8, 2)] == 28 and combos[(16, 8)] == 12870


def test_population_overlap_matches_counting_pairs():
    a = SPEC.make_config({}).shard_assignment()
    few = CUSTOMERS
    pairs = sum(a.shards_of(x) == a.shards_of(y) for x, y in itertools.combinations(few, 2))
    assert population_overlap(a, few) == pytest.approx(pairs / math.comb(len(few), 2))



@pytest.mark.parametrize("variant", ("no-retry", "retry-every-shard"))
def test_known_bad_variant_is_found_in_the_main_phase_alone(variant):
    """Without the final requests (only the placement is kept), under the single-fault plan the good configuration
    holds in every phase (shuffle-transient), the search still finds the bug while the workload runs. Measured: no-retry after 16, 5, 15, 12, 3 runs (seeds 0-4), retry-every-shard after 5, 5, 7, 5, 11."""
    cfg = SPEC.make_config(SPEC.variant(variant).settings)
    settings = attrs.evolve(RunSettings().for_variant(SPEC.variant("shuffle-transient")),
                            skip_final=tuple(range(1, len(SPEC.final_ops(cfg)))))
    exp = explore(SPEC, cfg, examples=FIND_BUDGET, seed=0, settings=settings, invariants=("blast-radius",),
                  shrink=False)
    assert exp.failure is not None, exp.summary()
    assert all(op.phase == "main" for op in exp.failure.history.operations() if op.f == "request")

@pytest.mark.parametrize("setting", ["shards=1", "k=0", "k=8", "assignment=random", "retry=sometimes",
                                     "poison=nobody"])
def test_bad_settings_are_rejected_naming_the_setting(setting):
    key, _, value = setting.partition("=")
    with pytest.raises(ConfigError, match=key):
        SPEC.make_config({key: value})


def test_blocks_need_shards_divisible_by_k():
    with pytest.raises(ConfigError, match="assignment=blocks"):
        SPEC.make_config({"assignment": "blocks", "k": 3})
