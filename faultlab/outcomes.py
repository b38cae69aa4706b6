"""What a client operation came to: ``Ok(value)``, ``Fail()`` (it definitely did not happen) or ``Unknown()`` (it may
have happened: a timeout, a crash, an ambiguous reply).

A node's handler for a client request returns one of these as its reply, and the engine records it in the history
as ``ok``, ``fail`` or ``info`` (Jepsen's convention), so a request-reply protocol needs no client adapter. When in
doubt, ``Unknown``: a ``Fail`` that may have happened makes a checker wrong, an ``Unknown`` only makes it weaker.
"""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class Ok:
    """The operation happened; ``value`` is what the client saw (a read's value, a write's acknowledgement)."""

    value: Any = None


@attrs.frozen
class Fail:
    """The operation definitely did not take effect."""

    reason: str = ""


@attrs.frozen
class Unknown:
    """The operation may or may not have taken effect."""

    reason: str = ""


Outcome = Ok | Fail | Unknown
OUTCOMES = (Ok, Fail, Unknown)
STATUS = {Ok: "ok", Fail: "fail", Unknown: "info"}
