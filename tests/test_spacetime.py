"""The space-time page of a trace: lanes, inferred sends against the runtime's real ones, the causal past, the page's
elements, determinism and escaping, the page `faultlab check` writes, and a real browser load."""

from __future__ import annotations

import html.parser
import json
import os
import pathlib
import subprocess
import sys

import pytest
from browser import artifacts, load_in_chromium, needs_chromium

from faultlab.choices import SeededChoices
from faultlab.explore import explore
from faultlab.network import Envelope
from faultlab.registry import get_protocol
from faultlab.report.causality import diagram, shown_in_past
from faultlab.report.run import save_failure
from faultlab.report.spacetime import render_spacetime, write_spacetime
from faultlab.runtime import RunSettings, Simulation, simulate
from faultlab.trace import trace_document

TRACES = pathlib.Path(__file__).resolve().parent / "traces"


def known() -> dict:
    """quorum-register stale-read, seed 0, shrunk: n3 crashes, the write's messages to n3 are lost, n3 restarts
    empty, and the final read takes n3's answer (r=1): 32 events, 24 deliveries, 2 losses."""
    return json.loads((TRACES / "quorum-register-stale-read-seed0.json").read_text(encoding="utf-8"))


class Elements(html.parser.HTMLParser):
    """Every element's tag and attributes, in document order, with the id of the view (``view-past``/``view-all``)
    each one sits in."""

    def __init__(self, text: str):
        super().__init__()
        self.found: list[tuple[str, dict, str | None]] = []
        self._view: list[str | None] = [None]
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        view = a["id"] if tag == "div" and (a.get("id") or "").startswith("view-") else self._view[-1]
        self.found.append((tag, a, view))
        if tag == "div":
            self._view.append(view)

    def handle_endtag(self, tag):
        if tag == "div" and len(self._view) > 1:
            self._view.pop()

    def with_class(self, name: str, view: str | None = None) -> list[dict]:
        return [a for _, a, v in self.found if name in (a.get("class") or "").split() and (view is None or v == view)]


# -- the model ------------------------------------------------------------------------------------------------------

def test_lanes_messages_and_sends_of_a_known_trace():
    d = diagram(known())
    assert [(lane.name, lane.kind) for lane in d.lanes] == [("c0", "client"), ("final", "client"), ("n1", "node"),
                                                           ("n2", "node"), ("n3", "node")]
    delivered = {m.id for m in d.messages.values() if m.fate == "delivered"}
    lost = {m.id: m.why for m in d.messages.values() if m.fate == "lost"}
    assert len(delivered) == 24 and lost == {4: "down", 9: "down"}
    # a loss records no body: the lost ones are taken for what was sent with them (a broadcast)
    assert (d.messages[4].type, d.messages[4].like) == ("GetVersion", (2, 3))
    assert (d.messages[9].type, d.messages[9].like) == ("Put", (7, 8))
    # Every send is placed after the event the runtime really sent it after (checked against a wrapped
    # Simulation._send when this trace was made): the client's write after its invoke, the GetVersion broadcast
    # after the write reached n1, the replies after their requests, the Put broadcast after the first VersionReply
    # (r=1), the Ok after the first PutAck (w=1).
    gaps = {mid: m.send_gap for mid, m in d.messages.items()}
    assert gaps == {1: 0, 2: 2, 3: 2, 4: 2, 5: 4, 6: 5, 7: 6, 8: 6, 9: 6, 10: 9, 11: 10, 12: 11, 13: 16, 14: 17,
                    15: 17, 16: 17, 17: 18, 18: 19, 19: 20, 20: 21, 21: 21, 22: 21, 23: 24, 24: 25, 25: 26, 26: 27}


def test_causal_past_of_the_witness_operations():
    d = diagram(known())
    assert d.named == [0, 2]  # the acknowledged write and the stale read
    # Not in the past: the read repair's Puts reaching n2 and n3 (25, 26) and their acks coming back (28, 29):
    # they happened after n2 and n3 had last said anything the read heard. In it: n3's crash (1) and restart (15),
    # on n3's lane before the VersionReply n3 sent the read; and everything on the write's path.
    assert sorted(set(range(32)) - d.past) == [3, 7, 25, 26, 28, 29]
    assert {1, 15} <= d.past
    events, msgs = shown_in_past(d)
    assert sorted(set(range(32)) - events) == [25, 26, 28, 29]  # the two losses (3, 7) are drawn where they died
    assert {4, 9} <= msgs and not {21, 22, 24, 25} & msgs


