"""Exploring on several processes or a Dask cluster, with exactly the results of one process.

An exploration is a list of shards (:func:`faultlab.explore.shard_plan`), each a Hypothesis search from its own seed;
its result is the first failing shard's in shard order, with the coverage of the shards before it. A :class:`Runner`
runs shards elsewhere and hands their results back *in shard order*, so where a shard ran, and which finished first,
changes nothing: the same verdicts, the same found-after counts, the same shrunk trace bytes.

Work goes out as a :class:`ShardJob`: the protocol by the reference :func:`faultlab.registry.get_protocol` resolves
in the worker (a registered name, or the ``module:ATTRIBUTE`` it was loaded from), plus its configuration, settings
and seed; results come back as :class:`~faultlab.explore.Exploration` without the protocol object, which the caller
puts back. A protocol that no reference reaches (built in a function, say) is explored in this process.

* :class:`Runner` with ``workers=1`` runs everything here, in order, as if there were no runner.
* ``workers=N`` runs shards on N processes (``spawn``: a worker imports faultlab and the protocol afresh, and nothing
  of this process's state leaks into it).
* ``scheduler="tcp://host:port"`` sends them to a Dask distributed scheduler (``pip install 'faultlab[dask]'``); a
  worker lost mid-shard has its shard re-run by Dask, and each shard's result is taken once, so nothing is lost or
  counted twice. A worker process runs one search at a time (start workers with ``--nthreads 1``; more threads
  only queue), and needs faultlab and the protocol importable, as a local worker does.

At most ``workers`` shards of one exploration are in flight at a time: a known-bad variant found in its first shard
does not keep the pool busy with the seven shards after it. While :func:`prefetch` still has explorations waiting to
start, an exploration runs one shard at a time: a shard after the one in flight is speculative (the first shard may
fail and end the exploration, and a shard already running cannot be stopped), and a waiting exploration's first
shard is not. Measured on `faultlab verify`, 2 workers: speculative shards were a quarter of the CPU time.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import threading
from collections.abc import Iterator
from typing import Any

import attrs

from faultlab.errors import ConfigError
from faultlab.protocol import Protocol
from faultlab.runtime import RunSettings

# Hypothesis is not thread-safe; explorations that run in this process (workers=1, or a protocol no worker can
# import) take turns.
_HERE = threading.Lock()


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@attrs.frozen
class ShardJob:
    protocol: str
    config: Any
    settings: RunSettings
    invariants: tuple[str, ...]
    examples: int
    seed: int
    shrink: bool


def run_shard(job: ShardJob) -> Any:
    """Run one shard (in a worker process or on a Dask worker); the result without its protocol object."""
    from faultlab.explore import explore_shard
    from faultlab.registry import get_protocol

    protocol = get_protocol(job.protocol)
    with _HERE:  # a Dask worker may run tasks on several threads; Hypothesis searches take turns
        exp = explore_shard(protocol, job.config, examples=job.examples, seed=job.seed, settings=job.settings,
                            shrink=job.shrink, invariants=job.invariants)
    exp.protocol = None  # the caller's own object goes back in: a Protocol holds functions that do not pickle
    return exp


def run_measure(ref: str, index: int, text: str, seed: int) -> Any:
    """A measured claim's figure, computed on a worker."""
    from faultlab.registry import get_protocol

    claim = get_protocol(ref).claims[index]
    if claim.text != text:  # the worker imported another version of the protocol than the caller has
        raise ConfigError(f"{ref}: claim {index} is {claim.text!r} on the worker, not {text!r}; install the same "
                          f"faultlab and protocols on every worker")
    with _HERE:
        return claim.measure(seed)


def shippable(protocol: Protocol) -> str | None:
    """The reference a worker resolves to ``protocol``, or None when none does."""
    from faultlab.registry import reference

    ref = reference(protocol)
    if ref is None:
        return protocol.name
    return None if ref == "MODULE:ATTRIBUTE" else ref


