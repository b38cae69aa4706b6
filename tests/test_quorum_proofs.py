"""Tests for ``models/quorum.py``: the z3 verdicts, the counterexamples themselves, and brute-force cross-checks.

Every refutation's counterexample is checked on its own terms (sizes, disjointness, which replicas failed), and the
encodings are compared with an independent itertools enumeration over every small configuration, so a wrong encoding
cannot hide behind a verdict that happens to be right.
"""

from __future__ import annotations

import itertools
import json

import attrs
import pytest
import z3

from faultlab.errors import ConfigError
from models.quorum import (
    ProofResult,
    QuorumSystem,
    as_quorum_system,
    placement,
    prove_all,
    prove_read_write_intersection,
    prove_tolerates,
    prove_write_write_intersection,
)

MAX_N = 6


def aurora(read_quorum: int = 3, write_quorum: int = 4) -> QuorumSystem:
    replicas, zone_of = placement(6, 3)
    return QuorumSystem(replicas, read_quorum, write_quorum, zone_of)


def replicas(n: int) -> tuple[str, ...]:
    return tuple(f"r{i + 1}" for i in range(n))


# --- Independent oracles: plain enumeration, sharing no code with the z3 encodings. ---------------------------------

def brute_force_disjoint_quorums(names: tuple[str, ...], first_size: int, second_size: int) -> bool:
    """Whether some ``first_size`` replicas and some ``second_size`` replicas share none."""
    return any(set(a).isdisjoint(b)
               for a in itertools.combinations(names, first_size)
               for b in itertools.combinations(names, second_size))


def brute_force_survives(system: QuorumSystem, zones: int, nodes: int, quorum: int) -> bool:
    """Whether every loss of ``zones`` zones plus at most ``nodes`` other replicas leaves ``quorum`` alive."""
    zone_names = sorted(set(system.zone_of.values())) if system.zone_of else []
    for lost_zones in itertools.combinations(zone_names, zones):
        up = [r for r in system.replicas if system.zone_of is None or system.zone_of[r] not in lost_zones]
        for k in range(min(nodes, len(up)) + 1):
            for extra in itertools.combinations(up, k):
                if len(up) - len(extra) < quorum:
                    return False
    return True


def assert_disjoint_quorums(result: ProofResult, system: QuorumSystem, keys: tuple[str, str],
                            sizes: tuple[int, int]) -> None:
    assert result.verdict == "refuted"
    first, second = (result.counterexample[key] for key in keys)
    assert (len(first), len(second)) == sizes
    assert len(set(first)) == len(first) and len(set(second)) == len(second)
    assert set(first) <= set(system.replicas) and set(second) <= set(system.replicas)
    assert set(first).isdisjoint(second)


def assert_real_failure(result: ProofResult, system: QuorumSystem, zones: int, nodes: int, quorum: int) -> None:
    """The counterexample loses exactly ``zones`` zones and at most ``nodes`` other replicas, and too few survive."""
    assert result.verdict == "refuted"
    cx = result.counterexample
    assert len(cx["zones_lost"]) == zones
    in_lost_zones = {r for r in system.replicas if system.zone_of and system.zone_of[r] in cx["zones_lost"]}
    assert len(cx["nodes_lost"]) <= nodes
    assert in_lost_zones.isdisjoint(cx["nodes_lost"])
    assert set(cx["failed"]) == in_lost_zones | set(cx["nodes_lost"])
    assert set(cx["alive"]) == set(system.replicas) - set(cx["failed"])
    assert len(cx["alive"]) < quorum


# --- Intersection. ----------------------------------------------------------------------------------------------------

def test_majority_reads_and_writes_intersect():
    result = prove_read_write_intersection(QuorumSystem(("a", "b", "c"), read_quorum=2, write_quorum=2))
    assert result.verdict == "proved"
    assert result.proved and result.counterexample is None
    assert "2 of the 3" in result.claim


def test_read_one_write_one_is_refuted_with_two_disjoint_quorums():
    system = QuorumSystem(("a", "b", "c"), read_quorum=1, write_quorum=1)
    result = prove_read_write_intersection(system)
    assert_disjoint_quorums(result, system, ("read_quorum", "write_quorum"), (1, 1))
    write, read = result.counterexample["write_quorum"][0], result.counterexample["read_quorum"][0]
    assert result.explanation.startswith(f"Let a write go to {{{write}}} and a later read to {{{read}}}")
    assert "share no replica" in result.explanation


