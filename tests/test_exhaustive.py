"""Exhaustive search: every schedule up to a depth, revisited states pruned, and the pruning loses nothing.

Small workloads (one client, one or two operations) keep these under a few seconds; the figures for every protocol
are in ``benchmarks/exhaustive.py``.
"""

from __future__ import annotations

import json

import attrs
import pytest

from faultlab.cli import main
from faultlab.exhaustive import ExhaustiveChoices, exhaust
from faultlab.registry import get_protocol
from faultlab.runtime import RunSettings, simulate
from faultlab.trace import read_trace

QR = get_protocol("quorum-register")


def _search(variant: str, *, depth: int, ops: int = 1, prune: bool = True, on_run=None, shrink: bool = False):
    v = QR.variant(variant)
    settings = RunSettings(clients=1, ops_per_client=ops, max_steps=100).for_variant(v)
    return exhaust(QR, QR.make_config(v.settings), settings=settings, depth=depth, invariants=v.promised(QR),
                   prune=prune, on_run=on_run, shrink=shrink)


def _history(result) -> str:
    return repr([(e.process, e.type, e.f, e.value, e.time) for e in result.history])


def test_the_search_enumerates_each_schedule_once_within_the_depth():
    """Without pruning, every run is a distinct choice sequence, and each differs from the simplest run in at most
    ``depth`` decisions; depth 0 is the simplest run alone."""
    assert _search("strict-quorum", depth=0, prune=False).runs == 1
    seen = []
    ex = _search("strict-quorum", depth=1, prune=False, on_run=lambda r: seen.append(tuple(r.choices)))
    assert ex.complete and ex.runs == len(seen) == len(set(seen)) > 100
    simplest = seen[0]
    assert not any(simplest)  # choice 0 everywhere
    for choices in seen[::7]:  # replaying every one is slow; a spread sample
        spans = {(s, e) for label, s, e in _spans(choices)}
        lone = [i for i, v in enumerate(choices) if v and not any(s <= i < e for s, e in spans)]
        deviating = [(s, e) for s, e in spans if any(choices[s:e])]
        assert len(lone) + len(deviating) <= 1, choices


def _spans(choices):
    """The decision spans of the run with these choices (replayed)."""
    from faultlab.choices import ReplayChoices

    v = QR.variant("strict-quorum")
    settings = attrs.evolve(RunSettings(clients=1, ops_per_client=1, max_steps=100).for_variant(v), coin_seed=0)
    settings = attrs.evolve(settings, plan=attrs.evolve(settings.plan, swarm=False))
    return simulate(QR, QR.make_config(v.settings), ReplayChoices(list(choices)), settings,
                    v.promised(QR)).spans


def test_pruning_revisited_states_reaches_every_history_the_full_search_does():
    """The soundness of the state digest, checked: with pruning the search runs a fraction of the schedules, yet
    every history the full search records is recorded too (a state digest that missed something a future depends on
    would prune a subtree holding a history found nowhere else)."""
    full, pruned = set(), set()
    a = _search("strict-quorum", depth=1, ops=2, prune=False, on_run=lambda r: full.add(_history(r)))
    b = _search("strict-quorum", depth=1, ops=2, on_run=lambda r: pruned.add(_history(r)))
    assert a.complete and b.complete and a.verdict == b.verdict == "held"
    assert full == pruned and len(full) > 10
    assert b.runs + b.pruned == a.runs  # every schedule either ran or was cut at a state seen before
    assert b.runs < a.runs / 2 and b.states > 0
    # and the verdict says what backs it
    assert f"held for every schedule up to depth 1: {b.runs} schedules run, {b.pruned} pruned" in b.summary()


def test_a_known_bad_variant_is_refuted_at_depth_one_with_a_replayable_trace(tmp_path, capsys):
    code = main(["check", "quorum-register", "--variant", "stale-read", "--exhaustive", "--depth", "1",
                 "--clients", "1", "--ops", "2", "--max-steps", "100", "--json", "--out", str(tmp_path)])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["verdict"] == "refuted" and doc["failure_depth"] == 1 and doc["complete"] is False
    assert doc["search"] == "exhaustive" and doc["schedules"] + doc["pruned"] == doc["found_after"]
    trace = read_trace(doc["trace"]).doc
    assert trace["source"]["engine"] == "exhaustive" and trace["settings"]["coin_seed"] == 0
    assert main(["replay", doc["trace"]]) == 1  # the violation reproduces
    capsys.readouterr()
    # the same search again finds the same schedule: depth-first order, nothing random
    assert main(["check", "quorum-register", "--variant", "stale-read", "--exhaustive", "--depth", "1",
                 "--clients", "1", "--ops", "2", "--max-steps", "100", "--json", "--out", str(tmp_path)]) == 1
    again = json.loads(capsys.readouterr().out)
    assert again["found_after"] == doc["found_after"] and again["trace"] == doc["trace"]


def test_a_search_cut_short_claims_nothing_beyond_its_runs():
    v = QR.variant("strict-quorum")
    settings = RunSettings(clients=1, ops_per_client=2, max_steps=100).for_variant(v)
    ex = exhaust(QR, QR.make_config(v.settings), settings=settings, depth=2, max_runs=50)
    assert ex.verdict == "incomplete" and ex.runs + ex.pruned == 50 and "nothing is shown beyond" in ex.summary()


def test_the_depth_is_counted_in_decisions_not_choices():
    """A fault is one decision (its coin, kind and target): its kind and target cost no further depth."""
    src = ExhaustiveChoices([], depth=1, seen={})
    with src.span("fault"):
        assert src.flip(0.1) is False
    assert src.children() == [[1]]
    src = ExhaustiveChoices([1], depth=1, seen={})
    with src.span("fault"):
        assert src.flip(0.1) is True
        assert src.choose(3) == 0
    assert src.children() == [[1, 1], [1, 2]]  # the kind varies within the same decision
    with src.span("fault"):
        src.flip(0.1)
    assert src.children()[-1:] == [[1, 2]]  # a second fault would be depth 2: not a child


def test_exhaustive_runs_in_one_process_and_says_so(capsys):
    assert main(["check", "quorum-register", "--exhaustive", "--workers", "2"]) == 3
    err = capsys.readouterr().err
    assert "--exhaustive runs in one process" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv", [["--depth", "9"], ["--max-runs", "0"]])
def test_bad_exhaustive_options_exit_3(argv, capsys):
    assert main(["check", "quorum-register", "--exhaustive", *argv]) == 3
