"""z3 proofs of durability under loss: after losing zones and replicas, does every committed record keep a copy, and
can a recovery still read it?

:func:`models.quorum.prove_tolerates` answers availability (is a quorum still alive?). Durability is a different
question: a record committed at a write quorum is lost only if *every* replica of some write quorum is among the
lost ones, and it is recoverable only if a read quorum of survivors exists as well (the recovering writer must read
it). So a loss pattern can keep durability while losing write availability (Aurora after a zone plus one: 3 of 6
left). Exhaustive over one configuration's placement, as in :mod:`models.quorum`; the encodings are checked against
enumeration in ``tests/test_aurora.py``.
"""

from __future__ import annotations

import time

import z3

from models.quorum import ProofResult, as_quorum_system


def prove_durable(system, *, zones: int = 0, nodes: int = 0) -> ProofResult:
    """Prove that losing any ``zones`` whole zones plus any ``nodes`` further replicas leaves at least one copy of
    every write quorum alive (no committed record is lost) and a read quorum alive (a recovery can read it back);
    or give the loss and the write quorum it wipes out."""
    qs = as_quorum_system(system)
    n, w, r = len(qs.replicas), qs.write_quorum, qs.read_quorum
    what = " plus ".join(p for p in (f"any {zones} zone{'s' * (zones != 1)}" if zones else "",
                                     f"any {nodes} {'further ' if zones else ''}replica{'s' * (nodes != 1)}"
                                     if nodes or not zones else "") if p)
    claim = (f"After losing {what}, every record committed at a write quorum ({w} of {n}) keeps a live copy and a "
             f"read quorum ({r} of {n}) is alive to recover it.")
    started = time.perf_counter()
    solver = z3.Solver()
    zone_names = qs.zones if qs.zone_of is not None else ()
    zone_lost = {zone: z3.Bool(f"lost[{zone}]") for zone in zone_names}
    extra = {x: z3.Bool(f"failed[{x}]") for x in qs.replicas}
    member = {x: z3.Bool(f"committed_at[{x}]") for x in qs.replicas}
    alive = {}
    for x in qs.replicas:
        in_lost = zone_lost[qs.zone_of[x]] if qs.zone_of is not None else z3.BoolVal(False)
        solver.add(z3.Implies(extra[x], z3.Not(in_lost)))
        alive[x] = z3.And(z3.Not(in_lost), z3.Not(extra[x]))
    if zone_lost:
        solver.add(z3.PbEq([(v, 1) for v in zone_lost.values()], zones))
    solver.add(z3.AtMost(*extra.values(), nodes))
    solver.add(z3.PbEq([(v, 1) for v in member.values()], w))
    # A counterexample: some write quorum entirely lost, or fewer than a read quorum alive.
    wiped = z3.And(*[z3.Implies(member[x], z3.Not(alive[x])) for x in qs.replicas])
    solver.add(z3.Or(wiped, z3.AtMost(*alive.values(), r - 1)))
    outcome = solver.check()
    seconds = time.perf_counter() - started
    if outcome == z3.sat:
        m = solver.model()
        t = lambda b: z3.is_true(m.eval(b, model_completion=True))  # noqa: E731
        survivors = [x for x in qs.replicas if t(alive[x])]
        quorum = [x for x in qs.replicas if t(member[x])]
        lost = [x for x in qs.replicas if x not in survivors]
        if all(x in lost for x in quorum):
            why = (f"a record committed at {{{', '.join(quorum)}}} has every copy among the lost "
                   f"{{{', '.join(lost)}}}: it is gone")
        else:
            why = f"only {{{', '.join(survivors)}}} survive, fewer than the read quorum of {r}: no recovery can read it"
        return ProofResult(claim, "refuted", {"failed": lost, "alive": survivors, "write_quorum": quorum},
                           f"Let {{{', '.join(lost)}}} be lost. Then {why}.", seconds, 1)
    if outcome == z3.unsat:
        return ProofResult(claim, "proved", None,
                           f"z3 found no loss of {what} that wipes out a write quorum of {w} or leaves fewer than "
                           f"{r} replicas alive.", seconds, 1)
    return ProofResult(claim, "unknown", None, f"z3 could not decide: {solver.reason_unknown()}.", seconds, 1)
