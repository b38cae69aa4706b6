"""The latency model: messages take time by where their ends are, with a jitter the search chooses (choice 0 =
nominal), streams never reorder, and a protocol without a latency model is exactly as before."""

from __future__ import annotations

import attrs
import pytest

from faultlab import (
    ConfigError,
    FaultPlan,
    Invariant,
    Latency,
    Node,
    Ok,
    Protocol,
    RunSettings,
    SeededChoices,
    handler,
    simulate,
)
from faultlab.choices import ReplayChoices
from invariants.durability import check_no_lost_writes


@attrs.frozen
class Put:
    value: int


@attrs.frozen
class Copy:
    value: int


@attrs.frozen
class Get:
    pass


@attrs.frozen
class Cfg:
    cross_region: float = attrs.field(default=0.1, metadata={"help": "one-way latency between regions (s)"})


class Primary(Node[Cfg]):
    """Acknowledges a write at once and ships it to the replica in the other region (asynchronous)."""

    @handler
    def on_put(self, msg: Put) -> Ok:
        self.storage["value"] = msg.value
        self.storage.sync()
        self.ctx.send("replica", Copy(msg.value))
        return Ok(msg.value)

    @handler
    def on_get(self, msg: Get) -> Ok:
        return Ok(self.storage.get("value"))


class Replica(Node[Cfg]):
    def __init__(self, ctx):
        super().__init__(ctx)
        self.applied: list[tuple[int, float]] = []

    @handler
    def on_copy(self, msg: Copy) -> None:
        self.storage["value"] = msg.value
        self.storage.sync()
        self.ctx.note("applied", value=msg.value)

    @handler
    def on_get(self, msg: Get) -> Ok:
        return Ok(self.storage.get("value"))


SPEC = Protocol(
    name="two-regions", summary="a primary and an asynchronous cross-region replica", config_class=Cfg,
    nodes=lambda cfg: {"primary": Primary, "replica": Replica},
    zones=lambda cfg: {"primary": "use1-az1", "replica": "usw2-az1"},
    latency=lambda cfg: Latency(cross_region=cfg.cross_region, regions={"use1-az1": "us-east-1",
                                                                       "usw2-az1": "us-west-2"}),
    request=lambda f, value: Put(value) if f == "write" else Get(),
    route=lambda f, value: "primary",
    workload=lambda choices, i: ("write", i + 1),
    final_ops=lambda cfg: [("read", None, "replica")],
    invariants=(Invariant("no-lost-writes", check_no_lost_writes, "acknowledged writes survive"),),
    settle_time=1.0)

QUIET = RunSettings(clients=1, ops_per_client=3, plan=FaultPlan(kinds=(), swarm=False))


def _copies(result):
    """(value, sent at, delivered at) of every Copy delivered, in delivery order."""
    return [(env.msg.value, env.sent_at, t) for kind, t, env in result.events
            if kind == "deliver" and isinstance(env.msg, Copy)]


def test_nominal_latency_is_by_zone_and_region():
    lat = Latency(regions={"a1": "r1", "a2": "r1", "b1": "r2"})
    zone_of = {"n1": "a1", "n2": "a1", "n3": "a2", "n4": "b1"}
    assert lat.nominal("n1", "n1", zone_of) == lat.same_node == 0.0
    assert lat.nominal("n1", "n2", zone_of) == lat.same_zone
    assert lat.nominal("n1", "n3", zone_of) == lat.cross_zone < 0.002  # section 20: "< 2ms" between zones
    assert lat.nominal("n1", "n4", zone_of) == lat.cross_region
    assert lat.nominal("c0", "n1", zone_of) == lat.nominal("n1", "c0", zone_of) == lat.client


def test_a_message_arrives_after_its_latency_and_choice_0_is_the_nominal_one():
    run = simulate(SPEC, Cfg(), ReplayChoices([0] * 64), QUIET)  # every choice 0: one write, nominal latencies
    (copy,) = _copies(run)
    assert run.verdict == "ok"
    assert copy[1] == pytest.approx(0.0005) and copy[2] - copy[1] == pytest.approx(0.1)  # client hop, then region


def test_jitter_is_chosen_and_a_stream_never_reorders():
    late = []
    for seed in range(30):
        run = simulate(SPEC, Cfg(), SeededChoices(seed), QUIET)
        copies = _copies(run)
        values = [v for v, _, _ in copies]
        assert values == sorted(values), values  # in the order sent, whatever the jitter
        late += [t - sent for _, sent, t in copies]
    assert min(late) == pytest.approx(0.1) and max(late) > 0.15  # some were jittered, none early


def test_replica_lag_is_a_figure_in_simulated_time():
    """The kind of measurement latency makes possible: the lag of asynchronous cross-region replication is the
    cross-region latency (plus any jitter chosen), here 100 ms nominal, and 500 ms with it raised."""
    for cross in (0.1, 0.5):
        run = simulate(SPEC, Cfg(cross_region=cross), ReplayChoices([0] * 64), QUIET)
        lags = [t - sent for _, sent, t in _copies(run)]
        assert lags and max(lags) == pytest.approx(cross)


def test_without_a_latency_model_messages_take_no_time_and_nothing_is_chosen():
    spec = attrs.evolve(SPEC, latency=None)
    a = simulate(spec, Cfg(), SeededChoices(1), QUIET)
    assert _copies(a) and all(t == sent for _, sent, t in _copies(a))
    b = simulate(SPEC, Cfg(), SeededChoices(1), QUIET)
    assert len(b.choices) > len(a.choices)  # a jitter choice per message that takes time


def test_bad_latency_settings_are_config_errors():
    with pytest.raises(ConfigError, match="jitter"):
        Latency(jitter=(2.0, 1.0))
    with pytest.raises(ConfigError, match="cross_zone"):
        Latency(cross_zone=-1.0)
    with pytest.raises(ConfigError, match="slow"):
        Latency(slow=1.5)


def test_most_seeded_messages_are_nominal_and_a_few_are_slow():
    """Measurements use seeded runs: the coin keeps them near the nominal latency, with a tail."""
    lags = []
    for seed in range(40):
        lags += [t - sent for _, sent, t in _copies(simulate(SPEC, Cfg(), SeededChoices(seed), QUIET))]
    nominal = sum(1 for x in lags if x == pytest.approx(0.1))
    assert 0.75 * len(lags) < nominal < len(lags), (nominal, len(lags))


def test_a_message_to_a_node_that_is_down_is_lost_even_while_on_the_wire():
    """On stream links a message to a node that is down is lost at once; with latency it is on the wire, not in
    the queue, when that happens (a KeyError killed the run before)."""
    from faultlab.runtime import Simulation

    sim = Simulation(SPEC, Cfg(), QUIET, SeededChoices(0))
    sim.down.add("replica")
    sim._send("primary", "replica", Copy(1), None)
    assert sim.network.in_flight == 0 and [k for k, *_ in sim.events] == ["lost"]
    crashes = RunSettings(clients=1, ops_per_client=4, plan=FaultPlan(kinds=("crash",), swarm=False))
    for seed in range(20):  # and in whole runs with crashes
        assert simulate(SPEC, Cfg(), SeededChoices(seed), crashes).error is None
