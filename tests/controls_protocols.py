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
