"""The control plane: the placement, which counts concurrency slots, and the frontends (the Invoke API), which queue
asynchronous events and run attempts."""

from __future__ import annotations

import trio

from faultlab import Fail, Node, Ok, Unknown, handler
from protocols.lambda_.config import CALL_TIMEOUT, LEASE_GRACE, LambdaConfig
from protocols.lambda_.messages import (
    Acquire,
    AttemptResult,
    CountSlots,
    Dispatch,
    Enqueue,
    GetFunctionConfiguration,
    Granted,
    Invoke,
    InvokeSync,
    ReadSlots,
    Release,
    Released,
    Run,
    Slots,
    TakeSlot,
)


# -- the placement: concurrency slots --------------------------------------------------------------------------------
class Placement(Node[LambdaConfig]):
    """Counts the slots taken against the concurrency limit. Durable: ``slots``, a tuple of (lease, expires)."""

    def _held(self) -> tuple:
        if not self.config.slot_leases:  # a bare counter: n slots taken, by nobody in particular
            return tuple((f"slot{i + 1}", None) for i in range(self.storage.get("count", 0)))
        now = self.ctx.now()
        return tuple(s for s in self.storage.get("slots", ()) if s[1] is None or s[1] > now)

    def _take(self, lease: str, expires: float | None) -> None:
        if not self.config.slot_leases:
            self.storage.save(count=self.storage.get("count", 0) + 1)
        else:
            self.storage.save(slots=self._held() + ((lease, expires),))

    @handler
    def on_acquire(self, msg: Acquire) -> Granted:
        held = self._held()
        if self.config.slot_leases and any(s[0] == msg.lease for s in held):
            return Granted(True)  # a retried request: the slot is already this lease's
        if msg.expires is not None and msg.expires <= self.ctx.now():
            return Granted(False)  # arrived after its own deadline: nothing could run under it
        if len(held) >= self.config.concurrency_limit:
            self.ctx.note("throttled")
            return Granted(False)
        self._take(msg.lease, msg.expires)
        return Granted(True)

    @handler
    def on_count_slots(self, msg: CountSlots) -> Slots:
        return Slots(tuple(s[0] for s in self._held()))

    @handler
    def on_take_slot(self, msg: TakeSlot) -> Granted:
        if not any(s[0] == msg.lease for s in self._held()):
            self._take(msg.lease, msg.expires)
        return Granted(True)

    @handler
    def on_release(self, msg: Release) -> Released:
        if not self.config.slot_leases:  # whoever releases, one fewer: a retried release counts twice
            self.storage.save(count=max(0, self.storage.get("count", 0) - 1))
            return Released()
        held = self._held()
        if any(s[0] == msg.lease for s in held):
            self.storage.save(slots=tuple(s for s in held if s[0] != msg.lease))
        return Released()

    @handler
    def on_read_slots(self, msg: ReadSlots) -> Ok:
        return Ok({"held": sorted(s[0] for s in self._held())})

    @handler
    def on_get_function_configuration(self, msg: GetFunctionConfiguration) -> Ok:
        return Ok(self.config.function_configuration())


# -- frontends -------------------------------------------------------------------------------------------------------
class Frontend(Node[LambdaConfig]):
    """The Invoke API: queues asynchronous events, and runs an attempt (a client's synchronous invoke or one the
    asynchronous invoker dispatches): take a slot, pick a worker, wait for the result until the deadline."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.seq = 0
        self.counting = trio.Lock()  # the non-atomic design still counts one request at a time per frontend

    @handler
    async def on_invoke(self, msg: Invoke) -> Ok | Unknown:
        if await self.ctx.call("events", Enqueue(msg.event), CALL_TIMEOUT) is None:
            return Unknown("the event queue did not acknowledge: queued or not")
        return Ok(msg.event[0])

    @handler
    async def on_invoke_sync(self, msg: InvokeSync) -> Ok | Fail | Unknown:
        outcome = await self._attempt(msg.event, f"s{msg.event[0]}", self.ctx.now() + self.config.lease_time)
        if outcome == "ok":
            return Ok(msg.event[0])
        if outcome == "throttled":
            return Fail("TooManyRequestsException: concurrency limit reached")
        if outcome in ("error", "not-started"):
            return Fail(f"the function {'raised' if outcome == 'error' else 'did not run'}")
        return Unknown(f"{outcome}: the side effect may or may not have happened")

    @handler
    async def on_dispatch(self, msg: Dispatch) -> AttemptResult:
        return AttemptResult(await self._attempt(msg.event, msg.exec_id, msg.deadline))

    async def _attempt(self, event: tuple, exec_id: str, deadline: float) -> str:
        self.seq += 1
        lease = f"{self.id}.{self.ctx.incarnation}.{self.seq}"
        expires = deadline + LEASE_GRACE if self.config.slot_expiry and self.config.slot_leases else None
        granted = await self._acquire(lease, expires)
        if granted is None:
            return "not-started"
        if not granted:
            return "throttled"
        workers = self.config.worker_ids()
        worker = workers[self.ctx.choose(len(workers))]  # where the placement puts it: the environment's choice
        reply = await self.ctx.call(worker, Run(event, exec_id, lease, deadline),
                                    max(0.0, deadline - self.ctx.now()) + LEASE_GRACE)
        return reply.outcome if reply is not None else "unknown"

    async def _acquire(self, lease: str, expires: float | None) -> bool | None:
        if self.config.atomic_acquire:
            reply = await self.ctx.call("placement", Acquire(lease, expires), CALL_TIMEOUT)
            return None if reply is None else reply.granted
        async with self.counting:
            slots = await self.ctx.call("placement", CountSlots(), CALL_TIMEOUT)
            if slots is None:
                return None
            if len(slots.held) >= self.config.concurrency_limit:
                return False
            # The gap: another frontend may count the same free slot before this one takes it.
            taken = await self.ctx.call("placement", TakeSlot(lease, expires), CALL_TIMEOUT)
            return None if taken is None else True
