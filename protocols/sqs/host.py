"""The SQS storage host: it stores queue messages durably and serves receives, visibility changes and deletes.

A standard queue keeps a copy of every message on each of the hosts; each copy has its own visibility deadline and
receive count, and a host that serves a receive, a visibility change or a delete tells the other hosts (best
effort, no answer awaited), which is how a copy on a host that was unreachable stays visible or undeleted. A FIFO
queue keeps each message group on one host, its home (``home_of``), which serves the group alone: its group lock,
its deduplication ids and its visibility deadlines are one host's synced state.

Deadlines are instants of the host's own clock (``ctx.now()``); visibility timeouts sent between hosts are
durations, so a peer applies them on its clock.
"""

from __future__ import annotations

import attrs
import trio

from faultlab import Node, Ok, Unknown, handler

from .config import SqsConfig

GROUPS = ("g1", "g2")
HOSTS = ("h1", "h2", "h3")
REPLICATE_TIMEOUT = 0.5  # under the client's 1 s per attempt, so a slow peer still leaves time to answer


def home_of(group: str) -> str:
    """The FIFO host of a message group (and the standard queue's coordinator for a send to it)."""
    return HOSTS[GROUPS.index(group) % 2] if group in GROUPS else HOSTS[0]


# -- messages --------------------------------------------------------------------------------------------------------
@attrs.frozen
class Send:  # client to a host: enqueue one message (copy: the standard queue's message id for this attempt)
    id: int
    group: str
    poison: bool
    copy: str


@attrs.frozen
class Receive:  # client to a host: up to ``limit`` messages, waiting up to ``wait`` seconds (long polling)
    limit: int
    wait: float
    visibility: float


@attrs.frozen
class Received:
    messages: tuple  # dicts {"copy", "id", "group", "poison", "receipt", "receives"}


@attrs.frozen
class ChangeVisibility:  # client to a host: each receipt's message invisible for ``seconds`` from now (0: release)
    receipts: tuple
    seconds: float


@attrs.frozen
class Delete:
    receipt: str


@attrs.frozen
class Done:  # a visibility change's or a delete's answer: which receipts were valid
    ok: tuple


@attrs.frozen
class ReadDlq:
    pass


# Between hosts (standard queue only).
@attrs.frozen
class Store:
    message: dict


@attrs.frozen
class Stored:
    pass


@attrs.frozen
class Hide:  # a peer's copy of ``copy`` invisible for ``seconds`` from now on the peer's clock
    copy: str
    seconds: float


@attrs.frozen
class Forget:  # a peer deleted ``copy`` (or moved it to its dead-letter queue): drop this host's copy
    copy: str


