"""Finding protocols by name: the ``faultlab.protocols`` entry-point group, or ``module:ATTRIBUTE``.

The engine never imports ``protocols/`` directly; the built-in protocols register themselves in ``pyproject.toml``
exactly as a user's package would.

Loading ``module:ATTRIBUTE`` imports that module, which runs its code, so it is done only for a reference a person
typed (``faultlab check pkg.mod:SPEC``, ``faultlab replay T --protocol pkg.mod:SPEC``). A name read from a file (a
trace's ``protocol``) goes through :func:`registered_protocol`, which resolves registered names only: replaying
someone else's trace never imports a module the trace names. The registry remembers which reference loaded each
protocol, so :func:`reference` can say what a printed replay command must pass as ``--protocol``.
"""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import entry_points

from faultlab.errors import UnknownProtocolError
from faultlab.protocol import Protocol

GROUP = "faultlab.protocols"
# Protocols loaded from module:ATTRIBUTE in this process: by identity (the object) and by protocol name.
_LOADED_FROM: dict[int, tuple[Protocol, str]] = {}
_LOADED_BY_NAME: dict[str, str] = {}


def protocol_names() -> list[str]:
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def all_protocols() -> list[Protocol]:
    return [get_protocol(name) for name in protocol_names()]


def get_protocol(name: str) -> Protocol:
    """The protocol registered as ``name``, or loaded from ``package.module:ATTRIBUTE`` (an import: only for a
    reference a person typed, never for a name read from a file)."""
    if ":" not in name:
        return registered_protocol(name)
    module_name, _, attr = name.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as e:  # the user's module failed to import (not found, a syntax error, its own exception)
        raise UnknownProtocolError(f"cannot load protocol {name!r}: importing {module_name!r} raised "
                                   f"{type(e).__name__}: {e}") from None
    try:
        spec = getattr(module, attr)
    except AttributeError:
        raise UnknownProtocolError(f"cannot load protocol {name!r}: module {module_name!r} has no attribute "
                                   f"{attr!r}") from None
    _check(name, spec)
    _LOADED_FROM[id(spec)] = (spec, name)
    _LOADED_BY_NAME[spec.name] = name
    return spec


def registered_protocol(name: str) -> Protocol:
    """The protocol registered as ``name`` under the ``faultlab.protocols`` entry-point group.

    Safe for a name read from a file: it is only compared with the registered names, never imported.
    """
    matches = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if not matches:
        known = ", ".join(protocol_names()) or "none (is faultlab installed? `pip install -e .`)"
        raise UnknownProtocolError(f"unknown protocol {name[:100]!r}; known protocols: {known} "
                                   f"(or name your own as module:ATTRIBUTE)")
    spec = matches[0].load()
    _check(name, spec)
    return spec


def is_registered(name: str) -> bool:
    return any(ep.name == name for ep in entry_points(group=GROUP))


def reference(protocol: Protocol | str) -> str | None:
    """What ``faultlab replay`` needs as ``--protocol`` to find ``protocol`` (an object or a protocol name) again.

    None when its name is registered (the trace's ``protocol`` field is enough); else the ``module:ATTRIBUTE`` that
    loaded it, or the module-level name it is bound to in the module that defines it; else a placeholder that says
    what to write.
    """
    name = protocol if isinstance(protocol, str) else protocol.name
    if is_registered(name) and (isinstance(protocol, str) or registered_protocol(name) is protocol):
        return None
    if not isinstance(protocol, str) and id(protocol) in _LOADED_FROM:
        return _LOADED_FROM[id(protocol)][1]
    if isinstance(protocol, str):
        return _LOADED_BY_NAME.get(name, "MODULE:ATTRIBUTE")
    return _defined_at(protocol) or "MODULE:ATTRIBUTE"


def _defined_at(protocol: Protocol) -> str | None:
    """``module:NAME`` of a module-level variable bound to ``protocol``: looked for first in the modules that define
    its parts, then in every loaded module (a protocol made with ``attrs.evolve`` lives where it was evolved)."""
    first = [getattr(part, "__module__", None) for part in (protocol.nodes, protocol.client, protocol.config_class)]
    for module_name in dict.fromkeys([m for m in first if m] + sorted(sys.modules)):
        module = sys.modules.get(module_name)
        if module is None or module_name == "__main__":
            continue
        for attr, value in list(vars(module).items()):
            if value is protocol:
                return f"{module_name}:{attr}"
    return None


def _check(name: str, spec: object) -> None:
    if not isinstance(spec, Protocol):
        raise UnknownProtocolError(f"{name!r} is a {type(spec).__name__}, not a faultlab.protocol.Protocol")
