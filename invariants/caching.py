"""Checkers for a TTL cache in front of an origin (a CDN): staleness bounded by the TTL, invalidation complete.

Histories follow these conventions (protocols/cloudfront.py records them):

* a write is ``f="write"`` with input ``[key, uid]``; its ``ok`` output is ``[key, version, ttl]``: the version
  the origin gave it (1, 2, ... per key) and the TTL the origin declares for that object (its cache behaviour,
  Cache-Control max-age), so a checker needs no configuration;
* a read is ``f="read"`` with input ``key``; its ``ok`` output is ``[key, version]``, version ``None`` for a 404
  (the object did not exist, or a cached 404 was served);
* an invalidation is ``f="invalidate"`` with input ``key``; ``ok`` means it completed.

Only ``ok`` writes and invalidations bound anything (``info`` may or may not have happened), only ``ok`` reads are
judged. A 404 counts as older than every version. Pure functions: no trio, no engine state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from faultlab.history import History, Operation
from faultlab.result import CheckResult

__all__ = ["CHECKERS", "check_invalidation_complete", "check_staleness_within_ttl"]


def _version(v) -> int:
    return 0 if v is None else v


def _writes(history: History) -> dict[str, list[Operation]]:
    out: dict[str, list[Operation]] = defaultdict(list)
    for op in history.operations():
        if op.f == "write" and op.is_ok and op.output is not None:
            out[op.output[0]].append(op)
    return out


def _reads(history: History) -> list[Operation]:
    return [op for op in history.operations() if op.f == "read" and op.is_ok and op.output is not None]


def check_staleness_within_ttl(history: History, *, slack: float = 0.0) -> CheckResult:
    """A read that begins more than TTL (+ ``slack``) after a write was acknowledged returns that write's version
    or a newer one, the TTL being the one the origin declared for the object in that write's acknowledgement."""
    name = "staleness-within-ttl"
    writes = _writes(history)
    judged = 0
    for rd in _reads(history):
        key, got = rd.output[0], _version(rd.output[1])
        for wr in writes.get(key, ()):
            _key, version, ttl = wr.output
            if rd.call <= wr.ret + ttl + slack:
                continue
            judged += 1
            if got < version:
                return CheckResult.violation(
                    name,
                    f"Let W be the write of {key} acknowledged at t={wr.ret:g} as version {version}, whose object "
                    f"TTL is {ttl:g} s, and R the read of {key} that began at t={rd.call:g}, "
                    f"{rd.call - wr.ret:g} s later. Then R returned "
                    f"{'a 404' if rd.output[1] is None else f'version {got}'}, older than W, although every cached "
                    f"copy older than W had outlived its TTL: a contradiction!",
                    key=key, read=rd.call_index, write=wr.call_index, version=version, got=rd.output[1], ttl=ttl,
                    age=round(rd.call - wr.ret, 6), ops=[wr.call_index, rd.call_index])
    if not judged:
        return CheckResult.unexercised(name, "no read began more than a TTL after an acknowledged write")
    return CheckResult.holds(name, f"{judged} (read, write) pairs more than a TTL apart: every read saw the write "
                                   f"or newer", pairs=judged)


def check_invalidation_complete(history: History) -> CheckResult:
    """Once an invalidation of a key has completed (``ok``), no read that begins afterwards returns a version older
    than the newest write of that key acknowledged before the invalidation was requested."""
    name = "invalidation-complete"
    writes = _writes(history)
    reads = _reads(history)
    judged = 0
    for inv in history.operations():
        if inv.f != "invalidate" or not inv.is_ok:
            continue
        key = inv.input
        before = [w for w in writes.get(key, ()) if w.ret < inv.call]
        if not before:
            continue
        newest = max(before, key=lambda w: w.output[1])
        version = newest.output[1]
        for rd in reads:
            if rd.output[0] != key or rd.call <= inv.ret:
                continue
            judged += 1
            if _version(rd.output[1]) < version:
                return CheckResult.violation(
                    name,
                    f"Let W be the write of {key} acknowledged at t={newest.ret:g} as version {version}, I the "
                    f"invalidation of {key} requested at t={inv.call:g} and completed at t={inv.ret:g}, and R the "
                    f"read of {key} that began at t={rd.call:g}. Then R returned "
                    f"{'a 404' if rd.output[1] is None else f'version {rd.output[1]}'}, older than W, from a cache "
                    f"the completed invalidation should have emptied: a contradiction!",
                    key=key, read=rd.call_index, invalidation=inv.call_index, write=newest.call_index,
                    version=version, got=rd.output[1], ops=[newest.call_index, inv.call_index, rd.call_index])
    if not judged:
        return CheckResult.unexercised(name, "no read began after a completed invalidation of a written key")
    return CheckResult.holds(name, f"{judged} reads after completed invalidations saw the newest write or newer",
                             reads=judged)


CHECKERS: dict[str, Callable[[History], CheckResult]] = {
    "cache-staleness-within-ttl": check_staleness_within_ttl,
    "cache-invalidation-complete": check_invalidation_complete,
}
