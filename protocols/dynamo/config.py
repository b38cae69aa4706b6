"""Dynamo's configuration: the settings of a run (``--set key=value``), validated, and the timeout every node uses.

A configuration that cannot run raises :class:`faultlab.ConfigError` naming the setting and what to set instead.
"""

from __future__ import annotations

import attrs

from faultlab import ConfigError
from protocols.dynamo.ring import node_names, ring_of

REPLICA_TIMEOUT = 0.8  # how long a node waits for a peer before it treats it as down


@attrs.frozen
class DynamoConfig:
    nodes: int = attrs.field(default=5, metadata={"help": "cluster size (nodes n1..nK on the ring at the start)"})
    n: int = attrs.field(default=3, metadata={"help": "replicas per key (length of the preference list used)"})
    r: int = attrs.field(default=2, metadata={"help": "read quorum: replies a read waits for"})
    w: int = attrs.field(default=2, metadata={"help": "write quorum: acknowledgements a write waits for"})
    vnodes: int = attrs.field(default=16, metadata={"help": "virtual nodes (ring tokens) per physical node"})
    sloppy: bool = attrs.field(default=True, metadata={"help": "sloppy quorum with hinted handoff; false: strict "
                                                               "quorum over the top-N preferred replicas only"})
    conflict: str = attrs.field(default="vclock", metadata={"help": "vclock (siblings) or lww (last writer wins "
                                                                    "on the coordinator's clock)"})
    gossip: bool = attrs.field(default=True, metadata={"help": "gossip membership: a sloppy coordinator skips nodes "
                                                               "its view believes failed; false: it tries every node"})
    churn: bool = attrs.field(default=False, metadata={"help": "nodes join and leave during the run: `spares` more "
                                                               "nodes join, the last `leaves` initial members leave"})
    spares: int = attrs.field(default=1, metadata={"help": "with churn: nodes outside the ring that join it"})
    leaves: int = attrs.field(default=1, metadata={"help": "with churn: initial members that leave gracefully"})

    def __attrs_post_init__(self) -> None:
        if not 1 <= self.nodes <= 16:
            raise ConfigError(f"dynamo: nodes={self.nodes} must be between 1 and 16")
        if not 1 <= self.n <= self.nodes:
            raise ConfigError(f"dynamo: n={self.n} must be between 1 and nodes={self.nodes}")
        for name in ("r", "w"):
            if not 1 <= getattr(self, name) <= self.n:
                raise ConfigError(f"dynamo: {name}={getattr(self, name)} must be between 1 and n={self.n}")
        if not 1 <= self.vnodes <= 256:
            raise ConfigError(f"dynamo: vnodes={self.vnodes} must be between 1 and 256")
        if self.conflict not in ("vclock", "lww"):
            raise ConfigError(f"dynamo: conflict={self.conflict!r} must be vclock or lww, e.g. --set conflict=lww")
        if self.churn:
            if not self.gossip:
                raise ConfigError("dynamo: churn=true announces joins and leaves through gossip; set gossip=true")
            if self.sloppy:
                raise ConfigError("dynamo: churn=true is implemented for strict quorums only (hints for a node that "
                                  "left are not re-targeted); set sloppy=false")
            if self.spares < 0 or self.nodes + self.spares > 16:
                raise ConfigError(f"dynamo: spares={self.spares} must be >= 0 with nodes + spares <= 16")
            if not 0 <= self.leaves <= self.nodes - self.n:
                raise ConfigError(f"dynamo: leaves={self.leaves} must be between 0 and nodes - n = "
                                  f"{self.nodes - self.n}, so that N={self.n} replicas remain")

    def node_ids(self) -> tuple[str, ...]:
        """Every node the engine runs: the initial members, then (with churn) the spares."""
        return node_names(self.nodes + (self.spares if self.churn else 0))

    def members(self) -> tuple[str, ...]:
        """The ring at the start of a run."""
        return node_names(self.nodes)

    def leavers(self) -> tuple[str, ...]:
        return self.members()[self.nodes - self.leaves:] if self.churn else ()

    def walk(self, key: str) -> tuple[str, ...]:
        """The key's extended preference list on the initial ring: the top N are preferred, the rest stand-ins."""
        return ring_of(self.members(), self.vnodes).walk(key)
