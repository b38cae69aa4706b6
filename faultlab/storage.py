"""A node's durable store, with an explicit sync: what survives a crash, what a power loss takes, what a torn write
leaves, and what is left when the disk is destroyed.

Two kinds of data: keys and values (``storage[k] = v``, ``save(k=v)``), and append-only logs of checksummed records
(``append(log, record)``, ``read_log(log)``). Both are durable only after :meth:`Storage.sync`.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

import attrs

_DELETED = object()  # a tombstone in the unsynced overlay


def checksum(record: Any) -> int:
    """The CRC-32 of a record's canonical JSON text: what :meth:`Storage.append` stores beside it."""
    return zlib.crc32(json.dumps(record, sort_keys=True, separators=(",", ":")).encode())


@attrs.frozen
class LogRecord:
    """One record of a log as the disk gives it back: the record and the checksum written with it. A torn write
    leaves a record whose tail is zeros, which no longer matches its checksum (``intact`` is False)."""

    record: Any
    crc: int

    @property
    def intact(self) -> bool:
        return checksum(self.record) == self.crc


def _zero(value: Any) -> Any:
    """What a zero-filled sector reads back as, in the value's own type."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return type(value)(0)
    if isinstance(value, str):
        return ""
    return None


def _leaves(value: Any) -> int:
    if isinstance(value, list | tuple):
        return sum(_leaves(v) for v in value)
    return 1


def record_fields(record: Any) -> int:
    """A record's scalar fields, nested tuples and lists flattened: the places a torn write can cut it."""
    return max(1, _leaves(record))


def torn(record: Any, keep: int) -> Any:
    """``record`` as a torn write leaves it: its first ``keep`` scalar fields (in order, nested tuples and lists
    flattened) as written, every later one zero, the shape unchanged (the sectors were there, the data was not)."""
    left = [keep]

    def walk(value: Any) -> Any:
        if isinstance(value, list | tuple):
            return type(value)(walk(v) for v in value)
        if left[0] > 0:
            left[0] -= 1
            return value
        return _zero(value)

    return walk(record)


