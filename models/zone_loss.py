"""z3 proofs that an acknowledged write survives the simultaneous loss of whole zones (facilities).

:mod:`models.quorum` asks whether a quorum is still *alive* after failures; durability asks something else: is every
set of replicas that may have acknowledged a write partly outside every choice of lost zones? A write is acknowledged
once acks cover ``ack_zones`` distinct zones (object data: one copy per zone is enough) or once ``write_quorum``
replicas have it (a quorum index). z3 looks for an acknowledging set and a set of ``lost`` zones that contains it;
``unsat`` proves that no such pair exists for this placement, ``sat`` is the counterexample.
"""

from __future__ import annotations

import time

import z3

from models.quorum import ProofResult, QuorumSystem


def prove_ack_survives_zone_loss(replicas: tuple[str, ...], zone_of: dict[str, str], *, lost: int,
                                 ack_zones: int | None = None, write_quorum: int | None = None,
                                 what: str = "write") -> ProofResult:
    """After any ``lost`` zones are destroyed at once, every acknowledged ``what`` still has a replica.

    Give ``ack_zones`` (the acknowledging replicas cover at least that many zones) or ``write_quorum`` (at least that
    many replicas acknowledged), exactly one.
    """
    assert (ack_zones is None) != (write_quorum is None), "give ack_zones or write_quorum"
    zones = tuple(dict.fromkeys(zone_of[r] for r in replicas))
    rule = (f"acknowledged once copies in {ack_zones} distinct zones have it" if ack_zones is not None else
            f"acknowledged once {write_quorum} of the {len(replicas)} replicas have it")
    claim = (f"A {what} {rule} survives the simultaneous loss of any {lost} of the {len(zones)} zones "
             f"({len(replicas)} replicas).")
    started = time.perf_counter()
    solver = z3.Solver()
    acked = {r: z3.Bool(f"acked[{r}]") for r in replicas}
    gone = {z: z3.Bool(f"lost[{z}]") for z in zones}
    solver.add(z3.PbEq([(g, 1) for g in gone.values()], min(lost, len(zones))))
    if ack_zones is not None:
        covered = [z3.Or(*[acked[r] for r in replicas if zone_of[r] == z]) for z in zones]
        solver.add(z3.PbGe([(c, 1) for c in covered], ack_zones))
    else:
        solver.add(z3.PbGe([(a, 1) for a in acked.values()], write_quorum))
    for r in replicas:  # every acknowledging replica is in a lost zone: the write is gone
        solver.add(z3.Implies(acked[r], gone[zone_of[r]]))
    outcome = solver.check()
    seconds = time.perf_counter() - started
    if outcome == z3.sat:
        m = solver.model()
        holders = [r for r in replicas if z3.is_true(m.eval(acked[r], model_completion=True))]
        lost_zones = [z for z in zones if z3.is_true(m.eval(gone[z], model_completion=True))]
        return ProofResult(claim, "refuted", {"acknowledged_by": holders, "zones_lost": lost_zones},
                           f"Let the {what} be acknowledged by {{{', '.join(holders)}}} ({rule}) and zones "
                           f"{{{', '.join(lost_zones)}}} be lost together. Then no replica holds it: the "
                           f"acknowledged {what} is lost.", seconds, 1)
    if outcome == z3.unsat:
        return ProofResult(claim, "proved", None, f"z3 found no acknowledging set inside any {lost} lost zones.",
                           seconds, 1)
    return ProofResult(claim, "unknown", None, f"z3 could not decide: {solver.reason_unknown()}.", seconds, 1)


def prove_quorum_ack_survives_zone_loss(system: QuorumSystem, *, lost: int, what: str = "write") -> ProofResult:
    """:func:`prove_ack_survives_zone_loss` for a quorum system's write quorum."""
    assert system.zone_of is not None, "the quorum system needs zones"
    return prove_ack_survives_zone_loss(system.replicas, system.zone_of, lost=lost,
                                        write_quorum=system.write_quorum, what=what)
