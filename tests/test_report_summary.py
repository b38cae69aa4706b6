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
