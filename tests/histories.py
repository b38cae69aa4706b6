"""History builders shared by the checker tests (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

from collections.abc import Sequence

from faultlab.history import History


def txn_history(rows: Sequence[tuple]) -> History:
    """A list-append history from (process, micro-ops as completed, call, ret, status); ret None never completes.

    The invoke's value is the micro-ops with every read's list replaced by None, as a client sends them."""
    events = []
    for p, mops, call, ret, status in rows:
        events.append((call, 0, p, "invoke", [[f, k, None if f == "r" else v] for f, k, v in mops]))
        if ret is not None:
            events.append((ret, 1, p, status, mops if status == "ok" else None))
    h = History()
    for t, _, p, typ, value in sorted(events, key=lambda e: (e[0], e[1])):
        if typ == "invoke":
            h.invoke(p, "txn", value, t)
        else:
            h.complete(p, typ, value, t)
    return h
