"""Controls for every invariant a protocol in protocols/ hands to the engine: see test_checker_controls.py."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from controls import CONTROLS, Control, _at, control, events, final, kfinal, kw, op, r, w  # noqa: F401

import protocols
from invariants.object_store import check_object_read_after_write
from invariants.observed_durability import check_observed_writes_durable
from protocols.dynamo.siblings import check_sibling_convergence

# == protocols/: every invariant a protocol hands to the engine =====================================================


def _specs() -> dict[str, Any]:
    """Every protocol SPEC in the protocols package, by name."""
    specs = {}
    for info in pkgutil.iter_modules(protocols.__path__):
        spec = getattr(importlib.import_module(f"protocols.{info.name}"), "SPEC", None)
        if spec is not None:
            specs[spec.name] = spec
    return specs


SPECS = _specs()


def invariant(protocol: str, name: str) -> dict[str, Any]:
    spec = SPECS[protocol]
    inv, config = spec.invariant(name), spec.make_config({})
    return {"target": f"{protocol}/{name}", "check": lambda h: inv.judge(h, config)}


# quorum-register: an unkeyed register; final reads carry the replica that served them.
control(**invariant("quorum-register", "read-after-write"),
        shows="a read after W(2) was acknowledged returns 1",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, 3), r(1, 1, 4, 5)], fix={2: r(1, 2, 4, 5)},
        witness={"read": 4, "acknowledged_write": 2, "stale_write": 0, "value": 1},
        because="W' is older than W")
control(**invariant("quorum-register", "no-lost-writes"),
        shows="after recovery replica n2 returns 1, older than the acknowledged W(2)",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, 3), final(9, 2, 10, "n1"), final(10, 1, 11, "n2")],
        fix={3: final(10, 2, 11, "n2")},
        witness={"lost_write": 2, "final_read": 6, "stale_write": 0, "value": 1},
        because="W is lost")
control(**invariant("quorum-register", "linearizable"),
        shows="two sequential reads during W(2) return 2, then 1: new-then-old (the twin: 2, then 2)",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, 9), r(1, 2, 3, 4), r(1, 1, 5, 6)], fix={3: r(1, 2, 5, 6)},
        witness={"failed_op": 5, "longest_prefix": [0, 2, 3], "states": ["2"]},
        because="a contradiction!")

# dynamo: keyed writes [k, v]; a read's ok value is [k, v] or [k, [siblings]]; final reads on two coordinators.
control(**invariant("dynamo", "convergence"),
        shows="after recovery n1 returns siblings [1, 2] for a and n5 returns 2 alone (the twin: both [1, 2])",
        rows=[kw(0, "a", 1, 0, 2), kw(1, "a", 2, 1, 3), kfinal(8, "a", [1, 2], 10, "n1"),
              kfinal(9, "a", 2, 11, "n5")],
        fix={3: kfinal(9, "a", [1, 2], 11, "n5")},
        witness={"reads": [4, 6], "nodes": ["n1", "n5"], "values": [["a", [1, 2]], ["a", 2]], "key": "a",
                 "ops": [4, 6]},
        because="they returned different sibling sets ([1, 2] vs 2): the replicas did not converge")
control(target="protocols.dynamo.siblings.check_sibling_convergence", check=check_sibling_convergence,
        shows="after recovery n1 returns 1 for a and n5 returns 2",
        rows=[kw(0, "a", 1, 0, 1), kw(1, "a", 2, 2, 3), kfinal(8, "a", 1, 10, "n1"), kfinal(9, "a", 2, 11, "n5")],
        fix={2: kfinal(8, "a", 2, 10, "n1")},
        witness={"reads": [4, 6], "nodes": ["n1", "n5"], "values": [["a", 1], ["a", 2]], "key": "a"},
        because="the replicas did not converge")
control(**invariant("dynamo", "read-after-write"),
        shows="a read after W(a=2) was acknowledged returns siblings [1, 3], both written before it began",
        rows=[kw(0, "a", 1, 0, 1), kw(1, "a", 3, 0, 1), kw(0, "a", 2, 2, 3),
              op(2, "read", ["a", None], 4, 5, ["a", [1, 3]])],
        fix={3: op(2, "read", ["a", None], 4, 5, ["a", [1, 2]])},
        witness={"key": "a", "read": 6, "acknowledged_write": 4, "value": 3},
        because="W' is older than W")
control(**invariant("dynamo", "no-lost-writes"),
        shows="after recovery a's siblings are [1, 3], both written before the acknowledged W(a=2) began",
        rows=[kw(0, "a", 1, 0, 1), kw(1, "a", 3, 0, 1), kw(0, "a", 2, 2, 3), kfinal(8, "a", [1, 3], 10, "n1"),
              kfinal(9, "a", [1, 3], 11, "n5")],
        fix={3: kfinal(8, "a", [2, 3], 10, "n1"), 4: kfinal(9, "a", [2, 3], 11, "n5")},
        witness={"key": "a", "lost_write": 4, "lost_writes": [4], "final_read": 6, "value": 3},
        because="W is lost")

# dynamodb: unkeyed register; "consistent-read" (strong) and "read" (default, may be stale) judged apart, so both
# histories carry the other kind of read, stale, to show it is ignored.
control(**invariant("dynamodb", "consistent-read-after-write"),
        shows="a consistent read after W(2) was acknowledged returns 1 (a stale default read is ignored)",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, 3), op(1, "read", None, 4, 5, 1), op(2, "consistent-read", None, 6, 7, 1)],
        fix={3: op(2, "consistent-read", None, 6, 7, 2)},
        witness={"read": 6, "acknowledged_write": 2, "stale_write": 0, "value": 1},
        because="W was acknowledged before R began")
control(**invariant("dynamodb", "linearizable"),
        shows="consistent reads during W(2) return 2, then 1 (a stale default read between them is ignored)",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, 9), op(1, "consistent-read", None, 3, 4, 2), op(2, "read", None, 4.5, 4.8, 1),
              op(1, "consistent-read", None, 5, 6, 1)],
        fix={4: op(1, "consistent-read", None, 5, 6, 2)},
        witness={"failed_op": 7, "longest_prefix": [0, 2, 3], "states": ["2"]},
        because="a contradiction!")
control(**invariant("dynamodb", "no-lost-writes"),
        shows="the final consistent read returns 1, older than the acknowledged W(2) (stale default reads ignored)",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, 3), op(9, "consistent-read", None, 10, 11, 1, phase="final", node="n1"),
              op(10, "read", None, 12, 13, 1, phase="final", node="n2")],
        fix={2: op(9, "consistent-read", None, 10, 11, 2, phase="final", node="n1")},
        witness={"lost_write": 2, "final_read": 4, "stale_write": 0, "value": 1},
        because="W is lost")
control(**invariant("dynamodb", "convergence"),
        shows="after settling the default reads on n2 and n3 return 2 and 1",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, 3), op(9, "consistent-read", None, 10, 11, 2, phase="final", node="n1"),
              op(10, "read", None, 12, 13, 2, phase="final", node="n2"),
              op(11, "read", None, 14, 15, 1, phase="final", node="n3")],
        fix={4: op(11, "read", None, 14, 15, 2, phase="final", node="n3")},
        witness={"reads": [6, 8], "nodes": ["n2", "n3"], "values": [2, 1]},
        because="they did not converge")
control(**invariant("dynamodb", "default-read-after-write"),
        shows="a default read in the workload returns 1 after W(2) was acknowledged (final reads are not judged)",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, 3), op(1, "read", None, 4, 5, 1),
              op(10, "read", None, 12, 13, 2, phase="final", node="n2")],
        fix={2: op(1, "read", None, 4, 5, 2)},
        witness={"read": 4, "acknowledged_write": 2, "stale_write": 0, "value": 1},
        because="W was acknowledged before R began")

# global-tables: keyed writes [k, v]; a read's input is the key, its ok value [k, v]; final reads in every region.
control(**invariant("global-tables", "convergence"),
        shows="after settling us-east returns 2 for k1 and eu-west returns 1",
        rows=[kw(0, "k1", 1, 0, 1), kw(1, "k1", 2, 2, 3), kfinal(8, "k1", 2, 10, "us-east", "k1"),
              kfinal(9, "k1", 1, 11, "eu-west", "k1")],
        fix={3: kfinal(9, "k1", 2, 11, "eu-west", "k1")},
        witness={"reads": [4, 6], "nodes": ["us-east", "eu-west"], "values": [2, 1], "key": "k1"},
        because="they did not converge")
control(**invariant("global-tables", "no-lost-writes"),
        shows="after settling every region returns 1 for k1, older than the acknowledged W(2): LWW lost it",
        rows=[kw(0, "k1", 1, 0, 1), kw(1, "k1", 2, 2, 3), kfinal(8, "k1", 1, 10, "us-east", "k1"),
              kfinal(9, "k1", 1, 11, "eu-west", "k1")],
        fix={2: kfinal(8, "k1", 2, 10, "us-east", "k1"), 3: kfinal(9, "k1", 2, 11, "eu-west", "k1")},
        witness={"key": "k1", "lost_write": 2, "final_read": 4, "stale_write": 0, "value": 1},
        because="W is lost")


# dynamodb-streams: writes [k, v]; final "read-stream" returns the shard's records, final "audit" the aggregate's
# applied records and count, final "read" [k, v] from the table, final "cached-read" [k, v] from the cache.
def record(rid: int, key: str, seq: int, value: int | None, kind: str = "MODIFY") -> dict:
    return {"id": rid, "key": key, "seq": seq, "kind": kind, "value": value, "at": 0.0}


def stream(records: list[dict], call: float = 20) -> tuple:
    return op("s", "read-stream", None, call, call + 0.1, records, phase="final", node="table")


def audit(applied: list[dict], call: float = 21) -> tuple:
    return op("g", "audit", None, call, call + 0.1, {"count": len(applied), "applied": applied}, phase="final",
              node="aggregate")


R1, R2, R3 = record(1, "k1", 1, 1, "INSERT"), record(2, "k2", 1, 2, "INSERT"), record(3, "k1", 2, 3)

control(**invariant("dynamodb-streams", "changes-captured"),
        shows="the acknowledged write k1=3 has no record in the final stream",
        rows=[kw(0, "k1", 1, 0, 1), kw(0, "k2", 2, 2, 3), kw(0, "k1", 3, 4, 5), stream([R1, R2])],
        fix={3: stream([R1, R2, R3])},
        witness={"ops": [4, 6]}, because="has no record of value 3: a change was not captured")
control(**invariant("dynamodb-streams", "changes-captured"),
        shows="k1=1 was acknowledged before k1=3 began, but the stream records k1=3 first",
        rows=[kw(0, "k1", 1, 0, 1), kw(0, "k1", 3, 2, 3),
              stream([record(1, "k1", 2, 1, "MODIFY"), record(2, "k1", 1, 3, "INSERT")])],
        fix={2: stream([record(1, "k1", 1, 1, "INSERT"), record(2, "k1", 2, 3, "MODIFY")])},
        witness={"ops": [0, 2]}, because="Then the stream records W2 at seq 1 before W1 at seq 2")
control(**invariant("dynamodb-streams", "changes-captured"),
        shows="k1=1 was acknowledged at t=1, then k1=3 began at t=1, but the stream records k1=3 first",
        build=events,
        rows=[(0, "invoke", "write", ["k1", 1], 0), (0, "ok", "write", ["k1", 1], 1),
              (0, "invoke", "write", ["k1", 3], 1), (0, "ok", "write", ["k1", 3], 2),
              ("s", "invoke", "read-stream", None, 20, "final"),
              ("s", "ok", "read-stream", [record(1, "k1", 2, 1, "MODIFY"), record(2, "k1", 1, 3, "INSERT")], 20)],
        fix={5: ("s", "ok", "read-stream", [record(1, "k1", 1, 1, "INSERT"), record(2, "k1", 2, 3, "MODIFY")], 20)},
        witness={"ops": [0, 2]}, because="Then the stream records W2 at seq 1 before W1 at seq 2")
control(**invariant("dynamodb-streams", "changes-captured"),
        shows="the stream has a record of a write that failed (the twin: its outcome was unknown)",
        rows=[kw(0, "k1", 1, 0, 1), kw(1, "k2", 2, 2, 3, "fail"), stream([R1, R2])],
        fix={1: kw(1, "k2", 2, 2, None, "info")},
        witness={"ops": [2]}, because="a failed write. Then the stream has record")
control(**invariant("dynamodb-streams", "changes-captured"),
        shows="k1=1 was acknowledged, then a delete of k1 was, and the stream has no REMOVE record",
        rows=[kw(0, "k1", 1, 0, 1), op(0, "delete", "k1", 2, 3), stream([R1])],
        fix={2: stream([R1, record(2, "k1", 2, None, "REMOVE")])},
        witness={"ops": [0, 2, 4]}, because="so D removed the item. Then the stream read after recovery has no "
                                              "REMOVE record")
control(**invariant("dynamodb-streams", "changes-processed"),
        shows="the acknowledged write k2=2 was never applied by the handler (the twin: it was, twice)",
        rows=[kw(0, "k1", 1, 0, 1), kw(0, "k2", 2, 2, 3), op(0, "delete", "k1", 4, 5), audit([R1])],
        fix={3: audit([R1, R2, R2])},
        witness={"key": "k2", "value": 2, "applied": 1, "ops": [2, 6]},
        because="none of value 2: the handler never processed the change")
control(**invariant("dynamodb-streams", "exactly-once"),
        shows="the aggregate applied record 2 twice",
        rows=[kw(0, "k1", 1, 0, 1), kw(0, "k2", 2, 2, 3), stream([R1, R2]), audit([R1, R2, R2])],
        fix={3: audit([R1, R2])},
        witness={"record": 2, "times": 2, "count": 3, "ops": [6]},
        because="shows its handler's increment applied 2 times, so the counter is 3 for 2 distinct records")
control(**invariant("dynamodb-streams", "exactly-once"),
        shows="record 2 of the stream was never applied",
        rows=[kw(0, "k1", 1, 0, 1), kw(0, "k2", 2, 2, 3), stream([R1, R2]), audit([R1])],
        fix={3: audit([R1, R2])},
        witness={"missing": [2], "ops": [4, 6]},
        because="the aggregate has never applied it: the change was not processed")
control(**invariant("dynamodb-streams", "per-key-order"),
        shows="the handler applied k1's seq 2 before its seq 1",
        rows=[kw(0, "k1", 1, 0, 1), kw(0, "k1", 3, 2, 3), audit([R3, R2, R1])],
        fix={2: audit([R1, R2, R3])},
        witness={"key": "k1", "seqs": [2, 1], "earlier": 4, "later": 4, "ops": [4]},
        because="Then C2 delivered seq 1 after the later seq 2")
control(**invariant("dynamodb-streams", "cache-consistent"),
        shows="after settling the cache returns k1=1 while the table holds 3",
        rows=[kw(0, "k1", 1, 0, 1), kw(0, "k1", 3, 2, 3),
              op(8, "read", "k1", 10, 11, ["k1", 3], phase="final", node="table"),
              op(9, "cached-read", "k1", 12, 13, ["k1", 1], phase="final", node="cache")],
        fix={3: op(9, "cached-read", "k1", 12, 13, ["k1", 3], phase="final", node="cache")},
        witness={"key": "k1", "cached": 1, "table": 3, "ops": [6]},
        because="the cache stayed stale after invalidation")

# s3: put [k, v] (content ["v.1"]), mpu [k, v, parts, abort] (content ["v.1", ..., "v.parts"]), delete [k, None];
# get [k, None] -> [k, v, content] or [k, None, None] (no such key); list prefix -> the sorted keys under it; final
# GETs and LISTs at every front-end.
def put(p, key, v, call, ret, status="ok"):
    return (p, "put", [key, v], call, ret, status, None)


def mpu(p, key, v, parts, call, ret, status="ok"):
    return (p, "mpu", [key, v, parts, False], call, ret, status, None)


def delete(p, key, call, ret, status="ok"):
    return (p, "delete", [key, None], call, ret, status, None)


def get(p, key, v, call, ret, phase="main", node=None, content=None):
    out = [key, v, content if content is not None or v is None else [f"{v}.1"]]
    return (p, "get", [key, None], call, ret, "ok", out, phase, node)


def lst(p, prefix, keys, call, ret):
    return (p, "list", prefix, call, ret, "ok", keys)


control(**invariant("s3", "read-after-put"),
        shows="a GET after the acknowledged PUT of a new key says no such key",
        rows=[put(0, "a/1", 1, 0, 1), get(1, "a/1", None, 2, 3)], fix={1: get(1, "a/1", 1, 2, 3)},
        witness={"key": "a/1", "missed": "put", "ops": [0, 2]},
        because="(put) and R = process 1 get(['a/1', None]) -> ok ['a/1', None, None] [t=2..3]. W was acknowledged "
                "before R began, yet R saw no such key")
control(**invariant("s3", "read-after-put"),
        shows="a GET after a PUT that followed a DELETE says no such key (the twin: it returns the new object)",
        rows=[put(0, "a/1", 1, 0, 1), delete(0, "a/1", 2, 3), put(0, "a/1", 3, 4, 5), get(1, "a/1", None, 6, 7)],
        fix={3: get(1, "a/1", 3, 6, 7)},
        witness={"key": "a/1", "missed": "put", "ops": [4, 6]},
        because="yet R saw no such key, which W replaced")
control(**invariant("s3", "read-after-overwrite"),
        shows="a GET after the acknowledged overwrite with 2 returns the older object 1",
        rows=[put(0, "a/1", 1, 0, 1), put(0, "a/1", 2, 2, 3), get(1, "a/1", 1, 4, 5)], fix={2: get(1, "a/1", 2, 4, 5)},
        witness={"key": "a/1", "missed": "overwrite", "ops": [2, 4, 0]},
        because="(overwrite) and R = process 1 get(['a/1', None]) -> ok ['a/1', 1, ['1.1']] [t=4..5]. W was "
                "acknowledged before R began, yet R saw object 1")
control(**invariant("s3", "read-after-delete"),
        shows="a GET after the acknowledged DELETE returns the deleted object (the twin: no such key)",
        rows=[put(0, "a/1", 1, 0, 1), delete(0, "a/1", 2, 3), get(1, "a/1", 1, 4, 5)],
        fix={2: get(1, "a/1", None, 4, 5)},
        witness={"key": "a/1", "missed": "delete", "ops": [2, 4, 0]},
        because="(delete) and R = process 1 get(['a/1', None]) -> ok ['a/1', 1, ['1.1']] [t=4..5]. W was "
                "acknowledged before R began, yet R saw object 1")
control(**invariant("s3", "eventually-consistent"),
        shows="a final GET returns 1, older than the acknowledged overwrite with 2 (a stale GET before healing is "
              "not judged)",
        rows=[put(0, "a/1", 1, 0, 1), put(0, "a/1", 2, 2, 3), get(1, "a/1", 1, 4, 5),
              get(9, "a/1", 1, 10, 11, "final", "fe-a")],
        fix={3: get(9, "a/1", 2, 10, 11, "final", "fe-a")},
        witness={"key": "a/1", "missed": "overwrite", "ops": [2, 6, 0]},
        because="W was acknowledged before R began, yet R saw object 1")
control(**invariant("s3", "list-after-write"),
        shows="a LIST of a/ after the acknowledged PUT of a/1 omits it (b/1, not under a/, is not judged)",
        rows=[put(0, "a/1", 1, 0, 1), put(0, "b/1", 2, 2, 3), lst(1, "a/", [], 4, 5)],
        fix={2: lst(1, "a/", ["a/1"], 4, 5)},
        witness={"key": "a/1", "ops": [0, 4]},
        because="so L must show it: every delete of the key was before W; L omits 'a/1'")
control(**invariant("s3", "list-after-write"),
        shows="a LIST after the acknowledged DELETE of a/1 still shows it (the twin: it omits it)",
        rows=[put(0, "a/1", 1, 0, 1), delete(0, "a/1", 2, 3), lst(1, "", ["a/1"], 4, 5)],
        fix={2: lst(1, "", [], 4, 5)},
        witness={"key": "a/1", "ops": [2, 4]},
        because="so L must omit it: every creation of the key was before W; L shows 'a/1'")
control(**invariant("s3", "multipart-atomic"),
        shows="a GET of a completed two-part upload returns only its first part",
        rows=[mpu(0, "a/1", 1, 2, 0, 1), get(1, "a/1", 1, 2, 3, content=["1.1"])],
        fix={1: get(1, "a/1", 1, 2, 3, content=["1.1", "1.2"])},
        witness={"expected": ["1.1", "1.2"], "got": ["1.1"], "ops": [0, 2]},
        because="U's object is ['1.1', '1.2'], but R returned ['1.1']: a partial object")
control(**invariant("s3", "no-lost-objects"),
        shows="after recovery a GET returns 1, older than the acknowledged overwrite with 2",
        rows=[put(0, "a/1", 1, 0, 1), put(0, "a/1", 2, 2, 3), get(9, "a/1", 1, 10, 11, "final", "fe-a"),
              get(10, "a/1", 2, 12, 13, "final", "fe-b")],
        fix={2: get(9, "a/1", 2, 10, 11, "final", "fe-a")},
        witness={"key": "a/1", "missed": "overwrite", "ops": [2, 4, 0]},
        because="W was acknowledged before R began, yet R saw object 1")
control(**invariant("s3", "no-lost-objects"),
        shows="after recovery a GET of a/1 at fe-b gets no answer (the twin: it returns the object)",
        rows=[put(0, "a/1", 1, 0, 1), get(9, "a/1", 1, 10, 11, "final", "fe-a"),
              (10, "get", ["a/1", None], 12, 13, "fail", None, "final", "fe-b")],
        fix={2: get(10, "a/1", 1, 12, 13, "final", "fe-b")},
        witness={"ops": [4]},
        because="After healing and recovery every GET must answer, yet R did not")
control(target="invariants.object_store.check_object_read_after_write", check=check_object_read_after_write,
        shows="a GET returns the object of an aborted upload (the twin: the upload completed)",
        rows=[mpu(0, "a/1", 1, 2, 0, 1, "fail"), get(1, "a/1", 1, 2, 3, content=["1.1", "1.2"])],
        fix={0: mpu(0, "a/1", 1, 2, 0, 1)},
        witness={"key": "a/1", "ops": [2, 0]},
        because="R returned object 1, an upload that failed or was aborted")
control(target="invariants.object_store.check_object_read_after_write", check=check_object_read_after_write,
        shows="every kind counts by default: a GET after an acknowledged DELETE returns the deleted object",
        rows=[put(0, "a/1", 1, 0, 1), put(0, "a/1", 2, 2, 3), delete(0, "a/1", 4, 5), get(1, "a/1", 2, 6, 7)],
        fix={3: get(1, "a/1", None, 6, 7)},
        witness={"key": "a/1", "missed": "delete", "ops": [4, 6, 2]},
        because="(delete) and R = process 1 get")

# aurora: an unkeyed register; writes go through the writer, "read" is a writer read, "replica-read" a read replica's,
# "volume-read" a read-quorum read of the volume. Final reads: a writer read and a volume read on db1, a replica read
# on each instance; only the first two are judged for durability.
def aread(p, f, v, call, ret, phase="main", node=None):
    return (p, f, None, call, ret, "ok", v, phase, node)


control(**invariant("aurora", "no-lost-writes"),
        shows="the final volume read returns 1, older than the acknowledged W(2) (a stale final replica read is "
              "not judged)",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, 3), aread(9, "read", 2, 10, 11, "final", "db1"),
              aread(10, "volume-read", 1, 12, 13, "final", "db1"), aread(11, "replica-read", 1, 14, 15, "final", "db2")],
        fix={3: aread(10, "volume-read", 2, 12, 13, "final", "db1")},
        witness={"lost_write": 2, "lost_writes": [2], "final_read": 6, "stale_write": 0, "value": 1},
        because="W is lost")
control(**invariant("aurora", "linearizable"),
        shows="writer reads during W(2) return 2, then 1 (a stale replica read between them is not judged)",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, 9), aread(1, "read", 2, 3, 4), aread(2, "replica-read", 1, 4.5, 4.8),
              aread(1, "read", 1, 5, 6)],
        fix={4: aread(1, "read", 2, 5, 6)},
        witness={"failed_op": 7, "longest_prefix": [0, 2, 3], "states": ["2"]},
        because="a contradiction!")
control(**invariant("aurora", "observed-writes-durable"),
        shows="a replica read returns 2, from a write never acknowledged, then the final reads return 1 (the twin: "
              "the replica read returns 1)",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, None, "info"), aread(1, "replica-read", 2, 3, 4),
              aread(9, "read", 1, 10, 11, "final", "db1"), aread(10, "volume-read", 1, 12, 13, "final", "db1")],
        fix={2: aread(1, "replica-read", 1, 3, 4)},
        witness={"lost_write": 2, "observed_by": 3, "final_read": 5, "ops": [2, 3, 0, 5]},
        because="it was never acknowledged, but process 1 replica-read")
control(target="invariants.observed_durability.check_observed_writes_durable", check=check_observed_writes_durable,
        shows="the final read returns 2, whose only write failed (the twin: its outcome was unknown)",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, 3, "fail"), final(9, 2, 10)],
        fix={1: w(0, 2, 2, None, "info")},
        witness={"final_read": 4, "ops": [4]},
        because="which no write that may have happened wrote")

# elasticache-redis: an unkeyed register at the primary; final reads through every node.
control(**invariant("elasticache-redis", "no-lost-writes"),
        shows="after recovery the read through n2 returns 1, older than the acknowledged W(2) (lost in a failover)",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, 3), final(9, 2, 10, "n1"), final(10, 1, 11, "n2")],
        fix={3: final(10, 2, 11, "n2")},
        witness={"lost_write": 2, "final_read": 6, "stale_write": 0, "value": 1},
        because="W is lost")
control(**invariant("elasticache-redis", "linearizable"),
        shows="two sequential reads during W(2) return 2, then 1: new-then-old (the twin: 2, then 2)",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, 9), r(1, 2, 3, 4), r(1, 1, 5, 6)], fix={3: r(1, 2, 5, 6)},
        witness={"failed_op": 5, "longest_prefix": [0, 2, 3], "states": ["2"]},
        because="a contradiction!")
control(**invariant("elasticache-redis", "convergence"),
        shows="after settling the reads through n1 and n2 return 2 and 1 (two primaries)",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, 3), final(9, 2, 10, "n1"), final(10, 1, 11, "n2"), final(11, 2, 12, "n3")],
        fix={3: final(10, 2, 11, "n2")},
        witness={"reads": [4, 6], "nodes": ["n1", "n2"], "values": [2, 1]},
        because="they did not converge")

# active-passive: an unkeyed register through DNS; one final read through the resolver.
control(**invariant("active-passive", "no-lost-writes"),
        shows="after failover the final read returns 1, older than the acknowledged W(2) (async replication lost it)",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, 3), final(9, 1, 10, "dns")],
        fix={2: final(9, 2, 10, "dns")},
        witness={"lost_write": 2, "final_read": 4, "stale_write": 0, "value": 1},
        because="W is lost")
control(**invariant("active-passive", "linearizable"),
        shows="two sequential reads during W(2) return 2, then 1: new-then-old across the two regions",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, 9), r(1, 2, 3, 4), r(1, 1, 5, 6)], fix={3: r(1, 2, 5, 6)},
        witness={"failed_op": 5, "longest_prefix": [0, 2, 3], "states": ["2"]},
        because="a contradiction!")

# timestream: writes of [series, timestamp, value] and range queries [lo, hi] returning points.
def tw(p, series, ts, v, call, ret, status="ok"):
    return (p, "write", [series, ts, v], call, ret, status, None, "main", "memory")


def tq(p, points, call, ret, phase="main", lo=0.0, hi=100.0):
    return (p, "query", [lo, hi], call, ret, "ok", points, phase, "memory")


control(**invariant("timestream", "no-lost-points"),
        shows="a query after W was acknowledged, covering its timestamp, does not return its point",
        rows=[tw(0, "s1", 1.0, 7, 0, 1), tw(1, "s1", 2.0, 8, 0, 1, "info"), tq(2, [["s1", 2.0, 8]], 2, 3)],
        fix={2: tq(2, [["s1", 1.0, 7], ["s1", 2.0, 8]], 2, 3)},
        witness={"lost_point": ["s1", 1.0, 7], "write": 0, "ops": [0, 4]},
        because="which covers W's timestamp 1.0. Then Q returned 1 points and not W's point")
control(**invariant("timestream", "no-duplicate-points"),
        shows="a query returns the point of s1 at t=1.0 twice",
        rows=[tw(0, "s1", 1.0, 7, 0, 1), tq(1, [["s1", 1.0, 7], ["s1", 1.0, 7]], 2, 3)],
        fix={1: tq(1, [["s1", 1.0, 7]], 2, 3)},
        witness={"duplicated": ["s1", 1.0], "times": 2, "ops": [2]},
        because="but a point is one (series, timestamp)")
control(**invariant("timestream", "no-phantom-points"),
        shows="a query returns a value no write wrote at that point",
        rows=[tw(0, "s1", 1.0, 7, 0, 1), tq(1, [["s1", 1.0, 9]], 2, 3)],
        fix={1: tq(1, [["s1", 1.0, 7]], 2, 3)},
        witness={"phantom": ["s1", 1.0, 9], "ops": [2]},
        because="which no write that may have happened wrote")
control(**invariant("timestream", "no-duplicates-after-migration"),
        shows="a final query, once every point is in magnetic, returns a point twice (a batch copied twice)",
        rows=[tw(0, "s1", 1.0, 7, 0, 1), tq(1, [["s1", 1.0, 7]], 2, 3),
              tq(2, [["s1", 1.0, 7], ["s1", 1.0, 7]], 4, 5, phase="final")],
        fix={2: tq(2, [["s1", 1.0, 7]], 4, 5, phase="final")},
        witness={"duplicated": ["s1", 1.0], "times": 2},
        because="but a point is one (series, timestamp)")




# == retries (protocols/retries, invariants/idempotency.py) =========================================================
# An add's value is [n, key] and its ok value [n answered, balance]; the final read returns [balance, applied,
# version]; the final audit returns the caller's log of [kind, time, ...] entries.
def _add(p, n, key, call, ret, out=None, status="ok", phase="main"):
    return op(p, "add", [n, key], call, ret, out, status, phase)


def _state(applied, call=8.0):
    return op(900, "read", None, call, call + 0.5, [sum(applied), list(applied), 0], phase="final")


def _log(entries, call=9.0):
    return op(901, "audit", None, call, call + 0.5, [list(e) for e in entries], phase="final")


control(**invariant("retries", "applied-at-most-once"),
        shows="add(1) was invoked once and the final read shows it applied twice (the twin: once)",
        rows=[_add(0, 1, "k1", 0, 1, [1, 1]), _state([1, 1])], fix={1: _state([1])},
        witness={"op": 1, "times": 2, "final_read": 2}, because="applied 2 times")
control(**invariant("retries", "acknowledged-applied"),
        shows="add(1) was acknowledged and the final read's applied log is empty (the twin: it lists 1)",
        rows=[_add(0, 1, "k1", 0, 1, [1, 1]), _state([])], fix={1: _state([1])},
        witness={"op": 1, "lost": 0}, because="an acknowledged add is lost")
control(**invariant("retries", "replies-match-requests"),
        shows="add(2) under add(1)'s key k1 is acknowledged with add(1)'s reply (the twin: its own)",
        rows=[_add(0, 1, "k1", 0, 1, [1, 1]), _add(1, 2, "k1", 2, 3, [1, 1])], fix={1: _add(1, 2, "k1", 2, 3, [2, 3])},
        witness={"op": 2, "answered": 1, "key": "k1", "ops": [2, 0]}, because="wrong cached reply")
control(**invariant("retries", "attempts-bounded"),
        shows="the caller's audit shows 6 attempts of operation 1 (the twin: 5, the design's upper bound)",
        rows=[_add(0, 1, "k1", 0, 4, None, "info"), _log([["attempt", 0.5 * i, 1, "call"] for i in range(6)])],
        fix={1: _log([["attempt", 0.5 * i, 1, "call"] for i in range(5)])},
        witness={"op": 1, "attempts": 6, "limit": 5}, because="retried without a bound")
control(**invariant("retries", "breaker-respected"),
        shows="operation 1 made an attempt at t=1.5 while the breaker, open since t=1, had not half-opened (the "
              "twin: the caller only received an operation then)",
        rows=[_add(0, 1, "k1", 0, 3, [1, 1]),
              _log([["start", 0, 1], ["open", 1.0], ["attempt", 1.5, 1, "call"], ["half-open", 2.0],
                    ["attempt", 2.0, 1, "probe"], ["close", 2.1]])],
        fix={1: _log([["start", 0, 1], ["open", 1.0], ["recv", 1.5, 2], ["half-open", 2.0],
                      ["attempt", 2.0, 1, "probe"], ["close", 2.1]])},
        witness={"op": 1, "at": 1.5, "entry": 2}, because="a call went through an open breaker")
control(**invariant("retries", "available-after-recovery"),
        shows="after recovery the add through the caller still failed (the twin: it succeeded)",
        rows=[_add(0, 1, "k1", 0, 1, [1, 1]), _add(900, 1_000_000, "k1000000", 8, 8.5, None, "fail", "final")],
        fix={1: _add(900, 1_000_000, "k1000000", 8, 8.5, [1_000_000, 1_000_001], "ok", "final")},
        witness={"op": 1_000_000, "ops": [2]}, because="availability never returned")
control(**invariant("retries", "answers-in-time"),
        shows="the caller received operation 1 at t=0 and answered at t=6 (the twin: at t=1)",
        rows=[_add(0, 1, "k1", 0, 5, None, "info"), _log([["start", 0, 1], ["recv", 0, 1], ["answer", 6.0, 1, "ok"]])],
        fix={1: _log([["start", 0, 1], ["recv", 0, 1], ["answer", 1.0, 1, "ok"]])},
        witness={"op": 1, "received": 0, "limit": 5.0}, because="waited longer than 5 s")


# == sqs: consumers' logs (invariants/queues.py) ====================================================================
# send {"id", "group", "poison"} -> ok; consume -> ok {"visibility", "held": [entry, ...]}; final read-dlq -> ok
# {"max_receive_count", "messages"}. An entry: what one consumer did with one message it received (see the module).
def sqs_send(p, mid, call, ret, group="g1", poison=False, status="ok"):
    value = {"id": mid, "group": group, "poison": poison}
    return (p, "send", value, call, ret, status, value)


def sqs_entry(mid, received, lease, outcome="processed", processed_at=None, deleted=None, group="g1", copy=None,
              batch=0, released_at=None):
    return {"id": mid, "group": group, "copy": copy or str(mid), "poison": False, "batch": batch,
            "received": [received, received], "lease": lease, "outcome": outcome,
            "processed_at": processed_at, "released_at": released_at, "deleted": deleted}


def sqs_consume(p, entries, call, ret, phase="main", f="consume"):
    return (p, f, {"host": "h1"}, call, ret, "ok", {"visibility": 3.0, "held": entries, "crashed": False}, phase,
            "h1")


def sqs_dlq(messages, limit=3, call=50):
    return ("d", "read-dlq", None, call, call + 0.1, "ok", {"max_receive_count": limit, "messages": messages},
            "final", "h1")


def sqs_dead(mid, receives=3, group="g1"):
    return {"id": mid, "group": group, "copy": str(mid), "receives": receives}


control(**invariant("sqs", "at-least-once"),
        shows="message 2 was acknowledged, never processed, and is not in the dead-letter queue (the twin: it is)",
        rows=[sqs_send(0, 1, 0, 1), sqs_send(0, 2, 2, 3),
              sqs_consume(1, [sqs_entry(1, 4, 7, processed_at=4.2, deleted=[4.2, 4.3])], 4, 5), sqs_dlq([])],
        fix={3: sqs_dlq([sqs_dead(2)])},
        witness={"lost": [2], "send": 2, "ops": [2, 6]},
        because="Then no consumer processed it and the dead-letter queue read after recovery")
control(**invariant("sqs", "at-least-once"),
        shows="a consumer crashed holding message 1, which never came back (the twin: a later consumer processed it)",
        rows=[sqs_send(0, 1, 0, 1), sqs_consume(1, [sqs_entry(1, 2, 5, outcome="dropped")], 2, 3),
              sqs_consume(2, [], 6, 7), sqs_dlq([])],
        fix={2: sqs_consume(2, [sqs_entry(1, 6, 9, processed_at=6.2, deleted=[6.2, 6.3])], 6, 7)},
        witness={"lost": [1], "ops": [0, 6]},
        because="the message was lost")
control(**invariant("sqs", "exactly-once"),
        shows="message 1 is processed again after the queue acknowledged its delete (the twin: that delete, invoked "
              "within the lease, was never acknowledged)",
        rows=[sqs_send(0, 1, 0, 1),
              sqs_consume(1, [sqs_entry(1, 2, 5, processed_at=2.2, deleted=[2.2, 2.3])], 2, 3),
              sqs_consume(2, [sqs_entry(1, 6, 9, processed_at=6.2, deleted=[6.2, 6.3])], 6, 7)],
        fix={1: sqs_consume(1, [sqs_entry(1, 2, 5, processed_at=2.2, deleted=[2.2, None])], 2, 3)},
        witness={"duplicate": 1, "processed": [2, 4], "ops": [2, 4]},
        because="had its delete acknowledged at t=2.3. Then P2 processed it again")
control(**invariant("sqs", "exactly-once"),
        shows="a consumer processed message 1 after its lease ran out, and the queue gave it to another (the twin: "
              "it processed in time and its delete was lost)",
        rows=[sqs_send(0, 1, 0, 1),
              sqs_consume(1, [sqs_entry(1, 2, 5, processed_at=7, deleted=[7, None])], 2, 8),
              sqs_consume(2, [sqs_entry(1, 6, 9, processed_at=7.5, deleted=[7.5, 7.6])], 6, 8)],
        fix={1: sqs_consume(1, [sqs_entry(1, 2, 5, processed_at=4, deleted=[4, None])], 2, 8)},
        witness={"duplicate": 1, "processed": [2, 3]},
        because="after its lease ended at t=5")
control(**invariant("sqs", "exactly-once"),
        shows="a consumer processed message 2, whose only send failed (the twin: its outcome was unknown)",
        rows=[sqs_send(0, 2, 0, 1, status="fail"),
              sqs_consume(1, [sqs_entry(2, 2, 5, processed_at=2.2, deleted=[2.2, 2.3])], 2, 3)],
        fix={0: sqs_send(0, 2, 0, None, status="info")},
        witness={"phantom": 2, "ops": [0, 2]},
        because="But its only sends failed")
control(**invariant("sqs", "fifo-order"),
        shows="message 1 of g1 was acknowledged before message 2 was sent, but 2 was processed first",
        rows=[sqs_send(0, 1, 0, 1), sqs_send(0, 2, 2, 3),
              sqs_consume(1, [sqs_entry(1, 4, 7, processed_at=5, deleted=[5, 5.1])], 4, 6),
              sqs_consume(2, [sqs_entry(2, 4, 7, processed_at=4.5, deleted=[4.5, 4.6])], 4, 6)],
        fix={3: sqs_consume(2, [sqs_entry(2, 4, 7, processed_at=5.5, deleted=[5.5, 5.6])], 4, 6)},
        witness={"group": "g1", "first_sent": 1, "processed_first": 2, "ops": [0, 2, 4, 5]},
        because="Then P2 processed S2's message 2 at t=4.5, before P1 first processed S1's message 1 at t=5")
control(**invariant("sqs", "group-lock"),
        shows="a second consumer received g1's message 2 while the first still held message 1 (the twin: after the "
              "first invoked its delete)",
        rows=[sqs_send(0, 1, 0, 0.4), sqs_send(0, 2, 0.5, 0.9),
              sqs_consume(1, [sqs_entry(1, 1, 4, processed_at=2.8, deleted=[3, 3.1])], 1, 3.2),
              sqs_consume(2, [sqs_entry(2, 2, 5, processed_at=2.5, deleted=[2.5, 2.6])], 2, 2.7)],
        fix={3: sqs_consume(2, [sqs_entry(2, 3.5, 6.5, processed_at=3.6, deleted=[3.6, 3.7])], 3.5, 3.8)},
        witness={"group": "g1", "held": [1], "received": [2], "at": [1, 2], "ops": [4, 5]},
        because="two consumers held one group's messages at once")
control(**invariant("sqs", "visibility"),
        shows="a consumer crashed holding message 1 and another received it before the lease ran out (the twin: "
              "after)",
        rows=[sqs_send(0, 1, 0, 0.5), sqs_consume(1, [sqs_entry(1, 1, 4, outcome="dropped")], 1, 1.1),
              sqs_consume(2, [sqs_entry(1, 3, 6, processed_at=3.2, deleted=[3.2, 3.3])], 3, 3.4)],
        fix={2: sqs_consume(2, [sqs_entry(1, 4, 7, processed_at=4.2, deleted=[4.2, 4.3])], 4, 4.4)},
        witness={"copy": "1", "held_until": 4, "received": [1, 3], "ops": [2, 4]},
        because="while it was to be invisible")
control(**invariant("sqs", "poison-redriven"),
        shows="poison message 1 is not in the dead-letter queue and g1's next message was never processed (the "
              "twin: it was redriven after 3 receives)",
        rows=[sqs_send(0, 1, 0, 1, poison=True), sqs_send(0, 2, 2, 3),
              sqs_consume(1, [sqs_entry(1, 4, 7, outcome="failed", released_at=4.2)], 4, 5), sqs_dlq([])],
        fix={3: sqs_dlq([sqs_dead(1)])},
        witness={"poison": 1, "blocked": 1, "ops": [0, 6]},
        because="1 acknowledged messages of its group 'g1' were never processed: it was never redriven")
control(**invariant("sqs", "poison-redriven"),
        shows="message 1 was dead-lettered after 1 receive, below maxReceiveCount 3 (the twin: after 3)",
        rows=[sqs_send(0, 1, 0, 1, poison=True), sqs_dlq([sqs_dead(1, receives=1)])],
        fix={1: sqs_dlq([sqs_dead(1, receives=3)])},
        witness={"early": 1, "receives": 1, "limit": 3, "ops": [2]},
        because="fewer than maxReceiveCount 3")


# == cells and shuffle-sharding: a placement operation names every customer's cell (shards) and the poison ========
def placed(kind, units, poison="p"):
    return op(90, "placement", {"kind": kind, "poison": poison, "units": units}, 20, 20.5, phase="final")


def req(p, customer, call, status="ok", unit=None, phase="main"):
    return op(p, "request", [customer, call], call, call + 0.5, [customer, unit] if status == "ok" else None,
              status, phase)


CELL_UNITS = {"p": ["cell-1"], "a": ["cell-1"], "b": ["cell-2"]}
control(**invariant("cells", "blast-radius"),
        shows="after the poison customer p (cell-1) sent a request, b in cell-2 is refused",
        rows=[req(0, "p", 1, "fail"), req(1, "b", 2, "fail"), req(2, "a", 3, "fail"), placed("cell", CELL_UNITS)],
        fix={1: req(1, "b", 2, "ok", "cell-2")},
        witness={"poison": "p", "customer": "b", "units": ["cell-2"], "ops": [0, 2]},
        because="the blast radius reached a customer outside it")
control(**invariant("cells", "blast-radius-after-recovery"),
        shows="after recovery b (cell-2) is refused; in the main phase b failing is not judged here",
        rows=[req(0, "p", 1, "fail"), req(1, "b", 2, "fail"), placed("cell", CELL_UNITS),
              req(91, "p", 21, "fail", phase="final"), req(92, "b", 22, "fail", phase="final")],
        fix={4: req(92, "b", 22, "ok", "cell-2", phase="final")},
        witness={"poison": "p", "customer": "b", "status": "fail"},
        because="the blast radius reached a customer outside it")
control(**invariant("cells", "blast-radius-after-recovery"),
        shows="a rollout whose canary is cell-1 leaves b in cell-2 down after recovery (it went everywhere at once)",
        rows=[op(90, "placement", {"kind": "cell", "canary": ["cell-1"], "trigger": "rollout",
                                   "units": {"a": ["cell-1"], "b": ["cell-2"]}}, 20, 20.5, phase="final"),
              op(91, "rollout", None, 21, 21.5, {"done": [], "halted": ["cell-1"]}, phase="final"),
              req(92, "a", 22, "fail", phase="final"), req(93, "b", 23, "fail", phase="final")],
        fix={3: req(93, "b", 23, "ok", "cell-2", phase="final")},
        witness={"poison": None, "poison_units": ["cell-1"], "customer": "b"},
        because="the rollout of a bad version, whose canary is cells {cell-1}")
control(**invariant("cells", "served-by-home-cell"),
        shows="customer a of cell-1 is served by cell-2 (the router spilled it)",
        rows=[req(0, "a", 1, "ok", "cell-2"), req(1, "b", 2, "ok", "cell-2"), placed("cell", CELL_UNITS)],
        fix={0: req(0, "a", 1, "ok", "cell-1")},
        witness={"customer": "a", "served_by": "cell-2", "units": ["cell-1"]},
        because="traffic crossed cells")
control(**invariant("cells", "cell-down-together"),
        shows="after recovery a, in the poison's cell-1, is still served (the poison took one replica only)",
        rows=[placed("cell", CELL_UNITS), req(91, "p", 21, "fail", phase="final"),
              req(92, "a", 22, "ok", "cell-1", phase="final"), req(93, "b", 23, "ok", "cell-2", phase="final")],
        fix={2: req(92, "a", 22, "fail", phase="final")},
        witness={"poison": "p", "customer": "a"},
        because="the outage did not take down what it hit")

SHARD_UNITS = {"p": ["shard-0", "shard-3"], "twin": ["shard-0", "shard-3"], "near": ["shard-0", "shard-5"],
               "far": ["shard-1", "shard-2"]}
control(**invariant("shuffle-sharding", "blast-radius"),
        shows="near shares one shard with the poison and is refused after it (no retry on shard-5)",
        rows=[req(0, "p", 1, "fail"), req(1, "twin", 2, "fail"), req(2, "near", 3, "fail"),
              req(3, "far", 4, "ok", "shard-1"), placed("shard", SHARD_UNITS)],
        fix={2: req(2, "near", 3, "ok", "shard-5")},
        witness={"customer": "near", "poison_units": ["shard-0", "shard-3"], "units": ["shard-0", "shard-5"]},
        because="which are not all P's")
control(**invariant("shuffle-sharding", "blast-radius-after-recovery"),
        shows="after recovery far, sharing no shard with the poison, is refused (the poison retried everywhere)",
        rows=[placed("shard", SHARD_UNITS), req(91, "p", 21, "fail", phase="final"),
              req(92, "twin", 22, "fail", phase="final"), req(93, "far", 23, "fail", phase="final")],
        fix={3: req(93, "far", 23, "ok", "shard-2", phase="final")},
        witness={"customer": "far", "units": ["shard-1", "shard-2"]},
        because="the blast radius reached a customer outside it")
control(**invariant("shuffle-sharding", "served-by-own-shards"),
        shows="near (shards 0, 5) is served by shard-7",
        rows=[req(0, "near", 1, "ok", "shard-7"), placed("shard", SHARD_UNITS)],
        fix={0: req(0, "near", 1, "ok", "shard-5")},
        witness={"customer": "near", "served_by": "shard-7"},
        because="traffic crossed shards")
control(**invariant("shuffle-sharding", "sharing-all-shards-down"),
        shows="after recovery twin, on the poison's very shards, is served",
        rows=[placed("shard", SHARD_UNITS), req(91, "p", 21, "fail", phase="final"),
              req(92, "twin", 22, "ok", "shard-3", phase="final")],
        fix={2: req(92, "twin", 22, "fail", phase="final")},
        witness={"customer": "twin", "poison": "p"},
        because="the outage did not take down what it hit")


# == lambda =========================================================================================================
# Invokes carry [event, kind, duration, key]; the final reads give the function's configuration (placement), the
# slots still taken (placement), the execution records (store) and the on-failure destination's entries.
LAMBDA_CONFIG = {"concurrency_limit": 2, "timeout": 3.0, "maximum_retry_attempts": 2, "maximum_event_age": 120.0}


def lx(exec_id, event, begin, commit=None, end=None, kind="work", sandbox="w1.1.1", key=None, ticket=None):
    """An execution record as the store keeps it."""
    return {"exec": exec_id, "event": event, "kind": kind, "sandbox": sandbox, "begin": begin, "commit": commit,
            "end": end, "outcome": None if end is None else ("ok" if commit is not None else "error"), "key": key,
            "ticket": ticket}


def lread(p, f, out, call, node):
    return op(p, f, None, call, call + 0.5, out, phase="final", node=node)


def lfinals(executions, failures=(), held=(), at=100):
    """The four final reads, in the order the protocol makes them (call indices from 2 x the rows before them)."""
    return [lread(90, "get-function-configuration", LAMBDA_CONFIG, at, "placement"),
            lread(91, "slots", {"held": list(held)}, at + 1, "placement"),
            lread(92, "executions", list(executions), at + 2, "store"),
            lread(93, "failures", list(failures), at + 3, "destination")]


def linvoke(p, event, kind, call, ret=None, status="ok"):
    return op(p, "invoke", [event, kind, 0.2, None], call, call if ret is None else ret, event, status, node="fe1")


def lfail(event, at, reason="retries-exhausted"):
    return {"event": event, "reason": reason, "at": at, "tries": 3, "errors": 3}


control(**invariant("lambda", "concurrency-limit"),
        shows="three executions run at t=1 against a limit of 2 (the twin: the third begins as the first ends)",
        rows=[*lfinals([lx("1.1", 1, 0.0, 2.0, 2.0), lx("2.1", 2, 0.5, 1.5, 1.5), lx("3.1", 3, 1.0, None, 1.2)])],
        fix={2: lread(92, "executions", [lx("1.1", 1, 0.0, 2.0, 2.0), lx("2.1", 2, 0.5, 1.5, 1.5),
                                         lx("3.1", 3, 2.0, None, 2.2)], 102, "store")},
        witness={"limit": 2, "running": 3, "at": 1.0, "executions": ["1.1", "2.1", "3.1"], "ops": [4]},
        because="Then all 3 were running at t=1")
control(**invariant("lambda", "slots-released"),
        shows="after settling the placement still holds a slot (the twin: none)",
        rows=[*lfinals([lx("1.1", 1, 0.0, 1.0, 1.0)], held=["fe1.1.1"])],
        fix={1: lread(91, "slots", {"held": []}, 101, "placement")},
        witness={"held": ["fe1.1.1"], "ops": [2]},
        because="the placement still counts 1 slot(s) as taken (fe1.1.1)")
control(**invariant("lambda", "events-accounted"),
        shows="an accepted poison event began once, never committed and is not in the destination (the twin: it is)",
        rows=[linvoke(0, 1, "poison", 0), *lfinals([lx("1.1", 1, 0.5, None, 0.7, kind="poison")])],
        fix={4: lread(93, "failures", [lfail(1, 5.0)], 103, "destination")},
        witness={"event": 1, "executions": ["1.1"], "ops": [0, 6, 8]},
        because="the event was dropped silently")
control(**invariant("lambda", "no-processing-after-failure"),
        shows="an execution commits at t=6 after its event went to the destination at t=5 (the twin: at t=4)",
        rows=[linvoke(0, 1, "work", 0),
              *lfinals([lx("1.3", 1, 3.5, 6.0, 6.0)], failures=[lfail(1, 5.0)])],
        fix={3: lread(92, "executions", [lx("1.3", 1, 3.5, 4.0, 4.0)], 102, "store")},
        witness={"event": 1, "exec": "1.3", "sent_at": 5.0, "commit": 6.0, "ops": [6, 8]},
        because="Then X committed its side effect after the event was sent to the failure destination")
control(**invariant("lambda", "no-processing-after-failure"),
        shows="an execution begins at t=7 after its event went to the destination at t=5 (the twin: it began at t=4)",
        rows=[linvoke(0, 1, "poison", 0),
              *lfinals([lx("1.4", 1, 7.0, None, 7.2, kind="poison")], failures=[lfail(1, 5.0)])],
        fix={3: lread(92, "executions", [lx("1.4", 1, 4.0, None, 4.2, kind="poison")], 102, "store")},
        witness={"event": 1, "exec": "1.4", "begin": 7.0, "ops": [6, 8]},
        because="Then X began after the event was sent to the failure destination")
control(**invariant("lambda", "failure-after-retries"),
        shows="an event is given up 2 s after its invoke with one execution begun (the twin: three began)",
        rows=[linvoke(0, 1, "work", 0),
              *lfinals([lx("1.1", 1, 0.5, None, 0.7)], failures=[lfail(1, 2.0)])],
        fix={3: lread(92, "executions", [lx("1.1", 1, 0.5, None, 0.7), lx("1.2", 1, 1.0, None, 1.2),
                                         lx("1.3", 1, 1.5, None, 1.7)], 102, "store")},
        witness={"event": 1, "began": 1, "age": 2.0, "ops": [0, 8]},
        because="when only 1 execution(s) of it had begun, fewer than the 3 attempts a failure needs")
control(**invariant("lambda", "failure-after-retries"),
        shows="the maximum event age excuses too few executions: given up at 150 s with none begun is fine, at "
              "100 s it is not",
        rows=[linvoke(0, 1, "work", 0), *lfinals([lx("2.1", 2, 0.5, 1.0, 1.0)], failures=[lfail(1, 100.0)], at=200)],
        fix={4: lread(93, "failures", [lfail(1, 150.0, "maximum-event-age")], 203, "destination")},
        witness={"event": 1, "began": 0, "ops": [0, 8]},
        because="younger than the maximum event age of 120 s")
control(**invariant("lambda", "timeout-enforced"),
        shows="an execution commits 4 s after it began, past the 3 s timeout (the twin: after 2.9 s)",
        rows=[*lfinals([lx("1.1", 1, 1.0, 5.0, 5.0)])],
        fix={2: lread(92, "executions", [lx("1.1", 1, 1.0, 3.9, 3.9)], 102, "store")},
        witness={"exec": "1.1", "ran": 4.0, "timeout": 3.0, "ops": [4]},
        because="past the function's timeout of 3 s")
control(**invariant("lambda", "timeout-enforced"),
        shows="an execution that never committed reports its end 5 s after it began (the twin: it was stopped at 3 s)",
        rows=[*lfinals([lx("1.1", 1, 1.0, None, 6.0, kind="slow"), lx("2.1", 2, 1.0, 1.2, 1.2)])],
        fix={2: lread(92, "executions", [lx("1.1", 1, 1.0, None, 4.0, kind="slow"), lx("2.1", 2, 1.0, 1.2, 1.2)],
                      102, "store")},
        witness={"exec": "1.1", "ran": 5.0},
        because="was still running 5 s after it began")
control(**invariant("lambda", "stateless-tallies"),
        shows="two tally events of k1 on two sandboxes both count 1 (the twin: the second counts 2)",
        rows=[*lfinals([lx("1.1", 1, 0.0, 0.2, 0.2, "tally", "w1.1.1", "k1", 1),
                        lx("2.1", 2, 1.0, 1.2, 1.2, "tally", "w2.1.1", "k1", 1)])],
        fix={2: lread(92, "executions", [lx("1.1", 1, 0.0, 0.2, 0.2, "tally", "w1.1.1", "k1", 1),
                                         lx("2.1", 2, 1.0, 1.2, 1.2, "tally", "w2.1.1", "k1", 2)], 102, "store")},
        witness={"key": "k1", "ticket": 1, "events": [1, 2], "sandboxes": ["w1.1.1", "w2.1.1"], "ops": [4]},
        because="Then both counted 1")
control(**invariant("lambda", "stateless-tallies"),
        shows="one event retried on two sandboxes may count twice, but another event may not share its count",
        rows=[*lfinals([lx("1.1", 1, 0.0, 0.2, 0.2, "tally", "w1.1.1", "k1", 1),
                        lx("1.2", 1, 1.0, 1.2, 1.2, "tally", "w1.1.1", "k1", 2),
                        lx("2.1", 2, 2.0, 2.2, 2.2, "tally", "w2.1.1", "k1", 2)])],
        fix={2: lread(92, "executions", [lx("1.1", 1, 0.0, 0.2, 0.2, "tally", "w1.1.1", "k1", 1),
                                         lx("1.2", 1, 1.0, 1.2, 1.2, "tally", "w1.1.1", "k1", 2),
                                         lx("2.1", 2, 2.0, 2.2, 2.2, "tally", "w2.1.1", "k1", 3)], 102, "store")},
        witness={"key": "k1", "ticket": 2, "events": [1, 2]},
        because="Then both counted 2")
# == kafka and kinesis: partitioned logs (invariants/logs.py) =======================================================
# produce {"partition", "id"} -> ok {"partition", "offset", "id"}; replay {"partition", "from"} -> records; final
# read-log {"partition"} -> the committed log; final audit -> {"outputs": [...]} (group, member, generation,
# partition, offset, id). Kinesis uses the same conventions (a shard is a partition, a session a generation).
from invariants.logs import (  # noqa: E402
    check_exactly_once_output,
    check_groups_see_all,
    check_no_duplicate_records,
    check_no_lost_acked,
    check_offsets_consistent,
    check_partition_order,
)


def prod(p, part, rid, call, ret, status="ok", offset=0):
    return (p, "produce", {"partition": part, "id": rid}, call, ret, status,
            {"partition": part, "offset": offset, "id": rid})


def recs(part, ids):
    return [{"partition": part, "offset": o, "id": rid} for o, rid in ids]


def readlog(p, part, ids, call=10):
    return (p, "read-log", {"partition": part}, call, call + 0.5, "ok", recs(part, enumerate(ids)), "final", "b1")


def readlog_from(p, part, start, pairs, call=10):
    """A final read after retention deleted the records below ``start``."""
    return (p, "read-log", {"partition": part}, call, call + 0.5, "ok", {"start": start, "records": recs(part, pairs)},
            "final", "b1")


RETAINED = [prod(0, 0, 1, 0, 1), prod(1, 0, 2, 2, 3, offset=1), prod(1, 0, 3, 4, 5, offset=2)]


def replay(p, part, pairs, call, ret):
    return (p, "replay", {"partition": part, "from": 0}, call, ret, "ok", recs(part, pairs))


def out(group, member, gen, part, off, rid):
    return {"group": group, "member": member, "generation": gen, "partition": part, "offset": off, "id": rid}


def audit(outputs, call=12):
    return ("audit", "audit", None, call, call + 0.5, "ok", {"outputs": outputs}, "final", "ctl")


LOG = [prod(0, 0, 1, 0, 1), prod(1, 0, 2, 2, 3, offset=1)]
BOTH = [out("app", "w1", 1, 0, 0, 1), out("app", "w1", 1, 0, 1, 2), out("mirror", "w3", 1, 0, 0, 1),
        out("mirror", "w3", 1, 0, 1, 2)]


def _log_controls(target: str, check, *, kinesis: bool = False) -> None:
    """The controls every log checker (and each protocol invariant handing one to the engine) must pass."""
    groups = [o for o in BOTH if o["group"] == "app"] if kinesis else BOTH
    name = target.rsplit("/", 1)[-1].rsplit(".check_", 1)[-1].replace("_", "-")
    if name == "no-lost-acked":
        control(target=target, check=check, shows="record 2 was acknowledged; the final log of partition 0 holds 1",
                rows=LOG + [readlog(9, 0, [1])], fix={2: readlog(9, 0, [1, 2])},
                witness={"lost": 2, "partition": 0, "produce": 2, "final_read": 4},
                because="an acknowledged record is lost")
        control(target=target, check=check, shows="record 1 is missing from a log that starts at offset 0 (the twin: "
                "retention moved the start past it, so it expired)",
                rows=RETAINED + [readlog_from(9, 0, 0, [(1, 2), (2, 3)])],
                fix={3: readlog_from(9, 0, 1, [(1, 2), (2, 3)])},
                witness={"lost": 1, "partition": 0}, because="an acknowledged record is lost")
    elif name == "no-duplicate-records":
        control(target=target, check=check, shows="the final log holds record 1 at offsets 0 and 1",
                rows=[LOG[0], readlog(9, 0, [1, 1])], fix={1: readlog(9, 0, [1])},
                witness={"duplicate": 1, "offsets": [0, 1], "partition": 0},
                because="a retried produce was appended again")
    elif name in ("partition-order", "shard-order"):
        control(target=target, check=check, shows="record 1 was acknowledged before 2 was produced; the log holds 2 "
                "first", rows=LOG + [readlog(9, 0, [2, 1])], fix={2: readlog(9, 0, [1, 2])},
                witness={"partition": 0, "first": 0, "second": 2, "offsets": [1, 0]},
                because="the partition is out of order")
    elif name == "offsets-consistent":
        control(target=target, check=check, shows="a replay saw record 3 at offset 1, where the final log holds 2",
                rows=LOG + [replay(2, 0, [(0, 1), (1, 3)], 4, 5), readlog(9, 0, [1, 2])],
                fix={2: replay(2, 0, [(0, 1), (1, 2)], 4, 5)},
                witness={"partition": 0, "offset": 1, "seen": 3, "logged": 2},
                because="a consumer saw a record the log does not keep there")
        control(target=target, check=check, shows="member w1 consumed offset 1, then offset 0, in one generation",
                rows=LOG + [readlog(9, 0, [1, 2]), audit([out("app", "w1", 1, 0, 1, 2), out("app", "w1", 1, 0, 0, 1)])],
                fix={3: audit([out("app", "w1", 1, 0, 1, 2), out("app", "w1", 2, 0, 0, 1)])},
                witness={"member": "w1", "generation": 1, "offsets": [1, 0]}, because="a consumer went back")
    elif name == "exactly-once-output":
        control(target=target, check=check, shows="group app committed record 1's output twice (w1, then w2)",
                rows=LOG + [readlog(9, 0, [1, 2]), audit(groups + [out("app", "w2", 2, 0, 0, 1)])],
                fix={3: audit(groups)}, witness={"group": "app", "id": 1, "times": 2},
                because="exactly-once allows one")
        control(target=target, check=check, shows="group app never committed an output of record 2",
                rows=LOG + [readlog(9, 0, [1, 2]), audit([o for o in groups if o["id"] == 1])],
                fix={3: audit(groups)}, witness={"group": "app", "id": 2, "times": 0},
                because="the record was consumed zero times")
    elif name in ("groups-see-all", "at-least-once"):
        missing = "app" if kinesis else "mirror"
        control(target=target, check=check, shows=f"group {missing} never consumed record 2",
                rows=LOG + [readlog(9, 0, [1, 2]), audit([o for o in groups if (o["group"], o["id"]) != (missing, 2)])],
                fix={3: audit(groups)}, witness={"group": missing, "id": 2, "offset": 1},
                because="a retained record did not reach every consumer group")
        apps = [out(g, m, 1, 0, o, rid) for g, m in ([("app", "w1")] if kinesis else [("app", "w1"), ("mirror", "w3")])
                for o, rid in ((0, 1), (1, 2), (2, 3))]
        control(target=target, check=check, shows=f"retention deleted record 1 before group {missing} consumed it",
                rows=RETAINED + [readlog_from(9, 0, 1, [(1, 2), (2, 3)]),
                                 audit([o for o in apps if (o["group"], o["id"]) != (missing, 1)])],
                fix={4: audit(apps)}, witness={"group": missing, "id": 1, "offset": 0},
                because="an acknowledged record deleted by retention since")


for _name, _check in [("no_lost_acked", check_no_lost_acked), ("no_duplicate_records", check_no_duplicate_records),
                      ("partition_order", check_partition_order), ("offsets_consistent", check_offsets_consistent),
                      ("exactly_once_output", check_exactly_once_output), ("groups_see_all", check_groups_see_all)]:
    _log_controls(f"invariants.logs.check_{_name}", _check)
for _inv in SPECS["kafka"].invariants:
    _log_controls(**invariant("kafka", _inv.name))
for _inv in SPECS["kinesis"].invariants:
    _log_controls(**invariant("kinesis", _inv.name), kinesis=True)

# == cloudfront: writes [key, uid] acknowledged [key, version, ttl], reads key -> [key, version] (None: a 404) =======
control(**invariant("cloudfront", "staleness-within-ttl"),
        shows="a read 1 s after api/x was created (TTL 0.5 s) is served a cached 404 (the twin: version 1)",
        rows=[op(0, "write", ["api/x", 1], 0, 1, ["api/x", 1, 0.5]), op(1, "read", "api/x", 2, 3, ["api/x", None])],
        fix={1: op(1, "read", "api/x", 2, 3, ["api/x", 1])},
        witness={"key": "api/x", "write": 0, "read": 2, "version": 1, "got": None, "ttl": 0.5},
        because="although every cached copy older than W had outlived its TTL")
control(**invariant("cloudfront", "staleness-within-ttl"),
        shows="version 1 read 0.6 s after version 2 was acknowledged with a 0.5 s TTL (the twin: 0.4 s after, "
              "within the TTL)",
        rows=[op(0, "write", ["api/x", 1], 0, 0.1, ["api/x", 1, 0.5]),
              op(0, "write", ["api/x", 2], 0.5, 1.0, ["api/x", 2, 0.5]),
              op(1, "read", "api/x", 1.6, 1.7, ["api/x", 1])],
        fix={2: op(1, "read", "api/x", 1.4, 1.5, ["api/x", 1])},
        witness={"key": "api/x", "version": 2, "got": 1, "age": 0.6},
        because="returned version 1, older than W")
control(**invariant("cloudfront", "invalidation-complete"),
        shows="after an invalidation of img/y completed, a read returns version 1, older than the version 2 "
              "written before it (the twin: version 2)",
        rows=[op(0, "write", ["img/y", 2], 0, 1, ["img/y", 2, 5.0]), op(0, "invalidate", "img/y", 2, 3, "img/y"),
              op(1, "read", "img/y", 4, 5, ["img/y", 1])],
        fix={2: op(1, "read", "img/y", 4, 5, ["img/y", 2])},
        witness={"key": "img/y", "write": 0, "invalidation": 2, "read": 4, "version": 2, "got": 1},
        because="from a cache the completed invalidation should have emptied")
control(**invariant("cloudfront", "invalidation-complete"),
        shows="a read that began after the invalidation completed sees version 1 (the twin: it began while the "
              "invalidation was in progress, which may still see the old copy)",
        rows=[op(0, "write", ["img/y", 2], 0, 1, ["img/y", 2, 5.0]), op(0, "invalidate", "img/y", 2, 3, "img/y"),
              op(1, "read", "img/y", 3.5, 4, ["img/y", 1]), op(2, "read", "img/y", 6, 7, ["img/y", 2])],
        fix={2: op(1, "read", "img/y", 2.5, 2.8, ["img/y", 1])},
        witness={"invalidation": 2, "read": 4, "got": 1},
        because="R the read of img/y that began at t=3.5")


# == step-functions: the order saga's ledger at the service and the executor's final description ===================
SFN_RETRY = {"max_attempts": 3, "interval": 0.2, "backoff_rate": 2.0, "max_delay": 2.0, "jitter_min": 0.5}


def sfn_start(p, n, call, status="ok", kind="ok"):
    return op(p, "start", {"name": f"x{n}", "order": n, "kind": kind}, call, call + 1, {"name": f"x{n}"}, status,
              node="sfn")


def sfn_describe(statuses, at=100):
    """The final DescribeExecutions: {execution number: status}."""
    execs = {f"x{n}": {"order": n, "kind": "ok", "status": s, "outcome": None} for n, s in statuses.items()}
    return op(90, "describe", None, at, at + 0.5, {"executions": execs}, phase="final", node="sfn")


def sfn_ledger(effects, attempts=(), at=101):
    """The final read of the service's ledger: effects as (action, order[, token]) in order, attempts as dicts."""
    rows = [{"seq": i + 1, "action": a, "order": o, "token": rest[0] if rest else f"x{o}/{a}/1.{i + 1}", "of": None,
             "execution": f"x{o}", "at": float(i)} for i, (a, o, *rest) in enumerate(effects)]
    return op(91, "ledger", None, at, at + 0.5, {"effects": rows, "attempts": list(attempts), "retry": SFN_RETRY},
              phase="final", node="svc")


