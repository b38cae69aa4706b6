"""Dynamo's membership: gossiped heartbeats, failure detection without a central monitor, joins and leaves.

Every member keeps a view: for each node it knows, the node's ``incarnation`` (bumped by a restart), its
``heartbeat`` counter (bumped by the node itself once per gossip period) and whether it has left. Once a period a
node bumps its own heartbeat and exchanges views with one peer picked at random (push-pull:
both sides keep, per node, the entry with the larger ``(incarnation, heartbeat)``). A node whose entry has not
advanced for ``suspect_after`` on the local clock is *suspect*, for ``fail_after`` *failed*; a newer entry makes it
alive again. There is no central monitor and no special node: every node runs the same loop, so any one crash is
detected by every live node, the crash of the node a joiner first contacted included. A join is a new entry
(learned from the one member the joiner contacts); a leave is an entry marked ``left`` with a newer heartbeat.
Both spread like any heartbeat, in O(log N) rounds.

:class:`Membership` is pure (the caller passes the clock and picks the peer), so the protocol
(:mod:`protocols.dynamo.membership`, on its node clock, the peer a coin of ``ctx.random``) and the measurements here
(:class:`GossipRounds`, on a round counter, the peer from :class:`faultlab.SeededChoices`) run the same code. What it
does not do: agree. Two nodes may disagree on who failed for a while, and a slow node looks failed; Dynamo only uses
the view to skip nodes, never for safety.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from statistics import mean

from faultlab import Measurement, Plot, SeededChoices

Entry = tuple[str, int, int, bool]  # (node, incarnation, heartbeat, left)


class Membership:
    """One node's view of the cluster. Pure: every method that depends on time takes ``now``."""

    def __init__(self, me: str, incarnation: int, known: Iterable[str], now: float, *, suspect_after: float,
                 fail_after: float):
        if not 0 < suspect_after <= fail_after:
            raise ValueError(f"Membership: need 0 < suspect_after ({suspect_after}) <= fail_after ({fail_after})")
        self.me = me
        self.suspect_after = suspect_after
        self.fail_after = fail_after
        # node -> [incarnation, heartbeat, left, local time the entry last advanced]
        self._entries: dict[str, list] = {n: [0, 0, False, now] for n in known if n != me}
        self._entries[me] = [incarnation, 0, False, now]

    def tick(self, now: float) -> None:
        """This node is alive: bump its own heartbeat (once per gossip period)."""
        e = self._entries[self.me]
        e[1] += 1
        e[3] = now

    def leave(self, now: float) -> None:
        """Announce a departure: the own entry becomes ``left`` with a newer heartbeat, so it wins every merge."""
        e = self._entries[self.me]
        e[1] += 1
        e[2] = True
        e[3] = now

    def view(self) -> tuple[Entry, ...]:
        return tuple((n, e[0], e[1], e[2]) for n, e in sorted(self._entries.items()))

    def merge(self, view: Iterable[Entry], now: float) -> list[str]:
        """Keep the newer entry of each node; returns the nodes this view had never heard of (joins)."""
        joined = []
        for node, inc, hb, left in view:
            if node == self.me:
                continue  # nobody knows better than this node whether it is alive
            e = self._entries.get(node)
            if e is None:
                self._entries[node] = [inc, hb, left, now]
                joined.append(node)
            elif (inc, hb, left) > (e[0], e[1], e[2]):
                e[0], e[1], e[2], e[3] = inc, hb, left, now
        return joined

    def status(self, node: str, now: float) -> str:
        """``alive``, ``suspect``, ``failed``, ``left`` or ``unknown`` (never heard of)."""
        e = self._entries.get(node)
        if e is None:
            return "unknown"
        if e[2]:
            return "left"
        if node == self.me:
            return "alive"
        age = now - e[3]
        return "failed" if age >= self.fail_after else "suspect" if age >= self.suspect_after else "alive"

    def failed(self, now: float) -> frozenset[str]:
        """Nodes believed down: failed or left (a coordinator skips them)."""
        return frozenset(n for n in self._entries if self.status(n, now) in ("failed", "left"))

    def known(self) -> tuple[str, ...]:
        return tuple(sorted(self._entries))

    def gossip_targets(self) -> tuple[str, ...]:
        """Peers to gossip with: every known node but this one and those that left (failed ones too: that is how
        a node that comes back is found)."""
        return tuple(n for n, e in sorted(self._entries.items()) if n != self.me and not e[2])


