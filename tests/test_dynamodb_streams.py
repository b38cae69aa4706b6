"""dynamodb-streams: the idempotent, versioned design holds under faults with batches processed and retried; the
document's exactly-once claim and its delete-based cache invalidation are refuted with shrunk counterexamples."""

from __future__ import annotations

from faultlab.faults import FaultPlan
from faultlab.registry import get_protocol
from faultlab.runtime import RunSettings
from faultlab.testing import assert_holds, assert_refuted

DS = get_protocol("dynamodb-streams")
SEED_TEXT = "/work/shared/seed/000_8af3a54bd7f46296.txt"


def test_idempotent_versioned_design_holds_and_processes_and_retries_batches():
    exp = assert_holds(DS, variant="idempotent-versioned")
    cov = exp.coverage
    assert cov.runs_with_note["batch_processed"] > cov.runs // 2
    assert cov.runs_with_note["batch_retry"] > 0
    assert cov.runs_with_event["crash"] > 0 and cov.ops["write:ok"] > 0 and cov.ops["cached-read:ok"] > 0
    assert not exp.missing_witnesses()


def test_exactly_once_is_refuted_by_a_crash_between_side_effect_and_checkpoint():
    crashes_only = RunSettings(plan=FaultPlan(kinds=("crash",)))
    exp = assert_refuted(DS, variant="plain-handler", settings=crashes_only, examples=300)
    failure = exp.failure
    (v,) = [c for c in failure.violations if c.checker == "exactly-once"]
    assert v.witness["times"] >= 2 and v.witness["count"] > 0
    assert failure.count("crash") >= 1 and failure.note_count("batch_processed") >= 1
    assert len(failure.history.operations()) <= 14


def test_delete_invalidation_leaves_a_stale_cache():
    exp = assert_refuted(DS, variant="delete-invalidation", examples=300)
    (v,) = [c for c in exp.failure.violations if c.checker == "cache-consistent"]
    assert v.witness["cached"] != v.witness["table"]
    assert len(exp.failure.history.operations()) <= 14


def test_claims_quote_the_document():
    text = open(SEED_TEXT, encoding="utf-8").read()
    for claim in DS.claims:
        assert claim.section == "14" and claim.text in text, claim.text
