"""Controls for the invariants of the resilience (retries, cells, shuffle-sharding, cloudfront, step-functions, route53) protocols: see test_checker_controls.py.

Split from controls_protocols.py (which holds the discovery of every SPEC and the first protocols' controls) so
that each file holds one family.
"""

from __future__ import annotations

from controls import CONTROLS, Control, _at, control, events, final, kfinal, kw, op, r, w  # noqa: F401
from controls_protocols import SPECS, invariant  # noqa: F401


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
