"""Cell routing and shuffle-shard assignment: the functions the protocols run, their exact combinatorics, z3 proofs.

Seed sections 11 ("Cell-Based Architecture") and 12 ("Shuffle Sharding"). Both route by a stable hash of the
customer ID (:func:`customer_hash`: the first 4 bytes of SHA-256, big-endian; never Python's ``hash()``, which
changes with ``PYTHONHASHSEED``):

* a cell is ``hash % cells`` (:class:`CellRouting`);
* a customer's shards are ``table[hash % len(table)]`` (:class:`ShardAssignment`), where the table lists the
  "virtual shards": every k-subset of the n shards for a real shuffle (C(8,2) = 28 for n=8, k=2), or a few fixed
  groups for the known-bad assignments a reviewer would try.

Because both are functions of ``hash mod M``, properties over *every* 32-bit hash are decided exactly: z3 over a
32-bit bit-vector for "every hash maps to k distinct shards in range" and "which shard sets are reachable", and
counting for probabilities: exactly ``floor((2**32 - 1 - r) / M) + 1`` hashes fall in residue ``r``, so the chance
that two customers whose hashes are independent and uniform (the modelling assumption, stated with every figure)
get the same shard set is the exact fraction ``sum over sets of (hashes reaching it / 2**32) ** 2``. For n=8, k=2
that is 1/28 plus 2**-61-ish (2**32 is not a multiple of 28), which is what "1/28 ≈ 3.6%" means for this code.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import time
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction

import attrs
import z3

from models.quorum import ProofResult

HASH_BITS = 32
HASH_SPACE = 2 ** HASH_BITS


def customer_hash(customer: str) -> int:
    """The routing hash of a customer ID: SHA-256's first 4 bytes, big-endian (stable in every process)."""
    return int.from_bytes(hashlib.sha256(customer.encode()).digest()[:4], "big")