def sfn_attempt(n, sent_at, result="transient", action="charge", token="x1/Charge/1.1"):
    return {"execution": "x1", "order": 1, "action": action, "token": token, "attempt": n, "sent_at": sent_at,
            "compensation": False, "result": result, "at": sent_at}


control(**invariant("step-functions", "saga-atomic"),
        shows="order 1 is charged and notified but never shipped nor refunded (the twin: shipped too)",
        rows=[sfn_start(0, 1, 0), sfn_describe({1: "FAILED"}), sfn_ledger([("charge", 1), ("notify", 1)])],
        fix={2: sfn_ledger([("charge", 1), ("ship", 1), ("notify", 1)])},
        witness={"order": 1, "net.charge": 1, "net.ship": 0, "effects": [1, 2]},
        because="neither fully committed nor fully compensated")
control(**invariant("step-functions", "saga-atomic"),
        shows="order 1 is refunded with no charge before it (the twin: charged, then refunded)",
        rows=[sfn_start(0, 1, 0), sfn_describe({1: "FAILED"}), sfn_ledger([("refund", 1)])],
        fix={2: sfn_ledger([("charge", 1), ("refund", 1)])},
        witness={"order": 1, "effect": 1, "action": "refund"},
        because="refund without a charge to refund")
control(**invariant("step-functions", "saga-atomic"),
        shows="order 1 is shipped before it is charged (the twin: charged first)",
        rows=[sfn_start(0, 1, 0), sfn_describe({1: "SUCCEEDED"}),
              sfn_ledger([("ship", 1), ("charge", 1), ("notify", 1)])],
        fix={2: sfn_ledger([("charge", 1), ("ship", 1), ("notify", 1)])},
        witness={"order": 1, "effect": 1, "action": "ship"},
        because="shipment without a charge")
