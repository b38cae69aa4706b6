"""The redo log as segments hold it, and the rules every segment and a recovering writer apply to merge copies.

A record is ``(lsn, stamp, value)``. ``stamp`` is the epoch of the writer that wrote it, or of the writer that
re-installed it at recovery: a recovering writer's choice of the log is authoritative, so it stamps what it keeps
with its own epoch. An epoch is ``(number, instance)``, unique per attempt. A *start* ``(epoch, end)`` says that epoch
began with the log ending at ``end``: every record stamped by an older epoch above ``end`` is void (truncated), so a
deposed writer's uncommitted tail can never come back through repair. For each LSN the valid record with the highest
stamp wins. These functions are pure; segments and writers call them on their own state.
"""

from __future__ import annotations

from collections.abc import Iterable

Record = tuple  # (lsn, stamp, value)
Start = tuple   # (epoch, end)
NO_EPOCH = (0, "")


def valid(record: Record, starts: Iterable[Start]) -> bool:
    lsn, stamp, _ = record
    return not any(tuple(epoch) > tuple(stamp) and lsn > end for epoch, end in starts)


def merge(logs: Iterable[Iterable[Record]], starts: Iterable[Start]) -> tuple[Record, ...]:
    """The union of several copies of the log: per LSN the valid record with the highest stamp, in LSN order."""
    starts = tuple(starts)
    best: dict[int, Record] = {}
    for log in logs:
        for record in log:
            lsn, stamp, value = record
            record = (lsn, tuple(stamp), value)
            if valid(record, starts) and (lsn not in best or record[1] > best[lsn][1]):
                best[lsn] = record
    return tuple(best[lsn] for lsn in sorted(best))


def merge_starts(*groups: Iterable[Start]) -> tuple[Start, ...]:
    return tuple(sorted({(tuple(e), end) for group in groups for e, end in group}))


def contiguous(log: Iterable[Record]) -> tuple[Record, ...]:
    """The records from LSN 1 up to the first gap: what a recovering writer can replay."""
    out = []
    for want, record in enumerate(log, start=1):
        if record[0] != want:
            break
        out.append(record)
    return tuple(out)


def value_at(log: tuple[Record, ...], end: int):
    """The register's value after replaying records 1..end (None: the initial value)."""
    return log[end - 1][2] if end else None
