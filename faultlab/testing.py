"""Helpers for writing pytest tests of a protocol: assert that a configuration holds, or that a bad one is refuted.

They explore with the active Hypothesis profile's ``max_examples`` (see :mod:`faultlab.profiles`) and the seed of
:func:`faultlab.profiles.exploration_seed`: 0 under the deterministic ``dev`` and ``ci`` profiles, so a test never
depends on a seed it did not choose; a fresh one only when asked (``--faultlab-seed random``, ``thorough``). The
seed is printed on failure, so a failure can be reproduced with ``faultlab check --seed``.
A failure writes the shrunk trace and puts its path and the replay command in the assertion message.

``workers=N`` (default: ``--faultlab-workers``, else ``FAULTLAB_WORKERS``, else 1) runs an exploration's shards on N
processes, kept for the session; the verdict and the shrunk trace are the same for any N.
"""

from __future__ import annotations

import atexit
import os
from pathlib import Path
from typing import Any

from hypothesis import settings as hyp_settings

from faultlab.coverage import SESSION
from faultlab.explore import Exploration, budget_for, explore
from faultlab.parallel import Runner
from faultlab.profiles import exploration_seed
from faultlab.protocol import Protocol
from faultlab.report.run import replay_command, save_failure
from faultlab.runtime import RunSettings

TRACE_DIR = Path(os.environ.get("FAULTLAB_TRACE_DIR", "reports/traces"))


def session_seed() -> int:
    """The seed of explorations in this test session (see :func:`faultlab.profiles.exploration_seed`)."""
    return exploration_seed()


_RUNNERS: dict[int, Runner] = {}


def _runner(workers: int | None) -> Runner | None:
    """The session's runner for ``workers`` processes (None: explore in this process)."""
    workers = workers if workers is not None else int(os.environ.get("FAULTLAB_WORKERS", "1"))
    if workers <= 1:
        return None
    if workers not in _RUNNERS:
        _RUNNERS[workers] = Runner(workers=workers)
        if len(_RUNNERS) == 1:
            atexit.register(lambda: [r.close() for r in _RUNNERS.values()])
    return _RUNNERS[workers]


def _write(exp: Exploration, tag: str | None) -> Path:
    return save_failure(exp, TRACE_DIR, tag)


def _configuration(variant: str | None, overrides: dict[str, Any] | None) -> str:
    """How the session's coverage names a configuration: the variant, plus any settings a test overrode."""
    name = variant or "default"
    if overrides:
        name += " " + " ".join(f"{k}={v}" for k, v in sorted(overrides.items()))
    return name


def _config(protocol: Protocol, variant: str | None, overrides: dict[str, Any] | None):
    settings = dict(protocol.variant(variant).settings) if variant else {}
    settings.update(overrides or {})
    return protocol.make_config(settings)


def assert_holds(protocol: Protocol, *, variant: str | None = None, overrides: dict[str, Any] | None = None,
                 settings: RunSettings | None = None, examples: int | None = None,
                 seed: int | None = None, workers: int | None = None) -> Exploration:
    """Explore and fail unless the verdict is held: on a violation, a vacuous exploration, or an undecided one.

    With a ``variant``, its fault kinds and promised invariants apply unless ``settings`` is given explicitly.
    """
    v = protocol.variant(variant) if variant else None
    examples = examples or hyp_settings.default.max_examples
    seed = session_seed() if seed is None else seed
    settings = settings or RunSettings().for_variant(v)
    exp = explore(protocol, _config(protocol, variant, overrides), examples=examples, seed=seed, settings=settings,
                  invariants=v.promised(protocol) if v else None, runner=_runner(workers))
    SESSION.add(protocol.name, _configuration(variant, overrides), exp.coverage.to_json())
    if exp.failure is not None:
        path = _write(exp, variant)
        names = ", ".join(c.invariant for c in exp.failure.violations) or exp.failure.error
        details = "\n".join(f"  {c.invariant}: {c.explanation}" for c in exp.failure.violations)
        raise AssertionError(f"{protocol.name} {variant or ''}: {names} violated after {exp.found_after} runs "
                             f"(seed {seed})\n{details}\n  trace: {path}\n  replay: {replay_command(protocol, path)}")
    if exp.verdict == "vacuous":
        raise AssertionError(f"{protocol.name} {variant or ''}: {exp.summary()} (seed {seed}): a run where nothing "
                             f"happened is not a pass")
    if exp.verdict != "held":
        raise AssertionError(f"{protocol.name} {variant or ''}: {exp.summary()} (seed {seed}): undecided is not a "
                             f"pass")
    return exp


def assert_refuted(protocol: Protocol, *, variant: str, invariant: str | None = None,
                   settings: RunSettings | None = None, examples: int | None = None,
                   seed: int | None = None, shrink: bool = True, workers: int | None = None) -> Exploration:
    """Explore a known-bad variant and fail unless its expected invariant is violated; returns the shrunk run
    (``shrink=False``: the first violating run, when only finding it is the point and shrinking is slow)."""
    v = protocol.variant(variant)
    invariant = invariant or v.expect_violation
    examples = examples or budget_for(v, hyp_settings.default.max_examples)
    seed = session_seed() if seed is None else seed
    exp = explore(protocol, _config(protocol, variant, None), examples=examples, seed=seed,
                  settings=settings or RunSettings().for_variant(v), invariants=(invariant,) if invariant else None,
                  shrink=shrink, runner=_runner(workers))
    SESSION.add(protocol.name, variant, exp.coverage.to_json())
    if exp.failure is None:
        raise AssertionError(f"{protocol.name} {variant}: expected {invariant} to be violated, but {exp.summary()} "
                             f"(seed {seed}, {examples} examples)")
    _write(exp, variant)
    return exp
