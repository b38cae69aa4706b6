"""lambda: expiring slots taken atomically keep the concurrency limit, accepted events are processed or sent to the
on-failure destination and never run after, the timeout holds, a count in the external store is right; each
known-bad variant is found; the limit, scaling from zero and cold starts are measured in simulated time."""

from __future__ import annotations

import pytest

from faultlab import ConfigError, FaultPlan, History, RunSettings, SeededChoices, simulate
from faultlab.testing import assert_holds, assert_refuted
from invariants.invocations import CHECKERS
from protocols.lambda_ import SPEC
from protocols.lambda_.figures import (
    measure_cold_starts,
    measure_concurrency_limit,
    measure_scale_from_zero,
    measure_snapstart,
)
from protocols.lambda_.messages import TakeSlot

# Known-bad variants are searched in one shard of 75 schedules from seed 0 without shrinking; the test fails if the
# search stops finding the bug within the shard. Measured from seed 0: found after 9 (slot-leak), 38
# (release-by-count), 26 (racy-acquire), 18 (ack-before-queued), 5 (no-destination), 1 (retry-without-backoff), 5
# (stateful-handler), 4 (no-timeout) and 4 (short-invoker-timeout) runs. With the CLI's default budget (`faultlab
# check protocols.lambda_:SPEC --variant V --seed S`, CI=true) each was found on every seed 0-4, after at most 9, 61,
# 26, 36, 11, 1, 14, 10 and 9 runs. The good design held 1,000 runs on each of seeds 5, 6 and 7.
FIND_BUDGET = 75
FIND = ("slot-leak", "release-by-count", "racy-acquire", "ack-before-queued", "no-destination",
        "retry-without-backoff", "stateful-handler", "no-timeout", "short-invoker-timeout")
NO_FAULTS = RunSettings(plan=FaultPlan(kinds=(), swarm=False))


def test_good_design_holds_every_invariant_under_every_fault():
    exp = assert_holds(SPEC, variant="good", examples=30, seed=0)
    cov = exp.coverage
    assert cov.ops["invoke:ok"] > 0 and cov.ops["invoke-sync:ok"] > 0
    for kind in ("crash", "partition", "lose_unsynced", "drop", "delay"):
        assert cov.runs_with_event[kind] > 0, f"no run injected {kind}"
    # what the invariants are about happened: throttling, cold starts, retries, kills at the timeout, and events
    # given up and sent to the destination
    for what in ("throttled", "cold_start", "function_error", "timeout_kill", "sent_to_destination", "retry"):
        assert cov.runs_with_note[what] > 0, (what, cov.runs_with_note)


@pytest.mark.parametrize("variant", FIND)
def test_known_bad_variant_is_found(variant):
    exp = assert_refuted(SPEC, variant=variant, examples=FIND_BUDGET, seed=0, shrink=False)
    run = exp.failure
    (v,) = [c for c in run.violations if c.invariant == SPEC.variant(variant).expect_violation]
    if variant == "slot-leak":  # a slot taken by an attempt that a crash cut short, never given back
        assert v.witness["held"] and run.count("crash") + run.count("lose_unsynced") > 0
    elif variant in ("release-by-count", "racy-acquire"):
        assert v.witness["running"] > SPEC.make_config({}).concurrency_limit
        if variant == "release-by-count":  # a release retried after its answer was lost or held back
            assert run.count("drop") + run.count("delay") > 0
        else:  # each frontend serializes its own count-then-take: the race is between the two
            assert {e["src"] for e in run.log.deliveries(TakeSlot)} == {"fe1", "fe2"}
    elif variant == "ack-before-queued":  # acknowledged, then a power loss took the unsynced event
        assert any("events" in e.get("nodes", [e.get("node")]) for e in run.log.of("lose_unsynced"))
    elif variant == "no-destination":
        assert run.note_count("dropped") > 0
    elif variant == "retry-without-backoff":
        assert v.witness["began"] < 3 and v.witness["age"] < 120
    elif variant == "stateful-handler":
        assert v.witness["ticket"] >= 1 and len(set(v.witness["events"])) == 2
    elif variant == "no-timeout":
        assert v.witness["ran"] > v.witness["timeout"]
    else:
        assert v.witness["commit"] is None or v.witness["commit"] > v.witness["sent_at"]


def test_bugs_that_need_a_fault_hold_without_one():
    """The slot leak, the double-counted release and the unsynced acknowledgement are found through faults: fault-free
    runs of those variants hold every invariant (the others break on a plain workload)."""
    for name in ("good", "slot-leak", "release-by-count", "ack-before-queued"):
        cfg = SPEC.make_config(SPEC.variant(name).settings)
        for seed in range(3):
            run = simulate(SPEC, cfg, SeededChoices(seed), NO_FAULTS)
            assert not run.violations and run.error is None, (name, seed, [str(c) for c in run.violations])


