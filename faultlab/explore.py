"""Exploring schedules: Hypothesis drives many runs through faults, and a failing run is shrunk to a small one.

:func:`explore` is what ``faultlab check``, ``faultlab verify``, the claims and the pytest helpers all call. It runs
up to ``examples`` schedules of one protocol configuration, each from a Hypothesis test case, collects coverage
(which faults, notes and operations happened, in how many runs) and stops at the first run that violates an
invariant, which Hypothesis then shrinks toward a fault-free FIFO run. The result says:

* ``refuted``: a violation, with the shrunk run (write it with :func:`faultlab.report.run.save_failure`);
* ``held``: no violation in N runs, and every witness of activity was seen (writes acknowledged, reads returned,
  each enabled fault kind injected at least once);
* ``vacuous``: no violation, but some witness was never seen: the exploration proved nothing about it, and it
  must not be reported as a pass.

The same ``seed`` gives the same runs, the same shrunk failure and so the same trace bytes.
"""

from __future__ import annotations

import collections
import hashlib
import threading
import time
import zlib
from typing import Any

import attrs
from hypothesis import Verbosity, given
from hypothesis import seed as hyp_seed
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky

from faultlab._compat import hypothesis_without_local_constants
from faultlab.choices import HypothesisChoices, SeededChoices
from faultlab.coverage import fault_shapes, partition_shapes_available
from faultlab.errors import Nondeterminism
from faultlab.faults import INJECTABLE, available_kinds
from faultlab.profiles import _SUPPRESS, SIMULATION_PHASES
from faultlab.protocol import Protocol
from faultlab.reduce import reduce_failure
from faultlab.runtime import RunResult, RunSettings, simulate


@attrs.define
class Coverage:
    """What happened over an exploration: totals, and in how many runs each thing happened at least once."""

    runs: int = 0
    events: collections.Counter = attrs.Factory(collections.Counter)
    runs_with_event: collections.Counter = attrs.Factory(collections.Counter)
    notes: collections.Counter = attrs.Factory(collections.Counter)
    runs_with_note: collections.Counter = attrs.Factory(collections.Counter)
    ops: collections.Counter = attrs.Factory(collections.Counter)
    witnesses: collections.Counter = attrs.Factory(collections.Counter)
    # per judged invariant: runs that judged it, exercised it (had something to judge), left it undecided, broke it
    judged: collections.Counter = attrs.Factory(collections.Counter)
    exercised: collections.Counter = attrs.Factory(collections.Counter)
    undecided: collections.Counter = attrs.Factory(collections.Counter)
    violations: collections.Counter = attrs.Factory(collections.Counter)
    steps: int = 0
    # digests of the runs' choice sequences: how many of the runs were different schedules (Hypothesis may
    # generate one twice, and two shards may meet)
    schedules: set = attrs.Factory(set)
    # faultlab.coverage: runs with each fault shape, runs in which each fault kind was enabled (swarm), and per
    # invariant the shapes present in the runs that exercised it and why the others did not
    fault_shapes: collections.Counter = attrs.Factory(collections.Counter)
    runs_enabled: collections.Counter = attrs.Factory(collections.Counter)
    exercised_under: dict = attrs.Factory(dict)
    unexercised_why: dict = attrs.Factory(dict)
    partition_shapes: list | None = None

    def add(self, result: RunResult, protocol: Protocol) -> None:
        self.runs += 1
        self.steps += result.stats["steps"]
        self.schedules.add(hashlib.blake2b(",".join(map(str, result.choices)).encode(), digest_size=8).digest())
        for kind, n in result.stats["events"].items():
            self.events[kind] += n
            self.runs_with_event[kind] += 1
        for what, n in result.stats["notes"].items():
            self.notes[what] += n
            self.runs_with_note[what] += 1
        for (f, status), n in result.stats["ops"].items():
            self.ops[f"{f}:{status}"] += n
        for w in protocol.witnesses:
            if w.seen(result):
                self.witnesses[w.name] += 1
        shapes = fault_shapes(result.events)
        self.fault_shapes.update(shapes)
        self.runs_enabled.update(result.stats.get("enabled_faults", ()))
        if self.partition_shapes is None:
            self.partition_shapes = partition_shapes_available(protocol, result.config)
        for c in result.checks:
            self.judged[c.name] += 1
            self.exercised[c.name] += c.exercised
            self.undecided[c.name] += c.unknown
            self.violations[c.name] += c.violated
            if c.exercised:
                under = self.exercised_under.setdefault(c.name, collections.Counter())
                under.update(shapes)
                under["any fault"] += bool(shapes)
            else:
                self.unexercised_why.setdefault(c.name, collections.Counter())[c.explanation[:160]] += 1
        if result.error:
            self.violations["no-exception"] += 1

    def merge(self, other: Coverage) -> None:
        """Add another shard's coverage to this one."""
        self.runs += other.runs
        self.steps += other.steps
        self.schedules |= other.schedules
        for name in ("events", "runs_with_event", "notes", "runs_with_note", "ops", "witnesses", "judged",
                     "exercised", "undecided", "violations", "fault_shapes", "runs_enabled"):
            getattr(self, name).update(getattr(other, name))
        for name in ("exercised_under", "unexercised_why"):
            mine = getattr(self, name)
            for inv, counts in getattr(other, name).items():
                mine.setdefault(inv, collections.Counter()).update(counts)
        if self.partition_shapes is None:
            self.partition_shapes = other.partition_shapes

    def to_json(self) -> dict[str, Any]:
        return {"runs": self.runs, "distinct_schedules": len(self.schedules), "steps": self.steps, "events": dict(sorted(self.events.items())),
                "runs_with_event": dict(sorted(self.runs_with_event.items())),
                "notes": dict(sorted(self.notes.items())), "runs_with_note": dict(sorted(self.runs_with_note.items())),
                "ops": dict(sorted(self.ops.items())), "witnesses": dict(sorted(self.witnesses.items())),
                "invariants": {name: {"judged": n, "exercised": self.exercised[name],
                                      "undecided": self.undecided[name], "violated": self.violations[name]}
                               for name, n in sorted(self.judged.items())},
                "violations": {k: n for k, n in sorted(self.violations.items()) if n},
                "fault_shapes": dict(sorted(self.fault_shapes.items())),
                "runs_enabled": dict(sorted(self.runs_enabled.items())),
                "partition_shapes_available": list(self.partition_shapes or ()),
                "exercised_under": {k: dict(sorted(c.items())) for k, c in sorted(self.exercised_under.items())},
                "unexercised_why": {k: dict(c.most_common(3)) for k, c in sorted(self.unexercised_why.items())}}


