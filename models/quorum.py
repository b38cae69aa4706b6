"""z3 proofs about a quorum system: do quorums intersect, and does a quorum survive losing zones and nodes?

A protocol's configuration says which replicas exist, how many of them a read and a write must reach, and (optionally)
which availability zone each replica lives in. This module turns that configuration into a :class:`QuorumSystem` and
asks z3 for a counterexample to each claim: two quorums that share no replica, or a set of failures that leaves fewer
live replicas than a quorum. ``unsat`` means no counterexample exists, so the claim is proved; ``sat`` gives a concrete
one, explained in words. Proofs are built from the very objects the protocols run (anything with a
``quorum_system()`` method), so a proof is about the deployed configuration, not a paraphrase of it.

Quorums are strict: a read quorum is any ``read_quorum`` of the fixed replicas, a write quorum any ``write_quorum``.
Every proof is exhaustive over one configuration (its N, quorum sizes and zone placement); it says nothing about other
configurations. ``tests/test_quorum_proofs.py`` checks the encodings against brute-force enumeration for all N <= 6.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import attrs
import z3

from faultlab.errors import ConfigError

Operation = Literal["read", "write"]
ProofVerdict = Literal["proved", "refuted", "unknown"]


def _copy_zone_map(zone_of: dict[str, str] | None) -> dict[str, str] | None:
    # A private copy, so the caller mutating their dict cannot change a frozen system.
    return None if zone_of is None else dict(zone_of)


@attrs.frozen
class QuorumSystem:
    """Replicas, the read and write quorum sizes, and optionally the availability zone of each replica.

    ``zone_of`` is None when the deployment has no zones. Validated on construction: a bad setting raises
    :class:`~faultlab.errors.ConfigError` naming the setting and the fix.
    """

    replicas: tuple[str, ...] = attrs.field(converter=tuple)
    read_quorum: int
    write_quorum: int
    # A dict cannot be hashed; leaving it out of the hash keeps equal systems hashing equal.
    zone_of: dict[str, str] | None = attrs.field(default=None, converter=_copy_zone_map, hash=False)

    def __attrs_post_init__(self) -> None:
        n = len(self.replicas)
        if n == 0:
            raise ConfigError("QuorumSystem: replicas is empty; list at least one replica name.")
        seen: set[str] = set()
        for replica in self.replicas:
            if not isinstance(replica, str) or not replica:
                raise ConfigError(f"QuorumSystem: replica {replica!r} is not a non-empty string; name replicas "
                                  "with strings such as 'r1'.")
            if replica in seen:
                raise ConfigError(f"QuorumSystem: replica {replica!r} appears more than once in replicas; give "
                                  "each replica a distinct name.")
            seen.add(replica)
        for name, size in (("read_quorum", self.read_quorum), ("write_quorum", self.write_quorum)):
            if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= n:
                raise ConfigError(f"QuorumSystem: {name}={size!r} is out of range for {n} replicas; set it to a "
                                  f"whole number from 1 to {n} (a majority is {n // 2 + 1}).")
        if self.zone_of is not None:
            missing = [r for r in self.replicas if r not in self.zone_of]
            if missing:
                raise ConfigError(f"QuorumSystem: zone_of gives no zone for {_names(missing)}; add a zone for "
                                  "every replica, or pass zone_of=None for a deployment without zones.")
            unknown = sorted(r for r in self.zone_of if r not in seen)
            if unknown:
                raise ConfigError(f"QuorumSystem: zone_of names {_names(unknown)}, which "
                                  f"{'is not a replica' if len(unknown) == 1 else 'are not replicas'}; remove "
                                  "them or add them to replicas.")
            bad = [r for r in self.replicas if not isinstance(self.zone_of[r], str) or not self.zone_of[r]]
            if bad:
                raise ConfigError(f"QuorumSystem: zone_of gives {_names(bad)} a zone that is not a non-empty "
                                  "string; name zones with strings such as 'az1'.")

    @property
    def zones(self) -> tuple[str, ...]:
        """Zone names in order of first appearance along ``replicas`` (empty when there are no zones)."""
        if self.zone_of is None:
            return ()
        return tuple(dict.fromkeys(self.zone_of[r] for r in self.replicas))

    def replicas_in(self, zone: str) -> tuple[str, ...]:
        """The replicas placed in ``zone``, in replica order."""
        return tuple(r for r in self.replicas if self.zone_of is not None and self.zone_of[r] == zone)

    def quorum(self, operation: Operation) -> int:
        """The quorum size of ``operation`` (``"read"`` or ``"write"``)."""
        if operation == "read":
            return self.read_quorum
        if operation == "write":
            return self.write_quorum
        raise ConfigError(f"operation={operation!r} is not a quorum operation; use 'read' or 'write'.")

    def describe(self) -> str:
        """One line for reports: ``N=6 R=3 W=4 over 3 zones``."""
        zones = f" over {len(self.zones)} zones" if self.zone_of is not None else ""
        return f"N={len(self.replicas)} R={self.read_quorum} W={self.write_quorum}{zones}"


def placement(n: int, zones: int) -> tuple[tuple[str, ...], dict[str, str]]:
    """Replicas ``r1..rn`` placed round-robin over zones ``az1..azK``: ``(replicas, zone_of)``.

    ``placement(6, 3)`` is Aurora's layout: two copies in each of three zones.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"placement: n={n!r} must be a whole number of replicas, at least 1.")
    if isinstance(zones, bool) or not isinstance(zones, int) or not 1 <= zones <= n:
        raise ConfigError(f"placement: zones={zones!r} must be from 1 to n={n}, so that no zone is left empty.")
    replicas = tuple(f"r{i + 1}" for i in range(n))
    return replicas, {r: f"az{i % zones + 1}" for i, r in enumerate(replicas)}


