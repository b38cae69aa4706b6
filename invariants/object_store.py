"""Checkers over object-store histories (S3): read-after-write for PUT, overwrite and DELETE, LIST after a write,
atomic multipart objects, and no object lost after recovery.

The register checkers of :mod:`invariants.session` know writes and reads; an object store also deletes, lists and
assembles objects from parts, so its histories are read here. Pure functions over histories: no trio, no Hypothesis.

History conventions (what :mod:`protocols.s3` records):

* ``put``: invoke value ``[key, v]``, ``v`` unique over the history and never None; the object's content is
  ``["v.1"]``;
* ``mpu`` (a multipart upload): invoke value ``[key, v, parts, abort]``; the object, once completed, has content
  ``["v.1", ..., "v.parts"]``. An upload the client aborted, or never completed, ends ``fail`` (no object);
* ``delete``: invoke value ``[key, None]``;
* ``get``: invoke value ``[key, None]``, ``ok`` value ``[key, v, content]`` or ``[key, None, None]`` (no such key);
* ``list``: invoke value ``prefix``, ``ok`` value the sorted list of keys under it.

Statuses count as for registers: ``fail`` definitely did not happen, ``info`` may have happened at any time after its
invoke (or never), ``ok`` happened between invoke and completion. "A precedes B" is ``A.precedes(B)``: A completed
before B was invoked. Every violation's witness carries ``ops``, the call indices of the operations involved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from faultlab.history import History, Operation
from faultlab.result import CheckResult

__all__ = ["MUTATION_KINDS", "check_list_after_write", "check_multipart_atomic", "check_no_lost_objects",
           "check_object_read_after_write", "expected_content"]

MUTATION_KINDS = ("put", "overwrite", "delete")  # what a stale GET can have missed


def expected_content(op: Operation) -> list[str]:
    """The content of the object a ``put`` or completed ``mpu`` creates."""
    parts = op.input[2] if op.f == "mpu" else 1
    return [f"{op.input[1]}.{i}" for i in range(1, parts + 1)]


class _Objects:
    """The operations of a history by key: creations (put / mpu) by value, deletes, and ok GETs."""

    def __init__(self, history: History | Iterable[Operation], phase: str | None = None):
        ops = history.operations() if isinstance(history, History) else list(history)
        self.creates: dict[Any, Operation] = {}
        self.by_key: dict[str, list[Operation]] = defaultdict(list)  # put, mpu and delete ops, in call order
        self.gets: list[Operation] = []
        self.lists: list[Operation] = []
        for op in ops:
            if op.f in ("put", "mpu", "delete"):
                self.by_key[op.input[0]].append(op)
                if op.f != "delete":
                    self.creates[op.input[1]] = op
            elif op.f == "get" and op.is_ok and (phase is None or op.phase == phase):
                self.gets.append(op)
            elif op.f == "list" and op.is_ok and (phase is None or op.phase == phase):
                self.lists.append(op)

    def mutations(self, key: str) -> list[Operation]:
        return self.by_key.get(key, [])


def _may_have_happened(op: Operation) -> bool:
    return op.status != "fail"


def _stale_against(read: Operation, source: Operation | None, candidates: list[Operation],
                   muts: list[Operation]) -> list[Operation]:
    """The acknowledged mutations W that precedes ``read`` while every possible source of what the read saw precedes W;
    ``source`` is the creation the read returned (None: the key was absent, sourced by the initial state or by any
    delete in ``candidates``)."""
    stale = []
    for w in muts:
        if not w.is_ok or w is source or not w.precedes(read):
            continue
        if source is not None and source.precedes(w):
            stale.append(w)
        elif source is None and w.f != "delete" and all(d.precedes(w) for d in candidates):
            stale.append(w)
    return stale


def _kind(missed: Operation, source: Operation | None) -> str:
    """What a stale GET missed: a delete, a creation while it saw no object (put), or a newer object (overwrite)."""
    if missed.f == "delete":
        return "delete"
    return "overwrite" if source is not None else "put"


def check_object_read_after_write(history: History | Iterable[Operation], kinds: Iterable[str] = MUTATION_KINDS,
                                  *, phase: str | None = None) -> CheckResult:
    """A GET that begins after a PUT, overwrite or DELETE of its key was acknowledged reflects it or something newer.

    ``kinds`` narrows which missed mutations count: ``put`` (the first creation of a key, or one after a delete: the
    GET said "no such key"), ``overwrite`` (a creation over an existing object: the GET returned an older one) and
    ``delete`` (the GET returned an object deleted since). A GET of a value nobody created, or of a failed or aborted
    upload, is always a violation. ``phase="final"`` judges only the GETs after healing and settling (eventual
    consistency: replicas and caches have caught up by then).
    """
    kinds = tuple(kinds)
    name = "read-after-" + "-".join(kinds) if kinds != MUTATION_KINDS else "object-read-after-write"
    objs = _Objects(history, phase)
    tested = 0
    for g in objs.gets:
        key, value = g.output[0], g.output[1]
        muts = objs.mutations(key)
        source = None
        if value is not None:
            source = objs.creates.get(value)
            if source is None or source.input[0] != key or source.status == "fail":
                what = "nobody created" if source is None else (
                    "an upload of another key" if source.input[0] != key else "an upload that failed or was aborted")
                return CheckResult.violation(
                    name, f"Let R = {g.describe()}. R returned object {value!r}, {what}: a contradiction!",
                    ops=[g.call_index] + ([source.call_index] if source else []), key=key)
        deletes = [d for d in muts if d.f == "delete" and _may_have_happened(d)]
        missed = [w for w in _stale_against(g, source, deletes, muts) if _kind(w, source) in kinds]
        if any(m.is_ok and m.precedes(g) for m in muts):
            tested += 1
        if missed:
            w = missed[0]
            saw = f"object {value!r} ({source.describe()})" if source else "no such key"
            return CheckResult.violation(
                name, f"Let W = {w.describe()} ({_kind(w, source)}) and R = {g.describe()}. W was acknowledged "
                      f"before R began, yet R saw {saw}, which W replaced: a stale read, a contradiction!",
                ops=[w.call_index, g.call_index] + ([source.call_index] if source else []), key=key,
                missed=_kind(w, source))
    if tested == 0:
        return CheckResult.unexercised(name, "No GET began after an acknowledged mutation of its key.")
    return CheckResult.holds(name, f"{tested} GETs began after an acknowledged mutation of their key; each reflected "
                                   f"it or something newer.", gets_tested=tested)


def check_list_after_write(history: History | Iterable[Operation]) -> CheckResult:
    """A LIST that begins after a PUT (or DELETE) of a key under its prefix was acknowledged includes (or omits) it,
    unless a mutation of that key that may be newer explains what it shows. A LIST naming a key never created is a
    violation."""
    name = "list-after-write"
    objs = _Objects(history)
    tested = 0
    for lst in objs.lists:
        prefix, shown = lst.input, set(lst.output)
        for key, muts in sorted(objs.by_key.items()):
            if not key.startswith(prefix):
                continue
            creates = [m for m in muts if m.f != "delete" and _may_have_happened(m)]
            deletes = [m for m in muts if m.f == "delete" and _may_have_happened(m)]
            if key in shown and not creates:
                return CheckResult.violation(name, f"Let L = {lst.describe()}. L lists {key!r}, which nobody "
                                                   f"created: a contradiction!", ops=[lst.call_index], key=key)
            for w in muts:
                if not w.is_ok or not w.precedes(lst):
                    continue
                tested += 1
                if w.f == "delete" and key in shown and all(c.precedes(w) for c in creates):
                    why = "omit it: every creation of the key was before W"
                elif w.f != "delete" and key not in shown and all(d.precedes(w) for d in deletes):
                    why = "show it: every delete of the key was before W"
                else:
                    continue
                return CheckResult.violation(
                    name, f"Let W = {w.describe()} and L = {lst.describe()}. W was acknowledged before L began, so L "
                          f"must {why}; L {'shows' if key in shown else 'omits'} {key!r}: a contradiction!",
                    ops=[w.call_index, lst.call_index], key=key)
    if tested == 0:
        return CheckResult.unexercised(name, "No LIST began after an acknowledged mutation under its prefix.")
    return CheckResult.holds(name, f"{tested} (LIST, earlier acknowledged mutation) pairs; each LIST reflected the "
                                   f"mutation or a newer one.", pairs_tested=tested)


def check_multipart_atomic(history: History | Iterable[Operation]) -> CheckResult:
    """A GET returns an object whole or not at all: its content is exactly every part of the upload that created it
    (a multipart object never appears with some parts missing)."""
    name = "multipart-atomic"
    objs = _Objects(history)
    tested = 0
    for g in objs.gets:
        value, content = g.output[1], g.output[2]
        source = objs.creates.get(value) if value is not None else None
        if source is None:
            continue  # a GET of nothing, or of an unknown value (the read-after-write checkers report that)
        tested += source.f == "mpu"
        want = expected_content(source)
        if list(content or ()) != want:
            return CheckResult.violation(
                name, f"Let U = {source.describe()} and R = {g.describe()}. U's object is {want}, but R returned "
                      f"{content}: a partial object, a contradiction!",
                ops=[source.call_index, g.call_index], expected=want, got=content)
    if tested == 0:
        return CheckResult.unexercised(name, "No GET returned a multipart object.")
    return CheckResult.holds(name, f"{tested} GETs of multipart objects each returned every part.", gets_tested=tested)


def check_no_lost_objects(history: History | Iterable[Operation]) -> CheckResult:
    """After healing and recovery every GET answers (an index entry whose data no zone can serve is a lost object)
    and reflects every acknowledged mutation: the final-phase GETs under :func:`check_object_read_after_write`."""
    name = "no-lost-objects"
    ops = history.operations() if isinstance(history, History) else list(history)
    unanswered = [op for op in ops if op.f == "get" and op.phase == "final" and not op.is_ok]
    if unanswered:
        return CheckResult.violation(name, f"Let R = {unanswered[0].describe()}. After healing and recovery every "
                                           f"GET must answer, yet R did not: the object's index entry or data is "
                                           f"gone, a contradiction!",
                                     ops=[op.call_index for op in unanswered])
    final = check_object_read_after_write(ops, phase="final")
    if final.violated:
        return CheckResult.violation(name, final.explanation, **final.witness)
    if not any(op.f == "get" and op.phase == "final" for op in ops):
        return CheckResult.unexercised(name, "No GET ran after recovery.")
    return CheckResult.holds(name, "Every GET after recovery answered and reflected every acknowledged mutation.")


# For `faultlab check-history --check NAME` (faultlab.checkers): checkers that take a history alone.
CHECKERS = {"object-read-after-write": check_object_read_after_write, "list-after-write": check_list_after_write,
            "multipart-atomic": check_multipart_atomic, "no-lost-objects": check_no_lost_objects}
