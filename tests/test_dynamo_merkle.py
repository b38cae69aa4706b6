"""dynamo anti-entropy: Merkle comparison finds what differs in O(log N) hash comparisons, and the protocol's replicas
converge through it under faults (and do not without it)."""

from __future__ import annotations

import math

import pytest

from faultlab.choices import SeededChoices
from faultlab.explore import explore
from faultlab.runtime import RunSettings, Simulation
from protocols.dynamo import SPEC
from protocols.dynamo.antientropy import AntiEntropyNode
from protocols.dynamo.merkle import MerkleTree, compare, entry_digest, measure_comparisons
from protocols.dynamo.protocol import KEYS
from protocols.dynamo.versions import Version

DY = SPEC


def _state(n: int) -> dict[str, tuple[Version, ...]]:
    return {f"k{i}": (Version(("n1", i + 1), (), i, 0.0),) for i in range(n)}


def test_one_differing_key_costs_one_plus_two_log2_n_comparisons_and_full_comparison_costs_n():
    m = measure_comparisons(0, sizes=(64, 512, 4096), differing=(1, 8))
    assert 1.9 <= m.figure <= 2.3, m.summary
    for row in m.table:
        assert row["full_comparison"] == row["N"] and row["round_trips"] == row["depth"] + 1, row
        if row["differing_keys"] == 1:
            assert row["comparisons"] == 1 + 2 * row["depth"], row
        else:  # k differences cost at most about 2 k log2 N: still far below N at large N
            assert row["comparisons"] <= 2 * 8 * math.log2(row["N"]) + 1, row
    big = [r for r in m.table if r["N"] == 4096 and r["differing_keys"] == 1][0]
    assert big["comparisons"] * 100 < big["N"]


def test_equal_states_compare_equal_at_the_root_and_any_change_is_found():
    a = _state(100)
    assert compare(MerkleTree.of(a, 5), MerkleTree.of(dict(reversed(list(a.items()))), 5)).comparisons == 1
    b = dict(a)
    b["k42"] = (Version(("n2", 1), (("n1", 43),), 7, 0.0),)
    c = dict(a)
    del c["k7"]  # a key one replica lacks differs too
    for other, key in ((b, "k42"), (c, "k7")):
        diff = compare(MerkleTree.of(a, 5), MerkleTree.of(other, 5))
        assert key in MerkleTree.of(a, 5).keys_in(diff.differing_leaves)
        assert len(diff.differing_leaves) == 1


def test_tree_hashes_are_the_same_in_every_process():
    # hashlib, not hash(): a pinned root fails if anything process-dependent creeps into the hashing.
    root = MerkleTree.of(_state(3), 3).root.hex()
    assert root == MerkleTree({k: entry_digest(k, v) for k, v in _state(3).items()}, 3).root.hex()
    assert root[:16] == "019ea9dfa99b681c"


def _replica_divergence(runs: int) -> tuple[int, int]:
    """(keys whose N preferred replicas hold different versions after the run, runs with a Merkle repair)."""
    config = DY.make_config(DY.variant("strict-vclock").settings)
    diverged = repaired = 0
    for seed in range(runs):
        sim = Simulation(DY, config, RunSettings(), SeededChoices(seed))
        result = sim.run()
        repaired += result.note_count("anti_entropy_repair") > 0
        for key in KEYS:
            states = {sim.storages[n].get(("data", key), ()) for n in config.walk(key)[: config.n]}
            diverged += len(states) > 1
    return diverged, repaired


def test_merkle_anti_entropy_makes_every_preferred_replica_equal_after_faults():
    diverged, repaired = _replica_divergence(25)
    assert diverged == 0 and repaired > 0


def test_without_anti_entropy_replicas_stay_divergent(monkeypatch):
    """The previous test can fail: with anti-entropy never running, replicas that missed a write stay behind."""
    monkeypatch.delattr(AntiEntropyNode, "sync_replicas")  # the periodic Merkle round is gone
    diverged, repaired = _replica_divergence(25)
    assert diverged > 0 and repaired == 0


@pytest.mark.parametrize("variant", ["strict-vclock", "sloppy-vclock"])
def test_final_reads_converge_with_merkle_anti_entropy_and_it_repairs(variant):
    exp = explore(DY, DY.make_config(DY.variant(variant).settings), examples=40, seed=1, settings=RunSettings(),
                  invariants=("convergence", "no-lost-writes"))
    assert exp.verdict == "held", exp.summary()
    assert exp.coverage.runs_with_note["anti_entropy_repair"] > 0
