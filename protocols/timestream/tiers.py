"""The two tiers of the Timestream model and their messages: the memory node (writes, queries, migration) and the
magnetic node (copied batches, range reads). See the package docstring for the design and what it claims."""

from __future__ import annotations

import attrs

from faultlab import ConfigError, Fail, Node, Ok, handler

MAGNETIC_TIMEOUT = 1.0  # how long the memory node waits for the magnetic node (a copy, a query)

Point = tuple  # (series, timestamp, value)


# -- messages --------------------------------------------------------------------------------------------------------
@attrs.frozen
class WritePoint:
    series: str
    timestamp: float
    value: int


@attrs.frozen
class Query:
    lo: float
    hi: float


@attrs.frozen
class CopyBatch:
    points: tuple[Point, ...]


@attrs.frozen
class CopyAck:
    copied: int


@attrs.frozen
class MagneticQuery:
    lo: float
    hi: float


@attrs.frozen
class MagneticPoints:
    points: tuple[Point, ...]


# -- configuration ---------------------------------------------------------------------------------------------------
@attrs.frozen
class TimestreamConfig:
    memory_retention: float = attrs.field(default=0.5, metadata={"help": "seconds of age (now - point timestamp) "
                                                                         "after which a point moves to magnetic"})
    migrate_interval: float = attrs.field(default=0.2, metadata={"help": "seconds between migration rounds"})
    batch_size: int = attrs.field(default=3, metadata={"help": "points moved per migration batch"})
    migration: str = attrs.field(default="copy-then-delete", metadata={
        "help": "copy-then-delete (copy to magnetic, then delete from memory) or delete-then-copy (known-bad)"})
    idempotent_copy: bool = attrs.field(default=True, metadata={
        "help": "magnetic stores points keyed by (series, timestamp); false: it appends every copy as new rows"})
    query_dedup: bool = attrs.field(default=True, metadata={"help": "a query keeps one point per identity"})
    query_tiers: str = attrs.field(default="both", metadata={"help": "both (memory, then magnetic) or memory"})
    magnetic_sync: bool = attrs.field(default=True, metadata={
        "help": "magnetic syncs a copied batch before acknowledging; false: it syncs every sync_interval"})
    sync_interval: float = attrs.field(default=2.0, metadata={"help": "with magnetic_sync=false, seconds between "
                                                                      "magnetic fsyncs"})

    def __attrs_post_init__(self) -> None:
        for name in ("memory_retention", "migrate_interval", "sync_interval"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"timestream: {name}={getattr(self, name)} must be > 0 (seconds)")
        if not 1 <= self.batch_size <= 100:
            raise ConfigError(f"timestream: batch_size={self.batch_size} must be between 1 and 100")
        if self.migration not in ("copy-then-delete", "delete-then-copy"):
            raise ConfigError(f"timestream: migration={self.migration!r}; choose copy-then-delete or "
                              f"delete-then-copy")
        if self.query_tiers not in ("both", "memory"):
            raise ConfigError(f"timestream: query_tiers={self.query_tiers!r}; choose both or memory")


# -- the nodes -------------------------------------------------------------------------------------------------------
def _in_range(points, lo: float, hi: float) -> list[Point]:
    return [p for p in points if lo <= p[1] <= hi]


class MemoryTier(Node[TimestreamConfig]):
    """The memory tier: takes writes, serves queries over both tiers, and migrates aged points to magnetic."""

    def start(self) -> None:
        self.ctx.every(self.config.migrate_interval, self.migrate)

    def points(self) -> list[Point]:
        return sorted((k[1], k[2], v) for k, v in self.storage.items() if k[0] == "pt")

    @handler
    def on_write(self, msg: WritePoint) -> Ok:
        self.storage[("pt", msg.series, msg.timestamp)] = msg.value
        self.storage.sync()
        return Ok([msg.series, msg.timestamp, msg.value])

    @handler
    async def on_query(self, msg: Query) -> Ok | Fail:
        memory = _in_range(self.points(), msg.lo, msg.hi)  # memory first: see the module docstring
        magnetic: list[Point] = []
        if self.config.query_tiers == "both":
            reply = await self.ctx.call("magnetic", MagneticQuery(msg.lo, msg.hi), timeout=MAGNETIC_TIMEOUT)
            if reply is None:
                return Fail("the magnetic tier did not answer")  # a query has no effect: it definitely did nothing
            magnetic = [tuple(p) for p in reply.points]
        if memory and magnetic:
            self.ctx.note("query_both_tiers", memory=len(memory), magnetic=len(magnetic))
        merged = magnetic + memory
        if self.config.query_dedup:  # memory last: its value is the newer one should a point have been upserted
            merged = list({(s, t): (s, t, v) for s, t, v in merged}.values())
        return Ok([list(p) for p in sorted(merged)])

    async def migrate(self) -> None:
        """One round: the oldest aged points, at most a batch, copied to magnetic and then deleted here."""
        now = self.ctx.now()
        due = sorted((p for p in self.points() if now - p[1] >= self.config.memory_retention), key=lambda p: p[1])
        batch = tuple(due[: self.config.batch_size])
        if not batch:
            return
        self.ctx.note("migration_started", points=[list(p) for p in batch])
        if self.config.migration == "delete-then-copy":
            self._delete(batch)
            while await self.ctx.call("magnetic", CopyBatch(batch), timeout=MAGNETIC_TIMEOUT) is None:
                pass  # the points are only in this task's memory now; retry until magnetic has them
        elif await self.ctx.call("magnetic", CopyBatch(batch), timeout=MAGNETIC_TIMEOUT) is None:
            return  # not acknowledged: the points stay here, and the next round copies them again
        else:
            self._delete(batch)
        self.ctx.note("migrated", points=[list(p) for p in batch])

    def _delete(self, batch: tuple[Point, ...]) -> None:
        for series, ts, value in batch:
            if self.storage.get(("pt", series, ts)) == value:  # an upsert since the copy stays for the next round
                self.storage.delete(("pt", series, ts))
        self.storage.sync()


class MagneticTier(Node[TimestreamConfig]):
    """The magnetic tier: stores copied batches durably and answers range reads."""

    def start(self) -> None:
        if not self.config.magnetic_sync:
            self.ctx.every(self.config.sync_interval, self.storage.sync)

    @handler
    def on_copy(self, msg: CopyBatch) -> CopyAck:
        points = [tuple(p) for p in msg.points]
        if self.config.idempotent_copy:
            again = [p for p in points if ("pt", p[0], p[1]) in self.storage]
            for series, ts, value in points:
                self.storage[("pt", series, ts)] = value
        else:
            rows = self.storage.get("rows", 0)
            again = [p for p in points if any(k[0] == "row" and v[:2] == p[:2] for k, v in self.storage.items())]
            for i, p in enumerate(points):
                self.storage[("row", rows + i)] = p
            self.storage["rows"] = rows + len(points)
        if self.config.magnetic_sync:
            self.storage.sync()
        self.ctx.note("copied", points=[list(p) for p in points])
        if again:
            self.ctx.note("recopied", points=[list(p) for p in again])
        return CopyAck(len(points))

    @handler
    def on_query(self, msg: MagneticQuery) -> MagneticPoints:
        stored = [(k[1], k[2], v) for k, v in self.storage.items() if k[0] == "pt"]
        stored += [tuple(v) for k, v in self.storage.items() if k[0] == "row"]
        return MagneticPoints(tuple(sorted(_in_range(stored, msg.lo, msg.hi))))
