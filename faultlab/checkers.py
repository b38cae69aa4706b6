"""History checkers by name, for ``faultlab check-history --check NAME``.

Each module of the ``invariants`` package may export ``CHECKERS``: a dict from a kebab-case name to a function that
takes a :class:`faultlab.history.History` and returns a :class:`faultlab.result.CheckResult`. A checker is named
``MODULE/NAME`` (``delivery/at-least-once``) or by ``NAME`` alone where no other module uses it. Only the modules of
our own ``invariants`` package are imported, never one a history file names: the name is typed by a person and
looked up in this table.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

import attrs

from faultlab.errors import ConfigError


@attrs.frozen
class HistoryChecker:
    module: str
    name: str
    check: Callable[[Any], Any]

    @property
    def qualified(self) -> str:
        return f"{self.module}/{self.name}"

    @property
    def doc(self) -> str:
        text = (self.check.__doc__ or "").strip()
        return " ".join(text.split("\n\n")[0].split())


_TABLE: list[HistoryChecker] | None = None


def history_checkers() -> list[HistoryChecker]:
    """Every checker of the ``invariants`` package, by module then name."""
    global _TABLE
    if _TABLE is None:
        import invariants

        found = []
        for info in sorted(pkgutil.iter_modules(invariants.__path__), key=lambda i: i.name):
            module = importlib.import_module(f"invariants.{info.name}")
            for name, fn in sorted(getattr(module, "CHECKERS", {}).items()):
                found.append(HistoryChecker(info.name, name, fn))
        _TABLE = found
    return _TABLE


def get_checker(name: str) -> HistoryChecker:
    """The checker ``name`` (``MODULE/NAME``, or a ``NAME`` only one module has); a ConfigError that lists the
    choices otherwise."""
    table = history_checkers()
    hits = [c for c in table if name in (c.qualified, c.name)]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise ConfigError(f"--check {name!r} is ambiguous: name one of {', '.join(c.qualified for c in hits)}")
    raise ConfigError(f"unknown --check {name!r}; the checkers are: {', '.join(c.qualified for c in table)} "
                      f"(`faultlab check-history --list-checkers` says what each judges)")
