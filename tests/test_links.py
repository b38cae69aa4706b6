"""Link models: a stream connection delivers in order, never twice, and loses by resetting; a datagram link may
lose, duplicate and reorder. Unit tests of the network, then the same contracts over whole runs with every fault."""

from __future__ import annotations

import collections

import pytest

from faultlab.choices import SeededChoices
from faultlab.faults import FaultPlan
from faultlab.network import Network
from faultlab.registry import get_protocol
from faultlab.runtime import RunSettings, Simulation, simulate

QR = get_protocol("quorum-register")
EVERY_FAULT = RunSettings(plan=FaultPlan(swarm=False))


def test_a_held_stream_direction_keeps_its_order_and_holds_later_messages_too():
    net = Network(["a", "b"])
    first, _ = net.send("a", "b", 1, None, 0.0)
    second, _ = net.send("a", "b", 2, None, 0.0)
    other, _ = net.send("b", "a", 9, None, 0.0)
    assert [e.msg for e in net.hold(first, 5.0)] == [1, 2]
    third, _ = net.send("a", "b", 3, None, 1.0)
    assert net.oldest() is other and net.next_release() == 5.0  # the other direction is not held
    net.pop(other)
    assert net.oldest() is None
    net.release(5.0)
    assert [e.msg for e in net.oldest_n(5)] == [1, 2, 3]


def test_a_reset_loses_everything_in_flight_on_the_connection_both_ways_and_nothing_else():
    net = Network(["a", "b", "c"])
    ab, _ = net.send("a", "b", "ab", None, 0.0)
    ba, _ = net.send("b", "a", "ba", None, 0.0)
    ac, _ = net.send("a", "c", "ac", None, 0.0)
    assert net.reset("b", "a") == [ab, ba]
    assert net.oldest_n(5) == [ac]


def test_a_partition_resets_the_stream_connections_it_cuts_but_a_datagram_waits_to_be_lost():
    stream = Network(["a", "b", "c"])
    ab, _ = stream.send("a", "b", "x", None, 0.0)
    bc, _ = stream.send("b", "c", "y", None, 0.0)
    assert stream.partition([["a"], ["b", "c"]]) == [ab]
    stream.heal()
    assert stream.oldest_n(5) == [bc]  # in flight across the partition: gone, even after healing
    datagram = Network(["a", "b"], links="datagram")
    env, _ = datagram.send("a", "b", "x", None, 0.0)
    assert datagram.partition([["a"], ["b"]]) == [] and datagram.oldest() is env and datagram.is_cut("a", "b")


def test_a_stream_network_cannot_duplicate():
    net = Network(["a", "b"])
    env, _ = net.send("a", "b", 1, None, 0.0)
    with pytest.raises(AssertionError):
        net.requeue_copy(env)


