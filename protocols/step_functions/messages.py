"""The messages of the Step Functions model: a client starts an execution and, after recovery, describes them; the
executor sends each task attempt to a worker, which performs it on the external service; the final phase reads the
service's ledger of effects and attempts."""

from __future__ import annotations

import attrs


@attrs.frozen
class StartExecution:
    """StartExecution: ``name`` is the execution's name (idempotent: a retried start is the same execution)."""

    name: str
    order: int
    kind: str  # what the order will meet: ok, invalid, declined, out-of-stock, unreachable


@attrs.frozen
class DescribeExecutions:
    """The final phase's read of every execution's status at the executor."""


@attrs.frozen
class DescribeExecution:
    """DescribeExecution: a client following its execution asks for its status."""

    name: str


@attrs.frozen
class ExecutionStatus:
    status: str  # RUNNING, SUCCEEDED, FAILED (or UNKNOWN: the executor does not know the name)
    outcome: str | None


@attrs.frozen
class Task:
    """One attempt of a task state (or of a compensation), from the executor through a worker to the service.

    ``token`` is the idempotency token the executor minted when it entered the state (None: no token); ``of`` is the
    token of the forward task a compensation undoes; ``sent_at`` is the executor's clock when it sent the attempt
    (the service records it, so backoff can be judged from the ledger)."""

    execution: str
    order: int
    kind: str  # the order's kind (decides permanent failures)
    action: str  # validate, charge, ship, notify, refund, cancel-shipment
    token: str | None
    attempt: int
    sent_at: float
    of: str | None = None
    compensation: bool = False


@attrs.frozen
class TaskResult:
    """A task attempt's outcome: ``ok`` (with ``data``), ``retryable`` (a transient error: States.TaskFailed that a
    Retrier matches) or ``permanent`` (an error no retry fixes: the Catcher's)."""

    status: str
    data: object = None


@attrs.frozen
class ReadLedger:
    """The final phase's read of the service's ledger."""
