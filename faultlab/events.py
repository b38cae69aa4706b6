"""A finished run's events, typed: what measurements and tests query instead of matching raw tuples.

The runtime records events as cheap ``(kind, time, payload)`` tuples on its hot path; :class:`Event` is the view a
reader gets: ``kind`` (a :class:`~faultlab.faults.Fault` word, or ``invoke``/``ok``/``fail``/``info``, ``lost``,
``role``, ``note``), ``time`` (virtual seconds), ``index`` (position in the run) and ``fields`` (for a delivery:
``id``, ``src``, ``dst``, ``msg``, ``reply_to``; for a note: ``node``, ``what`` and the note's own fields).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from faultlab.network import Envelope


@attrs.frozen
class Event:
    kind: str
    time: float
    index: int
    fields: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.fields[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)

    @property
    def what(self) -> str | None:
        """A note's name (``ctx.note(what)``), else None."""
        return self.fields.get("what") if self.kind == "note" else None


def _fields(payload: Any) -> Mapping[str, Any]:
    if isinstance(payload, Envelope):
        return {"id": payload.id, "src": payload.src, "dst": payload.dst, "msg": payload.msg,
                "reply_to": payload.reply_to}
    return payload


class Events:
    """The events of one run, in order, with queries."""

    __slots__ = ("_raw",)

    def __init__(self, raw: list[tuple]):
        self._raw = raw

    def __len__(self) -> int:
        return len(self._raw)

    def __iter__(self) -> Iterator[Event]:
        for i, (kind, time, payload) in enumerate(self._raw):
            yield Event(kind, time, i, _fields(payload))

    def of(self, *kinds: str) -> list[Event]:
        """The events of these kinds (``of("crash", "lose_unsynced")``)."""
        wanted = set(kinds)
        return [Event(k, t, i, _fields(p)) for i, (k, t, p) in enumerate(self._raw) if k in wanted]

    def notes(self, what: str | Iterable[str] | None = None) -> list[Event]:
        """The protocol's notes, or those named ``what``."""
        names = {what} if isinstance(what, str) else set(what) if what is not None else None
        return [e for e in self.of("note") if names is None or e.what in names]

    def deliveries(self, msg_type: type | None = None, *, src: str | None = None,
                   dst: str | None = None) -> list[Event]:
        """Delivered messages, optionally of one type, from one sender or to one receiver."""
        return [e for e in self.of("deliver")
                if (msg_type is None or isinstance(e["msg"], msg_type)) and (src is None or e["src"] == src)
                and (dst is None or e["dst"] == dst)]

    def first(self, kind: str, what: str | None = None) -> Event | None:
        for e in (self.notes(what) if kind == "note" and what else self.of(kind)):
            return e
        return None
