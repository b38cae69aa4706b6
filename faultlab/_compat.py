"""Every private hook faultlab takes into trio and Hypothesis, in one place, checked against the installed versions.

faultlab's determinism and speed rest on four things neither library offers publicly:

* trio shuffles each batch of runnable tasks with a module-global ``random.Random``; turning on the sorted batch
  order its own Hypothesis plugin uses and seeding that ``Random`` makes task interleaving a function of the seed
  (``trio._core._run._ALLOW_DETERMINISTIC_SCHEDULING`` and ``trio._core._run._r``);
* Hypothesis's choice sequence is drawn directly (``ConjectureData.draw_integer``, ``draw_boolean``): 4x cheaper
  than ``data.draw`` and exact;
* Hypothesis mixes into its generation integer literals it finds in "local" modules (anything not installed
  site-wide: faultlab itself, the protocols, the test files). Which modules are loaded then changes the schedules a
  seed explores (pytest with its test modules vs ``faultlab check``; measured: a find moved from 44 runs to 38).
  :func:`hypothesis_without_local_constants` turns that off while faultlab explores, so the same seed explores
  the same schedules in any process.
* trio's run queue (``GLOBAL_RUN_CONTEXT.runner.runq``): after the driver has waited for quiescence, it checks the
  queue is still empty instead of waiting again, when what it just did woke no task (see the runtime's ``_drive``).
  ``trio.lowlevel.current_statistics().tasks_runnable`` is the public reading of the same length, at 3x the cost.

:func:`check` verifies each hook exists in the installed release and fails loudly, naming the release and the hook,
when one does not; ``tests/test_compat.py`` runs it, and the runtime calls it once before the first run.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from importlib.metadata import version
from typing import Any

from faultlab.errors import FaultlabError

TESTED = {"trio": "0.35", "hypothesis": "6.170"}  # the releases these hooks were written against


class IncompatibleRelease(FaultlabError):
    """An installed trio or Hypothesis no longer has a private hook faultlab's determinism depends on."""


def _fail(package: str, hook: str, why: str) -> IncompatibleRelease:
    return IncompatibleRelease(
        f"{package} {version(package)} has no usable {hook} ({why}); faultlab's deterministic scheduling was written "
        f"against {package} {TESTED[package]}: install that release (pip install '{package}=={TESTED[package]}.*') "
        f"or update faultlab/_compat.py")


def check() -> None:
    """Fail loudly if a hook is missing from the installed trio or Hypothesis."""
    import trio._core._run as trio_run
    from hypothesis.internal.conjecture import providers
    from hypothesis.internal.conjecture.data import ConjectureData

    if not hasattr(trio_run, "_ALLOW_DETERMINISTIC_SCHEDULING"):
        raise _fail("trio", "trio._core._run._ALLOW_DETERMINISTIC_SCHEDULING", "the sorted batch order is gone")
    if not callable(getattr(getattr(trio_run, "_r", None), "seed", None)):
        raise _fail("trio", "trio._core._run._r", "the scheduler's Random is gone")
    for name, params in (("draw_integer", ("min_value", "max_value")), ("draw_boolean", ("p",))):
        method = getattr(ConjectureData, name, None)
        if method is None:
            raise _fail("hypothesis", f"ConjectureData.{name}", "it is gone")
        missing = [p for p in params if p not in inspect.signature(method).parameters]
        if missing:
            raise _fail("hypothesis", f"ConjectureData.{name}", f"it takes no {', '.join(missing)}")
    if not hasattr(trio_run, "GLOBAL_RUN_CONTEXT") or \
            "runq" not in {a.name for a in getattr(trio_run.Runner, "__attrs_attrs__", ())}:
        raise _fail("trio", "trio._core._run.Runner.runq", "the run queue is gone")
    if not callable(getattr(providers, "_get_local_constants", None)) or not hasattr(providers, "Constants") \
            or not isinstance(getattr(getattr(providers, "CONSTANTS_CACHE", None), "cache", None), dict):
        raise _fail("hypothesis", "providers._get_local_constants / CONSTANTS_CACHE", "they are gone")


_checked: list[bool] = []


def check_once() -> None:
    if not _checked:
        check()
        _checked.append(True)


def deterministic_trio(seed: int) -> None:
    """Make trio's task interleaving a function of ``seed`` (see the module docstring)."""
    import trio._core._run as trio_run

    trio_run._ALLOW_DETERMINISTIC_SCHEDULING = True  # type: ignore[misc]
    trio_run._r.seed(seed)


def run_queue() -> Any:
    """The current trio run's queue of runnable tasks (a deque; call inside ``trio.run``). Empty while the caller
    runs means every other task is blocked, provided the caller was woken alone (as ``wait_all_tasks_blocked`` wakes
    it)."""
    import trio._core._run as trio_run

    return trio_run.GLOBAL_RUN_CONTEXT.runner.runq


def conjecture_data(data: Any) -> Any:
    """The ConjectureData behind a ``st.data()`` object (or the object itself)."""
    return getattr(data, "conjecture_data", data)


@contextlib.contextmanager
def hypothesis_without_local_constants() -> Iterator[None]:
    """While faultlab explores, Hypothesis draws no integers from the literals of loaded local modules."""
    from hypothesis.internal.conjecture import providers

    original = providers._get_local_constants
    empty = providers.Constants()
    providers._get_local_constants = lambda: empty
    providers.CONSTANTS_CACHE.cache.clear()  # constants another test cached would leak in otherwise
    try:
        yield
    finally:
        providers._get_local_constants = original
        providers.CONSTANTS_CACHE.cache.clear()
