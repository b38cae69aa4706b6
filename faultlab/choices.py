"""Choice sources: the one place a run's nondeterminism comes from.

Every decision the engine or a protocol makes (which fault, which target, which operation, whether to drop a
message) is a call to :meth:`ChoiceSource.choose` or :meth:`ChoiceSource.flip`. Three sources answer them:

* :class:`HypothesisChoices` draws from a Hypothesis test case, so failing runs shrink; choice 0 and ``False`` are
  always "the boring thing" (no fault, the first candidate), so shrinking moves toward a fault-free FIFO run;
* :class:`SeededChoices` draws from a seeded PRNG, for fast runs without Hypothesis;
* :class:`ReplayChoices` answers from a recorded list, for replaying a trace.

Every source records what it answered, so any run can be written as a trace and replayed.
"""

from __future__ import annotations

import contextvars
import random
from collections.abc import Sequence
from typing import Any

from faultlab._compat import conjecture_data
from faultlab.errors import ChoicesExhausted, ReplayDivergence

# What the current task is working for: the client operation ``(client, position)`` or final operation
# ``("final", k)`` whose request led to it (through messages, handlers and the tasks they spawn; trio copies it into
# every task it spawns), a driver step's coin the message it is about to deliver, a fault's choices "fault", or None
# (timers, a node's own periodic work). Every choice and message records it, so a reducer can take an operation out
# with the choices it caused while everything else keeps its own, and a timeline can show what a violation depends
# on.
CAUSE: contextvars.ContextVar[Any] = contextvars.ContextVar("faultlab_cause", default=None)


class ChoiceSource:
    """The interface: ``choose(n)`` returns an int in ``[0, n)``, ``flip(p)`` a bool that is True with probability
    about ``p``. Subclasses implement ``_choose`` and ``_flip``; recording is done here."""

    def __init__(self) -> None:
        self.record: list[int] = []
        self.causes: list[Any] = []  # the CAUSE of each recorded choice
        self.picked: dict[int, str] = {}  # position -> the item a pick() chose
        self.spans: list[tuple[str, int, int]] = []
        self._span_objects: dict[str, _Span] = {}

    def choose(self, n: int) -> int:
        if n <= 1:
            if n < 1:
                raise ValueError("choose(n) needs at least one alternative")
            return 0  # a forced choice is not a decision: not recorded, so traces stay short
        v = self._choose(n)
        self.record.append(v)
        self.causes.append(CAUSE.get())
        return v

    def flip(self, p: float) -> bool:
        if p <= 0.0:
            return False
        v = self._flip(p)
        self.record.append(int(v))
        self.causes.append(CAUSE.get())
        return v

    def pick(self, items: Sequence[str]) -> str:
        """One of ``items`` (non-empty, most interesting first): ``choose(len(items))``, recording which item too,
        so that a variation of the run in which the list comes out in another order (a reducer left an operation
        out, so another node was the last one invoked) can pick the same item by identity."""
        if len(items) == 1:
            return items[0]
        position = len(self.record)
        item = items[self._pick_index(items, position)]
        self.record.append(items.index(item))
        self.causes.append(CAUSE.get())
        self.picked[position] = item
        return item

    def _pick_index(self, items: Sequence[str], position: int) -> int:
        return self._choose(len(items))

    def _choose(self, n: int) -> int:
        raise NotImplementedError

    def _flip(self, p: float) -> bool:
        raise NotImplementedError

    def span(self, label: str) -> _Span:
        """Group the choices of one decision (a fault and its target, one client operation): recorded in
        :attr:`spans` as ``(label, start, end)`` positions in :attr:`record`, so a reducer can take the whole
        decision out. Only around one synchronous stretch of code: no ``await`` inside, or another task's choices
        would fall into it."""
        span = self._span_objects.get(label)
        if span is None:
            span = self._span_objects[label] = self._make_span(label)
        return span

    def _make_span(self, label: str) -> _Span:
        return _Span(self, label)


class _Span:
    __slots__ = ("_source", "_label", "_start")

    def __init__(self, source: ChoiceSource, label: str):
        self._source = source
        self._label = label
        self._start = 0

    def __enter__(self) -> None:
        self._start = len(self._source.record)

    def __exit__(self, *exc: object) -> None:
        self._source.spans.append((self._label, self._start, len(self._source.record)))


class SeededChoices(ChoiceSource):
    """Choices from ``random.Random(seed)``: deterministic for a seed, across processes and hash seeds."""

    def __init__(self, seed: int):
        super().__init__()
        self.seed = seed
        self._rng = random.Random(seed)

    def _choose(self, n: int) -> int:
        return self._rng.randrange(n)

    def _flip(self, p: float) -> bool:
        return self._rng.random() < p