def as_quorum_system(obj: Any) -> QuorumSystem:
    """``obj`` itself if it is a :class:`QuorumSystem`, else ``obj.quorum_system()`` (a protocol configuration)."""
    if isinstance(obj, QuorumSystem):
        return obj
    method = getattr(obj, "quorum_system", None)
    if not callable(method):
        raise ConfigError(f"{type(obj).__name__} object is not a quorum system; pass a QuorumSystem or a "
                          "protocol configuration with a quorum_system() method.")
    system = method()
    if not isinstance(system, QuorumSystem):
        raise ConfigError(f"{type(obj).__name__}.quorum_system() returned {type(system).__name__}, not a "
                          "QuorumSystem; make it return models.quorum.QuorumSystem.")
    return system


@attrs.frozen
class ProofResult:
    """The outcome of one claim about one quorum system.

    ``verdict`` is ``"proved"`` (z3 found no counterexample: unsat), ``"refuted"`` (``counterexample`` holds one and
    ``explanation`` walks through it) or ``"unknown"`` (z3 gave up; never to be read as proved).
    """

    claim: str
    verdict: ProofVerdict
    counterexample: dict[str, Any] | None
    explanation: str
    seconds: float | None = None
    solver_checks: int | None = None

    @property
    def proved(self) -> bool:
        return self.verdict == "proved"

    def to_json(self) -> dict[str, Any]:
        return {"claim": self.claim, "verdict": self.verdict, "counterexample": self.counterexample,
                "explanation": self.explanation, "seconds": self.seconds, "solver_checks": self.solver_checks}

    def __str__(self) -> str:
        return f"{self.verdict}: {self.claim}\n  {self.explanation}"


def prove_read_write_intersection(system: Any) -> ProofResult:
    """Prove that every read quorum shares a replica with every write quorum, or give two that do not.

    This is what lets a read see the latest acknowledged write. Exhaustive for this configuration only.
    """
    qs = as_quorum_system(system)
    n, r, w = len(qs.replicas), qs.read_quorum, qs.write_quorum
    claim = f"Every read quorum ({r} of the {n} replicas) shares a replica with every write quorum ({w} of {n})."
    started = time.perf_counter()
    solver, outcome, (read, write) = _disjoint_quorums(qs, ("read", r), ("write", w))
    if outcome == z3.sat:
        return _refuted(claim, started, {"read_quorum": list(read), "write_quorum": list(write)},
                        f"Let a write go to {_set(write)} and a later read to {_set(read)}. These share no replica "
                        f"({r} + {w} <= {n}), so the read can miss the acknowledged write and return a stale value.")
    return _settled(claim, started, outcome, solver,
                    f"Any {r} replicas and any {w} replicas share one, because {r} + {w} > {n}: z3 found no two "
                    "disjoint quorums.")


