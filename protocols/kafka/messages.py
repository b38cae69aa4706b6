"""Kafka's messages: client requests, the controller's metadata, replication, and the group coordinator's."""

from __future__ import annotations

import attrs


# -- clients (producers, consumers reading from an offset, final reads) ----------------------------------------------
@attrs.frozen
class Produce:
    partition: int
    id: int
    pid: str  # producer id (the client) and its sequence number: what an idempotent leader dedups by
    seq: int


@attrs.frozen
class Fetch:
    partition: int
    offset: int
    limit: int


@attrs.frozen
class Records:
    partition: int
    epoch: int
    records: tuple  # (offset, id) pairs, from the fetch offset on
    hw: int


@attrs.frozen
class ReadLog:
    """Final read: the partition's committed log (up to the high watermark)."""

    partition: int


@attrs.frozen
class Redirect:
    """Not the partition's leader: ask ``leader`` (who this broker believes it is; None: unknown or offline)."""

    leader: str | None


# -- brokers and the controller --------------------------------------------------------------------------------------
@attrs.frozen
class PartitionState:
    partition: int
    leader: str | None
    epoch: int  # leader epoch: bumped by every election
    version: int  # partition epoch: bumped by every ISR change
    isr: tuple


@attrs.frozen
class BrokerHeartbeat:
    broker: str
    incarnation: int  # the broker epoch: a new one tells the controller the broker restarted (its log may be short)


@attrs.frozen
class ClusterState:
    partitions: tuple  # PartitionState per partition


@attrs.frozen
class AlterIsr:
    partition: int
    epoch: int
    version: int
    isr: tuple


@attrs.frozen
class Replicate:
    """Leader to replica: its whole log (short in a test), its epoch and high watermark."""

    partition: int
    epoch: int
    leader: str
    log: tuple
    hw: int
    start: int  # log start offset: records below it were deleted by retention


@attrs.frozen
class ReplicateAck:
    partition: int
    epoch: int
    accepted: bool
    leo: int  # log end offset the replica now holds


# -- consumer groups and the coordinator (on the controller node) ----------------------------------------------------
@attrs.frozen
class JoinGroup:
    group: str
    member: str


@attrs.frozen
class GroupHeartbeat:
    group: str
    member: str
    generation: int


@attrs.frozen
class Assignment:
    generation: int | None  # None: not a member (rejoin)
    partitions: tuple


@attrs.frozen
class OffsetFetch:
    group: str
    partition: int


@attrs.frozen
class Offset:
    offset: int


@attrs.frozen
class TxnCommit:
    """Consume-transform-produce in one transaction: the outputs and the group's new offset, atomically."""

    txn: tuple  # (member, incarnation, counter): a retried commit is applied once
    group: str
    member: str
    generation: int
    partition: int
    offset: int
    outputs: tuple


@attrs.frozen
class AppendOutputs:
    """Without transactions: produce outputs to the output topic (not idempotent: a retry appends again)."""

    outputs: tuple


@attrs.frozen
class CommitOffset:
    group: str
    member: str
    generation: int
    partition: int
    offset: int


@attrs.frozen
class Committed:
    ok: bool
    reason: str = ""


@attrs.frozen
class Audit:
    """Final read of the output topic's committed records."""
