"""Dynamo's versioning: vector clocks that keep concurrent writes as siblings, or last-writer-wins on timestamps.

A :class:`Version` is one write: a *dot* ``(coordinator, counter)`` naming it uniquely, the causal context it saw
(``context``: the dots of every write in what the coordinator read first, and of their contexts), its value and the
coordinator's clock reading ``ts``. The context is a vector clock in its exact, uncompressed form (a causal
history): a version is superseded only by one whose context holds its dot, i.e. a write that saw it. Two writes
that did not see each other are concurrent and both stay as siblings, even when one coordinator made both: a
per-node counter summary (``{n1: 2}``) would wrongly claim the second saw the first. Production systems compress
this into dotted version vectors; histories here are short enough not to. With ``lww`` the version with the
largest ``(ts, dot)`` wins and the other is dropped, which is right only if clocks agree with real time: the
engine's ``skew`` fault shows what happens when they do not.

All functions are pure; versions are tuples sorted by dot, so a replica's state has one canonical form.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

Dot = tuple[str, int]
Context = tuple[Dot, ...]  # sorted dots of every write seen


@attrs.frozen
class Version:
    dot: Dot
    context: Context
    value: int
    ts: float

    def supersedes(self, other: Version) -> bool:
        """True if this write saw ``other``: other's dot is in its context."""
        return tuple(other.dot) in self.context


def merge_siblings(versions: Iterable[Version]) -> tuple[Version, ...]:
    """Vector-clock merge: every version no other version supersedes, once each, sorted by dot."""
    unique = {tuple(v.dot): v for v in versions}
    keep = [v for v in unique.values() if not any(w.supersedes(v) for w in unique.values())]
    return tuple(sorted(keep, key=lambda v: tuple(v.dot)))


def merge_lww(versions: Iterable[Version]) -> tuple[Version, ...]:
    """Last-writer-wins merge: the one version with the largest (timestamp, dot); the rest are dropped."""
    versions = list(versions)
    if not versions:
        return ()
    return (max(versions, key=lambda v: (v.ts, tuple(v.dot))),)


def merge(conflict: str, versions: Iterable[Version]) -> tuple[Version, ...]:
    return merge_siblings(versions) if conflict == "vclock" else merge_lww(versions)


def context_of(versions: Iterable[Version]) -> Context:
    """The context a new write that read ``versions`` carries: their dots and everything they saw."""
    seen: set[Dot] = set()
    for v in versions:
        seen.add(tuple(v.dot))
        seen.update(tuple(d) for d in v.context)
    return tuple(sorted(seen))


def client_value(versions: tuple[Version, ...]) -> int | list[int] | None:
    """What a read returns: None for nothing written, the value, or the sorted list of sibling values."""
    if not versions:
        return None
    if len(versions) == 1:
        return versions[0].value
    return sorted(v.value for v in versions)