class Storage:
    """A node's durable store, with an explicit sync.

    Writes land in an unsynced overlay (the OS page cache); :meth:`sync` makes them durable. A plain ``crash`` keeps
    the overlay (the process died, the machine did not); ``lose_unsynced`` throws it away (power loss);
    ``torn_write`` is a power loss in the middle of writing a log record (:meth:`tear`); ``destroy`` takes the disk
    for good (:meth:`destroy`): the node comes back, if at all, on an empty one, and ``destroyed`` says so.
    """

    __slots__ = ("_log_unsynced", "_logs", "_synced", "_unsynced", "destroyed")

    def __init__(self) -> None:
        self._synced: dict[Any, Any] = {}
        self._unsynced: dict[Any, Any] = {}
        self._logs: dict[str, list[LogRecord]] = {}          # durable records, per log
        self._log_unsynced: dict[str, list[LogRecord]] = {}  # appended, not yet synced, per log
        self.destroyed = 0  # how many times this node's disk was destroyed: > 0 means this is a replacement disk

    # -- keys and values -----------------------------------------------------------------------------------------
    def get(self, key: Any, default: Any = None) -> Any:
        if key in self._unsynced:
            value = self._unsynced[key]
            return default if value is _DELETED else value
        return self._synced.get(key, default)

    def __getitem__(self, key: Any) -> Any:
        value = self.get(key, _DELETED)
        if value is _DELETED:
            raise KeyError(key)
        return value

    def __contains__(self, key: Any) -> bool:
        return self.get(key, _DELETED) is not _DELETED

    def __setitem__(self, key: Any, value: Any) -> None:
        self._unsynced[key] = value

    def delete(self, key: Any) -> None:
        """Remove ``key``; like a write, the removal is durable only after :meth:`sync`."""
        self._unsynced[key] = _DELETED

    def keys(self) -> list[Any]:
        return [k for k, _ in self.items()]

    def items(self) -> list[tuple[Any, Any]]:
        merged = {**self._synced, **self._unsynced}
        return [(k, v) for k, v in merged.items() if v is not _DELETED]

    def save(self, **fields: Any) -> None:
        """Write each ``key=value`` and sync: durable before whatever the caller does next (a vote, an ack)."""
        for key, value in fields.items():
            self._unsynced[key] = value
        self.sync()

    # -- append-only logs ----------------------------------------------------------------------------------------
    def append(self, log: str, record: Any) -> None:
        """Append ``record`` (a JSON-like value: tuples, lists, strings, numbers) to the log named ``log``, with its
        checksum. Durable only after :meth:`sync`; until then a power loss drops it and a torn write may leave it
        half written."""
        self._log_unsynced.setdefault(log, []).append(LogRecord(record, checksum(record)))

    def read_log(self, log: str) -> list[LogRecord]:
        """Every record of ``log`` as the disk has it, oldest first, each with its checksum: a protocol that trusts
        a record without checking ``intact`` may be reading the zeros a torn write left."""
        return self._logs.get(log, []) + self._log_unsynced.get(log, [])

    def truncate_log(self, log: str, keep: int) -> int:
        """Keep the first ``keep`` records of ``log`` and drop the rest, durably (it syncs); the number dropped."""
        records = self.read_log(log)
        self._log_unsynced.pop(log, None)
        self._logs[log] = records[:keep]
        return len(records) - min(keep, len(records))

    def recover_log(self, log: str) -> int:
        """What a log's reader does at start: check each record's checksum and truncate the log at the first one
        that fails (a torn write's), so only whole records remain. The number of records dropped (0: none torn)."""
        records = self.read_log(log)
        good = next((i for i, r in enumerate(records) if not r.intact), len(records))
        return self.truncate_log(log, good) if good < len(records) else 0

    def logs(self) -> list[str]:
        return sorted(set(self._logs) | set(self._log_unsynced))

    # -- durability ----------------------------------------------------------------------------------------------
    def sync(self) -> None:
        """Make every write (and delete) and every appended record so far durable (fsync)."""
        for key, value in self._unsynced.items():
            if value is _DELETED:
                self._synced.pop(key, None)
            else:
                self._synced[key] = value
        self._unsynced.clear()
        for log, records in self._log_unsynced.items():
            self._logs.setdefault(log, []).extend(records)
        self._log_unsynced.clear()

    @property
    def has_unsynced(self) -> bool:
        return bool(self._unsynced) or any(self._log_unsynced.values())

    @property
    def unsynced_logs(self) -> list[str]:
        """The logs with records appended since the last sync (what a torn write can tear), sorted."""
        return sorted(log for log, records in self._log_unsynced.items() if records)

    def lose_unsynced(self) -> int:
        """Power loss: every write and appended record since the last sync is gone. The number lost."""
        n = len(self._unsynced) + sum(len(r) for r in self._log_unsynced.values())
        self._unsynced.clear()
        self._log_unsynced.clear()
        return n

    def tear(self, log: str, keep: int) -> dict[str, Any]:
        """Power loss while the last appended record of ``log`` was being written: the records appended before it
        reached the disk whole, that one only partly (its first ``keep`` fields, zeros after, the checksum of the
        whole record), and every other unsynced write is lost. What happened, for the trace."""
        pending = self._log_unsynced.get(log, [])
        if not pending:
            raise ValueError(f"log {log!r} has no unsynced record to tear")
        *whole, last = pending
        broken = LogRecord(torn(last.record, keep), last.crc)
        self._log_unsynced[log] = []
        self._logs.setdefault(log, []).extend([*whole, broken])
        lost = self.lose_unsynced()
        return {"log": log, "record": len(self._logs[log]) - 1, "kept_fields": keep,
                "fields": record_fields(last.record), "intact": broken.intact, "lost_writes": lost}

    def destroy(self) -> int:
        """The disk is gone: nothing written, synced or not, is left. The number of keys and records lost."""
        n = len(self.items()) + sum(len(self.read_log(log)) for log in self.logs())
        self._synced.clear()
        self._unsynced.clear()
        self._logs.clear()
        self._log_unsynced.clear()
        self.destroyed += 1
        return n
