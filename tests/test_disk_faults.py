"""The disk faults: a torn write of a log record and the destruction of a disk or a zone's disks.

Engine-level, on a tiny write-ahead-logged register (``Wal``): node ``a`` appends each write to its log, takes a
moment to fsync, and acknowledges; a read returns the newest record. With ``check`` it verifies checksums at start and
truncates a torn tail (``Storage.recover_log``); without, it trusts what it reads back, and a torn write shows as a
value nobody wrote. Each test says what it shows: a torn write is produced and caught, only where a protocol names
the kind, a trace of it replays byte for byte, shrinking drops it when the violation does not need it, and a
destroyed disk keeps nothing, within the plan's destroy budget.
"""

from __future__ import annotations

import attrs
import pytest
import trio

from faultlab import (
    Fail,
    FaultPlan,
    Invariant,
    Node,
    Ok,
    Protocol,
    RunSettings,
    SeededChoices,
    Witness,
    handler,
)
from faultlab.errors import ConfigError
from faultlab.explore import explore
from faultlab.faults import parse_fault_kinds
from faultlab.runtime import simulate
from faultlab.storage import LogRecord, Storage, checksum, torn
from faultlab.trace import dumps_trace, format_timeline, read_trace, replay, write_trace
from invariants.durability import check_no_lost_writes

DISK = 0.001  # seconds from a record's write to its fsync: the window a torn write hits
WAL = "wal"


@attrs.frozen
class Write:
    value: int


@attrs.frozen
class Read:
    pass


@attrs.frozen
class WalConfig:
    check: bool = True        # verify checksums at start and truncate a torn tail
    off_by_one: bool = False  # a bug of its own, needing no fault: a read returns the record before the newest
    on_new_disk: str = "serve"  # what a node on a destroyed (replaced) disk does: 'serve' (empty) or 'silent'


class WalNode(Node[WalConfig]):
    def start(self) -> None:
        dropped = self.storage.recover_log(WAL) if self.config.check else 0
        if dropped:
            self.ctx.note("torn_record_truncated", dropped=dropped)
        self.ctx.note("start", keys=len(self.storage.keys()), records=len(self.storage.read_log(WAL)),
                      destroyed=self.storage.destroyed)

    @handler
    async def on_write(self, msg: Write) -> Ok | None:
        if self.storage.destroyed and self.config.on_new_disk == "silent":
            return None
        self.storage.append(WAL, (len(self.storage.read_log(WAL)) + 1, msg.value))
        self.storage["last"] = msg.value  # a key beside the log: a torn write loses it (it was not synced)
        await trio.sleep(DISK)
        self.storage.sync()
        return Ok(msg.value)

    @handler
    def on_read(self, msg: Read) -> Ok | Fail | None:
        if self.storage.destroyed and self.config.on_new_disk == "silent":
            return None
        records = [r.record for r in self.storage.read_log(WAL)]  # trusted as read: recover_log ran at start
        if self.config.off_by_one and len(records) >= 2:
            records = records[:-1]
        return Ok(records[-1][1] if records else None)


def _request(f, value):
    return Write(value) if f == "write" else Read()


def _workload(choices, i):
    return ("write", i + 1) if choices.choose(3) else ("read", None)


WAL_SPEC = Protocol(
    name="wal-register", summary="a register kept in a checksummed write-ahead log", config_class=WalConfig,
    nodes=lambda cfg: {"a": WalNode, "b": WalNode}, zones=lambda cfg: {"a": "z1", "b": "z2"},
    client_nodes=lambda cfg: ["a"], request=_request, workload=_workload,
    final_ops=lambda cfg: [("read", None, "a")],
    invariants=(Invariant("no-lost-writes", check_no_lost_writes, "the final read sees the last acknowledged write"),),
    witnesses=(Witness.acknowledged("write"),),
    faults=("drop", "delay", "partition", "crash", "restart", "skew", "lose_unsynced", "torn_write", "destroy"),
)
ONE_CLIENT = dict(clients=1, ops_per_client=6)
TORN_ONLY = RunSettings(plan=FaultPlan(kinds=("torn_write",)), **ONE_CLIENT)