class QueueHost(Node[SqsConfig]):
    """One storage host. Durable state: ``("m", copy)`` -> message record, ``index`` (live copies in arrival order),
    ``dlq`` (dead-lettered records), ``dedup`` (FIFO: (id, accepted at) within the window), ``gone`` (copies deleted
    here, so a late replica of one is not stored again)."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.changed = trio.Event()  # set when a message may have become receivable (long polls wake up)

    def _save(self) -> None:
        if self.config.sync:
            self.storage.sync()
        self.changed.set()
        self.changed = trio.Event()

    def _put(self, rec: dict) -> None:
        st = self.storage
        st[("m", rec["copy"])] = rec
        if rec["copy"] not in st.get("index", ()):
            st["index"] = st.get("index", ()) + (rec["copy"],)

    def _remove(self, copy: str) -> None:
        st = self.storage
        st.delete(("m", copy))
        st["index"] = tuple(c for c in st.get("index", ()) if c != copy)
        st["gone"] = st.get("gone", ()) + (copy,)

    def _live(self) -> list[dict]:
        return [self.storage[("m", c)] for c in self.storage.get("index", ())]

    def _peers(self, msg) -> None:
        if not self.config.fifo:
            for peer in self.ctx.peers:
                self.ctx.send(peer, msg)

    # -- sends ---------------------------------------------------------------------------------------------------
    @handler
    async def on_send(self, msg: Send) -> Ok | Unknown:
        rec = {"copy": msg.copy, "id": msg.id, "group": msg.group, "poison": msg.poison, "visible_at": 0.0,
               "receives": 0, "receipt": None}
        if self.config.fifo:
            return self._send_fifo({**rec, "copy": str(msg.id)})  # FIFO: the deduplication id names the message
        if msg.copy not in self.storage.get("gone", ()) and ("m", msg.copy) not in self.storage:
            self._put(rec)
            self._save()
        need = self.config.ack_after - 1
        acks = await self.ctx.gather(self.ctx.peers, Store(rec), need=need, timeout=REPLICATE_TIMEOUT)
        if len(acks) >= need:
            return Ok(msg.id)
        return Unknown(f"stored on {1 + len(acks)} of the {self.config.ack_after} hosts the send waits for")

    def _send_fifo(self, rec: dict) -> Ok:
        st, now = self.storage, self.ctx.now()
        dedup = tuple((i, t) for i, t in st.get("dedup", ()) if t > now - self.config.dedup_window)
        live = ("m", rec["copy"]) in st
        seen = any(i == rec["id"] for i, _ in dedup)
        if seen and (self.config.dedup_after_delete or live):
            self.ctx.note("deduplicated", id=rec["id"])
            st["dedup"] = dedup
            self._save()
            return Ok(rec["id"])
        if live:  # the window passed while the message is still queued: the same id is queued once more
            rec = {**rec, "copy": f"{rec['copy']}+{now:g}"}
        st["dedup"] = tuple((i, t) for i, t in dedup if i != rec["id"]) + ((rec["id"], now),)
        self._put(rec)
        self._save()
        return Ok(rec["id"])

    @handler
    def on_store(self, msg: Store) -> Stored:
        copy = msg.message["copy"]
        if copy not in self.storage.get("gone", ()) and ("m", copy) not in self.storage:
            self._put(dict(msg.message))
            self._save()
        return Stored()

    # -- receives ------------------------------------------------------------------------------------------------
    @handler
    async def on_receive(self, msg: Receive) -> Received:
        deadline = self.ctx.now() + msg.wait
        while True:
            got = self._take(msg.limit, msg.visibility)
            now = self.ctx.now()
            if got or now >= deadline:
                return Received(tuple(got))
            wake = min([deadline] + [r["visible_at"] for r in self._live() if r["visible_at"] > now])
            changed = self.changed
            with trio.move_on_after(max(wake - now, 0.001)):
                await changed.wait()

    def _redrive(self, rec: dict) -> bool:
        """Move ``rec`` to the dead-letter queue if it was received maxReceiveCount times already."""
        if not (self.config.dlq and rec["receives"] >= self.config.max_receive_count):
            return False
        self._remove(rec["copy"])
        self.storage["dlq"] = self.storage.get("dlq", ()) + (rec,)
        self.ctx.note("redrive", id=rec["id"], receives=rec["receives"])
        return True

    def _candidates(self) -> list[dict]:
        now = self.ctx.now()
        live = self._live()
        if not self.config.fifo:
            visible = [r for r in live if r["visible_at"] <= now]
            if len(visible) > 1 and self.ctx.choose(2):
                visible[0], visible[1] = visible[1], visible[0]  # best-effort order: copies come from anywhere
            return visible
        for group in dict.fromkeys(r["group"] for r in live):
            msgs = [r for r in live if r["group"] == group]
            if self.config.group_lock and any(r["visible_at"] > now for r in msgs):
                continue  # a batch of this group is in flight
            visible = [r for r in msgs if r["visible_at"] <= now]
            if visible:
                return visible
        return []

    def _take(self, limit: int, visibility: float) -> list[dict]:
        now = self.ctx.now()
        out: list[dict] = []
        redriven = True
        while redriven and not out:  # a message redriven from a FIFO group's head: the group's next one is due
            redriven = False
            for rec in self._candidates():
                if len(out) >= limit:
                    break
                if self._redrive(rec):
                    redriven = True
                    if self.config.fifo:
                        break
                    continue
                receives = rec["receives"] + 1
                receipt = f"{self.id}/{rec['copy']}/{receives}"
                if receives > 1:
                    self.ctx.note("redelivery", id=rec["id"], receives=receives)
                out.append({"copy": rec["copy"], "id": rec["id"], "group": rec["group"], "poison": rec["poison"],
                            "receipt": receipt, "receives": receives})
                if self.config.visibility:
                    self._put({**rec, "visible_at": now + visibility, "receives": receives, "receipt": receipt})
                    self._peers(Hide(rec["copy"], visibility))
                else:  # delete on receive
                    self._remove(rec["copy"])
                    self._peers(Forget(rec["copy"]))
            if redriven or out:
                self._save()
        return out

    # -- visibility and deletes ----------------------------------------------------------------------------------
    def _valid(self, receipt: str) -> dict | None:
        copy = receipt.split("/")[1]
        rec = self.storage.get(("m", copy))
        if rec is None or rec["receipt"] != receipt:
            return None
        if self.config.fifo and rec["visible_at"] <= self.ctx.now():
            return None  # a FIFO receipt handle expires with its visibility timeout
        return rec

    @handler
    def on_change_visibility(self, msg: ChangeVisibility) -> Done:
        ok = []
        for receipt in msg.receipts:
            rec = self._valid(receipt)
            ok.append(rec is not None)
            if rec is not None:
                self._put({**rec, "visible_at": self.ctx.now() + msg.seconds})
                self._peers(Hide(rec["copy"], msg.seconds))
        if any(ok):
            self._save()
        return Done(tuple(ok))

    @handler
    def on_delete(self, msg: Delete) -> Done:
        rec = self._valid(msg.receipt)
        if rec is None:
            return Done((False,))
        self._remove(rec["copy"])
        self._save()
        self._peers(Forget(rec["copy"]))
        return Done((True,))

    @handler
    def on_hide(self, msg: Hide) -> None:
        rec = self.storage.get(("m", msg.copy))
        if rec is not None:
            self._put({**rec, "visible_at": self.ctx.now() + msg.seconds})
            self._save()

    @handler
    def on_forget(self, msg: Forget) -> None:
        if ("m", msg.copy) in self.storage:
            self._remove(msg.copy)
            self._save()

    @handler
    def on_read_dlq(self, msg: ReadDlq) -> Ok:
        return Ok([{"id": r["id"], "group": r["group"], "copy": r["copy"], "receives": r["receives"]}
                   for r in self.storage.get("dlq", ())])
