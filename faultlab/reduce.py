"""Reducing a shrunk counterexample further, to what the violation needs.

Hypothesis shrinks the choice sequence; some parts of a run it cannot take out: the final operations and each
client's first operation always run, and a fault's choices cannot be removed without shifting every later choice.
:func:`reduce_failure` tries each of these out of the run, one at a time, replaying the rest of its choices
by cause (:class:`~faultlab.choices.StreamReplayChoices`: what is left out takes its choices with it, everything else
keeps its own), and keeps a change when the run still violates one of the invariants the failure violated and is
smaller (fewer operations, then fewer faults, then fewer events). A check with nothing to judge
never violates, so what a violation needs stays. Every kept run is a run of its own: its recorded choices and
settings (``skip_ops``, ``skip_final``) replay it exactly.

Leaving out is local, so it ends with a search for the same violation under a smaller workload (one operation,
then two), whose smallest find, reduced the same way, is kept when it is smaller.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import attrs

from faultlab.choices import ChoiceSource, SeededChoices, StreamReplayChoices
from faultlab.protocol import Protocol
from faultlab.runtime import RunResult, RunSettings, simulate

MAX_TRIALS = 400  # runs a reduction may spend leaving things out (each is one simulation)
SMALL_WORKLOADS = ((1, 1), (1, 2), (2, 1))  # (clients, operations each) tried for the same violation, smallest first
SMALL_WORKLOAD_RUNS = 100  # seeded runs per smaller workload


def size(run: RunResult) -> tuple[int, int, int]:
    """How large a counterexample is to read: operations, then faults, then events. A fault that is not needed goes
    even where the run then has more events (the messages it lost are delivered): it is one less thing to explain,
    and it is often what keeps an operation from being left out."""
    faults = sum(1 for label, start, end in run.spans if label == "fault" and end - start > 1)
    return len(run.history.operations()), faults, len(run.events)


def reduce_failure(protocol: Protocol, config: Any, failure: RunResult, invariants: tuple[str, ...]) -> RunResult:
    """The smallest run found from ``failure``: leaving out faults, operations and final operations, then looking
    for the same violation under a smaller workload."""
    best = _leave_out(protocol, config, failure, invariants)
    small = _smaller_workload(protocol, config, best, invariants)
    if small is not None:
        small = _leave_out(protocol, config, small, invariants)
        if size(small) < size(best):
            best = small
    return best


def _leave_out(protocol: Protocol, config: Any, failure: RunResult, invariants: tuple[str, ...]) -> RunResult:
    best = failure
    trials = 0
    improved = True
    while improved and trials < MAX_TRIALS:
        improved = False
        for settings, choices in _candidates(protocol, config, best):
            trials += 1
            trial = simulate(protocol, config, choices, settings, invariants)
            if _same_failure(trial, best) and size(trial) < size(best):
                best, improved = trial, True
                break
            if trials >= MAX_TRIALS:
                break
    return best


def _smaller_workload(protocol: Protocol, config: Any, best: RunResult, invariants: tuple[str, ...]) -> RunResult | None:
    """The same violation with fewer client operations, found by a small search of its own.

    Leaving things out is local: a race of two writes shrinks to two writes, although one write, one fault and a
    read show the same stale read (the stale-read variant shrank to 3 operations and 45-66 events on 6 of 40 seeds).
    So each workload smaller than ``best``'s (one client with one operation, then two operations) is explored with
    seeded choices, under the same fault plan and judged by the same invariants; the first run that violates one
    of ``best``'s invariants replaces it. The seeds come from ``best``'s choices, so the result is a function of the
    failure, wherever it is shrunk."""
    main_ops = sum(1 for op in best.history.operations() if op.phase == "main")
    base = zlib.crc32(",".join(map(str, best.choices)).encode()) * SMALL_WORKLOAD_RUNS
    for clients, ops in SMALL_WORKLOADS:
        if clients * ops >= main_ops:
            continue
        settings = attrs.evolve(best.settings, clients=clients, ops_per_client=ops, skip_ops=(), skip_final=())
        for k in range(SMALL_WORKLOAD_RUNS):
            trial = simulate(protocol, config, SeededChoices(base + k), settings, invariants)
            if _same_failure(trial, best):
                return trial
    return None


def _same_failure(trial: RunResult, best: RunResult) -> bool:
    if trial.verdict != "violated":
        return False
    if best.error is not None:
        return trial.error is not None and trial.error.split(":")[0] == best.error.split(":")[0]
    return bool(trial.violated_invariants & best.violated_invariants)


def _candidates(protocol: Protocol, config: Any, run: RunResult) -> Iterator[tuple[RunSettings, ChoiceSource]]:
    """Smaller variations of ``run``: each fault left out (latest first), each client operation, each final
    operation. Each replays the run's choices by cause (:class:`~faultlab.choices.StreamReplayChoices`), so what is
    left out takes its choices with it and everything else keeps its own."""
    for label, start, end in reversed(run.spans):
        if label == "fault" and end - start > 1:  # a fault happened here: its coin came up, kind and target follow
            choices = list(run.choices)
            choices[start] = 0  # the coin says "no fault"; the kind and target are no one's any more
            causes = [c if not (start < pos < end) else _UNUSED for pos, c in enumerate(run.causes)]
            yield run.settings, StreamReplayChoices.of(choices, causes, run.picked)
    settings = run.settings
    coins = [start for label, start, end in run.spans if label == "fault"]  # every driver step's coin
    for key in reversed(_performed_ops(run)):
        choices, causes = _rehome_faults(run, coins, key)
        yield (attrs.evolve(settings, skip_ops=(*settings.skip_ops, key)),
               StreamReplayChoices.of(choices, causes, run.picked))
    finals = [op for op in run.history.operations() if op.phase == "final"]
    done = [k for k in range(len(protocol.final_ops(config))) if k not in settings.skip_final]
    if len(finals) == len(done):
        for k in reversed(done):
            yield (attrs.evolve(settings, skip_final=tuple(sorted({*settings.skip_final, k}))),
                   StreamReplayChoices.of(run.choices, run.causes, run.picked))


def _rehome_faults(run: RunResult, coins: list[int], key: Any) -> tuple[list[int], list[Any]]:
    """The run's choices and causes with each fault that came up at a step delivering ``key``'s message moved to
    the next step that delivers someone else's and had no fault: leaving the operation out must not take the faults
    with it. The moved fault's coin comes up at that step in place of its own, so every stream keeps its length
    (inserting it would shift each later choice of that stream by one)."""
    choices, causes = list(run.choices), list(run.causes)
    for n, pos in enumerate(coins):
        if causes[pos] == key and choices[pos] == 1:
            later = next((q for q in coins[n + 1:] if causes[q] != key and choices[q] == 0), None)
            if later is not None:
                choices[later] = 1
    return choices, causes


_UNUSED = ("left out",)  # a cause nothing asks for: the choices of a fault that was taken out


def _performed_ops(run: RunResult) -> list[tuple[int, int]]:
    """(client, position) of each main-phase operation the run performed, in invocation order (from the invoke
    events, which name the operation)."""
    return [tuple(e["op"]) for e in run.log.of("invoke") if isinstance(e.get("op"), list) and e["op"][0] != "final"]
