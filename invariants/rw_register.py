"""Transactional anomalies in read-write register histories, as Jepsen Elle's rw-register checker finds them.

A transaction is ``f="txn"`` whose value is a list of ``["w", k, v]`` and ``["r", k, None]`` micro-ops; its ``ok``
value fills each read in (``["r", k, v]``, ``None`` for the initial state). Written values are unique per key.
Unlike list-append, a read shows only one version, so the version order of a key is known only partly. What is
inferred, per key, as Elle does by default:

* the initial state (``None``) comes before every written version (so a read of ``None`` precedes every writer);
* with ``wfr_keys=True`` (Elle's ``:wfr-keys?``), writes follow reads within a transaction: a transaction that read
  v1 and then wrote v2 orders v1 before v2; a cycle in such a version order is ``cyclic-versions``;
* with ``sequential_keys=True`` / ``linearizable_keys=True`` (Elle's options of those names), each key on its own is
  taken to be sequentially consistent / linearizable: a transaction after another in its process / in real time
  that touches the same key began from a version no older than the one the first left;
* wr: the writer of v -> every transaction whose external read (the first of a key, before writing it) returned v,
  when v was its writer's final write of the key (a read of an intermediate write is G1b, and no edge);
* ww and rw from each inferred version pair v1 < v2 (transitively reduced): writer(v1) -> writer(v2) and every
  external reader of v1 -> writer(v2).

Anomalies: G1a (read of a failed write), G1b (read of a write its writer overwrote in the same transaction),
internal (a read that disagrees with the transaction's own earlier write or read of the key), lost-update,
garbage-read (ours: a value nobody wrote), cyclic-versions, and the cycle types G0, G1c, G-single, G-nonadjacent,
G2-item with their -process and -realtime variants, each reported when the consistency model prohibits it
(see :mod:`invariants.consistency`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import networkx as nx

from faultlab.errors import HistoryFormatError
from faultlab.history import History, Operation
from faultlab.result import CheckResult
from invariants.elle import Edges, _anomaly, _lost_updates, elle_verdict, order_edges
from invariants.session import Ident, identity

__all__ = ["CHECKERS", "check_rw_register"]

_INIT = identity(None)


def check_rw_register(history: History, consistency_models: Iterable[str] = ("serializable",),
                      anomalies: Iterable[str] = (), *, wfr_keys: bool = False, sequential_keys: bool = False,
                      linearizable_keys: bool = False) -> CheckResult:
    """Judge an rw-register history as Elle does: every anomaly the consistency models prohibit, named as Elle
    names them; ``violated`` with the weakest models ruled out (``not``) if any is found."""
    checker = "rw-register"
    txns = [op for op in history.operations() if op.f == "txn"]
    for op in txns:
        _validate(op)
    if not any(op.is_ok for op in txns):
        return CheckResult.unexercised(checker, "The history has no ok transaction, so nothing was observed.",
                                       txns=len(txns))
    g = _Registers(txns, wfr_keys, sequential_keys=sequential_keys, linearizable_keys=linearizable_keys)
    return elle_verdict(checker, txns, g.by_index, g.edges, g.anomalies(), consistency_models, anomalies)


def _validate(op: Operation) -> None:
    for value in (op.input, op.output):
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(m, list | tuple) and len(m) == 3
                                                  and m[0] in ("w", "r") for m in value):
            raise HistoryFormatError(f"{op.describe()}: an rw-register transaction is a list of ['w', k, v] and "
                                     f"['r', k, value-or-None] micro-ops, got {value!r}")


class _Registers:
    """Who wrote each version, which reads are external, and the version order each key's reads and writes imply."""

    def __init__(self, txns: list[Operation], wfr_keys: bool, *, sequential_keys: bool = False,
                 linearizable_keys: bool = False):
        self.txns = txns
        self.by_index = {op.call_index: op for op in txns}
        self.writer: dict[tuple[Ident, Ident], Operation] = {}
        self.intermediate: dict[tuple[Ident, Ident], Operation] = {}
        self.keys: dict[Ident, Any] = {}
        self.values: dict[Ident, Any] = {None: None, _INIT: None}
        self.ext_reads: list[tuple[Operation, Ident, Ident]] = []  # (txn, key, version read)
        self.versions: dict[Ident, nx.DiGraph] = defaultdict(nx.DiGraph)
        self.sources = ["initial-state"] + [name for name, on in (("wfr-keys", wfr_keys),
                                                                  ("sequential-keys", sequential_keys),
                                                                  ("linearizable-keys", linearizable_keys)) if on]
        first: dict[int, dict[Ident, Ident]] = {}  # txn -> key -> the version it began from (external read or write)
        final: dict[int, dict[Ident, Ident]] = {}  # txn -> key -> the version it left (external write or read)
        for op in txns:
            mops = op.output if op.is_ok and op.output is not None else op.input
            last_write: dict[Ident, Ident] = {}
            read_first: dict[Ident, Ident] = {}
            for f, k, v in mops:
                kk, vv = identity(k), identity(v)
                self.keys[kk] = k
                self.values[vv] = v
                if f == "w":
                    if (kk, vv) in self.writer:
                        raise HistoryFormatError(f"{op.describe()} writes {v!r} to key {k!r} like "
                                                 f"{self.writer[(kk, vv)].describe()}; writes must be unique")
                    self.writer[(kk, vv)] = op
                    if kk in last_write:
                        self.intermediate[(kk, last_write[kk])] = op
                    last_write[kk] = vv
                elif op.is_ok and kk not in last_write and kk not in read_first:
                    read_first[kk] = vv
                    self.ext_reads.append((op, kk, vv))
            if op.status != "fail":
                first[op.call_index] = {**last_write, **read_first}
                final[op.call_index] = {**read_first, **last_write}
            if wfr_keys and op.status != "fail":  # writes follow reads: what it read came before what it wrote
                for kk, vv in sorted(last_write.items()):
                    if kk in read_first and read_first[kk] != vv:
                        self.versions[kk].add_edge(read_first[kk], vv)
        for (kk, vv), w in sorted(self.writer.items(), key=lambda e: (e[0], e[1].call_index)):
            if w.status != "fail" and (kk, vv) not in self.intermediate:
                self.versions[kk].add_edge(_INIT, vv)
        if sequential_keys or linearizable_keys:
            self._order_versions(first, final, sequential_keys, linearizable_keys)

    def _order_versions(self, first, final, sequential: bool, linearizable: bool) -> None:
        """Elle's ``:sequential-keys?`` / ``:linearizable-keys?``: when each key is on its own sequentially
        consistent (linearizable), a transaction that follows another in its process (in real time) and touches the
        same key saw a version no older than the one the first left: final(T1, k) < first(T2, k). Transactions
        that did not touch the key (or failed, or only read while crashed) are seen through."""
        keys = sorted({kk for versions in first.values() for kk in versions})
        for kk in keys:
            touching = [op for op in self.txns if kk in first.get(op.call_index, {})]

            def add(a: Operation, b: Operation, kind: str, kk: Ident = kk, **_: Any) -> None:
                v1, v2 = final[a.call_index][kk], first[b.call_index][kk]
                if v1 != v2:
                    self.versions[kk].add_edge(v1, v2)

            order_edges(touching, self.by_index, add, process_order=sequential, realtime=linearizable)

    def anomalies(self) -> list[dict[str, Any]]:
        out = []
        for op, kk, vv in self.ext_reads:
            k, v = self.keys[kk], self.values[vv]
            if vv == _INIT:
                continue
            w = self.writer.get((kk, vv))
            if w is None:
                out.append(_anomaly("garbage-read", [op], f"Let T = {op.describe()}. Then T read {v!r} in key "
                                    f"{k!r}, but no transaction wrote it: a contradiction!", key=k, value=v))
            elif w.status == "fail":
                out.append(_anomaly("G1a", [w, op], f"Let T1 = {w.describe()} and T2 = {op.describe()}. T1 failed, "
                                    f"so it definitely did not happen. Then T2 read T1's write of {v!r} to key {k!r}: "
                                    f"a contradiction!", key=k, value=v))
            elif (kk, vv) in self.intermediate and w is not op:
                out.append(_anomaly("G1b", [w, op], f"Let T1 = {w.describe()} and T2 = {op.describe()}. T1 wrote "
                                    f"{v!r} to key {k!r} and then overwrote it. Then T2 read {v!r}, T1's "
                                    f"intermediate write: a contradiction!", key=k, value=v))
        for op in self.txns:
            if op.is_ok and op.output is not None:
                out += _internal(op)
        for kk, graph in sorted(self.versions.items()):
            if not nx.is_directed_acyclic_graph(graph):
                cycle = [self.values[a] for a, _ in nx.find_cycle(graph)]
                ops = sorted({self.writer[(kk, x)].call_index for x, _ in nx.find_cycle(graph)
                              if (kk, x) in self.writer})
                out.append({"type": "cyclic-versions", "txns": ops, "key": self.keys[kk], "versions": cycle,
                            "sources": self.sources,
                            "explanation": f"The transactions' reads and writes order the versions of key "
                                           f"{self.keys[kk]!r} in a cycle, {cycle!r}, but a version order is total: "
                                           f"a contradiction!"})
        out += _lost_updates([op for op in self.txns if op.is_ok], writes=("w",))
        return out

    def edges(self, process_order: bool, realtime: bool) -> Edges:
        edges: Edges = defaultdict(dict)
        committed = [op for op in self.txns if op.status != "fail"]
        alive = {op.call_index for op in committed}

        def add(a: Operation, b: Operation, kind: str, **why: Any) -> None:
            if a.call_index != b.call_index and a.call_index in alive and b.call_index in alive:
                edges[(a.call_index, b.call_index)].setdefault(kind, why)

        readers: dict[tuple[Ident, Ident], list[Operation]] = defaultdict(list)
        for op, kk, vv in self.ext_reads:
            readers[(kk, vv)].append(op)
            if vv != _INIT and (kk, vv) not in self.intermediate and (w := self.writer.get((kk, vv))):
                add(w, op, "wr", key=self.keys[kk], value=self.values[vv], register=True)
        for kk, graph in sorted(self.versions.items()):
            if not nx.is_directed_acyclic_graph(graph):
                continue  # reported as cyclic-versions; no order to infer from
            k = self.keys[kk]
            for v1, v2 in sorted(nx.transitive_reduction(graph).edges()):
                w2 = self.writer.get((kk, v2))
                if w2 is None:
                    continue
                if v1 != _INIT and (w1 := self.writer.get((kk, v1))):
                    add(w1, w2, "ww", key=k, value=self.values[v2], prev=self.values[v1], register=True)
                for op in readers.get((kk, v1), ()):
                    add(op, w2, "rw", key=k, value=self.values[v2], read=self.values[v1], register=True)
        order_edges(committed, self.by_index, add, process_order=process_order, realtime=realtime)
        return dict(edges)


def _internal(op: Operation) -> list[dict[str, Any]]:
    """A read that disagrees with the transaction's own last write or read of the key (Elle's internal)."""
    state: dict[Ident, Any] = {}
    for f, k, v in op.output:
        kk = identity(k)
        if f == "r" and kk in state and identity(v) != identity(state[kk]):
            return [_anomaly("internal", [op], f"Let T = {op.describe()}. T's own earlier micro-ops on key {k!r} say "
                             f"it must read {state[kk]!r}, but it read {v!r}: a contradiction!",
                             key=k, expected=state[kk], read=v)]
        state[kk] = v
    return []


def check_rw_register_wfr(history: History) -> CheckResult:
    """Judge an rw-register history for serializability with writes-follow-reads version inference (Elle's
    ``:wfr-keys? true``)."""
    return check_rw_register(history, wfr_keys=True)


CHECKERS: dict[str, Callable[[History], CheckResult]] = {
    "rw-register": check_rw_register,
    "rw-register-wfr": check_rw_register_wfr,
}