control(**invariant("step-functions", "saga-atomic"),
        shows="order 1's shipment is cancelled but its charge is not refunded (the twin: refunded too)",
        rows=[sfn_start(0, 1, 0), sfn_describe({1: "FAILED"}),
              sfn_ledger([("charge", 1), ("ship", 1), ("cancel-shipment", 1)])],
        fix={2: sfn_ledger([("charge", 1), ("ship", 1), ("cancel-shipment", 1), ("refund", 1)])},
        witness={"order": 1, "net.charge": 1, "net.ship": 0},
        because="1 charge(s) not refunded")
control(**invariant("step-functions", "exactly-once"),
        shows="order 1 is charged twice, under two tokens of one state (the twin: once)",
        rows=[sfn_start(0, 1, 0), sfn_describe({1: "SUCCEEDED"}),
              sfn_ledger([("charge", 1, "x1/Charge/1.1"), ("charge", 1, "x1/Charge/2.1"), ("ship", 1)])],
        fix={2: sfn_ledger([("charge", 1, "x1/Charge/1.1"), ("ship", 1)])},
        witness={"order": 1, "action": "charge", "effects": [1, 2], "tokens": ["x1/Charge/1.1", "x1/Charge/2.1"]},
        because="is the same charge applied again")
control(**invariant("step-functions", "executions-complete"),
        shows="an acknowledged execution is still RUNNING after recovery (the twin: it SUCCEEDED)",
        rows=[sfn_start(0, 1, 0), sfn_describe({1: "RUNNING"})], fix={1: sfn_describe({1: "SUCCEEDED"})},
        witness={"execution": "x1", "status": "RUNNING", "ops": [0, 2]},
        because="it did not resume to completion")
