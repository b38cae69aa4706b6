"""faultlab: property-based verification of distributed protocols under faults.

What a protocol author needs is importable from here (see API.md)::

    from faultlab import Node, handler, every, Ok, Fail, Unknown, Protocol, Variant, Invariant, Witness, Claim

Names load on first use, so ``import faultlab`` stays cheap for commands that need none of the engine (judging a
recorded history does not import trio or Hypothesis).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> module that defines it
_EXPORTS = {
    # writing a node
    "Node": "faultlab.node", "handler": "faultlab.node", "every": "faultlab.node", "NodeContext": "faultlab.node",
    "Coins": "faultlab.node", "UnhandledMessage": "faultlab.node", "Storage": "faultlab.storage",
    # client outcomes
    "Ok": "faultlab.outcomes", "Fail": "faultlab.outcomes", "Unknown": "faultlab.outcomes",
    "Outcome": "faultlab.outcomes",
    # describing a protocol
    "Protocol": "faultlab.protocol", "Variant": "faultlab.protocol", "Invariant": "faultlab.protocol",
    "Witness": "faultlab.protocol", "Claim": "faultlab.claims", "Measurement": "faultlab.claims",
    "Plot": "faultlab.claims",
    "ClientAPI": "faultlab.runtime", "follow_leader": "faultlab.clients", "Event": "faultlab.events",
    "Events": "faultlab.events",
    # faults and links
    "Fault": "faultlab.faults", "FaultPlan": "faultlab.faults", "Links": "faultlab.network",
    "Latency": "faultlab.latency",
    # histories and verdicts
    "History": "faultlab.history", "Operation": "faultlab.history", "CheckResult": "faultlab.result",
    "Verdict": "faultlab.result",
    # running
    "RunSettings": "faultlab.runtime", "RunResult": "faultlab.runtime", "simulate": "faultlab.runtime",
    "Exploration": "faultlab.explore", "SeededChoices": "faultlab.choices",
    # errors
    "FaultlabError": "faultlab.errors", "ConfigError": "faultlab.errors",
}


__all__ = ["CheckResult", "Claim", "ClientAPI", "Coins", "ConfigError", "Event", "Events", "Exploration",
           "Fail", "Fault", "FaultPlan", "FaultlabError", "History", "Invariant", "Latency", "Links", "Measurement",
           "Plot", "Node", "NodeContext", "Ok", "Operation", "Outcome", "Protocol", "RunResult", "RunSettings",
           "SeededChoices", "Storage", "UnhandledMessage", "Unknown", "Variant", "Verdict", "Witness", "every",
           "follow_leader", "handler", "simulate"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'faultlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from faultlab.choices import SeededChoices
    from faultlab.claims import Claim, Measurement, Plot
    from faultlab.clients import follow_leader
    from faultlab.errors import ConfigError, FaultlabError
    from faultlab.events import Event, Events
    from faultlab.explore import Exploration
    from faultlab.faults import Fault, FaultPlan
    from faultlab.history import History, Operation
    from faultlab.latency import Latency
    from faultlab.network import Links
    from faultlab.node import Coins, Node, NodeContext, UnhandledMessage, every, handler
    from faultlab.outcomes import Fail, Ok, Outcome, Unknown
    from faultlab.protocol import Invariant, Protocol, Variant, Witness
    from faultlab.result import CheckResult, Verdict
    from faultlab.runtime import ClientAPI, RunResult, RunSettings, simulate
    from faultlab.storage import Storage