# -- a round-based cluster for the measurements ----------------------------------------------------------------------
class GossipRounds:
    """Gossip in synchronous rounds: each live member bumps its heartbeat, then gossips (push-pull) with one peer it
    picks through ``choices``. Exchanges within a round use the views as they were when the round began, so news
    travels one hop per round. Time is the round number."""

    def __init__(self, nodes: Iterable[str], choices: SeededChoices, *, suspect_after: int, fail_after: int):
        self.choices = choices
        self.suspect_after, self.fail_after = suspect_after, fail_after
        self.now = 0
        self.members = {n: self._member(n, nodes) for n in nodes}
        self.live = set(self.members)

    def _member(self, node: str, known: Iterable[str]) -> Membership:
        return Membership(node, 1, known, self.now, suspect_after=self.suspect_after, fail_after=self.fail_after)

    def round(self) -> None:
        self.now += 1
        order = sorted(self.live)
        for n in order:
            self.members[n].tick(self.now)
        views = {n: self.members[n].view() for n in order}
        for n in order:
            targets = self.members[n].gossip_targets()
            if not targets:
                continue
            peer = targets[self.choices.choose(len(targets))]
            if peer in self.live:
                self.members[peer].merge(views[n], self.now)
                self.members[n].merge(views[peer], self.now)

    def crash(self, node: str) -> None:
        self.live.discard(node)

    def join(self, node: str, contact: str) -> None:
        """A new node that knows only itself and one member (its contact)."""
        self.members[node] = self._member(node, (node, contact))
        self.live.add(node)

    def leave(self, node: str) -> None:
        """``node`` announces it leaves to one peer it believes up, and stops."""
        m = self.members[node]
        m.leave(self.now)
        believed_up = [t for t in m.gossip_targets() if m.status(t, self.now) != "failed"]
        targets = believed_up or m.gossip_targets()
        peer = targets[self.choices.choose(len(targets))]
        if peer in self.live:
            self.members[peer].merge(m.view(), self.now)
        self.live.discard(node)

    def everyone(self, node: str, status: str) -> bool:
        return all(self.members[n].status(node, self.now) == status for n in self.live if n != node)

    def false_suspicions(self) -> int:
        """(observer, live node) pairs where the observer believes a live node failed."""
        return sum(self.members[o].status(n, self.now) == "failed" for o in self.live for n in self.live if n != o)

    def until(self, done, limit: int) -> int | None:
        """Run rounds until ``done()``; the number of rounds it took, or None if not within ``limit``."""
        start = self.now
        while not done():
            if self.now - start >= limit:
                return None
            self.round()
        return self.now - start


def names(n: int) -> list[str]:
    return [f"n{i + 1}" for i in range(n)]


SIM_SUSPECT_AFTER = 10  # rounds; well above the ~log2 N rounds a heartbeat needs to reach everyone at N <= 64
SIM_FAIL_AFTER = 20
WARMUP = 30             # rounds before an experiment, so every view holds fresh heartbeats of everyone


def _cluster(n: int, seed: int) -> GossipRounds:
    c = GossipRounds(names(n), SeededChoices(seed), suspect_after=SIM_SUSPECT_AFTER, fail_after=SIM_FAIL_AFTER)
    for _ in range(WARMUP):
        c.round()
    return c


# -- claim: no single point of failure -------------------------------------------------------------------------------
def measure_detection_everywhere(seed: int, n: int = 8) -> Measurement:
    """Crash each node of an ``n``-node cluster in turn (one crash per trial) and count the live nodes that come to
    believe it failed. The figure is the fraction of (crashed node, live observer) pairs detected: 1.0 means no
    node's crash goes unnoticed, whichever node it is, and no node is needed for the others to notice. False
    suspicions of live nodes are counted too, over the whole trial."""
    rows, detected, pairs = [], 0, 0
    for i, victim in enumerate(names(n)):
        c = _cluster(n, seed * 1000 + i)
        c.crash(victim)
        took = c.until(lambda c=c, v=victim: c.everyone(v, "failed"), limit=4 * SIM_FAIL_AFTER)
        observers = [o for o in c.live]
        seen = sum(c.members[o].status(victim, c.now) == "failed" for o in observers)
        detected += seen
        pairs += len(observers)
        rows.append({"crashed": victim, "live_observers": len(observers), "detected_by": seen,
                     "rounds_to_all": took, "false_suspicions": c.false_suspicions()})
    worst = max(r["rounds_to_all"] or math.inf for r in rows)
    return Measurement(
        figure=round(detected / pairs, 3), unit="fraction of (crashed node, live node) pairs detected",
        summary=f"crashing any one of {n} nodes, {detected} of {pairs} live observers marked it failed, every "
                f"crash within {worst} rounds (fail_after={SIM_FAIL_AFTER}); "
                f"{sum(r['false_suspicions'] for r in rows)} false suspicions",
        table=rows)