def _injected(run, kind: str) -> list[dict]:
    return [payload for k, _, payload in run.events if k == kind and "why" not in payload]


# -- the storage model ---------------------------------------------------------------------------------------------
def test_a_torn_record_keeps_its_first_fields_and_fails_its_checksum():
    s = Storage()
    s.append(WAL, (1, (2, "db1"), 10))
    s.sync()
    s.append(WAL, (2, (2, "db1"), 20))
    s.append(WAL, (3, (2, "db1"), 30))
    s["meta"] = "unsynced"
    detail = s.tear(WAL, keep=3)
    assert [r.record for r in s.read_log(WAL)] == [(1, (2, "db1"), 10), (2, (2, "db1"), 20), (3, (2, "db1"), 0)]
    assert [r.intact for r in s.read_log(WAL)] == [True, True, False]
    assert detail == {"log": WAL, "record": 2, "kept_fields": 3, "fields": 4, "intact": False, "lost_writes": 1}
    assert "meta" not in s and not s.has_unsynced
    assert s.recover_log(WAL) == 1 and [r.record for r in s.read_log(WAL)] == [(1, (2, "db1"), 10),
                                                                              (2, (2, "db1"), 20)]
    assert s.recover_log(WAL) == 0
    assert torn((5, (1, "x"), 7), 0) == (0, (0, ""), 0) and torn([1, 2], 2) == [1, 2]
    assert LogRecord((0, (0, ""), 0), checksum((3, (2, "db1"), 30))).intact is False


def test_a_destroyed_disk_keeps_nothing_synced_or_not():
    s = Storage()
    s.save(epoch=3)
    s.append(WAL, (1, 10))
    s.sync()
    s.append(WAL, (2, 20))
    s["pending"] = 1
    assert s.destroy() == 4
    assert s.items() == [] and s.read_log(WAL) == [] and s.logs() == [] and not s.has_unsynced
    assert s.destroyed == 1


# -- torn writes in runs -------------------------------------------------------------------------------------------
def test_a_reader_that_trusts_a_torn_record_is_found_and_the_torn_write_stays_in_the_shrunk_run():
    exp = explore(WAL_SPEC, WalConfig(check=False), examples=75, seed=0, settings=TORN_ONLY)
    assert exp.verdict == "refuted", exp.summary()
    (torn_write,) = _injected(exp.failure, "torn_write")
    assert torn_write["node"] == "a" and not torn_write["intact"]
    (lost,) = exp.failure.violations
    assert lost.witness["value"] == 0, lost.explanation  # the zeros a torn write left, read as a value
    # found after 15 runs from seed 0; the shrunk run is one write, its torn write and the final read
    assert exp.found_after <= 30 and len(exp.failure.history.operations()) <= 3


def test_checking_checksums_at_start_truncates_the_torn_record_and_holds():
    exp = explore(WAL_SPEC, WalConfig(check=True), examples=75, seed=0, settings=TORN_ONLY)
    assert exp.verdict == "held", exp.summary()
    assert exp.coverage.runs_with_event["torn_write"] >= 8  # 11 of the 75 runs tore a record (swarm: half enable it)
    assert exp.coverage.runs_with_note["torn_record_truncated"] >= 8


def test_a_torn_write_is_drawn_only_for_protocols_that_name_it():
    untorn = attrs.evolve(WAL_SPEC, name="wal-untorn", faults=("crash", "restart", "lose_unsynced"))
    every_kind = RunSettings(plan=FaultPlan(kinds=parse_fault_kinds("all")), **ONE_CLIENT)
    for seed in range(20):
        run = simulate(untorn, WalConfig(check=False), SeededChoices(seed), every_kind)
        assert not _injected(run, "torn_write") and not _injected(run, "destroy")
        assert "torn_write" not in run.stats["enabled_faults"]


def test_a_torn_write_replays_byte_for_byte(tmp_path):
    exp = explore(WAL_SPEC, WalConfig(check=False), examples=75, seed=0, settings=TORN_ONLY)
    path = write_trace(exp.failure, tmp_path / "torn.json")
    again = replay(read_trace(path), WAL_SPEC)
    assert _injected(again, "torn_write") == _injected(exp.failure, "torn_write")
    assert dumps_trace(again) == path.read_text()
    timeline = format_timeline(read_trace(path).doc)  # what a violation depends on: the torn write is shown
    assert "!!torn_write" in timeline, timeline


