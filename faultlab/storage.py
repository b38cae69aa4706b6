"""A node's durable key-value store, with an explicit sync: what survives a crash, and what a power loss takes."""

from __future__ import annotations

from typing import Any

_DELETED = object()  # a tombstone in the unsynced overlay


class Storage:
    """A node's durable key-value store, with an explicit sync.

    Writes land in an unsynced overlay (the OS page cache); :meth:`sync` makes them durable. A plain ``crash`` keeps
    the overlay (the process died, the machine did not); ``lose_unsynced`` throws it away (power loss).
    """

    __slots__ = ("_synced", "_unsynced")

    def __init__(self) -> None:
        self._synced: dict[Any, Any] = {}
        self._unsynced: dict[Any, Any] = {}

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

    def sync(self) -> None:
        """Make every write (and delete) so far durable (fsync)."""
        for key, value in self._unsynced.items():
            if value is _DELETED:
                self._synced.pop(key, None)
            else:
                self._synced[key] = value
        self._unsynced.clear()

    @property
    def has_unsynced(self) -> bool:
        return bool(self._unsynced)

    def lose_unsynced(self) -> int:
        n = len(self._unsynced)
        self._unsynced.clear()
        return n