# -- claim: gossip spreads in O(log N) rounds ------------------------------------------------------------------------
GOSSIP_SIZES = (4, 8, 16, 32, 64)
GOSSIP_TRIALS = 8


def measure_gossip_rounds(seed: int, sizes: tuple[int, ...] = GOSSIP_SIZES, trials: int = GOSSIP_TRIALS) -> Measurement:
    """Rounds until every live node knows of a join, a leave, and a crash, against cluster size N.

    A join is a node that contacts one member; a leave is announced to one peer; both are news that spreads. A
    crash is known everywhere once every node's newest heartbeat of the dead node is ``fail_after`` rounds old, so
    the table reports the crash rounds minus ``fail_after``: the lag of the dead node's last heartbeat. The figure
    is the mean join rounds / log2 N over the sizes (flat if dissemination is O(log N)); a least-squares fit of join
    rounds against log2 N is in the summary."""
    rows = []
    for n in sizes:
        join, leave, crash = [], [], []
        fp = 0
        for t in range(trials):
            s = seed * 1_000_003 + n * 1000 + t
            c = GossipRounds(names(n - 1), SeededChoices(s), suspect_after=SIM_SUSPECT_AFTER,
                             fail_after=SIM_FAIL_AFTER)
            for _ in range(WARMUP):
                c.round()
            new = f"n{n}"
            c.join(new, "n1")
            join.append(c.until(lambda c=c, new=new: all(new in c.members[o].known() for o in c.live), 100))
            for _ in range(WARMUP):
                c.round()
            c.leave("n3")
            leave.append(c.until(lambda c=c: c.everyone("n3", "left"), 100))
            c.crash("n2")
            crash.append(c.until(lambda c=c: c.everyone("n2", "failed"), 200) - SIM_FAIL_AFTER)
            fp += c.false_suspicions()
        rows.append({"N": n, "log2N": round(math.log2(n), 2), "trials": trials, "join_rounds": mean(join),
                     "join_max": max(join), "leave_rounds": mean(leave), "crash_rounds_beyond_timeout": mean(crash),
                     "join_per_log2N": round(mean(join) / math.log2(n), 2), "false_suspicions": fp})
    xs = [math.log2(r["N"]) for r in rows]
    ys = [r["join_rounds"] for r in rows]
    slope = sum((x - mean(xs)) * (y - mean(ys)) for x, y in zip(xs, ys, strict=True)) / \
        sum((x - mean(xs)) ** 2 for x in xs)
    figure = mean(r["join_per_log2N"] for r in rows)
    return Measurement(
        figure=round(figure, 3), unit="rounds for a join to reach every node / log2 N",
        summary=f"a join reaches all N = {sizes[0]}..{sizes[-1]} nodes in {rows[0]['join_rounds']:.1f}.."
                f"{rows[-1]['join_rounds']:.1f} rounds (fit: {slope:.2f} x log2 N + "
                f"{mean(ys) - slope * mean(xs):.2f}); a leave in {rows[0]['leave_rounds']:.1f}.."
                f"{rows[-1]['leave_rounds']:.1f}; a crash is known everywhere "
                f"{rows[0]['crash_rounds_beyond_timeout']:.1f}..{rows[-1]['crash_rounds_beyond_timeout']:.1f} rounds "
                f"after its timeout; {trials} seeded trials per size",
        table=rows, plot=Plot("N", ("join_rounds", "leave_rounds", "log2N"), title="gossip rounds to spread, vs N"))