def test_no_named_operation_means_everything_is_shown():
    doc = known()
    doc["checks"] = [dict(doc["checks"][0], witness={})]
    d = diagram(doc)
    assert d.past is None
    page = Elements(render_spacetime(doc))
    assert not page.with_class("msg", "view-past") and len(page.with_class("msg", "view-all")) == 26


def hand_trace() -> dict:
    """Two clients; a partition cutting n1 off (a Put lost to it), a drop that resets a connection, a delay, a
    duplicate, n2 becoming leader and noting a failover, a power loss on n3; the witness names operation 0 only."""
    def deliver(i, src, dst, msg, cause=None, reply_to=None, t=0.0):
        e = {"t": t, "event": "deliver", "id": i, "src": src, "dst": dst, "msg": {"type": msg}}
        if reply_to is not None:
            e["reply_to"] = reply_to
        if cause is not None:
            e["cause"] = cause
        return e

    events = [
        {"t": 0.0, "event": "invoke", "process": 0, "f": "write", "value": 1, "node": "n2", "op": [0, 0]},  # 0
        {"t": 0.0, "event": "role", "node": "n2", "role": "leader"},                                         # 1
        deliver(1, "c0", "n2", "Write", [0, 0]),                                                             # 2
        {"t": 0.0, "event": "partition", "shape": "isolate", "sides": [["n1"], ["n2", "n3"]]},               # 3
        {"t": 0.0, "event": "lost", "id": 2, "src": "n2", "dst": "n1", "why": "partition", "cause": [0, 0]},  # 4
        {"t": 0.0, "event": "delay", "id": 3, "src": "n2", "dst": "n3", "seconds": 1.0},                      # 5
        {"t": 1.0, "event": "duplicate", "id": 3, "copy": 4, "src": "n2", "dst": "n3"},                       # 6
        deliver(3, "n2", "n3", "Put", [0, 0], t=1.0),                                                        # 7
        deliver(4, "n2", "n3", "Put", [0, 0], t=1.0),                                                        # 8
        deliver(5, "n3", "n2", "PutAck", [0, 0], reply_to=3, t=1.0),                                         # 9
        {"t": 1.0, "event": "note", "node": "n2", "what": "failover", "epoch": 2},                            # 10
        deliver(7, "n2", "c0", "Ok", [0, 0], reply_to=1, t=1.0),                                             # 11
        {"t": 1.0, "event": "ok", "process": 0, "f": "write", "value": 1},                                    # 12
        {"t": 1.0, "event": "heal"},                                                                         # 13
        {"t": 2.0, "event": "invoke", "process": 1, "f": "read", "value": None, "node": "n1", "op": [1, 0]},  # 14
        {"t": 2.0, "event": "drop", "id": 8, "src": "c1", "dst": "n1", "reset": [8]},                         # 15
        {"t": 2.0, "event": "lose_unsynced", "node": "n3", "scope": "node", "nodes": ["n3"], "lost_writes": 1},  # 16
        {"t": 3.0, "event": "info", "process": 1, "f": "read", "value": None},                                # 17
    ]
    history = [
        {"index": 0, "process": 0, "type": "invoke", "f": "write", "value": 1, "time": 0.0, "node": "n2"},
        {"index": 1, "process": 0, "type": "ok", "f": "write", "value": 1, "time": 1.0, "node": "n2"},
        {"index": 2, "process": 1, "type": "invoke", "f": "read", "value": None, "time": 2.0, "node": "n1"},
        {"index": 3, "process": 1, "type": "info", "f": "read", "value": None, "time": 3.0, "node": "n1"},
    ]
    check = {"invariant": "x", "checker": "x", "verdict": "violated",
             "explanation": "Let W = <write> & co. Then: a contradiction!", "witness": {"ops": [0]}}
    return {"kind": "faultlab-trace", "protocol": "hand<made>", "verdict": "violated", "error": None,
            "checks": [check], "history": history, "events": events}


