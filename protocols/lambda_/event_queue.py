"""The durable event queue of asynchronous invocations and the invoker that drains it: retries, backoff, the
maximum event age and the on-failure destination."""

from __future__ import annotations

import trio

from faultlab import Node, handler
from protocols.lambda_.config import CALL_TIMEOUT, FRONTENDS, LEASE_GRACE, RESEND_INTERVAL, LambdaConfig
from protocols.lambda_.messages import Dispatch, Enqueue, Queued, ToDestination


# -- the event queue and the asynchronous invoker --------------------------------------------------------------------
class EventQueue(Node[LambdaConfig]):
    """The durable queue of asynchronous events and the invoker that drains it: each event is attempted through a
    frontend; throttles and system errors are retried with backoff until the maximum event age (a throttle pauses
    the whole invoker for the backoff, so a throttled function is not flooded with retries), function errors
    ``maximum_retry_attempts`` times after ``retry_delay`` (doubling); then the event goes to the on-failure
    destination. Durable: ``("ev", id)`` per event (its state) and ``order``."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.inflight: set[int] = set()
        self.paused_until = 0.0  # throttled: no new attempt before this (the invoker slows down as a whole)
        self.wake = trio.Event()  # set when something changed: the invoker looks again

    def start(self) -> None:
        self.ctx.spawn(self._invoker)

    async def _invoker(self) -> None:
        """Start what is due, then sleep until the next thing is (or something changes: an event queued, an attempt
        done). Not a periodic poll: an idle queue costs the simulation nothing."""
        while True:
            self.wake = trio.Event()
            delay = self._poll()
            if delay is None:
                await self.wake.wait()
            else:
                with trio.move_on_after(delay):
                    await self.wake.wait()

    async def _group_commit(self) -> None:
        await trio.sleep(1.0)  # what was acknowledged is synced within a second
        self.storage.sync()

    def _rec(self, eid: int) -> dict:
        return dict(self.storage[("ev", eid)])

    def _put(self, rec: dict, sync: bool = True) -> None:
        self.storage[("ev", rec["id"])] = rec
        if sync:
            self.storage.sync()

    @handler
    def on_enqueue(self, msg: Enqueue) -> Queued:
        eid = msg.event[0]
        if ("ev", eid) not in self.storage:
            self.storage["order"] = self.storage.get("order", ()) + (eid,)
            self._put({"id": eid, "event": tuple(msg.event), "state": "pending", "accepted": self.ctx.now(),
                       "tries": 0, "errors": 0, "throttles": 0, "next": self.ctx.now(), "busy_until": 0.0},
                      sync=self.config.durable_enqueue)
            if not self.config.durable_enqueue:
                self.ctx.spawn(self._group_commit)
            self.wake.set()
        return Queued()

    def _poll(self) -> float | None:
        """Start each due attempt (and each send to the destination); the seconds until the next falls due, or None
        when nothing will without a change."""
        now = self.ctx.now()
        due: list[float] = []
        for eid in self.storage.get("order", ()):
            if eid in self.inflight:
                continue
            rec = self.storage[("ev", eid)]
            if rec["state"] == "to-destination":
                self.inflight.add(eid)
                self.ctx.spawn(self._to_destination, eid)
            elif rec["state"] == "pending":
                at = max(rec["next"], rec["busy_until"], self.paused_until)
                if at > now:
                    due.append(at - now)
                elif len(self.inflight) < self.config.invoker_parallelism:
                    self.inflight.add(eid)
                    self.ctx.spawn(self._attempt, eid)
        return min(due) if due else None

    async def _attempt(self, eid: int) -> None:
        cfg = self.config
        try:
            rec = self._rec(eid)
            rec["tries"] += 1
            now = self.ctx.now()
            deadline = now + cfg.lease_time
            wait = cfg.invoke_timeout or (deadline - now + 2 * LEASE_GRACE)
            rec["busy_until"] = now + wait  # a new incarnation waits this out: the attempt may still be running
            self._put(rec)
            fe = FRONTENDS[self.ctx.choose(len(FRONTENDS))]  # the load balancer's choice
            reply = await self.ctx.call(fe, Dispatch(rec["event"], f"{eid}.{rec['tries']}", deadline), wait)
            self._settle(eid, reply.outcome if reply is not None else "unknown")
        finally:
            self.inflight.discard(eid)
            self.wake.set()

    def _settle(self, eid: int, outcome: str) -> None:
        cfg = self.config
        rec = self._rec(eid)
        rec["busy_until"] = 0.0
        now = self.ctx.now()
        if outcome == "ok":
            rec["state"] = "done"
            self.ctx.note("processed", event_id=eid, tries=rec["tries"])
        elif cfg.retry_policy == "immediate":
            rec["errors"] += 1
            self.ctx.note("retry", event_id=eid, outcome=outcome)
            rec["next"] = now
            if rec["errors"] > cfg.maximum_retry_attempts:
                self._give_up(rec, "retries-exhausted")
        elif outcome in ("error", "timeout") or (outcome == "unknown" and cfg.invoke_timeout > 0):
            rec["errors"] += 1
            self.ctx.note("function_error", event_id=eid, outcome=outcome)
            if rec["errors"] > cfg.maximum_retry_attempts:
                self._give_up(rec, "retries-exhausted")
            else:
                rec["next"] = now + cfg.retry_delay * 2 ** (rec["errors"] - 1)
        else:  # throttled, not started, or no answer by the deadline: not the function's failure
            rec["throttles"] += 1
            self.ctx.note("retry", event_id=eid, outcome=outcome)
            backoff = min(cfg.backoff_max, cfg.backoff_base * 2 ** (rec["throttles"] - 1))
            rec["next"] = now + backoff / 2 + self.ctx.random.uniform(0.0, backoff / 2)  # equal jitter
            if outcome == "throttled":  # every event would be: back off as a whole, not one event at a time
                self.paused_until = max(self.paused_until, rec["next"])
        if rec["state"] == "pending" and now - rec["accepted"] >= cfg.maximum_event_age:
            self._give_up(rec, "maximum-event-age")
        self._put(rec)

    def _give_up(self, rec: dict, reason: str) -> None:
        rec["reason"], rec["failed_at"] = reason, self.ctx.now()
        if self.config.on_failure_destination:
            rec["state"] = "to-destination"  # durable before the send: no attempt after this
        else:
            rec["state"] = "dropped"
            self.ctx.note("dropped", event_id=rec["id"], reason=reason)

    async def _to_destination(self, eid: int) -> None:
        try:
            rec = self._rec(eid)
            entry = {"event": eid, "reason": rec["reason"], "at": rec["failed_at"], "tries": rec["tries"],
                     "errors": rec["errors"]}
            while await self.ctx.call("destination", ToDestination(entry), CALL_TIMEOUT) is None:
                await trio.sleep(RESEND_INTERVAL)
            rec["state"] = "failed"
            self._put(rec)
            self.ctx.note("sent_to_destination", event_id=eid, reason=rec["reason"])
        finally:
            self.inflight.discard(eid)
            self.wake.set()
