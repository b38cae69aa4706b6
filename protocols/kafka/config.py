"""Kafka settings: replication (acks, min ISR, unclean election, fencing, flush), the producer (idempotence) and
the consumer groups (transactions, when offsets are committed, generation fencing)."""

from __future__ import annotations

import attrs

from faultlab import ConfigError

BROKERS = ("b1", "b2", "b3")
PARTITIONS = (0, 1)
CONTROLLER = "ctl"
# consumer group members: two members of the consume-transform-produce application, one of a second group
WORKERS = {"w1": "app", "w2": "app", "w3": "mirror"}
GROUPS = ("app", "mirror")


@attrs.frozen
class KafkaConfig:
    acks: str = attrs.field(default="all", metadata={
        "help": "all: the leader acknowledges once every in-sync replica has the record; 1: once it has it"})
    min_isr: int = attrs.field(default=2, metadata={
        "help": "min.insync.replicas: with acks=all, refuse a produce while fewer replicas are in sync"})
    unclean_election: bool = attrs.field(default=False, metadata={
        "help": "unclean.leader.election.enable: elect a replica outside the ISR when no ISR member is alive"})
    fencing: bool = attrs.field(default=True, metadata={
        "help": "leader epochs: replicas refuse a deposed leader's replication, the controller its ISR changes"})
    fsync: bool = attrs.field(default=True, metadata={
        "help": "flush every append to disk (flush.messages=1); off: Kafka's default, the OS flushes (never here)"})
    idempotence: bool = attrs.field(default=True, metadata={
        "help": "enable.idempotence: the leader drops a retried batch it has, by producer id and sequence number"})
    read_uncommitted_log: bool = attrs.field(default=False, metadata={
        "help": "a bug: fetches return records above the high watermark (not yet on every in-sync replica)"})
    transactions: bool = attrs.field(default=True, metadata={
        "help": "consume-transform-produce in a transaction: outputs and the offset commit are atomic"})
    commit: str = attrs.field(default="after", metadata={
        "help": "without transactions: commit the offset after producing the outputs (at-least-once) or before "
                "(at-most-once)"})
    generation_fencing: bool = attrs.field(default=True, metadata={
        "help": "the group coordinator refuses commits from a member of an older generation (a zombie)"})
    retention: float = attrs.field(default=0.0, metadata={
        "help": "retention.ms in seconds: committed records older than this are deleted; 0: unlimited"})
    heartbeat: float = attrs.field(default=0.5, metadata={"help": "seconds between heartbeats and replication pushes"})
    session_timeout: float = attrs.field(default=1.1, metadata={
        "help": "seconds of silence before the controller fences a broker, or the coordinator a group member"})
    lag_timeout: float = attrs.field(default=0.6, metadata={
        "help": "replica.lag.time.max: seconds a follower may lag before the leader drops it from the ISR"})

    def __attrs_post_init__(self) -> None:
        if self.acks not in ("all", "1"):
            raise ConfigError(f"kafka: acks={self.acks!r}; use all or 1")
        if not 1 <= self.min_isr <= len(BROKERS):
            raise ConfigError(f"kafka: min_isr={self.min_isr}; choose 1 to {len(BROKERS)} (the replication factor)")
        if self.commit not in ("after", "before"):
            raise ConfigError(f"kafka: commit={self.commit!r}; use after (at-least-once) or before (at-most-once)")
        if self.retention < 0:
            raise ConfigError(f"kafka: retention={self.retention}; give seconds > 0, or 0 for unlimited")
        for name in ("heartbeat", "session_timeout", "lag_timeout"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"kafka: {name}={getattr(self, name)}; give a positive number of seconds")
        if self.session_timeout <= 2 * self.heartbeat:
            raise ConfigError(f"kafka: session_timeout={self.session_timeout} must exceed two heartbeats "
                              f"({2 * self.heartbeat} s), or live members are fenced; raise it or lower heartbeat")

    def zone_of(self) -> dict[str, str]:
        zones = {b: f"zone-{'abc'[i]}" for i, b in enumerate(BROKERS)}
        zones[CONTROLLER] = "zone-a"
        zones.update({w: f"zone-{'abc'[i]}" for i, w in enumerate(WORKERS)})
        return zones