def prove_write_write_intersection(system: Any) -> ProofResult:
    """Prove that every two write quorums share a replica, or give two that do not.

    This is what lets a writer learn of a concurrent write (and so order versions). Exhaustive for this
    configuration only.
    """
    qs = as_quorum_system(system)
    n, w = len(qs.replicas), qs.write_quorum
    claim = f"Every two write quorums ({w} of the {n} replicas each) share a replica."
    started = time.perf_counter()
    solver, outcome, (first, second) = _disjoint_quorums(qs, ("write_a", w), ("write_b", w))
    if outcome == z3.sat:
        return _refuted(claim, started, {"write_quorum": list(first), "other_write_quorum": list(second)},
                        f"Let one write go to {_set(first)} and a concurrent write to {_set(second)}. These share "
                        f"no replica ({w} + {w} <= {n}), so neither writer can learn of the other's write and "
                        "both can be acknowledged as the latest.")
    return _settled(claim, started, outcome, solver,
                    f"Any two sets of {w} replicas share one, because {w} + {w} > {n}: z3 found no two disjoint "
                    "write quorums.")


def prove_tolerates(system: Any, *, zones: int = 1, nodes: int = 0, operation: Operation) -> ProofResult:
    """Prove that after losing any ``zones`` whole zones plus any ``nodes`` further replicas, an ``operation``
    quorum of replicas is still alive; or give the failures that leave too few.

    Failures are z3 booleans: one per zone (lost or not, exactly ``zones`` of them lost) and one per replica
    (an extra failure outside the lost zones, at most ``nodes`` of them). Losing more is never better, so exactly
    ``zones`` zones covers "any ``zones``". Without zones configured, ``zones`` must be 0. Exhaustive over this
    configuration's placement; it is not a statement about other replica counts.
    """
    qs = as_quorum_system(system)
    n, quorum, zone_names = len(qs.replicas), qs.quorum(operation), qs.zones
    _check_failure_budget(qs, zones, nodes)
    lost_parts = []
    if zones:
        lost_parts.append(f"any {_count(zones, 'zone')} of the {len(zone_names)}")
    if nodes or not zones:
        lost_parts.append(f"any {_count(nodes, 'further replica' if zones else 'replica')}")
    lost_what = " plus ".join(lost_parts)
    claim = f"After losing {lost_what}, {quorum} of the {n} replicas (a {operation} quorum) are still alive."

    started = time.perf_counter()
    solver = z3.Solver()
    zone_lost = {zone: z3.Bool(f"lost[{zone}]") for zone in zone_names}
    extra_failed = {r: z3.Bool(f"failed[{r}]") for r in qs.replicas}
    alive = {}
    for r in qs.replicas:
        in_lost_zone = zone_lost[qs.zone_of[r]] if qs.zone_of is not None else z3.BoolVal(False)
        # "Further" replicas: an extra failure inside an already lost zone would waste the budget and blur the
        # counterexample.
        solver.add(z3.Implies(extra_failed[r], z3.Not(in_lost_zone)))
        alive[r] = z3.And(z3.Not(in_lost_zone), z3.Not(extra_failed[r]))
    if zone_lost:
        solver.add(z3.PbEq([(lost, 1) for lost in zone_lost.values()], zones))
    solver.add(z3.AtMost(*extra_failed.values(), nodes))
    solver.add(z3.AtMost(*alive.values(), quorum - 1))
    outcome = solver.check()
    if outcome == z3.sat:
        model = solver.model()
        lost = [zone for zone in zone_names if z3.is_true(model.eval(zone_lost[zone], model_completion=True))]
        extra = [r for r in qs.replicas if z3.is_true(model.eval(extra_failed[r], model_completion=True))]
        survivors = [r for r in qs.replicas if z3.is_true(model.eval(alive[r], model_completion=True))]
        failed = [r for r in qs.replicas if r not in survivors]
        let = " and ".join(f"zone {zone} fail (taking {_set(qs.replicas_in(zone))})" for zone in lost)
        if extra:
            let = f"{let}, and {_set(extra)} fail as well" if let else f"{_set(extra)} fail"
        elif not let:
            let = "nothing fail"
        if survivors:
            then = (f"only {_set(survivors)} {'is' if len(survivors) == 1 else 'are'} alive: "
                    f"{_count(len(survivors), 'replica')}")
        else:
            then = "no replica is alive"
        explanation = (f"Let {let}. Then {then}, fewer than the {operation} quorum of {quorum}, so no "
                       f"{operation} can complete.")
        return _refuted(claim, started, {"failed": failed, "alive": survivors, "zones_lost": lost,
                                         "nodes_lost": extra}, explanation)
    return _settled(claim, started, outcome, solver,
                    f"z3 found no choice of {lost_what} that leaves fewer than {quorum} replicas alive.")


