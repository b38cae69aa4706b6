"""Timeouts the driver keeps itself: a task parked until it is woken or its virtual deadline passes.

``NodeContext.gather`` (and so ``call``) and a request-style client operation wait for replies with a timeout. With
trio that is an ``Event`` under ``move_on_after``: a cancel scope entered and closed, a deadline registered and
removed, a parking lot, for every request. Here the task parks with ``wait_task_rescheduled`` and the driver,
which already decides when virtual time moves, keeps the deadlines in a heap of its own: a reply reschedules the
task, the deadline passing reschedules it too (the driver jumps the clock to the earliest of trio's deadlines, the
network's releases and these), and a crash cancels it through trio as before. ``benchmarks/bench_runtime.py``
measures what it saves.
"""

from __future__ import annotations

import heapq
import math

import outcome
import trio


class Wakeup:
    """One parked wait: ``set()`` wakes it now (from a reply, in the driver); its deadline wakes it otherwise."""

    __slots__ = ("task", "deadline", "done")

    def __init__(self) -> None:
        self.task: trio.lowlevel.Task | None = None
        self.deadline = math.inf
        self.done = False  # woken (by set, the deadline or a cancellation), or set before anyone waited

    def set(self) -> None:
        if not self.done:
            self.done = True
            task, self.task = self.task, None
            if task is not None:
                trio.lowlevel.reschedule(task)


class Timers:
    """The deadlines of parked waits, earliest first (entries whose wait ended are dropped lazily)."""

    __slots__ = ("_clock", "_heap", "_seq")

    def __init__(self, clock) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int, Wakeup]] = []
        self._seq = 0

    async def wait(self, wake: Wakeup, timeout: float) -> bool:
        """Park the calling task until ``wake.set()`` (True) or ``timeout`` virtual seconds pass (False). A
        checkpoint like any trio wait: a cancellation (a crash) raises ``Cancelled`` here."""
        if wake.done:
            await trio.lowlevel.checkpoint()
            return True
        wake.deadline = self._clock.now + timeout
        wake.task = trio.lowlevel.current_task()
        self._seq += 1
        heapq.heappush(self._heap, (wake.deadline, self._seq, wake))

        def abort(_raise_cancel) -> trio.lowlevel.Abort:
            wake.task = None
            wake.done = True
            return trio.lowlevel.Abort.SUCCEEDED

        timed_out = await trio.lowlevel.wait_task_rescheduled(abort)  # set(): None; the deadline: True
        return not timed_out

    def next_deadline(self) -> float:
        """The earliest deadline of a wait still parked (inf if none)."""
        heap = self._heap
        while heap and heap[0][2].task is None:
            heapq.heappop(heap)
        return heap[0][0] if heap else math.inf

    def fire(self, now: float) -> None:
        """Wake every parked wait whose deadline is ``now`` or earlier, in deadline order (then parking order)."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, _, wake = heapq.heappop(heap)
            task = wake.task
            if task is not None:
                wake.task = None
                wake.done = True
                trio.lowlevel.reschedule(task, outcome.Value(True))  # an outcome is unwrapped once: a new one

