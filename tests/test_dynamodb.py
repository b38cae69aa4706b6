"""dynamodb: the Raft-style partition holds under every fault kind with failovers; each known-bad variant is found
and shrunk; the availability claim is a measured figure."""

from __future__ import annotations

import pytest

from faultlab.choices import SeededChoices
from faultlab.faults import FaultPlan
from faultlab.registry import get_protocol
from faultlab.runtime import RunSettings, simulate
from faultlab.testing import assert_holds, assert_refuted
from protocols.dynamodb import measure_write_availability

DDB = get_protocol("dynamodb")
FIND_BUDGET = 600  # runs allowed to find a known bug; the deposed-leader read needs a partition, an election
# and a later read at the old leader, found after 7 to 230 runs over seeds 0-2
# The most operations each known-bad variant's shrunk run may have. From seed 0 (measured): the first failing run
# has 14, 19 and 15 operations (of at most 22: 3 clients x 6 operations + 4 final reads), the shrunk one 8, 12
# and 11; so a search that stopped shrinking fails each bound. async-replication: 16 operations, shrunk to 3 (a write
# the isolated or crashed leader acknowledged alone, the failover, the final read that misses it).
SHRUNK_AT_MOST = {"default-read-as-strong": 11, "unsafe-failover": 15, "local-consistent-read": 13,
                  "async-replication": 8}

def test_good_configuration_holds_under_every_fault_kind_with_failovers():
    exp = assert_holds(DDB, variant="raft-leader")
    cov = exp.coverage
    assert cov.ops["write:ok"] > 0 and cov.ops["consistent-read:ok"] > 0 and cov.ops["read:ok"] > 0
    # stream links (the default) never duplicate: duplicates are judged over datagram links. No restart here:
    # recovery restarts every crashed node, so a count of restarts follows from the crashes (injected restarts
    # are checked in tests/test_fault_controls.py)
    for kind in ("drop", "delay", "partition", "crash", "skew", "lose_unsynced"):
        assert cov.runs_with_event[kind] > 0, f"no run injected {kind}"
    # failover really happened, in a good share of the runs, and the invariants held through it
    assert cov.runs_with_note["failover"] >= cov.runs // 5, cov.runs_with_note
    assert exp.verdict == "held", exp.summary()  # assert_holds rejects vacuous, not unknown (linearizability budget)


@pytest.mark.parametrize("variant", [v.name for v in DDB.variants if v.expect_violation])
def test_known_bad_variant_is_found_and_shrunk(variant):
    # The deposed-leader read is seed-sensitive (found within 600 runs from seeds 0-2, not from every seed), so
    # the known-bad searches start from a fixed seed: the test still fails if the bug stops being found.
    exp = assert_refuted(DDB, variant=variant, examples=FIND_BUDGET, seed=0)
    expected = DDB.variant(variant).expect_violation
    assert expected in {c.invariant for c in exp.failure.violations}
    assert len(exp.failure.history.operations()) <= SHRUNK_AT_MOST[variant], exp.failure.history.operations()
    if variant in ("unsafe-failover", "async-replication"):  # the loss goes through a failover to a replica missing it
        assert exp.failure.note_count("failover") > 0
        (lost,) = [c for c in exp.failure.violations if c.invariant == "no-lost-writes"]
        assert lost.witness["lost_writes"]


def test_fault_free_runs_hold_in_every_variant():
    """The failover and consistent-read findings come from faults, not from the workload alone."""
    no_faults = RunSettings(plan=FaultPlan(kinds=(), swarm=False))
    for v in DDB.variants:
        for seed in range(10):
            result = simulate(DDB, DDB.make_config(v.settings), SeededChoices(seed), no_faults)
            others = [c for c in result.violations if c.invariant != "default-read-after-write"]
            assert not others and result.error is None, (v.name, seed, [str(c) for c in result.violations])


def test_write_availability_with_one_zone_down_is_measured():
    m = measure_write_availability(0, runs=8)
    assert 0 < m.figure < 100
    by_zone = {row["down_zone"]: row for row in m.table}
    # losing a follower's zone costs nothing; losing the leader's zone costs the writes until failover
    for zone in ("zone-b", "zone-c"):
        assert by_zone[zone]["writes_fail"] + by_zone[zone]["writes_info"] == 0, by_zone[zone]
        assert by_zone[zone]["failovers"] == 0
    assert by_zone["zone-a"]["failovers"] > 0
    assert by_zone["zone-a"]["writes_fail"] + by_zone["zone-a"]["writes_info"] > 0



def test_raft_also_holds_over_datagram_links_that_duplicate_and_reorder():
    exp = assert_holds(DDB, variant="raft-leader-datagram")
    assert exp.verdict == "held", exp.summary()
    assert exp.links == "datagram" and exp.coverage.runs_with_event["duplicate"] > 0
    assert exp.coverage.runs_with_note["failover"] > 0
