"""Lambda's messages: client requests, and what frontends, the placement, workers, the event queue, the store and
the on-failure destination say to each other (see the package docstring)."""

from __future__ import annotations

import attrs


# -- messages --------------------------------------------------------------------------------------------------------
# An event is [id, kind, duration, key]: "work" runs ``duration`` seconds and writes its result to the store;
# "tally" counts the events of ``key`` (the count is its result); "poison" always raises after ``duration``; "slow"
# runs twice the timeout.
@attrs.frozen
class Invoke:  # InvocationType=Event: acknowledged once the event is queued
    event: tuple


@attrs.frozen
class InvokeSync:  # InvocationType=RequestResponse: the function's result, or an error
    event: tuple


@attrs.frozen
class ReadExecutions:
    pass


@attrs.frozen
class ReadFailures:
    pass


@attrs.frozen
class ReadSlots:
    pass


@attrs.frozen
class GetFunctionConfiguration:
    pass


@attrs.frozen
class Enqueue:
    event: tuple


@attrs.frozen
class Queued:
    pass


@attrs.frozen
class Dispatch:  # the asynchronous invoker asks a frontend to run one attempt
    event: tuple
    exec_id: str
    deadline: float


@attrs.frozen
class AttemptResult:
    outcome: str  # ok | error | timeout | throttled | not-started | unknown


@attrs.frozen
class Acquire:  # atomic: take a slot if fewer than the limit are taken
    lease: str
    expires: float | None  # None: the slot is held until released


@attrs.frozen
class CountSlots:  # the non-atomic design's check
    pass


@attrs.frozen
class Slots:
    held: tuple


@attrs.frozen
class TakeSlot:  # the non-atomic design's increment
    lease: str
    expires: float | None


@attrs.frozen
class Granted:
    granted: bool


@attrs.frozen
class Release:
    lease: str


@attrs.frozen
class Released:
    pass


@attrs.frozen
class Run:  # a frontend asks a worker to run the function once, in a sandbox, before the deadline
    event: tuple
    exec_id: str
    lease: str
    deadline: float


@attrs.frozen
class RunResult:
    outcome: str  # ok | error | timeout | not-started


@attrs.frozen
class Begin:  # an execution starts: recorded in the store before the function body runs
    exec_id: str
    event: int
    kind: str
    sandbox: str
    at: float


@attrs.frozen
class Commit:  # the function's side effect, at its end: its result (a tally's count) goes to the store
    exec_id: str
    at: float
    key: str | None = None
    ticket: int | None = None  # the count a stateful function kept in its sandbox
    tally: bool = False  # count in the store (the stateless function)


@attrs.frozen
class End:  # the runtime's report line at an execution's end (its log): when the function stopped, and how
    exec_id: str
    at: float
    outcome: str


@attrs.frozen
class Committed:
    ticket: int | None


@attrs.frozen
class Ack:
    pass


@attrs.frozen
class ToDestination:
    entry: dict
