"""Space-time (Lamport) diagrams of a trace: why a counterexample happened, not only what the clients saw.

One lane per client endpoint and per node; messages are arrows from where they were sent to where they arrived
(lost ones end in a cross where they died); faults, recoveries, roles and protocol notes are marked on the lanes
they hit; the client operations are bars on their client's lane, the witness operations highlighted, and beside the
diagram the client history and what happened in words. By default the page shows what the violation depends on: the
witness operations and their causal past (:mod:`faultlab.report.causality`); a checkbox shows everything (CSS only:
the page runs no script and loads nothing).

The x axis is event order (one column per event; virtual time jumps, so a time axis would draw most events on top of
each other); tick labels and hover text give virtual times. Output is deterministic: the same trace gives the same
bytes.
"""

from __future__ import annotations

import bisect
import html
import math
import pathlib
from collections.abc import Mapping
from typing import Any

import attrs
import jinja2
import markupsafe

from faultlab.history import Operation
from faultlab.report.causality import (
    COMPLETIONS,
    GLOBAL_FAULTS,
    LANE_FAULTS,
    MESSAGE_FAULTS,
    Diagram,
    Lane,
    Message,
    diagram,
    short_json,
    shown_in_past,
)

TEMPLATES = pathlib.Path(__file__).resolve().parent.parent / "templates"
_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True,
                          lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)

LANE_HEIGHT = 46   # px per lane
TOP = 30           # px above the first lane: tick labels
LABEL_WIDTH = 96   # px of the lane-label column
END_MARGIN = 40    # px past the last column, where open operations run out
OP_COLORS = ("#1f6fd1", "#8e44ad", "#138d75", "#b8680b", "#c2185b", "#2c3e91")  # messages of witness ops, in turn
STORY_LIMIT = 80   # lines of "what happened" at most

def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _t(e: Mapping[str, Any]) -> str:
    return f"t={float(e.get('t', 0.0)):g}"


@attrs.frozen
class View:
    """One drawing: which events get a column, which messages are drawn, and the lanes they need."""

    name: str
    columns: list[int]
    messages: list[int]
    lanes: list[Lane]
    step: int

    @property
    def width(self) -> int:
        return len(self.columns) * self.step + END_MARGIN

    @property
    def height(self) -> int:
        return TOP + len(self.lanes) * LANE_HEIGHT + 8


