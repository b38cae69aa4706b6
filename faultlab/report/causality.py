"""What happened before what in a trace: its lanes, its messages (with where each was sent) and the causal past of
the operations a violation names. Pure data from a trace document; :mod:`faultlab.report.spacetime` draws it.

Where sends are (inferred). The event log records deliveries and losses, not sends. A send is placed from what the
log does say: message ids increase in send order, so a message was sent before the first event that names an id as
large; it was sent after the message before it, after the request it answers (``reply_to``), after the invoke of
the operation it works for (``cause``) and after its sender first received a message working for that operation.
The runtime runs a node only after an event at that node (a delivery, a restart, its client's invoke) or a jump of
the clock, so within that window the send follows the earliest such event at its sender; a message that works for
no operation and answers nothing (a timer's) follows the jump of the clock to its send time, when that is known
(``sent_at``, from the run in memory). A send the log pins to nothing else is drawn where the clock jumped, or
right after the message before it.

Measured against the runtime's real sends (8 seeded runs per protocol; ``tests/test_spacetime.py`` checks two
protocols), this puts 72 % (quorum-register, r=w=2) to 99.9 % (active-passive) of sends after the right delivery
(elasticache-redis 97 %, dynamo and aurora 90 %). The misses are mostly gathers: a message sent after the second of
two needed replies is drawn after the first, so the arrow starts one delivery early and the causal past can miss
that delivery. A trace whose deliveries, losses and drops say where their message was sent (``"sent_after":
EVENT_INDEX``) is drawn exactly; the engine does not record that yet.

The causal past is Lamport's happens-before: the order of events on each lane, and each send before its delivery,
closed backwards from the completions of the operations the violated checks' witnesses name.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from faultlab.history import Operation
from faultlab.importers.faultlab_json import parse_events

COMPLETIONS = frozenset({"ok", "fail", "info"})
LANE_FAULTS = frozenset({"crash", "lose_unsynced", "restart", "skew"})
GLOBAL_FAULTS = frozenset({"partition", "heal", "release"})
MESSAGE_FAULTS = frozenset({"drop", "duplicate", "delay"})

@attrs.frozen
class Message:
    """One message as the trace knows it: who sent it to whom, where it was sent (inferred), where it ended."""

    id: int
    src: str
    dst: str
    type: str
    text: str                  # the message's fields, short
    reply_to: int | None
    cause: tuple | None        # the operation the sender worked for
    send_gap: int              # sent after event ``send_gap`` (-1: before the first event)
    end: int | None            # the event it was delivered at or died at (None: still in flight at the end)
    fate: str                  # delivered | lost | in-flight
    why: str | None            # how it was lost: partition, down, crash, drop, reset
    copy_of: int | None        # a duplicate fault's copy of this message
    marks: tuple[tuple[int, str, str], ...]  # (event, kind, text): delays and duplications along the way
    like: tuple[int, ...] = ()  # a lost message's type is a guess: the delivered messages sent with it have it


@attrs.frozen
class Lane:
    name: str
    kind: str                  # client | node
    title: str


@attrs.frozen
class Diagram:
    """Everything the page draws, computed from the trace document; pure data (see :func:`diagram`)."""

    events: list[dict[str, Any]]
    lanes: list[Lane]
    lane_of: dict[int, tuple[str, ...]]        # event index -> the lanes it happens on (none: the network's)
    messages: dict[int, Message]
    ops: list[Operation]
    op_event: dict[int, tuple[int, int | None]]  # call index -> (invoke event, completion event)
    op_lane: dict[int, str]
    named: list[int]                            # call indices of the witness operations
    past: set[int] | None                       # event indices of their causal past (None: nothing named)
    past_sends: set[int]                        # message ids sent in that causal past
    frontier: dict[str, float]


def diagram(doc: Mapping[str, Any], sent_at: Mapping[int, float] | None = None) -> Diagram:
    """The diagram of a trace document (the JSON object of a trace file); ``sent_at`` (message id -> virtual time
    of its send, from a run in memory) narrows where sends are drawn."""
    events = list(doc.get("events") or ())
    history = parse_events(doc.get("history") or [], "trace")
    ops = history.operations()
    sent_at = dict(sent_at or {})
    for e in events:  # a trace that records send times (a later engine) is used as it is
        if e.get("event") == "deliver" and isinstance(e.get("sent_at"), int | float):
            sent_at.setdefault(e["id"], float(e["sent_at"]))

    # Operations: the n-th invoke/ok/fail/info event is the n-th history entry.
    client_events = [i for i, e in enumerate(events) if e.get("event") == "invoke" or e.get("event") in COMPLETIONS]
    entry_event = dict(enumerate(client_events)) if len(client_events) == len(history) else {}
    endpoint_of_process: dict[Any, str] = {}
    lane_of: dict[int, tuple[str, ...]] = {}
    op_key: dict[int, tuple] = {}   # invoke event -> its op key (the cause its messages carry)
    for i, e in enumerate(events):
        kind = e.get("event")
        if kind == "invoke":
            endpoint = _endpoint(e.get("op"), e.get("process"))
            endpoint_of_process[_key(e.get("process"))] = endpoint
            lane_of[i] = (endpoint,)
            if isinstance(e.get("op"), list):
                op_key[i] = tuple(e["op"])
        elif kind in COMPLETIONS:
            lane_of[i] = (endpoint_of_process.get(_key(e.get("process")), f"process {e.get('process')}"),)
        elif kind == "deliver":
            lane_of[i] = (e["dst"],)
        elif kind in ("crash", "restart", "skew", "role", "note"):
            if e.get("node") is not None:
                lane_of[i] = (e["node"],)
        elif kind == "lose_unsynced":
            lane_of[i] = tuple(e.get("nodes") or [e.get("node")])
    op_event: dict[int, tuple[int, int | None]] = {}
    op_lane: dict[int, str] = {}
    for op in ops:
        inv = entry_event.get(op.call_index)
        if inv is None:
            continue
        ret = entry_event.get(op.ret_index) if op.ret_index is not None else None
        op_event[op.call_index] = (inv, ret)
        op_lane[op.call_index] = lane_of[inv][0]

    messages = _messages(events, lane_of, op_key, sent_at)
    lanes = _lanes(events, lane_of, messages, endpoint_of_process)
    named = _named(doc)
    named = [ci for ci in named if ci in op_event]
    past, sends, frontier = causal_past(events, lane_of, messages, [op_event[ci] for ci in named])
    return Diagram(events, lanes, lane_of, messages, ops, op_event, op_lane, named, past, sends, frontier)


def _key(process: Any) -> str:
    return json.dumps(process, sort_keys=True, default=str)


def _endpoint(op: Any, process: Any) -> str:
    """The client lane of an invoke: the engine's endpoint names, ``c{i}`` for client i, ``final`` for final ops."""
    if isinstance(op, list) and op:
        return "final" if op[0] == "final" else f"c{op[0]}"
    return f"process {process}"