def residue_counts(modulus: int) -> list[int]:
    """How many of the 2**32 hash values fall in each residue ``r`` of ``hash % modulus`` (exact)."""
    return [(HASH_SPACE - 1 - r) // modulus + 1 for r in range(modulus)]


# -- cells -----------------------------------------------------------------------------------------------------------
@attrs.frozen
class CellRouting:
    """Customer -> cell by ``hash % cells``; cells are named ``cell-1`` .. ``cell-N``."""

    cells: int

    def cell_index(self, customer: str) -> int:
        return customer_hash(customer) % self.cells

    def cell_of(self, customer: str) -> str:
        return f"cell-{self.cell_index(customer) + 1}"

    def cell_names(self) -> tuple[str, ...]:
        return tuple(f"cell-{i + 1}" for i in range(self.cells))


def prove_cell_routing(routing: CellRouting) -> list[ProofResult]:
    """Every 32-bit hash routes to one of the N cells, every cell is reached, and the hash space is split evenly
    (residue counts differ by at most one hash): what "Deterministic routing, even distribution" can mean exactly."""
    n = routing.cells
    started = time.perf_counter()
    h = z3.BitVec("hash", HASH_BITS)
    cell = z3.URem(h, n)
    solver = z3.Solver()
    solver.add(z3.UGE(cell, n))
    out_of_range = solver.check()
    unreached = []
    for i in range(n):
        s = z3.Solver()
        s.add(cell == i)
        if s.check() != z3.sat:
            unreached.append(f"cell-{i + 1}")
    seconds = time.perf_counter() - started
    claim = f"Every customer hash routes to one of the {n} cells, and each cell is reached."
    if out_of_range == z3.sat or unreached:
        routed = [ProofResult(claim, "refuted", {"unreached": unreached},
                              f"Let the cells be {routing.cell_names()}. Then {unreached} receive no customer.",
                              seconds, n + 1)]
    else:
        routed = [ProofResult(claim, "proved", None, f"z3: hash % {n} is below {n} for every 32-bit hash (unsat), "
                              f"and each of the {n} cells has a hash routed to it (sat).", seconds, n + 1)]
    counts = residue_counts(n)
    even = max(counts) - min(counts) <= 1
    share = [Fraction(c, HASH_SPACE) for c in counts]
    spread = max(abs(s - Fraction(1, n)) for s in share)
    routed.append(ProofResult(
        f"The 2**32 hash values are split over the {n} cells within one value of each other.",
        "proved" if even else "refuted", None if even else {"counts": counts},
        f"Counted exactly: {min(counts)} to {max(counts)} hashes per cell; every cell's share is 1/{n} "
        f"within {float(spread):.3g}.", 0.0, 0))
    return routed


# -- shuffle sharding ------------------------------------------------------------------------------------------------
def combination_table(n: int, k: int) -> tuple[tuple[int, ...], ...]:
    """Every k-subset of shards 0..n-1, lexicographic: the virtual shards of a real shuffle shard."""
    return tuple(itertools.combinations(range(n), k))


def block_table(n: int, k: int) -> tuple[tuple[int, ...], ...]:
    """Disjoint groups of k shards ((0,1), (2,3), ...): simple sharding in pairs, not a shuffle (known-bad)."""
    return tuple(tuple(range(i, i + k)) for i in range(0, n, k))


def adjacent_table(n: int, k: int) -> tuple[tuple[int, ...], ...]:
    """n windows of k neighbouring shards ((0,1), (1,2), ..., (7,0)): a rotation, not a shuffle (known-bad)."""
    return tuple(tuple(sorted((i + j) % n for j in range(k))) for i in range(n))


TABLES = {"shuffle": combination_table, "blocks": block_table, "adjacent": adjacent_table}


@attrs.frozen
class ShardAssignment:
    """Customer -> its shards: ``table[hash % len(table)]`` over ``shards`` shards."""

    shards: int
    k: int
    table: tuple[tuple[int, ...], ...]

    @classmethod
    def build(cls, shards: int, k: int, kind: str = "shuffle") -> ShardAssignment:
        return cls(shards, k, TABLES[kind](shards, k))

    def shards_of(self, customer: str) -> tuple[int, ...]:
        return self.table[customer_hash(customer) % len(self.table)]

    def set_weights(self) -> dict[tuple[int, ...], Fraction]:
        """Each reachable shard set and the exact share of the hash space that gets it."""
        weights: Counter = Counter()
        for r, count in enumerate(residue_counts(len(self.table))):
            weights[tuple(sorted(self.table[r]))] += count
        return {s: Fraction(c, HASH_SPACE) for s, c in sorted(weights.items())}

    def overlap_probability(self) -> Fraction:
        """Exactly: two customers with independent uniform hashes get the same shard set (share all k shards)."""
        return sum((w * w for w in self.set_weights().values()), Fraction(0))

    def any_shared_probability(self) -> Fraction:
        """Exactly: two such customers share at least one shard (what a client without retry is exposed to)."""
        weights = self.set_weights()
        return sum((wa * wb for a, wa in weights.items() for b, wb in weights.items() if set(a) & set(b)),
                   Fraction(0))


def _hash_var(solver: z3.Solver) -> z3.ArithRef:
    """A customer hash: any integer in [0, 2**32)."""
    h = z3.Int("hash")
    solver.add(h >= 0, h < HASH_SPACE)
    return h


def _shard_terms(assignment: ShardAssignment, h: z3.ArithRef) -> list[z3.ArithRef]:
    """The j-th shard of the set ``hash`` maps to, as z3 terms: an If-chain over ``hash % len(table)``."""
    idx = h % len(assignment.table)
    terms = []
    for j in range(assignment.k):
        term = z3.IntVal(assignment.table[-1][j])
        for r in range(len(assignment.table) - 2, -1, -1):
            term = z3.If(idx == r, z3.IntVal(assignment.table[r][j]), term)
        terms.append(term)
    return terms


def prove_k_distinct_shards(assignment: ShardAssignment) -> ProofResult:
    """z3: every 32-bit hash maps to k distinct shards, each in 0..n-1 (the assignment is well formed)."""
    n, k = assignment.shards, assignment.k
    claim = f"Every customer hash is assigned exactly {k} distinct shards of the {n}."
    started = time.perf_counter()
    solver = z3.Solver()
    h = _hash_var(solver)
    terms = _shard_terms(assignment, h)
    ok = z3.And(*[z3.And(t >= 0, t < n) for t in terms], z3.Distinct(*terms) if k > 1 else z3.BoolVal(True))
    solver.add(z3.Not(ok))
    outcome = solver.check()
    seconds = time.perf_counter() - started
    if outcome == z3.sat:
        hv = solver.model().eval(h, model_completion=True).as_long()  # an int, so as_long works as for bit-vectors
        got = assignment.table[hv % len(assignment.table)]
        return ProofResult(claim, "refuted", {"hash": hv, "shards": list(got)},
                           f"Let a customer's hash be {hv}. Then it is assigned {list(got)}, not {k} distinct "
                           f"shards of 0..{n - 1}.", seconds, 1)
    if outcome == z3.unsat:
        return ProofResult(claim, "proved", None, f"z3 found no 32-bit hash whose {k} shards repeat or fall outside "
                           f"0..{n - 1} (unsat).", seconds, 1)
    return ProofResult(claim, "unknown", None, f"z3: {solver.reason_unknown()}", seconds, 1)


def prove_virtual_shards(assignment: ShardAssignment) -> ProofResult:
    """z3: the shard sets customers can get are exactly all C(n,k) k-subsets (each reached by some hash)."""
    n, k = assignment.shards, assignment.k
    expected = math.comb(n, k)
    claim = f"Customers are spread over all C({n},{k}) = {expected} {k}-shard sets (virtual shards)."
    started = time.perf_counter()
    solver = z3.Solver()
    h = _hash_var(solver)
    terms = _shard_terms(assignment, h)
    unreached = []
    checks = 0
    for subset in itertools.combinations(range(n), k):
        solver.push()
        solver.add(*[t == s for t, s in zip(terms, subset, strict=True)])
        checks += 1
        if solver.check() != z3.sat:
            unreached.append(list(subset))
        solver.pop()
    seconds = time.perf_counter() - started
    reached = expected - len(unreached)
    if unreached:
        return ProofResult(claim, "refuted", {"reached": reached, "unreached": unreached[:6]},
                           f"Let the table be {[list(t) for t in assignment.table]}. Then only {reached} of the "
                           f"{expected} shard sets are ever assigned (e.g. {unreached[0]} never is): customers "
                           f"crowd into {reached} virtual shards.", seconds, checks)
    return ProofResult(claim, "proved", None, f"z3 found a hash for each of the {expected} sets ({checks} sat "
                       f"checks); sorted tables make every set one term order, so no other set exists.",
                       seconds, checks)


def prove_overlap(assignment: ShardAssignment, expected: Fraction, shown: str) -> ProofResult:
    """Exhaustive over the 2**32 hashes (by residue counts): the exact probability that two customers with
    independent uniform hashes share all their shards, against ``expected`` (``shown`` as the document writes it,
    e.g. "1/28 ≈ 3.6%"): proved when equal to within one part in a million and the same to one decimal place."""
    p = assignment.overlap_probability()
    claim = f"Two random customers share all {assignment.k} shards with probability {shown}."
    close = abs(p - expected) <= expected / 1_000_000 and round(100 * float(p), 1) == round(100 * float(expected), 1)
    diff = p - expected
    detail = (f"exactly {p.numerator}/{p.denominator} = {float(p):.6f} ({100 * float(p):.2f}%), "
              f"{expected} {'+' if diff >= 0 else '-'} {abs(diff)}")
    if close:
        return ProofResult(claim, "proved", None, f"Counted over every 32-bit hash: {detail}.", 0.0, 0)
    return ProofResult(claim, "refuted", {"probability": str(p), "as_float": float(p),
                                          "expected": str(expected)},
                       f"Let two customers' hashes be independent and uniform. Then they share all "
                       f"{assignment.k} shards with probability {detail}: not {shown}.", 0.0, 0)


def prove_unique_sets(assignment: ShardAssignment, customers: Sequence[str]) -> ProofResult:
    """Exhaustive over the given customers: does each get a shard set no other customer has?"""
    claim = f"Each of the {len(customers)} customers is assigned a shard set of its own."
    seen: dict[tuple[int, ...], str] = {}
    for c in customers:
        s = assignment.shards_of(c)
        if s in seen:
            weights = assignment.set_weights()
            return ProofResult(claim, "refuted", {"customers": [seen[s], c], "shards": list(s)},
                               f"Let {seen[s]} and {c} be customers. Then both are assigned shards {list(s)}. "
                               f"A hash-based assignment cannot promise uniqueness: {len(customers)} customers "
                               f"all get different sets with probability {float(all_distinct_probability(weights, len(customers))):.3f}, "
                               f"and beyond {len(weights)} customers never.", 0.0, 0)
        seen[s] = c
    return ProofResult(claim, "proved", None, f"{len(customers)} customers, {len(seen)} distinct sets.", 0.0, 0)


def all_distinct_probability(weights: dict[tuple[int, ...], Fraction], customers: int) -> Fraction:
    """Exactly (for uniform weights; a close approximation otherwise): ``customers`` independent customers all get
    different shard sets (the birthday problem over the virtual shards)."""
    m = len(weights)
    p = Fraction(1)
    for i in range(customers):
        p *= Fraction(max(m - i, 0), m)
    return p