control(**invariant("step-functions", "executions-complete"),
        shows="the executor does not know an acknowledged execution after recovery (the twin: it knows it, FAILED)",
        rows=[sfn_start(0, 1, 0), sfn_start(1, 2, 2), sfn_describe({2: "SUCCEEDED"})],
        fix={2: sfn_describe({1: "FAILED", 2: "SUCCEEDED"})},
        witness={"execution": "x1", "status": None},
        because="its persisted start is lost")
control(**invariant("step-functions", "retry-backoff"),
        shows="a charge is attempted 4 times under a Retry of 3 attempts (the twin: 3, then caught)",
        rows=[sfn_start(0, 1, 0), sfn_describe({1: "FAILED"}),
              sfn_ledger([], [sfn_attempt(1, 0.0), sfn_attempt(2, 0.2), sfn_attempt(3, 0.6), sfn_attempt(4, 1.4)])],
        fix={2: sfn_ledger([], [sfn_attempt(1, 0.0), sfn_attempt(2, 0.2), sfn_attempt(3, 0.6)])},
        witness={"execution": "x1", "action": "charge", "attempts": 4, "limit": 3},
        because="retried past MaxAttempts")
control(**invariant("step-functions", "retry-backoff"),
        shows="a charge is retried 0.05 s after its first attempt, under the 0.1 s the backoff allows at least (the "
              "twin: 0.15 s)",
        rows=[sfn_start(0, 1, 0), sfn_describe({1: "SUCCEEDED"}),
              sfn_ledger([("charge", 1, "x1/Charge/1.1")], [sfn_attempt(1, 0.0), sfn_attempt(2, 0.05, "applied")])],
        fix={2: sfn_ledger([("charge", 1, "x1/Charge/1.1")], [sfn_attempt(1, 0.0), sfn_attempt(2, 0.15, "applied")])},
        witness={"execution": "x1", "action": "charge", "attempt": 2},
        because="before the backoff")
