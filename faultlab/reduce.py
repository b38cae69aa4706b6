"""Reducing a shrunk counterexample further, to what the violation needs.

Hypothesis shrinks the choice sequence; some parts of a run it cannot take out: the final operations and each
client's first operation always run, and a fault's choices cannot be removed without shifting every later choice.
:func:`reduce_failure` tries each of these out of the run, one at a time, replaying the rest of its choices
(:class:`~faultlab.choices.LenientReplayChoices`), and keeps a change when the run still violates one of the
invariants the failure violated and is smaller (fewer operations, then fewer events). A check with nothing to judge
never violates, so what a violation needs stays. Every kept run is a run of its own: its recorded choices and
settings (``skip_ops``, ``skip_final``) replay it exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

from faultlab.choices import LenientReplayChoices
from faultlab.protocol import Protocol
from faultlab.runtime import RunResult, RunSettings, simulate

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
            trial = simulate(protocol, config, LenientReplayChoices(choices), settings, invariants)
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


def _candidates(protocol: Protocol, config: Any, run: RunResult) -> Iterator[tuple[RunSettings, list[int]]]:
    """Smaller variations of ``run``: each fault left out (latest first), each client operation, each final one."""
    choices = run.choices
    for label, start, end in reversed(run.spans):
        if label == "fault" and end - start > 1:  # a fault happened here: its coin came up, kind and target follow
            yield run.settings, choices[:start] + [0] + choices[end:]
    settings = run.settings
    for key in reversed(_performed_ops(run)):
        yield attrs.evolve(settings, skip_ops=(*settings.skip_ops, key)), choices
    finals = [op for op in run.history.operations() if op.phase == "final"]
    done = [k for k in range(len(protocol.final_ops(config))) if k not in settings.skip_final]
    if len(finals) == len(done):
        for k in reversed(done):
            yield attrs.evolve(settings, skip_final=tuple(sorted({*settings.skip_final, k}))), choices


def _performed_ops(run: RunResult) -> list[tuple[int, int]]:
    """(client, position) of each main-phase operation the run performed, in invocation order."""
    clients = run.settings.clients
    per_client: dict[int, list[int]] = {}
    skipped = set(run.settings.skip_ops)
    keys = []
    for op in run.history.operations():
        if op.phase != "main":
            continue
        i = op.process % clients
        seen = per_client.setdefault(i, [])
        k = len(seen)
        while (i, k) in skipped:  # a left-out position takes no operation of the history
            k += 1
        seen.extend([None] * (k - len(seen) + 1))
        keys.append((i, k))
    return keys
