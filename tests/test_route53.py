"""route53: the answers follow the health checkers' majority and clients fail over (and back) within
interval * failure_threshold + TTL + slack; a resolver ignoring the TTL, one timing it on a skewable clock, failover
by a single checker, no failback and a failure threshold of 1 under loss are each found; failover time, weighted
shares and flapping are measured in simulated time."""

from __future__ import annotations

import pytest

from faultlab import ConfigError, FaultPlan, RunSettings, SeededChoices, simulate
from faultlab.testing import assert_holds, assert_refuted
from protocols.route53 import (
    SPEC,
    measure_failover_time,
    measure_flapping,
    measure_sixty_seconds,
    measure_weighted_shares,
)

# Known-bad variants are searched in one 75-schedule shard from seed 0 without shrinking. First violating run at
# seed 0 (and the worst over seeds 0-9, each a 75-run shard, in the commit that added this file):
# ignore-ttl 1 (1), no-failback 1 (1), wall-clock-ttl 3 (29), single-checker 30 (30), threshold-1 7 (11).
FIND_BUDGET = 75
FIND = ("ignore-ttl", "wall-clock-ttl", "single-checker", "no-failback", "threshold-1")


def test_answers_follow_the_majority_and_clients_fail_over_and_back_under_every_fault():
    exp = assert_holds(SPEC, variant="good", examples=30, seed=0)
    cov = exp.coverage
    assert cov.ops["call:ok"] > 0
    for note in ("failover", "failback", "unhealthy"):
        assert cov.runs_with_note[note] > 0, cov.runs_with_note
    for kind in ("partition", "crash", "skew", "drop"):
        assert cov.runs_with_event[kind] > 0, f"no run injected {kind}"


def test_two_lost_messages_never_make_a_checker_flap_with_threshold_3():
    exp = assert_holds(SPEC, variant="good-loss", examples=20, seed=0)
    assert exp.coverage.runs_with_event["drop"] > 0


@pytest.mark.parametrize("variant", FIND)
def test_known_bad_variant_is_found(variant):
    exp = assert_refuted(SPEC, variant=variant, examples=FIND_BUDGET, seed=0, shrink=False)
    run = exp.failure
    (bad,) = [c for c in run.violations if c.invariant == SPEC.variant(variant).expect_violation]
    if variant in ("ignore-ttl", "wall-clock-ttl"):
        # the primary is down past the window and the resolver still hands out the primary from its cache
        assert bad.witness["expected"] == "secondary" and bad.witness["answer"] == "primary", bad.witness
        assert variant == "ignore-ttl" or run.count("skew") > 0  # a stepped-back clock kept the answer
    elif variant == "no-failback":
        assert bad.witness["expected"] == "primary" and bad.witness["served_by"] == "secondary", bad.witness
    elif variant == "single-checker":
        # a failover that the checkers' majority did not call for, under a partition alone
        assert bad.witness["answer"] == "secondary" and "primary" not in bad.witness["unhealthy"], bad.witness
        assert run.count("partition") > 0 and run.count("crash") == 0
    else:  # threshold-1: the primary was never down, a lost or held message alone flipped a checker
        assert bad.witness["flapped"] or bad.witness["answer"] != "primary", bad.witness
        assert run.count("crash") == 0 and run.count("drop") + run.count("delay") > 0


def test_failover_time_lies_between_detection_and_detection_plus_ttl():
    m = measure_failover_time(0, runs=2)
    assert len(m.table) == 12, m.summary
    for r in m.table:
        lo = (r["threshold"] - 1) * r["interval_s"]
        assert lo <= r["failover_s"] <= r["expected_max_s"] + 4.0 + 2.0, r  # + a probe timeout and slack
    # a longer TTL delays failover; with a 300 s TTL some run waits most of it
    assert max(r["failover_s"] for r in m.table if r["ttl_s"] == 300) > 200, m.table


def test_sixty_seconds_needs_the_fast_interval():
    m = measure_sixty_seconds(0, runs=2)
    fast = [r["failover_s"] for r in m.table if r["interval_s"] == 10 and r["ttl_s"] == 60]
    standard = [r["failover_s"] for r in m.table if r["interval_s"] == 30 and r["ttl_s"] == 60]
    assert fast and standard, m.table
    assert max(fast) <= 95 and min(standard) >= 60, m.table


def test_weighted_answers_match_the_weights():
    m = measure_weighted_shares(0, samples=300)
    assert m.figure <= 0.06, m.summary
    shares = {(r["weights"], r["series"]): r["primary_share"] for r in m.table}
    assert shares[("0/100", "measured")] == 0.0 and shares[("90/10", "measured")] > 0.8, m.table


def test_a_threshold_of_1_flaps_more_than_3_under_partitions():
    m = measure_flapping(0, runs=6)
    by = {(r["rule"], r["threshold"]): r for r in m.table}
    assert by[("majority", 1)]["checker_flaps_per_run"] > by[("majority", 3)]["checker_flaps_per_run"], m.table


def test_fault_free_runs_hold_in_every_variant():
    no_faults = RunSettings(plan=FaultPlan(kinds=(), swarm=False))
    for v in SPEC.variants:
        if v.name in ("ignore-ttl", "no-failback"):
            continue  # their bug needs no fault: the final outage and restore show it (tested above)
        run = simulate(SPEC, SPEC.make_config(v.settings), SeededChoices(0), no_faults)
        assert not run.violations and run.error is None, (v.name, [str(c) for c in run.violations])
        assert run.note_count("failover") > 0 and run.note_count("failback") > 0, v.name


@pytest.mark.parametrize("overrides", [{"interval": 0}, {"probe_timeout": 0.6}, {"failure_threshold": 0},
                                       {"rule": "any"}, {"mode": "latency"}, {"weights": (0, 0)},
                                       {"ttl_clock": "ntp"}, {"scenario": "x"}, {"pause": -1}])
def test_bad_configuration_is_refused(overrides):
    with pytest.raises(ConfigError, match="route53"):
        SPEC.make_config(overrides)


def test_a_seeded_run_is_deterministic():
    cfg = SPEC.make_config({})
    runs = [simulate(SPEC, cfg, SeededChoices(4), RunSettings()) for _ in range(2)]
    assert [str(e) for e in runs[0].history] == [str(e) for e in runs[1].history]
    assert runs[0].count("crash") + runs[0].count("partition") + runs[0].count("drop") > 0