def make_view(d: Diagram, name: str, events: set[int], msgs: set[int]) -> View:
    columns = sorted(events)
    used: set[str] = set()
    for i in columns:
        used |= set(d.lane_of.get(i, ()))
    for mid in msgs:
        used |= {d.messages[mid].src, d.messages[mid].dst}
    if name == "all":
        lanes = list(d.lanes)
    else:
        lanes = [lane for lane in d.lanes if lane.name in used]
    step = max(8, min(48, 800 // max(len(columns), 1)))  # fits beside the history panel when it can
    return View(name, columns, sorted(msgs), lanes, step)


class _Canvas:
    """Pixel positions in one view: a column per shown event."""

    def __init__(self, view: View):
        self.view = view
        self.col = {i: c for c, i in enumerate(view.columns)}
        self.y = {lane.name: TOP + k * LANE_HEIGHT + LANE_HEIGHT // 2 for k, lane in enumerate(view.lanes)}

    def x(self, index: int) -> int:
        return self.col[index] * self.view.step + self.view.step // 2

    def at(self, index: int) -> int:
        """An event's x, or (not shown here) where it would be: after the shown columns before it."""
        return self.x(index) if index in self.col else self.x_gap(index)

    def x_gap(self, gap: int) -> int:
        """After event ``gap``: the right edge of the last shown column at or before it."""
        return bisect.bisect_right(self.view.columns, gap) * self.view.step


def render_svg(d: Diagram, view: View, marks: Mapping[str, Any]) -> str:
    """The SVG of one view: lanes, ticks, faults, messages, operations and notes."""
    cv = _Canvas(view)
    w, h = view.width, view.height
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="spacetime" id="svg-{view.name}" width="{w}" '
           f'height="{h}" viewBox="0 0 {w} {h}" data-columns="{len(view.columns)}">']
    out.append(f'<defs><marker id="head-{view.name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
               f'markerHeight="8" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/>'
               f'</marker></defs>')
    out += _draw_lanes(d, view, cv)
    out += _draw_ticks(d, view, cv)
    out += _draw_global_faults(d, view, cv)
    out += _draw_messages(d, view, cv, marks)
    out += _draw_ops(d, view, cv, marks)
    out += _draw_lane_events(d, view, cv)
    out.append("</svg>")
    return "\n".join(out)


def render_labels(view: View) -> str:
    h = view.height
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="labels" width="{LABEL_WIDTH}" height="{h}">']
    for k, lane in enumerate(view.lanes):
        y = TOP + k * LANE_HEIGHT + LANE_HEIGHT // 2
        out.append(f'<g class="label {lane.kind}"><title>{_esc(lane.title)}</title>'
                   f'<text x="{LABEL_WIDTH - 8}" y="{y + 4}" text-anchor="end">{_esc(lane.name)}</text>'
                   f'<text class="kind" x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">{lane.kind}</text></g>')
    out.append("</svg>")
    return "\n".join(out)


def _draw_lanes(d: Diagram, view: View, cv: _Canvas) -> list[str]:
    out = []
    names = {lane.name for lane in view.lanes}
    down = _intervals(d, "down")
    roles = _intervals(d, "role")
    for lane in view.lanes:
        y = cv.y[lane.name]
        out.append(f'<g class="lane {lane.kind}" data-lane="{_esc(lane.name)}"><title>{_esc(lane.title)}</title>'
                   f'<rect class="lane-bg" x="0" y="{y - LANE_HEIGHT // 2}" width="{view.width}" '
                   f'height="{LANE_HEIGHT}"/><line class="lane-line" x1="0" y1="{y}" x2="{view.width}" y2="{y}"/>'
                   f'</g>')
    for lane, start, end, what in down + roles:
        if lane not in names:
            continue
        x1 = cv.at(start)
        x2 = cv.at(end) if end is not None else view.width
        if x2 <= x1:
            continue
        y = cv.y[lane]
        if what == "down":
            out.append(f'<rect class="down" x="{x1}" y="{y - 9}" width="{x2 - x1}" height="18"><title>{_esc(lane)} '
                       f'is down (from event #{start}{"" if end is None else f" to #{end}"})</title></rect>')
        else:
            out.append(f'<rect class="role" x="{x1}" y="{y + 10}" width="{x2 - x1}" height="5"><title>{_esc(lane)} is '
                       f'{_esc(what)} (from event #{start}{"" if end is None else f" to #{end}"})</title></rect>'
                       f'<text class="role-label" x="{x1 + 2}" y="{y + 22}">{_esc(what)}</text>')
    return out


def _intervals(d: Diagram, what: str) -> list[tuple[str, int, int | None, str]]:
    """(lane, from event, to event or None, label): when nodes were down, or held a role."""
    out: list[tuple[str, int, int | None, str]] = []
    open_: dict[str, tuple[int, str]] = {}
    for i, e in enumerate(d.events):
        kind = e.get("event")
        if what == "down":
            if kind in ("crash", "lose_unsynced"):
                for n in d.lane_of.get(i, ()):
                    open_.setdefault(n, (i, "down"))
            elif kind == "restart" and e.get("node") in open_:
                start, label = open_.pop(e["node"])
                out.append((e["node"], start, i, label))
        else:
            if kind == "role" or (kind in ("crash", "lose_unsynced")):
                for n in d.lane_of.get(i, ()):
                    if n in open_:
                        start, label = open_.pop(n)
                        out.append((n, start, i, label))
                if kind == "role" and e.get("role"):
                    open_[e["node"]] = (i, str(e["role"]))
    out += [(n, start, None, label) for n, (start, label) in sorted(open_.items())]
    return out


def _draw_ticks(d: Diagram, view: View, cv: _Canvas) -> list[str]:
    out = ['<g class="ticks">']
    last_time = None
    last_label = -10 ** 9
    for i in view.columns:
        t = float(d.events[i].get("t", 0.0))
        x = cv.x(i)
        jumped = last_time is not None and t != last_time
        if jumped:
            out.append(f'<line class="time-jump" x1="{x - view.step // 2}" y1="{TOP - 6}" x2="{x - view.step // 2}" '
                       f'y2="{view.height}"><title>the clock jumps from t={last_time:g} to t={t:g}</title></line>')
        if (jumped or last_time is None) and x - last_label >= 40:
            out.append(f'<text class="tick" x="{x}" y="{TOP - 12}" text-anchor="middle">t={t:g}</text>')
            last_label = x
        last_time = t
    out.append("</g>")
    return out


def _draw_global_faults(d: Diagram, view: View, cv: _Canvas) -> list[str]:
    out = []
    node_lanes = [lane.name for lane in view.lanes if lane.kind == "node"]
    top = min((cv.y[n] for n in node_lanes), default=TOP) - LANE_HEIGHT // 2
    bottom = max((cv.y[n] for n in node_lanes), default=view.height) + LANE_HEIGHT // 2
    open_sides: tuple[int, list[list[str]]] | None = None
    for i in view.columns:
        e = d.events[i]
        kind = e.get("event")
        if kind not in GLOBAL_FAULTS:
            continue
        x = cv.x(i)
        text = _fault_text(e)
        out.append(f'<g class="fault global {kind}" data-event="{i}"><title>#{i} {_t(e)}: {_esc(text)}</title>'
                   f'<line x1="{x}" y1="{top}" x2="{x}" y2="{bottom}"/>'
                   f'<text x="{x + 3}" y="{top + 10}">{_esc(kind)}</text></g>')
        if kind == "partition":
            open_sides = (i, e.get("sides") or [])
        elif kind == "heal" and open_sides is not None:
            out += _side_bands(cv, open_sides, x)
            open_sides = None
    if open_sides is not None:
        out += _side_bands(cv, open_sides, view.width)
    return out


def _side_bands(cv: _Canvas, sides: tuple[int, list[list[str]]], x2: int) -> list[str]:
    start, groups = sides
    x1 = cv.x(start)
    out = []
    for k, side in enumerate(groups):
        for n in side:
            if n in cv.y:
                out.append(f'<rect class="side side-{k % 2}" x="{x1}" y="{cv.y[n] - LANE_HEIGHT // 2 + 2}" '
                           f'width="{max(x2 - x1, 1)}" height="4"><title>partition side {k + 1}: '
                           f'{_esc(", ".join(side))}</title></rect>')
    return out


def _fault_text(e: Mapping[str, Any]) -> str:
    kind = e.get("event")
    recovery = " (recovery)" if e.get("why") == "recovery" else ""
    if kind == "partition":
        sides = " | ".join("{" + ", ".join(side) + "}" for side in e.get("sides") or ())
        return f"partition ({e.get('shape', '?')}): {sides}" + (f", {e['bridge']} bridges" if e.get("bridge") else "")
    if kind == "heal":
        return "the partition heals" + recovery
    if kind == "release":
        return "held-back messages and slow paths are released" + recovery
    if kind == "crash":
        return f"{e.get('node')} crashes (volatile state lost, synced storage kept)"
    if kind == "lose_unsynced":
        return (f"power loss ({e.get('scope', 'node')}) on {', '.join(e.get('nodes') or [e.get('node')])}: "
                f"{e.get('lost_writes', 0)} unsynced writes lost")
    if kind == "restart":
        return f"{e.get('node')} restarts{recovery}"
    if kind == "skew":
        return f"{e.get('node')}'s clock is moved by {e.get('offset', 0):+g} s"
    return kind or "?"


def _msg_text(m: Message) -> str:
    return f"{m.type}({m.text})"


def _draw_messages(d: Diagram, view: View, cv: _Canvas, marks: Mapping[str, Any]) -> list[str]:
    out = ['<g class="messages">']
    color_of: dict[tuple, str] = marks["colors"]
    label = view.step >= 24
    for mid in view.messages:
        m = d.messages[mid]
        if m.src not in cv.y or m.dst not in cv.y or m.end is None or m.end not in cv.col:
            continue
        x1, y1 = cv.x_gap(m.send_gap), cv.y[m.src]
        x2, y2 = cv.x(m.end), cv.y[m.dst]
        lost = m.fate == "lost"
        if lost:  # it died on the way: the arrow stops short of the receiver's lane
            y2 = y1 + (y2 - y1) * 0.6 if m.src != m.dst else y1
            y2 = int(y2)
        color = color_of.get(m.cause)
        classes = ["msg", m.fate] + (["witness-msg"] if color else []) + (["reply"] if m.reply_to is not None else []) \
            + (["copy"] if m.copy_of is not None else [])
        sent = f"sent by {m.src} after event #{m.send_gap}" if m.send_gap >= 0 else f"sent by {m.src} at the start"
        ending = (f"delivered to {m.dst} at #{m.end} {_t(d.events[m.end])}" if not lost else
                  f"lost on the way to {m.dst} at #{m.end} {_t(d.events[m.end])}: {_why(m.why, m.dst)}")
        hover = (f"#{m.id} {m.src} → {m.dst} " + (f"likely a {m.type} (like {', '.join(f'#{x}' for x in m.like)}, "
                                                   f"sent with it; a loss records no body)" if m.like else
                                                   _msg_text(m)) + (f", answers #{m.reply_to}" if m.reply_to is not None
                                                             else "") +
                 (f", a copy of #{m.copy_of}" if m.copy_of is not None else "") +
                 (f", for operation {list(m.cause)}" if m.cause else "") + f"; {sent}, {ending}")
        style = f' style="stroke: {color}"' if color else ""
        if m.src == m.dst and not lost:
            mid_x = (x1 + x2) // 2
            path = f"M{x1},{y1} C{x1},{y1 - 22} {x2},{y1 - 22} {x2},{y1 - 2}"
            label_at = (mid_x, y1 - 20)
        else:
            path = f"M{x1},{y1} L{x2},{y2}"
            label_at = ((x1 + x2) // 2, (y1 + y2) // 2 - 3)
        out.append(f'<g class="{" ".join(classes)}" data-id="{m.id}" data-src="{_esc(m.src)}" data-dst="{_esc(m.dst)}" '
                   f'data-send="{m.send_gap}" data-end="{m.end}"><title>{_esc(hover)}</title>'
                   f'<path d="{path}"{style}' + ("" if lost else f' marker-end="url(#head-{view.name})"') + "/>")
        if lost:
            out.append(f'<text class="cross" x="{x2}" y="{y2 + 5}" text-anchor="middle">✕</text>')
            if label:
                out.append(f'<text class="why" x="{x2 + 7}" y="{y2 + 4}">{_esc(m.why or "lost")}</text>')
        if label and not lost:  # a loss records no message body
            out.append(f'<text class="msg-label" x="{label_at[0]}" y="{label_at[1]}" text-anchor="middle"'
                       f'{"" if not color else f" fill={chr(34)}{color}{chr(34)}"}>{_esc(m.type)}</text>')
        for at, kind, text in m.marks:
            if at in cv.col and x2 > x1:
                xa = cv.x(at)
                frac = min(max((xa - x1) / (x2 - x1), 0.0), 1.0)
                ya = int(y1 + (y2 - y1) * frac)
                glyph = "⏱" if kind == "delay" else "×2"
                out.append(f'<text class="mark {kind}" x="{xa}" y="{ya - 3}" text-anchor="middle"><title>#{at}: '
                           f'{_esc(text)}</title>{glyph}</text>')
        out.append("</g>")
    out.append("</g>")
    return out


def _why(why: str | None, dst: str) -> str:
    return {"partition": "a partition cut the link", "down": f"{dst} was down", "crash": "a crash reset the connection",
            "drop": "the network dropped it", "reset": "its connection was reset by a drop"}.get(why or "", why or "lost")


def _draw_ops(d: Diagram, view: View, cv: _Canvas, marks: Mapping[str, Any]) -> list[str]:
    out = ['<g class="ops">']
    named = set(d.named)
    failed = marks["failed"]
    prefix = marks["prefix"]
    order = marks["order"]
    color_of = marks["colors"]
    key_of = marks["key_of"]
    for op in d.ops:
        if op.call_index not in d.op_event:
            continue
        inv, ret = d.op_event[op.call_index]
        lane = d.op_lane[op.call_index]
        if inv not in cv.col or lane not in cv.y:
            continue
        x1 = cv.x(inv) - 4
        # a completion this view leaves out: the bar ends where it would be, faded (class cut)
        x2 = view.width if ret is None else cv.x(ret) + 4 if ret in cv.col else max(cv.at(ret), x1 + 8)
        y = cv.y[lane]
        classes = ["op", op.status] + (["open"] if ret is None or op.status == "info" else []) \
            + (["cut"] if ret is not None and ret not in cv.col else []) \
            + (["witness-op"] if op.call_index in named else []) + (["failed-op"] if op.call_index == failed else []) \
            + (["in-prefix"] if op.call_index in prefix else []) + (["final"] if op.phase == "final" else [])
        color = color_of.get(key_of.get(op.call_index))
        hover = f"#{op.call_index} {op.describe()}" + (f" on {op.node}" if op.node is not None else "") + \
            (" (final read)" if op.phase == "final" else "") + f"; events #{inv}" + \
            (f" to #{ret}" if ret is not None else ", never completed")
        out.append(f'<a href="#op-{op.call_index}"><g class="{" ".join(classes)}" data-call-index="{op.call_index}" '
                   f'data-status="{op.status}"' + (f' data-order="{order[op.call_index]}"'
                                                   if op.call_index in order else "") +
                   f'><title>{_esc(hover)}</title><rect x="{x1}" y="{y - 10}" width="{max(x2 - x1, 8)}" height="20" '
                   f'rx="3"' + (f' style="stroke: {color}"' if color and op.call_index != failed else "") + "/>"
                   # an info operation may take effect any time after its call: a faint tail runs to the edge
                   + (f'<line class="tail" x1="{x2}" y1="{y + 7}" x2="{view.width}" y2="{y + 7}"/>'
                      if op.status == "info" and x2 < view.width else "") +
                   f'<text x="{x1 + 4}" y="{y + 4}">{_esc(_op_label(op, order.get(op.call_index)))}</text></g></a>')
    out.append("</g>")
    return out


def _op_label(op: Operation, order: int | None) -> str:
    ok = short_json(op.output) if op.output is not None else "null" if op.f == "read" else "ok"
    out = {"ok": ok, "fail": "fail", "info": "?"}[op.status]
    arg = "" if op.input is None else short_json(op.input)
    text = f"{op.f}({arg})" + (f" → {out}" if out else "")
    return (f"[{order}] " if order is not None else "") + text


def _draw_lane_events(d: Diagram, view: View, cv: _Canvas) -> list[str]:
    out = ['<g class="lane-events">']
    for i in view.columns:
        e = d.events[i]
        kind = e.get("event")
        if kind in LANE_FAULTS:
            for lane in d.lane_of.get(i, ()):
                if lane not in cv.y:
                    continue
                x, y = cv.x(i), cv.y[lane]
                glyph = {"crash": "✕", "lose_unsynced": "⚡", "restart": "▶", "skew": "◷"}[kind]
                word = {"crash": "crash", "lose_unsynced": "power loss", "restart": "restart", "skew": "skew"}[kind]
                out.append(f'<g class="fault lane-fault {kind}" data-event="{i}" data-lane="{_esc(lane)}"><title>#{i} '
                           f'{_t(e)}: {_esc(_fault_text(e))}</title><circle cx="{x}" cy="{y}" r="8"/>'
                           f'<text x="{x}" y="{y + 4}" text-anchor="middle">{glyph}</text>'
                           f'<text class="fault-label" x="{x}" y="{y - 12}" text-anchor="middle">{word}</text></g>')
        elif kind in ("note", "role") and e.get("node") in cv.y:
            x, y = cv.x(i), cv.y[e["node"]]
            if kind == "note":
                fields = ", ".join(f"{k}={short_json(v)}" for k, v in e.items() if k not in ("t", "event", "node", "what"))
                text = f"{e['node']} notes {e.get('what')}" + (f" ({fields})" if fields else "")
                out.append(f'<g class="note" data-event="{i}"><title>#{i} {_t(e)}: {_esc(text)}</title>'
                           f'<path d="M{x},{y - 6} L{x + 6},{y} L{x},{y + 6} L{x - 6},{y} z"/>'
                           f'<text x="{x}" y="{y - 9}" text-anchor="middle">{_esc(e.get("what"))}</text></g>')
            else:
                text = f"{e['node']} becomes {e.get('role')}" if e.get("role") else f"{e['node']} gives up its role"
                out.append(f'<g class="role-change" data-event="{i}"><title>#{i} {_t(e)}: {_esc(text)}</title>'
                           f'<rect x="{x - 5}" y="{y - 5}" width="10" height="10"/></g>')
        elif kind == "deliver" and i in cv.col:
            continue
    out.append("</g>")
    return out


def story(d: Diagram, events: set[int]) -> list[dict[str, Any]]:
    """What happened, in words, one line per event worth telling among ``events``: the witness operations' invokes
    and completions, faults, losses, role changes and notes."""
    named = set(d.named)
    by_event = {inv: ci for ci, (inv, _) in d.op_event.items()}
    by_event |= {ret: ci for ci, (_, ret) in d.op_event.items() if ret is not None}
    ops = {op.call_index: op for op in d.ops}
    op_of = {tuple(d.events[inv].get("op") or ()): ci for ci, (inv, _) in d.op_event.items()}
    lines = []
    for i in sorted(events):
        e = d.events[i]
        kind = e.get("event")
        text = None
        cls = kind
        if kind in ("invoke", *COMPLETIONS) and by_event.get(i) in named:
            op = ops[by_event[i]]
            lane = d.op_lane[op.call_index]
            if kind == "invoke":
                text = f"{lane} (process {op.process}) invokes {op.f}({'' if op.input is None else short_json(op.input)})" \
                       + (f" on {op.node}" if op.node else "") + f" [operation #{op.call_index}]"
            else:
                result = {"ok": f"ok {short_json(op.output)}" if op.output is not None else "ok (nothing: the initial value)"
                          if op.f == "read" else "ok", "fail": "fail: it did not happen",
                          "info": "info: it may or may not have happened"}[kind]
                text = f"{op.f}({'' if op.input is None else short_json(op.input)}) of process {op.process} returns " \
                       f"{result} [operation #{op.call_index}]"
            cls = "witness"
        elif kind in LANE_FAULTS or kind in GLOBAL_FAULTS:
            text = _fault_text(e)
            cls = "fault"
        elif kind in MESSAGE_FAULTS:
            m = d.messages.get(e.get("id"))
            what = f"#{e.get('id')} {e.get('src')} → {e.get('dst')}" + (f" {m.type}" if m and m.type else "")
            if kind == "drop":
                reset = [r for r in e.get("reset") or () if r != e.get("id")]
                text = f"the network drops {what}" + (f" (the connection resets: {', '.join(f'#{r}' for r in reset)} "
                                                      f"lost too)" if reset else "")
            elif kind == "delay":
                text = f"the network holds back {what} for {e.get('seconds', 0):g} s" + \
                    (f" (and everything else to {e['slow_node']}: a slow node)" if e.get("slow_node") else "")
            else:
                text = f"the network duplicates {what} as #{e.get('copy')}"
            cls = "fault"
        elif kind == "lost":
            m = d.messages.get(e.get("id"))
            cause = tuple(e["cause"]) if isinstance(e.get("cause"), list) else None
            text = f"message #{e.get('id')} {e.get('src')} → {e.get('dst')}" + \
                (f" {m.type}" if m and m.type and not m.like else "") + \
                (f" (likely a {m.type}, like {', '.join(f'#{x}' for x in m.like)} sent with it)" if m and m.like
                 else "") + \
                (f" (for operation #{op_of[cause]})" if cause in op_of else "") + \
                f" is lost: {_why(e.get('why'), e.get('dst'))}"
            cls = "lost"
        elif kind == "role":
            text = f"{e['node']} becomes {e.get('role')}" if e.get("role") else f"{e['node']} gives up its role"
        elif kind == "note":
            fields = ", ".join(f"{k}={short_json(v)}" for k, v in e.items() if k not in ("t", "event", "node", "what"))
            text = f"{e.get('node')} notes {e.get('what')}" + (f" ({fields})" if fields else "")
        if text is None:
            continue
        prev = lines[-1] if lines else None
        why = (e.get("why"), e.get("dst") if e.get("why") == "down" else None)
        m = d.messages.get(e.get("id")) if kind == "lost" else None
        label = f"#{e.get('id')}" + (f" {m.type}" if m and m.type else "") + ("?" if m and m.like else "")
        if kind == "lost" and prev is not None and prev["class"] == "lost" and prev["why"] == why:
            # a run of losses for one reason is one line: "3 messages (#7 Put, #8 Put, #9 Put) are lost: ..."
            prev["items"].append(label)
            items = prev["items"]
            prev["text"] = f"{len(items)} messages ({', '.join(items[:8])}" + (", …" if len(items) > 8 else "") + \
                f") are lost: {_why(e.get('why'), e.get('dst'))} (the last at event #{i})"
            continue
        lines.append({"index": i, "time": f"{float(e.get('t', 0.0)):g}", "text": text, "class": cls, "why": why,
                      "items": [label]})
    return lines


def render_parts(doc: Mapping[str, Any], sent_at: Mapping[int, float] | None = None) -> dict[str, Any]:
    """What the page template needs: the views' SVGs, the operations table, the story and the counts."""
    d = diagram(doc, sent_at)
    checks = [c for c in doc.get("checks") or () if c.get("verdict") == "violated"]
    witness = checks[0].get("witness") or {} if checks else {}
    failed = witness.get("failed_op") if isinstance(witness.get("failed_op"), int) else None
    prefix = [i for i in witness.get("longest_prefix") or () if isinstance(i, int)]
    linearization = [i for i in witness.get("linearization") or () if isinstance(i, int)]
    order = {ci: k + 1 for k, ci in enumerate(linearization or prefix)}
    key_of = {ci: tuple(d.events[inv].get("op") or ()) for ci, (inv, _) in d.op_event.items()}
    focus = d.named[:len(OP_COLORS)]  # their messages are colored; the rest are grey
    colors = {key_of[ci]: OP_COLORS[k % len(OP_COLORS)] for k, ci in enumerate(focus)}
    marks = {"failed": failed, "prefix": set(prefix), "order": order, "colors": colors, "key_of": key_of}
    all_view = make_view(d, "all", set(range(len(d.events))), {m.id for m in d.messages.values()})
    views = []
    if d.past is not None:
        events, msgs = shown_in_past(d)
        past_view = make_view(d, "past", events, msgs)
        views.append(past_view)
    stories = []
    for view in views + [all_view]:
        told = story(d, set(view.columns))
        stories.append({"name": view.name, "lines": told[:STORY_LIMIT], "more": max(0, len(told) - STORY_LIMIT)})
    views.append(all_view)
    rendered = [{"name": v.name, "svg": markupsafe.Markup(render_svg(d, v, marks)),
                 "labels": markupsafe.Markup(render_labels(v)), "events": len(v.columns), "messages": len(v.messages),
                 "lanes": len(v.lanes)} for v in views]
    op_rows = []
    for op in d.ops:
        inv, ret = d.op_event.get(op.call_index, (None, None))
        op_rows.append({"op": op, "lane": d.op_lane.get(op.call_index, str(op.process)),
                        "witness": op.call_index in set(d.named), "failed": op.call_index == failed,
                        "in_past": d.past is None or (inv is not None and inv in d.past),
                        "color": colors.get(key_of.get(op.call_index)), "order": order.get(op.call_index),
                        "label": _op_label(op, None),
                        "times": f"t={op.call:g}.." + ("" if math.isinf(op.ret) else f"{op.ret:g}")})
    delivered = sum(m.fate == "delivered" for m in d.messages.values())
    lost = sum(m.fate == "lost" for m in d.messages.values())
    faults = sum(e.get("event") in LANE_FAULTS | GLOBAL_FAULTS | MESSAGE_FAULTS and e.get("why") != "recovery"
                 for e in d.events)
    return {"views": rendered, "ops": op_rows, "stories": stories,
            "checks": checks, "named": d.named, "failed": failed, "n_events": len(d.events), "delivered": delivered,
            "lost": lost, "faults": faults, "lanes": d.lanes, "has_past": d.past is not None,
            "colors": [(ci, colors[key_of[ci]]) for ci in focus]}


def render_spacetime(doc: Mapping[str, Any], *, title: str = "", sent_at: Mapping[int, float] | None = None) -> str:
    """The HTML page of a trace document: self-contained (inline CSS, no script) and deterministic."""
    parts = render_parts(doc, sent_at)
    verdict = doc.get("verdict") or "unknown"
    return _ENV.get_template("spacetime.html.j2").render(
        title=title or f"{doc.get('protocol', 'run')}: {verdict}", verdict=verdict, error=doc.get("error"),
        protocol=doc.get("protocol", ""), source=doc.get("source") or {}, label_width=LABEL_WIDTH, **parts)


def write_spacetime(doc: Mapping[str, Any], path: pathlib.Path, *, title: str = "",
                    sent_at: Mapping[int, float] | None = None) -> pathlib.Path:
    """Write the space-time page of a trace document to ``path`` (creating its folder); return the path."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_spacetime(doc, title=title, sent_at=sent_at), encoding="utf-8")
    return path
