"""Reading Dynamo histories with the register checkers: what a read that returned siblings counts as.

A vector-clock read may return several sibling values (``[key, [3, 7]]``): the client is handed every concurrent
version and reconciles them itself. The register checkers in :mod:`invariants` expect one value per read, so this
protocol-local adapter decides, before checking, which sibling a read stands for:

* if a sibling names no write, or a write that failed, that sibling is kept, so the checker reports the impossible
  read (a sibling set is no excuse for inventing a value);
* otherwise the sibling whose write completed last (an ``info`` write: never) is kept. A read "sees" all its
  siblings, so it is stale only if every sibling is older than the write it had to see; the last-completed sibling
  is the one that is older than the fewest writes, so checking it alone is exactly "some sibling is the
  acknowledged write or newer". The same holds for final reads and lost writes.

Convergence is judged on the raw sibling sets first: two replicas answering ``[3, 7]`` and ``[3]`` have not
converged, even though both would stand for 3.
"""

from __future__ import annotations

import json
import math

import attrs

from faultlab import CheckResult, History
from invariants.convergence import check_convergence


def resolve_siblings(history: History) -> History:
    """The same history, each sibling-set read replaced by the one sibling that stands for it (see above)."""
    writes = {}
    for op in history.operations():
        if op.f == "write":
            writes[json.dumps(op.input)] = op
    ok_reads = {op.ret_index for op in history.operations() if op.f == "read" and op.is_ok}

    def stands_for(key, siblings):
        def rank(v):
            w = writes.get(json.dumps([key, v]))
            if w is None or w.status == "fail":
                return (1, math.inf, 0)
            return (0, w.ret, w.call_index)
        return max(siblings, key=rank)

    events = []
    for e in history:
        if e.index in ok_reads and isinstance(e.value, list) and len(e.value) == 2 and isinstance(e.value[1], list):
            key, siblings = e.value
            e = attrs.evolve(e, value=[key, stands_for(key, siblings)])
        events.append(e)
    return History(events)


def check_sibling_convergence(history: History) -> CheckResult:
    """All final reads of a key return the same sibling set; then the register convergence checker."""
    finals: dict[str, list] = {}
    for op in history.operations():
        if op.f == "read" and op.is_ok and op.phase == "final":
            finals.setdefault(json.dumps(op.output[0]), []).append(op)
    for _, reads in sorted(finals.items()):
        first = reads[0]
        for other in reads[1:]:
            if json.dumps(other.output) != json.dumps(first.output):
                return CheckResult.violation(
                    "convergence",
                    f"Let R1 = {first.describe()} on node {first.node} and R2 = {other.describe()} on node "
                    f"{other.node}, final reads of key {first.output[0]!r} made after the faults healed and writes "
                    f"stopped. Then they returned different sibling sets ({first.output[1]!r} vs "
                    f"{other.output[1]!r}): the replicas did not converge: a contradiction!",
                    reads=[first.call_index, other.call_index], nodes=[first.node, other.node],
                    values=[first.output, other.output], key=first.output[0],
                    ops=[first.call_index, other.call_index])
    return check_convergence(resolve_siblings(history), keyed=True)