@pytest.mark.parametrize(("n", "w"), [(2, 1), (4, 2), (5, 2), (6, 3)])
def test_write_quorums_that_fit_twice_are_refuted(n, w):
    system = QuorumSystem(replicas(n), read_quorum=n, write_quorum=w)
    result = prove_write_write_intersection(system)
    assert_disjoint_quorums(result, system, ("write_quorum", "other_write_quorum"), (w, w))
    assert prove_read_write_intersection(system).proved  # R = N always meets any write


def test_intersection_agrees_with_brute_force_for_every_small_configuration():
    for n in range(1, MAX_N + 1):
        names = replicas(n)
        for r, w in itertools.product(range(1, n + 1), repeat=2):
            system = QuorumSystem(names, r, w)
            read_write = prove_read_write_intersection(system)
            expected = "refuted" if brute_force_disjoint_quorums(names, r, w) else "proved"
            assert read_write.verdict == expected, (n, r, w)
            if expected == "refuted":
                assert_disjoint_quorums(read_write, system, ("read_quorum", "write_quorum"), (r, w))
            write_write = prove_write_write_intersection(system)
            expected = "refuted" if brute_force_disjoint_quorums(names, w, w) else "proved"
            assert write_write.verdict == expected, (n, w)
            if expected == "refuted":
                assert_disjoint_quorums(write_write, system, ("write_quorum", "other_write_quorum"), (w, w))


# --- Tolerance: the Aurora layout, then every small placement against brute force. ---------------------------------

def test_placement_is_round_robin_over_named_zones():
    names, zone_of = placement(6, 3)
    assert names == ("r1", "r2", "r3", "r4", "r5", "r6")
    assert zone_of == {"r1": "az1", "r2": "az2", "r3": "az3", "r4": "az1", "r5": "az2", "r6": "az3"}


def test_aurora_writes_survive_losing_a_zone():
    result = prove_tolerates(aurora(), zones=1, nodes=0, operation="write")
    assert result.verdict == "proved", result


def test_aurora_reads_survive_losing_a_zone_and_one_more_node():
    result = prove_tolerates(aurora(), zones=1, nodes=1, operation="read")
    assert result.verdict == "proved", result


def test_aurora_writes_do_not_survive_losing_a_zone_and_one_more_node():
    system = aurora()
    result = prove_tolerates(system, zones=1, nodes=1, operation="write")
    assert_real_failure(result, system, zones=1, nodes=1, quorum=4)
    (zone,) = result.counterexample["zones_lost"]
    (extra,) = result.counterexample["nodes_lost"]
    zone_replicas = [r for r in system.replicas if system.zone_of[r] == zone]
    assert sorted(result.counterexample["failed"]) == sorted([*zone_replicas, extra])
    assert len(result.counterexample["alive"]) == 3
    assert result.explanation.startswith(f"Let zone {zone} fail")
    assert "fewer than the write quorum of 4" in result.explanation


def test_tolerance_agrees_with_brute_force_for_every_small_placement():
    for n in range(1, MAX_N + 1):
        layouts = [QuorumSystem(replicas(n), 1, 1)]  # no zones: node failures only
        for k in range(1, min(n, 3) + 1):
            names, zone_of = placement(n, k)
            layouts.append(QuorumSystem(names, 1, 1, zone_of))
        for layout in layouts:
            for quorum in range(1, n + 1):
                system = attrs.evolve(layout, read_quorum=quorum, write_quorum=quorum)
                for zones in range(len(system.zones) + 1):
                    for nodes in range(n + 1):
                        result = prove_tolerates(system, zones=zones, nodes=nodes, operation="read")
                        survives = brute_force_survives(system, zones, nodes, quorum)
                        assert result.verdict == ("proved" if survives else "refuted"), (system, zones, nodes)
                        if not survives:
                            assert_real_failure(result, system, zones, nodes, quorum)


def test_operation_picks_the_quorum():
    system = aurora(read_quorum=3, write_quorum=4)
    assert prove_tolerates(system, zones=0, nodes=3, operation="read").proved
    assert not prove_tolerates(system, zones=0, nodes=3, operation="write").proved


def test_prove_all_runs_intersections_then_each_tolerance_claim_in_order():
    results = prove_all(aurora(), tolerance=[(1, 0, "write"), (1, 1, "read"), (1, 1, "write")])
    assert [r.verdict for r in results] == ["proved", "proved", "proved", "proved", "refuted"]
    assert results[0].claim.startswith("Every read quorum")
    assert results[1].claim.startswith("Every two write quorums")
    assert all(r.solver_checks == 1 and r.seconds >= 0 for r in results)
    json.dumps([r.to_json() for r in results])  # reports and the CLI need plain JSON


