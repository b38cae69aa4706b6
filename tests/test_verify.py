"""`faultlab verify` and `faultlab claims` end to end: exit codes, reports, traces that replay, and "held" meaning the
whole budget, for every invariant a configuration promises."""

from __future__ import annotations

import json

import attrs

from faultlab.cli import main
from faultlab.explore import KNOWN_BAD_SEARCH
from faultlab.protocol import Variant
from faultlab.registry import get_protocol
from faultlab.verification import verify_protocol

QR = get_protocol("quorum-register")
EXAMPLES = 40


def test_verify_judges_every_row_writes_the_reports_and_its_traces_replay(tmp_path, capsys):
    assert main(["verify", "quorum-register", "--examples", str(EXAMPLES), "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "verify.json").read_text())
    rows = doc["rows"]
    assert {r["configuration"] for r in rows} == {v.name for v in QR.variants}
    assert all(r["as_expected"] for r in rows), [r for r in rows if not r["as_expected"]]
    for r in rows:
        if r["method"] == "explore" and r["expected"] == "held":
            assert r["verdict"] == "held" and r["runs"] == EXAMPLES, r  # held means the whole budget
        if r["verdict"] == "refuted":
            assert r["expected"] == "refuted" and r["runs"] < KNOWN_BAD_SEARCH * EXAMPLES and r["trace"], r
            assert main(["replay", r["trace"], "--quiet"]) == 1  # the violation reproduces
    assert {r["links"] for r in rows if r["method"] == "explore"} == {"stream", "datagram"}
    claims = json.loads((tmp_path / "claims.json").read_text())
    assert [c["verdict"] for c in claims] == [c.expect for c in QR.claims]
    for name in ("index.html", "verify.md", "claims.md"):
        assert (tmp_path / name).stat().st_size > 0
    out = capsys.readouterr().out
    assert "0 unexpected" in out


def test_claims_exit_1_when_a_claim_computes_another_verdict_than_expected(tmp_path, capsys):
    from faultlab.claims import Claim

    wrong = attrs.evolve(QR, claims=(Claim("1", "R=1, W=1 reads its writes", "invariant", variant="stale-read",
                                           invariants=("read-after-write",), expect="held"),))
    from faultlab.commands.claims import judge_all

    (result,) = judge_all([wrong], examples=EXAMPLES, seed=0, out=tmp_path)
    assert result.verdict == "refuted" and not result.as_expected
    assert main(["claims", "quorum-register", "--examples", str(EXAMPLES), "--out", str(tmp_path)]) == 0


def test_an_invariant_left_unjudged_by_another_ones_violation_is_explored_again_over_the_full_budget(tmp_path):
    """no-read-repair breaks linearizability but still reads its writes (R + W > N): both promised, the second row
    must be held over the whole budget, not 'held' over the runs before the first violation."""
    both = attrs.evolve(QR, variants=(Variant("no-read-repair-both", {"read_repair": False}, "promises both",
                                              invariants=("linearizable", "read-after-write")),), claims=())
    rows = {r.check: r for r in verify_protocol(both, examples=EXAMPLES * 4, seed=0, traces=tmp_path)
            if r.method == "explore"}
    assert rows["linearizable"].verdict == "refuted" and rows["linearizable"].trace
    assert rows["read-after-write"].verdict == "held" and rows["read-after-write"].runs == EXAMPLES * 4
    assert rows["read-after-write"].trace is None
