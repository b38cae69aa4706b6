"""DynamoDB Streams + a Lambda event source mapping: change records per item, a poller that checkpoints, handlers
with side effects in other nodes (an aggregate counter, a cache invalidation).

Seed section 14 (DynamoDB Streams + Lambda): "captures every INSERT/UPDATE/DELETE as an ordered stream of events",
"Changes to the same item are processed in order", "Lambda functions consume the stream with exactly-once
processing semantics", and the "Cache invalidation" pattern (Stream -> Lambda -> delete from ElastiCache).

Nodes: ``table`` applies writes and deletes and, in the same synced step, appends a change record (``INSERT``,
``MODIFY``, ``REMOVE``) with a per-item sequence number to its shard; records older than the retention window are
trimmed. ``lambda`` is the event source mapping: it reads a batch after its checkpoint, runs the handler on each
record (increment the aggregate counter in ``aggregate``, delete the item's entry in ``cache``), and only after the
whole batch succeeded stores the new checkpoint; a handler call that gets no answer fails the batch, which is
retried from the checkpoint. ``cache`` serves cache-aside reads: a miss reads the table and fills the entry.

What the design gives, and what it does not: the stream captures every acknowledged change in per-item order, and a
batch is retried until it succeeds (at-least-once). It is not exactly-once: a crash of the poller after a side
effect and before the checkpoint runs the side effect again (the counter double-counts); only an idempotent handler
(``idempotent_handler``: the aggregate remembers applied record ids) makes the effect exactly-once. Cache
invalidation by delete has a race: a reader that missed, read the old item and fills the cache after the
invalidation leaves the cache stale indefinitely; a versioned cache (fills and invalidations carry the item's
sequence number, the cache keeps the highest) closes it. Records live in the shard for ``retention`` seconds only: a
consumer down for longer (the poller crashed, or its handler failing against a crashed node so the batch is retried)
finds them expired and skips them, and those acknowledged changes are never processed (``short-retention``).
"""

from __future__ import annotations

import attrs
import trio

from faultlab import (
    CheckResult,
    Claim,
    ConfigError,
    Fail,
    History,
    Invariant,
    Node,
    Ok,
    Protocol,
    Variant,
    Witness,
    handler,
)
from invariants.ordering import check_per_key_order

KEYS = ("k1", "k2")
CALL_TIMEOUT = 0.5   # how long the poller or the cache waits for another node
POLL_INTERVAL = 0.5  # the event source mapping's idle poll period
FILL_TIMEOUT = 3.0   # how long a cache miss waits for the table (a slow read is where the stale-fill race lives)


# -- messages --------------------------------------------------------------------------------------------------------
# Client requests, each answered with Ok / Fail by the node that serves it (see route).
@attrs.frozen
class Write:
    key: str
    value: int | None  # None: delete the item


@attrs.frozen
class Read:  # an item, from the table: Ok([key, value])
    key: str


@attrs.frozen
class CachedRead:  # an item, through the cache (cache-aside): Ok([key, value])
    key: str


@attrs.frozen
class ReadStream:  # the shard's records, read after recovery
    pass


@attrs.frozen
class Audit:  # the aggregate's counter and the records it applied, read after recovery
    pass


# Between nodes.
@attrs.frozen
class Get:
    key: str


@attrs.frozen
class Item:
    value: int | None
    seq: int  # the item's change sequence number (0: never written)


@attrs.frozen
class GetRecords:
    after: int  # shard position (record id) after which to read
    limit: int


@attrs.frozen
class Records:
    records: tuple  # dicts {"id", "key", "seq", "kind", "value"}
    trimmed_before: int  # records with id below this have expired


@attrs.frozen
class Increment:
    record: dict


@attrs.frozen
class Invalidate:
    key: str
    seq: int


@attrs.frozen
class Ack:
    pass


