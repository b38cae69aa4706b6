"""The fault vocabulary and the plan that decides, step by step, which fault (if any) to inject.

:class:`Fault` is the one vocabulary across code, traces, CLI flags and reports. ``deliver`` is the boring event;
the others are faults: ``drop`` (on stream links: a connection reset), ``duplicate`` (datagram links only, between
nodes: a client never sends a request twice), ``delay`` (hold a message back; on stream links a whole direction of a
connection), ``partition`` (shapes: isolate one node, split in two, a bridge node that sees both sides, cut a whole
zone), ``crash``, ``skew`` (move one node's clock) and ``lose_unsynced`` (a crash that also loses the node's unsynced
durable writes: power loss). ``heal``, ``restart`` and ``release`` undo a partition, a crash and a held connection;
they come with the fault they undo.

Faults are drawn *swarm* style: each run first enables a random subset of the allowed kinds and a fault rate, so
some runs hammer one kind while others mix them. And they are *directed*: targets are ordered so that choice 0 is the
most interesting node (the one that just acknowledged a write, the leader, a node with unsynced writes), and right
after an acknowledgement the fault rate is raised, so "crash right after the ack" is a likely schedule rather than a
1-in-3,000 one.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs

from faultlab.errors import ConfigError


class Fault(enum.StrEnum):
    """What can happen to a message, a link, a node or a clock. Members are strings ("drop"), so traces, CLI flags
    and reports use the same words."""

    DELIVER = "deliver"
    DROP = "drop"
    DUPLICATE = "duplicate"
    DELAY = "delay"
    PARTITION = "partition"
    HEAL = "heal"
    CRASH = "crash"
    RESTART = "restart"
    SKEW = "skew"
    LOSE_UNSYNCED = "lose_unsynced"
    RELEASE = "release"


EVENT_KINDS = tuple(Fault)
FAULT_KINDS = EVENT_KINDS[1:]
# Kinds a user enables; heal, restart and release come with partition, crash and delay (they undo them).
INJECTABLE = (Fault.DROP, Fault.DUPLICATE, Fault.DELAY, Fault.PARTITION, Fault.CRASH, Fault.SKEW,
              Fault.LOSE_UNSYNCED)
UNDOES = {Fault.HEAL: (Fault.PARTITION,), Fault.RESTART: (Fault.CRASH, Fault.LOSE_UNSYNCED),
          Fault.RELEASE: (Fault.DELAY,)}
PARTITION_SHAPES = ("isolate", "split", "bridge", "zone")
DELAYS = (0.5, 2.0, 8.0)            # virtual seconds a delayed message is held back
SKEWS = (-30.0, -2.0, -0.2, 0.2, 2.0, 30.0)  # clock offsets a skew fault sets
POWER_SCOPES = ("node", "zone", "all")  # what a lose_unsynced power failure takes down
RATES = (0.02, 0.06, 0.15)          # per-step fault probability levels the swarm picks from
AFTER_ACK_RATE = 0.35               # fault probability on the step right after a client acknowledgement


def available_kinds(kinds: Iterable[str], protocol_faults: Iterable[str], links: str) -> tuple[str, ...]:
    """The injectable kinds a run may enable: asked for, supported by the protocol, and possible on its links (a
    stream connection never duplicates a message)."""
    allowed = set(protocol_faults)
    if links == "stream":
        allowed.discard("duplicate")
    return tuple(k for k in kinds if k in allowed)


def parse_fault_kinds(kinds: Iterable[str] | str) -> tuple[Fault, ...]:
    """Validate a list of fault names (``"crash,partition"`` or a list) and return the injectable ones, in
    vocabulary order. ``heal``, ``restart`` and ``release`` may be named with the fault they undo (they come with
    it anyway); ``all`` and ``none`` stand alone."""
    if isinstance(kinds, str):
        kinds = [k.strip() for k in kinds.split(",") if k.strip()]
    kinds = [str(k) for k in kinds]
    if kinds == ["none"]:
        return ()
    if kinds == ["all"]:
        return INJECTABLE
    for k in kinds:
        if k in UNDOES:
            if not any(str(f) in kinds for f in UNDOES[Fault(k)]):
                undone = " or ".join(UNDOES[Fault(k)])
                raise ConfigError(f"fault kind {k!r} undoes {undone} and comes with it; name {undone} too "
                                  f"(e.g. {UNDOES[Fault(k)][0]},{k})")
        elif k not in INJECTABLE:
            raise ConfigError(f"unknown fault kind {k!r}; choose from {', '.join(INJECTABLE)}, 'all' or 'none'")
    return tuple(k for k in INJECTABLE if k in kinds)


@attrs.frozen
class FaultPlan:
    """Which faults a run may inject and how many; the engine asks it once per step."""

    kinds: tuple[str, ...] = INJECTABLE
    swarm: bool = True
    directed: bool = True
    max_faults: int = 16
    max_crashes: int = 4

    def __attrs_post_init__(self) -> None:
        parse_fault_kinds(self.kinds)
        if self.max_faults < 0 or self.max_crashes < 0:
            raise ConfigError("max_faults and max_crashes must be >= 0")
