"""Producers and consumers: the client side of SQS, where sends are retried and messages processed.

A producer's ``send`` goes to the group's home host (for a standard queue just the host that coordinates the
replication) and is retried once, after ``retry_delay``, when no acknowledgement came, or when the environment
chooses an application-level retry after an acknowledgement (the producer did not see it, or restarted): the same
message, the same FIFO deduplication id; for a standard queue a retry is a new queue message.

A consumer's ``consume`` is one "receive, process, delete" cycle at one host. For each message, in order, the
environment chooses how processing goes: quick, slower, stalled (``stall_time``, past the visibility timeout) or a
crash (the consumer dies holding the rest of its batch: nothing is released or deleted). A poison message always
fails: the consumer releases it (visibility 0). The first message not processed ends the batch: the rest are
released, so a FIFO group stays in order. A careful consumer (``heartbeat``) extends the visibility of what it holds
every half timeout while it works, and (``lease_check``) performs the side effect only while its lease (the
receive request's time plus the timeout, moved on by each acknowledged extension) is still running; otherwise it
abandons the message. After the side effect it deletes by receipt handle, retrying once.

The log a consume returns (see :mod:`invariants.queues`) is the application's record of what the consumer did,
with the times it saw; its side effects happened whatever became of the consumer, so it ends ``ok``.
"""

from __future__ import annotations

import trio

from faultlab import Fail, Ok, Unknown

from .host import HOSTS, ChangeVisibility, Delete, Done, ReadDlq, Receive, Received, Send, home_of

CALL_TIMEOUT = 1.0
QUICK, SLOW = 0.2, 1.0
DRAIN_POLLS = 40


async def _call(api, msg, node: str, timeout: float = CALL_TIMEOUT):
    with trio.move_on_after(timeout):
        return await api.call(msg, node=node)
    return None


async def send(api, value: dict, final: bool = False) -> Ok | Unknown:
    cfg = api.config
    host = home_of(value["group"])
    acked = False
    for attempt in (1, 2):
        reply = await _call(api, Send(value["id"], value["group"], value["poison"], f"{value['id']}.{attempt}"),
                            host)
        acked = acked or isinstance(reply, Ok)
        if attempt == 2 or (acked and (final or not api.choose(2))):
            break
        await trio.sleep(cfg.retry_delay)  # no ack, or the application sends it again
    return Ok(value) if acked else Unknown("no host acknowledged the send")


class Consumer:
    def __init__(self, api, host: str, final: bool):
        self.api, self.host, self.final = api, host, final
        self.cfg = api.config
        self.log = {"host": host, "visibility": self.cfg.visibility_timeout, "polls": [], "held": [],
                    "crashed": False}

    async def run(self, polls: int) -> dict:
        empty = 0
        for b in range(polls):
            n = await self._cycle(b)
            if self.log["crashed"]:
                break
            empty = 0 if n else empty + 1
            if self.final and empty >= 2:
                break
        return self.log

    async def _cycle(self, b: int) -> int:
        cfg, V = self.cfg, self.cfg.visibility_timeout
        wait = V + 1.0 if self.final else cfg.wait_time
        t_req = trio.current_time()
        reply = await _call(self.api, Receive(cfg.batch_size, wait, V), self.host, wait + CALL_TIMEOUT)
        got = reply.messages if isinstance(reply, Received) else ()
        self.log["polls"].append({"at": t_req, "got": trio.current_time() if reply is not None else None,
                                  "n": len(got)})
        batch = [{"id": m["id"], "group": m["group"], "copy": m["copy"], "poison": m["poison"], "batch": b,
                  "receipt": m["receipt"], "receives": m["receives"], "received": [t_req, trio.current_time()],
                  "lease": t_req + V, "outcome": None, "processed_at": None, "released_at": None,
                  "deleted": None} for m in got]
        self.log["held"].extend(batch)
        for i, e in enumerate(batch):
            how = 0 if self.final else self.api.choose(4)
            if how == 3 and not e["poison"]:
                self.log["crashed"] = True
                for rest in batch[i:]:
                    rest["outcome"] = "dropped"
                return len(batch)
            await self._work(QUICK if e["poison"] else (QUICK, SLOW, cfg.stall_time)[how], batch[i:])
            if e["poison"]:
                e["outcome"] = "failed"
            elif cfg.lease_check and trio.current_time() >= e["lease"]:
                e["outcome"] = "abandoned"
            else:
                e["outcome"], e["processed_at"] = "processed", trio.current_time()
                await self._delete(e)
                continue
            rest = batch[i + 1:]
            for r in rest:
                r["outcome"] = "released" if e["outcome"] == "failed" else "abandoned"
            if e["outcome"] == "failed":
                await self._release([e] + rest)
            return len(batch)
        return len(batch)

    async def _work(self, seconds: float, held: list[dict]) -> None:
        V = self.cfg.visibility_timeout
        end = trio.current_time() + seconds
        while trio.current_time() < end:
            await trio.sleep(min(end - trio.current_time(), V / 2) if self.cfg.heartbeat else seconds)
            if not self.cfg.heartbeat or trio.current_time() >= end:
                break
            t = trio.current_time()
            reply = await _call(self.api, ChangeVisibility(tuple(e["receipt"] for e in held), V), self.host, V / 4)
            if isinstance(reply, Done):
                for e, ok in zip(held, reply.ok, strict=True):
                    if ok:
                        e["lease"] = max(e["lease"], t + V)

    async def _release(self, entries: list[dict]) -> None:
        t = trio.current_time()
        for e in entries:
            e["released_at"] = t
        await _call(self.api, ChangeVisibility(tuple(e["receipt"] for e in entries), 0.0), self.host)

    async def _delete(self, e: dict) -> None:
        for _ in range(2):
            t = trio.current_time()
            if e["deleted"] is None:
                e["deleted"] = [t, None]
            reply = await _call(self.api, Delete(e["receipt"]), self.host)
            if isinstance(reply, Done):
                if reply.ok[0]:
                    e["deleted"][1] = trio.current_time()
                return


async def client(api, f: str, value) -> Ok | Fail | Unknown:
    if f == "send":
        return await send(api, value)
    if f in ("consume", "drain"):
        final = f == "drain"
        return Ok(await Consumer(api, api.node, final).run(DRAIN_POLLS if final else 1))
    if f == "read-dlq":
        messages = []
        for host in HOSTS:
            reply = await _call(api, ReadDlq(), host)
            if not isinstance(reply, Ok):
                return Unknown(f"{host} did not answer")
            messages += reply.value
        return Ok({"max_receive_count": api.config.max_receive_count if api.config.dlq else None,
                   "messages": messages})
    raise ValueError(f"sqs: no operation {f!r}")
