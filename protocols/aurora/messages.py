"""The messages of the Aurora model: client requests, the writer's log shipping, recovery, gossip and heartbeats."""

from __future__ import annotations

import attrs


# -- clients ---------------------------------------------------------------------------------------------------------
@attrs.frozen
class ClientWrite:
    value: int


@attrs.frozen
class ClientRead:
    """A read through the cluster (writer) endpoint."""


@attrs.frozen
class ReplicaRead:
    """A read through the reader endpoint: answered from the instance's buffer cache, possibly behind the writer."""


@attrs.frozen
class VolumeRead:
    """A read of the volume itself at a read quorum (what a recovery would restore), without taking it over."""


@attrs.frozen
class Redirect:
    writer: str | None


# -- writer to segments ----------------------------------------------------------------------------------------------
@attrs.frozen
class Append:
    """Redo log records ``(lsn, value)`` of the writer's ``epoch`` (the tail above its durable point)."""

    epoch: tuple
    records: tuple


@attrs.frozen
class Recover:
    """A new writer's first round: adopt ``epoch`` (fencing older ones) and send me your log."""

    epoch: tuple


@attrs.frozen
class Install:
    """A new writer's second round: the log it recovered, restamped with its epoch, and where its epoch starts."""

    epoch: tuple
    records: tuple
    end: int


@attrs.frozen
class Confirm:
    """Is ``epoch`` still the newest you know? (a writer's read confirms it was not deposed)"""

    epoch: tuple


@attrs.frozen
class SegmentAck:
    accepted: bool
    epoch: tuple  # the newest epoch the segment knows


@attrs.frozen
class SegmentLog:
    accepted: bool
    epoch: tuple
    log: tuple
    starts: tuple


@attrs.frozen
class ReadLog:
    """Send me your log, changing nothing (a volume read)."""


# -- segments among themselves, writer to replicas -------------------------------------------------------------------
@attrs.frozen
class Gossip:
    log: tuple
    starts: tuple


@attrs.frozen
class Ship:
    """Writer to replica: the writer's log and its durable point (a heartbeat when nothing changed)."""

    epoch: tuple
    writer: str
    log: tuple   # values of records 1..len
    durable: int
