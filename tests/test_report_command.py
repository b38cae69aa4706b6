"""``faultlab report``: every page written again from verify.json and claims.json, running nothing."""

from __future__ import annotations

import pytest
from browser import artifacts, load_in_chromium, needs_chromium

from faultlab.claims import Claim, ClaimResult, Measurement, Plot
from faultlab.cli import main
from faultlab.commands.claims import evidence_line, write_claims_report
from faultlab.commands.verify import write_reports
from faultlab.report.summary import write_index
from faultlab.verification import Row

PAGES = ("index.html", "verify.md", "coverage.json", "claims.md")


def _results(out):
    coverage = {"runs": 7, "runs_with_event": {"crash": 3}, "runs_with_note": {}, "ops": {"write:ok": 9},
                "invariants": {"no-lost-writes": {"judged": 7, "exercised": 0, "undecided": 0, "violated": 0}},
                "runs_enabled": {"crash": 5}, "partition_shapes_available": []}
    rows = [Row("p", "good", {"n": 3}, "no-lost-writes", "explore", "held", "held", 7, None, 0.1, "7 runs", None,
                coverage, "stream")]
    m = Measurement(2.0, "s", "two seconds", [{"n": 1, "t": 1.0}, {"n": 2, "t": 2.0}], plot=Plot("n", "t"))
    claims = [ClaimResult("p", Claim("3", "It takes ~2 seconds", "measure", measure=lambda s: m, expect="measured"),
                          "measured", {"figure": 2.0, "unit": "s", "summary": m.summary, "table": m.table,
                                       "plot": m.plot.to_json()}, 0.5),
              ClaimResult("p", Claim("3", "Never loses a write", "invariant", variant="good",
                                     invariants=("no-lost-writes",), expect="held"), "held",
                          {"runs": 7, "links": "stream", "faults_in_runs": {"crash": 3}}, 0.1)]
    write_reports(rows, out, profile="ci", examples=7, seed=0)
    write_claims_report(claims, out)
    write_index(rows, claims, out, profile="ci", examples=7, seed=0, evidence=evidence_line)


def test_report_writes_the_same_pages_from_the_json_alone(tmp_path, capsys):
    _results(tmp_path)
    before = {name: (tmp_path / name).read_bytes() for name in PAGES}
    (plot,) = (tmp_path / "plots").glob("*.svg")
    drawn = plot.read_bytes()
    for name in PAGES:
        (tmp_path / name).unlink()
    plot.unlink()
    assert main(["report", "--out", str(tmp_path)]) == 0
    assert "1 rows, 2 claims" in capsys.readouterr().out
    assert {name: (tmp_path / name).read_bytes() for name in PAGES} == before
    assert plot.read_bytes() == drawn
    assert b"rarely exercised (0 of 7 runs)" in before["coverage.json"]


@pytest.mark.parametrize("content, says", [
    ("{not json", "verify.json: not JSON"),
    ('{"profile": "ci"}', "verify.json: not a faultlab report file (no 'rows' list)"),
    ('{"rows": [{"protocol": "p"}]}', "verify.json: row 0 is malformed"),
])
def test_a_corrupt_report_file_exits_3_naming_it(tmp_path, capsys, content, says):
    (tmp_path / "verify.json").write_text(content)
    assert main(["report", "--out", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1 and not (tmp_path / "index.html").exists()


def test_nothing_to_report_from_exits_3(tmp_path, capsys):
    assert main(["report", "--out", str(tmp_path)]) == 3
    assert "no verify.json or claims.json" in capsys.readouterr().err


def test_report_writes_each_trace_page_from_the_trace_and_names_a_corrupt_one(tmp_path, capsys):
    from faultlab.registry import get_protocol
    from faultlab.report.run import save_failure
    from faultlab.testing import assert_refuted

    qr = get_protocol("quorum-register")
    exp = assert_refuted(qr, variant="stale-read", examples=75, seed=0)
    trace = save_failure(exp, tmp_path / "traces", "stale-read")
    page = trace.with_suffix(".html")
    first = page.read_text()
    page.unlink()
    (tmp_path / "traces" / "broken.json").write_text('{"protocol": "quorum-register"')
    _results(tmp_path)
    assert main(["report", "--out", str(tmp_path)]) == 3
    captured = capsys.readouterr()
    assert "1 trace pages" in captured.out and "broken.json" in captured.err
    again = page.read_text()
    assert "read-after-write violated" in again and "<svg" in again
    assert len(again) > 0.9 * len(first)  # the same diagram, drawn from the file alone
    assert (tmp_path / "index.html").exists()  # a bad trace costs its own page only


@needs_chromium
def test_the_report_page_loads_in_chromium_with_its_plot_and_coverage(tmp_path):
    _results(tmp_path)
    shot = artifacts(tmp_path) / "report-index.png"
    dom, console = load_in_chromium(tmp_path / "index.html", shot, tmp_path / "profile", size="1300,2200")
    assert console == [], console  # no errors, no warnings
    assert 'class="plot"' in dom and 'src="plots/' in dom
    assert 'id="invariant-coverage"' in dom and "rarely exercised (0 of 7 runs)" in dom
    assert shot.exists() and shot.stat().st_size > 10_000
