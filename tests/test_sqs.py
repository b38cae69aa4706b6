"""sqs: the standard queue loses no acknowledged message and redrives poison ones; the FIFO queue also processes
each message once, in group order, one batch per group at a time; each known-bad variant (and each tradeoff the
section states, held to the stronger property) is found; long polling's empty responses and the standard queue's
duplicates are measured."""

from __future__ import annotations

import pytest

from faultlab import ConfigError, FaultPlan, History, RunSettings, SeededChoices, simulate
from faultlab.testing import assert_holds, assert_refuted
from invariants.queues import CHECKERS
from protocols.sqs import SPEC, measure_duplicates, measure_empty_responses

# Schedules per good configuration (a run takes 10-20 ms). Searched deeper once: standard and fifo held over 2,000
# runs from each of seeds 0-2, 3,000 from each of seeds 3-5, and 1,000 with 4 clients x 10 operations from seeds 0-1.
GOOD_BUDGET = 100
# Known-bad variants are searched in one shard of 75 schedules from seed 0 without shrinking. Measured (first
# violating run, seed 0): standard-duplicates 3, standard-order 10, standard-visibility 61, delete-on-receive 3,
# ack-one-unsynced 5, standard-no-dlq 9, fifo-no-dlq 5, fifo-no-group-lock 18 (group-lock: 18),
# fifo-dedup-forgets-deleted 9, fifo-visibility-shorter-than-processing 14, fifo-no-lease-check 16,
# fifo-retry-after-window 10, fifo-clock-skew 54. With `faultlab check --variant V --seed S` (the default budget,
# 900 for a known-bad variant), seeds 0-4: every one found, after 3-75 runs (the most: fifo-no-group-lock, seed 3).
FIND_BUDGET = 75
FIND = [v.name for v in SPEC.variants if v.expect_violation]
NO_FAULTS = RunSettings(plan=FaultPlan(kinds=(), swarm=False))


def _logs(run):
    return [op.output for op in run.history.operations() if op.f in ("consume", "drain") and op.is_ok]


# -- the good configurations -----------------------------------------------------------------------------------------
def test_standard_queue_keeps_every_acknowledged_message_through_crashes_stalls_and_poison():
    exp = assert_holds(SPEC, variant="standard", examples=GOOD_BUDGET, seed=0)
    cov = exp.coverage
    for kind in ("drop", "delay", "partition", "crash", "lose_unsynced"):
        assert cov.runs_with_event[kind] > 0, f"no run injected {kind}"
    assert cov.runs_with_event.get("skew", 0) == 0  # judged apart (fifo-clock-skew)
    # consumers crashed holding messages, and those messages came back and were processed or dead-lettered
    assert cov.witnesses["consumer crashed holding messages"] > 10, cov.witnesses
    assert cov.runs_with_note["redelivery"] > cov.runs // 2 and cov.runs_with_note["redrive"] > 10
    assert cov.exercised["poison-redriven"] > 10 and cov.exercised["at-least-once"] > cov.runs // 2


def test_fifo_queue_processes_each_message_once_in_group_order_one_batch_at_a_time():
    exp = assert_holds(SPEC, variant="fifo", examples=GOOD_BUDGET, seed=0)
    cov = exp.coverage
    assert cov.runs_with_note["deduplicated"] > 10, cov.runs_with_note  # producer retries were deduplicated
    # heartbeats keep a stalled consumer's lease; when they are lost it runs out and the consumer abandons
    assert cov.witnesses["lease ran out while processing"] > 0 and cov.witnesses["consumer crashed holding messages"] > 10
    for name in ("exactly-once", "fifo-order", "group-lock", "visibility", "poison-redriven"):
        assert cov.exercised[name] > 10, (name, cov.exercised)


def test_the_lease_check_alone_keeps_a_stalled_consumer_from_processing_twice():
    """Without heartbeats a 5 s stall outlasts the 3 s visibility timeout: the consumer abandons the message rather
    than process it late, so nothing is processed twice (with heartbeats, stalls keep their lease)."""
    cfg = SPEC.make_config({"fifo": True, "heartbeat": False})
    abandoned = 0
    for seed in range(20):
        run = simulate(SPEC, cfg, SeededChoices(seed), NO_FAULTS, ("exactly-once", "at-least-once"))
        assert not run.violations, [str(c) for c in run.violations]
        entries = [e for log in _logs(run) for e in log["held"]]
        assert all(e["processed_at"] < e["lease"] for e in entries if e["outcome"] == "processed")
        abandoned += sum(e["outcome"] == "abandoned" for e in entries)
    assert abandoned > 0