def _named(doc: Mapping[str, Any]) -> list[int]:
    """Call indices the violated checks' witnesses name: ``ops``, ``failed_op`` and (linearizability: the
    operations it had to place before the one it could not) ``longest_prefix``."""
    named: set[int] = set()
    for check in doc.get("checks") or ():
        if check.get("verdict") != "violated":
            continue
        w = check.get("witness") or {}
        for k in ("ops", "longest_prefix"):
            if isinstance(w.get(k), list):
                named |= {i for i in w[k] if isinstance(i, int) and not isinstance(i, bool)}
        if isinstance(w.get("failed_op"), int):
            named.add(w["failed_op"])
    return sorted(named)


def _ids_named(e: Mapping[str, Any]) -> list[int]:
    ids = [e.get(k) for k in ("id", "copy")] + list(e.get("reset") or ()) + list(e.get("held") or ())
    return [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]


def _messages(events: list[dict], lane_of: dict[int, tuple[str, ...]], op_key: dict[int, tuple],
              sent_at: Mapping[int, float]) -> dict[int, Message]:
    info: dict[int, dict[str, Any]] = {}
    copies: dict[int, int] = {}  # copy id -> the duplicate event (its id was taken then)
    first_naming: list[tuple[int, int]] = []  # (event, largest id named so far): the bound on later sends
    largest = -1
    for i, e in enumerate(events):
        kind = e.get("event")
        if kind in ("deliver", "lost", "drop", "duplicate", "delay"):
            for mid in _ids_named(e):
                if mid > largest:
                    largest = mid
                    first_naming.append((mid, i))
        if kind in ("deliver", "lost"):
            m = info.setdefault(e["id"], {"src": e["src"], "dst": e["dst"]})
            if kind == "deliver":
                msg = e.get("msg")
                m.update(msg=msg, reply_to=e.get("reply_to"))
            m.setdefault("cause", tuple(e["cause"]) if isinstance(e.get("cause"), list) else None)
            if isinstance(e.get("sent_after"), int) and not isinstance(e.get("sent_after"), bool):
                m.setdefault("sent_after", e["sent_after"])  # a log that records where sends were: exact
            if "end" not in m:
                m.update(end=i, fate="delivered" if kind == "deliver" else "lost",
                         why=None if kind == "deliver" else e.get("why"))
        elif kind == "drop":
            if isinstance(e.get("sent_after"), int) and not isinstance(e.get("sent_after"), bool):
                info.setdefault(e["id"], {"src": e["src"], "dst": e["dst"]}).setdefault("sent_after", e["sent_after"])
            for mid in [e["id"], *(e.get("reset") or ())]:
                m = info.setdefault(mid, {"src": e["src"] if mid == e["id"] else None,
                                          "dst": e["dst"] if mid == e["id"] else None})
                if "end" not in m:
                    m.update(end=i, fate="lost", why="drop" if mid == e["id"] else "reset")
        elif kind == "duplicate":
            copies[e["copy"]] = i
            info.setdefault(e["copy"], {"src": e["src"], "dst": e["dst"]})["copy_of"] = e["id"]
            info.setdefault(e["id"], {"src": e["src"], "dst": e["dst"]}).setdefault("marks", []).append(
                (i, "duplicate", f"duplicated as #{e['copy']}"))
        elif kind == "delay":
            text = f"held back {e.get('seconds', 0):g} s" + (f" (slow node {e['slow_node']})" if e.get("slow_node")
                                                            else "")
            for mid in sorted(set([e["id"], *(e.get("held") or ())])):
                info.setdefault(mid, {"src": e["src"] if mid == e["id"] else None,
                                      "dst": e["dst"] if mid == e["id"] else None}).setdefault(
                    "marks", []).append((i, "delay", text))
    # a reset names messages by id only: their ends come from the connection they were on (later events name them)
    bound_ids = [mid for mid, _ in first_naming]
    bound_at = [i for _, i in first_naming]
    deliveries = {mid: m["end"] for mid, m in info.items() if m.get("fate") == "delivered"}
    first_for: dict[tuple[str, tuple], int] = {}  # (node, cause) -> the first delivery to it working for that cause
    for m in info.values():
        if m.get("fate") == "delivered" and m.get("cause") is not None:
            key = (m["dst"], m["cause"])
            first_for[key] = min(first_for.get(key, m["end"]), m["end"])
    invoke_of = {key: i for i, key in op_key.items()}
    times = [float(e.get("t", 0.0)) for e in events]
    lane_events: dict[str, list[int]] = {}
    for i in sorted(lane_of):
        kind = events[i].get("event")
        if kind in ("crash", "lose_unsynced", "skew"):
            continue  # a crash starts nothing; a skew only moves a clock
        for lane in lane_of[i]:
            lane_events.setdefault(lane, []).append(i)

    out: dict[int, Message] = {}
    lo = -1
    for mid in sorted(info):
        m = info[mid]
        if m.get("src") is None:  # named only by a reset or a slow node's hold: no sender known
            continue
        # sent before the first event naming an id this large (ids increase in send order)
        k = bisect.bisect_left(bound_ids, mid)
        hi = bound_at[k] if k < len(bound_at) else len(events)
        if mid in copies:
            gap = copies[mid]  # the network made it at the duplicate fault
        elif "sent_after" in m:
            gap = m["sent_after"]
        else:
            floor = lo
            if m.get("reply_to") in deliveries and deliveries[m["reply_to"]] < hi:
                floor = max(floor, deliveries[m["reply_to"]])
            cause = m.get("cause")
            if cause in invoke_of and invoke_of[cause] < hi:
                floor = max(floor, invoke_of[cause])
            if (m["src"], cause) in first_for and first_for[(m["src"], cause)] < hi:
                floor = max(floor, first_for[(m["src"], cause)])  # a node works for an operation once it heard of it
            floor = min(floor, hi - 1)
            spontaneous = cause is None and m.get("reply_to") is None  # a timer's, or a new incarnation's
            gap = _send_gap(floor, hi, lane_events.get(m["src"], []), times, sent_at.get(mid), spontaneous)
        lo = max(lo, gap)
        msg = m.get("msg")
        type_ = msg.get("type", "message") if isinstance(msg, dict) else "" if msg is None else str(msg)
        fields = ", ".join(f"{k}={short_json(v)}" for k, v in msg.items() if k != "type") if isinstance(msg, dict) \
            else ""
        out[mid] = Message(mid, m["src"], m["dst"], type_, fields, m.get("reply_to"), m.get("cause"), gap,
                           m.get("end"), m.get("fate", "in-flight"), m.get("why"), m.get("copy_of"),
                           tuple(m.get("marks", ())))
    return _guess_lost_types(out)


