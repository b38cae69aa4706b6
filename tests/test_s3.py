"""s3: the strong configuration holds under every fault kind with cache hits, zone loss and retried parts; each
known-bad variant is found; the two-facility claim is proved (and refuted for two-zone acks) by z3 and judged in runs
that destroy two whole zones; the object-store checkers catch what they are for."""

from __future__ import annotations

import pytest

from faultlab import ConfigError
from faultlab.choices import SeededChoices
from faultlab.faults import FaultPlan
from faultlab.history import History
from faultlab.runtime import RunSettings, simulate
from faultlab.testing import assert_holds, assert_refuted
from invariants.object_store import (
    check_list_after_write,
    check_multipart_atomic,
    check_no_lost_objects,
    check_object_read_after_write,
)
from protocols.s3 import SPEC, prove_two_facility_loss, zones_holding_at_ack

EXAMPLES = 60  # runs for a good configuration: about 2 s
# Runs allowed to find a known bug from seed 0; `faultlab check --no-shrink` over seeds 0-9 (measured) found
# pre-2020-cache after 9-185 runs, lagging-index-read after 3-103 and non-atomic-complete after 3-26.
FIND_BUDGET = 250


def test_strong_configuration_holds_with_cache_hits_zone_loss_and_retried_parts():
    exp = assert_holds(SPEC, variant="strong", examples=EXAMPLES)
    cov = exp.coverage
    for kind in ("drop", "delay", "partition", "crash", "skew", "lose_unsynced", "destroy"):
        assert cov.runs_with_event[kind] > 0, f"no run injected {kind}"
    for f in ("put", "delete", "get", "list", "mpu"):
        assert cov.ops[f"{f}:ok"] > 0, f"no {f} acknowledged"
    # reads really came from the cache, and parts really failed and were retried to completion
    assert cov.runs_with_note["cache_hit"] >= cov.runs // 4, cov.runs_with_note
    assert cov.runs_with_note["part_retry_stored"] > 0, cov.runs_with_note


@pytest.mark.parametrize("variant", [v.name for v in SPEC.variants if v.expect_violation and v.name != "ack-two-zones"])
def test_known_bad_variant_is_found(variant):
    exp = assert_refuted(SPEC, variant=variant, examples=FIND_BUDGET, seed=0, shrink=False)
    assert SPEC.variant(variant).expect_violation in {c.invariant for c in exp.failure.violations}


def test_two_destroyed_zones_lose_an_object_acknowledged_in_two():
    # `faultlab check --no-shrink` from seeds 0-9 found it after 400, 66, 52, 38, 90, 7, 27, 37, 110 and 129 runs of
    # its 900 (measured); seed 5 finds it after 7, so this test stays fast.
    exp = assert_refuted(SPEC, variant="ack-two-zones", examples=75, seed=5, shrink=False)
    destroyed = exp.failure.log.of("destroy")
    assert [e["scope"] for e in destroyed] == ["zone", "zone"], destroyed
    assert "no-lost-objects" in exp.failure.violated_invariants


def test_the_strong_configuration_survives_two_destroyed_zones():
    """Seeded runs that destroy zones often (no swarm): two whole zones go, and every acknowledged object is still
    read whole from the third."""
    plan = FaultPlan(kinds=("destroy", "crash"), swarm=False, max_destroyed_zones=2, max_destroyed_nodes=0)
    cfg = SPEC.make_config({})
    two = 0
    for seed in range(20):
        run = simulate(SPEC, cfg, SeededChoices(seed), RunSettings(plan=plan))
        assert run.error is None and not run.violations, (seed, [str(c) for c in run.violations])
        zones = [e["zone"] for e in run.log.of("destroy")]
        assert len(zones) == len(set(zones)) <= 2
        two += len(zones) == 2 and run.ok_ops("put") > 0
    assert two >= 5, two


def test_pre_2020_cache_is_stale_but_eventually_consistent():
    """Side by side: the incoherent cache serves stale objects while faults and writes go on, yet every GET after
    settling (longer than the cache's lifetime) is up to date; the coherent one is never stale."""
    cfg_old, cfg_new = (SPEC.make_config(SPEC.variant(v).settings) for v in ("pre-2020-cache", "strong"))
    stale = {"pre-2020-cache": 0, "strong": 0}
    for seed in range(30):
        for name, cfg in (("pre-2020-cache", cfg_old), ("strong", cfg_new)):
            run = simulate(SPEC, cfg, SeededChoices(seed), RunSettings())
            assert run.error is None, run.error
            judged = {c.invariant: c for c in run.checks}
            assert not judged["eventually-consistent"].violated, (name, seed, str(judged["eventually-consistent"]))
            stale[name] += any(judged[i].violated for i in ("read-after-overwrite", "read-after-delete",
                                                             "read-after-put", "list-after-write"))
    assert stale["strong"] == 0 and stale["pre-2020-cache"] > 0, stale