# -- configuration ---------------------------------------------------------------------------------------------------
@attrs.frozen
class StreamsConfig:
    batch_size: int = attrs.field(default=2, metadata={"help": "records per handler invocation"})
    retention: float = attrs.field(default=86_400.0, metadata={"help": "seconds a record stays in the shard"})
    idempotent_handler: bool = attrs.field(default=True, metadata={
        "help": "the aggregate skips a record id it already applied (the handler is idempotent)"})
    fill_delay: float = attrs.field(default=1.0, metadata={
        "help": "seconds a cache-aside reader spends between its table read and its cache fill (app server work)"})
    versioned_cache: bool = attrs.field(default=True, metadata={
        "help": "cache fills and invalidations carry the item's seq; the cache never goes back to an older one"})

    def __attrs_post_init__(self) -> None:
        if not 1 <= self.batch_size <= 1000:
            raise ConfigError(f"dynamodb-streams: batch_size={self.batch_size} must be between 1 and 1000")
        if not 0 < self.retention <= 10 * 86_400.0:
            raise ConfigError(f"dynamodb-streams: retention={self.retention} must be > 0 seconds and at most 10 days")
        if not 0 <= self.fill_delay <= 60.0:
            raise ConfigError(f"dynamodb-streams: fill_delay={self.fill_delay} must be between 0 and 60 seconds")


# -- nodes -----------------------------------------------------------------------------------------------------------
class Table(Node[StreamsConfig]):
    """The table and its stream shard, in one durable store (a change and its record are written together)."""

    @handler
    def on_write(self, msg: Write) -> Ok:
        st = self.storage
        old, seq = st.get(("item", msg.key), (None, 0))
        if old == msg.value or (msg.value is not None and msg.value in st.get("written", ())):
            return Ok(msg.value)  # no change, or a duplicated request (values are unique): no record
        if msg.value is not None:
            st["written"] = st.get("written", ()) + (msg.value,)
        kind = "REMOVE" if msg.value is None else ("INSERT" if old is None else "MODIFY")
        position = st.get("position", 0) + 1
        record = {"id": position, "key": msg.key, "seq": seq + 1, "kind": kind, "value": msg.value,
                  "at": self.ctx.now()}
        st[("item", msg.key)] = (msg.value, seq + 1)
        st["shard"] = st.get("shard", ()) + (record,)
        st["position"] = position
        st.sync()
        return Ok(msg.value)

    @handler
    def on_read(self, msg: Read) -> Ok:
        value, _ = self.storage.get(("item", msg.key), (None, 0))
        return Ok([msg.key, value])

    @handler
    def on_get(self, msg: Get) -> Item:
        value, seq = self.storage.get(("item", msg.key), (None, 0))
        return Item(value, seq)

    @handler
    def on_get_records(self, msg: GetRecords) -> Records:
        self._trim()
        shard = self.storage.get("shard", ())
        batch = tuple(r for r in shard if r["id"] > msg.after)[: msg.limit]
        return Records(batch, self.storage.get("trimmed", 1))

    @handler
    def on_read_stream(self, msg: ReadStream) -> Ok:
        return Ok([dict(r) for r in self.storage.get("shard", ())])

    def _trim(self) -> None:
        st = self.storage
        shard = st.get("shard", ())
        horizon = self.ctx.now() - self.config.retention
        kept = tuple(r for r in shard if r["at"] >= horizon)
        if len(kept) < len(shard):
            st["trimmed"] = kept[0]["id"] if kept else st.get("position", 0) + 1
            st["shard"] = kept
            st.sync()


class EventSourceMapping(Node[StreamsConfig]):
    """The Lambda poller: batch after the checkpoint, handler per record, checkpoint after the whole batch.

    Not message-driven: it only calls other nodes, so it has no handlers (anything sent to it is an error)."""

    def start(self) -> None:
        self.ctx.spawn(self._poll)

    async def _poll(self) -> None:
        # Not @every: after a successful batch the next is read at once; it waits a poll period only when there was
        # nothing to read or the batch is to be retried.
        st = self.storage
        while True:
            checkpoint = st.get("checkpoint", 0)
            got = await self.ctx.call("table", GetRecords(checkpoint, self.config.batch_size), CALL_TIMEOUT)
            if got is None or not got.records:
                if got is not None and got.trimmed_before > checkpoint + 1:
                    self.ctx.note("records_expired", missed=got.trimmed_before - checkpoint - 1)
                    st["checkpoint"] = got.trimmed_before - 1
                    st.sync()
                await trio.sleep(POLL_INTERVAL)
                continue
            if await self._handle(got.records):
                st["checkpoint"] = got.records[-1]["id"]
                st.sync()
                self.ctx.note("batch_processed", records=len(got.records))
            else:
                self.ctx.note("batch_retry", first=got.records[0]["id"])
                await trio.sleep(POLL_INTERVAL)

    async def _handle(self, records: tuple) -> bool:
        """The handler: its side effects, record by record. False (retry the batch) if any call went unanswered."""
        for r in records:
            if await self.ctx.call("aggregate", Increment(dict(r)), CALL_TIMEOUT) is None:
                return False
            if await self.ctx.call("cache", Invalidate(r["key"], r["seq"]), CALL_TIMEOUT) is None:
                return False
        return True


