"""The protocol's coins (ctx.random): steered by the search while faults happen, so safety is explored with every
coin, ties included; fair from recovery on, so liveness is judged with independent draws (DESIGN.md)."""

from __future__ import annotations

import attrs

from faultlab.choices import SeededChoices
from faultlab.explore import explore
from faultlab.faults import FaultPlan
from faultlab.outcomes import Ok
from faultlab.protocol import Invariant, Protocol
from faultlab.result import CheckResult
from faultlab.runtime import RunSettings, simulate


@attrs.frozen
class Draw:
    pass


@attrs.frozen
class CoinsConfig:
    nodes: int = 3


class Drawer:
    """Answers each request with a fresh draw of its coins (say, an election timeout)."""

    def __init__(self, ctx):
        self.ctx = ctx

    async def run(self):
        while True:
            env = await self.ctx.recv()
            self.ctx.reply(env, self.ctx.random.uniform(1.0, 2.0))


async def draw_client(api, f, value):
    return Ok(await api.call(Draw()))


def _distinct(phase: str):
    def check(history, config):
        draws = [op.output for op in history.operations() if op.is_ok and op.phase == phase]
        name = f"distinct-{phase}-draws"
        if len(draws) < 2:
            return CheckResult.unexercised(name, "fewer than two draws")
        if len(set(draws)) < len(draws):
            return CheckResult.violation(name, f"two draws were equal: {draws}: a contradiction!")
        return CheckResult.holds(name, f"{len(draws)} distinct draws")
    return check


COINS = Protocol(
    name="coins", summary="nodes answering with a draw of their coins", config_class=CoinsConfig,
    nodes=lambda cfg: {f"n{i}": Drawer for i in range(cfg.nodes)}, client=draw_client,
    workload=lambda choices, i: ("draw", None),
    final_ops=lambda cfg: [("draw", None, f"n{i}") for i in range(cfg.nodes)],
    invariants=(Invariant("distinct-main-draws", _distinct("main")),
                Invariant("distinct-final-draws", _distinct("final"))),
    settle_time=1.0)
QUIET = RunSettings(plan=FaultPlan(kinds=(), swarm=False))


def test_while_faults_happen_the_search_steers_the_coins_and_finds_ties():
    exp = explore(COINS, CoinsConfig(), examples=50, seed=0, settings=QUIET, invariants=("distinct-main-draws",))
    assert exp.verdict == "refuted"
    assert exp.failure.history.operations()[0].output == 1.0  # shrunk to the boring coin: the lower bound


def test_from_recovery_on_the_coins_are_fair_so_no_search_makes_them_tie():
    exp = explore(COINS, CoinsConfig(), examples=200, seed=0, settings=QUIET, invariants=("distinct-final-draws",))
    assert exp.verdict == "held" and exp.coverage.exercised["distinct-final-draws"] == 200


def test_fair_coins_are_recorded_so_the_same_choices_give_the_same_draws():
    from faultlab.choices import ReplayChoices

    first = simulate(COINS, CoinsConfig(), SeededChoices(7), QUIET)
    again = simulate(COINS, CoinsConfig(), ReplayChoices(first.choices), QUIET)
    finals = [op.output for op in first.history.operations() if op.phase == "final"]
    assert first.stats["coin_seed"] is not None and len(set(finals)) == 3
    assert [op.output for op in again.history.operations()] == [op.output for op in first.history.operations()]
