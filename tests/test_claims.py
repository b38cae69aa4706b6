"""Claims: verdicts are computed by runs, proofs and measurements, and a claim that computes another verdict than
the one the suite established is flagged."""

from __future__ import annotations

import pytest

from faultlab.claims import Claim, Measurement, judge
from faultlab.registry import get_protocol

QR = get_protocol("quorum-register")


def test_quorum_register_claims_compute_their_expected_verdicts(tmp_path):
    for claim in QR.claims:
        result = judge(QR, claim, examples=60, seed=0, traces=tmp_path)
        assert result.verdict == claim.expect, result.evidence
        assert result.as_expected


def test_an_invariant_claim_about_a_bad_configuration_is_refuted_with_a_replayable_trace(tmp_path):
    from faultlab.trace import read_trace, replay

    claim = Claim("1", "a strict quorum with R=1, W=1 reads its writes", "invariant", variant="stale-read",
                  invariants=("read-after-write",), expect="held")
    result = judge(QR, claim, examples=100, seed=0, traces=tmp_path)
    assert result.verdict == "refuted" and not result.as_expected
    trace = read_trace(result.evidence["trace"])
    assert replay(trace, QR).verdict == "violated"


def test_measured_claims_carry_their_figure():
    claim = Claim("1", "a figure", "measure", measure=lambda seed: Measurement(0.5 + seed, "ratio", "half", [{"n": 1}]))
    result = judge(QR, claim, examples=1, seed=1, traces=None)
    assert result.verdict == "measured" and result.evidence["figure"] == 1.5


def test_claims_are_validated():
    with pytest.raises(ValueError, match="needs a variant and invariants"):
        Claim("1", "x", "invariant")
    with pytest.raises(ValueError, match="expect must be"):
        Claim("1", "x", "measure", measure=lambda s: None, expect="true")
    with pytest.raises(ValueError, match="needs measure="):
        Claim("1", "x", "measure")


def _section(document: str, number: str) -> str:
    """The text of section ``number`` ("## 14. ..." up to the next "## " heading)."""
    import re

    m = re.search(rf"^## {re.escape(number)}\. .*?(?=^## |\Z)", document, re.M | re.S)
    assert m, f"the design document has no section {number}"
    return m.group(0)


def _every_claim():
    from faultlab.registry import all_protocols

    return [pytest.param(p, c, id=f"{p.name}-{i}") for p in all_protocols() for i, c in enumerate(p.claims)]


@pytest.mark.parametrize(("protocol", "claim"), _every_claim())
def test_every_claim_quotes_its_section_of_the_design_document_exactly(design_document, protocol, claim):
    assert claim.text in _section(design_document, claim.section), \
        f"{protocol.name}: {claim.text!r} is not quoted exactly from section {claim.section}"
