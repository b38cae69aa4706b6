"""The Aurora cluster's configuration: segments and zones, quorums, timings, and the switches of the known-bad variants.

The same object the simulation runs is the one z3 reasons about (:meth:`AuroraConfig.quorum_system`), so a proof is
about the deployed placement and quorum sizes, not a paraphrase of them.
"""

from __future__ import annotations

import attrs

from faultlab import ConfigError
from models.quorum import QuorumSystem, placement

SEGMENTS = 6   # protection group: six copies of the volume's log
ZONES = 3      # two segments per availability zone
INSTANCES = ("db1", "db2")  # the database instances: db1 is the writer at creation, db2 a read replica


@attrs.frozen
class AuroraConfig:
    write_quorum: int = attrs.field(default=4, metadata={
        "help": "segment acknowledgements that make a log record durable (Aurora: 4 of 6)"})
    read_quorum: int = attrs.field(default=3, metadata={
        "help": "segments a recovering writer reads to find the durable log end (Aurora: 3 of 6)"})
    fence: bool = attrs.field(default=True, metadata={
        "help": "segments reject log records of an epoch older than the newest they have seen (a deposed writer "
                "cannot commit)"})
    recover_from: str = attrs.field(default="quorum", metadata={
        "help": "where a new writer finds the durable point: 'quorum' (read a read quorum of segments) or 'local' "
                "(replay only what its own replica had applied)"})
    replica_applies: str = attrs.field(default="durable", metadata={
        "help": "what a read replica applies: 'durable' (records up to the writer's durable point) or 'received' "
                "(every record as soon as it arrives)"})
    checksum: bool = attrs.field(default=True, metadata={
        "help": "segments verify each redo record's checksum when they start and truncate their log at a torn one "
                "(off: a torn record is trusted as written)"})
    heartbeat_interval: float = attrs.field(default=0.5, metadata={
        "help": "seconds between the writer's heartbeats to replicas (they carry the durable point)"})
    failover_timeout: float = attrs.field(default=2.0, metadata={
        "help": "seconds a replica goes without the writer's heartbeat before it promotes itself (health check)"})
    apply_delay: float = attrs.field(default=0.01, metadata={
        "help": "seconds a replica takes to apply shipped records to its buffer cache"})
    gossip_interval: float = attrs.field(default=5.0, metadata={
        "help": "seconds between a segment's gossip pushes of its log to a random peer segment (repair)"})
    lose: str = attrs.field(default="", metadata={
        "help": "segments or zones destroyed for good during the run, comma-separated (e.g. 'az1,s2'): their "
                "copies are wiped and they never answer again"})
    lose_at: float = attrs.field(default=1.0, metadata={"help": "virtual time at which the 'lose' segments are lost"})

    def __attrs_post_init__(self) -> None:
        for name in ("write_quorum", "read_quorum"):
            if not 1 <= getattr(self, name) <= SEGMENTS:
                raise ConfigError(f"aurora: {name}={getattr(self, name)} must be between 1 and {SEGMENTS} segments")
        if self.recover_from not in ("quorum", "local"):
            raise ConfigError(f"aurora: recover_from={self.recover_from!r}; choose 'quorum' or 'local'")
        if self.replica_applies not in ("durable", "received"):
            raise ConfigError(f"aurora: replica_applies={self.replica_applies!r}; choose 'durable' or 'received'")
        for name in ("heartbeat_interval", "failover_timeout", "gossip_interval"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"aurora: {name}={getattr(self, name)} must be > 0 seconds")
        if self.apply_delay < 0 or self.lose_at < 0:
            raise ConfigError("aurora: apply_delay and lose_at must be >= 0 seconds")
        if self.failover_timeout <= self.heartbeat_interval:
            raise ConfigError(f"aurora: failover_timeout={self.failover_timeout} must exceed heartbeat_interval="
                              f"{self.heartbeat_interval}, or a healthy writer is failed over")
        self.lost_segments()  # validates the names

    def segments(self) -> tuple[str, ...]:
        return tuple(f"s{i + 1}" for i in range(SEGMENTS))

    def segment_zones(self) -> dict[str, str]:
        """s1..s6 round-robin over az1..az3: s1 and s4 in az1, s2 and s5 in az2, s3 and s6 in az3."""
        replicas, zone_of = placement(SEGMENTS, ZONES)
        return {f"s{r[1:]}": zone_of[r] for r in replicas}

    def zone_of(self) -> dict[str, str]:
        zones = self.segment_zones()
        zones.update({"db1": "az1", "db2": "az2"})
        return zones

    def lost_segments(self) -> tuple[str, ...]:
        names = [n.strip() for n in self.lose.split(",") if n.strip()]
        zones = self.segment_zones()
        lost: list[str] = []
        for name in names:
            if name in zones:
                lost.append(name)
            elif name in set(zones.values()):
                lost += [s for s, z in zones.items() if z == name]
            else:
                raise ConfigError(f"aurora: lose={self.lose!r} names {name!r}, which is neither a segment "
                                  f"(s1..s{SEGMENTS}) nor a zone (az1..az{ZONES})")
        return tuple(sorted(set(lost)))

    def quorum_system(self) -> QuorumSystem:
        """The segments, their zones and the two quorum sizes, for z3 (:mod:`models.quorum`)."""
        return QuorumSystem(self.segments(), self.read_quorum, self.write_quorum, self.segment_zones())