# -- the known-bad variants ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", FIND)
def test_known_bad_variant_is_found(variant):
    exp = assert_refuted(SPEC, variant=variant, examples=FIND_BUDGET, seed=0, shrink=False)
    run = exp.failure
    (v,) = [c for c in run.violations if c.invariant == SPEC.variant(variant).expect_violation]
    assert v.witness["ops"], v.witness
    if variant == "ack-one-unsynced":
        assert run.count("lose_unsynced") > 0 and v.witness["lost"]
    elif variant == "delete-on-receive":
        assert v.witness["lost"]
    elif variant == "fifo-no-dlq":
        assert run.note_count("redrive") == 0 and v.witness["poison"] is not None
    elif variant == "fifo-clock-skew":
        assert run.count("skew") > 0
    elif variant in ("fifo-dedup-forgets-deleted", "fifo-retry-after-window", "standard-duplicates",
                     "fifo-visibility-shorter-than-processing"):
        assert v.witness["duplicate"] is not None


def test_fifo_without_the_group_lock_lets_two_consumers_hold_one_group():
    exp = assert_refuted(SPEC, variant="fifo-no-group-lock", invariant="group-lock", examples=FIND_BUDGET, seed=0,
                         shrink=False)
    (v,) = [c for c in exp.failure.violations if c.invariant == "group-lock"]
    assert v.witness["at"][0] <= v.witness["at"][1]


def test_without_a_dlq_a_poison_message_blocks_the_rest_of_its_fifo_group():
    exp = assert_refuted(SPEC, variant="fifo-no-dlq", invariant="at-least-once", examples=FIND_BUDGET, seed=0,
                         shrink=False)
    (v,) = exp.failure.violations
    sent = {op.input["id"]: op.input for op in exp.failure.history.operations() if op.f == "send"}
    lost = [sent[i] for i in v.witness["lost"]]
    poisoned = {m["group"] for m in lost if m["poison"]}
    assert any(not m["poison"] and m["group"] in poisoned for m in lost), lost


def test_shrunk_stall_counterexample_is_a_send_a_stalled_consume_and_the_drain():
    exp = assert_refuted(SPEC, variant="fifo-visibility-shorter-than-processing", examples=FIND_BUDGET, seed=0)
    ops = exp.failure.history.operations()
    assert [op.f for op in ops if op.phase == "main"] == ["send", "consume"], ops
    (v,) = exp.failure.violations
    assert "after its lease ended" in v.explanation


def test_fault_free_runs_hold_where_the_finding_needs_a_fault():
    """A power loss is what loses the message acknowledged by one unsynced host; without faults it is kept."""
    for variant in ("standard", "fifo", "ack-one-unsynced"):
        v = SPEC.variant(variant)
        for seed in range(5):
            run = simulate(SPEC, SPEC.make_config(v.settings), SeededChoices(seed), NO_FAULTS, v.promised(SPEC))
            assert not run.violations and run.error is None, (variant, seed, [str(c) for c in run.violations])


def test_every_queue_checker_judges_a_recorded_history_alone():
    """CHECKERS (for `faultlab check-history`) take only a history; on a run's they agree with the invariants."""
    run = simulate(SPEC, SPEC.make_config({"fifo": True}), SeededChoices(0), RunSettings(),
                   SPEC.variant("fifo").promised(SPEC))
    by_checker = {c.checker: c for c in run.checks}
    for name, check in CHECKERS.items():
        assert not check(History()).exercised, name
        result = check(History.from_json(run.history.to_json()))
        assert result.verdict == by_checker[result.checker].verdict, name


# -- claims and figures ----------------------------------------------------------------------------------------------
def test_claims_are_quoted_exactly(design_document):
    section = design_document.split("## 5. SQS", 1)[1].split("\n## ", 1)[0]
    for claim in SPEC.claims:
        assert claim.text in section, claim.text


def test_long_polling_reduces_empty_responses():
    m = measure_empty_responses(0, runs=10)
    short, long_ = m.table
    assert short["receives"] > 20 and long_["receives"] > 20, m.table
    assert long_["empty_share"] < short["empty_share"] / 2, m.summary


def test_standard_duplicates_are_measured_and_rarer_without_faults():
    m = measure_duplicates(0, runs=20)
    clean, faulty = m.table
    assert faulty["processed_twice"] > 0 and clean["duplicate_share"] < faulty["duplicate_share"], m.table


@pytest.mark.parametrize(("settings", "name"), [({"ack_after": 4}, "ack_after"), ({"visibility_timeout": 0},
                         "visibility_timeout"), ({"wait_time": 20}, "wait_time"), ({"batch_size": 11}, "batch_size"),
                         ({"max_receive_count": 0}, "max_receive_count"), ({"retry_delay": 70}, "retry_delay")])
def test_bad_settings_raise_config_errors_naming_them(settings, name):
    with pytest.raises(ConfigError, match=name):
        SPEC.make_config(settings)


def test_a_seeded_run_is_deterministic():
    cfg = SPEC.make_config({"fifo": True})
    runs = [simulate(SPEC, cfg, SeededChoices(3), RunSettings()) for _ in range(2)]
    assert [str(e) for e in runs[0].history] == [str(e) for e in runs[1].history]
    assert runs[0].count("crash") + runs[0].count("partition") + runs[0].count("drop") > 0