def test_faults_roles_notes_and_message_fates():
    d = diagram(hand_trace())
    assert [lane.name for lane in d.lanes] == ["c0", "c1", "n1", "n2", "n3"]
    m = d.messages
    assert (m[2].fate, m[2].why, m[2].end) == ("lost", "partition", 4)
    assert (m[8].fate, m[8].why, m[8].end, m[8].src) == ("lost", "drop", 15, "c1")
    assert m[4].copy_of == 3 and m[4].send_gap == 6  # the network made the copy at the duplicate fault
    assert [k for _, k, _ in m[3].marks] == ["delay", "duplicate"]
    assert m[3].send_gap == 2 and m[5].send_gap == 7 and m[7].send_gap == 9  # Ok after the PutAck reached n2
    assert m[8].send_gap == 14  # after the client's invoke (its cause)
    # The write's past: its lane, n2 up to the Ok (sent after the PutAck reached it, so not its later note), n3 up
    # to its PutAck (not the copy that arrived after it); not the read, the drop, the power loss.
    assert d.past == {0, 1, 2, 7, 9, 11, 12}
    events, _ = shown_in_past(d)
    assert {3, 4, 5, 6} <= events and not {13, 14, 15, 16, 17} & events  # the heal came after the write's ok
    page = Elements(render_spacetime(hand_trace()))
    assert page.with_class("partition", "view-past") and not page.with_class("heal", "view-past")
    assert page.with_class("heal", "view-all")
    assert page.with_class("lose_unsynced", "view-all") and not page.with_class("lose_unsynced", "view-past")
    assert page.with_class("role", "view-all") and page.with_class("note", "view-all")
    assert [a["data-id"] for a in page.with_class("copy", "view-all")] == ["4"]
    assert [a["data-call-index"] for a in page.with_class("witness-op", "view-all")] == ["0"]


def test_sends_against_the_runtime(monkeypatch):
    """The inferred send of every message against the runtime's own: the event after which ``_send`` ran. A miss
    counts only when a delivery to the sender (or its client's invoke) lies between the two; with the positions
    recorded in the trace (``sent_after``) every send is exact."""
    truth: dict[int, int] = {}
    original = Simulation._send

    def recording(self, src, dst, msg, reply_to):
        after = len(self.events) - 1
        mid = original(self, src, dst, msg, reply_to)
        truth[mid] = after
        return mid

    monkeypatch.setattr(Simulation, "_send", recording)
    rates = {}
    for name, variant, seeds in (("quorum-register", None, range(3)), ("elasticache-redis", "no-fencing", range(2))):
        protocol = get_protocol(name)
        v = protocol.variant(variant) if variant else None
        config = protocol.make_config(dict(v.settings) if v else {})
        right = total = 0
        for seed in seeds:
            truth.clear()
            run = simulate(protocol, config, SeededChoices(seed), RunSettings().for_variant(v))
            doc = json.loads(json.dumps(trace_document(run)))
            sent_at = {p.id: p.sent_at for _, _, p in run.events if isinstance(p, Envelope)}
            d = diagram(doc, sent_at)
            events = doc["events"]
            for mid, m in d.messages.items():
                if m.copy_of is not None or mid not in truth:
                    continue
                total += 1
                lo, hi = sorted((m.send_gap, truth[mid]))
                right += not any(events[i]["event"] == "deliver" and events[i]["dst"] == m.src or
                                 events[i]["event"] == "invoke" and m.src in ("c0", "c1", "c2", "final")
                                 for i in range(lo + 1, hi + 1))
            for e in events:  # the same trace, saying where each message was sent: exact
                if e["event"] in ("deliver", "lost", "drop") and e["id"] in truth:
                    e["sent_after"] = truth[e["id"]]
            exact = diagram(doc)
            assert all(m.send_gap == truth[mid] for mid, m in exact.messages.items() if m.copy_of is None)
        rates[name] = right / total
    # measured: quorum-register 0.75 (its Put and Ok follow the second of r=2 replies; drawn after the first),
    # elasticache-redis 0.98
    assert rates["quorum-register"] >= 0.65 and rates["elasticache-redis"] >= 0.85, rates


# -- the page -------------------------------------------------------------------------------------------------------

def test_page_elements_of_a_known_trace():
    page = Elements(render_spacetime(known(), title="stale read"))
    for view in ("view-past", "view-all"):
        assert [a["data-lane"] for a in page.with_class("node", view) if "lane" in a["class"].split()] == \
            ["n1", "n2", "n3"]
    assert len(page.with_class("delivered", "view-all")) == 24 and len(page.with_class("lost", "view-all")) == 2
    assert len(page.with_class("delivered", "view-past")) == 20  # the read repair's last four are not in the past
    assert [a["data-call-index"] for a in page.with_class("witness-op", "view-past")] == ["0", "2"]
    assert [a["data-lane"] for a in page.with_class("crash", "view-past")] == ["n3"]
    assert [a["data-lane"] for a in page.with_class("restart", "view-past")] == ["n3"]
    assert [a["data-call-index"] for a in page.with_class("witness-row")] == ["0", "2"]
    ids = {a.get("id") for _, a, _ in page.found}
    assert {"verdict", "explanation", "show-all", "story-past", "story-all", "history"} <= ids


