"""active-passive: sync replication with fencing keeps every acknowledged write and is linearizable across region
failovers; async replication, failover without fencing and promotion before apply are each found; RPO, RTO,
replication lag and the synchronous write latency are measured in simulated time."""

from __future__ import annotations

import pytest

from faultlab import ConfigError, FaultPlan, RunSettings, SeededChoices, simulate
from faultlab.testing import assert_holds, assert_refuted
from protocols.active_passive import (
    SPEC,
    measure_replication_lag,
    measure_rpo_rto,
    measure_sync_write_latency,
)

# Known-bad variants are searched in one 75-schedule shard from seed 0 without shrinking; the test fails if the
# search stops finding the bug within the shard. Seeds 0-9 (150 runs each) are in the commit that added this file.
FIND = ("async", "no-fencing", "promote-unapplied")


def test_sync_replication_with_fencing_keeps_writes_and_is_linearizable_across_failovers():
    exp = assert_holds(SPEC, variant="sync-fenced", examples=20, seed=0)
    cov = exp.coverage
    assert cov.ops["write:ok"] > 0 and cov.ops["read:ok"] > 0
    assert cov.runs_with_note["failover"] > 0 and cov.runs_with_note["fenced"] > 0, cov.runs_with_note


@pytest.mark.parametrize("variant", FIND)
def test_known_bad_variant_is_found(variant):
    exp = assert_refuted(SPEC, variant=variant, examples=75, seed=0, shrink=False)
    run = exp.failure
    (lost,) = [c for c in run.violations if c.invariant == "no-lost-writes"]
    assert lost.witness["lost_writes"]
    assert run.note_count("failover") > 0  # lost through a region failover, not a disk
    if variant == "no-fencing":
        assert run.note_count("overwritten") > 0  # the old primary's log replaced the promoted replica's


def test_fault_free_runs_hold_in_every_variant():
    """The findings come from faults: without them no variant loses a write or reads stale. (With the search's 0.5 s
    probe timeout a 10x-jittered probe can fail a region over without any fault; nothing is lost then.)"""
    no_faults = RunSettings(plan=FaultPlan(kinds=(), swarm=False))
    for v in SPEC.variants:
        if v.name == "promote-unapplied":
            continue  # a jittered probe alone fails over, and promoting before the apply then loses writes
        for seed in range(2):
            run = simulate(SPEC, SPEC.make_config(v.settings), SeededChoices(seed), no_faults)
            assert not run.violations and run.error is None, (v.name, seed, [str(c) for c in run.violations])


def test_rpo_is_seconds_and_rto_is_minutes_with_route53_timing():
    m = measure_rpo_rto(0, runs=8)
    cfg = SPEC.make_config({})
    rows = [r for r in m.table if r["rto_s"] is not None]
    assert rows, m.summary
    # detection needs failure_threshold probes; the DNS cache may add up to its TTL; a client retry adds one more
    lo = (cfg.failure_threshold - 1) * cfg.probe_interval
    hi = (cfg.failure_threshold + 1) * cfg.probe_interval + cfg.dns_ttl + 2 * cfg.retry_interval + 10
    assert all(lo <= r["rto_s"] <= hi for r in rows), rows
    assert any(r["rto_s"] >= 60 for r in rows), rows  # minutes, in some run
    assert all(r["rpo_s"] <= cfg.ship_interval + 2.5 for r in m.table), m.table  # at most a shipping interval or so
    assert any(r["lost"] for r in m.table), m.table  # async: some failure lost acknowledged writes


def test_replication_lag_is_under_two_shipping_intervals():
    m = measure_replication_lag(0, runs=4)
    cfg = SPEC.make_config({})
    assert 0 < m.figure <= cfg.ship_interval + cfg.apply_interval + 1.0, m.summary


def test_sync_replication_costs_a_cross_region_round_trip_per_write():
    m = measure_sync_write_latency(0, runs=3)
    by = {r["mode"]: r for r in m.table}
    assert by["sync"]["min_s"] >= 0.2 > 0.01 > by["async"]["median_s"], m.table  # 2 x 0.1 s one way


@pytest.mark.parametrize("overrides", [{"ship_interval": 0}, {"failure_threshold": 0}, {"dns_ttl": -1}])
def test_bad_configuration_is_refused(overrides):
    with pytest.raises(ConfigError, match="active-passive"):
        SPEC.make_config(overrides)


def test_a_seeded_run_is_deterministic():
    cfg = SPEC.make_config(SPEC.variant("sync-fenced").settings)
    runs = [simulate(SPEC, cfg, SeededChoices(1), RunSettings()) for _ in range(2)]
    assert [str(e) for e in runs[0].history] == [str(e) for e in runs[1].history]
    assert runs[0].count("crash") + runs[0].count("partition") + runs[0].count("drop") > 0