def test_fault_free_runs_hold_except_with_the_incoherent_cache():
    """Index lag and a partial multipart object need a fault (a lost or held message, a crash between index
    writes) in this zero-latency network; a stale cache needs none, only another front-end's write."""
    no_faults = RunSettings(plan=FaultPlan(kinds=(), swarm=False))
    for seed in range(15):
        for v in SPEC.variants:
            run = simulate(SPEC, SPEC.make_config(v.settings), SeededChoices(seed), no_faults)
            assert run.error is None, run.error
            if v.name != "pre-2020-cache":
                assert not run.violations, (v.name, seed, [str(c) for c in run.violations])


def test_two_facility_loss_is_proved_for_three_zone_acks_and_refuted_for_two():
    assert [p.verdict for p in prove_two_facility_loss(SPEC.make_config({}))] == ["proved"] * 4
    two = prove_two_facility_loss(SPEC.make_config({"data_ack_zones": 2}))
    assert two[0].verdict == "refuted" and len(two[0].counterexample["zones_lost"]) == 2
    lagging = prove_two_facility_loss(SPEC.make_config({"index_w": 2}))
    assert lagging[1].verdict == "refuted"  # an index entry on 2 of 3 replicas dies with their two zones
    more_nodes = prove_two_facility_loss(SPEC.make_config({"data_nodes_per_zone": 3}))
    assert more_nodes[0].verdict == "proved"


def test_acknowledged_puts_are_stored_in_every_zone_at_acknowledgement():
    for ack_zones, seeds in ((3, range(10)), (2, range(10))):
        counts = []
        for seed in seeds:
            counts += zones_holding_at_ack(simulate(SPEC, SPEC.make_config({"data_ack_zones": ack_zones}),
                                                    SeededChoices(seed), RunSettings()))
        assert counts and min(counts) >= ack_zones, (ack_zones, counts)
        if ack_zones == 3:
            assert set(counts) == {3}
        else:
            assert 2 in counts  # some objects were acknowledged with only two zones holding them


@pytest.mark.parametrize("setting", ["index_w=0", "data_ack_zones=4", "cache_ttl=0", "front_ends=9"])
def test_bad_settings_are_rejected_naming_the_setting(setting):
    key, _, value = setting.partition("=")
    with pytest.raises(ConfigError, match=key):
        SPEC.make_config({key: value})


# -- the checkers, on hand-written histories (negative controls) -----------------------------------------------
def _history(*ops):
    """``(process, f, value, status, output)`` operations, each completing before the next is invoked."""
    h = History()
    for t, (process, f, value, status, output) in enumerate(ops):
        h.invoke(process, f, value, float(t), phase="main")
        h.complete(process, status, output, float(t) + 0.5)
    return h


def test_checkers_catch_stale_get_after_put_overwrite_and_delete():
    overwrite = _history((0, "put", ["k", 1], "ok", None), (0, "put", ["k", 2], "ok", None),
                         (1, "get", ["k", None], "ok", ["k", 1, ["1.1"]]))
    assert check_object_read_after_write(overwrite, ("overwrite",)).violated
    assert not check_object_read_after_write(overwrite, ("delete",)).violated
    delete = _history((0, "put", ["k", 1], "ok", None), (0, "delete", ["k", None], "ok", None),
                      (1, "get", ["k", None], "ok", ["k", 1, ["1.1"]]))
    assert check_object_read_after_write(delete, ("delete",)).violated
    create = _history((1, "get", ["k", None], "ok", ["k", None, None]), (0, "put", ["k", 1], "ok", None),
                      (1, "get", ["k", None], "ok", ["k", None, None]))
    assert check_object_read_after_write(create, ("put",)).violated
    fresh = _history((0, "put", ["k", 1], "ok", None), (0, "delete", ["k", None], "ok", None),
                     (1, "get", ["k", None], "ok", ["k", None, None]), (0, "put", ["k", 3], "ok", None),
                     (1, "get", ["k", None], "ok", ["k", 3, ["3.1"]]))
    assert check_object_read_after_write(fresh).ok and check_object_read_after_write(fresh).exercised
    aborted = _history((0, "mpu", ["k", 1, 2, True], "fail", None), (1, "get", ["k", None], "ok", ["k", 1, None]))
    assert check_object_read_after_write(aborted).violated


def test_checkers_catch_stale_list_partial_object_and_lost_object():
    stale_list = _history((0, "put", ["a/1", 1], "ok", None), (1, "list", "a/", "ok", []))
    assert check_list_after_write(stale_list).violated
    assert check_list_after_write(_history((0, "put", ["a/1", 1], "ok", None), (1, "list", "a/", "ok", ["a/1"]))).ok
    partial = _history((0, "mpu", ["k", 1, 2, False], "info", None), (1, "get", ["k", None], "ok", ["k", 1, ["1.1"]]))
    assert check_multipart_atomic(partial).violated
    whole = _history((0, "mpu", ["k", 1, 2, False], "ok", None),
                     (1, "get", ["k", None], "ok", ["k", 1, ["1.1", "1.2"]]))
    assert check_multipart_atomic(whole).ok and check_multipart_atomic(whole).exercised
    h = History()
    h.invoke(0, "put", ["k", 1], 0.0)
    h.complete(0, "ok", None, 0.5)
    h.invoke(9, "get", ["k", None], 1.0, phase="final")
    h.complete(9, "fail", None, 1.5)
    assert check_no_lost_objects(h).violated
