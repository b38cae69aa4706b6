"""Timestream: a memory tier for recent time-series points, a magnetic tier for old ones, migration by age.

Seed section 18 (Amazon Timestream - Time-Series). A client writes points ``(series, timestamp, value)`` to the
``memory`` node, which stores each one durably (synced before the acknowledgement: this stands for Timestream's
memory store, replicated across zones; the section does not say how the memory tier is made durable, so the model
states it as one synced node). Every ``migrate_interval`` seconds the memory node moves the points whose age
(``ctx.now()`` minus the point's timestamp) passed ``memory_retention`` to the ``magnetic`` node, in batches of at
most ``batch_size``: copy the batch to magnetic, which writes it keyed by point identity ``(series, timestamp)`` and
syncs before acknowledging, then delete the batch from memory. A query over a time range, served by the memory
node, reads its own points in range first, then asks magnetic for the same range, and merges the two, keeping one
point per identity. Reading memory before magnetic matters: a point missing from the memory snapshot had been
copied, durably, before the snapshot, so magnetic has it when asked afterwards.

A crash can hit anywhere in a migration: between copy and delete (the memory node restarts with the batch still
in it and copies it again: the identity key makes the second copy a no-op, and the query's merge hides the moment
both tiers hold it), and between two batches. A batch is one message and one atomic write at magnetic; a crash
cannot split a batch's write in this model (no torn writes; the engine has no such fault).

Not in the workload: upserts (a second write of one point identity). The model is written for them where it is
cheap (a migration deletes a point only if it still has the copied value; the merge prefers the memory tier's
value), but a copy delivered late and twice over datagram links could still overwrite a newer magnetic value; that
is not judged.

Claims (quoted from section 18). "Tiered: in-memory (recent) → magnetic (historical)" and "Automatic based on age":
under every fault kind (message loss and delay, partitions, crashes and power loss mid-migration, clock skew) every
acknowledged point is returned by every later query whose range covers it, no query returns a point twice, and
none returns a point that was not written (invariants ``no-lost-points``, ``no-duplicate-points``,
``no-phantom-points``); witnesses show the runs migrated points, crashed mid-migration, re-copied a batch and
answered queries from both tiers. The interview's "recent data in memory for fast queries, older data on cheaper storage" is the same
tiering (its speed and cost are not judged, below). "data moves to cheaper storage automatically" and "Timestream
automates this" are measured: how many points move with no client asking, and how long after a point's age passes
``memory_retention`` it reaches magnetic, in fault-free runs. "10-20× compression for time-series data" and
"Time-series-specific compression gives 10-20× savings" are measured on stated synthetic series (:mod:`.compression`):
a Gorilla-style encoding gives 10-20× on regular integer-valued series, far more on constant ones, and 2-4× on
decimal fractions and noise, so the figure is the data's, not the scheme's.

Every other sentence of section 18, and why it is not checkable here. The problem statement ("Time-series data
(IoT sensors, metrics, logs) has a specific access pattern: write-heavy with time-ordered reads, queries over time
ranges, and data that becomes less valuable as it ages.") and "Recent data queried frequently (hot); historical data
rarely (cold)" describe the workload, not the system (the model's workload is write-heavy with range queries, as
they say). "No operational overhead" is about operators. "cheaper storage", "fast queries", "keep hot data fast,
archive cold data cheap": latency and cost; the engine has neither a latency nor a cost model, so memory and
magnetic differ here only in role. "SQL (time-series extensions)", "Familiar to developers; BI tools work natively",
"Schemaless (auto-detects dimensions)" and "IoT data evolves; schemaless handles new sensors without migrations" are
interface properties (the model's query is a time range and its points have no dimensions). "the pattern works with
any time-series DB" is a generalisation. The "Alternative" column (single tier, manual lifecycle rules, a custom
query language, a pre-defined schema, general compression) names designs not chosen; general compression is
measured beside the Gorilla encoding as zlib.

Known-bad variants the suite must refute: ``delete-before-copy`` (memory deletes the batch, then copies it: a crash
in between loses the points), ``non-idempotent-copy`` (magnetic appends each copy as new rows and the query does
not deduplicate: a batch copied again after a crash, or a lost acknowledgement, between copy and delete is returned
twice, even by the final queries when every point is in magnetic: ``no-duplicates-after-migration``),
``no-dedup-query`` (idempotent copies, but a query that does not deduplicate returns a batch twice when it reads
memory before the batch's delete and magnetic after its copy: no fault needed, so the merge's dedup is needed for
its own sake), ``memory-only-query`` (a query reads only the memory tier: migrated points vanish) and
``unsynced-magnetic`` (magnetic acknowledges a copy before syncing it; memory deletes; a power loss at magnetic,
``lose_unsynced``, loses the points).
"""