@attrs.define
class Exploration:
    protocol: Protocol
    config: Any
    settings: RunSettings
    seed: int
    examples: int
    coverage: Coverage
    failure: RunResult | None = None
    found_after: int | None = None
    runs_total: int = 0
    shrunk: bool = True
    seconds: float = 0.0
    invariants: tuple[str, ...] = ()  # what every run judged

    def expected_witnesses(self) -> list[str]:
        names = [w.name for w in self.protocol.witnesses]
        kinds = available_kinds(self.settings.plan.kinds, self.protocol.faults, self.links)
        return names + [f"{k} injected" for k in kinds]

    @property
    def links(self) -> str:
        """The link model every run of this exploration used."""
        return self.settings.links_for(self.protocol)

    def missing_witnesses(self) -> list[str]:
        seen = set(self.coverage.witnesses)
        # an injected fault leaves an event of its own name (recovery's heal and restart are not faults)
        seen |= {f"{k} injected" for k in INJECTABLE if self.coverage.runs_with_event.get(k)}
        missing = [w for w in self.expected_witnesses() if w not in seen]
        # an invariant no run gave anything to judge was never shown to hold
        return missing + [f"{name} exercised" for name in self.invariants if not self.coverage.exercised[name]]

    @property
    def verdict(self) -> str:
        if self.failure is not None:
            return "refuted"
        if any(self.coverage.undecided.values()):
            return "unknown"
        return "vacuous" if self.missing_witnesses() else "held"

    def verdict_for(self, invariant: str) -> str:
        """This exploration's verdict on one of its invariants: refuted only by a run that violated it (or raised);
        unknown if some run left it undecided; vacuous if the runs never exercised it or missed a witness."""
        if self.failure is not None:
            return "refuted" if self.failure.error or invariant in self.failure.violated_invariants else "unknown"
        if self.coverage.undecided[invariant]:
            return "unknown"
        general = [w for w in self.missing_witnesses() if not w.endswith(" exercised")]
        return "vacuous" if general or not self.coverage.exercised[invariant] else "held"

    def undecided_summary(self) -> str:
        return ", ".join(f"{name} in {n}" for name, n in sorted(self.coverage.undecided.items()) if n)

    def summary(self) -> str:
        if self.failure is not None:
            names = ", ".join(c.name for c in self.failure.violations) or "no-exception"
            size = f"{len(self.failure.events)} events, {len(self.failure.history.operations())} operations"
            how = "shrunk to" if self.shrunk else "not shrunk:"
            return f"refuted: {names} violated after {self.found_after} runs; {how} {size}"
        if self.verdict == "unknown":
            return f"unknown: no violation in {self.coverage.runs} runs, but some checks ran out of budget " \
                   f"undecided ({self.undecided_summary()} runs): nothing is shown for those runs"
        if self.verdict == "vacuous":
            return f"vacuous: no violation in {self.coverage.runs} runs, but never seen: " \
                   f"{', '.join(self.missing_witnesses())}"
        return f"held over {self.coverage.runs} runs ({len(self.coverage.schedules)} distinct schedules)"


