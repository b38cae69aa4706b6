"""Invariant and fault coverage (faultlab.coverage): fault shapes read from a run's events, what an exploration
counts per invariant, the flags a verify report raises, and the pytest session's JSON across xdist workers."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from faultlab.coverage import SessionCoverage, fault_shapes, invariant_rows, merge_json
from faultlab.verification import Row


def test_fault_shapes_say_what_a_crashed_node_had_just_done():
    events = [("invoke", 0, {"process": 0, "node": "n1"}), ("role", 0, {"node": "n2", "role": "leader"}),
              ("ok", 1, {"process": 0}), ("crash", 1, {"node": "n1"}), ("crash", 2, {"node": "n2"}),
              ("partition", 3, {"shape": "isolate", "sides": [["n1"], ["n2"]]}),
              ("lose_unsynced", 4, {"node": "n3", "scope": "zone", "nodes": ["n3"]}),
              ("restart", 5, {"node": "n1", "why": "recovery"}), ("drop", 6, {"id": 3})]
    assert fault_shapes(events) == {"crash:after-ack", "crash:leader", "partition:isolate", "lose_unsynced:zone",
                                    "lose_unsynced:other", "drop"}
    assert fault_shapes([("crash", 0, {"node": "n1", "why": "recovery"})]) == set()  # the engine's, not a fault


def _row(verdict, inv, cov_extra=None):
    cov = {"runs": 10, "invariants": {"no-lost-writes": inv}, "runs_with_event": {"crash": 4},
           "runs_enabled": {"crash": 8, "partition": 6, "restart": 9}, "fault_shapes": {"crash:other": 4},
           "partition_shapes_available": ["isolate", "split"], **(cov_extra or {})}
    return Row("p", "good", {}, "no-lost-writes", "explore", "held", verdict, 10, None, 0.1, "", None, cov)


def test_a_held_invariant_that_was_rarely_exercised_or_never_under_a_fault_is_flagged():
    rare = {"judged": 10, "exercised": 0, "undecided": 0, "violated": 0}
    (row,) = invariant_rows([_row("held", rare)])
    assert "rarely exercised (0 of 10 runs)" in row["flags"] and "never injected: partition" in row["flags"]
    calm = {"judged": 10, "exercised": 5, "undecided": 0, "violated": 0}
    (row,) = invariant_rows([_row("held", calm, {"exercised_under": {"no-lost-writes": {"any fault": 0}}})])
    assert "never under a fault" in row["flags"]
    busy = {"judged": 10, "exercised": 9, "undecided": 0, "violated": 0}
    covered = {"exercised_under": {"no-lost-writes": {"any fault": 7, "crash:other": 4, "partition:isolate": 3,
                                                      "partition:split": 1}},
               "runs_with_event": {"crash": 4, "partition": 3},
               "fault_shapes": {"partition:isolate": 3, "partition:split": 1}}
    (row,) = invariant_rows([_row("held", busy, covered)])
    assert row["flags"] == [] and row["share"] == 0.9 and row["exercised_with_a_fault"] == 7
    (row,) = invariant_rows([_row("refuted", rare)])
    assert row["flags"] == []  # a refuted exploration stopped at its first violation


def test_session_coverage_sums_the_same_configuration_from_several_workers():
    a = {"runs": 3, "invariants": {"x": {"judged": 3, "exercised": 1, "undecided": 0, "violated": 0}},
         "runs_enabled": {"crash": 2}, "partition_shapes_available": ["isolate"]}
    b = {"runs": 4, "invariants": {"x": {"judged": 4, "exercised": 4, "undecided": 0, "violated": 0}},
         "runs_enabled": {"crash": 1}, "partition_shapes_available": ["isolate"]}
    assert merge_json(a, b)["invariants"]["x"] == {"judged": 7, "exercised": 5, "undecided": 0, "violated": 0}
    one, other = SessionCoverage(), SessionCoverage()
    one.add("p", "good", a)
    other.add("p", "good", b)
    one.merge(other.to_json())
    (e,) = one.to_json()["explorations"]
    assert e["coverage"]["runs"] == 7 and e["coverage"]["runs_enabled"] == {"crash": 3}
    assert e["flags"] == ["never injected: crash"]


def test_a_pytest_session_on_two_workers_writes_every_exploration(tmp_path):
    (tmp_path / "test_two.py").write_text(textwrap.dedent("""
        import pytest
        from faultlab.registry import get_protocol
        from faultlab.testing import assert_holds, assert_refuted

        QR = get_protocol("quorum-register")

        def test_good():
            assert_holds(QR, variant="strict-quorum", examples=8, seed=0)

        def test_bad():
            assert_refuted(QR, variant="stale-read", examples=75, seed=0, shrink=False)
    """))
    out = tmp_path / "coverage.json"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
                           f"--faultlab-coverage={out}", str(tmp_path / "test_two.py")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "faultlab coverage: 2 configurations explored" in proc.stdout
    doc = json.loads(out.read_text())
    configs = {(e["protocol"], e["configuration"]): e for e in doc["explorations"]}
    assert set(configs) == {("quorum-register", "strict-quorum"), ("quorum-register", "stale-read")}
    good = configs[("quorum-register", "strict-quorum")]
    assert good["coverage"]["runs"] == 8 and good["invariants"]["no-lost-writes"]["exercised"] > 0
    assert good["coverage"]["exercised_under"]["no-lost-writes"]["any fault"] > 0
