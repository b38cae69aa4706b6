"""Fault injection: the swarm draw at the start of a run, and at every step the decision to inject a fault.

The :class:`FaultInjector` reads and changes the :class:`~faultlab.runtime.Simulation` it serves (its network, nodes
and clocks) and takes every decision from the run's choice source. It aims: target lists put the most interesting
node first (the one that just acknowledged, the leader, a node with unsynced writes), so that choice 0, the one
shrinking moves toward, is the aimed fault. See :mod:`faultlab.faults` for the vocabulary and the rates.
"""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING, Any

import trio

from faultlab import faults as F
from faultlab.choices import CAUSE
from faultlab.network import Envelope
from faultlab.storage import record_fields

if TYPE_CHECKING:
    from faultlab.runtime import Simulation


FAULT = "fault"  # the cause of a fault's choices (faultlab.choices.CAUSE)


class FaultInjector:
    """Draws which fault kinds a run enables and injects faults step by step, within the plan's budgets."""

    def __init__(self, sim: Simulation):
        self.sim = sim
        self.enabled: tuple[str, ...] = ()
        self.rate = 0.0
        self.faults = 0
        self.crashes = 0
        self.boost = 0  # steps left at the raised rate after a client acknowledgement
        self.focus: str | None = None  # the node that most recently acknowledged a client operation
        self.tearable = False  # torn_write is enabled: steps while a log record is being written are aimed at
        self.destroyed: dict[str, None] = {}  # nodes whose disk a destroy took, in order
        self.destroyed_zones = 0
        self.destroyed_nodes = 0

    def after_ack(self, node: str) -> None:
        """``node`` just acknowledged a client operation: aim the next step at it (crash right after the ack)."""
        self.focus = node
        self.boost = 1

    def draw_swarm(self) -> None:
        sim = self.sim
        plan = sim.settings.plan
        kinds = list(F.available_kinds(plan.kinds, sim.protocol.faults, sim.network.links))
        if plan.swarm:
            kinds = [k for k in kinds if sim.choices.flip(0.5)]
            self.rate = F.RATES[sim.choices.choose(len(F.RATES))]
        else:
            self.rate = F.RATES[1]
        enabled = list(kinds)
        if "partition" in kinds:
            enabled.append("heal")
        if any(k in kinds for k in F.STOPS_NODE):
            enabled.append("restart")
        self.enabled = tuple(k for k in F.FAULT_KINDS if k in enabled)
        self.tearable = "torn_write" in self.enabled

    def _mid_write(self) -> bool:
        sim = self.sim
        return any(sim.storages[n].unsynced_logs for n in sim.node_ids if n not in sim.down)

    def maybe_inject(self) -> bool:
        sim = self.sim
        rate = self.rate
        if self.boost:
            self.boost -= 1
            if sim.settings.plan.directed:
                rate = max(rate, F.AFTER_ACK_RATE)
        if self.faults >= sim.settings.plan.max_faults:
            return False
        if self.tearable and sim.settings.plan.directed and self._mid_write():
            rate = max(rate, F.MID_WRITE_RATE)  # a record is being written: the moment a power loss tears it
        with sim.choices.span("fault"):  # the coin, the kind and the target: one decision a shrinker can delete
            if not sim.choices.flip(rate):
                return False
            token = CAUSE.set(FAULT)  # what a fault is and whom it hits are the faults' own choices
            try:
                kind = self.enabled[sim.choices.choose(len(self.enabled))]
                applied = getattr(self, "fault_" + kind)()
            finally:
                CAUSE.reset(token)
        sim.steps += 1
        if applied:
            self.faults += 1
        return applied

    def _targets(self, pool: list[str], *, prefer: list[str] = ()) -> list[str]:
        """Candidate nodes, most interesting first when faults are directed, so choice 0 aims."""
        sim = self.sim
        pool = sorted(pool)
        if not sim.settings.plan.directed:
            return pool
        order = list(prefer)
        if self.focus:
            order.append(self.focus)
        order += sorted(n for n, r in sim.roles.items() if r == "leader")
        if sim.last_invoked:
            order.append(sim.last_invoked)
        order += pool
        seen: dict[str, None] = {}
        for n in order:
            if n in pool and n not in seen:
                seen[n] = None
        return list(seen)

    def _pick_message(self, *, between_nodes: bool = False) -> Envelope | None:
        """One of the oldest messages in flight (choice 0 = the one due next); optionally only node-to-node ones."""
        sim = self.sim
        if between_nodes:
            nodes = sim.contexts
            candidates = [e for e in sim.network.oldest_n(len(sim.network)) if e.src in nodes and e.dst in nodes][:4]
        else:
            candidates = sim.network.oldest_n(4)
        if not candidates:
            return None
        if len(candidates) == 1:
            return candidates[0]
        # Picked by what the message is (sender, receiver, type, the operation it works for), not by its id or
        # place: a variation of the run that leaves an earlier operation out (faultlab.reduce) shifts every id, and
        # the fault must still hit the same message.
        names: list[str] = []
        seen: collections.Counter[str] = collections.Counter()
        for e in candidates:
            name = f"{e.src}>{e.dst} {type(e.msg).__name__} {e.cause}"
            seen[name] += 1
            names.append(name if seen[name] == 1 else f"{name} #{seen[name]}")  # names must be distinct
        return candidates[names.index(sim.choices.pick(names))]

    def fault_drop(self) -> bool:
        sim = self.sim
        env = self._pick_message()
        if env is None:
            return False
        if sim.network.stream:
            # Loss on a connection is a reset: everything in flight on it, both ways, is gone.
            lost = sim.network.reset(env.src, env.dst)
            sim._event("drop", {"id": env.id, "src": env.src, "dst": env.dst, "reset": [e.id for e in lost]})
            return True
        sim.network.pop(env)
        sim._event("drop", {"id": env.id, "src": env.src, "dst": env.dst})
        return True

    def fault_duplicate(self) -> bool:
        # Only between nodes: a client's request travels over a connection that can lose or delay it but never
        # delivers it twice. A duplicated request, arriving after the client was told "ok", would run the write
        # again and overwrite newer ones: a client retry that no history records (found by the thorough profile on
        # quorum-register, seed 11). A retrying client is a new operation in the history, not a network fault.
        sim = self.sim
        env = self._pick_message(between_nodes=True)
        if env is None:
            return False
        copy = sim.network.requeue_copy(env)
        sim._event("duplicate", {"id": env.id, "copy": copy.id, "src": env.src, "dst": env.dst})
        return True

    def fault_delay(self) -> bool:
        sim = self.sim
        env = self._pick_message()
        if env is None:
            return False
        d = F.DELAYS[sim.choices.choose(len(F.DELAYS))]
        # One message (on a stream link: its direction of the connection), or everything in flight to its
        # destination (a slow node: a gray failure).
        slow = sim.choices.choose(2) == 1
        targets = [e for e in sim.network.deliverable() if e.dst == env.dst] if slow else [env]
        until = trio.current_time() + d
        held: dict[int, None] = {}
        for e in targets:
            if e.id not in held:
                held.update(dict.fromkeys(x.id for x in sim.network.hold(e, until)))
        detail = {"id": env.id, "src": env.src, "dst": env.dst, "seconds": d}
        if slow:
            detail["slow_node"] = env.dst
        if slow or len(held) > 1:
            detail["held"] = sorted(held)
        sim._event("delay", detail)
        return True

    def fault_partition(self) -> bool:
        sim = self.sim
        nodes = list(sim.node_ids)
        if len(nodes) < 2:
            return False
        shapes = [s for s in F.PARTITION_SHAPES if s != "zone" or len(set(sim.zone_of.values())) > 1]
        if len(nodes) < 3:
            shapes = [s for s in shapes if s != "bridge"]
        shape = shapes[sim.choices.choose(len(shapes))]
        order = self._targets(nodes)
        bridge = None
        if shape == "isolate":
            t = sim.choices.pick(order)
            sides = [[t], [n for n in nodes if n != t]]
        elif shape == "split":
            r = sim.choices.choose(len(nodes))
            minority = (order[r:] + order[:r])[: len(nodes) // 2]
            sides = [sorted(minority), [n for n in nodes if n not in minority]]
        elif shape == "bridge":
            bridge = sim.choices.pick(order)
            rest = [n for n in order if n != bridge]
            sides = [sorted(rest[0::2]), sorted(rest[1::2])]
        else:
            zones = sorted(set(sim.zone_of.values()))
            focus_zone = sim.zone_of.get(order[0])
            zones = ([focus_zone] if focus_zone in zones else []) + [z for z in zones if z != focus_zone]
            z = sim.choices.pick(zones)
            sides = [[n for n in nodes if sim.zone_of.get(n) == z], [n for n in nodes if sim.zone_of.get(n) != z]]
        detail = {"shape": shape, "sides": sides}
        if bridge:
            detail["bridge"] = bridge
        if shape == "zone":
            detail["zone"] = z
        lost = sim.network.partition(sides, bridge)
        sim._event("partition", detail)
        sim._lost(lost, "partition")
        return True

    def fault_heal(self) -> bool:
        sim = self.sim
        if not sim.network.partitioned:
            return False
        sim.network.heal()
        sim._event("heal", {})
        return True

    def _crash(self, kind: str, prefer: list[str]) -> bool:
        sim = self.sim
        live = [n for n in sim.node_ids if n not in sim.down]
        if not live or self.crashes >= sim.settings.plan.max_crashes:
            return False
        order = self._targets(live, prefer=prefer)
        node = sim.choices.pick(order)
        victims = [node]
        detail: dict[str, Any] = {"node": node}
        if kind == "lose_unsynced":
            # Power fails for one machine, its whole zone, or the whole site: correlated loss is what makes
            # "acknowledged before fsync" lose data, since every replica that acknowledged loses it at once.
            scope = F.POWER_SCOPES[sim.choices.choose(len(F.POWER_SCOPES))]
            if scope == "zone" and sim.zone_of.get(node) is not None:
                victims = [n for n in live if sim.zone_of.get(n) == sim.zone_of[node]]
            elif scope == "all":
                victims = live
            detail = {"node": node, "scope": scope, "nodes": victims,
                      "lost_writes": sum(sim.storages[n].lose_unsynced() for n in victims)}
        self.crashes += 1
        sim._event(kind, detail)
        for n in victims:
            sim._stop_node(n)
        return True

    def fault_crash(self) -> bool:
        return self._crash("crash", [])

    def fault_lose_unsynced(self) -> bool:
        sim = self.sim
        unsynced = [n for n in sim.node_ids if sim.storages[n].has_unsynced and n not in sim.down]
        return self._crash("lose_unsynced", unsynced)

    def fault_torn_write(self) -> bool:
        """Power loss while a node was writing a log record: the last unsynced record of one of its logs reaches the
        disk only partly (its first fields, zeros after), earlier ones whole, every other unsynced write is lost.
        Aimed at nodes with unsynced log records (there is nothing to tear elsewhere); choice 0 tears off only the
        record's last field, the subtlest tear."""
        sim = self.sim
        live = [n for n in sim.node_ids if n not in sim.down and sim.storages[n].unsynced_logs]
        if not live or self.crashes >= sim.settings.plan.max_crashes:
            return False
        node = sim.choices.pick(self._targets(live))
        storage = sim.storages[node]
        logs = storage.unsynced_logs
        log = sim.choices.pick(logs)  # by name: the same log when shrinking reorders nothing
        fields = record_fields(storage.read_log(log)[-1].record)
        keep = fields - 1 - sim.choices.choose(fields)
        detail = {"node": node, **storage.tear(log, keep)}
        self.crashes += 1
        sim._event("torn_write", detail)
        sim._stop_node(node)
        return True

    def fault_destroy(self) -> bool:
        """A disk is gone for good: one node's, or every one in a zone (within the plan's destroy budget). Nothing
        it held, synced or not, is left; the node stops, and comes back (a restart, or recovery) on an empty disk
        whose ``storage.destroyed`` tells the protocol it is a replacement."""
        sim = self.sim
        plan = sim.settings.plan
        pool = [n for n in sim.node_ids if n not in self.destroyed]
        zones = sorted({sim.zone_of[n] for n in pool if sim.zone_of.get(n) is not None})
        scopes = [s for s in F.DESTROY_SCOPES
                  if (s == "zone" and zones and self.destroyed_zones < plan.max_destroyed_zones)
                  or (s == "node" and pool and self.destroyed_nodes < plan.max_destroyed_nodes)]
        if not scopes:
            return False
        scope = scopes[sim.choices.choose(len(scopes))] if len(scopes) > 1 else scopes[0]
        order = self._targets(pool)
        detail: dict[str, Any] = {"scope": scope}
        if scope == "zone":
            focus_zone = sim.zone_of.get(order[0])
            zones = ([focus_zone] if focus_zone in zones else []) + [z for z in zones if z != focus_zone]
            zone = sim.choices.pick(zones)
            victims = [n for n in pool if sim.zone_of.get(n) == zone]
            detail["zone"] = zone
            self.destroyed_zones += 1
        else:
            victims = [sim.choices.pick(order)]
            detail["node"] = victims[0]
            self.destroyed_nodes += 1
        detail["nodes"] = victims
        detail["lost"] = sum(sim.storages[n].destroy() for n in victims)
        self.destroyed.update(dict.fromkeys(victims))
        sim._event("destroy", detail)
        for n in victims:
            if n not in sim.down:
                sim._stop_node(n)
        return True

    def fault_restart(self) -> bool:
        sim = self.sim
        if not sim.down:
            return False
        down = sorted(sim.down)
        node = sim.choices.pick(down)
        sim._start_node(node)
        sim._event("restart", {"node": node})
        return True

    def fault_skew(self) -> bool:
        sim = self.sim
        order = self._targets(list(sim.node_ids), prefer=[sim.last_invoked] if sim.last_invoked else [])
        node = sim.choices.pick(order)
        offset = F.SKEWS[sim.choices.choose(len(F.SKEWS))]
        sim.skew[node] = offset
        sim._event("skew", {"node": node, "offset": offset})
        return True

