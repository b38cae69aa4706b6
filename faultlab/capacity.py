"""A service of bounded capacity: a fixed number of workers, a service time, a bounded queue, rejection beyond it.

Issue 12: overload and retry storms must be observable. A node that serves its requests through a
:class:`Capacity` takes ``service_time`` virtual seconds per request on one of ``workers`` workers; a request that
finds every worker busy waits in a FIFO queue of at most ``queue`` requests (its queueing delay is simulated time a
client sees), and one that finds the queue full is rejected at once with the caller's "throttled" reply. So a load
above ``workers / service_time`` requests per second first grows the queue, then latency, then rejections, and
clients that time out and retry add to the load they suffer from: the retry storm of the design document's section
13.

The work itself runs at the end of its service time (``work()``, atomically: no other handler of the node runs in
between), or at its start with ``apply_first`` (the reply still leaves at the end), so a request that times out at the client while it waits may still be applied: a retry then arrives as a
second request, as it does at a real overloaded service. A crash cancels everything queued and in service (the
queue is the incarnation's volatile state); a request cancelled in the queue or in service is never applied.

Pure trio on virtual time: no wall clock and no ``random``. A service time that varies is drawn from the node's
coins (``ctx.random``), uniform in ``[service_time, service_time + spread]`` with :func:`fine_uniform`; with
``spread=0`` nothing is drawn, so a run under the search makes no choice per request.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import trio

from faultlab.errors import ConfigError

T = TypeVar("T")

DIGITS = 3  # coin draws composed per fine_uniform: 16**3 = 4096 levels while the search steers the coins


def fine_uniform(coins: Any, a: float, b: float, digits: int = DIGITS) -> float:
    """A float in ``[a, b)`` from ``digits`` draws of ``coins`` (a node's ``ctx.random``).

    Steered coins (the main phase) take one of 16 levels per draw, too coarse for jitter among 100 clients (ties
    would be the rule); composing draws as base-16 digits gives 16**digits levels, and with fair coins the result
    is exactly uniform (the leading digits of independent uniforms and a uniform remainder). Choice 0 for every
    draw gives ``a``, so shrinking moves toward it.
    """
    if digits < 1:
        raise ValueError("fine_uniform needs digits >= 1")
    u = coins.random()
    for _ in range(digits - 1):
        u = (math.floor(coins.random() * 16) + u) / 16
    return a + (b - a) * u


class Capacity:
    """``workers`` requests in service at once, ``queue`` more waiting (FIFO), the rest rejected.

    One per node incarnation (build it in ``__init__``: a crash throws the queue away). ``service_time`` may be
    changed while the node runs (a brownout multiplies it); ``coins`` is needed only with ``spread > 0``.
    Counters (``served``, ``rejected``, ``max_waiting``, ``queued_seconds``) describe the incarnation's load.
    """

    def __init__(self, workers: int, queue: int, service_time: float, *, spread: float = 0.0, coins: Any = None,
                 name: str = "service"):
        if workers < 1:
            raise ConfigError(f"{name}: workers={workers}; give at least 1 worker")
        if queue < 0:
            raise ConfigError(f"{name}: queue={queue}; give a queue length >= 0 (0: reject whenever all are busy)")
        if service_time < 0 or spread < 0:
            raise ConfigError(f"{name}: service_time={service_time}, spread={spread}; give seconds >= 0")
        if spread > 0 and coins is None:
            raise ConfigError(f"{name}: spread={spread} needs coins= (the node's ctx.random) to draw service times")
        self.workers = workers
        self.queue = queue
        self.service_time = service_time
        self.spread = spread
        self._coins = coins
        self._slots = trio.Semaphore(workers)
        self.waiting = 0
        self.max_waiting = 0
        self.served = 0
        self.rejected = 0
        self.queued_seconds = 0.0

    @property
    def busy(self) -> int:
        """Workers serving a request now."""
        return self.workers - self._slots.value

    def full(self) -> bool:
        """True when a request arriving now would be rejected."""
        return self._slots.value == 0 and self.waiting >= self.queue

    def draw_service_time(self) -> float:
        if self.spread > 0:
            return fine_uniform(self._coins, self.service_time, self.service_time + self.spread)
        return self.service_time

    async def serve(self, work: Callable[[], T], throttled: Callable[[], Any], *, apply_first: bool = False) -> T | Any:
        """Queue for a worker, spend the service time, then run ``work()`` and return its result; if the queue is
        full on arrival, return ``throttled()`` at once (a request beyond capacity fails fast).

        ``apply_first=True`` runs ``work()`` when a worker takes the request and returns its result after the service
        time (a service that commits, then spends the time answering: a crash in service loses the reply of a
        request that was applied)."""
        if self.full():
            self.rejected += 1
            return throttled()
        arrived = trio.current_time()
        self.waiting += 1
        self.max_waiting = max(self.max_waiting, self.waiting)
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
        try:
            self.queued_seconds += trio.current_time() - arrived
            took = self.draw_service_time()
            result = work() if apply_first else None
            if took > 0:
                await trio.sleep(took)
            self.served += 1
            return result if apply_first else work()
        finally:
            self._slots.release()
