"""How long a message takes: a nominal latency per pair of places, and a jitter the search chooses.

A protocol that declares ``Protocol.latency`` (``config -> Latency``) gets messages that spend time on the wire:
``sent_at + nominal(src, dst) * jitter`` is when a message reaches its destination's queue. The nominal latency
depends on where the two endpoints are (``Protocol.zones`` gives each node a zone, ``Latency.regions`` each zone a
region): the same node, the same zone, another zone of the region, another region, or a client outside the cluster.
Section 20 of the design document puts zones "< 2ms" apart and regions 50-200 ms.

The jitter is a choice per message: a coin that is True with probability ``Latency.slow`` (False = the nominal
latency), and for a slow message which of the other multipliers in ``Latency.jitter``. So shrinking moves every
message back to its nominal time, a counterexample that needs a slow message keeps just that one, and seeded runs
(measurements) see mostly nominal latencies with a tail, not a uniform spread. On stream links a message never overtakes an earlier one on the same connection (it arrives no earlier
than the one sent before it); on datagram links a jittered message may arrive after a later one.

Without ``Protocol.latency`` messages take no time, as before, and nothing is chosen: existing traces are unchanged.
Latency is a property of the environment, not a fault: it applies in every phase, recovery included, so replica lag,
failover and recovery times, RPO and RTO are figures in simulated time.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from faultlab.errors import ConfigError


@attrs.frozen(kw_only=True)
class Latency:
    """Nominal one-way latencies in seconds, and the jitter multipliers the search may choose among."""

    same_node: float = 0.0
    same_zone: float = 0.0002
    cross_zone: float = 0.001      # section 20: "< 2ms" between zones
    cross_region: float = 0.1      # section 20: 50-200 ms between regions
    client: float = 0.0005         # a client (outside the cluster) to a node, or back
    jitter: tuple[float, ...] = attrs.field(default=(1.0, 2.0, 10.0), converter=tuple)
    slow: float = 0.1              # the probability a message takes one of the slower multipliers
    regions: Mapping[str, str] = attrs.field(factory=dict, converter=dict)  # zone -> region; unlisted: one region

    def __attrs_post_init__(self) -> None:
        for name in ("same_node", "same_zone", "cross_zone", "cross_region", "client"):
            value = getattr(self, name)
            if not 0.0 <= value < 3600.0:
                raise ConfigError(f"latency {name}={value!r}: give seconds from 0 to 3600")
        if not 0.0 <= self.slow <= 1.0:
            raise ConfigError(f"latency slow={self.slow!r}: give a probability from 0 to 1")
        if not self.jitter or self.jitter[0] != 1.0 or any(not 1.0 <= j <= 1000.0 for j in self.jitter):
            raise ConfigError(f"latency jitter={self.jitter!r}: the first must be 1.0 (the nominal latency, "
                              f"choice 0) and each from 1 to 1000")

    def draw(self, choices) -> float:
        """The jitter multiplier of one message: 1.0 unless the coin says slow (choices from the run's source)."""
        if len(self.jitter) == 1 or not choices.flip(self.slow):
            return 1.0
        return self.jitter[1 + choices.choose(len(self.jitter) - 1)]

    def nominal(self, src: str, dst: str, zone_of: Mapping[str, str]) -> float:
        """The latency from ``src`` to ``dst`` (node ids or client endpoints) before jitter."""
        if src == dst:
            return self.same_node
        a, b = zone_of.get(src), zone_of.get(dst)
        if a is None or b is None:
            return self.client if (a is None) != (b is None) else self.same_zone
        if a == b:
            return self.same_zone
        if self.regions.get(a, "") != self.regions.get(b, ""):
            return self.cross_region
        return self.cross_zone
