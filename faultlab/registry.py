"""Finding protocols by name: the ``faultlab.protocols`` entry-point group, or ``module:ATTRIBUTE``.

The engine never imports ``protocols/`` directly; the built-in protocols register themselves in ``pyproject.toml``
exactly as a user's package would.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from faultlab.errors import UnknownProtocolError
from faultlab.protocol import Protocol

GROUP = "faultlab.protocols"


def protocol_names() -> list[str]:
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def all_protocols() -> list[Protocol]:
    return [get_protocol(name) for name in protocol_names()]


def get_protocol(name: str) -> Protocol:
    """The protocol registered as ``name``, or loaded from ``package.module:ATTRIBUTE``."""
    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            spec = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as e:
            raise UnknownProtocolError(f"cannot load protocol {name!r}: {e}") from None
    else:
        matches = [ep for ep in entry_points(group=GROUP) if ep.name == name]
        if not matches:
            known = ", ".join(protocol_names()) or "none (is faultlab installed? `pip install -e .`)"
            raise UnknownProtocolError(f"unknown protocol {name!r}; known protocols: {known} "
                                       f"(or name your own as module:ATTRIBUTE)")
        spec = matches[0].load()
    if not isinstance(spec, Protocol):
        raise UnknownProtocolError(f"{name!r} is a {type(spec).__name__}, not a faultlab.protocol.Protocol")
    return spec
