"""Exhaustive search: every schedule up to depth D, depth-first over the choice points, revisited states pruned.

A run's schedule is its sequence of choices (faultlab.choices); choice 0 is always the boring answer, so the
all-zeros sequence is the simplest run: each client's first operation, FIFO delivery, no fault. A *decision* is one
span of choices (a fault: its coin, kind and target; a client operation: whether to go on, how long to think, what
to do and where) or a lone choice; the *depth* of a schedule is how many of its decisions differ from the simplest
run's. ``exhaust(..., depth=D)`` runs every schedule of depth at most D, each once:

* Depth-first without a stored tree (stateless, as CHESS and Stateright's DFS without a visited set do): a run
  replays a prefix and answers 0 after it, recording each choice point's number of alternatives; its children are
  its record cut at each later choice point with another answer there, as long as the depth stays within D. Every
  sequence is reached exactly once, from the sequence with its last deviation set back to 0.
* At each step (the driver's fault coin, every task blocked) past the replayed prefix, the engine's state is
  digested (faultlab.statehash). Everything that can follow that point is in this run's subtree; so when a later run
  reaches a state already seen with at least as much depth left, what follows is already explored (or queued) and
  the run stops there: *pruned*, its subtree not expanded.

Settings for a search: swarm off (every fault kind the plan allows is enabled; the coins are enumerated, so the
rate does not matter), and the protocol's fair coins after faults stop drawn from a fixed seed (``coin_seed``),
because the usual seed is a hash of every choice the run made, which would make equal states have different
futures. A violation is the first one in depth-first order, so the same search finds the same one every time; it
is shrunk like an explored one and written as a trace ``faultlab replay`` replays.

``held`` from a complete search means: no schedule of depth <= D violates, over the given workload (clients,
operations per client) and limits (steps, faults). A search that hits ``max_runs`` first says how far it got and
claims nothing beyond the runs it made.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import attrs

from faultlab.choices import ChoiceSource, _Span
from faultlab.errors import Nondeterminism
from faultlab.explore import Coverage, Exploration
from faultlab.protocol import Protocol
from faultlab.runtime import RunResult, RunSettings, Simulation
from faultlab.statehash import state_digest

DEFAULT_DEPTH = 2
DEFAULT_MAX_RUNS = 200_000


class Pruned(BaseException):
    """Raised from a choice point whose state was explored before: the run stops (not an error of the protocol,
    so a BaseException, which protocol code does not catch)."""


class _DecisionSpan(_Span):
    __slots__ = ()

    def __enter__(self) -> None:
        super().__enter__()
        src = self._source
        src._in_span, src._span_label, src._span_deviated, src._span_first = True, self._label, False, True

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self._source._in_span = False


class ExhaustiveChoices(ChoiceSource):
    """Answers a prefix, then 0; records each choice point's alternatives and the depth used before it."""

    def __init__(self, prefix: Sequence[int], depth: int, seen: dict[bytes, int], digest: Any = None):
        super().__init__()
        self.prefix = list(prefix)
        self.depth = depth
        self.seen = seen          # state digest -> the most depth that was left when it was reached
        self.digest = digest      # () -> the current state's digest, set once the simulation exists
        self.arity: list[int] = []
        self.used_before: list[int] = []
        self.free: list[bool] = []  # a non-zero answer here costs no depth (its decision already deviates)
        self.used = 0
        self.states = 0
        self._in_span = False
        self._span_label = ""
        self._span_deviated = False
        self._span_first = False

    def _make_span(self, label: str) -> _Span:
        return _DecisionSpan(self, label)

    def _answer(self, n: int) -> int:
        pos = len(self.arity)
        first = self._span_first
        self._span_first = False
        if (self._in_span and first and self._span_label == "fault" and pos >= len(self.prefix)
                and self.digest is not None):
            # a step: every task is blocked, so the state is well defined
            key = self.digest()
            left = self.depth - self.used
            if self.seen.get(key, -1) >= left:
                raise Pruned()
            if key not in self.seen:
                self.states += 1
            self.seen[key] = left
        free = self._in_span and self._span_deviated
        self.arity.append(n)
        self.used_before.append(self.used)
        self.free.append(free)
        if pos < len(self.prefix):
            v = self.prefix[pos]
            if v >= n:
                raise Nondeterminism(f"exhaustive search: choice {pos + 1} had more than {n} alternatives when the "
                                     f"search first ran it; the protocol or the engine is nondeterministic (a bug)")
        else:
            v = 0
        if v:
            if not free:
                self.used += 1
            if self._in_span:
                self._span_deviated = True
        return v

    def _choose(self, n: int) -> int:
        return self._answer(n)

    def _flip(self, p: float) -> bool:
        return bool(self._answer(2))

    def _pick_index(self, items: Sequence[str], position: int) -> int:
        return self._answer(len(items))

    def children(self) -> list[list[int]]:
        """The prefixes of this run's children, in the order they are to be run."""
        out = []
        record = self.record
        for j in range(len(self.prefix), len(record)):
            cost = self.used_before[j] + (0 if self.free[j] else 1)
            if cost > self.depth:
                continue
            out.extend(record[:j] + [v] for v in range(1, self.arity[j]))
        return out