def test_page_is_deterministic_self_contained_and_escaped(tmp_path):
    a = write_spacetime(hand_trace(), tmp_path / "a" / "x.html", title="<b>t</b>")
    b = write_spacetime(hand_trace(), tmp_path / "b.html", title="<b>t</b>")
    assert a.read_bytes() == b.read_bytes()
    text = a.read_text(encoding="utf-8")
    assert "<b>t</b>" not in text and "&lt;b&gt;t&lt;/b&gt;" in text and "&lt;write&gt; &amp; co" in text
    assert "hand&lt;made&gt;" in text or "hand<made>" not in text
    assert "<script" not in text and "<link" not in text and "https://" not in text and " src=" not in text
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_check_writes_the_spacetime_page_beside_the_trace(tmp_path):
    protocol = get_protocol("quorum-register")
    v = protocol.variant("stale-read")
    exp = explore(protocol, protocol.make_config(dict(v.settings)), examples=75, seed=0,
                  settings=RunSettings().for_variant(v), invariants=v.promised(protocol), shrink=False)
    trace = save_failure(exp, tmp_path, "stale-read")
    doc = json.loads(trace.read_text(encoding="utf-8"))
    page = Elements(trace.with_suffix(".html").read_text(encoding="utf-8"))
    nodes = sorted({e[k] for e in doc["events"] if e["event"] == "deliver" for k in ("src", "dst")}
                   & {"n1", "n2", "n3"})
    assert [a["data-lane"] for a in page.with_class("node", "view-all") if "lane" in a["class"].split()] == nodes
    assert len(page.with_class("delivered", "view-all")) == sum(e["event"] == "deliver" for e in doc["events"])
    assert page.with_class("witness-op", "view-past")


# -- a real browser -------------------------------------------------------------------------------------------------

@pytest.mark.browser
@needs_chromium
def test_chromium_shows_the_known_trace(tmp_path):
    """One load: no console message but the probe's, a lane per node, an arrow per delivered message, the witness
    operations highlighted, the show-everything control working, and a screenshot of the default view."""
    out = artifacts(tmp_path)
    page = write_spacetime(known(), tmp_path / "stale-read.html", title="quorum-register: read-after-write violated")
    # The probe (the page itself has no script) reads which view is displayed, ticks the checkbox, reads again and
    # unticks it, so the screenshot shows the default view.
    probe = """<script>
const shown = () => ["past", "all"].filter(v => getComputedStyle(document.getElementById("view-" + v)).display !== "none");
const before = shown().join(",");
document.getElementById("show-all-label").click();
const after = shown().join(",");
document.getElementById("show-all-label").click();
console.log("probe " + before + " then " + after + " then " + shown().join(","));
</script></body>"""
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", probe), encoding="utf-8")
    dom, console = load_in_chromium(probed, out / "spacetime-stale-read.png", tmp_path / "profile")
    assert len(console) == 1 and '"probe past then all then past"' in console[0], console
    doc = Elements(dom)
    assert [a["data-lane"] for a in doc.with_class("node", "view-all") if "lane" in a["class"].split()] == \
        ["n1", "n2", "n3"]
    assert len(doc.with_class("delivered", "view-all")) == 24
    assert [a["data-call-index"] for a in doc.with_class("witness-op", "view-past")] == ["0", "2"]
    assert (out / "spacetime-stale-read.png").stat().st_size > 20_000


@pytest.mark.browser
@needs_chromium
def test_console_errors_are_caught(tmp_path):
    """The control for the console check above: a page that throws is reported."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><script>throw new Error('boom')</script></body></html>")
    _, console = load_in_chromium(bad, tmp_path / "bad.png", tmp_path / "profile", size="400,300")
    assert any("boom" in line for line in console), console


def test_same_bytes_under_any_hash_seed(tmp_path):
    """Sets of node names iterate in an order PYTHONHASHSEED decides: the page must not depend on it."""
    script = ("import json, sys; from faultlab.report.spacetime import render_spacetime; "
              "sys.stdout.write(render_spacetime(json.load(open(sys.argv[1], encoding='utf-8'))))")
    pages = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(TRACES.parents[1])}
        res = subprocess.run([sys.executable, "-c", script, str(TRACES / "quorum-register-stale-read-seed0.json")],
                             capture_output=True, env=env, timeout=60)
        assert res.returncode == 0, res.stderr.decode()[-2000:]
        pages.append(res.stdout)
    assert pages[0] == pages[1] and len(pages[0]) > 10_000
