"""Dynamo: a consistent-hash ring, sloppy quorums (N, R, W) with hinted handoff, and vector clocks or LWW.

Seed section 1 (DynamoDB - The Dynamo Paper). Every node can coordinate a client operation on a key. The key's
preference list is walked on the ring (:mod:`protocols.dynamo.ring`): the first N distinct nodes are its preferred
replicas. A coordinator sends a write to those N; with ``sloppy`` on, each preferred replica that does not answer
within a timeout is replaced by the next node of the extended list, which stores the write as a *hint* for it
(``hinted_write``) and counts toward W; a periodic task hands hints back once the intended replica answers
(``handoff``). With ``sloppy`` off (strict quorum) only the top N count. Reads ask the top N (sloppy: then the
stand-ins) and merge the first R answers. Versioning (:mod:`protocols.dynamo.versions`): with ``vclock`` a write
first reads R replicas and carries the merged clock, so concurrent writes become siblings that a read returns as a
list for the client to reconcile; with ``lww`` a write is stamped with the coordinator's clock ``ctx.now()`` and
the largest stamp wins. Anti-entropy (:mod:`protocols.dynamo.antientropy`, over :mod:`protocols.dynamo.merkle`):
every period each pair of replicas compares Merkle trees over the keys both replicate, top-down over messages,
descending only into subtrees whose hashes differ, then swaps the entries of the differing leaves
(``anti_entropy_repair``). Membership (:mod:`protocols.dynamo.membership`, over :mod:`protocols.dynamo.gossip`; on
unless ``gossip=false``): each node gossips its view of heartbeats and incarnations to a random peer every period
and believes a node failed when its heartbeat has not advanced for ``FAIL_AFTER`` (``member_failed``,
``member_recovered``); a sloppy coordinator skips preferred replicas it believes failed, handing their writes to
stand-ins at once instead of after a timeout, and tries stand-ins believed up first. Every replica syncs a write to
disk before acknowledging it.

Claims and what the suite finds. Strict quorum with R + W > N and vector clocks holds read-after-write, no lost
acknowledged writes and convergence under drops, duplicates, delays, partitions, crashes, power loss and skew.
Sloppy quorums do not intersect: a write acknowledged by stand-ins on one side of a partition is missed by a read
quorum on the other, so "Sloppy quorum (N=3, W=2, R=2 typical)" does not give read-after-write (refuted, variant
``sloppy-vclock``), though no acknowledged write is lost once hints are handed off. Last-writer-wins silently drops
a later write stamped by a clock that runs behind: ``lww-skew`` loses acknowledged writes. Measured: Merkle
comparison finds one differing key among N with about 2 log2 N hash comparisons (full comparison: N); any one
crashed node is detected by every live node, and gossip spreads a join, a leave or a failure in about log2 N
rounds. Churn (``churn=true``, :mod:`protocols.dynamo.membership`): spares join through a seed member and
the last members leave gracefully during the run, every node routes on the ring of its own view, and ring changes
move keys to their new owners (durable, retried transfers; Merkle anti-entropy over the new ranges). Under every
fault no acknowledged write is lost and replicas converge (``strict-vclock-churn``), and a join or a leave moves
about 1/N of the replica copies in runs (:mod:`protocols.dynamo.measurements`). Read-after-write does not hold under
churn even with strict quorums: views disagree for a few gossip rounds, and a write quorum on the old ring misses a
read quorum on the new one, which includes a joiner that has not received its keys yet (refuted,
``strict-vclock-churn-stale-read``). Not claimed: availability of the coordinator a client picked (a crashed
coordinator, a spare not yet joined or a node that left answers nothing or ``fail``), agreement on membership, and
churn with sloppy quorums (hints for a node that left are not re-targeted; the configuration is rejected).

The package, in reading order: ``versions`` (vector clocks and LWW, pure), ``ring`` (the consistent-hash ring,
pure), ``merkle`` and ``gossip`` (the Merkle comparison and the membership view, pure), ``config`` (the settings),
the node in layers (``replica``, ``membership``, ``antientropy``, ``node``), ``siblings`` (how a sibling read is
judged), ``protocol`` (client requests, workload, invariants, witnesses, variants), ``measurements`` and
``claims``. Each module imports only modules before it; this one adds the claims to the protocol.
"""

from __future__ import annotations

import attrs

from protocols.dynamo.claims import CLAIMS
from protocols.dynamo.config import DynamoConfig
from protocols.dynamo.protocol import PROTOCOL

SPEC = attrs.evolve(PROTOCOL, claims=CLAIMS)

__all__ = ["SPEC", "DynamoConfig"]
