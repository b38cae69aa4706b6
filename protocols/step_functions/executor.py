"""The executor: a durable state machine (task, choice, retry with backoff, catch, parallel) that persists each
execution's history of transitions in an append-only log before it acts.

The order saga's state machine (ASL-like, section 19's interview example "validate → charge → ship → notify")::

    Validate (Task, Retry) -> CheckValid (Choice: invalid -> Rejected)
      -> Charge (Task, Retry, Catch -> Compensate)
      -> Fulfil (Parallel: Ship | Notify, each a Task with Retry; Catch -> Compensate) -> Succeeded
    Compensate: CancelShipment (if Ship was entered), Refund (if Charge was entered), each retried until done

Standard mode records, synced, the start, each state's entry with the idempotency token minted for it, each attempt,
each result, the catch and every compensation step, and the end. An executor that crashes (or loses power) resumes
every unfinished execution from its log: a state entered but not finished is attempted again with the same token, so
the service does not apply its effect twice (exactly-once transitions, with idempotent tasks). A resumed retry waits
its backoff again, and attempt numbers continue from the log, so MaxAttempts counts across crashes. Express mode
persists only the start and the end: a crash re-runs the execution from the start, minting new tokens, so tasks
may run twice (at-least-once).

The Retrier matches every error (States.ALL) with MaxAttempts, IntervalSeconds, BackoffRate, MaxDelaySeconds and a
jitter drawn from the protocol's coins (each delay uniform in [1/2, 1] of the nominal one). A Parallel state runs its
branches to completion and fails if any branch failed (AWS also cancels the other branches; here they finish, and
the compensation undoes what they did).
"""

from __future__ import annotations

import trio

from faultlab import Node, Ok, handler

from .config import StepFunctionsConfig
from .messages import DescribeExecution, DescribeExecutions, ExecutionStatus, StartExecution, Task, TaskResult
from .service import WORKERS

EXECUTOR = "sfn"
ACTIONS = {"Validate": "validate", "Charge": "charge", "Ship": "ship", "Notify": "notify",
           "Refund": "refund", "CancelShipment": "cancel-shipment"}
UNDO = {"Charge": "Refund", "Ship": "CancelShipment"}  # forward state -> its compensation


class Execution:
    """What the executor knows of one execution: rebuilt from the log at start, extended as it runs."""

    def __init__(self, name: str, order: int, kind: str):
        self.name, self.order, self.kind = name, order, kind
        self.tokens: dict[str, str] = {}      # state -> the token minted when it was entered
        self.attempts: dict[str, int] = {}    # state -> attempts made
        self.results: dict[str, tuple[str, object]] = {}  # state -> (status, data)
        self.catch: list[str] | None = None   # the states to compensate, once caught
        self.end: tuple[str, str] | None = None