def _guess_lost_types(messages: dict[int, Message]) -> dict[int, Message]:
    """A loss records no message body; a lost message sent in one burst with delivered ones (same sender, same
    place, same operation, consecutive ids) of a single type is most likely one of them: a broadcast."""
    bursts: dict[tuple, list[Message]] = {}
    for m in messages.values():
        if m.copy_of is None:
            bursts.setdefault((m.src, m.send_gap, m.cause, m.reply_to is None), []).append(m)
    for burst in bursts.values():
        types = {m.type for m in burst if m.type}
        if len(types) != 1 or len(burst) < 2:
            continue
        (kind,) = types
        for m in burst:
            if not m.type:
                messages[m.id] = attrs.evolve(m, type=kind, like=tuple(x.id for x in burst if x.type))
    return messages


def _send_gap(floor: int, hi: int, lane: list[int], times: list[float], sent_at: float | None,
              spontaneous: bool) -> int:
    """The event a send followed, in ``floor .. hi-1``: the earliest event at the sender, or (a message that works
    for nobody and answers nothing: a timer's) the jump of the clock to its send time, else a jump of the clock."""
    def t(i: int) -> float:
        return -math.inf if i < 0 else math.inf if i >= len(times) else times[i]

    def fits(g: int) -> bool:  # a send at virtual time sent_at happens between event g and event g+1
        return sent_at is None or t(g) <= sent_at <= t(g + 1)

    if spontaneous and sent_at is not None:
        jump = [g for g in range(floor, hi) if t(g) < sent_at <= t(g + 1)]
        if jump:
            return jump[0]
    start = bisect.bisect_left(lane, max(floor, 0))
    for c in lane[start:]:
        if c >= hi:
            break
        if fits(c):
            return c
    gaps = [g for g in range(floor, hi) if fits(g)] or [floor]
    if sent_at is None and hi < len(times):  # a timer: where the clock jumped to the time of the event after it
        jumped = [g for g in gaps if t(g) < times[hi]]
        if jumped:
            return jumped[-1]
    return gaps[0]