class Runner:
    """Where shards run: here (``workers=1``), on ``workers`` local processes, or on a Dask cluster."""

    def __init__(self, workers: int = 1, scheduler: str | None = None) -> None:
        if workers < 1:
            raise ConfigError(f"--workers {workers}: give at least 1")
        self.workers = workers
        self.scheduler = scheduler
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._client: Any = None
        self._lock = threading.Lock()
        self.waiting = 0  # explorations prefetch has not started yet: while there are any, shards run one at a time
        if scheduler is not None:
            self._client = _dask_client(scheduler)
            # one search at a time per worker process (Hypothesis is not thread-safe): count processes
            self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))

    @property
    def parallel(self) -> bool:
        return self._client is not None or self.workers > 1

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def submit(self, fn: Any, *args: Any) -> Any:
        """Run the module-level function ``fn(*args)`` on a worker; a future with ``result()`` and ``cancel()``."""
        if self._client is not None:
            return self._client.submit(fn, *args, pure=False)
        with self._lock:
            if self._pool is None:
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("spawn"))
        return self._pool.submit(fn, *args)

    def measure(self, protocol: Protocol, index: int, seed: int) -> Any:
        """``protocol.claims[index].measure(seed)``, on a worker when one can import the protocol (a measurement is
        a set of seeded runs: where it runs changes nothing)."""
        ref = shippable(protocol) if self.parallel else None
        if ref is None:
            with _HERE:  # a measurement may explore with Hypothesis
                return protocol.claims[index].measure(seed)
        return self.submit(run_measure, ref, index, protocol.claims[index].text, seed).result()

    def shards(self, protocol: Protocol, config: Any, *, settings: RunSettings, shrink: bool,
               invariants: tuple[str, ...], plan: list[tuple[int, int]]) -> Iterator[Any]:
        """The explorations of the shards in ``plan``, in plan order; stop iterating and the rest are cancelled."""
        ref = shippable(protocol) if self.parallel else None
        if ref is None:
            yield from self._here(protocol, config, settings=settings, shrink=shrink, invariants=invariants,
                                  plan=plan)
            return
        jobs = [ShardJob(ref, config, settings, tuple(invariants), n, s, shrink) for n, s in plan]
        futures: list[Any] = []

        def top_up(next_result: int) -> None:
            # shards in flight beyond the one awaited next are speculative: none while other work waits to start
            window = 1 if self.waiting > 0 else max(1, self.workers)
            while len(futures) < len(jobs) and len(futures) - next_result < window:
                futures.append(self.submit(run_shard, jobs[len(futures)]))

        try:
            for j in range(len(jobs)):
                top_up(j)
                exp = futures[j].result()
                exp.protocol = protocol
                yield exp
        finally:
            for f in futures:
                f.cancel()

    def _here(self, protocol: Protocol, config: Any, *, settings: RunSettings, shrink: bool,
              invariants: tuple[str, ...], plan: list[tuple[int, int]]) -> Iterator[Any]:
        from faultlab.explore import explore_shard

        for n, s in plan:
            with _HERE:
                exp = explore_shard(protocol, config, examples=n, seed=s, settings=settings, shrink=shrink,
                                    invariants=invariants)
            yield exp


def _dask_client(address: str) -> Any:
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError(f"--scheduler {address}: Dask is not installed; pip install 'faultlab[dask]' "
                          f"(or run without --scheduler to use local processes)") from None
    problem: Exception | None = None
    for _ in range(3):  # a scheduler that has just started may drop the first handshake
        try:
            return Client(address, timeout=10)
        except (OSError, TimeoutError, ValueError, AssertionError) as e:  # distributed asserts on a bad handshake
            problem = e
    raise ConfigError(f"--scheduler {address}: cannot reach a Dask scheduler there ({problem!r}); start one with "
                      f"`dask scheduler` and give its tcp://HOST:PORT")


def prefetch(runner: Runner | None, calls: list[tuple[str, Any]], took: dict[str, float] | None = None) -> None:
    """Run ``calls`` (``(label, call)``; each call fills an :class:`~faultlab.explore.ExplorationCache` entry) on
    threads, so several explorations keep the runner's workers busy at once; the first exception is raised. The
    callers then build their reports in order, in this thread, from the cache, so z3 and report writing stay
    single-threaded. ``took`` (label -> seconds, from a previous run's reports) starts the longest first, as a build
    system does: the order changes when results arrive, never what they are. Without a parallel runner this does
    nothing (the callers explore as they go)."""
    if runner is None or not runner.parallel or len(calls) < 2:
        return
    if took:
        calls = sorted(calls, key=lambda c: -took.get(c[0], 0.0))
    lock = threading.Lock()

    def started(call: Any) -> Any:
        with lock:
            runner.waiting -= 1
        return call()

    runner.waiting += len(calls)
    try:
        with concurrent.futures.ThreadPoolExecutor(runner.workers, thread_name_prefix="faultlab-explore") as pool:
            for f in [pool.submit(started, call) for _, call in calls]:
                f.result()
    finally:
        runner.waiting = 0
