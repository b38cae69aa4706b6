"""A protocol written from API.md alone: chain replication over a head and a tail, with a known-bad variant, run
through the same helpers a user's own tests would use. Also the contracts of the node API the example relies on:
typed client outcomes, an unhandled message, a variant's crash limit."""

from __future__ import annotations

import attrs
import pytest

from faultlab import (
    Fail,
    FaultPlan,
    Invariant,
    Node,
    Ok,
    Protocol,
    RunSettings,
    SeededChoices,
    Unknown,
    Variant,
    Witness,
    handler,
    simulate,
)
from faultlab.testing import assert_holds, assert_refuted
from invariants.durability import check_no_lost_writes
from invariants.session import check_read_after_write


# -- messages -------------------------------------------------------------------------------------------------------
@attrs.frozen
class Write:
    value: int


@attrs.frozen
class Read:
    pass


@attrs.frozen
class Forward:
    version: int
    value: int


@attrs.frozen
class Stored:
    version: int


# -- configuration --------------------------------------------------------------------------------------------------
@attrs.frozen
class ChainConfig:
    ack_early: bool = attrs.field(default=False, metadata={"help": "the head acknowledges before the tail stored"})


# -- nodes ----------------------------------------------------------------------------------------------------------
class Head(Node[ChainConfig]):
    """Orders writes (a durable version counter) and forwards each to the tail; acknowledges once the tail has it."""

    @handler
    async def on_write(self, msg: Write) -> Ok | Unknown:
        version = self.storage.get("version", 0) + 1
        self.storage["version"] = version
        self.storage.sync()
        if self.config.ack_early:
            self.ctx.send("tail", Forward(version, msg.value))
            return Ok(msg.value)
        stored = await self.ctx.call("tail", Forward(version, msg.value), timeout=1.0)
        return Ok(msg.value) if stored is not None else Unknown("the tail did not confirm")


class Tail(Node[ChainConfig]):
    """Stores forwarded writes in version order and serves reads."""

    @handler
    def on_forward(self, msg: Forward) -> Stored:
        if msg.version > self.storage.get("version", 0):
            self.storage["version"] = msg.version
            self.storage["value"] = msg.value
            self.storage.sync()
        return Stored(msg.version)

    @handler
    def on_read(self, msg: Read) -> Ok:
        return Ok(self.storage.get("value"))


# -- spec -----------------------------------------------------------------------------------------------------------
CHAIN = Protocol(
    name="chain", summary="chain replication: writes at the head, reads at the tail", config_class=ChainConfig,
    nodes=lambda cfg: {"head": Head, "tail": Tail},
    request=lambda f, value: Write(value) if f == "write" else Read(),
    route=lambda f, value: "head" if f == "write" else "tail",
    workload=lambda choices, i: ("write", i + 1) if choices.choose(2) == 0 else ("read", None),
    final_ops=lambda cfg: [("read", None, "tail")],
    invariants=(Invariant("read-after-write", check_read_after_write, "reads see acknowledged writes"),
                Invariant("no-lost-writes", check_no_lost_writes, "acknowledged writes survive")),
    witnesses=(Witness.acknowledged("write"), Witness.acknowledged("read", "read returned")),
    variants=(Variant("chain", {}, "the head acknowledges once the tail stored"),
              Variant("chain-one-crash", {}, "the same, at most one crash per run", max_crashes=1),
              Variant("ack-early", {"ack_early": True}, "the head acknowledges before the tail stored",
                      expect_violation="read-after-write")),
    settle_time=3.0)


def test_the_chain_holds_under_every_fault():
    exp = assert_holds(CHAIN, variant="chain")
    assert exp.verdict == "held" and exp.coverage.runs_with_event["crash"] > 0


def test_acknowledging_before_the_tail_stored_is_refuted_and_shrunk():
    exp = assert_refuted(CHAIN, variant="ack-early")
    ops = exp.failure.history.operations()
    assert len(ops) <= 4, [op.describe() for op in ops]  # a write, the stale read (and the final read)


def test_a_variant_can_limit_the_fault_plan_to_one_crash():
    def crashes(variant: str) -> list[int]:
        settings = RunSettings().for_variant(CHAIN.variant(variant))
        return [len(simulate(CHAIN, ChainConfig(), SeededChoices(s), settings).log.of("crash", "lose_unsynced"))
                for s in range(60)]

    assert max(crashes("chain-one-crash")) == 1
    assert max(crashes("chain")) > 1  # without the limit some run crashes more than once


# -- contracts of the node API --------------------------------------------------------------------------------------
QUIET = RunSettings(plan=FaultPlan(kinds=(), swarm=False))


@attrs.frozen
class Stray:
    pass


class Chatty(Node[ChainConfig]):
    @handler
    def on_write(self, msg: Write) -> Ok:
        self.ctx.send("tail", Stray())  # the tail has no handler for this
        return Ok(msg.value)


def test_an_unhandled_message_is_a_replayable_error_not_silence(tmp_path):
    from faultlab.report.run import save_run
    from faultlab.trace import read_trace, replay

    spec = attrs.evolve(CHAIN, nodes=lambda cfg: {"head": Chatty, "tail": Tail})
    run = simulate(spec, ChainConfig(), SeededChoices(0), QUIET)
    assert run.verdict == "violated" and "UnhandledMessage" in run.error and "Stray" in run.error
    assert "has no handler for Stray from head" in run.error
    path = save_run(run, tmp_path / "stray.json")
    again = replay(read_trace(path), spec)
    assert again.error == run.error
    ignoring = attrs.evolve(spec, nodes=lambda cfg: {"head": Chatty, "tail": type("T", (Tail,), {"ignores": (Stray,)})})
    assert simulate(ignoring, ChainConfig(), SeededChoices(0), QUIET).error is None


class Outcomes(Node[ChainConfig]):
    @handler
    def on_write(self, msg: Write):
        return {1: Ok(msg.value), 2: Fail("refused"), 3: Unknown("maybe")}.get(msg.value % 4, "not an outcome")

    @handler
    def on_read(self, msg: Read) -> Ok:
        return Ok(None)


def test_typed_outcomes_become_ok_fail_and_info_and_anything_else_is_an_error():
    spec = attrs.evolve(CHAIN, nodes=lambda cfg: {"head": Outcomes, "tail": Outcomes},
                        workload=lambda choices, i: ("write", i + 1))
    settings = attrs.evolve(QUIET, clients=1, ops_per_client=3)
    run = simulate(spec, ChainConfig(), SeededChoices(0), settings)
    statuses = [(op.input, op.status, op.output) for op in run.history.operations() if op.phase == "main"]
    assert statuses[:3] == [(1, "ok", 1), (2, "fail", None), (3, "info", None)], statuses
    bad = simulate(spec, ChainConfig(), SeededChoices(0), attrs.evolve(settings, ops_per_client=4))
    assert "BadOutcome" in bad.error and "not an outcome" in bad.error


def test_a_protocol_gives_request_or_client_not_both():
    from faultlab import ConfigError

    with pytest.raises(ConfigError, match="give request= .* or client="):
        attrs.evolve(CHAIN, client=lambda api, f, v: None)


def test_every_exported_name_is_what_it_says_whatever_was_imported_first():
    """A package attribute named like a submodule is replaced by the submodule once that is imported, so
    ``from faultlab import explore`` gave the function or the module depending on import order; no export may share
    a name with a submodule of faultlab."""
    import pkgutil

    import faultlab

    submodules = {m.name for m in pkgutil.iter_modules(faultlab.__path__)}
    assert not submodules & set(faultlab.__all__), submodules & set(faultlab.__all__)
