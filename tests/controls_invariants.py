"""Controls for the checkers in invariants/ (and linearizability under every model): see test_checker_controls.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from controls import CONTROLS, Control, _at, control, events, final, kfinal, kw, op, r, w  # noqa: F401
from histories import txn_history

from faultlab.history import History
from invariants.convergence import check_bounded_staleness, check_convergence
from invariants.delivery import check_at_least_once, check_exactly_once
from invariants.durability import check_no_lost_writes
from invariants.elle import check_elle_list_append, check_list_append
from invariants.linearizability import check_linearizable
from invariants.ordering import check_fifo_per_group, check_per_key_order
from invariants.rw_register import check_rw_register
from invariants.session import check_monotonic_reads, check_read_after_write, check_read_your_writes

# == invariants/session.py ==========================================================================================

control(target="invariants.session.check_read_after_write", check=check_read_after_write,
        shows="a read after W(2) was acknowledged returns 1, written before W(2) began",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, 3), r(1, 1, 4, 5)], fix={2: r(1, 2, 4, 5)},
        witness={"read": 4, "acknowledged_write": 2, "stale_write": 0, "value": 1, "ops": [0, 2, 4]},
        because="W' is older than W")
control(target="invariants.session.check_read_after_write", check=check_read_after_write,
        shows="a read after an acknowledged write returns the initial value",
        rows=[w(0, 1, 0, 1), r(1, None, 2, 3)], fix={1: r(1, 1, 2, 3)},
        witness={"read": 2, "acknowledged_write": 0, "stale_write": None, "value": None, "ops": [0, 2]},
        because="returned the initial value, as if W had never happened")
control(target="invariants.session.check_read_after_write", check=check_read_after_write,
        shows="a read returns the value of a failed write (the twin: the write succeeded)",
        rows=[w(0, 1, 0, 1), w(1, 2, 2, 3, "fail"), r(2, 2, 4, 5)], fix={1: w(1, 2, 2, 3)},
        witness={"read": 4, "failed_write": 2, "value": 2, "ops": [2, 4]},
        because="W failed, so it definitely did not happen")
control(target="invariants.session.check_read_after_write", check=lambda h: check_read_after_write(h, keyed=True),
        shows="a keyed read of y returns the initial value after y was written; x is fine",
        rows=[kw("a", "x", 1, 0, 1), kw("a", "y", 2, 2, 3), op("b", "read", ["x", None], 4, 5, ["x", 1]),
              op("b", "read", ["y", None], 6, 7, ["y", None])],
        fix={3: op("b", "read", ["y", None], 6, 7, ["y", 2])},
        witness={"key": "y", "read": 6, "acknowledged_write": 2, "value": None}, because="of key 'y'")

control(target="invariants.session.check_read_your_writes", check=check_read_your_writes,
        shows="process 0 reads 1 after its own W(2) was acknowledged (the twin: another process reads 1)",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, 3), r(0, 2, 4, 5), r(0, 1, 6, 7)], fix={3: r(1, 1, 6, 7)},
        witness={"read": 6, "acknowledged_write": 2, "stale_write": 0, "value": 1},
        because="W, by the same process, was acknowledged before R began")

control(target="invariants.session.check_monotonic_reads", check=check_monotonic_reads,
        shows="process 1 reads 2, then 1, written before W(2) began (the twin: the writes overlap)",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, 3), r(1, 2, 4, 5), r(1, 1, 6, 7)], fix={1: w(3, 2, 0.5, 3)},
        witness={"earlier_read": 4, "later_read": 6, "earlier_write": 2, "stale_write": 0, "value": 1,
                 "ops": [0, 2, 4, 6]},
        because="but W' completed at t=1, event 1, before W was invoked at t=2, event 2")
control(target="invariants.session.check_monotonic_reads", check=check_monotonic_reads,
        shows="process 1 reads an indeterminate write's value, then the initial value",
        rows=[w(0, 1, 0, None, "info"), r(1, 1, 4, 5), r(1, None, 6, 7)], fix={2: r(1, 1, 6, 7)},
        witness={"earlier_read": 1, "later_read": 3, "earlier_write": 0, "stale_write": None, "value": None},
        because="R2 returned the initial value, which precedes every write")

# == invariants/durability.py =======================================================================================

control(target="invariants.durability.check_no_lost_writes", check=check_no_lost_writes,
        shows="the final read returns 1, written before the acknowledged W(2) began",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, 3), final(9, 1, 10)], fix={2: final(9, 2, 10)},
        witness={"lost_write": 2, "lost_writes": [2], "final_read": 4, "stale_write": 0, "value": 1,
                 "ops": [0, 2, 4]},
        because="W' cannot have overwritten W")
control(target="invariants.durability.check_no_lost_writes", check=lambda h: check_no_lost_writes(h, keyed=True),
        shows="a keyed final read of y returns the initial value (the twin: the write of y was indeterminate)",
        rows=[kw("a", "x", 1, 0, 1), kw("a", "y", 2, 2, 3), kfinal("f", "x", 1, 10, None),
              kfinal("g", "y", None, 12, None)],
        fix={1: kw("a", "y", 2, 2, None, "info")},
        witness={"key": "y", "lost_write": 2, "lost_writes": [2], "final_read": 6, "value": None},
        because="returned the initial value, as if no write had ever happened")

# == invariants/convergence.py ======================================================================================

control(target="invariants.convergence.check_convergence", check=check_convergence,
        shows="final reads on n1 and n2 return 2 and 1",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, 3), final(10, 2, 10, "n1"), final(11, 1, 11, "n2")],
        fix={3: final(11, 2, 11, "n2")},
        witness={"reads": [4, 6], "nodes": ["n1", "n2"], "values": [2, 1], "key": None, "ops": [4, 6]},
        because="the replicas still disagree (2 vs 1): they did not converge")

control(target="invariants.convergence.check_bounded_staleness", check=lambda h: check_bounded_staleness(h, 5),
        shows="a read 6 after W(2) was acknowledged returns 1 with a bound of 5 (the twin: 4 after)",
        rows=[w(0, 1, 0, 1), w(0, 2, 2, 3), r(1, 1, 9, 10)], fix={2: r(1, 1, 7, 8)},
        witness={"read": 4, "acknowledged_write": 2, "stale_write": 0, "value": 1, "bound": 5},
        because="more than the staleness bound 5 before R began at t=9")

# == invariants/ordering.py =========================================================================================


def send(p, g, i, call, ret, status="ok"):
    return (p, "send", {"group": g, "id": i}, call, ret, status, None)


def recv(p, g, i, call, ret):
    return (p, "receive", None, call, ret, "ok", {"group": g, "id": i})


def consume(p, key, seq, call, ret):
    return (p, "consume", None, call, ret, "ok", {"key": key, "seq": seq})


control(target="invariants.ordering.check_fifo_per_group", check=check_fifo_per_group,
        shows="group a's 2 is received before 1, sent and acknowledged first (the twin: the sends overlap)",
        rows=[send("p", "a", 1, 0, 1), send("p", "a", 2, 2, 3), recv("c", "a", 2, 4, 5), recv("c", "a", 1, 6, 7)],
        fix={1: send("q", "a", 2, 0.5, 3)},
        witness={"group": "a", "first_sent": 0, "second_sent": 2, "received_first": 4, "received_second": 6},
        because="Then R1 received S2's message before R2 received S1's")

control(target="invariants.ordering.check_per_key_order", check=check_per_key_order,
        shows="a consumer sees key x at seq 3, then at seq 2 (the twin: another consumer sees seq 2)",
        rows=[consume("c", "x", 1, 0, 1), consume("c", "x", 3, 2, 3), consume("c", "x", 2, 4, 5)],
        fix={2: consume("c2", "x", 2, 4, 5)},
        witness={"key": "x", "seqs": [3, 2], "earlier": 2, "later": 4, "ops": [2, 4]},
        because="Then C2 delivered seq 2 after the later seq 3")

# == invariants/delivery.py =========================================================================================


def dsend(p, i, call, ret, status="ok"):
    return (p, "send", {"id": i}, call, ret, status, None)


def dreceive(p, ids, call, ret):
    return (p, "receive", None, call, ret, "ok", ids)


def dprocess(p, i, call, ret, status="ok"):
    return (p, "process", i, call, ret, status, None)


for _check in (check_at_least_once, check_exactly_once):
    control(target=f"invariants.delivery.{_check.__name__}", check=_check,
            shows="acknowledged message 2 is never received (the twin: its send was indeterminate)",
            rows=[dsend("p", 1, 0, 1), dsend("p", 2, 2, 3), dreceive("c", 1, 4, 5)],
            fix={1: dsend("p", 2, 2, None, "info")},
            witness={"lost": [2], "send": 2, "ops": [2]},
            because="Then no operation received it, not even possibly: the message was lost")
control(target="invariants.delivery.check_exactly_once", check=check_exactly_once,
        shows="message 1 is processed twice (the twin: the second processing's outcome is unknown)",
        rows=[dsend("p", 1, 0, 1), dprocess("c", 1, 2, 3), dprocess("d", 1, 4, 5)],
        fix={2: dprocess("d", 1, 4, None, "info")},
        witness={"duplicate": 1, "processed": [2, 4], "ops": [2, 4]},
        because="so it was processed 2 times")
control(target="invariants.delivery.check_exactly_once", check=check_exactly_once,
        shows="message 2 is received although its only send failed (the twin: the send was indeterminate)",
        rows=[dsend("p", 1, 0, 1), dsend("p", 2, 2, 3, "fail"), dreceive("c", [1, 2], 4, 5)],
        fix={1: dsend("p", 2, 2, None, "info")},
        witness={"phantom": 2, "processed": [4], "ops": [2, 4]},
        because="its only sends failed, so it was definitely never sent")

# == invariants/elle.py =============================================================================================


def txns(rows: Sequence[tuple]) -> History:
    return txn_history(rows)


def a(k, v):
    return ["append", k, v]


def rd(k, vs):
    return ["r", k, vs]


def elle(anomaly: str, **options: Any) -> dict[str, Any]:
    return {"target": f"invariants.elle.check_list_append[{anomaly}]", "build": txns,
            "check": lambda h: check_list_append(h, **options)}


control(**elle("G0"), shows="x's appends order T1 before T2, y's T2 before T1 (the twin: y read in T1, T2 order)",
        rows=[(0, [a("x", 1), a("y", 2)], 0, 2, "ok"), (1, [a("x", 2), a("y", 1)], 0, 2, "ok"),
              (2, [rd("x", [1, 2]), rd("y", [1, 2])], 3, 4, "ok")],
        fix={2: (2, [rd("x", [1, 2]), rd("y", [2, 1])], 3, 4, "ok")},
        witness={"anomaly_types": ["G0"], "anomalies.0.txns": [0, 1], "anomalies.0.cycle.0.kind": "ww",
                 "anomalies.0.cycle.1.kind": "ww", "anomalies.0.cycle.0.key": "x", "anomalies.0.cycle.1.key": "y"},
        because="T2 appended 2 after T1 appended 1 to key 'x'")
control(**elle("G1a"), shows="T2 reads the append of a failed T1 (the twin: T1 committed)",
        rows=[(0, [a("x", 1)], 0, 1, "fail"), (1, [rd("x", [1])], 2, 3, "ok")],
        fix={0: (0, [a("x", 1)], 0, 1, "ok")},
        witness={"anomaly_types": ["G1a"], "anomalies.0.txns": [0, 2], "anomalies.0.key": "x",
                 "anomalies.0.value": 1},
        because="T1 failed, so it definitely did not happen. Then T2 read T1's append of 1 to key 'x'")
control(**elle("G1b"), shows="T2 reads 1, which T1 followed with 2 in the same transaction (the twin: reads both)",
        rows=[(0, [a("x", 1), a("x", 2)], 0, 3, "ok"), (1, [rd("x", [1])], 1, 2, "ok")],
        fix={1: (1, [rd("x", [1, 2])], 1, 2, "ok")},
        witness={"anomaly_types": ["G-single", "G1b"], "anomalies.0.txns": [0, 1], "anomalies.0.key": "x",
                 "anomalies.0.value": 1},
        because="which ends at T1's intermediate append")
control(**elle("G1c"), shows="T1 and T2 each read the other's append (the twin: T2 reads x empty)",
        rows=[(0, [a("x", 1), rd("y", [1])], 0, 2, "ok"), (1, [a("y", 1), rd("x", [1])], 0, 2, "ok")],
        fix={1: (1, [a("y", 1), rd("x", [])], 0, 2, "ok")},
        witness={"anomaly_types": ["G1c"], "anomalies.0.txns": [0, 1], "anomalies.0.cycle.0.kind": "wr",
                 "anomalies.0.cycle.1.kind": "wr"},
        because="because T2 read T1's append of 1 to key 'x'")
control(**elle("G-single"), shows="T2 sees T1's append to y but not to x: read skew (the twin: sees neither)",
        rows=[(0, [a("x", 1), a("y", 1)], 0, 2, "ok"), (1, [rd("x", []), rd("y", [1])], 0, 3, "ok"),
              (2, [rd("x", [1])], 4, 5, "ok")],
        fix={1: (1, [rd("x", []), rd("y", [])], 0, 3, "ok")},
        witness={"anomaly_types": ["G-single"], "anomalies.0.txns": [0, 1], "anomalies.0.cycle.0.kind": "wr",
                 "anomalies.0.cycle.1.kind": "rw", "anomalies.0.cycle.1.key": "x"},
        because="T2 read key 'x' as [], which did not yet include T1's append of 1")
control(**elle("G2"), shows="T1 and T2 each miss the other's append: write skew (the twin: T2 sees T1's)",
        rows=[(0, [rd("x", []), a("y", 1)], 0, 2, "ok"), (1, [rd("y", []), a("x", 1)], 0, 2, "ok"),
              (2, [rd("x", [1]), rd("y", [1])], 3, 4, "ok")],
        fix={1: (1, [rd("y", [1]), a("x", 1)], 0, 2, "ok")},
        witness={"anomaly_types": ["G2"], "anomalies.0.txns": [0, 1], "anomalies.0.cycle.0.kind": "rw",
                 "anomalies.0.cycle.1.kind": "rw"},
        because="which did not yet include T2's append of 1")
control(**elle("incompatible-order", anomalies=()),
        shows="one read of x is [1, 2], another [2] (the twin: [1], a prefix)",
        rows=[(0, [a("x", 1)], 0, 1, "ok"), (1, [a("x", 2)], 0, 1, "ok"), (2, [rd("x", [1, 2])], 2, 3, "ok"),
              (3, [rd("x", [2])], 2, 3, "ok")],
        fix={3: (3, [rd("x", [1])], 2, 3, "ok")},
        witness={"anomaly_types": ["incompatible-order"], "anomalies.0.txns": [4, 5], "anomalies.0.key": "x",
                 "anomalies.0.reads": [[1, 2], [2]]},
        because="cannot both be prefixes of one append order")
control(**elle("garbage-read"), shows="T2 reads 9 in x, which nobody appended (the twin: reads 1)",
        rows=[(0, [a("x", 1)], 0, 1, "ok"), (1, [rd("x", [9])], 2, 3, "ok")],
        fix={1: (1, [rd("x", [1])], 2, 3, "ok")},
        witness={"anomaly_types": ["garbage-read"], "anomalies.0.txns": [2], "anomalies.0.key": "x",
                 "anomalies.0.value": 9},
        because="but no transaction appended it")
control(**elle("G-single-realtime", realtime=True),
        shows="T2 begins after T1 completed yet reads x without T1's append (the twin: they overlap)",
        rows=[(0, [a("x", 1)], 0, 1, "ok"), (1, [rd("x", [])], 2, 3, "ok"), (2, [rd("x", [1])], 4, 5, "ok")],
        fix={1: (1, [rd("x", [])], 0.5, 3, "ok")},
        witness={"anomaly_types": ["G-single-realtime"], "anomalies.0.txns": [0, 2],
                 "anomalies.0.cycle.0.kind": "realtime", "anomalies.0.cycle.1.kind": "rw"},
        because="T1 completed (t=1, event 1) before T2 began (t=2, event 2)")
control(**elle("G-single-process", process_order=True),
        shows="process 0 appends 1 to x, then reads x without it (the twin: another process reads)",
        rows=[(0, [a("x", 1)], 0, 1, "ok"), (0, [rd("x", [])], 2, 3, "ok"), (2, [rd("x", [1])], 4, 5, "ok")],
        fix={1: (1, [rd("x", [])], 2, 3, "ok")},
        witness={"anomaly_types": ["G-single-process"], "anomalies.0.txns": [0, 2],
                 "anomalies.0.cycle.0.kind": "process", "anomalies.0.cycle.1.kind": "rw"},
        because="process 0 ran T1 before T2")

# == invariants/elle.py check_elle_list_append and invariants/rw_register.py: Elle's names and models ===========


def elle_la(*models: str) -> dict[str, Any]:
    return {"target": "invariants.elle.check_elle_list_append", "build": txns,
            "check": lambda h: check_elle_list_append(h, consistency_models=models or ("serializable",))}


control(**elle_la(), shows="G2-item: T1 and T2 each miss the other's append (the twin: T2 sees T1's)",
        rows=[(0, [rd("x", []), a("y", 1)], 0, 2, "ok"), (1, [rd("y", []), a("x", 1)], 0, 2, "ok"),
              (2, [rd("x", [1]), rd("y", [1])], 3, 4, "ok")],
        fix={1: (1, [rd("y", [1]), a("x", 1)], 0, 2, "ok")},
        witness={"anomaly_types": ["G2-item"], "not": ["repeatable-read"], "anomalies.0.cycle.0.kind": "rw",
                 "anomalies.0.cycle.1.kind": "rw"},
        because="which did not yet include T2's append of 1")
control(**elle_la(), shows="G-single-item: T2 sees T1's append to y but not to x (the twin: sees neither)",
        rows=[(0, [a("x", 1), a("y", 1)], 0, 2, "ok"), (1, [rd("x", []), rd("y", [1])], 0, 3, "ok"),
              (2, [rd("x", [1])], 4, 5, "ok")],
        fix={1: (1, [rd("x", []), rd("y", [])], 0, 3, "ok")},
        witness={"anomaly_types": ["G-single-item"], "not": ["consistent-view", "repeatable-read"]},
        because="T2 read key 'x' as [], which did not yet include T1's append of 1")
control(**elle_la("snapshot-isolation"),
        shows="G-nonadjacent-item under snapshot isolation: rw, wr, rw, wr around four transactions (the twin: T1 "
              "reads w empty, so T1 -rw-> T4 instead)",
        rows=[(0, [rd("w", [1]), rd("x", [])], 0, 5, "ok"), (1, [a("x", 1), a("y", 1)], 0, 5, "ok"),
              (2, [rd("y", [1]), rd("z", [])], 0, 5, "ok"), (3, [a("z", 1), a("w", 1)], 0, 5, "ok")],
        fix={0: (0, [rd("w", []), rd("x", [])], 0, 5, "ok")},
        witness={"anomaly_types": ["G-nonadjacent-item"], "not": ["repeatable-read", "snapshot-isolation"]},
        because="However, T4 < T1, because T1 read T4's append of 1 to key 'w'")
control(**elle_la("snapshot-isolation"),
        shows="lost-update under snapshot isolation: T1 and T2 both read x empty and append (the twin: T2 read [1])",
        rows=[(0, [rd("x", []), a("x", 1)], 0, 2, "ok"), (1, [rd("x", []), a("x", 2)], 0, 2, "ok")],
        fix={1: (1, [rd("x", [1]), a("x", 2)], 0, 2, "ok")},
        witness={"anomaly_types": ["lost-update"], "anomalies.0.txns": [0, 1], "anomalies.0.key": "x",
                 "anomalies.0.value": []},
        because="Each read key 'x' as [] and then wrote it")
control(**elle_la(), shows="internal: T1 appends 1 to x, then reads x as [] (the twin: reads [1])",
        rows=[(0, [a("x", 1), rd("x", [])], 0, 1, "ok"), (1, [rd("x", [1])], 2, 3, "ok")],
        fix={0: (0, [a("x", 1), rd("x", [1])], 0, 1, "ok")},
        witness={"anomaly_types": ["internal"], "not": ["read-atomic"], "anomalies.0.expected": [1]},
        because="say it must read a list ending in [1], but it read []")
control(**elle_la(), shows="future-read: T1 reads x as [1], then appends 1 (the twin: it reads [])",
        rows=[(0, [rd("x", [1]), a("x", 1)], 0, 1, "ok"), (1, [rd("x", [1])], 2, 3, "ok")],
        fix={0: (0, [rd("x", []), a("x", 1)], 0, 1, "ok")},
        witness={"anomaly_types": ["future-read"], "anomalies.0.txns": [0]},
        because="before it appended 1")
control(**elle_la("read-committed"),
        shows="dirty-update: a committed append follows a failed one in x's order (the twin: T1 committed)",
        rows=[(0, [a("x", 1)], 0, 1, "fail"), (1, [a("x", 2)], 2, 3, "ok"), (2, [rd("x", [1, 2])], 4, 5, "ok")],
        fix={0: (0, [a("x", 1)], 0, 1, "ok")},
        witness={"anomaly_types": ["G1a", "dirty-update"], "not": ["read-committed"]},
        because="came after T1's in the version order")
control(**elle_la("read-uncommitted"), shows="duplicate-elements: a read of x returns 1 twice (the twin: once)",
        rows=[(0, [a("x", 1)], 0, 1, "ok"), (1, [rd("x", [1, 1])], 2, 3, "ok")],
        fix={1: (1, [rd("x", [1])], 2, 3, "ok")},
        witness={"anomaly_types": ["duplicate-elements"], "not": ["read-uncommitted"],
                 "anomalies.0.duplicates": [1]},
        because="with [1] more than once")
control(**elle_la("read-committed"),
        shows="incompatible-order: reads [1, 3] and [1, 2, 3] of x (the twin: [1, 2])",
        rows=[(0, [a("x", 1)], 0, 1, "ok"), (1, [a("x", 2)], 0, 1, "ok"), (2, [a("x", 3)], 0, 1, "ok"),
              (3, [rd("x", [1, 3])], 2, 3, "ok"), (4, [rd("x", [1, 2, 3])], 2, 3, "ok")],
        fix={3: (3, [rd("x", [1, 2])], 2, 3, "ok")},
        witness={"anomaly_types": ["incompatible-order"], "anomalies.0.reads": [[1, 3], [1, 2, 3]]},
        because="cannot both be prefixes of one append order")
control(**elle_la("strict-serializable"),
        shows="G-single-item-realtime: T3 begins after T2 completed yet misses T2's append (the twin: they overlap)",
        rows=[(0, [a("x", 1)], 0, 1, "ok"), (1, [a("x", 2)], 2, 3, "ok"), (2, [rd("x", [1])], 4, 5, "ok"),
              (3, [rd("x", [1, 2])], 6, 7, "ok")],
        fix={2: (2, [rd("x", [1])], 2.5, 5, "ok")},
        witness={"anomaly_types": ["G-single-item-realtime"], "not": ["strong-snapshot-isolation"]},
        because="completed (t=3, event 3) before")
control(**elle_la("strong-session-snapshot-isolation"),
        shows="G-single-item-process: process 1 appends 2, then reads x without it (the twin: another process "
              "reads)",
        rows=[(0, [a("x", 1)], 0, 1, "ok"), (1, [a("x", 2)], 2, 3, "ok"), (1, [rd("x", [1])], 4, 5, "ok"),
              (2, [rd("x", [1, 2])], 6, 7, "ok")],
        fix={2: (3, [rd("x", [1])], 4, 5, "ok")},
        witness={"anomaly_types": ["G-single-item-process"], "not": ["strong-session-snapshot-isolation"]},
        because="process 1 ran")
control(**elle_la("read-uncommitted"), shows="G0: x orders T1 before T2, y T2 before T1 (the twin: y in T1, T2 order)",
        rows=[(0, [a("x", 1), a("y", 1)], 0, 2, "ok"), (1, [a("x", 2), a("y", 2)], 0, 2, "ok"),
              (2, [rd("x", [1, 2]), rd("y", [2, 1])], 3, 4, "ok")],
        fix={2: (2, [rd("x", [1, 2]), rd("y", [1, 2])], 3, 4, "ok")},
        witness={"anomaly_types": ["G0"], "not": ["read-uncommitted"]},
        because="T2 appended 2 after T1 appended 1 to key 'x'")


def w_(k, v):
    return ["w", k, v]


def rr(*models: str, **options: Any) -> dict[str, Any]:
    target = "invariants.rw_register.check_rw_register" + ("_wfr" if options else "")
    return {"target": target, "build": txns,
            "check": lambda h: check_rw_register(h, consistency_models=models or ("serializable",), **options)}


control(**rr(), shows="rw-register G2-item: T1 and T2 each read the other's key unwritten (the twin: T2 sees T1's)",
        rows=[(0, [rd("x", None), w_("y", 1)], 0, 2, "ok"), (1, [rd("y", None), w_("x", 1)], 0, 2, "ok")],
        fix={1: (1, [rd("y", 1), w_("x", 1)], 0, 2, "ok")},
        witness={"anomaly_types": ["G2-item"], "not": ["repeatable-read"]},
        because="T1 read key 'x' as None, which T2's write of 1 came after")
control(**rr(), shows="rw-register G1c: T1 and T2 each read the other's write (the twin: T1 reads y unwritten)",
        rows=[(0, [w_("x", 1), rd("y", 1)], 0, 2, "ok"), (1, [w_("y", 1), rd("x", 1)], 0, 2, "ok")],
        fix={0: (0, [w_("x", 1), rd("y", None)], 0, 2, "ok")},
        witness={"anomaly_types": ["G1c"], "not": ["read-committed"]},
        because="T2 read T1's write of 1 to key 'x'")
control(**rr(), shows="rw-register G1b: T2 reads x = 1, which T1 overwrote with 2 (the twin: reads 2)",
        rows=[(0, [w_("x", 1), w_("x", 2)], 0, 3, "ok"), (1, [rd("x", 1)], 1, 2, "ok")],
        fix={1: (1, [rd("x", 2)], 1, 2, "ok")},
        witness={"anomaly_types": ["G1b"], "anomalies.0.txns": [0, 1], "anomalies.0.value": 1},
        because="T1's intermediate write")
control(**rr(), shows="rw-register G1a: T2 reads the write of a failed T1 (the twin: T1 committed)",
        rows=[(0, [w_("x", 1)], 0, 1, "fail"), (1, [rd("x", 1)], 2, 3, "ok")],
        fix={0: (0, [w_("x", 1)], 0, 1, "ok")},
        witness={"anomaly_types": ["G1a"], "not": ["read-committed"]},
        because="T1 failed, so it definitely did not happen")
control(**rr(), shows="rw-register internal: T1 writes x = 1 and then reads x = 2 (the twin: reads 1)",
        rows=[(0, [w_("x", 1), rd("x", 2)], 0, 1, "ok"), (1, [w_("x", 2)], 0, 1, "ok"), (2, [rd("x", 1)], 2, 3, "ok")],
        fix={0: (0, [w_("x", 1), rd("x", 1)], 0, 1, "ok")},
        witness={"anomaly_types": ["internal"], "anomalies.0.expected": 1, "anomalies.0.read": 2},
        because="say it must read 1, but it read 2")
control(**rr("snapshot-isolation"),
        shows="rw-register lost-update: T1 and T2 both read x unwritten and write it (the twin: T2 read 1)",
        rows=[(0, [rd("x", None), w_("x", 1)], 0, 2, "ok"), (1, [rd("x", None), w_("x", 2)], 0, 2, "ok")],
        fix={1: (1, [rd("x", 1), w_("x", 2)], 0, 2, "ok")},
        witness={"anomaly_types": ["lost-update"], "anomalies.0.txns": [0, 1], "anomalies.0.value": None},
        because="one's update was lost")
control(**rr(wfr_keys=True),
        shows="rw-register G0 with writes-follow-reads: x orders T1 before T2, y T2 before T1 (the twin: y agrees)",
        rows=[(0, [rd("x", None), w_("x", 1), rd("y", 2), w_("y", 3)], 0, 3, "ok"),
              (1, [rd("x", 1), w_("x", 2), rd("y", None), w_("y", 2)], 0, 3, "ok")],
        fix={0: (0, [rd("x", None), w_("x", 1), rd("y", None), w_("y", 3)], 0, 3, "ok"),
             1: (1, [rd("x", 1), w_("x", 2), rd("y", 3), w_("y", 2)], 0, 3, "ok")},
        witness={"anomaly_types": ["G0", "G1c"], "not": ["read-uncommitted"]},
        because="T2 wrote 2 after T1 wrote 1 to key 'x'")
control(**rr(wfr_keys=True),
        shows="rw-register cyclic-versions: reads-then-writes order x's versions 1 < 2 < 3 < 1 (the twin: T3 read "
              "x unwritten)",
        rows=[(0, [rd("x", 1), w_("x", 2)], 0, 3, "ok"), (1, [rd("x", 2), w_("x", 3)], 0, 3, "ok"),
              (2, [rd("x", 3), w_("x", 1)], 0, 3, "ok")],
        fix={2: (2, [rd("x", None), w_("x", 1)], 0, 3, "ok")},
        witness={"anomaly_types": ["G1c", "cyclic-versions"], "anomalies.0.type": "cyclic-versions"},
        because="in a cycle")

control(target="invariants.rw_register.check_rw_register", build=txns,
        check=lambda h: check_rw_register(h, anomalies=["G0"], consistency_models=(), sequential_keys=True),
        shows="rw-register G0 with sequential keys: each process's later read shows its own write overwritten "
              "(the twin: process 1 reads its own y)",
        rows=[(0, [w_("x", 1), w_("y", 2)], 0, 1, "ok"), (1, [w_("x", 2), w_("y", 1)], 2, 3, "ok"),
              (0, [rd("x", 2)], 4, 5, "ok"), (1, [rd("y", 2)], 6, 7, "ok")],
        fix={3: (1, [rd("y", 1)], 6, 7, "ok")},
        witness={"anomaly_types": ["G0"], "not": ["read-uncommitted"]},
        because="T2 wrote 2 after T1 wrote 1 to key 'x'")

# == invariants/linearizability.py, under every model in models/ ====================================================


def linearizable(model: str) -> dict[str, Any]:
    return {"target": f"invariants.linearizability.check_linearizable[{model}]",
            "check": lambda h: check_linearizable(h, model)}


def done(p, f, value, call, ret, out=None, status="ok"):
    return (p, f, value, call, ret, status, out)


control(**linearizable("register"), shows="a read after W(2) returns 1 (the twin: it overlaps W(2))",
        rows=[done(0, "write", 1, 0, 1), done(0, "write", 2, 2, 3), done(1, "read", None, 4, 5, 1)],
        fix={2: done(1, "read", None, 2.5, 5, 1)},
        witness={"failed_op": 4, "longest_prefix": [0, 2], "states": ["2"], "partition": None},
        because="from none of them does an order of the remaining operations let it take effect")
control(**linearizable("cas-register"), shows="after write 1 and an ok cas 1 -> 2, a read returns 1 (the twin: 2)",
        rows=[done(0, "write", 1, 0, 1), done(0, "cas", [1, 2], 2, 3), done(1, "read", None, 4, 5, 1)],
        fix={2: done(1, "read", None, 4, 5, 2)},
        witness={"failed_op": 4, "longest_prefix": [0, 2], "states": ["2"]},
        because="(it is illegal in 2)")
control(**linearizable("cas-register"), shows="a cas 1 -> 2 fails right after write 1 (the twin: write 3)",
        rows=[done(0, "write", 1, 0, 1), done(1, "cas", [1, 2], 2, 3, status="fail")],
        fix={0: done(0, "write", 3, 0, 1)},
        witness={"failed_op": 2, "longest_prefix": [0], "states": ["1"]},
        because="process 1 cas(1 -> 2) -> fail")
control(**linearizable("knossos-register"), shows="a read after W(2) returns 1 (the twin: it returns nil, which "
        "Knossos reads as 'did not see')",
        rows=[done(0, "write", 1, 0, 1), done(0, "write", 2, 2, 3), done(1, "read", None, 4, 5, 1)],
        fix={2: done(1, "read", None, 4, 5, None)},
        witness={"failed_op": 4, "longest_prefix": [0, 2], "states": ["2"]},
        because="from none of them does an order of the remaining operations let it take effect")
control(**linearizable("knossos-cas-register"), shows="an ok cas 3 -> 2 right after write 1 (the twin: the cas "
        "failed, and Knossos leaves failures out)",
        rows=[done(0, "write", 1, 0, 1), done(1, "cas", [3, 2], 2, 3), done(1, "read", None, 4, 5, 1)],
        fix={1: done(1, "cas", [3, 2], 2, 3, status="fail")},
        witness={"failed_op": 2, "longest_prefix": [0], "states": ["1"]},
        because="process 1 cas(3 -> 2) -> ok")
control(**linearizable("kv"), shows='appends "x" then "y" to a, then get a returns "yx" (the twin: "xy")',
        rows=[done(0, "append", {"key": "a", "value": "x"}, 0, 1), done(0, "append", {"key": "a", "value": "y"}, 2, 3),
              done(1, "get", {"key": "b"}, 4, 5, ""), done(1, "get", {"key": "a"}, 6, 7, "yx")],
        fix={3: done(1, "get", {"key": "a"}, 6, 7, "xy")},
        witness={"failed_op": 6, "longest_prefix": [0, 2], "states": ['{"a": "xy"}'], "partition": "a"},
        because='process 1 get("a") -> ok "yx"')
control(**linearizable("mutex"), shows="process 1 acquires while process 0 holds the lock (the twin: 0 released)",
        rows=[done(0, "acquire", None, 0, 1), done(1, "acquire", None, 2, 3), done(0, "release", None, 4, 5)],
        fix={2: done(0, "release", None, 1.2, 1.5)},
        witness={"failed_op": 2, "longest_prefix": [0], "states": ["held"]},
        because="(it is illegal in held)")
control(**linearizable("multi-register"),
        shows="a transaction reads x as written and y as nil after one transaction wrote both (the twin: y 1)",
        rows=[done(0, "txn", [["w", "x", 1], ["w", "y", 1]], 0, 1, [["w", "x", 1], ["w", "y", 1]]),
              done(1, "txn", [["r", "x", None], ["r", "y", None]], 2, 3, [["r", "x", 1], ["r", "y", None]])],
        fix={1: done(1, "txn", [["r", "x", None], ["r", "y", None]], 2, 3, [["r", "x", 1], ["r", "y", 1]])},
        witness={"failed_op": 2, "longest_prefix": [0], "states": ['{"x" 1, "y" 1}']},
        because='(it is illegal in {"x" 1, "y" 1})')
control(**linearizable("queue"), shows="enqueue 1, enqueue 2, then dequeue returns 2 (the twin: 1)",
        rows=[done(0, "enqueue", 1, 0, 1), done(0, "enqueue", 2, 2, 3), done(1, "dequeue", None, 4, 5, 2)],
        fix={2: done(1, "dequeue", None, 4, 5, 1)},
        witness={"failed_op": 4, "longest_prefix": [0, 2], "states": ["[1 2]"]},
        because="(it is illegal in [1 2])")
control(**linearizable("set"), shows="add 1 completes, then a read returns the empty set (the twin: [1])",
        rows=[done(0, "add", 1, 0, 1), done(1, "read", None, 2, 3, [])],
        fix={1: done(1, "read", None, 2, 3, [1])},
        witness={"failed_op": 2, "longest_prefix": [0], "states": ["#{1}"]},
        because="(it is illegal in #{1})")
control(**linearizable("log"), shows='append "a", append "b", then a read returns ["b", "a"] (the twin: in order)',
        rows=[done(0, "append", "a", 0, 1), done(0, "append", "b", 2, 3), done(1, "read", None, 4, 5, ["b", "a"])],
        fix={2: done(1, "read", None, 4, 5, ["a", "b"])},
        witness={"failed_op": 4, "longest_prefix": [0, 2], "states": ['["a" "b"]']},
        because='(it is illegal in ["a" "b"])')