class Aggregate(Node[StreamsConfig]):
    """Another table holding a counter of changes, with the log of records applied (for the audit)."""

    @handler
    def on_increment(self, msg: Increment) -> Ack:
        st = self.storage
        applied = st.get("applied", ())
        if not (self.config.idempotent_handler and any(a["id"] == msg.record["id"] for a in applied)):
            st["applied"] = applied + (msg.record,)
            st["count"] = st.get("count", 0) + 1
            st.sync()
        return Ack()

    @handler
    def on_audit(self, msg: Audit) -> Ok:
        st = self.storage
        return Ok({"count": st.get("count", 0), "applied": [dict(a) for a in st.get("applied", ())]})


class Cache(Node[StreamsConfig]):
    """ElastiCache in front of the table: cache-aside reads, entries deleted by the stream handler."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.entries: dict[str, tuple[int | None, int]] = {}  # key -> (value, seq); volatile, as a cache is
        self.floor: dict[str, int] = {}  # versioned: the highest seq invalidated per key

    @handler
    def on_invalidate(self, msg: Invalidate) -> Ack:
        self.entries.pop(msg.key, None)
        if self.config.versioned_cache:
            self.floor[msg.key] = max(self.floor.get(msg.key, 0), msg.seq)
        return Ack()

    @handler
    async def on_cached_read(self, msg: CachedRead) -> Ok | Fail:
        key = msg.key
        if key in self.entries:
            return Ok([key, self.entries[key][0]])
        item = await self.ctx.call("table", Get(key), FILL_TIMEOUT)
        if item is None:
            return Fail("the table did not answer the miss")  # a read has no effect of its own
        await trio.sleep(self.config.fill_delay)
        # The race: an invalidation of a newer change may have arrived since we read the table.
        if not self.config.versioned_cache or item.seq >= self.floor.get(key, 0):
            self.entries[key] = (item.value, item.seq)
        return Ok([key, item.value])


# -- requests and workload -------------------------------------------------------------------------------------------
def request(f: str, value) -> Write | Read | CachedRead | ReadStream | Audit:
    if f == "write":
        return Write(value[0], value[1])
    if f == "delete":
        return Write(value, None)
    if f == "read":
        return Read(value)
    if f == "cached-read":
        return CachedRead(value)
    return ReadStream() if f == "read-stream" else Audit()


def route(f: str, value) -> str:
    """Every operation goes to a fixed node: cached reads to the cache, the audit to the aggregate, the rest to the
    table (so the history names the node that served it)."""
    return {"cached-read": "cache", "audit": "aggregate"}.get(f, "table")


def workload(choices, op_index: int) -> tuple[str, object]:
    """Writes of unique values to two items, deletes and cached reads; choice 0 is a write to k1."""
    key = KEYS[choices.choose(len(KEYS))]
    k = choices.choose(4)
    return [("write", [key, op_index + 1]), ("write", [key, op_index + 1]), ("cached-read", key),
            ("delete", key)][k]


def final_ops(config: StreamsConfig) -> list[tuple[str, object, str]]:
    ops = [("read-stream", None), ("audit", None)] + [op for key in KEYS for op in (("read", key), ("cached-read", key))]
    return [(f, value, route(f, value)) for f, value in ops]


# -- invariants ------------------------------------------------------------------------------------------------------
def _final(history: History, f: str):
    ops = [op for op in history.operations() if op.f == f and op.phase == "final" and op.is_ok]
    return ops[-1] if ops else None


def check_changes_captured(history: History) -> CheckResult:
    """Every acknowledged write or delete that changed an item has a record in the final stream, none of a failed
    one, and each item's records follow real-time order of the changes."""
    checker = "changes-captured"
    stream_op = _final(history, "read-stream")
    if stream_op is None:
        return CheckResult.unexercised(checker, "The stream was never read after recovery.")
    stream = stream_op.output or []
    by_value = {(r["key"], r["value"]): r for r in stream if r["value"] is not None}
    for op in history.operations():
        if op.f != "write" or op.phase != "main":
            continue
        key, value = op.input
        rec = by_value.get((key, value))
        if op.is_ok and rec is None:
            return CheckResult.violation(
                checker, f"Let W = {op.describe()}, an acknowledged change of item {key!r}. Then the stream read "
                         f"after recovery ({stream_op.describe()}) has no record of value {value!r}: a change was "
                         f"not captured: a contradiction!", ops=[op.call_index, stream_op.call_index])
        if op.status == "fail" and rec is not None:
            return CheckResult.violation(checker, f"Let W = {op.describe()}, a failed write. Then the stream has "
                                                  f"record {rec!r} of it: a contradiction!", ops=[op.call_index])
    ops = history.operations()
    acked = sorted((op for op in ops if op.f == "write" and op.is_ok and op.phase == "main"), key=lambda o: o.call)
    for a in acked:
        for b in acked:
            if a.input[0] == b.input[0] and a.precedes(b):
                ra, rb = by_value[tuple(a.input)], by_value[tuple(b.input)]
                if not ra["seq"] < rb["seq"]:
                    return CheckResult.violation(
                        checker, f"Let W1 = {a.describe()} and W2 = {b.describe()}: W1 was acknowledged before W2 "
                                 f"began. Then the stream records W2 at seq {rb['seq']} before W1 at seq {ra['seq']}: "
                                 f"a contradiction!", ops=[a.call_index, b.call_index])
    removals = _deletes_that_changed_an_item(ops, acked)
    for d, w in removals:
        rw = by_value[tuple(w.input)]
        if not any(r["key"] == w.input[0] and r["kind"] == "REMOVE" and r["seq"] > rw["seq"] for r in stream):
            return CheckResult.violation(
                checker, f"Let W = {w.describe()} and D = {d.describe()}: W was acknowledged before D began and no "
                         f"other delete of item {w.input[0]!r} could take effect between them, so D removed the item. "
                         f"Then the stream read after recovery has no REMOVE record of {w.input[0]!r} after W's "
                         f"record (seq {rw['seq']}): a change was not captured: a contradiction!",
                ops=[w.call_index, d.call_index, stream_op.call_index])
    if not acked and not removals:
        return CheckResult.unexercised(checker, "No write or delete that changed an item was acknowledged.")
    return CheckResult.holds(checker, f"{len(acked)} acknowledged writes and {len(removals)} deletes that changed an "
                                      f"item each have a record, in order.")


