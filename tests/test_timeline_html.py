"""The HTML and text timelines: structure, marks from witnesses, determinism, escaping, and a real browser load."""

import html.parser
import time

import pytest
from browser import artifacts, load_in_chromium, needs_chromium

from faultlab.history import History
from faultlab.report import write_timeline, write_timeline_text
from faultlab.report.timeline import render_timeline
from faultlab.result import CheckResult


def register_history() -> History:
    """Four processes; op #10 (a stale read) is the one that cannot be linearized; #3 is an info write; #8 fails."""
    h = History()
    h.invoke(0, "write", 1, 0)
    h.invoke(1, "read", None, 1)
    h.complete(0, "ok", None, 2)
    h.invoke(2, "write", 2, 3)
    h.complete(1, "ok", 1, 4)
    h.invoke(0, "read", None, 5)
    h.complete(2, "info", None, 6)
    h.complete(0, "ok", 2, 7)
    h.invoke(1, "write", 3, 8)
    h.complete(1, "fail", None, 9)
    h.invoke(3, "read", None, 10)
    h.complete(3, "ok", 1, 11)
    h.invoke(4, "read", None, 12, phase="final", node="n1")
    return h


VIOLATION = CheckResult.violation("linearizable", "Let W = write(2) ... Then R returned 1: a contradiction!",
                                  failed_op=10, longest_prefix=[0, 1, 3, 5])


class Elements(html.parser.HTMLParser):
    """Every element's tag and attributes, in document order."""

    def __init__(self, text: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    def with_class(self, name: str) -> list[dict]:
        return [a for _, a in self.found if name in (a.get("class") or "").split()]


def bars(doc: Elements) -> dict[int, dict]:
    return {int(a["data-call-index"]): a for a in doc.with_class("op") if "data-call-index" in a}


def left_and_width(style: str) -> tuple[int, int]:
    parts = dict(p.strip().split(": ") for p in style.split(";") if p.strip())
    return int(parts["left"].removesuffix("px")), int(parts["width"].removesuffix("px"))


def test_lanes_bars_and_failure_marks():
    doc = Elements(render_timeline(register_history(), VIOLATION, title="register"))
    assert [a["data-process"] for a in doc.with_class("lane")] == ["0", "1", "2", "3", "4"]
    b = bars(doc)
    assert sorted(b) == [0, 1, 3, 5, 8, 10, 12]
    assert "failed-op" in b[10]["class"].split()
    assert [ci for ci, a in sorted(b.items()) if "in-prefix" in a["class"].split()] == [0, 1, 3, 5]
    assert [b[ci]["data-order"] for ci in (0, 1, 3, 5)] == ["1", "2", "3", "4"]
    assert b[8]["data-status"] == "fail" and b[3]["data-status"] == "info"
    assert doc.with_class("verdict-violated")


def test_info_and_never_completed_ops_run_to_the_right_edge():
    doc = Elements(render_timeline(register_history(), None))
    b = bars(doc)
    edge = max(sum(left_and_width(a["style"])) for a in b.values())
    assert sum(left_and_width(b[12]["style"])) == edge  # never completed: the bar itself reaches the edge
    tail = [a for a in doc.with_class("tail") if a["data-call-index"] == "3"]
    assert tail and sum(left_and_width(tail[0]["style"])) == edge  # info: a tail reaches the edge
    assert sum(left_and_width(b[0]["style"])) < edge
    assert "open" in b[3]["class"].split() and "open" not in b[0]["class"].split()


def test_linearization_numbers_and_witness_ops():
    ops = register_history().operations()
    ok = CheckResult.holds("linearizable", linearization=[5, 0, 1])
    b = bars(Elements(render_timeline(register_history(), ok)))
    assert (b[5]["data-order"], b[0]["data-order"], b[1]["data-order"]) == ("1", "2", "3")
    assert "data-order" not in b[8] and len(ops) == 7
    other = CheckResult.violation("read-after-write", "Let ...: a contradiction!", ops=[1, 10])
    b = bars(Elements(render_timeline(register_history(), other)))
    assert [ci for ci, a in sorted(b.items()) if "witness-op" in a["class"].split()] == [1, 10]


def test_output_is_deterministic_and_escaped(tmp_path):
    evil = CheckResult.violation("x", "<script>alert(1)</script> & a contradiction!", failed_op=10)
    a = write_timeline(register_history(), evil, tmp_path / "a" / "timeline.html", title="<b>t</b>")
    b = write_timeline(register_history(), evil, tmp_path / "b.html", title="<b>t</b>")
    assert a == tmp_path / "a" / "timeline.html" and a.read_bytes() == b.read_bytes()
    text = a.read_text()
    assert "<script>" not in text and "&lt;script&gt;" in text and "&lt;b&gt;t&lt;/b&gt;" in text
    assert "http://" not in text and "https://" not in text and "<link" not in text  # self-contained


def test_thousands_of_operations_render_quickly_and_scale_lanes():
    h = History()
    t = 0
    for i in range(3000):
        h.invoke(i % 60, "write", i, t)
        h.complete(i % 60, "ok", None, t + 1)
        t += 2
    start = time.perf_counter()
    text = render_timeline(h, None)
    assert time.perf_counter() - start < 3
    doc = Elements(text)
    assert len(doc.with_class("lane")) == 60 and len(bars(doc)) == 3000
    assert "height: 18px" in text  # more than 40 lanes: thinner lanes


def test_text_timeline_has_one_line_per_event():
    h = register_history()
    text = write_timeline_text(h)
    lines = text.splitlines()
    assert len(lines) == len(h) + 1
    assert lines[1].split() == ["0", "0", "0", "invoke", "write", "1"]
    assert lines[-1].endswith("[final]  @n1") and "fail" in lines[10]


@pytest.mark.browser
@needs_chromium
def test_chromium_loads_the_timeline(tmp_path):
    """The history-only page (``check-history --html``: no trace, only client lanes), loaded once: no console
    messages, the elements there, and a screenshot in the CI output folder (see tests/test_spacetime.py)."""
    out = artifacts(tmp_path)
    page = write_timeline(register_history(), VIOLATION, tmp_path / "timeline.html", title="register")
    dom, console = load_in_chromium(page, out / "timeline-history-only.png", tmp_path / "profile", size="1400,500")
    assert console == []
    doc = Elements(dom)
    assert len(doc.with_class("lane")) == 5
    b = bars(doc)
    assert len(b) == 7 and "failed-op" in b[10]["class"].split()
    assert sorted(ci for ci, a in b.items() if "in-prefix" in a["class"].split()) == [0, 1, 3, 5]
    assert any(a.get("id") == "verdict" for _, a in doc.found)
    assert (out / "timeline-history-only.png").stat().st_size > 10_000
