"""timestream: the good configuration holds with migrations, crashes mid-migration and re-copied batches; each
known-bad variant is found; the time-series checkers flag what they must; the figures are measured."""

from __future__ import annotations

import pytest

from faultlab import ConfigError, FaultPlan, History, RunSettings, SeededChoices, simulate
from faultlab.explore import explore
from faultlab.testing import assert_holds, assert_refuted
from invariants.time_series import check_no_duplicate_points, check_no_lost_points, check_no_phantom_points
from protocols.timestream import SPEC, crashed_mid_migration
from protocols.timestream.compression import gorilla_bits, measure_compression
from protocols.timestream.measurements import measure_tiering

GOOD_BUDGET = 60   # schedules for the good configuration (each run ~25 ms)
FIND_BUDGET = 80   # seed 0 finds each known-bad variant within 1-22 runs (`faultlab check`, seeds 0-9: 1-58)
NO_FAULTS = RunSettings(plan=FaultPlan(kinds=(), swarm=False))


# -- the good configuration ------------------------------------------------------------------------------------------
def test_good_configuration_holds_with_migrations_and_crashes_mid_migration():
    exp = assert_holds(SPEC, variant="timestream", examples=GOOD_BUDGET, seed=0)
    cov = exp.coverage
    assert cov.runs_with_note["migrated"] >= cov.runs // 2, cov.runs_with_note
    assert cov.runs_with_note["recopied"] > 0 and cov.runs_with_note["query_both_tiers"] > 0
    for kind in ("drop", "delay", "partition", "crash", "skew", "lose_unsynced"):
        assert cov.runs_with_event[kind] > 0, f"no run injected {kind}"


def test_good_configuration_holds_over_datagram_links():
    exp = assert_holds(SPEC, variant="timestream-datagram", examples=30, seed=0)
    assert exp.coverage.runs_with_event["duplicate"] > 0


def test_fault_free_runs_hold_in_every_variant_but_the_memory_only_query():
    """The other findings come from faults (or, for no-dedup-query, from a race), not from a plain FIFO run."""
    for v in SPEC.variants:
        for seed in range(3):
            run = simulate(SPEC, SPEC.make_config(v.settings), SeededChoices(seed), NO_FAULTS)
            assert run.error is None and run.note_count("migrated") > 0, (v.name, seed)
            violated = {c.invariant for c in run.violations}
            assert violated == ({"no-lost-points"} if v.name == "memory-only-query" else set()), (v.name, seed)


def test_runs_are_deterministic():
    cfg = SPEC.make_config({})
    a, b = (simulate(SPEC, cfg, SeededChoices(7), RunSettings()) for _ in range(2))
    assert [(e.kind, e.time) for e in a.log] == [(e.kind, e.time) for e in b.log]
    assert [(op.f, op.output) for op in a.history.operations()] == [(op.f, op.output) for op in b.history.operations()]


# -- the known-bad variants ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["delete-before-copy", "non-idempotent-copy", "no-dedup-query",
                                     "memory-only-query", "unsynced-magnetic"])
def test_known_bad_variant_is_found(variant):
    exp = assert_refuted(SPEC, variant=variant, examples=FIND_BUDGET, seed=0, shrink=False)
    assert SPEC.variant(variant).expect_violation in exp.failure.violated_invariants
    if variant != "memory-only-query":
        assert exp.failure.note_count("migration_started") > 0
    if variant == "delete-before-copy":  # the points die with the crashed migration task that held them
        assert crashed_mid_migration(exp.failure)


def test_non_idempotent_copy_duplicates_after_a_crash_between_copy_and_delete():
    # Crashes only: seed 2 finds it after 5 runs, a memory crash with the copy made and the delete not.
    settings = RunSettings(plan=FaultPlan(kinds=("crash",)))
    var = SPEC.variant("non-idempotent-copy")
    exp = explore(SPEC, SPEC.make_config(var.settings), examples=20, seed=2, settings=settings,
                  invariants=("no-duplicates-after-migration",), shrink=False)
    assert exp.failure is not None and crashed_mid_migration(exp.failure)
    assert exp.failure.note_count("recopied") > 0


# -- the checkers (negative controls) --------------------------------------------------------------------------------
def _history(queries):
    rows = [(0, "write", ["s1", 0.0, 1], 0, 1, "ok", ["s1", 0.0, 1]),
            (1, "write", ["s1", 0.1, 2], 0, 1, "info", None)]
    rows += [(2 + i, "query", [0.0, 1e9], 2, 3, "ok", out) for i, out in enumerate(queries)]
    return History.from_intervals(rows)


def test_lost_point_checker():
    assert check_no_lost_points(_history([[["s1", 0.0, 1]]])).ok
    bad = check_no_lost_points(_history([[["s1", 0.1, 2]]]))
    assert bad.violated and bad.witness["lost_point"] == ["s1", 0.0, 1]
    narrow = History.from_intervals([(0, "write", ["s1", 5.0, 1], 0, 1, "ok", None),
                                     (1, "query", [0.0, 1.0], 2, 3, "ok", [])])
    assert not check_no_lost_points(narrow).exercised  # the query did not cover the point


def test_duplicate_and_phantom_checkers():
    assert check_no_duplicate_points(_history([[["s1", 0.0, 1], ["s1", 0.1, 2]]])).ok
    assert check_no_duplicate_points(_history([[["s1", 0.0, 1], ["s1", 0.0, 1]]])).violated
    assert check_no_phantom_points(_history([[["s1", 0.1, 2]]])).ok  # an info write may have happened
    assert check_no_phantom_points(_history([[["s1", 0.0, 9]]])).violated


# -- claims and figures ----------------------------------------------------------------------------------------------
def test_claims_are_quoted_exactly(design_document):
    section = design_document.split("## 18. Amazon Timestream", 1)[1].split("\n## ", 1)[0]
    for claim in SPEC.claims:
        assert claim.text in section, claim.text


def test_tiering_is_automatic_and_prompt_without_faults():
    m = measure_tiering(0, runs=3)
    assert all(r["points"] and r["migrated"] == r["points"] for r in m.table), m.table
    cfg = SPEC.make_config({})
    assert 0 <= m.figure <= cfg.migrate_interval * 8  # a round plus the backlog of batches


def test_compression_is_measured_per_series():
    m = measure_compression(0)
    ratios = {r["series"].split(" ")[0]: r["gorilla_ratio"] for r in m.table}
    assert ratios["counter"] > 10 and ratios["idle"] > 20 and ratios["noise"] < 3
    assert gorilla_bits([(0, 1.0), (10, 1.0), (20, 1.0)]) == 64 + 64 + 14 + 1 + 1 + 1


def test_bad_settings_raise_config_errors_naming_them():
    for settings, name in [({"memory_retention": 0}, "memory_retention"), ({"batch_size": 0}, "batch_size"),
                           ({"migration": "move"}, "migration"), ({"query_tiers": "magnetic"}, "query_tiers")]:
        with pytest.raises(ConfigError, match=name):
            SPEC.make_config(settings)
