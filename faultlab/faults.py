"""The fault vocabulary and the plan that decides, step by step, which fault (if any) to inject.

:class:`Fault` is the one vocabulary across code, traces, CLI flags and reports. ``deliver`` is the boring event;
the others are faults: ``drop`` (on stream links: a connection reset), ``duplicate`` (datagram links only, between
nodes: a client never sends a request twice), ``delay`` (hold a message back; on stream links a whole direction of a
connection), ``partition`` (shapes: isolate one node, split in two, a bridge node that sees both sides, cut a whole
zone), ``crash``, ``skew`` (move one node's clock) and ``lose_unsynced`` (a crash that also loses the node's unsynced
durable writes: power loss). Two disk faults are drawn only for protocols whose ``faults`` name them:
``torn_write`` (power loss while a log record was being written: :meth:`faultlab.storage.Storage.append` records
before it reach the disk whole, it only partly, and reads back failing its checksum) and ``destroy`` (a node's disk,
or every disk of a zone, is gone for good: :meth:`faultlab.storage.Storage.destroy`; the node comes back on an empty
disk whose ``storage.destroyed`` says so, and the protocol decides whether it rejoins). ``FaultPlan`` bounds
``destroy`` by ``max_destroyed_zones`` and ``max_destroyed_nodes``, the failure budget of a durability claim ("loss
of an AZ + 1"). ``heal``, ``restart`` and ``release`` undo a partition, a crash (a power loss, a torn write, a
destruction) and a held connection; they come with the fault they undo.

Faults are drawn *swarm* style: each run first enables a random subset of the allowed kinds and a fault rate, so
some runs hammer one kind while others mix them. And they are *directed*: targets are ordered so that choice 0 is the
most interesting node (the one that just acknowledged a write, the leader, a node with unsynced writes), and right
after an acknowledgement the fault rate is raised, so "crash right after the ack" is a likely schedule rather than a
1-in-3,000 one. With ``torn_write`` enabled the rate is raised too while a node has a log record written but not yet
synced: a torn write can only happen then.
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
    TORN_WRITE = "torn_write"
    DESTROY = "destroy"


EVENT_KINDS = tuple(Fault)
FAULT_KINDS = EVENT_KINDS[1:]
# Kinds a user enables; heal, restart and release come with partition, crash and delay (they undo them).
# The disk faults come last, so the kinds (and choices) of protocols that do not name them are what they were.
INJECTABLE = (Fault.DROP, Fault.DUPLICATE, Fault.DELAY, Fault.PARTITION, Fault.CRASH, Fault.SKEW,
              Fault.LOSE_UNSYNCED, Fault.TORN_WRITE, Fault.DESTROY)
STOPS_NODE = (Fault.CRASH, Fault.LOSE_UNSYNCED, Fault.TORN_WRITE, Fault.DESTROY)  # what a restart undoes
UNDOES = {Fault.HEAL: (Fault.PARTITION,), Fault.RESTART: STOPS_NODE,
          Fault.RELEASE: (Fault.DELAY,)}
PARTITION_SHAPES = ("isolate", "split", "bridge", "zone")
DELAYS = (0.5, 2.0, 8.0)            # virtual seconds a delayed message is held back
SKEWS = (-30.0, -2.0, -0.2, 0.2, 2.0, 30.0)  # clock offsets a skew fault sets
POWER_SCOPES = ("node", "zone", "all")  # what a lose_unsynced power failure takes down
DESTROY_SCOPES = ("zone", "node")       # what a destroy takes: every disk of a zone, or one node's
RATES = (0.02, 0.06, 0.15)          # per-step fault probability levels the swarm picks from
AFTER_ACK_RATE = 0.35               # fault probability on the step right after a client acknowledgement
MID_WRITE_RATE = 0.15               # at least this, with torn_write enabled, while some node has an unsynced record


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
    # The destroy budget: at most this many whole zones, and this many further single nodes, lose their disks in a
    # run (a durability claim's "loss of an entire AZ + 1 additional node" is 1 and 1). Power loss and torn writes
    # count as crashes; destruction counts here only.
    max_destroyed_zones: int = 1
    max_destroyed_nodes: int = 1

    def __attrs_post_init__(self) -> None:
        parse_fault_kinds(self.kinds)
        for name in ("max_faults", "max_crashes", "max_destroyed_zones", "max_destroyed_nodes"):
            if getattr(self, name) < 0:
                raise ConfigError(f"FaultPlan: {name}={getattr(self, name)} must be >= 0")