def test_a_torn_write_the_violation_does_not_need_shrinks_away():
    settings = RunSettings(plan=FaultPlan(kinds=("torn_write",), swarm=False), **ONE_CLIENT)
    cfg = WalConfig(check=True, off_by_one=True)
    # seed 8: the first failing run (after 9 runs) has a torn write, which the off-by-one read does not need
    raw = explore(WAL_SPEC, cfg, examples=75, seed=8, settings=settings, shrink=False)
    assert raw.verdict == "refuted" and _injected(raw.failure, "torn_write"), raw.summary()
    shrunk = explore(WAL_SPEC, cfg, examples=75, seed=8, settings=settings)
    assert shrunk.found_after == raw.found_after
    assert not _injected(shrunk.failure, "torn_write") and shrunk.failure.violations


# -- destruction ---------------------------------------------------------------------------------------------------
DESTROY_ONLY = FaultPlan(kinds=("destroy",), swarm=False, max_destroyed_zones=0, max_destroyed_nodes=1)


def test_a_destroyed_node_comes_back_on_an_empty_disk_and_an_acknowledged_write_is_lost():
    exp = explore(WAL_SPEC, WalConfig(), examples=75, seed=0, settings=RunSettings(plan=DESTROY_ONLY, **ONE_CLIENT))
    assert exp.verdict == "refuted", exp.summary()
    (destroy,) = _injected(exp.failure, "destroy")
    assert destroy == {"scope": "node", "node": "a", "nodes": ["a"], "lost": destroy["lost"]} and destroy["lost"] > 0
    starts = [e for e in exp.failure.log.notes("start") if e["node"] == "a"]
    assert starts[-1]["keys"] == 0 and starts[-1]["records"] == 0 and starts[-1]["destroyed"] == 1


@pytest.mark.parametrize(("zones", "nodes"), [(1, 0), (0, 2), (1, 1)])
def test_destruction_stays_within_the_plans_budget(zones, nodes):
    three = attrs.evolve(WAL_SPEC, name="wal-three", nodes=lambda cfg: {n: WalNode for n in "abc"},
                         zones=lambda cfg: {"a": "z1", "b": "z1", "c": "z2"})
    plan = FaultPlan(kinds=("destroy",), swarm=False, max_destroyed_zones=zones, max_destroyed_nodes=nodes)
    seen = set()
    for seed in range(30):
        run = simulate(three, WalConfig(), SeededChoices(seed), RunSettings(plan=plan, **ONE_CLIENT))
        events = _injected(run, "destroy")
        assert sum(e["scope"] == "zone" for e in events) <= zones
        assert sum(e["scope"] == "node" for e in events) <= nodes
        hit = [n for e in events for n in e["nodes"]]
        assert len(hit) == len(set(hit))  # a disk is destroyed once
        seen |= {e["scope"] for e in events}
    assert seen == {s for s, k in (("zone", zones), ("node", nodes)) if k}


def test_a_node_that_stays_silent_on_a_new_disk_answers_nothing_after_the_destroy():
    settings = RunSettings(plan=DESTROY_ONLY, **ONE_CLIENT)
    destroyed = 0
    for seed in range(20):
        run = simulate(WAL_SPEC, WalConfig(on_new_disk="silent"), SeededChoices(seed), settings)
        hits = [e for e in run.log.of("destroy") if e["node"] == "a"]
        if not hits:
            continue
        destroyed += 1
        assert not [e for e in run.log.deliveries(src="a") if e.time > hits[0].time], seed
        (final,) = [op for op in run.history.operations() if op.phase == "final"]
        assert final.status == "info" and not run.violations  # nothing judged, and nothing wrong served
    assert destroyed >= 3, destroyed


def test_destroy_budgets_are_validated():
    with pytest.raises(ConfigError, match="max_destroyed_zones"):
        FaultPlan(max_destroyed_zones=-1)
    assert parse_fault_kinds("destroy,restart") == ("destroy",)
    assert parse_fault_kinds(["torn_write"]) == ("torn_write",)
