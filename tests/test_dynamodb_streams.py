"""dynamodb-streams: the idempotent, versioned design holds under faults with batches processed and retried; the
document's exactly-once claim, its delete-based cache invalidation and its "24h is enough" retention (scaled down: a
consumer down longer than the retention) are refuted with shrunk counterexamples."""

from __future__ import annotations

from faultlab.faults import FaultPlan
from faultlab.history import History
from faultlab.registry import get_protocol
from faultlab.runtime import RunSettings
from faultlab.testing import assert_holds, assert_refuted
from protocols.dynamodb_streams import check_changes_processed

DS = get_protocol("dynamodb-streams")

def test_idempotent_versioned_design_holds_and_processes_and_retries_batches():
    exp = assert_holds(DS, variant="idempotent-versioned")
    cov = exp.coverage
    assert cov.runs_with_note["batch_processed"] > cov.runs // 2
    assert cov.runs_with_note["batch_retry"] > 0
    assert cov.runs_with_event["crash"] > 0 and cov.ops["write:ok"] > 0 and cov.ops["cached-read:ok"] > 0
    assert exp.verdict == "held", exp.summary()  # assert_holds rejects vacuous, not unknown
    assert "changes-processed" in DS.variant("idempotent-versioned").promised(DS)


def test_exactly_once_is_refuted_by_a_crash_between_side_effect_and_checkpoint():
    crashes_only = RunSettings(plan=FaultPlan(kinds=("crash",)))
    exp = assert_refuted(DS, variant="plain-handler", settings=crashes_only, examples=300, seed=0)
    failure = exp.failure
    (v,) = [c for c in failure.violations if c.invariant == "exactly-once"]
    assert v.witness["times"] >= 2 and v.witness["count"] > 0
    assert failure.count("crash") >= 1 and failure.note_count("batch_processed") >= 1
    # shrunk: from seed 0 the first failing run (found after 61 runs) has 14 operations, the shrunk one 10; a run
    # has at most 24 (3 clients x 6 operations + 6 final operations)
    assert len(failure.history.operations()) <= 12


def test_delete_invalidation_leaves_a_stale_cache():
    exp = assert_refuted(DS, variant="delete-invalidation", examples=300, seed=0)
    (v,) = [c for c in exp.failure.violations if c.invariant == "cache-consistent"]
    assert v.witness["cached"] != v.witness["table"]
    # shrunk: from seed 0 the first failing run (found after 65 runs) has 17 operations, the shrunk one 10
    assert len(exp.failure.history.operations()) <= 13



def test_short_retention_loses_changes_a_down_consumer_never_read():
    exp = assert_refuted(DS, variant="short-retention", examples=300, seed=0)
    failure = exp.failure
    (v,) = [c for c in failure.violations if c.invariant == "changes-processed"]
    assert v.witness["value"] is not None
    assert failure.count("crash") >= 1 and failure.note_count("records_expired") >= 1
    # shrunk: from seed 0 the first failing run (found after 6 runs) has 14 operations, the shrunk one 9
    assert len(failure.history.operations()) <= 12


def _record(rid: int, key: str, value: int) -> dict:
    return {"id": rid, "key": key, "seq": rid, "kind": "MODIFY", "value": value, "at": 0.0}


def _history(applied: list[dict]) -> History:
    return History.from_intervals([
        (0, "write", ["k1", 1], 0.0, 0.1, "ok", 1),
        (1, "write", ["k2", 2], 0.2, 0.3, "ok", 2),
        (2, "write", ["k1", 3], 0.4, None, "info", None),  # never acknowledged: need not be processed
        (3, "delete", "k2", 0.5, 0.6, "ok", None),
        (9, "audit", None, 20.0, 20.1, "ok", {"count": len(applied), "applied": applied}, "final"),
    ])


def test_changes_processed_holds_when_every_acknowledged_write_was_applied():
    result = check_changes_processed(_history([_record(1, "k1", 1), _record(2, "k2", 2), _record(2, "k2", 2)]))
    assert result.ok, result


def test_changes_processed_is_violated_by_an_acknowledged_write_never_applied():
    result = check_changes_processed(_history([_record(1, "k1", 1)]))
    assert result.violated and result.witness["key"] == "k2" and result.witness["value"] == 2
    assert "contradiction" in result.explanation


def test_changes_processed_has_nothing_to_judge_without_an_audit():
    result = check_changes_processed(History.from_intervals([(0, "write", ["k1", 1], 0.0, 0.1, "ok", 1)]))
    assert result.ok and not result.exercised