def _deletes_that_changed_an_item(ops: list, acked: list) -> list[tuple]:
    """Acknowledged deletes D that must have removed an item: an acknowledged write W of it completed before D
    began, and every other delete of it (that may have happened) either completed before W began or began after D
    completed. Pairs (D, W), W the latest such write."""
    deletes = [op for op in ops if op.f == "delete" and op.phase == "main" and op.status != "fail"]
    out = []
    for d in deletes:
        if not d.is_ok:
            continue
        before = [w for w in acked if w.input[0] == d.input and w.precedes(d)]
        if not before:
            continue
        w = max(before, key=lambda o: o.returned)
        if all(o is d or o.input != d.input or o.precedes(w) or d.precedes(o) for o in deletes):
            out.append((d, w))
    return out


def check_exactly_once_effects(history: History) -> CheckResult:
    """Each stream record's side effect (one increment of the aggregate counter) happened exactly once."""
    checker = "exactly-once"
    stream_op, audit_op = _final(history, "read-stream"), _final(history, "audit")
    if stream_op is None or audit_op is None:
        return CheckResult.unexercised(checker, "The stream or the aggregate was never read after recovery.")
    applied = audit_op.output["applied"]
    seen: dict[int, int] = {}
    for a in applied:
        seen[a["id"]] = seen.get(a["id"], 0) + 1
    for rid, n in sorted(seen.items()):
        if n > 1:
            rec = next(a for a in applied if a["id"] == rid)
            return CheckResult.violation(
                checker, f"Let r = record {rid} ({rec['kind']} of item {rec['key']!r}, seq {rec['seq']}) of the "
                         f"stream. The aggregate read after recovery ({audit_op.describe().split(' -> ')[0]}) shows "
                         f"its handler's increment applied {n} times, so the counter is "
                         f"{audit_op.output['count']} for {len(seen)} distinct records. Exactly-once processing "
                         f"allows one: a contradiction!",
                record=rid, times=n, count=audit_op.output["count"], ops=[audit_op.call_index])
    missing = [r["id"] for r in (stream_op.output or []) if r["id"] not in seen]
    if missing:
        return CheckResult.violation(
            checker, f"Let r = record {missing[0]} of the stream. After recovery and settling the aggregate has "
                     f"never applied it: the change was not processed: a contradiction!",
            missing=missing, ops=[stream_op.call_index, audit_op.call_index])
    if not seen:
        return CheckResult.unexercised(checker, "The stream had no record, so no side effect was judged.")
    return CheckResult.holds(checker, f"{len(seen)} records each applied exactly once.")