@attrs.define
class Exhaustive:
    """What an exhaustive search did, and its verdict."""

    protocol: Protocol
    config: Any
    settings: RunSettings
    invariants: tuple[str, ...]
    depth: int
    max_runs: int
    coverage: Coverage = attrs.Factory(Coverage)
    runs: int = 0          # runs that ran to the end and were judged
    pruned: int = 0        # runs stopped at a state explored before
    states: int = 0        # distinct states seen at steps
    complete: bool = False
    failure: RunResult | None = None
    found_after: int | None = None  # runs (judged or pruned) before and including the violating one
    failure_depth: int | None = None
    seconds: float = 0.0
    shrunk: bool = True

    @property
    def exploration(self) -> Exploration:
        """The same result as an exploration (its verdict rules, witnesses and summary)."""
        exp = Exploration(self.protocol, self.config, self.settings, 0, self.runs, self.coverage,
                          failure=self.failure, found_after=self.found_after, runs_total=self.runs + self.pruned,
                          shrunk=self.shrunk, seconds=self.seconds, invariants=self.invariants)
        return exp

    @property
    def verdict(self) -> str:
        if self.failure is None and not self.complete:
            return "incomplete"  # cut short: neither held nor vacuous is shown, whatever the runs so far saw
        return self.exploration.verdict

    def summary(self) -> str:
        backing = (f"{self.runs} schedules run, {self.pruned} pruned at {self.states} distinct states seen, "
                   f"depth <= {self.depth}")
        if self.failure is not None:
            return (f"{self.exploration.summary()}; the violating schedule has depth {self.failure_depth} "
                    f"({backing})")
        if self.verdict == "held":
            return f"held for every schedule up to depth {self.depth}: {backing}"
        if self.verdict == "incomplete":
            return (f"incomplete: no violation in the {self.runs} schedules run, but the search stopped at "
                    f"--max-runs {self.max_runs} before covering depth {self.depth} ({backing}): nothing is shown "
                    f"beyond those runs")
        return f"{self.exploration.summary()} ({backing})"

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "depth": self.depth, "schedules": self.runs, "pruned": self.pruned,
                "states": self.states, "complete": self.complete, "found_after": self.found_after,
                "failure_depth": self.failure_depth, "seconds": round(self.seconds, 3),
                "coverage": self.coverage.to_json()}


def search_settings(settings: RunSettings) -> RunSettings:
    """``settings`` as an exhaustive search runs them: swarm off, fair coins from a fixed seed."""
    return attrs.evolve(settings, plan=attrs.evolve(settings.plan, swarm=False),
                        coin_seed=settings.coin_seed if settings.coin_seed is not None else 0)


def exhaust(protocol: Protocol, config: Any, *, settings: RunSettings, depth: int = DEFAULT_DEPTH,
            invariants: tuple[str, ...] | None = None, max_runs: int = DEFAULT_MAX_RUNS,
            shrink: bool = True, prune: bool = True, on_run: Any = None) -> Exhaustive:
    """Run every schedule of depth <= ``depth`` (see the module docstring) until one violates an invariant.
    ``prune=False`` runs every schedule in full (to check the pruning); ``on_run(result)`` sees each judged run."""
    from faultlab.reduce import reduce_failure

    settings = search_settings(settings)
    invariants = protocol.judged(invariants)
    out = Exhaustive(protocol, config, settings, invariants, depth, max_runs, shrunk=shrink)
    seen: dict[bytes, int] = {}
    keep: list[Any] = []  # objects digests encoded by identity: alive until the search ends, so no id is reused
    stack: list[list[int]] = [[]]
    start = time.perf_counter()
    while stack:
        if out.runs + out.pruned >= max_runs:
            break
        prefix = stack.pop()
        source = ExhaustiveChoices(prefix, depth, seen)
        sim = Simulation(protocol, config, settings, source, invariants)
        if prune:
            source.digest = lambda sim=sim: state_digest(sim, keep)
        try:
            result = sim.run()
        except Pruned:
            out.pruned += 1
            out.states += source.states
            stack.extend(reversed(source.children()))
            continue
        out.runs += 1
        out.states += source.states
        out.coverage.add(result, protocol)
        if on_run is not None:
            on_run(result)
        if result.verdict == "violated":
            out.failure, out.found_after, out.failure_depth = result, out.runs + out.pruned, source.used
            break
        stack.extend(reversed(source.children()))
    else:
        out.complete = True
    if out.failure is not None and shrink:
        out.failure = reduce_failure(protocol, config, out.failure, invariants)
    out.seconds = time.perf_counter() - start
    return out
