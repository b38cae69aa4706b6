"""The negative-control framework: a history a checker must find violated, and its near-miss twin (see
test_checker_controls.py for why). The controls themselves are in controls_invariants.py (checkers in
invariants/) and controls_protocols.py (every invariant a protocol hands to the engine)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from faultlab.history import History
from faultlab.result import CheckResult


@attrs.frozen
class Control:
    """A history ``check`` must find violated, and its twin (``fix`` applied: the one difference) it must pass.

    ``target`` names what is controlled (see :func:`test_every_checker_has_a_control`); ``shows`` says what the
    violating history shows. ``witness`` maps a path into the witness (``"anomalies.0.txns"``) to its expected
    value; ``because`` is a phrase the explanation must contain. ``build`` turns rows into a history
    (:meth:`History.from_intervals` unless the control needs events in an exact order).
    """

    target: str
    shows: str
    check: Callable[[History], CheckResult]
    rows: Sequence[Any]
    fix: dict[int, Any]
    witness: dict[str, Any]
    because: str
    build: Callable[[Sequence[Any]], History] = History.from_intervals
    bug: str = ""  # a checker bug this control shows: a strict xfail until the checker is fixed

    def violating(self) -> History:
        return self.build(self.rows)

    def twin(self) -> History:
        assert set(self.fix) <= set(range(len(self.rows)))
        return self.build([self.fix.get(i, row) for i, row in enumerate(self.rows)])

    def __str__(self) -> str:
        return f"{self.target}: {self.shows}"


def _at(witness: Any, path: str) -> Any:
    for part in path.split("."):
        witness = witness[int(part)] if isinstance(witness, list) else witness[part]
    return witness


# -- history rows (History.from_intervals: process, f, value, call, ret, status, ok value[, phase[, node]]) ---------

def w(p, v, call, ret, status="ok", node=None):
    return (p, "write", v, call, ret, status, None, "main", node)


def r(p, v, call, ret, node=None, phase="main"):
    return (p, "read", None, call, ret, "ok", v, phase, node)


def final(p, v, call, node=None):
    return r(p, v, call, call + 0.5, node, "final")


def kw(p, key, v, call, ret, status="ok"):
    """A keyed write, Jepsen's "independent" style: the value is [key, v]."""
    return (p, "write", [key, v], call, ret, status, None)


def kfinal(p, key, v, call, node, read_input=None):
    return (p, "read", read_input if read_input is not None else [key, None], call, call + 0.5, "ok", [key, v],
            "final", node)


def op(p, f, value, call, ret, out=None, status="ok", phase="main", node=None):
    return (p, f, value, call, ret, status, out, phase, node)


def events(rows: Sequence[tuple]) -> History:
    """A history from events in exactly this order: (process, type, f, value, time[, phase]).

    :meth:`History.from_intervals` puts invocations first at equal times, so it cannot write "W1 completed, then W2
    began, at the same instant", which a simulation records all the time (messages take no virtual time)."""
    h = History()
    for process, type, f, value, time, *phase in rows:
        if type == "invoke":
            h.invoke(process, f, value, time, phase=phase[0] if phase else "main")
        else:
            h.complete(process, type, value, time)
    return h


CONTROLS: list[Control] = []


def control(**fields: Any) -> None:
    CONTROLS.append(Control(**fields))


