"""Transactional anomalies in list-append histories, found by cycle search in a dependency graph, as in Jepsen's Elle.

List-append is the workload Elle was built for: every append is unique and every read returns the whole list, so a
read reveals the order of all earlier appends to its key, and the dependencies between transactions (Adya's ww, wr
and rw edges) can be inferred rather than guessed. A cycle of dependencies is a transaction order no serial execution
could produce.

History conventions: a transaction is ``f="txn"`` whose value is a list of micro-ops, ``["append", k, v]`` and
``["r", k, None]``; its ``ok`` value is the same list with each read's list filled in (``["r", k, [v1, v2]]``).
Appended values are unique per key. A ``fail`` transaction definitely did not happen (reading its appends is G1a);
an ``info`` transaction may or may not have happened: its appends may be read (which shows it committed) but its own
reads are unknown.

What is inferred, per key:

* the version order is the longest list any ``ok`` read returned; every other read must be a prefix of it, and a
  read that is not, or that repeats an element, is an ``incompatible-order`` anomaly (reported always, because every
  edge below rests on that order); a read of a value no transaction appended is a ``garbage-read``;
* an append no read returned still came after every value that was read (Elle's inference): ww from the writer of
  the last value of the order to it, rw from every read that returned the whole order (or the empty list);
* ww: T1 -> T2 when T2's append comes right after T1's in the version order;
* wr: T1 -> T2 when the last element of T2's read is T1's append;
* rw: T1 -> T2 when T1 read a prefix that ends just before T2's append (T1 did not see it);
* optionally ``process`` edges (consecutive transactions of one process) and ``realtime`` edges (T1 completed before
  T2 began), which turn the search into one for strict serializability; a cycle that needs them is reported with a
  ``-process`` or ``-realtime`` suffix (``G-single-realtime``).

Anomalies, each cycle named by its most specific type among those requested: G0 (a cycle of ww edges), G1a (a read
of a failed transaction's append), G1b (a read whose last element is an append its writer followed with another
append to the same key), G1c (a cycle of ww and wr edges with at least one wr), G-single (a cycle with exactly one rw
edge) and G2 (a cycle with two or more rw edges). When G0 is not requested, G1c includes pure ww cycles; when
G-single is not requested, G2 includes cycles with one rw edge (Adya's inclusions). At most one cycle per anomaly
type and strongly connected component is reported.

The witness lists ``anomalies`` (type, the cycle as edges between call indices with their kinds, the explanation)
and ``ops`` (every call index involved, for the HTML timeline).

:func:`check_elle_list_append` is the same inference judged as Elle judges it (the second half of this module):
anomalies named as Elle names them (``G-single-item``, ``G-nonadjacent-item``, ``G2-item`` and their ``-process``
and ``-realtime`` variants, ``internal``, ``future-read``, ``dirty-update``, ``lost-update``, ``duplicate-elements``),
searched for when a consistency model (:mod:`invariants.consistency`) prohibits them, with the models the history
rules out. :mod:`invariants.rw_register` shares that judgment.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from typing import Any

import networkx as nx

from faultlab.errors import ConfigError, HistoryFormatError
from faultlab.history import History, Operation
from faultlab.result import CheckResult
from invariants.consistency import anomalies_implying, anomalies_prohibited_by, boundary
from invariants.session import Ident, identity

__all__ = ["ANOMALIES", "CHECKERS", "check_elle_list_append", "check_list_append", "elle_verdict"]

ANOMALIES = ("G0", "G1a", "G1b", "G1c", "G-single", "G2")
_KIND_ORDER = ("ww", "wr", "rw", "process", "realtime")
Edges = dict[tuple[int, int], dict[str, dict[str, Any]]]


def check_list_append(history: History, anomalies: Iterable[str] = ANOMALIES, *, process_order: bool = False,
                      realtime: bool = False) -> CheckResult:
    """Search a list-append history for the requested anomalies; ``violated`` with a witness if any is found.

    Nothing to judge (ok, ``exercised=False``) when the history has no ``ok`` transaction (nothing was observed). ``ok`` means no requested
    anomaly was found, which for G0..G2 means the inferred dependency graph has no such cycle.
    """
    wanted = tuple(anomalies)
    if unknown := sorted(set(wanted) - set(ANOMALIES)):
        raise ConfigError(f"check_list_append: unknown anomaly {unknown[0]!r}; choose from {', '.join(ANOMALIES)}")
    checker = "list-append"
    txns = [op for op in history.operations() if op.f == "txn"]
    for op in txns:
        _validate(op)
    if not any(op.is_ok for op in txns):
        return CheckResult.unexercised(checker, "The history has no ok transaction, so nothing was observed.",
                                       txns=len(txns))
    g = _Inference(txns)
    found = [a for a in g.read_anomalies() if a["type"] in wanted or a["type"] in ("incompatible-order",
                                                                                      "garbage-read")]
    edges = g.edges(process_order=process_order, realtime=realtime)
    found += _cycle_anomalies(edges, g.by_index, wanted, extras=[k for k, on in (("process", process_order),
                                                                                ("realtime", realtime)) if on])
    if not found:
        return CheckResult.holds(checker, f"{len(txns)} transactions; no {', '.join(wanted)} found in the "
                                          f"dependency graph of {len(edges)} edges.", txns=len(txns),
                                 edges=len(edges))
    counts = defaultdict(int)
    for a in found:
        counts[a["type"]] += 1
    summary = "Found " + ", ".join(f"{t} ({n})" for t, n in sorted(counts.items())) + "."
    text = "\n\n".join([summary] + [a["explanation"] for a in found[:5]])
    ops = sorted({ci for a in found for ci in a["txns"]})
    return CheckResult.violation(checker, text, anomalies=found, anomaly_types=sorted(counts), ops=ops)


def _validate(op: Operation) -> None:
    for value in (op.input, op.output):
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(m, list | tuple) and len(m) == 3
                                                  and m[0] in ("append", "r") for m in value):
            raise HistoryFormatError(f"{op.describe()}: a list-append transaction is a list of ['append', k, v] and "
                                     f"['r', k, list-or-None] micro-ops, got {value!r}")


def _mops(op: Operation) -> list:
    return op.output if op.is_ok and op.output is not None else op.input


class _Inference:
    """What the reads reveal: who appended each value, the version order of each key, and who read what."""

    def __init__(self, txns: list[Operation]):
        self.txns = txns
        self.by_index = {op.call_index: op for op in txns}
        self.writer: dict[tuple[Ident, Ident], Operation] = {}
        self.appends: dict[tuple[int, Ident], list[Ident]] = defaultdict(list)  # (txn, key) -> its values in order
        self.keys: dict[Ident, Any] = {}
        self.values: dict[Ident, Any] = {}
        self.reads: list[tuple[Operation, Ident, list[Ident], list]] = []  # (txn, key, identities, as read)
        for op in txns:
            for f, k, v in _mops(op):
                kk = identity(k)
                self.keys[kk] = k
                if f == "append":
                    vv = identity(v)
                    self.values[vv] = v
                    if (kk, vv) in self.writer:
                        raise HistoryFormatError(f"{op.describe()} appends {v!r} to key {k!r} like "
                                                 f"{self.writer[(kk, vv)].describe()}; appends must be unique")
                    self.writer[(kk, vv)] = op
                    self.appends[(op.call_index, kk)].append(vv)
                elif op.is_ok:
                    seen = []
                    for x in v or []:
                        xx = identity(x)
                        self.values[xx] = x
                        seen.append(xx)
                    self.reads.append((op, kk, seen, v or []))
        self.order: dict[Ident, list[Ident]] = {}
        self.longest: dict[Ident, Operation] = {}  # the transaction whose read gave the order
        for op, kk, seen, _ in self.reads:
            if len(seen) > len(self.order.get(kk, [])) or kk not in self.order:
                self.order[kk] = seen
                self.longest[kk] = op

    def show(self, kk: Ident, values: list[Ident] | None = None, v: Ident | None = None) -> str:
        if values is not None:
            return repr([self.values[x] for x in values])
        return repr(self.values[v]) if v is not None else repr(self.keys[kk])

    def compatible(self, kk: Ident, seen: list[Ident]) -> bool:
        return len(set(seen)) == len(seen) and self.order[kk][:len(seen)] == seen

    def read_anomalies(self) -> list[dict[str, Any]]:
        """G1a, G1b, garbage reads and incompatible orders: everything a single read reveals."""
        out = []
        for op, kk, seen, raw in self.reads:
            k = self.keys[kk]
            if not self.compatible(kk, seen):
                other = self.longest[kk]
                out.append(_anomaly(
                    "incompatible-order", [other, op],
                    f"Let T1 = {other.describe()} and T2 = {op.describe()}. T1 read key {k!r} as "
                    f"{self.show(kk, self.order[kk])} and T2 read it as {self.show(kk, seen)}. Then the two reads "
                    f"cannot both be prefixes of one append order: a contradiction!", key=k,
                    reads=[self.values_of(self.order[kk]), raw]))
            for vv in seen:
                w = self.writer.get((kk, vv))
                if w is None:
                    out.append(_anomaly("garbage-read", [op], f"Let T = {op.describe()}. Then T read "
                                        f"{self.show(kk, v=vv)} in key {k!r}, but no transaction appended it: a "
                                        f"contradiction!", key=k, value=self.values[vv]))
                elif w.status == "fail":
                    out.append(_anomaly("G1a", [w, op], f"Let T1 = {w.describe()} and T2 = {op.describe()}. T1 "
                                        f"failed, so it definitely did not happen. Then T2 read T1's append of "
                                        f"{self.show(kk, v=vv)} to key {k!r}: a contradiction!",
                                        key=k, value=self.values[vv]))
            if seen:
                w = self.writer.get((kk, seen[-1]))
                if w is not None and w is not op and w.status != "fail":
                    mine = self.appends[(w.call_index, kk)]
                    if mine[-1] != seen[-1]:
                        later = mine[mine.index(seen[-1]) + 1]
                        out.append(_anomaly(
                            "G1b", [w, op],
                            f"Let T1 = {w.describe()} and T2 = {op.describe()}. T1 appended "
                            f"{self.show(kk, v=seen[-1])} and then {self.show(kk, v=later)} to key {k!r}. Then T2 "
                            f"read {self.show(kk, seen)}, which ends at T1's intermediate append: a contradiction!",
                            key=k, value=self.values[seen[-1]]))
        return out

    def placed(self, kk: Ident) -> set[Ident]:
        if not hasattr(self, "_placed"):
            self._placed = {key: set(order) for key, order in self.order.items()}
        return self._placed.get(kk, set())

    def values_of(self, seen: list[Ident]) -> list[Any]:
        return [self.values[x] for x in seen]

    def edges(self, *, process_order: bool, realtime: bool) -> Edges:
        edges: Edges = defaultdict(dict)
        committed = [op for op in self.txns if op.status != "fail"]
        alive = {op.call_index for op in committed}

        def add(a: Operation, b: Operation, kind: str, **why: Any) -> None:
            if a.call_index != b.call_index and a.call_index in alive and b.call_index in alive:
                edges[(a.call_index, b.call_index)].setdefault(kind, why)

        for kk, order in sorted(self.order.items()):
            k = self.keys[kk]
            for prev, nxt in zip(order, order[1:], strict=False):
                a, b = self.writer.get((kk, prev)), self.writer.get((kk, nxt))
                if a and b:
                    add(a, b, "ww", key=k, value=self.values[nxt], prev=self.values[prev])
        for op, kk, seen, raw in self.reads:
            k = self.keys[kk]
            if seen and (w := self.writer.get((kk, seen[-1]))):
                add(w, op, "wr", key=k, value=self.values[seen[-1]])
            order = self.order[kk]
            if self.compatible(kk, seen) and len(seen) < len(order):
                if w := self.writer.get((kk, order[len(seen)])):
                    add(op, w, "rw", key=k, value=self.values[order[len(seen)]], read=raw)
        # An append no read returned still came after every value that was read (Elle's inference): a ww edge from
        # the writer of the last value read, and an rw edge from every read that saw the whole order.
        whole: dict[Ident, list[tuple[Operation, list]]] = defaultdict(list)  # key -> reads of its whole order
        for op, kk, seen, raw in self.reads:
            if seen == self.order.get(kk, []):
                whole[kk].append((op, raw))
        for (kk, vv), w in sorted(self.writer.items(), key=lambda e: (e[0], e[1].call_index)):
            order = self.order.get(kk, [])
            if vv in self.placed(kk):
                continue
            k = self.keys[kk]
            if order and (prev := self.writer.get((kk, order[-1]))):
                add(prev, w, "ww", key=k, value=self.values[vv], prev=self.values[order[-1]])
            for op, raw in whole.get(kk, ()):
                add(op, w, "rw", key=k, value=self.values[vv], read=raw)
        order_edges(committed, self.by_index, add, process_order=process_order, realtime=realtime)
        return dict(edges)


def order_edges(committed: list[Operation], by_index: dict[int, Operation], add: Callable[..., None], *,
                process_order: bool, realtime: bool) -> None:
    """Add ``process`` edges (consecutive transactions of one process) and ``realtime`` edges (T1 completed before
    T2 began; only from the frontier of latest completions, the rest are implied) through ``add(a, b, kind, **why)``."""
    if process_order:
        last: dict[Ident, Operation] = {}
        for op in committed:
            p = identity(op.process)
            if p in last:
                add(last[p], op, "process", process=op.process)
            last[p] = op
    if realtime:
        events = sorted([(op.called, 0, op.call_index) for op in committed] +
                        [(op.returned, 1, op.call_index) for op in committed if op.is_ok])
        frontier: set[int] = set()
        preds: dict[int, set[int]] = {}
        for _, is_completion, ci in events:
            if is_completion:
                frontier -= preds[ci]
                frontier.add(ci)
            else:
                preds[ci] = set(frontier)
                for p in sorted(frontier):
                    add(by_index[p], by_index[ci], "realtime")


def _anomaly(kind: str, txns: list[Operation], explanation: str, **details: Any) -> dict[str, Any]:
    return {"type": kind, "txns": [op.call_index for op in txns], **details, "explanation": explanation}


# -- cycles --------------------------------------------------------------------------------------------------------

def _cycle_anomalies(edges: Edges, by_index: dict[int, Operation], wanted: tuple[str, ...],
                     extras: list[str]) -> list[dict[str, Any]]:
    """One cycle per requested type and strongly connected component, most specific type first.

    Each type is (seed kinds, kinds the rest of the cycle may use, special kind, min and max special edges in the
    cycle). A seed edge a -> b is only searched from when a is reachable from b over the rest kinds (answered from a
    precomputed closure), so a component costs one breadth-first search per type, not one per edge.
    """
    specs = {
        "G0": ({"ww"}, {"ww"}, None, 0, 0),
        "G1c": ({"wr"} if "G0" in wanted else {"ww", "wr"}, {"ww", "wr"}, "wr", 1 if "G0" in wanted else 0, 99),
        "G-single": ({"rw"}, {"ww", "wr"}, "rw", 1, 1),
        "G2": ({"rw"}, {"ww", "wr", "rw"}, "rw", 2 if "G-single" in wanted else 1, 99),
    }
    adjacency: dict[int, list[tuple[int, list[str]]]] = defaultdict(list)
    for (a, b), kinds in sorted(edges.items()):
        adjacency[a].append((b, [k for k in _KIND_ORDER if k in kinds]))
    out = []
    covered: dict[str, set[int]] = defaultdict(set)  # per type, transactions in components already reported
    for extra in [set()] + ([set(extras)] if extras else []):
        component = _components(edges, {"ww", "wr", "rw"} | extra)
        for name in ("G0", "G1c", "G-single", "G2"):
            if name not in wanted:
                continue
            seeds, rest, special, lo, hi = specs[name]
            allowed = rest | extra
            reaches = _reachability(edges, allowed)
            for (a, b), kinds in sorted(edges.items()):
                comp = component.get(a)
                if comp is None or comp != component.get(b) or a in covered[name] or not reaches(b, a):
                    continue
                if name == "G2" and a in covered["G-single"]:
                    continue  # already shown non-serializable by a more specific cycle
                for k0 in (k for k in _KIND_ORDER if k in kinds and k in seeds):
                    path = _path_back(adjacency, b, a, allowed, special, lo, hi, int(k0 == special), component)
                    if path is not None:
                        cycle = [(a, b, k0)] + path
                        used = sorted({k for _, _, k in cycle if k in extra}, key=_KIND_ORDER.index)
                        out.append(_cycle_anomaly(name + "".join(f"-{k}" for k in used), cycle, edges, by_index))
                        covered[name] |= {n for n, c in component.items() if c == comp}
                        break
    return out


def _components(edges: Edges, kinds: set[str]) -> dict[int, int]:
    """Strongly connected component of each transaction in the graph of the given edge kinds (singletons left out)."""
    graph = nx.DiGraph([ab for ab, ks in edges.items() if not kinds.isdisjoint(ks)])
    sccs = sorted((c for c in nx.strongly_connected_components(graph) if len(c) > 1), key=min)
    return {n: i for i, scc in enumerate(sccs) for n in scc}


def _reachability(edges: Edges, kinds: set[str]) -> Callable[[int, int], bool]:
    """``reaches(u, v)``: is there a path u -> v over the given kinds? A bitset closure of the condensation."""
    graph = nx.DiGraph([ab for ab, ks in edges.items() if not kinds.isdisjoint(ks)])
    dag = nx.condensation(graph)
    where = dag.graph["mapping"]
    below: dict[int, int] = {}
    for c in reversed(list(nx.topological_sort(dag))):
        bits = 1 << c
        for d in dag.successors(c):
            bits |= below[d]
        below[c] = bits

    def reaches(u: int, v: int) -> bool:
        return u in where and v in where and bool(below[where[u]] >> where[v] & 1)
    return reaches


def _path_back(adjacency: dict[int, list[tuple[int, list[str]]]], start: int, goal: int, allowed: set[str],
               special: str | None, lo: int, hi: int, count0: int,
               component: dict[int, int]) -> list[tuple[int, int, str]] | None:
    """Shortest path start -> goal over allowed edge kinds, with between lo and hi special edges in the whole
    cycle (count0 already used by the seed edge): a breadth-first search over (node, special count) states."""
    if count0 > hi:
        return None
    cap = min(hi, max(lo, 1))
    begin = (start, min(count0, cap))
    parent: dict[tuple[int, int], tuple[tuple[int, int], str] | None] = {begin: None}
    queue = deque([begin])
    while queue:
        node, count = state = queue.popleft()
        if node == goal and count >= lo:
            path = []
            while parent[state] is not None:
                prev, kind = parent[state]
                path.append((prev[0], state[0], kind))
                state = prev
            return path[::-1]
        if node == goal:
            continue
        for nxt, kinds in adjacency.get(node, ()):
            if component.get(nxt) != component.get(start):
                continue
            for kind in kinds:
                if kind not in allowed:
                    continue
                c = count + (kind == special)
                if c > hi:
                    continue
                s = (nxt, min(c, cap))
                if s not in parent:
                    parent[s] = (state, kind)
                    queue.append(s)
    return None


def _cycle_anomaly(label: str, cycle: list[tuple[int, int, str]], edges: Edges,
                   by_index: dict[int, Operation]) -> dict[str, Any]:
    # Start the story at the earliest transaction, so the same cycle always reads the same.
    first = min(range(len(cycle)), key=lambda i: cycle[i][0])
    cycle = cycle[first:] + cycle[:first]
    names = {a: f"T{i + 1}" for i, (a, _, _) in enumerate(cycle)}
    lets = "\n".join(f"  {names[a]} = {by_index[a].describe()}" for a, _, _ in cycle)
    steps = []
    for i, (a, b, kind) in enumerate(cycle):
        why = _because(kind, names[a], names[b], edges[(a, b)][kind], by_index[a], by_index[b])
        lead = "However, " if i == len(cycle) - 1 else ""
        steps.append(f"  - {lead}{names[a]} < {names[b]}, because {why}")
    text = f"{label}: Let:\n{lets}\nThen:\n" + ".\n".join(steps) + ": a contradiction!"
    return {"type": label, "txns": [a for a, _, _ in cycle],
            "cycle": [{"from": a, "to": b, "kind": kind, **{k: v for k, v in edges[(a, b)][kind].items()}}
                      for a, b, kind in cycle],
            "explanation": text}


def _because(kind: str, a: str, b: str, why: dict[str, Any], op_a: Operation, op_b: Operation) -> str:
    if "register" in why:
        if kind == "ww":
            return f"{b} wrote {why['value']!r} after {a} wrote {why['prev']!r} to key {why['key']!r}"
        if kind == "wr":
            return f"{b} read {a}'s write of {why['value']!r} to key {why['key']!r}"
        if kind == "rw":
            return (f"{a} read key {why['key']!r} as {why['read']!r}, which {b}'s write of {why['value']!r} "
                    f"came after")
    if kind == "ww":
        return f"{b} appended {why['value']!r} after {a} appended {why['prev']!r} to key {why['key']!r}"
    if kind == "wr":
        return f"{b} read {a}'s append of {why['value']!r} to key {why['key']!r}"
    if kind == "rw":
        return (f"{a} read key {why['key']!r} as {why['read']!r}, which did not yet include {b}'s append of "
                f"{why['value']!r}")
    if kind == "process":
        return f"process {why['process']} ran {a} before {b}"
    return f"{a} completed (t={op_a.ret:g}, event {op_a.ret_index}) before {b} began (t={op_b.call:g}, event {op_b.call_index})"


# == Elle parity: anomalies named as Elle names them, judged against a consistency model ===========================

# Cycle types as Elle's cycle search defines them: the edge kinds a cycle may use, and a rule on its rw edges.
# "one": exactly one rw; "nonadjacent": two or more, no two consecutive (around the cycle); "adjacent": two or
# more with at least one consecutive pair. Each has -process and -realtime variants that need one such edge.
_ELLE_CYCLES: dict[str, tuple[str, frozenset[str], str | None]] = {
    "G0": ("ww", frozenset({"ww"}), None),
    "G1c": ("wr", frozenset({"ww", "wr"}), None),
    "G-single-item": ("rw", frozenset({"ww", "wr", "rw"}), "one"),
    "G-nonadjacent-item": ("rw", frozenset({"ww", "wr", "rw"}), "nonadjacent"),
    "G2-item": ("rw", frozenset({"ww", "wr", "rw"}), "adjacent"),
}
ELLE_CYCLE_TYPES = tuple(base + variant for variant in ("", "-process", "-realtime") for base in _ELLE_CYCLES)


def elle_verdict(checker: str, txns: list[Operation], by_index: dict[int, Operation],
                 edges_for: Callable[[bool, bool], Edges], found: list[dict[str, Any]],
                 consistency_models: Iterable[str], anomalies: Iterable[str]) -> CheckResult:
    """The Elle-style judgment shared by list-append and rw-register: search the cycle types the models (and any
    extra ``anomalies``) prohibit, keep only prohibited anomalies, and say which models the history rules out."""
    models = list(consistency_models)
    prohibited = anomalies_prohibited_by(models) | anomalies_implying(anomalies)
    wanted = [t for t in ELLE_CYCLE_TYPES if t in prohibited]
    realtime = any(t.endswith("-realtime") for t in wanted)
    process = not realtime and any(t.endswith("-process") for t in wanted)
    edges = edges_for(process, realtime)
    found = [a for a in found if a["type"] in prohibited]
    found += _elle_cycles(edges, by_index, wanted)
    types = sorted({a["type"] for a in found})
    where = {"consistency_models": models, "txns": len(txns), "edges": len(edges)}
    if not found and not any({"ww", "wr", "rw"} & set(kinds) for kinds in edges.values()):
        # Elle's empty-transaction-graph: no dependency between any two transactions, so nothing was judged.
        return CheckResult.unexercised(checker, "No transaction depends on another (Elle's empty transaction "
                                                "graph), so there is no order to judge.", **where)
    if not found:
        return CheckResult.holds(checker, f"{len(txns)} transactions; none of the anomalies "
                                          f"{', '.join(models)} prohibits was found in the dependency graph of "
                                          f"{len(edges)} edges.", **where)
    counts = {t: sum(a["type"] == t for a in found) for t in types}
    rules = boundary(types)
    summary = (f"Found {', '.join(f'{t} ({n})' for t, n in counts.items())}: not {', '.join(rules['not'])}"
               f"{' (nor ' + ', '.join(rules['also_not']) + ')' if rules['also_not'] else ''}.")
    text = "\n\n".join([summary] + [a["explanation"] for a in found[:5]])
    ops = sorted({ci for a in found for ci in a["txns"]})
    return CheckResult.violation(checker, text, anomalies=found, anomaly_types=types, ops=ops, **rules, **where)


def _elle_cycles(edges: Edges, by_index: dict[int, Operation], wanted: list[str]) -> list[dict[str, Any]]:
    """For each wanted cycle type and each strongly connected component, the shortest cycle of that type that
    starts with a seed edge (an rw edge for the rw types, else the type's one required kind, or the variant's
    process/realtime edge), found by breadth-first search over (transaction, rw count, last edge rw, adjacent rw
    seen, variant edge seen)."""
    adjacency: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for (a, b), kinds in sorted(edges.items()):
        for k in _KIND_ORDER:
            if k in kinds:
                adjacency[a].append((b, k))
    out = []
    graphs: dict[frozenset[str], tuple[dict[int, int], Callable[[int, int], bool] | None]] = {}
    for name in wanted:
        base, variant = (name[:-len(v)], v[1:]) if (v := next((s for s in ("-process", "-realtime")
                                                             if name.endswith(s)), "")) else (name, None)
        seed_kind, allowed, rule = _ELLE_CYCLES[base]
        allowed = allowed | ({variant} if variant else set())
        if variant == "process":
            allowed -= {"realtime"}
        seed = variant or seed_kind
        key = frozenset(allowed)
        if key not in graphs:  # several types share a subgraph; a history with no cycle needs no closure at all
            comps = _components(edges, set(allowed))
            graphs[key] = (comps, _reachability(edges, set(allowed)) if comps else None)
        component, reaches = graphs[key]
        if not component:
            continue
        done: set[int] = set()
        for (a, b), kinds in sorted(edges.items()):
            comp = component.get(a)
            if seed not in kinds or comp is None or comp != component.get(b) or comp in done or not reaches(b, a):
                continue
            cycle = _constrained_cycle(adjacency, a, b, seed, allowed, rule, variant, component,
                                       need="wr" if base == "G1c" else None)
            if cycle is not None:
                done.add(comp)
                out.append(_cycle_anomaly(name, cycle, edges, by_index))
    return out


def _constrained_cycle(adjacency, a: int, b: int, seed: str, allowed: set[str], rule: str | None,
                       variant: str | None, component: dict[int, int],
                       need: str | None = None) -> list[tuple[int, int, str]] | None:
    """The shortest cycle a -seed-> b ... -> a over ``allowed`` kinds that obeys ``rule`` on its rw edges, uses the
    ``variant`` kind (process, realtime) at least once if given, and the ``need`` kind (G1c's wr) at least once."""
    first_rw = seed == "rw"
    start = (b, int(first_rw), first_rw, False, variant is not None and seed == variant, need is None or seed == need)
    parent: dict[tuple, tuple | None] = {start: None}
    queue = deque([start])
    comp = component[a]

    def accept(state) -> bool:
        node, rw, last_rw, adj, extra, needed = state
        if node != a or (variant and not extra) or not needed:
            return False
        wrap = last_rw and first_rw
        if rule is None:
            return rw == 0
        if rule == "one":
            return rw == 1
        if rule == "nonadjacent":
            return rw == 2 and not adj and not wrap
        return rw == 2 and (adj or wrap)

    while queue:
        state = queue.popleft()
        if accept(state):
            path, at = [], state
            while parent[at] is not None:
                prev, kind = parent[at]
                path.append((prev[0], at[0], kind))
                at = prev
            cycle = [(a, b, seed)] + path[::-1]
            if len({x for x, _, _ in cycle}) == len(cycle):
                return cycle
            continue  # a closed walk through some transaction twice: its simple cycles are other types' to find
        node, rw, last_rw, adj, extra, needed = state
        if node == a:
            continue
        for nxt, kind in adjacency.get(node, ()):
            if kind not in allowed or component.get(nxt) != comp:
                continue
            is_rw = kind == "rw"
            s = (nxt, min(2, rw + is_rw), is_rw, adj or (last_rw and is_rw), extra or kind == variant,
                 needed or kind == need)
            if (rule is None and s[1]) or (rule == "one" and rw + is_rw > 1) or (rule == "nonadjacent" and s[3]):
                continue
            if s not in parent:
                parent[s] = (state, kind)
                queue.append(s)
    return None


def check_elle_list_append(history: History, consistency_models: Iterable[str] = ("serializable",),
                           anomalies: Iterable[str] = ()) -> CheckResult:
    """Judge a list-append history as Elle does: every anomaly the consistency models prohibit (G0, G1a, G1b, G1c,
    G-single-item, G-nonadjacent-item, G2-item and their -process/-realtime variants, internal, future-read,
    dirty-update, lost-update, duplicate-elements, incompatible-order), named as Elle names them; ``violated`` if any
    is found, with the weakest models the history rules out (``not``) and the stronger ones (``also_not``). No
    dependency between any two transactions (Elle's empty transaction graph) is nothing to judge."""
    checker = "elle-list-append"
    txns = [op for op in history.operations() if op.f == "txn"]
    for op in txns:
        _validate(op)
    if not any(op.is_ok for op in txns):
        return CheckResult.unexercised(checker, "The history has no ok transaction, so nothing was observed.",
                                       txns=len(txns))
    g = _Inference(txns)
    found = [a for a in g.read_anomalies() if a["type"] in ("G1a", "G1b", "garbage-read")]
    found += _elle_append_anomalies(g)
    return elle_verdict(checker, txns, g.by_index, lambda p, rt: g.edges(process_order=p, realtime=rt), found,
                        consistency_models, anomalies)


def _elle_append_anomalies(g: _Inference) -> list[dict[str, Any]]:
    """What Elle finds without a cycle: duplicate elements, incompatible orders (between reads sorted by length),
    internal inconsistency, future reads, dirty updates and lost updates."""
    out = []
    by_key: dict[Ident, dict[tuple, tuple[Operation, list]]] = defaultdict(dict)
    for op, kk, seen, raw in g.reads:
        k = g.keys[kk]
        if len(set(seen)) < len(seen):
            dups = sorted({g.values[x] for x in seen if seen.count(x) > 1}, key=repr)
            out.append(_anomaly("duplicate-elements", [op], f"Let T = {op.describe()}. Then T read key {k!r} as "
                                f"{raw!r}, with {dups!r} more than once, though every value is appended once: a "
                                f"contradiction!", key=k, duplicates=dups))
        if seen:
            by_key[kk].setdefault(tuple(seen), (op, raw))
    for kk in sorted(by_key):
        states = sorted(by_key[kk].items(), key=lambda e: (len(e[0]), e[1][0].call_index))
        for (s1, (op1, raw1)), (s2, (op2, raw2)) in zip(states, states[1:], strict=False):
            if s2[:len(s1)] != s1:
                k = g.keys[kk]
                out.append(_anomaly("incompatible-order", [op1, op2], f"Let T1 = {op1.describe()} and T2 = "
                                    f"{op2.describe()}. T1 read key {k!r} as {raw1!r} and T2 read it as {raw2!r}. "
                                    f"Then the two reads cannot both be prefixes of one append order: a "
                                    f"contradiction!", key=k, reads=[raw1, raw2]))
                break
    for op in g.txns:
        if op.is_ok and op.output is not None:
            out += _internal(op)
    out += _dirty_updates(g)
    out += _lost_updates([op for op in g.txns if op.is_ok], writes=("append",))
    return out


def _internal(op: Operation) -> list[dict[str, Any]]:
    """Elle's internal consistency (Cerone et al.'s INT) and future reads, within one transaction."""
    state: dict[Ident, tuple[bool, list]] = {}  # key -> (prefix known, expected list or known suffix)
    out: list[dict[str, Any]] = []
    read: dict[Ident, set[Ident]] = defaultdict(set)
    for f, k, v in op.output:
        kk = identity(k)
        if f == "append":
            if identity(v) in read[kk]:
                out.append(_anomaly("future-read", [op], f"Let T = {op.describe()}. Then T read {v!r} in key {k!r} "
                                    f"before it appended {v!r}: a contradiction!", key=k, value=v))
            known, s = state.get(kk, (False, []))
            state[kk] = (known, [*s, v])
            continue
        got = list(v or [])
        read[kk] |= {identity(x) for x in got}
        if kk in state:
            known, s = state[kk]
            bad = got != s if known else (len(got) < len(s) or got[len(got) - len(s):] != s)
            if bad:
                want = repr(s) if known else f"a list ending in {s!r}"
                out.append(_anomaly("internal", [op], f"Let T = {op.describe()}. T's own earlier micro-ops on key "
                                    f"{k!r} say it must read {want}, but it read {got!r}: a contradiction!",
                                    key=k, expected=s, read=got))
                break
        state[kk] = (True, got)
    return out


def _dirty_updates(g: _Inference) -> list[dict[str, Any]]:
    """A committed append ordered right after a failed one (by the version order): it built on aborted state."""
    out = []
    for kk, order in sorted(g.order.items()):
        prev: Operation | None = None
        for vv in order:
            w = g.writer.get((kk, vv))
            if w is None:
                continue
            if prev is not None and prev.status == "fail" and w.is_ok:
                out.append(_anomaly("dirty-update", [prev, w], f"Let T1 = {prev.describe()} and T2 = "
                                    f"{w.describe()}. T1 failed, so it definitely did not happen. Then T2's append of "
                                    f"{g.values[vv]!r} to key {g.keys[kk]!r} came after T1's in the version order: a "
                                    f"contradiction!", key=g.keys[kk], value=g.values[vv]))
            if w.status != "info":
                prev = w
    return out


def _lost_updates(oks: list[Operation], writes: tuple[str, ...]) -> list[dict[str, Any]]:
    """Two committed transactions that read the same state of a key (before writing it) and then both wrote it."""
    groups: dict[tuple[Ident, Ident], list[Operation]] = defaultdict(list)
    shown: dict[tuple[Ident, Ident], tuple[Any, Any]] = {}
    for op in oks:
        reads: dict[Ident, Any] = {}
        wrote: set[Ident] = set()
        for f, k, v in op.output or []:
            kk = identity(k)
            if f in writes and kk not in wrote:
                wrote.add(kk)
                if kk in reads:
                    key = (kk, identity(reads[kk]))
                    groups[key].append(op)
                    shown[key] = (k, reads[kk])
            elif f == "r" and kk not in reads and kk not in wrote:
                reads[kk] = v
    out = []
    for key in sorted(groups):
        ops = groups[key]
        if len(ops) > 1:
            k, v = shown[key]
            names = " and ".join(f"T{i + 1} = {o.describe()}" for i, o in enumerate(ops))
            out.append(_anomaly("lost-update", ops, f"Let {names}. Each read key {k!r} as {v!r} and then wrote it, "
                                f"and all committed: one's update was lost, a contradiction!", key=k, value=v))
    return out


CHECKERS: dict[str, Callable[[History], CheckResult]] = {
    "list-append": check_list_append,
    "elle-list-append": check_elle_list_append,
}
