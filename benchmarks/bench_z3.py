"""Time the z3 quorum proofs of ``models/quorum.py`` over every (N, W, R) with N <= 15, against brute force.

Why: the proofs run inside ``faultlab prove`` and the test suite, so their cost must stay small; and the brute-force
column says when z3 starts paying for itself. Both are measured in the same run, on the same machine, so the
ratios mean something even where the absolute numbers do not travel.

Brute force is the honest oracle the tests use: enumerate every read quorum and every write quorum with itertools
and stop at the first disjoint pair. A proved configuration has no such pair, so it costs C(N, R) * C(N, W) set
checks; that is why brute force is only run up to ``--brute-max-n``.

Run from anywhere: ``python benchmarks/bench_z3.py [--max-n 15] [--brute-max-n 12]``.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

# Run as a script the repository root is not on sys.path; put it there so ``models`` imports as in the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.quorum import (  # noqa: E402
    QuorumSystem,
    placement,
    prove_read_write_intersection,
    prove_tolerates,
    prove_write_write_intersection,
)


def brute_force_disjoint_quorums(names: tuple[str, ...], first_size: int, second_size: int) -> bool:
    """Whether some ``first_size`` replicas and some ``second_size`` replicas share none (same oracle as the tests)."""
    return any(set(a).isdisjoint(b)
               for a in itertools.combinations(names, first_size)
               for b in itertools.combinations(names, second_size))


def replicas(n: int) -> tuple[str, ...]:
    return tuple(f"r{i + 1}" for i in range(n))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-n", type=int, default=15, help="largest replica count for z3 (default 15)")
    parser.add_argument("--brute-max-n", type=int, default=12, help="largest replica count for brute force (default 12)")
    args = parser.parse_args(argv)

    prove_read_write_intersection(QuorumSystem(replicas(3), 2, 2))  # z3's first query pays one-off set-up costs
    print(f"read-write intersection, every (N, W, R) with 1 <= R, W <= N <= {args.max_n}")
    print(f"{'N':>3} {'cases':>6} {'proved':>6} {'z3 ms':>9} {'z3 ms/proof':>12} {'brute ms':>10} {'brute/z3':>9}")
    z3_total = brute_total = z3_on_brute_range = 0.0
    cases_total = 0
    per_proof: list[tuple[float, tuple[int, int, int]]] = []
    mismatches: list[tuple[int, int, int]] = []
    for n in range(1, args.max_n + 1):
        names = replicas(n)
        z3_seconds = brute_seconds = 0.0
        proved = 0
        for w, r in itertools.product(range(1, n + 1), repeat=2):
            started = time.perf_counter()
            result = prove_read_write_intersection(QuorumSystem(names, r, w))
            elapsed = time.perf_counter() - started
            z3_seconds += elapsed
            per_proof.append((elapsed, (n, w, r)))
            proved += result.proved
            if n <= args.brute_max_n:
                started = time.perf_counter()
                disjoint = brute_force_disjoint_quorums(names, r, w)
                brute_seconds += time.perf_counter() - started
                if disjoint == result.proved:
                    mismatches.append((n, w, r))
        cases = n * n
        cases_total += cases
        z3_total += z3_seconds
        brute = f"{brute_seconds * 1e3:10.1f} {brute_seconds / z3_seconds:9.2f}" if n <= args.brute_max_n else ""
        if n <= args.brute_max_n:
            brute_total += brute_seconds
            z3_on_brute_range += z3_seconds
        print(f"{n:>3} {cases:>6} {proved:>6} {z3_seconds * 1e3:9.1f} {z3_seconds / cases * 1e3:12.2f} {brute}")
    print(f"all {cases_total} read-write proofs: {z3_total:.2f} s with z3 "
          f"(median {statistics.median(t for t, _ in per_proof) * 1e3:.2f} ms per proof)")
    slowest = sorted(per_proof, reverse=True)[:3]
    print("slowest: " + ", ".join(f"(N, W, R) = {case} in {t * 1e3:.1f} ms" for t, case in slowest))
    print(f"N <= {args.brute_max_n}: z3 {z3_on_brute_range:.2f} s, brute force {brute_total:.2f} s, "
          f"brute/z3 = {brute_total / z3_on_brute_range:.2f}")

    started = time.perf_counter()
    for n in range(1, args.max_n + 1):
        for w in range(1, n + 1):
            prove_write_write_intersection(QuorumSystem(replicas(n), 1, w))
    pairs = args.max_n * (args.max_n + 1) // 2
    print(f"write-write, every (N, W) with N <= {args.max_n}: {pairs} proofs in "
          f"{time.perf_counter() - started:.2f} s")

    names, zone_of = placement(6, 3)
    aurora = QuorumSystem(names, 3, 4, zone_of)
    for zones, nodes, operation in [(1, 0, "write"), (1, 1, "read"), (1, 1, "write")]:
        result = prove_tolerates(aurora, zones=zones, nodes=nodes, operation=operation)
        print(f"Aurora N=6 over 3 zones, lose {zones} zone + {nodes} node, {operation}: {result.verdict} "
              f"in {result.seconds * 1e3:.2f} ms")

    if mismatches:
        print(f"MISMATCH between z3 and brute force at (N, W, R) = {mismatches}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
