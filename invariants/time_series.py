"""Time-range queries over a store of time-series points: no acknowledged point lost, none returned twice, none made up.

A point is ``(series, timestamp, value)``; its identity is ``(series, timestamp)`` (a second write of one identity
would be an upsert; the workloads judged here never do that, so each identity names one write). A write is
``f="write"`` with input ``[series, timestamp, value]``; a query is ``f="query"`` with input ``[lo, hi]`` (the
closed range of timestamps it covers) and an ``ok`` value that is the list of points it returned.

* :func:`check_no_lost_points`: let W be an acknowledged write and Q an ok query invoked after W completed whose
  range covers W's timestamp; then Q returned W's point. Where the point is stored (which tier) is no excuse.
* :func:`check_no_duplicate_points`: no ok query returned one identity twice.
* :func:`check_no_phantom_points`: every point a query returned was written, with that value, by a write that may
  have happened (ok or info, never fail).

Pure over a history: no trio, no Hypothesis.
"""

from __future__ import annotations

from collections import Counter

from faultlab.history import History
from faultlab.result import CheckResult

__all__ = ["check_no_duplicate_points", "check_no_lost_points", "check_no_phantom_points"]


def _point(raw) -> tuple:
    series, ts, value = raw
    return (series, float(ts), value)


def _queries(history: History) -> list:
    return [op for op in history.operations() if op.f == "query" and op.is_ok]


def check_no_lost_points(history: History) -> CheckResult:
    """Every ``query`` over a timestamp range returns each point whose ``write`` was acknowledged before it began."""
    checker = "no-lost-points"
    ops = history.operations()
    writes = [op for op in ops if op.f == "write" and op.is_ok]
    queries = _queries(history)
    judged = 0
    for q in queries:
        lo, hi = (float(x) for x in q.input)
        returned = {_point(p) for p in q.output}
        for w in writes:
            p = _point(w.input)
            if lo <= p[1] <= hi and w.precedes(q):
                judged += 1
                if p not in returned:
                    return CheckResult.violation(
                        checker, f"Let W = {w.describe()}: it was acknowledged. Let Q = {q.describe()}, invoked "
                        f"after W completed, over timestamps [{lo}, {hi}], which covers W's timestamp {p[1]}. Then "
                        f"Q returned {len(returned)} points and not W's point {list(p)}: a contradiction!",
                        lost_point=list(p), write=w.call_index, query=q.call_index, ops=[w.call_index, q.call_index])
    if not judged:
        return CheckResult.unexercised(checker, "No ok query covered an acknowledged write that preceded it.",
                                       queries=len(queries))
    return CheckResult.holds(checker, f"{len(queries)} ok queries returned each of the {judged} (write, query) "
                                      f"pairs they had to", pairs=judged, queries=len(queries))


def check_no_duplicate_points(history: History) -> CheckResult:
    """No ``query`` returns one (series, timestamp) point twice (a migration between tiers must not copy it)."""
    checker = "no-duplicate-points"
    queries = _queries(history)
    for q in queries:
        seen = Counter(_point(p)[:2] for p in q.output)
        twice = sorted(k for k, n in seen.items() if n > 1)
        if twice:
            series, ts = twice[0]
            return CheckResult.violation(
                checker, f"Let Q = {q.describe()}. Then Q returned the point of series {series!r} at timestamp {ts} "
                f"{seen[twice[0]]} times, but a point is one (series, timestamp): a contradiction!",
                duplicated=[series, ts], times=seen[twice[0]], query=q.call_index, ops=[q.call_index])
    if not queries:
        return CheckResult.unexercised(checker, "No query returned.", queries=0)
    return CheckResult.holds(checker, f"{len(queries)} ok queries returned each point at most once",
                             queries=len(queries))


def check_no_phantom_points(history: History) -> CheckResult:
    """Every point a ``query`` returns was written by a ``write`` that may have happened (not failed)."""
    checker = "no-phantom-points"
    ops = history.operations()
    written = {_point(op.input): op for op in ops if op.f == "write" and op.status != "fail"}
    queries = _queries(history)
    for q in queries:
        for raw in q.output:
            p = _point(raw)
            if p not in written:
                return CheckResult.violation(
                    checker, f"Let Q = {q.describe()}. Then Q returned the point {list(p)}, which no write that may "
                    f"have happened wrote: a contradiction!", phantom=list(p), query=q.call_index, ops=[q.call_index])
    if not queries:
        return CheckResult.unexercised(checker, "No query returned.", queries=0)
    return CheckResult.holds(checker, f"every point of {len(queries)} ok queries was written", queries=len(queries))


# For `faultlab check-history --check NAME` (faultlab.checkers): checkers that take a history alone.
CHECKERS = {"no-lost-points": check_no_lost_points, "no-duplicate-points": check_no_duplicate_points,
            "no-phantom-points": check_no_phantom_points}
