"""dynamo membership: gossip detects any crashed node at every live node, spreads news in about log2 N rounds, and a
sloppy coordinator skips the nodes its view believes failed."""

from __future__ import annotations

import math

import attrs
import trio

import protocols.dynamo.membership as dynamo_membership
from faultlab import Ok
from faultlab.choices import SeededChoices
from faultlab.faults import FaultPlan
from faultlab.runtime import RunSettings, simulate
from faultlab.storage import Storage
from protocols.dynamo import SPEC
from protocols.dynamo.gossip import Membership, measure_detection_everywhere, measure_gossip_rounds
from protocols.dynamo.node import DynamoNode
from protocols.dynamo.protocol import request, workload

DY = SPEC
QUIET = RunSettings(plan=FaultPlan(kinds=(), swarm=False))


def _member(me="n1", now=0.0):
    return Membership(me, 1, ("n1", "n2", "n3"), now, suspect_after=3.0, fail_after=5.0)


def test_merge_keeps_the_newer_entry_a_restart_wins_and_a_leave_wins():
    m = _member()
    m.merge([("n2", 1, 7, False)], now=1.0)
    m.merge([("n2", 1, 3, False)], now=2.0)   # older heartbeat: ignored
    assert ("n2", 1, 7, False) in m.view()
    m.merge([("n2", 2, 0, False)], now=3.0)   # a restart (new incarnation) beats any old heartbeat
    assert ("n2", 2, 0, False) in m.view()
    assert m.merge([("n4", 1, 1, False)], now=3.0) == ["n4"]  # a join
    m.merge([("n4", 1, 2, True)], now=4.0)
    assert m.status("n4", 4.0) == "left" and "n4" not in m.gossip_targets()
    m.merge([("n1", 9, 9, True)], now=4.0)    # nobody overrides what a node says about itself
    assert m.status("n1", 100.0) == "alive"


def test_a_silent_node_becomes_suspect_then_failed_then_alive_again():
    m = _member()
    assert m.status("n2", 2.9) == "alive" and m.status("n2", 3.0) == "suspect" and m.status("n2", 5.0) == "failed"
    assert m.failed(5.0) == {"n2", "n3"}
    m.merge([("n2", 1, 1, False)], now=6.0)
    assert m.status("n2", 6.0) == "alive"


def test_any_one_crash_is_detected_by_every_live_node_without_false_suspicions():
    m = measure_detection_everywhere(0, n=8)
    assert m.figure == 1.0, m.summary
    assert [r["crashed"] for r in m.table] == [f"n{i}" for i in range(1, 9)]
    for row in m.table:
        assert row["detected_by"] == row["live_observers"] == 7 and row["false_suspicions"] == 0, row


def test_news_reaches_every_node_in_about_log2_n_rounds():
    m = measure_gossip_rounds(0, sizes=(4, 16, 64), trials=3)
    for row in m.table:
        assert 0.6 <= row["join_per_log2N"] <= 2.0, row
        assert row["leave_rounds"] <= 2.5 * row["log2N"] and row["crash_rounds_beyond_timeout"] <= 2.5 * row["log2N"]
        assert row["false_suspicions"] == 0, row
    rounds = [r["join_rounds"] for r in m.table]
    assert rounds[0] < rounds[-1] < 4 * rounds[0]  # grows with N, but far slower than N (16x more nodes)


def _crashes(result):
    """(node, crashed at, restarted at) for every crash of the run."""
    down, out = {}, []
    for kind, t, payload in result.events:
        if kind == "crash":
            down[payload["node"]] = t
        elif kind == "restart" and payload["node"] in down:
            out.append((payload["node"], down.pop(payload["node"]), t))
    return out + [(n, t, math.inf) for n, t in down.items()]


async def _client_with_pauses(api, f, value):
    if f == "pause":
        await trio.sleep(value)
        return Ok(value)
    return await api.call(request(f, value))


def _workload_with_pauses(choices, op_index):
    return ("pause", 4.0) if op_index % 2 else workload(choices, op_index)


# dynamo with clients that pause between operations: runs last long enough for a crash to outlive the failure
# timeout (in plain runs clients finish in seconds and recovery restarts every node). No invariants: only the
# membership notes are looked at.
SLOW_DY = attrs.evolve(DY, request=None, client=_client_with_pauses, workload=_workload_with_pauses, invariants=(), variants=(), claims=())
LONG_CRASH = RunSettings(clients=2, ops_per_client=12, plan=FaultPlan(kinds=("crash",), swarm=False, max_crashes=1,
                                                                        max_faults=1))


def test_the_protocol_detects_a_crashed_node_at_every_node_that_stayed_up():
    """In engine runs of dynamo: whenever a node stays down longer than the failure timeout plus six gossip periods
    (time for its last heartbeat to reach everyone, which is random), every other node notes it failed before it
    restarts, and notes it recovered after."""
    window = dynamo_membership.FAIL_AFTER + 6 * dynamo_membership.GOSSIP_PERIOD
    checked = recovered = 0
    for seed in range(30):
        result = simulate(SLOW_DY, DY.make_config({}), SeededChoices(seed), LONG_CRASH)
        notes = [(p["what"], p["node"], p["member"], t) for kind, t, p in result.events
                 if kind == "note" and p["what"] in ("member_failed", "member_recovered")]
        for victim, t0, t1 in _crashes(result):
            if t1 - t0 <= window:
                continue
            for observer in DY.make_config({}).node_ids():
                if observer == victim:
                    continue
                checked += 1
                assert any(w == "member_failed" and o == observer and m == victim and t0 < t < t1
                           for w, o, m, t in notes), (seed, victim, observer, t0)
                recovered += any(w == "member_recovered" and o == observer and m == victim and t > t1
                                 for w, o, m, t in notes)
    assert checked >= 20 and recovered > 0, (checked, recovered)


def test_no_node_is_believed_failed_in_runs_without_faults():
    for seed in range(10):
        result = simulate(DY, DY.make_config({}), SeededChoices(seed), QUIET)
        assert result.note_count("member_failed") == 0, seed


class _Ctx:
    """Just enough of a node context to build a DynamoNode and ask it for a key's extended preference list."""

    def __init__(self, me, t):
        self.id, self.incarnation, self.config = me, 1, DY.make_config({})
        self.nodes = self.config.node_ids()
        self.storage = Storage()
        self.t = t

    def now(self):
        return self.t


def test_a_sloppy_coordinator_skips_preferred_replicas_it_believes_failed():
    ctx = _Ctx("n1", 0.0)
    node = DynamoNode(ctx)
    walk = ctx.config.walk("a")
    up, down, stand_ins = node._extended("a")
    assert (up, down, stand_ins) == (list(walk[:3]), [], list(walk[3:]))
    ctx.t = 100.0  # nobody was heard from since: all believed failed, but a coordinator never skips itself
    for n in ctx.nodes:
        if n not in (walk[0], walk[3], "n1"):
            node.members.merge([(n, 1, 1, False)], now=100.0)  # heard from everyone else but walk[0] and walk[3]
    up, down, stand_ins = node._extended("a")
    assert down == [walk[0]] and walk[0] not in up
    assert stand_ins[-1] == walk[3] or walk[3] == "n1"  # believed failed: tried last