control(**invariant("step-functions", "retry-backoff"),
        shows="every attempt of a charge failed, yet the execution SUCCEEDED (the twin: it FAILED, caught)",
        rows=[sfn_start(0, 1, 0), sfn_describe({1: "SUCCEEDED"}),
              sfn_ledger([], [sfn_attempt(1, 0.0, "permanent"), sfn_attempt(2, 0.2, "permanent"),
                              sfn_attempt(3, 0.6, "permanent")])],
        fix={1: sfn_describe({1: "FAILED"})},
        witness={"execution": "x1", "action": "charge", "status": "SUCCEEDED"},
        because="the error was not caught")


# == route53 ========================================================================================================
# A call's ok value says what DNS answered, who served it, and the checkers' verdicts (views) and verdict changes the
# answer was decided on; the final phase's outage and restore carry the promised failover window.
def dns_views(primary_down=(), secondary_down=()):
    return {"primary": {c: c not in primary_down for c in ("hc1", "hc2", "hc3")},
            "secondary": {c: c not in secondary_down for c in ("hc1", "hc2", "hc3")}}


def dns_call(p, call, answer, served_by="answer", views=None, changes=None, phase="main", cached=False):
    out = {"answer": answer, "served_by": answer if served_by == "answer" else served_by, "cached": cached,
           "mode": "failover", "views": views or dns_views()}
    if changes is not None:
        out["changes"] = changes
    return op(p, "call", None, call, call + 0.1, out, "ok", phase)


