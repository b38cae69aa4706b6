"""The task workers and the external service (payments, shipping, notifications) the saga acts on.

A worker relays a task attempt to the service and its result back (a crashed worker loses the attempts it was
carrying: the executor times out and retries on the other worker). The service is the system of record of the
model: it keeps, synced, a ledger of every effect it applied (charge, refund, ship, cancel-shipment, notify) and of
every attempt it received, which the final phase reads so the invariants can see duplicates and half-done sagas.

The service deduplicates by idempotency token: an attempt whose token it has applied gets the recorded result again,
with no new effect. A compensation names the token of the forward task it undoes (``of``): if that task was applied
it is undone once; if not, the token is voided, so a late attempt of the forward task (a delayed or duplicated
message) is refused instead of applied after its saga was compensated (the "cancel before try" of a saga's semantic
lock). A compensation without a token to name (the charge sent without one) refunds one unrefunded charge of the
order, if there is one.

The environment's failures (``ctx.choose``, steered by the search): an attempt may fail with a transient error, or be
applied and then not answered (a timeout after the effect, the case idempotency exists for). Transient failures
happen only before an attempt's last try (attempt < max_attempts): the model's premise that a transient error
clears within the retry budget, so that only an order's permanent error (a declined card, an item out of stock, an
unreachable customer) exhausts a Retry.
"""

from __future__ import annotations

from faultlab import Node, Ok, handler

from .config import StepFunctionsConfig
from .messages import ReadLedger, Task, TaskResult

SERVICE = "svc"
WORKERS = ("w1", "w2")

PERMANENT = {"charge": "declined", "ship": "out-of-stock", "notify": "unreachable"}
UNDOES = {"refund": "charge", "cancel-shipment": "ship"}


class Worker(Node[StepFunctionsConfig]):
    """Relays task attempts to the service; no state of its own."""

    @handler
    async def on_task(self, msg: Task) -> TaskResult | None:
        return await self.ctx.call(SERVICE, msg, timeout=self.config.task_timeout)


class Service(Node[StepFunctionsConfig]):
    """The payments, shipping and notification service, with its ledger (every write synced before it answers)."""

    @handler
    def on_task(self, msg: Task) -> TaskResult | None:
        st = self.storage
        if msg.token is not None and ("done", msg.token) in st:
            self._attempt(msg, "deduplicated")
            self.ctx.note("deduplicated", action=msg.action, execution=msg.execution)
            return TaskResult("ok", st[("done", msg.token)])
        if msg.attempt < self.config.max_attempts:
            fault = self.ctx.choose(3)
            if fault == 1:
                self._attempt(msg, "transient")
                return TaskResult("retryable", "ServiceUnavailable")
        else:
            fault = 0
        if msg.compensation:
            result = self._undo(msg)
        else:
            result = self._apply(msg)
        if fault == 2:
            self.ctx.note("reply-withheld", action=msg.action)
            return None
        return result

    def _apply(self, msg: Task) -> TaskResult:
        st = self.storage
        if msg.token is not None and ("void", msg.token) in st:
            self._attempt(msg, "voided")
            self.ctx.note("voided", action=msg.action, execution=msg.execution)
            return TaskResult("permanent", "Voided")
        if msg.action == "validate":
            data = msg.kind != "invalid"
        elif PERMANENT.get(msg.action) == msg.kind:
            self._attempt(msg, "permanent")
            return TaskResult("permanent", msg.kind)
        else:
            data = self._effect(msg, msg.action)
            net = ("net", msg.order, msg.action)
            st[net] = st.get(net, 0) + 1
        self._attempt(msg, "applied")
        if msg.token is not None:
            st[("done", msg.token)] = data
        st.sync()
        return TaskResult("ok", data)

    def _undo(self, msg: Task) -> TaskResult:
        st = self.storage
        target = UNDOES[msg.action]
        if msg.of is not None:
            if ("done", msg.of) in st and ("undone", msg.of) not in st:
                self._effect(msg, msg.action)
                st[("undone", msg.of)] = True
                st[("net", msg.order, target)] = st.get(("net", msg.order, target), 0) - 1
            elif ("done", msg.of) not in st:
                st[("void", msg.of)] = True
        elif st.get(("net", msg.order, target), 0) > 0:
            self._effect(msg, msg.action)
            st[("net", msg.order, target)] -= 1
        self._attempt(msg, "applied")
        if msg.token is not None:
            st[("done", msg.token)] = None
        st.sync()
        return TaskResult("ok", None)

    def _effect(self, msg: Task, action: str) -> int:
        seq = len(self.storage.read_log("effects")) + 1
        self.storage.append("effects", (seq, action, msg.order, msg.token, msg.of, msg.execution, self.ctx.now()))
        return seq

    def _attempt(self, msg: Task, result: str) -> None:
        self.storage.append("attempts", (msg.execution, msg.order, msg.action, msg.token, msg.attempt, msg.sent_at,
                                         msg.compensation, result, self.ctx.now()))
        self.storage.sync()

    @handler
    def on_read(self, msg: ReadLedger) -> Ok:
        effects = [dict(zip(("seq", "action", "order", "token", "of", "execution", "at"), r.record, strict=True))
                   for r in self.storage.read_log("effects")]
        fields = ("execution", "order", "action", "token", "attempt", "sent_at", "compensation", "result", "at")
        attempts = [dict(zip(fields, r.record, strict=True)) for r in self.storage.read_log("attempts")]
        cfg = self.config
        policy = {"max_attempts": cfg.max_attempts, "interval": cfg.interval, "backoff_rate": cfg.backoff_rate,
                  "max_delay": cfg.max_delay, "jitter_min": 0.5}
        return Ok({"effects": effects, "attempts": attempts, "retry": policy})