from __future__ import annotations

import attrs

from faultlab import Claim, History, Invariant, Protocol, Variant, Witness
from invariants.time_series import check_no_duplicate_points, check_no_lost_points, check_no_phantom_points

from .measurements import measure_compression, measure_tiering
from .tiers import MagneticTier, MemoryTier, Query, TimestreamConfig, WritePoint

__all__ = ["SPEC", "TimestreamConfig"]

FOREVER = 1e9           # the end of an open time range
SERIES = ("s1", "s2")   # the series the workload writes
TICK = 0.1              # seconds of point time between consecutive operations of the workload

# -- workload ----------------------------------------------------------------------------------------------------
QUERY_RANGES = ((0.0, FOREVER), (0.0, 0.8), (0.8, FOREVER))  # everything; the oldest points; the newer ones


def request(f: str, value) -> WritePoint | Query:
    if f == "write":
        series, ts, v = value
        return WritePoint(series, float(ts), v)
    lo, hi = value
    return Query(float(lo), float(hi))


def workload(choices, op_index: int) -> tuple[str, object]:
    """Two writes to one query; choice 0 is a write. A point's timestamp is op_index * TICK (unique per run), so
    points age at the pace the workload issues them; its value is op_index + 1."""
    if choices.choose(3) < 2:
        return "write", [SERIES[choices.choose(len(SERIES))], round(op_index * TICK, 3), op_index + 1]
    return "query", list(QUERY_RANGES[choices.choose(len(QUERY_RANGES))])


def final_ops(config: TimestreamConfig) -> list[tuple[str, object, str]]:
    """After healing and settling (every aged point migrated by then): a query of everything and of the oldest."""
    return [("query", list(QUERY_RANGES[0]), "memory"), ("query", list(QUERY_RANGES[1]), "memory")]


def final_queries(history: History) -> History:
    """The history with only the final queries kept as ``query`` (the others renamed, so indices still hold)."""
    return History(e if e.f != "query" or e.phase == "final" else attrs.evolve(e, f="main-query") for e in history)


# -- witnesses -------------------------------------------------------------------------------------------------------
def crashed_mid_migration(run) -> bool:
    """The memory node crashed (or lost power) while a batch was between its start and its delete."""
    in_flight = False
    for e in run.log:
        if e.kind == "note" and e.get("node") == "memory":
            if e.what == "migration_started":
                in_flight = True
            elif e.what == "migrated":
                in_flight = False
        elif e.kind in ("crash", "lose_unsynced") and "memory" in (e.get("nodes") or [e.get("node")]):
            if in_flight:
                return True
            in_flight = False
    return False


WITNESSES = (
    Witness.acknowledged("write", "point acknowledged"),
    Witness.acknowledged("query", "query returned"),
    Witness.noted("migrated", "a batch moved to magnetic"),
    Witness.noted("query_both_tiers", "a query merged points from both tiers"),
    Witness("crashed mid-migration", crashed_mid_migration, "the memory node crashed with a batch in flight"),
    Witness.noted("recopied", "a batch was copied again (crash or lost ack between copy and delete)"),
)

INVARIANTS = (
    Invariant("no-lost-points", check_no_lost_points,
              "every acknowledged point is returned by every later query whose range covers it, whichever tier "
              "holds it"),
    Invariant("no-duplicate-points", check_no_duplicate_points, "no query returns a point twice"),
    Invariant("no-phantom-points", check_no_phantom_points, "every point a query returns was written"),
    Invariant("no-duplicates-after-migration", lambda h: check_no_duplicate_points(final_queries(h)),
              "the final queries, run when every point has moved to magnetic (so the moment a point is in both "
              "tiers is over), return no point twice: magnetic holds one copy of each point however often a batch "
              "was copied"),
)
ALL = tuple(i.name for i in INVARIANTS)