def dns_switch(p, f, call, window=5.0):
    return op(p, f, "primary", call, call + 0.1, {"endpoint": "primary", "down": f == "outage", "window": window},
              "ok", "final")


control(**invariant("route53", "answers-follow-majority"),
        shows="DNS answers the secondary while only hc1 reports the primary unhealthy (the twin: hc1 and hc2 do)",
        rows=[dns_call(0, 1, "primary"), dns_call(1, 2, "secondary", views=dns_views(primary_down=("hc1",)))],
        fix={1: dns_call(1, 2, "secondary", views=dns_views(primary_down=("hc1", "hc2")))},
        witness={"op": 2, "answer": "secondary", "expected": ["primary"], "unhealthy": []},
        because="failed over while a majority of checkers saw the primary healthy")
control(**invariant("route53", "answers-follow-majority"),
        shows="DNS answers the primary that every checker reports unhealthy (the twin: the secondary is down too)",
        rows=[dns_call(0, 1, "primary", served_by="secondary",
                       views=dns_views(primary_down=("hc1", "hc2", "hc3")))],
        fix={0: dns_call(0, 1, "primary", served_by="secondary",
                         views=dns_views(primary_down=("hc1", "hc2", "hc3"), secondary_down=("hc2", "hc3")))},
        witness={"answer": "primary", "expected": ["secondary"], "unhealthy": ["primary"]},
        because="answered with an endpoint a majority of checkers saw down")