class _Violation(Exception):
    def __init__(self, result: RunResult):
        super().__init__(result.verdict)
        self.result = result


# A known-bad variant is there to show its bug is found. The search stops at the first violation, so a larger budget
# costs nothing when the bug shows early and only lets a deep one (a deposed leader serving a stale read needs a
# partition, an election and a read routed to the old leader, in that order) be found within one verify run. 6, not 4:
# dynamo's read during a join (a join, a view that lags, a read routed by it) takes 46-697 runs over seeds 0-9.
KNOWN_BAD_SEARCH = 6


def budget_for(variant: Any, examples: int) -> int:
    """Schedules to explore for ``variant``: ``examples``, or ``KNOWN_BAD_SEARCH`` times that for a known-bad one."""
    return examples * KNOWN_BAD_SEARCH if variant is not None and variant.expect_violation else examples


class ExplorationCache:
    """Explorations already done in this process, by everything that determines them.

    An exploration is a function of (protocol, configuration, engine settings, judged invariants, examples, seed), so
    ``faultlab verify`` can judge a claim about the same variant and invariants as a verify row without exploring
    (and shrinking) it twice.
    """

    def __init__(self, runner: Any = None) -> None:
        self.runner = runner  # where shards run (faultlab.parallel.Runner); None: in this process
        self._done: dict[tuple, Exploration] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[tuple, threading.Lock] = {}

    def explore(self, protocol: Protocol, config: Any, **kwargs: Any) -> Exploration:
        settings = kwargs.get("settings") or RunSettings()
        invariants = protocol.judged(kwargs.get("invariants"))
        key = (protocol.name, config, settings, tuple(sorted(invariants)), kwargs.get("examples", 150),
               kwargs.get("seed", 0), kwargs.get("shrink", True))
        return self._once(key, lambda: explore(protocol, config, **{**kwargs, "invariants": invariants,
                                                                    "runner": self.runner}))

    def _once(self, key: tuple, compute: Any) -> Any:
        """``compute()`` once per key; threads of one verify run asking for the same key wait for the first."""
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            if key not in self._done:
                self._done[key] = compute()
        return self._done[key]

    def measure(self, protocol: Protocol, claim: Any, seed: int) -> Any:
        """A measured claim's figure (a :class:`faultlab.claims.Measurement`) and the seconds it took, computed once,
        on the runner."""
        index = next((i for i, c in enumerate(protocol.claims) if c is claim), None)  # None: not the protocol's own
        key = ("measure", protocol.name, claim.text if index is None else index, seed)

        def timed() -> tuple[Any, float]:
            start = time.perf_counter()
            if self.runner is not None and index is not None:
                m = self.runner.measure(protocol, index, seed)
            else:
                m = claim.measure(seed)
            return m, time.perf_counter() - start

        return self._once(key, timed)

    def explore_each(self, protocol: Protocol, config: Any, **kwargs: Any) -> dict[str, Exploration]:
        """The exploration that decides each of the judged invariants.

        The search stops at the first violation, so the invariants that run did not violate have been explored only
        up to it: they are explored again, without the violated ones, until each has a verdict over a full budget.
        """
        remaining = list(protocol.judged(kwargs.get("invariants")))
        decided: dict[str, Exploration] = {}
        while remaining:
            exp = self.explore(protocol, config, **{**kwargs, "invariants": tuple(remaining)})
            violated = [n for n in remaining if exp.failure is not None and n in exp.failure.violated_invariants]
            if not violated:  # held, vacuous or unknown; or the protocol raised, which refutes them all
                decided.update(dict.fromkeys(remaining, exp))
                break
            decided.update(dict.fromkeys(violated, exp))
            remaining = [n for n in remaining if n not in violated]
        return decided


# An exploration of E schedules is ceil(E / SHARD_SCHEDULES) shards, each its own Hypothesis search from a seed
# derived from the exploration's: the unit of work that runs on another core or a Dask worker. The shards are part of
# what an exploration *is* (not of how many workers run it), so one process and twenty give the same verdicts and the
# same shrunk trace bytes: the failure is the first shard's, in shard order, whichever finished first.
SHARD_SCHEDULES = 75


