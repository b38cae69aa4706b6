"""retries: idempotency keys with a persisted dedup table keep every add applied once under loss, duplication and
crashes; the breaker keeps its word; attempts and waits are bounded; each known-bad variant is found; the backoff
formulas are the document's; the contention, recovery and breaker experiments show what the claims measure."""

from __future__ import annotations

import pytest

from faultlab import ConfigError, FaultPlan, RunSettings, SeededChoices, simulate
from faultlab.testing import assert_holds, assert_refuted
from protocols.retries import SPEC
from protocols.retries.backoff import ceiling, sleep_for
from protocols.retries.breaker import CircuitBreaker
from protocols.retries.measure import HERD_SETTINGS, contention_run, herd_run, recovery_run

# Known-bad variants are searched in one shard of 75 schedules from seed 0, without shrinking. Measured: found after
# 13 (non-idempotent), 10 (dedup-in-memory: a crash of the service after it applied an add and before its reply,
# then a restart before the caller's next attempt), 3 (dedup-key-only), 3 (breaker-never-half-opens), 10
# (no-max-attempts) and 16 (no-timeout) runs. The test fails if the search stops finding a bug within the shard.
FIND_BUDGET = 75
FIND = ("non-idempotent", "dedup-in-memory", "dedup-key-only", "breaker-never-half-opens", "no-max-attempts",
        "no-timeout")


# -- the formulas ----------------------------------------------------------------------------------------------------
def test_backoff_formulas_are_the_documents():
    base, cap = 1.0, 8.0
    assert [sleep_for("exponential", a, base, cap, base, 0.0) for a in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 8.0]
    assert sleep_for("none", 5, base, cap, base, 0.9) == 0.0
    assert sleep_for("full", 2, base, cap, base, 0.0) == 0.0 and sleep_for("full", 2, base, cap, base, 0.5) == 2.0
    assert sleep_for("equal", 2, base, cap, base, 0.0) == 2.0 and sleep_for("equal", 2, base, cap, base, 0.5) == 3.0
    assert sleep_for("decorrelated", 1, base, cap, 2.0, 0.0) == 1.0   # random(base, previous x 3)
    assert sleep_for("decorrelated", 1, base, cap, 2.0, 0.5) == 3.5
    assert sleep_for("decorrelated", 1, base, cap, 8.0, 0.99) == 8.0  # capped
    assert sleep_for("exponential", 500, base, cap, base, 0.0) == cap  # no overflow


def test_breaker_opens_above_the_threshold_half_opens_after_open_for_and_one_probe_decides():
    b = CircuitBreaker(window=4, threshold=0.5, open_for=1.0)
    for ok in (True, False, False):
        assert b.record(ok, 0.0, probe=False) is None
    assert b.record(False, 0.1, probe=False) == "open"  # 3 of 4 failed: 75% > 50%
    assert b.allow(0.5) == (None, None)
    assert b.allow(1.1) == ("probe", "half-open")
    assert b.allow(1.2) == (None, None)  # one probe at a time
    assert b.record(False, 1.3, probe=True) == "open"
    assert b.allow(2.4) == ("probe", "half-open") and b.record(True, 2.5, probe=True) == "close"
    assert b.allow(2.6) == ("call", None)
    never = CircuitBreaker(window=1, threshold=0.0, open_for=1.0, half_open=False)
    assert never.record(False, 0.0, probe=False) == "open" and never.allow(100.0) == (None, None)


# -- good configurations ---------------------------------------------------------------------------------------------
def test_idempotency_keys_apply_every_add_once_under_loss_duplication_and_crashes():
    exp = assert_holds(SPEC, variant="keys-breaker", examples=60, seed=0)
    cov = exp.coverage
    for kind in ("drop", "duplicate", "crash", "lose_unsynced"):
        assert cov.runs_with_event[kind] > 0, f"no run injected {kind}"
    for note in ("retry", "dedup_hit", "breaker_open", "breaker_half_open", "short_circuited"):
        assert cov.runs_with_note[note] > 0, (note, dict(cov.runs_with_note))
    assert cov.ops["add:ok"] > 0 and cov.ops["add:fail"] > 0  # some refused (reused key, open breaker)


def test_the_same_holds_on_stream_links():
    exp = assert_holds(SPEC, variant="keys-breaker-stream", examples=40, seed=0)
    assert exp.coverage.runs_with_note["dedup_hit"] > 0 and exp.coverage.runs_with_event["crash"] > 0


