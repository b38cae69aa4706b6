"""Reducing a shrunk counterexample further, to what the violation needs.

Hypothesis shrinks the choice sequence; some parts of a run it cannot take out: the final operations and each
client's first operation always run, and a fault's choices cannot be removed without shifting every later choice.
:func:`reduce_failure` tries each of these out of the run, one at a time, replaying the rest of its choices
by cause (:class:`~faultlab.choices.StreamReplayChoices`: what is left out takes its choices with it, everything else
keeps its own), and keeps a change when the run still violates one of the invariants the failure violated and is
smaller (fewer operations, then fewer events). A check with nothing to judge
never violates, so what a violation needs stays. Every kept run is a run of its own: its recorded choices and
settings (``skip_ops``, ``skip_final``) replay it exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

from faultlab.choices import ChoiceSource, StreamReplayChoices
from faultlab.protocol import Protocol
from faultlab.runtime import IDLE, RunResult, RunSettings, simulate

MAX_TRIALS = 400  # runs a reduction may spend (each is one simulation)


def size(run: RunResult) -> tuple[int, int]:
    return len(run.history.operations()), len(run.events)


def reduce_failure(protocol: Protocol, config: Any, failure: RunResult, invariants: tuple[str, ...]) -> RunResult:
    """The smallest run reached from ``failure`` by leaving out faults, operations and final operations."""
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
        yield (attrs.evolve(settings, skip_ops=(*settings.skip_ops, key)),
               StreamReplayChoices.of(run.choices, _rehome_faults(run, coins, key), run.picked))
    finals = [op for op in run.history.operations() if op.phase == "final"]
    done = [k for k in range(len(protocol.final_ops(config))) if k not in settings.skip_final]
    if len(finals) == len(done):
        for k in reversed(done):
            yield (attrs.evolve(settings, skip_final=tuple(sorted({*settings.skip_final, k}))),
                   StreamReplayChoices.of(run.choices, run.causes, run.picked))


def _rehome_faults(run: RunResult, coins: list[int], key: Any) -> list[Any]:
    """The run's causes with each fault that came up at a step delivering ``key``'s message moved to the next step
    that delivers someone else's: leaving the operation out must not take the faults with it."""
    causes = list(run.causes)
    for n, pos in enumerate(coins):
        if causes[pos] == key and run.choices[pos] == 1:
            later = next((q for q in coins[n + 1:] if causes[q] != key), None)
            causes[pos] = causes[later] if later is not None else IDLE
    return causes


_UNUSED = ("left out",)  # a cause nothing asks for: the choices of a fault that was taken out


def _performed_ops(run: RunResult) -> list[tuple[int, int]]:
    """(client, position) of each main-phase operation the run performed, in invocation order (from the invoke
    events, which name the operation)."""
    return [tuple(e["op"]) for e in run.log.of("invoke") if isinstance(e.get("op"), list) and e["op"][0] != "final"]