class ReplayChoices(ChoiceSource):
    """Answers from a recorded list. Asking for a value out of range, or past the end, is a divergence."""

    def __init__(self, recorded: list[int]):
        super().__init__()
        self._recorded = list(recorded)
        self._pos = 0

    def _next(self, what: str) -> int:
        if self._pos >= len(self._recorded):
            raise ChoicesExhausted(
                f"the run asked for choice {self._pos + 1} ({what}) but the trace recorded only "
                f"{len(self._recorded)}: the protocol or engine behaves differently than when the trace was written")
        v = self._recorded[self._pos]
        self._pos += 1
        return v

    def _choose(self, n: int) -> int:
        v = self._next(f"choose among {n}")
        if not 0 <= v < n:
            raise ReplayDivergence(f"choice {self._pos} recorded {v} but the run now offers only {n} alternatives")
        return v

    def _flip(self, p: float) -> bool:
        v = self._next("flip")
        if v not in (0, 1):
            raise ReplayDivergence(f"choice {self._pos} recorded {v} where the run now flips a coin")
        return bool(v)

    @property
    def exhausted(self) -> bool:
        return self._pos >= len(self._recorded)


class StreamReplayChoices(ChoiceSource):
    """Answers each choice from the recorded choices of the same cause (:data:`CAUSE`), in their order: a client
    operation's choices from that operation's, a delivery step's coin from the stream of the message it delivers,
    a fault's kind and target from the faults'. Where an answer no longer fits it answers 0, and 0 past a stream's
    end; a pick answers the recorded item when it is offered.

    For trying a smaller variation of a recorded run (an operation or a fault left out, see faultlab.reduce):
    everything else keeps its own choices, whenever it now happens. The run it produces is a run of its own, whose
    record replays exactly; it never replays a trace.
    """

    def __init__(self, streams: dict[Any, list[int]], picked: dict[tuple[Any, int], str] | None = None):
        super().__init__()
        self._streams = streams
        self._picked = dict(picked or {})
        self._used: dict[Any, int] = {}

    @classmethod
    def of(cls, choices: list[int], causes: list[Any], picked: dict[int, str]) -> StreamReplayChoices:
        """The streams of a recorded run (its choices, their causes, its picks by position)."""
        streams: dict[Any, list[int]] = {}
        by_stream: dict[tuple[Any, int], str] = {}
        for pos, (value, cause) in enumerate(zip(choices, causes, strict=True)):
            stream = streams.setdefault(cause, [])
            if pos in picked:
                by_stream[(cause, len(stream))] = picked[pos]
            stream.append(value)
        return cls(streams, by_stream)

    def _next(self) -> tuple[Any, int, int | None]:
        cause = CAUSE.get()
        i = self._used.get(cause, 0)
        self._used[cause] = i + 1
        stream = self._streams.get(cause, ())
        return cause, i, stream[i] if i < len(stream) else None

    def _pick_index(self, items: Sequence[str], position: int) -> int:
        cause, i, v = self._next()
        wanted = self._picked.get((cause, i))
        if wanted in items:
            return list(items).index(wanted)
        return v if v is not None and 0 <= v < len(items) else 0

    def _choose(self, n: int) -> int:
        _, _, v = self._next()
        return v if v is not None and 0 <= v < n else 0

    def _flip(self, p: float) -> bool:
        return self._next()[2] == 1


class HypothesisChoices(ChoiceSource):
    """Choices drawn from a Hypothesis test case (``st.data()``), so that failures shrink.

    Decisions are not marked as Hypothesis spans (``start_span``): its shrinker would delete them whole, but its
    generation also mutates by copying spans, and with them marked every deep known-bad variant was found 2-4x later
    (dynamodb local-consistent-read: median 85 runs without, 245 with, and missed on 1 of 8 seeds; the churn stale
    read missed on 2 of 8). faultlab.reduce takes decisions out after shrinking instead.

    Draws go straight to the test case's choice sequence (``draw_integer``/``draw_boolean``): about 4x cheaper than
    ``data.draw(st.integers(...))`` and with exact fault probabilities. Both shrink toward 0 / False.
    """

    def __init__(self, data: Any):
        super().__init__()
        cd = conjecture_data(data)
        self._draw_integer = cd.draw_integer
        self._draw_boolean = cd.draw_boolean

    def _choose(self, n: int) -> int:
        return self._draw_integer(0, n - 1)

    def _flip(self, p: float) -> bool:
        return self._draw_boolean(min(p, 0.999))