def test_fault_free_runs_hold_in_every_variant():
    """The findings of the searched variants come from faults and reused keys: without faults and with fresh keys
    (seeds whose workloads reuse none are not needed: a reused key only matters to dedup-key-only) every other
    variant holds."""
    no_faults = RunSettings(plan=FaultPlan(kinds=(), swarm=False))
    for v in SPEC.variants:
        if v.name == "dedup-key-only":
            continue
        for seed in range(3):
            run = simulate(SPEC, SPEC.make_config(v.settings), SeededChoices(seed), no_faults)
            assert not run.violations and run.error is None, (v.name, seed, [str(c) for c in run.violations])


# -- known-bad variants ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", FIND)
def test_known_bad_variant_is_found(variant):
    exp = assert_refuted(SPEC, variant=variant, examples=FIND_BUDGET, seed=0, shrink=False)
    run = exp.failure
    (found,) = [c for c in run.violations if c.invariant == SPEC.variant(variant).expect_violation]
    if variant in ("non-idempotent", "dedup-in-memory"):
        assert found.witness["times"] >= 2 and run.note_count("retry") + run.count("duplicate") > 0
    if variant == "dedup-in-memory":
        assert run.count("crash") > 0 and run.count("restart") > 0  # the table went with the process
    if variant == "no-max-attempts":
        assert found.witness["attempts"] > 5
    if variant == "breaker-never-half-opens":
        assert run.note_count("breaker_open") > 0 and run.note_count("breaker_half_open") == 0


def test_shrunk_double_application_is_one_add_retried_after_its_reply_was_lost():
    exp = assert_refuted(SPEC, variant="non-idempotent", examples=FIND_BUDGET, seed=0)
    run = exp.failure
    adds = [op for op in run.history.operations() if op.f == "add" and op.phase == "main"]
    assert len(adds) <= 2, [op.describe() for op in adds]
    (v,) = [c for c in run.violations if c.invariant == "applied-at-most-once"]
    assert v.witness["times"] == 2 and run.note_count("retry") + run.count("duplicate") >= 1


# -- experiments (small: the claims run the full ones) ---------------------------------------------------------------
def test_contention_jitter_needs_fewer_calls_than_exponential_and_no_backoff():
    calls = {s: contention_run(s, 30, 0)["calls"] for s in ("none", "exponential", "full")}
    assert calls["full"] < calls["exponential"] < calls["none"], calls
    row = contention_run("full", 30, 0)
    assert row["completed"] == 30 and row["calls"] == calls["full"]  # every client got its write in; replays


def test_backoff_alone_does_not_recover_from_a_slowdown_but_a_breaker_does():
    short = {"load_for": 4.5}
    expo = recovery_run("exponential", 0, short)
    breaker = recovery_run("exponential", 0, {**short, "breaker": True})
    assert expo["ok_after_pct"] < 10 and expo["recovered_after_s"] is None, expo  # a metastable retry storm
    assert breaker["ok_after_pct"] > 75 and breaker["recovered_after_s"] is not None, breaker


def test_breaker_takes_the_load_off_a_failing_service():
    over = {"outage": "error", "outage_at": 1.0, "outage_for": 2.0, "load_rate": 100.0, "load_for": 4.0,
            "queue": 40}
    without = recovery_run("full", 0, {**over, "breaker": False})
    with_ = recovery_run("full", 0, {**over, "breaker": True})
    assert with_["calls_per_s_during"] < without["calls_per_s_during"] / 10, (with_, without)
    assert with_["ok_after_pct"] > 90


def test_a_herd_stays_synchronized_without_jitter_and_scatters_with_it():
    expo, full = herd_run("exponential", 0, clients=30), herd_run("full", 0, clients=30)
    assert expo["completed"] == full["completed"] == 30
    assert expo["most_at_one_instant"] == 30 and full["most_at_one_instant"] <= 3, (expo, full)


@pytest.mark.parametrize(("strategy", "lo", "hi"), [("exponential", 1.0, 1.0), ("full", 0.0, 1.0),
                                                     ("equal", 0.5, 1.0)])
def test_drawn_backoffs_follow_the_documents_formulas(strategy, lo, hi):
    draws = herd_run(strategy, 1, clients=20)["draws"]
    ratios = [sleep / ceiling(a, HERD_SETTINGS["base"], HERD_SETTINGS["cap"]) for a, sleep, _ in draws]
    assert len(ratios) > 50 and all(lo <= x <= hi for x in ratios), (min(ratios), max(ratios))
    if strategy != "exponential":
        assert len(set(ratios)) > len(ratios) // 2  # drawn, not constant


def test_bad_settings_raise_config_errors_naming_the_setting():
    for bad, match in [({"strategy": "linear"}, "strategy="), ({"idempotency": "maybe"}, "idempotency="),
                       ({"max_attempts": -1}, "max_attempts="), ({"cap": 0.01}, "cap="),
                       ({"breaker_threshold": 1.5}, "breaker_threshold=")]:
        with pytest.raises(ConfigError, match=match):
            SPEC.make_config(bad)