control(**invariant("route53", "failover-after-outage"),
        shows="6 s after the primary went down (the window is 5 s) a cached answer still sends a client to it",
        rows=[dns_call(90, 1, "primary", phase="final"), dns_switch(91, "outage", 10),
              dns_call(92, 16.1, "primary", served_by=None, phase="final", cached=True)],
        fix={2: dns_call(92, 16.1, "secondary", phase="final")},
        witness={"expected": "secondary", "served_by": None, "answer": "primary", "window": 5.0},
        because="clients did not reach the secondary within the window")
control(**invariant("route53", "failover-after-outage"),
        shows="6 s after the primary came back a client is still sent to the secondary: no failback",
        rows=[dns_switch(90, "outage", 10), dns_call(91, 16, "secondary", phase="final"),
              dns_switch(92, "restore", 20), dns_call(93, 26.1, "secondary", phase="final")],
        fix={3: dns_call(93, 26.1, "primary", phase="final")},
        witness={"expected": "primary", "served_by": "secondary"},
        because="clients did not reach the primary within the window")
control(**invariant("route53", "no-failover-while-up"),
        shows="no outage, yet hc2 changed its verdict on the primary once (the twin: no change)",
        rows=[dns_call(0, 1, "primary", changes={"primary": {"hc1": 0, "hc2": 1, "hc3": 0}}),
              dns_switch(90, "outage", 10)],
        fix={0: dns_call(0, 1, "primary", changes={"primary": {"hc1": 0, "hc2": 0, "hc3": 0}})},
        witness={"answer": "primary", "flapped": {"hc2": 1}},
        because="the health checks flapped while the primary was up")
control(**invariant("route53", "no-failover-while-up"),
        shows="no outage, yet DNS answers the secondary (the twin: the answer came after the outage)",
        rows=[dns_call(0, 0.2, "primary"), dns_call(1, 1, "secondary", views=dns_views(primary_down=("hc1", "hc2"))),
              dns_switch(90, "outage", 10)],
        fix={2: dns_switch(90, "outage", 0.5)},
        witness={"answer": "secondary", "flapped": {}},
        because="DNS failed over to 'secondary'")