def _lanes(events: list[dict], lane_of: dict[int, tuple[str, ...]], messages: dict[int, Message],
           endpoint_of_process: dict[str, str]) -> list[Lane]:
    clients = sorted(set(endpoint_of_process.values()), key=_client_order)
    processes: dict[str, list[str]] = {}
    for p, endpoint in endpoint_of_process.items():
        processes.setdefault(endpoint, []).append(p)
    seen: set[str] = set(clients)
    nodes: set[str] = set()
    for lanes in lane_of.values():
        nodes |= set(lanes) - seen
    for m in messages.values():
        nodes |= {m.src, m.dst} - seen
    for e in events:
        if e.get("event") == "partition":
            for side in e.get("sides") or ():
                nodes |= set(side) - seen
    out = [Lane(c, "client", f"client {c}: process{'es' if len(processes[c]) > 1 else ''} "
                             f"{', '.join(sorted(processes[c], key=_natural))}") for c in clients]
    out += [Lane(n, "node", f"node {n}") for n in sorted(nodes, key=_natural)]
    return out


def _client_order(name: str) -> tuple:
    return (1, 0, name) if name == "final" else (0, *_natural(name))


def _natural(name: str) -> tuple:
    """n2 before n10."""
    digits = "".join(ch for ch in name if ch.isdigit())
    stem = "".join(ch for ch in name if not ch.isdigit())
    return (stem, int(digits) if digits else -1, name)


