"""kinesis: the KCL's application-level checkpoints give at-least-once, in shard order; exactly-once only with the
application's dedup; producer retries and checkpoints before processing are found."""

from __future__ import annotations

import pytest

from faultlab import ConfigError, FaultPlan, RunSettings, SeededChoices, simulate
from faultlab.testing import assert_holds, assert_refuted
from protocols.kinesis import SPEC, WORKERS

# One shard of 75 schedules from seed 0, without shrinking (see test_redis.py). Measured: found after 12
# (kcl-exactly-once), 11 (producer-retries) and 10 (checkpoint-before) runs.
FIND_BUDGET = 75
FIND = ("kcl-exactly-once", "producer-retries", "checkpoint-before")


def test_kcl_is_at_least_once_in_shard_order_across_lease_takeovers():
    exp = assert_holds(SPEC, variant="kcl", examples=30, seed=0)
    cov = exp.coverage
    assert cov.runs_with_event["crash"] > 0 and cov.ops["produce:ok"] > 0 and cov.ops["replay:ok"] > 0
    assert cov.runs_with_note["lease_taken"] > 0 and cov.runs_with_note["checkpoint"] > 0


def test_application_dedup_makes_the_effects_exactly_once():
    exp = assert_holds(SPEC, variant="kcl-dedup", examples=30, seed=0)
    assert exp.coverage.runs_with_note["deduplicated"] > 0  # a repeat really reached the sink and was skipped


@pytest.mark.parametrize("variant", FIND)
def test_known_bad_variant_is_found(variant):
    exp = assert_refuted(SPEC, variant=variant, examples=FIND_BUDGET, seed=0, shrink=False)
    run = exp.failure
    (v,) = [c for c in run.violations if c.invariant == SPEC.variant(variant).expect_violation]
    if variant == "kcl-exactly-once":
        # the same record at the same sequence number applied in two sessions: reprocessed after a worker crash
        audit = [op for op in run.history.operations() if op.f == "audit"][-1]
        dup = [o for o in audit.output["outputs"] if o["id"] == v.witness["id"]]
        assert len({o["offset"] for o in dup}) == 1 and len({o["generation"] for o in dup}) == 2, dup
        assert any(n in WORKERS for e in run.log.of("crash") for n in [e.get("node")])
    elif variant == "producer-retries":
        assert len(v.witness["offsets"]) == 2
    else:
        assert v.witness["group"] == "app"


def test_fault_free_runs_hold_in_every_variant():
    no_faults = RunSettings(plan=FaultPlan(kinds=(), swarm=False))
    for v in SPEC.variants:
        run = simulate(SPEC, SPEC.make_config(v.settings), SeededChoices(0), no_faults, v.promised(SPEC))
        assert run.error is None and not run.violations, (v.name, [str(c) for c in run.violations])


@pytest.mark.parametrize("overrides", [{"checkpoint": "never"}, {"lease_duration": 0.5}])
def test_bad_configuration_is_refused(overrides):
    with pytest.raises(ConfigError, match="kinesis"):
        SPEC.make_config(overrides)