# -- variants --------------------------------------------------------------------------------------------------------
VARIANTS = (
    Variant("timestream", {}, "copy (synced, keyed by identity) then delete; queries read memory then magnetic and "
                              "deduplicate"),
    Variant("timestream-datagram", {}, "the same over datagram links: copies and queries duplicated and reordered "
                                       "(identity keys make a repeated copy harmless)", links="datagram"),
    Variant("delete-before-copy", {"migration": "delete-then-copy"},
            "memory deletes a batch before copying it: a crash in between loses the points",
            expect_violation="no-lost-points"),
    Variant("non-idempotent-copy", {"idempotent_copy": False, "query_dedup": False},
            "magnetic appends each copy as new rows and queries do not deduplicate: a batch copied again after a "
            "crash (or a lost acknowledgement) between copy and delete is returned twice even once every point is "
            "in magnetic", expect_violation="no-duplicates-after-migration"),
    Variant("no-dedup-query", {"query_dedup": False},
            "copies are idempotent but queries do not deduplicate: a query that reads memory before a batch is "
            "deleted and magnetic after it was copied returns the batch twice, with no fault at all",
            expect_violation="no-duplicate-points"),
    Variant("memory-only-query", {"query_tiers": "memory"}, "queries read only the memory tier: migrated points "
            "vanish", expect_violation="no-lost-points"),
    Variant("unsynced-magnetic", {"magnetic_sync": False}, "magnetic acknowledges a copy before syncing it and "
            "memory deletes: a power loss at magnetic loses the points", expect_violation="no-lost-points"),
)


# -- claims ----------------------------------------------------------------------------------------------------------
CLAIMS = (
    Claim("18", "Tiered: in-memory (recent) → magnetic (historical)", "invariant", variant="timestream",
          invariants=ALL, note="writes land in memory, aged points move to magnetic, and a time-range query over both "
          "tiers returns every acknowledged point once, under every fault kind", expect="held"),
    Claim("18", "Automatic based on age", "invariant", variant="timestream", invariants=ALL,
          note="migration by age (memory_retention=0.5 s, rounds every 0.2 s, batches of 3) loses and duplicates "
               "no point, with crashes and power loss between copy and delete and between batches; "
               "delete-before-copy, a non-idempotent copy without dedup, a query without dedup and an unsynced "
               "magnetic write are refuted",
          expect="held"),
    Claim("18", "data moves to cheaper storage automatically", "measure", measure=measure_tiering,
          note="fault-free runs: how many acknowledged points moved to magnetic with no client asking, and seconds "
               "from a point's age passing memory_retention to its copy there; the figure is the worst delay. "
               "'cheaper' is not judged (no cost model)", expect="measured"),
    Claim("18", "Timestream automates this", "measure", measure=measure_tiering,
          note="'this' is the tiering of the sentence before it (recent data in memory, older data on cheaper "
               "storage): the same fault-free measurement of points moving by age alone", expect="measured"),
    Claim("18", "10-20× compression for time-series data", "measure", measure=measure_compression,
          note="Gorilla-style encoding (delta-of-delta timestamps, XOR floats) of stated synthetic series against "
               "16 raw bytes a point; the figure is the median ratio", expect="measured"),
    Claim("18", "Time-series-specific compression gives 10-20× savings", "measure", measure=measure_compression,
          note="the interview sentence for the same figure, measured the same way; 'savings' read as size",
          expect="measured"),
)


SPEC = Protocol(
    name="timestream",
    summary="Timestream tiering: a memory tier, a magnetic tier, migration by age in batches, queries over both",
    config_class=TimestreamConfig,
    nodes=lambda cfg: {"memory": MemoryTier, "magnetic": MagneticTier},
    zones=lambda cfg: {"memory": "az1", "magnetic": "az2"},
    client_nodes=lambda cfg: ["memory"],
    request=request,
    workload=workload,
    final_ops=final_ops,
    invariants=INVARIANTS,
    witnesses=WITNESSES,
    variants=VARIANTS,
    claims=CLAIMS,
)