def shard_plan(examples: int, seed: int) -> list[tuple[int, int]]:
    """(schedules, seed) of each shard of an exploration. Shard 0 has the exploration's own seed, so a failure found
    early is the one a single search from that seed finds."""
    count = max(1, -(-examples // SHARD_SCHEDULES))
    base, extra = divmod(examples, count)
    return [(base + (j < extra), seed if j == 0 else zlib.crc32(f"{seed}/{j}".encode()))
            for j in range(count)]


def explore(protocol: Protocol, config: Any, *, examples: int = 150, seed: int = 0,
            settings: RunSettings | None = None, shrink: bool = True,
            invariants: tuple[str, ...] | None = None, runner: Any = None) -> Exploration:
    """Explore up to ``examples`` schedules with Hypothesis; stop at and shrink the first violation.

    ``invariants`` names what is judged (default: the protocol's default set), so that shrinking keeps the
    violation a known-bad variant is about instead of drifting to another one. The shards of the exploration run on
    ``runner`` (a :class:`faultlab.parallel.Runner`: several processes or a Dask cluster), else in this process.
    """
    settings = settings or RunSettings()
    invariants = protocol.judged(invariants)
    exp = Exploration(protocol, config, settings, seed, examples, Coverage(), shrunk=shrink, invariants=invariants)
    plan = shard_plan(examples, seed)
    start = time.perf_counter()
    if runner is None:
        parts = (explore_shard(protocol, config, examples=n, seed=s, settings=settings, shrink=shrink,
                               invariants=invariants) for n, s in plan)
    else:
        parts = runner.shards(protocol, config, settings=settings, shrink=shrink, invariants=invariants, plan=plan)
    runs_before = 0
    for part in parts:  # in shard order; the first failure ends the exploration (the runner cancels the rest)
        exp.coverage.merge(part.coverage)
        exp.runs_total += part.runs_total
        if part.failure is not None:
            exp.failure, exp.found_after = part.failure, runs_before + part.found_after
            break
        runs_before += part.coverage.runs
    if hasattr(parts, "close"):
        parts.close()
    exp.seconds = time.perf_counter() - start
    return exp


def explore_shard(protocol: Protocol, config: Any, *, examples: int, seed: int, settings: RunSettings,
                  shrink: bool, invariants: tuple[str, ...]) -> Exploration:
    """One shard: one Hypothesis search of up to ``examples`` schedules, stopped at and shrunk at the first
    violation."""
    exp = Exploration(protocol, config, settings, seed, examples, Coverage(), shrunk=shrink, invariants=invariants)
    state = {"runs": 0}
    phases = SIMULATION_PHASES if shrink else tuple(p for p in SIMULATION_PHASES if p.name != "shrink")

    @hyp_settings(max_examples=examples, database=None, deadline=None, derandomize=False, phases=phases,
                  suppress_health_check=_SUPPRESS, verbosity=Verbosity.quiet, report_multiple_bugs=False,
                  print_blob=False)
    @hyp_seed(seed)
    @given(st.data())
    def search(data):
        result = simulate(protocol, config, HypothesisChoices(data), settings, invariants)
        state["runs"] += 1
        if exp.found_after is None:
            exp.coverage.add(result, protocol)
        if result.verdict == "violated":
            if exp.found_after is None:
                exp.found_after = state["runs"]
            raise _Violation(result)

    start = time.perf_counter()
    try:
        with hypothesis_without_local_constants():  # the same seed explores the same schedules in any process
            search()
    except _Violation as v:
        exp.failure = v.result
        if shrink:
            exp.failure = reduce_failure(protocol, config, exp.failure, invariants)
    except Flaky as e:
        raise Nondeterminism(f"{protocol.name}: a run did not repeat when Hypothesis re-ran it; the protocol or the "
                            f"engine is nondeterministic (a bug): {e}") from None
    exp.runs_total = state["runs"]
    exp.seconds = time.perf_counter() - start
    return exp


def explore_seeded(protocol: Protocol, config: Any, *, examples: int, seed: int = 0,
                   settings: RunSettings | None = None, invariants: tuple[str, ...] | None = None) -> Exploration:
    """The same search from a seeded PRNG, without Hypothesis: faster, but the failure found is not shrunk."""
    settings = settings or RunSettings()
    invariants = protocol.judged(invariants)
    exp = Exploration(protocol, config, settings, seed, examples, Coverage(), shrunk=False, invariants=invariants)
    start = time.perf_counter()
    for i in range(examples):
        result = simulate(protocol, config, SeededChoices(seed * 1_000_003 + i), settings, invariants)
        exp.coverage.add(result, protocol)
        if result.verdict == "violated":
            exp.failure, exp.found_after = result, i + 1
            break
    exp.runs_total = exp.coverage.runs
    exp.seconds = time.perf_counter() - start
    return exp