class _Watched(Simulation):
    """A simulation that remembers each message's destination incarnation when it was sent."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sent_to: dict[int, int] = {}
        self.sent_elsewhere: set[int] = set()  # to clients
        self.sent_by: dict[int, int] = {}  # the sender's incarnation
        self.from_dead: list[int] = []  # delivered although the incarnation that sent them had crashed
        self.delivered_to: dict[int, tuple[int, int]] = {}

    def _send(self, src, dst, msg, reply_to):
        mid = super()._send(src, dst, msg, reply_to)
        if src in self.incarnation:
            self.sent_by[mid] = self.incarnation[src]
        if dst in self.incarnation:
            self.sent_to[mid] = self.incarnation[dst]
        else:
            self.sent_elsewhere.add(mid)
        return mid

    def _deliver(self, env):
        if env.id in self.sent_to and env.dst not in self.down:
            self.delivered_to[env.id] = (self.sent_to[env.id], self.incarnation[env.dst])
        if env.id in self.sent_by and (env.src in self.down or self.incarnation[env.src] != self.sent_by[env.id]):
            self.from_dead.append(env.id)
        super()._deliver(env)


def _runs(links: str, seeds=range(40)):
    settings = RunSettings(plan=FaultPlan(swarm=False), links=links)
    for seed in seeds:
        sim = _Watched(QR, QR.make_config({}), settings, SeededChoices(seed))
        result = sim.run()
        assert result.error is None, result.error
        yield sim, result


def _deliveries(result):
    return [(p["id"], p["src"], p["dst"]) for kind, _, p in ((k, t, _as_dict(p)) for k, t, p in result.events)
            if kind == "deliver"]


def _as_dict(payload):
    return payload if isinstance(payload, dict) else {"id": payload.id, "src": payload.src, "dst": payload.dst}


def test_every_run_on_stream_links_delivers_in_order_never_twice_and_never_to_a_later_incarnation():
    faults = collections.Counter()
    for sim, result in _runs("stream"):
        faults.update(k for k, _, _ in result.events)
        delivered = _deliveries(result)
        copies = [mid for mid, _, _ in delivered if mid not in sim.sent_to and mid not in sim.sent_elsewhere]
        assert not copies, f"messages delivered that nobody sent (duplicates): {copies}"
        last: dict[tuple[str, str], int] = {}
        for mid, src, dst in delivered:
            assert mid > last.get((src, dst), 0), f"#{mid} {src}->{dst} overtook a message sent after it"
            last[(src, dst)] = mid
        for mid, (sent, now) in sim.delivered_to.items():
            assert sent == now, f"#{mid} was sent to incarnation {sent} and delivered to incarnation {now}"
        assert not sim.from_dead, f"delivered after the incarnation that sent them crashed: {sim.from_dead}"
        faults.update(f"lost:{p['why']}" for k, _, p in result.events if k == "lost")
    # the runs did break connections in every way the stream model allows, and never duplicated
    assert faults["duplicate"] == 0
    assert all(faults[k] > 0 for k in ("drop", "delay", "partition", "crash", "lose_unsynced", "restart"))
    # and the runs did break connections by each cause: a crash, a cut, a send to a node that was down
    assert all(faults[f"lost:{why}"] > 0 for why in ("crash", "partition", "down")), faults


def test_the_same_runs_on_datagram_links_do_duplicate_and_reorder():
    duplicated = reordered = 0
    for sim, result in _runs("datagram"):
        delivered = _deliveries(result)
        duplicated += sum(1 for mid, _, _ in delivered if mid not in sim.sent_to and mid not in sim.sent_elsewhere)
        last: dict[tuple[str, str], int] = {}
        for mid, src, dst in delivered:
            reordered += mid < last.get((src, dst), 0)
            last[(src, dst)] = max(mid, last.get((src, dst), 0))
    assert duplicated > 0 and reordered > 0


@pytest.mark.parametrize("links", ["stream", "datagram"])
def test_nothing_is_delivered_across_a_partition(links):
    """A message whose link is cut when it would arrive is lost, whether it was sent before or during the cut."""
    crossings = 0
    for _, result in _runs(links):
        side: dict[str, int] | None = None
        bridge = None
        for kind, _, payload in result.events:
            if kind == "partition":
                side = {n: i for i, s in enumerate(payload["sides"]) for n in s}
                bridge = payload.get("bridge")
            elif kind == "heal":
                side = None
            elif kind == "deliver" and side is not None:
                p = _as_dict(payload)
                if p["src"] in side and p["dst"] in side and bridge not in (p["src"], p["dst"]):
                    crossings += side[p["src"]] != side[p["dst"]]
    assert crossings == 0


def test_the_trace_says_which_link_model_the_verdict_was_obtained_under():
    from faultlab.trace import trace_document

    for links in ("stream", "datagram"):
        result = simulate(QR, QR.make_config({}), SeededChoices(0), RunSettings(links=links))
        doc = trace_document(result)
        assert doc["links"] == links and doc["settings"]["links"] == links
    assert trace_document(simulate(QR, QR.make_config({}), SeededChoices(0)))["links"] == "stream"