def test_z3_giving_up_is_unknown_never_proved(monkeypatch):
    monkeypatch.setattr(z3.Solver, "check", lambda self, *assumptions: z3.unknown)
    monkeypatch.setattr(z3.Solver, "reason_unknown", lambda self: "timeout")
    for result in prove_all(aurora(), tolerance=[(1, 0, "write")]):
        assert result.verdict == "unknown" and not result.proved
        assert "timeout" in result.explanation


# --- Protocol configurations and validation. --------------------------------------------------------------------------

@attrs.frozen
class FakeProtocolConfig:
    """Stands in for a protocol configuration: it knows how to describe its own quorum system."""

    n: int = 3
    read_quorum: int = 2
    write_quorum: int = 2

    def quorum_system(self) -> QuorumSystem:
        return QuorumSystem(replicas(self.n), self.read_quorum, self.write_quorum)


def test_protocol_configs_are_accepted_wherever_a_system_is():
    config = FakeProtocolConfig(n=3, read_quorum=1, write_quorum=1)
    assert as_quorum_system(config) == QuorumSystem(replicas(3), 1, 1)
    assert prove_read_write_intersection(config).verdict == "refuted"
    assert prove_tolerates(config, zones=0, nodes=2, operation="read").proved
    assert len(prove_all(config, [(0, 1, "write")])) == 3


def test_objects_that_are_not_quorum_systems_are_config_errors():
    with pytest.raises(ConfigError, match="int object is not a quorum system"):
        as_quorum_system(3)

    class Broken:
        def quorum_system(self):
            return {"replicas": ["a"]}

    with pytest.raises(ConfigError, match=r"Broken.quorum_system\(\) returned dict"):
        prove_read_write_intersection(Broken())


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(replicas=(), read_quorum=1, write_quorum=1), "replicas is empty"),
    (dict(replicas=("a", "b", "a"), read_quorum=1, write_quorum=1), "'a' appears more than once"),
    (dict(replicas=("a", ""), read_quorum=1, write_quorum=1), "not a non-empty string"),
    (dict(replicas=("a", "b", "c"), read_quorum=0, write_quorum=2), r"read_quorum=0 is out of range.*1 to 3"),
    (dict(replicas=("a", "b", "c"), read_quorum=2, write_quorum=4), r"write_quorum=4 is out of range.*1 to 3"),
    (dict(replicas=("a", "b", "c"), read_quorum=True, write_quorum=2), "read_quorum=True"),
    (dict(replicas=("a", "b"), read_quorum=1, write_quorum=1, zone_of={"a": "az1"}),
     r"no zone for 'b'.*zone_of=None"),
    (dict(replicas=("a",), read_quorum=1, write_quorum=1, zone_of={"a": "az1", "x": "az2"}),
     "names 'x', which is not a replica"),
])
def test_bad_systems_raise_config_errors_naming_the_setting(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        QuorumSystem(**kwargs)


@pytest.mark.parametrize(("system", "kwargs", "message"), [
    (QuorumSystem(("a", "b", "c"), 2, 2), dict(zones=1), r"no zones \(zone_of is None\); pass zones=0"),
    (aurora(), dict(zones=4), "only 3 zones"),
    (aurora(), dict(zones=0, nodes=7), "only 6 replicas"),
    (aurora(), dict(zones=-1), "zones=-1"),
])
def test_bad_failure_budgets_raise_config_errors(system, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        prove_tolerates(system, operation="read", **kwargs)


def test_unknown_operation_is_a_config_error():
    with pytest.raises(ConfigError, match="use 'read' or 'write'"):
        prove_tolerates(aurora(), zones=1, operation="append")


@pytest.mark.parametrize(("n", "zones"), [(0, 1), (3, 0), (3, 4)])
def test_bad_placements_raise_config_errors(n, zones):
    with pytest.raises(ConfigError, match="placement"):
        placement(n, zones)


def test_a_system_keeps_its_own_copy_of_the_zone_map():
    zone_of = {"a": "az1", "b": "az2"}
    system = QuorumSystem(("a", "b"), 1, 2, zone_of)
    zone_of["a"] = "az2"
    assert system.zone_of["a"] == "az1"
    assert hash(system) == hash(QuorumSystem(("a", "b"), 1, 2, {"a": "az1", "b": "az2"}))
