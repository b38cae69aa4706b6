"""reports/index.html: claims, rows with links to counterexample timelines, coverage; unexpected rows flagged."""

from __future__ import annotations

from faultlab.claims import Claim, ClaimResult
from faultlab.report.summary import write_index
from faultlab.verification import Row


def test_index_lists_claims_rows_coverage_and_flags_the_unexpected(tmp_path):
    coverage = {"runs": 7, "runs_with_event": {"crash": 3}, "runs_with_note": {"failover": 2}, "ops": {"write:ok": 9}}
    rows = [
        Row("p", "good", {}, "no-lost-writes", "explore", "held", "held", 7, None, 0.1, "", None, coverage),
        Row("p", "bad", {}, "read-after-write", "explore", "refuted", "held", 7, None, 0.1, "", None, coverage),
        Row("p", "bad2", {}, "read-after-write", "explore", "refuted", "refuted", 3, 3, 0.2, "",
            str(tmp_path / "traces" / "p-bad2.json"), coverage),
    ]
    claim = Claim("1", "Writes <always> succeed", "measure", measure=lambda s: None, expect="measured")
    claims = [ClaimResult("p", claim, "measured", {"figure": 0.9, "unit": "share", "summary": "most do",
                                                    "table": [{"n": 3, "share": 0.9}]}, 0.0)]
    path = write_index(rows, claims, tmp_path, profile="ci", examples=7, seed=0, evidence=lambda c: "0.9 share")
    html = path.read_text()
    assert "Writes &lt;always&gt; succeed" in html  # autoescaped: a claim is text, never markup
    assert 'href="traces/p-bad2.html"' in html      # the counterexample's timeline, relative to the report
    assert "1 unexpected" in html and "expected refuted" in html
    assert "failover (2)" in html and "<th>share</th>" in html


def test_a_measured_plot_is_drawn_from_its_table_and_shown_above_it(tmp_path):
    from faultlab.claims import Measurement, Plot

    table = [{"clients": c, "strategy": s, "calls": c * k} for c in (50, 100) for s, k in (("none", 14), ("full", 7))]
    m = Measurement(3.5, "x", "full jitter makes fewer calls", table,
                    plot=Plot("clients", "calls", series="strategy", kind="bar"))
    claim = Claim("13", "Full jitter", "measure", measure=lambda s: m, expect="measured")
    evidence = {"figure": m.figure, "unit": m.unit, "summary": m.summary, "table": m.table, "plot": m.plot.to_json()}
    path = write_index([], [ClaimResult("p", claim, "measured", evidence, 0.0)], tmp_path, profile="ci",
                       examples=7, seed=0, evidence=lambda c: "")
    html = path.read_text()
    (svg,) = (tmp_path / "plots").glob("p-*.svg")
    assert f'src="plots/{svg.name}"' in html and html.index(svg.name) < html.index("<th>calls</th>")
    text = svg.read_text()
    assert text.startswith("<?xml") and "<svg" in text and "full" in text and "none" in text  # legend as text
    write_index([], [ClaimResult("p", claim, "measured", evidence, 0.0)], tmp_path, profile="ci", examples=7,
                seed=0, evidence=lambda c: "")
    assert svg.read_text() == text  # the same table draws the same bytes: reports diff cleanly


def test_a_plot_must_name_columns_its_table_has():
    import pytest

    from faultlab.claims import Measurement, Plot

    with pytest.raises(ValueError, match=r"does not have: \['latency'\]"):
        Measurement(1.0, "s", "", [{"n": 1, "rtt": 2.0}], plot=Plot("n", ("rtt", "latency")))
    with pytest.raises(ValueError, match="takes no series"):
        Plot("n", ("a", "b"), series="c")
    assert Measurement(0.0, "s", "nothing measured", [], plot=Plot("n", "rtt")).plot is not None  # empty: no check


def test_rows_without_a_number_are_left_out_of_a_plot_not_drawn_as_zero():
    from faultlab.report.plots import render_svg

    with_gap = render_svg([{"n": 1, "t": 1.0}, {"n": 2, "t": None}, {"n": 3, "t": 3.0}], {"x": "n", "y": "t"})
    without = render_svg([{"n": 1, "t": 1.0}, {"n": 3, "t": 3.0}], {"x": "n", "y": "t"})
    assert with_gap == without