def test_retries_without_backoff_give_events_up_under_throttling_alone():
    """No fault needed: a burst throttles, the immediate retries are spent within a poll, and events that never ran
    three times go to the failure destination."""
    run = simulate(SPEC, SPEC.make_config(SPEC.variant("retry-without-backoff").settings), SeededChoices(0), NO_FAULTS)
    (v,) = [c for c in run.violations if c.invariant == "failure-after-retries"]
    assert run.note_count("throttled") > 0 and v.witness["began"] < 3, v


def test_shrunk_timeout_counterexample_is_one_slow_invoke():
    exp = assert_refuted(SPEC, variant="no-timeout", examples=10, seed=0)
    main = [op for op in exp.failure.history.operations() if op.phase == "main"]
    assert len(main) == 1 and main[0].input[1] == "slow", main
    assert not any(exp.failure.count(k) for k in ("crash", "partition", "drop", "delay", "lose_unsynced"))


def test_the_concurrency_limit_caps_a_burst_and_is_adjustable():
    m = measure_concurrency_limit(0)
    for row in m.table:
        assert row["peak_running"] == row["limit"] == row["ok"], m.table
        assert row["throttled"] == row["burst"] - row["limit"], m.table


def test_scaling_from_zero_takes_the_burst_over_the_rate_plus_the_slowest_cold_start():
    m = measure_scale_from_zero(0, sizes=(100,))
    rows = {r["cold_start"]: r for r in m.table}
    cfg = SPEC.make_config({})
    lower = (100 / 2 - 1) * cfg.workers / m.table[0]["scaling_rate_per_s"]  # half the burst on a worker, one by one
    upper = 100 * cfg.workers / m.table[0]["scaling_rate_per_s"]  # the whole burst on one worker
    for label, slowest in (("0.1-10 s", cfg.cold_start_max), ("125 ms", 0.125)):
        row = rows[label]
        assert row["peak_running"] == 100 and lower <= row["all_running_at_s"] <= upper + slowest, row
    assert rows["125 ms"]["all_running_at_s"] < rows["0.1-10 s"]["all_running_at_s"]
    assert m.figure == rows["0.1-10 s"]["all_running_at_s"]


def test_cold_starts_set_the_tail_and_provisioned_concurrency_or_snapstart_cut_it():
    m = measure_cold_starts(0, runs=3)
    by = {r["mode"]: r for r in m.table}
    assert by["on-demand"]["cold_starts"] > by["provisioned"]["cold_starts"]
    assert by["on-demand"]["p99_s"] >= 1.0 > by["provisioned"]["p90_s"]
    s = measure_snapstart(0, runs=3)
    snap = {r["mode"]: r for r in s.table}["snapstart"]
    cfg = SPEC.make_config({})
    assert snap["max_s"] <= cfg.snapstart_restore + 0.1 + 0.1  # restore + the function + a scaling-queue slot
    assert snap["p99_s"] < by["on-demand"]["p99_s"]


def test_checkers_judge_a_recorded_history_alone():
    """CHECKERS take only a history: the settings come from its get-function-configuration."""
    cfg = SPEC.make_config({})
    run = simulate(SPEC, cfg, SeededChoices(0), NO_FAULTS)
    history = History.from_json(run.history.to_json())
    assert set(CHECKERS) == {inv.name for inv in SPEC.invariants}
    for name, check in CHECKERS.items():
        result = check(history)
        assert result.ok, (name, result)


@pytest.mark.parametrize("overrides", [{"concurrency_limit": 0}, {"timeout": 0}, {"maximum_retry_attempts": 3},
                                       {"retry_policy": "sometimes"}, {"cold_start_max": 0.05}, {"workers": 0}])
def test_bad_configuration_is_refused(overrides):
    with pytest.raises(ConfigError, match=f"lambda: {next(iter(overrides))}="):
        SPEC.make_config(overrides)


def test_a_seeded_run_is_deterministic():
    cfg = SPEC.make_config({})
    runs = [simulate(SPEC, cfg, SeededChoices(1), RunSettings()) for _ in range(2)]
    assert [str(e) for e in runs[0].history] == [str(e) for e in runs[1].history]
    assert [(k, t, repr(p)) for k, t, p in runs[0].events] == [(k, t, repr(p)) for k, t, p in runs[1].events]
    assert sum(runs[0].count(k) for k in ("crash", "partition", "drop", "delay", "lose_unsynced")) > 0