def check_changes_processed(history: History) -> CheckResult:
    """Every acknowledged write was applied by the handler at least once: the aggregate's audit after recovery holds
    a record of its (key, value). Judges what retention is for (a change expiring from the shard before the event
    source mapping read it is a lost change), not the final stream, which a short retention empties by design.

    Values are unique per run, so a write's value names its record. Deletes are not judged one by one: a delete of an
    absent item changes nothing and leaves no record, so an acknowledged delete need not have one."""
    checker = "changes-processed"
    audit_op = _final(history, "audit")
    if audit_op is None:
        return CheckResult.unexercised(checker, "The aggregate was never read after recovery.")
    applied = {(a["key"], a["value"]) for a in audit_op.output["applied"] if a["value"] is not None}
    acked = [op for op in history.operations() if op.f == "write" and op.phase == "main" and op.is_ok]
    for op in acked:
        key, value = op.input
        if (key, value) not in applied:
            return CheckResult.violation(
                checker, f"Let W = {op.describe()}, an acknowledged change of item {key!r}. Then the aggregate read "
                         f"after recovery and settling ({audit_op.describe().split(' -> ')[0]}) shows "
                         f"{len(audit_op.output['applied'])} applied records, none of value {value!r}: the handler "
                         f"never processed the change (its record expired from the shard before a batch holding it "
                         f"succeeded, or was never captured): a contradiction!",
                key=key, value=value, applied=len(audit_op.output["applied"]),
                ops=[op.call_index, audit_op.call_index])
    if not acked:
        return CheckResult.unexercised(checker, "No write was acknowledged, so none had to be processed.")
    return CheckResult.holds(checker, f"{len(acked)} acknowledged writes were each processed by the handler.")


def _as_consumed(history: History) -> History:
    """The audit (records in the order the handler applied them) as a ``consume`` of a batch, for per-key order.

    The audit's own events are rewritten in place, so the witness's call indices name the run's audit."""
    audit = _final(history, "audit")
    if audit is None:
        return History()
    batch = [{"key": a["key"], "seq": a["seq"]} for a in audit.output["applied"]]
    return History(attrs.evolve(e, f="consume", value=None if e.index == audit.call_index else batch)
                   if e.index in (audit.call_index, audit.ret_index) else e for e in history)


def check_cache_consistent(history: History) -> CheckResult:
    """After recovery and settling, a cached read of each item returns what the table holds."""
    checker = "cache-consistent"
    finals = [op for op in history.operations() if op.phase == "final" and op.is_ok]
    table = {op.input: op.output[1] for op in finals if op.f == "read"}
    judged = 0
    for op in finals:
        if op.f == "cached-read" and op.input in table:
            judged += 1
            if op.output[1] != table[op.input]:
                return CheckResult.violation(
                    checker, f"Let R = {op.describe()}, a cached read of item {op.input!r} after every change was "
                             f"processed. Then R returned {op.output[1]!r} while the table holds "
                             f"{table[op.input]!r}: the cache stayed stale after invalidation: a contradiction!",
                    key=op.input, cached=op.output[1], table=table[op.input], ops=[op.call_index])
    if not judged:
        return CheckResult.unexercised(checker, "No item was read through both the cache and the table after recovery.")
    return CheckResult.holds(checker, f"{judged} cached reads agree with the table.")


