"""What a trace file may hold: every field's type and range, checked before a replay runs anything.

A trace is read from a file someone else may have written or edited, so nothing in it is trusted: a field of the
wrong type, an integer out of range (a choice of 10**400, a billion clients), an unknown setting or an unknown key
is a :class:`TraceFileError` naming the file and the field (``settings.plan.kinds[2]``), never a traceback and
never a verdict. A key the document leaves out takes its default (a trace written before the setting existed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faultlab.errors import ConfigError, TraceFileError
from faultlab.faults import INJECTABLE
from faultlab.importers.faultlab_json import parse_events
from faultlab.importers.json_values import short
from faultlab.protocol import Protocol

# The largest engine settings a trace may hold, and so the largest the command line accepts: far beyond any run
# worth replaying, and small enough that a file cannot make a replay start a billion clients.
LIMITS = {"clients": 1000, "ops_per_client": 100_000, "max_steps": 10_000_000, "max_faults": 100_000,
          "max_crashes": 100_000, "max_destroyed_zones": 1000, "max_destroyed_nodes": 100_000}
MAX_CHOICE = 2**31 - 1  # no run offers more alternatives than this; a larger recorded choice is not a choice


class _Bad(Exception):
    """A field of a trace document that is wrong: ``where`` names it (``settings.plan.kinds[2]``)."""

    def __init__(self, where: str, what: str):
        super().__init__(f"{where}: {what}")
        self.where, self.what = where, what


def _integer(low: int, high: int):
    def check(value: Any, where: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Bad(where, f"expected an integer, got {short(value)}")
        if not low <= value <= high:
            raise _Bad(where, f"{short(value, 30)} is out of range; expected an integer from {low} to {high}")
    return check


def _number(low: float, *, above: bool = False):
    def check(value: Any, where: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Bad(where, f"expected a number, got {short(value)}")
        if value < low or (above and value == low) or value > 1e15:
            raise _Bad(where, f"{short(value, 30)} is out of range; expected a number {'>' if above else '>='} "
                              f"{low:g} and at most 1e15")
    return check


def _typed(*types: type, name: str):
    def check(value: Any, where: str) -> None:
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise _Bad(where, f"expected {name}, got {short(value)}")
    return check


def _name(value: Any, where: str) -> None:
    if not isinstance(value, str) or not 0 < len(value) <= 200:
        raise _Bad(where, f"expected a protocol name, got {short(value)}")


def _anything(value: Any, where: str) -> None:
    pass


def _one_of(*allowed: str | None):
    def check(value: Any, where: str) -> None:
        if not (value is None and None in allowed) and (not isinstance(value, str) or value not in allowed):
            names = ", ".join("null" if a is None else a for a in allowed)
            raise _Bad(where, f"expected one of {names}, got {short(value)}")
    return check


def _list_of(item, *, at_least: int = 0, at_most: int | None = None):
    def check(value: Any, where: str) -> None:
        if not isinstance(value, list):
            raise _Bad(where, f"expected a list, got {short(value)}")
        if len(value) < at_least or (at_most is not None and len(value) > at_most):
            raise _Bad(where, f"expected {at_least} to {at_most} items, got {len(value)}" if at_most is not None
                       else f"expected at least {at_least} items, got {len(value)}")
        for i, v in enumerate(value):
            item(v, f"{where}[{i}]")
    return check


def _object(rules: dict[str, Any] | None = None, required: tuple[str, ...] = ()):
    """An object; with ``rules``, only those keys, each checked by its rule (a missing key takes its default)."""
    def check(value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise _Bad(where, f"expected an object, got {short(value)}")
        if rules is None:
            return
        inside = f"{where}." if where else ""
        for key in value:
            if key not in rules:
                raise _Bad(inside + key[:40], f"not a field of {where or 'a trace'}; its fields are "
                                              f"{', '.join(rules)}")
        for key in required:
            if key not in value:
                raise _Bad(inside + key, "missing")
        for key, rule in rules.items():
            if key in value:
                rule(value[key], inside + key)
    return check


def _event(value: Any, where: str) -> None:
    _object()(value, where)
    for key in ("t", "event"):
        if key not in value:
            raise _Bad(f"{where}.{key}", "missing (every event has a time t and a kind event)")
    _number(0.0)(value["t"], f"{where}.t")
    _typed(str, name="an event kind")(value["event"], f"{where}.event")


_TEXT = _typed(str, name="a string")
_BOOL = _typed(bool, name="true or false")
_PLAN = _object({"kinds": _list_of(_one_of(*INJECTABLE), at_most=len(INJECTABLE)), "swarm": _BOOL,
                 "directed": _BOOL, "max_faults": _integer(0, LIMITS["max_faults"]),
                 "max_crashes": _integer(0, LIMITS["max_crashes"]),
                 "max_destroyed_zones": _integer(0, LIMITS["max_destroyed_zones"]),
                 "max_destroyed_nodes": _integer(0, LIMITS["max_destroyed_nodes"])})
_SETTINGS = _object({"clients": _integer(1, LIMITS["clients"]),
                     "ops_per_client": _integer(0, LIMITS["ops_per_client"]), "plan": _PLAN,
                     "max_steps": _integer(1, LIMITS["max_steps"]), "max_time": _number(0.0, above=True),
                     "think_times": _list_of(_number(0.0), at_least=1, at_most=100),
                     "links": _one_of("stream", "datagram", None),
                     "skip_ops": _list_of(_list_of(_integer(0, LIMITS["max_steps"]), at_least=2, at_most=2)),
                     "skip_final": _list_of(_integer(0, LIMITS["max_steps"])),
                     "coin_seed": _integer(0, 2**32 - 1)})
_CHECK = _object({"invariant": _TEXT, "checker": _TEXT, "verdict": _one_of("ok", "violated", "unknown"),
                  "explanation": _TEXT, "witness": _object(), "exercised": _BOOL},
                 required=("checker", "verdict"))
_DOCUMENT = {
    "kind": _anything, "version": _anything,  # read_trace checked them first, to name a wrong version plainly
    "faultlab": _TEXT, "protocol": _name, "links": _one_of("stream", "datagram", None),
    "config": _object(), "settings": _SETTINGS, "source": _object(),
    "verdict": _one_of("ok", "violated", "unknown"), "error": _typed(str, type(None), name="a string or null"),
    "invariants": _list_of(_TEXT), "checks": _list_of(_CHECK), "stats": _object(),
    "choices": _list_of(_integer(0, MAX_CHOICE)), "history": _list_of(_object()), "events": _list_of(_event),
}
_REQUIRED = ("protocol", "config", "settings", "choices", "events", "history", "verdict")


def check_document(doc: dict[str, Any], path: Path) -> None:
    """Check every field of a parsed trace document (its kind and version already checked)."""
    try:
        _object(_DOCUMENT, required=_REQUIRED)(doc, "")
    except _Bad as e:
        raise TraceFileError(f"{path}: field {e.where}: {e.what}") from None
    parse_events(doc["history"], str(path))  # a HistoryFormatError names the event


# A setting's declared type: the JSON values a trace may give it, and how to say so.
_SETTING_TYPES = {"int": ((int,), "an integer"), "float": ((int, float), "a number"), "bool": ((bool,), "true or false"),
                  "str": ((str,), "a string")}


def config_from_trace(protocol: Protocol, config: dict[str, Any], path: Path) -> Any:
    """The protocol's configuration from a trace's ``config``: each value of the type its setting declares (a string
    where an integer goes is an error here, where the command line would convert it), then validated by the
    protocol."""
    fields = {f.name: f for f in protocol.settings()}
    for key, value in config.items():
        field = fields.get(key)
        if field is None:
            raise TraceFileError(f"{path}: field config.{key[:40]}: {protocol.name} has no such setting; its "
                                 f"settings are {', '.join(sorted(fields))}")
        type_name = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", "")
        allowed, what = _SETTING_TYPES.get(type_name, (None, ""))
        if allowed and (not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed)):
            raise TraceFileError(f"{path}: field config.{key}: {protocol.name}'s setting {key} is {what}, "
                                 f"got {short(value)}")
        if type_name == "float" and isinstance(value, int) and abs(value) > 1e300:  # would overflow a float
            raise TraceFileError(f"{path}: field config.{key}: {short(value, 30)} is too large for a float")
    try:
        return protocol.make_config(config)
    except ConfigError as e:
        raise TraceFileError(f"{path}: field config: {e}") from None


