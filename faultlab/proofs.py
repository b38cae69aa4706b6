"""The z3 proofs of a protocol configuration: quorum intersection, plus failure tolerance where zones exist.

Built from the protocol's own ``quorum_system(config)``, so a proof is about exactly the configuration the code runs.
Used by ``faultlab prove`` and ``faultlab verify``.
"""

from __future__ import annotations

from faultlab.errors import ConfigError
from models.quorum import as_quorum_system, prove_all


def parse_tolerance(text: str) -> list[tuple[int, int, str]]:
    spec, _, op = text.partition(":")
    zones, plus, nodes = spec.partition("+")
    try:
        z, k = int(zones), int(nodes) if plus else 0
    except ValueError:
        raise ConfigError(f"--tolerate {text!r}: expected ZONES+NODES[:read|write], e.g. 1+1 or 0+2:write") from None
    if op not in ("", "read", "write"):
        raise ConfigError(f"--tolerate {text!r}: the operation must be read or write")
    return [(z, k, o) for o in ((op,) if op else ("read", "write"))]


def default_tolerance(system) -> list[tuple[int, int, str]]:
    if system.zone_of and len(set(system.zone_of.values())) > 1:
        return [(1, 0, "read"), (1, 0, "write")]
    return []


def proofs_for(protocol, config, extra: list[str] = ()):
    if protocol.quorum_system is None:
        raise ConfigError(f"{protocol.name} declares no quorum system, so there is nothing for z3 to prove")
    system = as_quorum_system(protocol.quorum_system(config))
    tolerance = default_tolerance(system)
    for t in extra:
        tolerance += parse_tolerance(t)
    return system, prove_all(system, tolerance)
