"""dynamo's claims: the seed's sentences (section 1), each with how the suite judges it and the verdict it expects.

An ``invariant`` claim is judged by exploring a variant of :mod:`protocols.dynamo.protocol`; a ``measure`` claim by a
figure: a pure computation on the code the nodes run (the ring, the Merkle comparison, the gossip view) or seeded runs
of the protocol (:mod:`protocols.dynamo.measurements`). A claim the seed gets wrong is reported refuted, never
weakened.
"""

from __future__ import annotations

from faultlab import Claim
from protocols.dynamo.gossip import measure_detection_everywhere, measure_gossip_rounds
from protocols.dynamo.measurements import measure_availability, measure_churn_movement
from protocols.dynamo.merkle import measure_comparisons
from protocols.dynamo.ring import measure_movement

SECTION = "1"
SLOPPY_TEXT = "Sloppy quorum (N=3, W=2, R=2 typical)"

CLAIMS = (
    Claim(SECTION, "Adding/removing nodes only moves ~1/N of data", "measure", measure=measure_movement,
          note="pure computation on the ring the nodes route on (ring.py; 64 virtual nodes, 20,000 keys): "
               "fraction of keys whose owner changes when a node joins or leaves, times N; 1.0 means exactly 1/N"),
    Claim(SECTION, "Adding/removing nodes only moves ~1/N of data", "measure", measure=measure_churn_movement,
          expect="measured",
          note="row 'Consistent hashing (virtual nodes)', in runs: seeded fault-free runs with churn=true (a "
               "spare joins 5 members; one of 5 leaves), 40 keys written; replica copies actually transferred "
               "to a node that gained the key, over keys x N present when the ring changed, times the ring "
               "size; 1.0 means exactly 1/N"),
    Claim(SECTION, "Sloppy quorum allows writes even when some replicas are temporarily down", "measure",
          measure=measure_availability,
          note="seeded simulation runs with crash faults: fraction of writes acknowledged, bucketed by how many "
               "of the key's preferred replicas were down when the write began, sloppy vs strict"),
    Claim(SECTION, SLOPPY_TEXT, "invariant", variant="sloppy-vclock", invariants=("read-after-write",),
          note="read as 'R + W > N, so reads see acknowledged writes' for the sloppy quorum the row names; "
               "expected refuted: stand-ins outside the top N do not intersect a read quorum"),
    Claim(SECTION, SLOPPY_TEXT, "invariant", variant="strict-vclock", invariants=("read-after-write",),
          note="the same sentence for a strict quorum (sloppy=false): expected held"),
    Claim(SECTION, SLOPPY_TEXT, "invariant", variant="strict-vclock-churn-stale-read",
          invariants=("read-after-write",), expect="refuted",
          note="the same sentence for a strict quorum while nodes join and leave: expected refuted, because a "
               "coordinator routes on its own view and views disagree for a few gossip rounds after a change"),
    Claim(SECTION, "Vector clocks allow concurrent writes without coordination", "invariant",
          variant="sloppy-vclock", invariants=("no-lost-writes", "convergence"),
          note="concurrent writes are kept as siblings or superseded by a write that saw them, so none is lost, "
               "even through sloppy quorums and partitions"),
    Claim(SECTION, "last-writer-wins for simplicity", "invariant", variant="lww-skew",
          invariants=("no-lost-writes",),
          note="under clock skew a later write with a lower timestamp is dropped: expected refuted"),
    Claim(SECTION, "Merkle trees identify differences with O(log N) comparisons", "measure",
          measure=measure_comparisons,
          note="pure computation on the Merkle code the anti-entropy runs (merkle.py): hashes compared to "
               "find 1 (and 8) differing keys among N = 2^6..2^14, tree depth log2 N; figure = comparisons / "
               "log2 N for one key, flat if O(log N); full data comparison is N"),
    Claim(SECTION, "Merkle trees for replica synchronization", "invariant", variant="strict-vclock",
          invariants=("convergence", "no-lost-writes"),
          note="with Merkle anti-entropy the final reads of every key agree after healing; the exploration is "
               "vacuous unless some run repaired a replica through it (witness)"),
    Claim(SECTION, "Decentralized — no single point of failure", "measure", measure=measure_detection_everywhere,
          note="row 'Failure detection', 'Why' column; seeded round-based runs of the gossip code the nodes "
               "run (gossip.py): crash each of 8 nodes in turn, the first contact of joiners included; "
               "figure = fraction of (crashed, live observer) pairs where the observer marked it failed"),
    Claim(SECTION, "Gossip protocol", "measure", measure=measure_gossip_rounds,
          note="seeded round-based runs of the same gossip code for N = 4..64: rounds until every node knows "
               "of a join, a leave and (beyond the timeout) a crash; figure = join rounds / log2 N"),
)