class Executor(Node[StepFunctionsConfig]):
    """The Step Functions executor (one node; its disk is the durability the mode promises)."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.executions: dict[str, Execution] = {}
        self.minted = 0

    def start(self) -> None:
        self.storage.recover_log("history")
        for r in self.storage.read_log("history"):
            self._apply(tuple(r.record))
        for name, e in self.executions.items():
            if e.end is None:
                self.ctx.note("resumed", execution=name, mode=self.config.mode)
                self.ctx.spawn(self._run, name)

    # -- the log -----------------------------------------------------------------------------------------------------
    def _apply(self, rec: tuple) -> None:
        kind, name, *rest = rec
        if kind == "start":
            self.executions[name] = Execution(name, *rest)
            return
        e = self.executions[name]
        if kind == "enter":
            e.tokens[rest[0]] = rest[1]
        elif kind == "attempt":
            e.attempts[rest[0]] = rest[1]
        elif kind == "done":
            e.results[rest[0]] = (rest[1], rest[2])
        elif kind == "catch":
            e.catch = list(rest[0])
        elif kind == "end":
            e.end = (rest[0], rest[1])

    def _record(self, *rec, durable: bool | None = None) -> None:
        """Apply a transition and, in standard mode (or for a start and an end), sync it to the log first."""
        if durable is None:
            durable = self.config.mode == "standard" or rec[0] in ("start", "end")
        if durable:
            self.storage.append("history", rec)
            self.storage.sync()
        self._apply(rec)

    # -- client requests ---------------------------------------------------------------------------------------------
    @handler
    def on_start(self, msg: StartExecution) -> Ok:
        if msg.name not in self.executions:
            self._record("start", msg.name, msg.order, msg.kind)
            self.ctx.spawn(self._run, msg.name)
        return Ok(msg.name)

    @handler
    def on_describe(self, msg: DescribeExecutions) -> Ok:
        return Ok({"executions": {name: {"order": e.order, "kind": e.kind,
                                         "status": e.end[0] if e.end else "RUNNING",
                                         "outcome": e.end[1] if e.end else None}
                                  for name, e in sorted(self.executions.items())}})

    @handler
    def on_describe_one(self, msg: DescribeExecution) -> ExecutionStatus:
        e = self.executions.get(msg.name)
        if e is None:
            return ExecutionStatus("UNKNOWN", None)
        return ExecutionStatus(*e.end) if e.end else ExecutionStatus("RUNNING", None)

    # -- running an execution ----------------------------------------------------------------------------------------
    async def _run(self, name: str) -> None:
        e = self.executions[name]
        if e.end is not None:
            return
        if e.catch is None:
            status, valid = await self._task(e, "Validate")
            if status != "ok":
                return self._end(e, "FAILED", "validate-failed")
            if not valid:  # the Choice state
                return self._end(e, "FAILED", "rejected")
            status, _ = await self._task(e, "Charge")
            if status != "ok":
                return await self._caught(e, ["Charge"])
            results = {}
            async with trio.open_nursery() as branches:  # the Parallel state
                for state in ("Ship", "Notify"):
                    branches.start_soon(self._branch, e, state, results)
            if any(s != "ok" for s, _ in results.values()):
                return await self._caught(e, ["Ship", "Charge"])
            return self._end(e, "SUCCEEDED", "committed")
        await self._compensate(e)

    async def _branch(self, e: Execution, state: str, results: dict) -> None:
        results[state] = await self._task(e, state)

    async def _caught(self, e: Execution, states: list[str]) -> None:
        self.ctx.note("caught", execution=e.name)
        if not self.config.compensate:
            return self._end(e, "FAILED", "caught")
        steps = [UNDO[s] for s in states if s in e.tokens or s in e.attempts]
        if not self.config.persist_compensation:
            self._end(e, "FAILED", "compensated")
            e.catch = steps
            return await self._compensate(e)
        self._record("catch", e.name, steps)
        await self._compensate(e)

    async def _compensate(self, e: Execution) -> None:
        for step in e.catch or ():
            await self._task(e, step, compensation=True)
        if e.end is None:
            self._end(e, "FAILED", "compensated")
        self.ctx.note("compensated", execution=e.name)

    def _end(self, e: Execution, status: str, outcome: str) -> None:
        self._record("end", e.name, status, outcome)
        self.ctx.note("execution-ended", execution=e.name, outcome=outcome)

    async def _task(self, e: Execution, state: str, compensation: bool = False) -> tuple[str, object]:
        """Run a task state to its result: enter it (minting its token), attempt it with the Retrier, record the
        result. A state already finished in the log returns its recorded result."""
        cfg = self.config
        if state in e.results:
            return e.results[state]
        persist = cfg.persist_before_act or compensation or cfg.mode == "express"
        token = e.tokens.get(state)
        if token is None:
            self.minted += 1
            token = f"{e.name}/{state}/{self.ctx.incarnation}.{self.minted}"
            self._record("enter", e.name, state, token, durable=None if persist else False)
        sent_token = None if state == "Charge" and not cfg.charge_token else token
        of = None
        if compensation:
            forward = next(s for s, u in UNDO.items() if u == state)
            of = None if forward == "Charge" and not cfg.charge_token else e.tokens.get(forward)
        result: tuple[str, object] = ("failed", "States.Timeout")
        while True:
            n = e.attempts.get(state, 0) + 1
            bounded = cfg.bounded_retries and not compensation  # a compensation is retried until it is done
            if bounded and n > cfg.max_attempts:
                break
            if n > 1:
                self.ctx.note("retry", state=state, attempt=n)
                await trio.sleep(cfg.delay(n - 1) * self.ctx.random.uniform(0.5, 1.0))
            self._record("attempt", e.name, state, n)
            reply = await self.ctx.call(WORKERS[(n - 1) % len(WORKERS)],
                                        Task(e.name, e.order, e.kind, ACTIONS[state], sent_token, n, self.ctx.now(),
                                             of, compensation), timeout=cfg.task_timeout)
            if isinstance(reply, TaskResult) and reply.status == "ok":
                result = ("ok", reply.data)
                break
            result = ("failed", reply.data if isinstance(reply, TaskResult) else "States.Timeout")
        if not persist:  # the bug: the entry (with its token) is written only now
            self._record("enter", e.name, state, token)
        self._record("done", e.name, state, *result)
        return result