def causal_past(events: list[dict], lane_of: Mapping[int, tuple[str, ...]], messages: Mapping[int, Message],
                starts: Iterable[tuple[int, int | None]]) -> tuple[set[int] | None, set[int], dict[str, float]]:
    """The events that happen before the given operations' completions (Lamport's happens-before: the order of
    each lane, and a send before its delivery), the ids of the messages sent among them, and each lane's frontier
    (the last position in the past; a send after event g sits at g + 0.5). None when no operation is given."""
    frontier: dict[str, float] = {}
    starts = list(starts)
    if not starts:
        return None, set(), frontier
    for inv, ret in starts:
        end = ret if ret is not None else inv
        for lane in lane_of[end]:
            frontier[lane] = max(frontier.get(lane, -1.0), float(end))
    # One sweep from the last delivery back: a delivery at event i moves its sender's frontier to before i, so by the
    # time the sweep reaches an event, everything that could put it in the past has been seen.
    delivered = sorted(((m.end, m.id, m) for m in messages.values() if m.fate == "delivered" and m.end is not None),
                       key=lambda x: (x[0], x[1]), reverse=True)
    for end, _, m in delivered:
        if end <= frontier.get(m.dst, -1.0):
            frontier[m.src] = max(frontier.get(m.src, -1.0), m.send_gap + 0.5)
    past = {i for i, lanes in lane_of.items() if any(i <= frontier.get(lane, -1.0) for lane in lanes)}
    sends = {m.id for m in messages.values() if m.send_gap + 0.5 <= frontier.get(m.src, -1.0)}
    return past, sends, frontier


def shown_in_past(d: Diagram) -> tuple[set[int], set[int]]:
    """The events and messages the default view draws: the causal past, the losses of messages sent in it (with the
    crash they died of), and the partitions, heals and releases before its last event."""
    assert d.past is not None
    horizon = max(d.past) if d.past else -1
    events = set(d.past)
    msgs: set[int] = set()
    down_at = [i for i, e in enumerate(d.events) if e.get("event") in ("crash", "lose_unsynced")]
    for mid in sorted(d.past_sends):
        m = d.messages[mid]
        if m.fate == "delivered" and m.end in d.past:
            msgs.add(mid)
        elif m.fate == "lost" and m.end is not None and m.end <= horizon:
            msgs.add(mid)
            events.add(m.end)
            if m.why in ("down", "crash"):  # what it died of: the last crash of an end before the loss
                ends = {m.dst} if m.why == "down" else {m.src, m.dst}
                crashes = [i for i in down_at if i <= m.end and ends & set(d.lane_of[i])]
                if crashes:
                    events.add(crashes[-1])
        for at, _, _ in m.marks:
            if mid in msgs and at <= horizon:
                events.add(at)
    for i, e in enumerate(d.events):
        if i <= horizon and e.get("event") in GLOBAL_FAULTS:
            events.add(i)
    return events, msgs


def short_json(value: Any, limit: int = 40) -> str:
    text = json.dumps(value, sort_keys=True, default=repr, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 1] + "…"