def prove_all(system: Any, tolerance: Iterable[tuple[int, int, Operation]] = ()) -> list[ProofResult]:
    """Read-write and write-write intersection, then each ``(zones, nodes, operation)`` tolerance claim, in order."""
    qs = as_quorum_system(system)
    results = [prove_read_write_intersection(qs), prove_write_write_intersection(qs)]
    results.extend(prove_tolerates(qs, zones=zones, nodes=nodes, operation=operation)
                   for zones, nodes, operation in tolerance)
    return results


def _check_failure_budget(qs: QuorumSystem, zones: int, nodes: int) -> None:
    for name, value in (("zones", zones), ("nodes", nodes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"prove_tolerates: {name}={value!r} must be a whole number, 0 or more.")
    if qs.zone_of is None and zones != 0:
        raise ConfigError(f"prove_tolerates: zones={zones} but this quorum system has no zones (zone_of is None); "
                          "pass zones=0, or give the system a zone_of (see placement()).")
    if zones > len(qs.zones):
        raise ConfigError(f"prove_tolerates: zones={zones} but the system has only {len(qs.zones)} zones; pass "
                          f"zones from 0 to {len(qs.zones)}.")
    if nodes > len(qs.replicas):
        raise ConfigError(f"prove_tolerates: nodes={nodes} but the system has only {len(qs.replicas)} replicas; "
                          f"pass nodes from 0 to {len(qs.replicas)}.")


def _disjoint_quorums(qs: QuorumSystem, a: tuple[str, int], b: tuple[str, int]
                      ) -> tuple[z3.Solver, z3.CheckSatResult, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Ask z3 for two quorums of the given sizes that share no replica; their members when it finds them."""
    solver = z3.Solver()
    first, second = _membership(qs, a[0]), _membership(qs, b[0])
    _add_disjoint_quorums(solver, first, a[1], second, b[1])
    outcome = solver.check()
    if outcome != z3.sat:
        return solver, outcome, ((), ())
    model = solver.model()
    return solver, outcome, (_members(model, qs, first), _members(model, qs, second))


def _membership(qs: QuorumSystem, label: str) -> dict[str, z3.BoolRef]:
    return {r: z3.Bool(f"{label}[{r}]") for r in qs.replicas}


def _add_disjoint_quorums(solver: z3.Solver, first: dict[str, z3.BoolRef], first_size: int,
                          second: dict[str, z3.BoolRef], second_size: int) -> None:
    # Exactly, not at least: if any two quorums are disjoint then two minimal ones are, and a minimal
    # counterexample is the one a person can check.
    solver.add(z3.PbEq([(member, 1) for member in first.values()], first_size))
    solver.add(z3.PbEq([(member, 1) for member in second.values()], second_size))
    for replica in first:
        solver.add(z3.Not(z3.And(first[replica], second[replica])))


def _members(model: z3.ModelRef, qs: QuorumSystem, membership: dict[str, z3.BoolRef]) -> tuple[str, ...]:
    return tuple(r for r in qs.replicas if z3.is_true(model.eval(membership[r], model_completion=True)))


def _refuted(claim: str, started: float, counterexample: dict[str, Any], explanation: str) -> ProofResult:
    return ProofResult(claim, "refuted", counterexample, explanation, time.perf_counter() - started, 1)


def _settled(claim: str, started: float, outcome: z3.CheckSatResult, solver: z3.Solver,
             proof: str) -> ProofResult:
    if outcome == z3.unsat:
        return ProofResult(claim, "proved", None, proof, time.perf_counter() - started, 1)
    return ProofResult(claim, "unknown", None, f"z3 could not decide the claim: {solver.reason_unknown()}.",
                       time.perf_counter() - started, 1)


def _set(replicas: Sequence[str]) -> str:
    return "{" + ", ".join(replicas) + "}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _names(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names)
