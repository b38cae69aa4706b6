"""Every checker has a negative control and a near-miss twin, so a checker broken either way fails the suite.

Thirteen bugs were planted in the code one at a time; one went uncaught: dynamo's sibling convergence returning ok
always, with all tests passing. So each checker here, in ``invariants/`` (linearizability under every model, every
list-append anomaly) and every invariant a protocol in ``protocols/`` hands to the engine, gets

* a *control*: a hand-written history it must report ``violated``, with the witness naming the operations (call
  indices), the key and the value, and an explanation that says why and ends "a contradiction!"; and
* a *twin*: the same history with the one difference removed, which it must judge ``ok`` *and exercised* (an ``ok``
  for lack of anything to judge shows nothing).

A checker mutated to "always ok" fails its control; one mutated to "always violated" fails its twin.
:func:`test_every_checker_has_a_control` finds the checkers by introspection, so a new one without a control fails.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import pytest
from histories import txn_history

import invariants
import protocols
from faultlab.history import History
from faultlab.result import CheckResult
from invariants.convergence import check_bounded_staleness, check_convergence
from invariants.delivery import check_at_least_once, check_exactly_once
from invariants.durability import check_no_lost_writes
from invariants.elle import ANOMALIES, check_list_append
from invariants.linearizability import check_linearizable
from invariants.object_store import check_object_read_after_write
from invariants.observed_durability import check_observed_writes_durable
from invariants.ordering import check_fifo_per_group, check_per_key_order
from invariants.session import check_monotonic_reads, check_read_after_write, check_read_your_writes
from models import MODELS
from protocols.dynamo.siblings import check_sibling_convergence


@attrs.frozen
class Control:
    """A history ``check`` must find violated, and its twin (``fix`` applied: the one difference) it must pass.

    ``target`` names what is controlled (see :func:`test_every_checker_has_a_control`); ``shows`` says what the
    violating history shows. ``witness`` maps a path into the witness (``"anomalies.0.txns"``) to its expected
    value; ``because`` is a phrase the explanation must contain. ``build`` turns rows into a history
    (:meth:`History.from_intervals` unless the control needs events in an exact order).
    """

    target: str
    shows: str
    check: Callable[[History], CheckResult]
    rows: Sequence[Any]
    fix: dict[int, Any]
    witness: dict[str, Any]
    because: str
    build: Callable[[Sequence[Any]], History] = History.from_intervals
    bug: str = ""  # a checker bug this control shows: a strict xfail until the checker is fixed

    def violating(self) -> History:
        return self.build(self.rows)

    def twin(self) -> History:
        assert set(self.fix) <= set(range(len(self.rows)))
        return self.build([self.fix.get(i, row) for i, row in enumerate(self.rows)])

    def __str__(self) -> str:
        return f"{self.target}: {self.shows}"


def _at(witness: Any, path: str) -> Any:
    for part in path.split("."):
        witness = witness[int(part)] if isinstance(witness, list) else witness[part]
    return witness


# -- history rows (History.from_intervals: process, f, value, call, ret, status, ok value[, phase[, node]]) ---------

def w(p, v, call, ret, status="ok", node=None):
    return (p, "write", v, call, ret, status, None, "main", node)


def r(p, v, call, ret, node=None, phase="main"):
    return (p, "read", None, call, ret, "ok", v, phase, node)


def final(p, v, call, node=None):
    return r(p, v, call, call + 0.5, node, "final")


def kw(p, key, v, call, ret, status="ok"):
    """A keyed write, Jepsen's "independent" style: the value is [key, v]."""
    return (p, "write", [key, v], call, ret, status, None)


def kfinal(p, key, v, call, node, read_input=None):
    return (p, "read", read_input if read_input is not None else [key, None], call, call + 0.5, "ok", [key, v],
            "final", node)


def op(p, f, value, call, ret, out=None, status="ok", phase="main", node=None):
    return (p, f, value, call, ret, status, out, phase, node)


def events(rows: Sequence[tuple]) -> History:
    """A history from events in exactly this order: (process, type, f, value, time[, phase]).

    :meth:`History.from_intervals` puts invocations first at equal times, so it cannot write "W1 completed, then W2
    began, at the same instant", which a simulation records all the time (messages take no virtual time)."""
    h = History()
    for process, type, f, value, time, *phase in rows:
        if type == "invoke":
            h.invoke(process, f, value, time, phase=phase[0] if phase else "main")
        else:
            h.complete(process, type, value, time)
    return h


CONTROLS: list[Control] = []


def control(**fields: Any) -> None:
    CONTROLS.append(Control(**fields))


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
        witness={"anomaly_types": ["G1b"], "anomalies.0.txns": [0, 1], "anomalies.0.key": "x",
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


# == the tests ======================================================================================================

@pytest.mark.parametrize("c", [pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=c.bug)) if c.bug else c
                               for c in CONTROLS], ids=str)
def test_control_history_is_violated_with_a_witness_that_says_why(c: Control):
    result = c.check(c.violating())
    assert result.violated and result.exercised, result
    assert {path: _at(result.witness, path) for path in c.witness} == c.witness
    assert c.because in result.explanation, result.explanation
    assert "a contradiction!" in result.explanation


@pytest.mark.parametrize("c", CONTROLS, ids=str)
def test_near_miss_twin_is_judged_ok(c: Control):
    result = c.check(c.twin())
    assert result.ok and result.exercised, result


def _checkers() -> set[str]:
    """What must have a control: every public check_* of invariants/, linearizability per model, list-append per
    anomaly, every check_* defined in protocols/, and every invariant of every protocol."""
    names = set()
    for package in (invariants, protocols):
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):  # a protocol may be a package
            module = importlib.import_module(info.name)
            for name, fn in inspect.getmembers(module, inspect.isfunction):
                if name.startswith("check_") and fn.__module__ == module.__name__:
                    names.add(f"{module.__name__}.{name}")
    names.remove("invariants.linearizability.check_linearizable")
    names |= {f"invariants.linearizability.check_linearizable[{m}]" for m in MODELS}
    names.remove("invariants.elle.check_list_append")
    names |= {f"invariants.elle.check_list_append[{x}]" for x in (*ANOMALIES, "incompatible-order", "garbage-read")}
    for spec in SPECS.values():
        names |= {f"{spec.name}/{inv.name}" for inv in spec.invariants}
    return names


def test_every_checker_has_a_control():
    covered = {c.target for c in CONTROLS}
    # A protocol-level check_* is covered by the control of the invariant that hands it to the engine.
    for spec in SPECS.values():
        for inv in spec.invariants:
            if f"{spec.name}/{inv.name}" in covered and inv.check.__name__.startswith("check_"):
                covered.add(f"{inv.check.__module__}.{inv.check.__name__}")
    missing = sorted(_checkers() - covered)
    assert not missing, f"checkers without a negative control and twin: {missing}"