INVARIANTS = (
    Invariant("changes-captured", check_changes_captured,
              "every acknowledged change has a stream record, in per-item order"),
    Invariant("changes-processed", check_changes_processed,
              "every acknowledged write was applied by the handler at least once (none expired unread)"),
    Invariant("per-key-order", lambda h: check_per_key_order(_as_consumed(h), fs=("consume",)), "the handler applies each item's records in increasing seq"),
    Invariant("exactly-once", check_exactly_once_effects, "each record's side effect happened exactly once"),
    Invariant("cache-consistent", check_cache_consistent, "after settling, the cache agrees with the table"),
)

CLAIMS = (
    Claim("14", "**DynamoDB Streams** captures every INSERT/UPDATE/DELETE as an ordered stream of events",
          "invariant", variant="idempotent-versioned", invariants=("changes-captured",),
          note="every acknowledged change has a record in the final stream, in real-time order per item", expect="held"),
    Claim("14", "Changes to the same item are processed in order", "invariant", variant="idempotent-versioned",
          invariants=("per-key-order",), note="the handler's applied records per item have increasing seq", expect="held"),
    Claim("14", "Lambda functions consume the stream with exactly-once processing semantics", "invariant",
          variant="plain-handler", invariants=("exactly-once",),
          note="refuted: the poller crashes after the handler's increment and before the checkpoint; the batch is "
               "retried and the aggregate counter double-counts. Exactly-once needs an idempotent handler.", expect="refuted"),
    Claim("14", "**Cache invalidation** | DynamoDB Stream → Lambda → delete from ElastiCache", "invariant",
          variant="delete-invalidation", invariants=("cache-consistent",),
          note="refuted: a reader that missed, read the old item and fills the cache after the invalidation "
               "leaves it stale forever; versioned fills close the race", expect="refuted"),
    Claim("14", "**Retention** | 24 hours | Longer | 24h is enough for near-real-time processing; use Kinesis for "
                "longer", "invariant", variant="short-retention", invariants=("changes-processed",),
          note="refuted, scaled down: with the retention shorter than an outage of the consumer (2 s here, 24 h in the "
               "document; the poller crashed, or a node its handler calls, so the batch is retried) records expire "
               "from the shard before a batch holding them succeeds, and those acknowledged changes never reach "
               "the handler: the poller skips them. The default 24 h retention holds "
               "changes-processed; enough only while the consumer is never down longer than the retention.",
          expect="refuted"),
)

SPEC = Protocol(
    name="dynamodb-streams",
    summary="DynamoDB Streams + Lambda event source mapping: change records per item, batch handler with side "
            "effects (aggregate counter, cache invalidation), checkpoint after success, retry on failure",
    config_class=StreamsConfig,
    nodes=lambda cfg: {"table": Table, "lambda": EventSourceMapping, "aggregate": Aggregate, "cache": Cache},
    request=request,
    route=route,
    workload=workload,
    final_ops=final_ops,
    invariants=INVARIANTS,
    witnesses=(
        Witness.acknowledged("write"),
        Witness.noted("batch_processed", "batch processed"),
        Witness.noted("batch_retry", "batch retried"),
        Witness.acknowledged("cached-read", "cached read returned"),
    ),
    variants=(
        Variant("idempotent-versioned", {}, "idempotent handler (record ids remembered), versioned cache"),
        Variant("plain-handler", {"idempotent_handler": False},
                "the handler increments on every invocation: a retried batch double-counts",
                expect_violation="exactly-once"),
        Variant("delete-invalidation", {"versioned_cache": False},
                "the handler deletes the cache entry; a concurrent miss can refill it with the old item",
                expect_violation="cache-consistent"),
        Variant("short-retention", {"retention": 2.0},
                "records expire 2 s after the change: a consumer down (crashed poller, or a handler retrying against a "
                "crashed node) for longer loses them unprocessed",
                expect_violation="changes-processed", faults=("crash",)),
    ),
    claims=CLAIMS,
)
