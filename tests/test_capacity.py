"""faultlab.capacity: a fixed number of workers, a service time, a bounded FIFO queue, rejection beyond it; queueing
delay in simulated time; service-time variation only from the node's coins."""

from __future__ import annotations

import random

import attrs
import pytest

from faultlab import (
    ConfigError,
    Fail,
    FaultPlan,
    Node,
    Ok,
    Protocol,
    RunSettings,
    SeededChoices,
    handler,
    simulate,
)
from faultlab.capacity import Capacity, fine_uniform


@attrs.frozen
class Work:
    n: int


@attrs.frozen
class CapConfig:
    workers: int = 1
    queue: int = 1
    spread: float = 0.0


class Server(Node[CapConfig]):
    def __init__(self, ctx):
        super().__init__(ctx)
        self.capacity = Capacity(self.config.workers, self.config.queue, 1.0, spread=self.config.spread,
                                 coins=ctx.random)

    @handler
    async def on_work(self, msg: Work):
        return await self.capacity.serve(lambda: Ok(msg.n), lambda: Fail("throttled"))


SERVER = Protocol(name="capacity-test", summary="one server of bounded capacity", config_class=CapConfig,
                  nodes=lambda cfg: {"s": Server}, request=lambda f, v: Work(v),
                  workload=lambda choices, i: ("work", i + 1), invariants=(), client_timeout=100.0)
AT_ONCE = RunSettings(clients=3, ops_per_client=1, plan=FaultPlan(kinds=(), swarm=False), think_times=(0.0,))


def _outcomes(cfg: CapConfig, seed: int = 0):
    run = simulate(SERVER, cfg, SeededChoices(seed), AT_ONCE)
    assert run.error is None, run.error
    return sorted((op.status, op.ret - op.call) for op in run.history.operations())


def test_requests_beyond_workers_queue_and_beyond_the_queue_are_throttled_at_once():
    # three requests at t=0, one worker, one place in the queue: served at 1 s, queued then served at 2 s, rejected
    assert _outcomes(CapConfig()) == [("fail", 0.0), ("ok", 1.0), ("ok", 2.0)]


def test_more_workers_serve_in_parallel_and_a_longer_queue_rejects_nothing():
    assert _outcomes(CapConfig(workers=3, queue=0)) == [("ok", 1.0)] * 3
    assert _outcomes(CapConfig(workers=1, queue=2)) == [("ok", 1.0), ("ok", 2.0), ("ok", 3.0)]


def test_service_time_varies_by_the_nodes_coins_within_the_spread_and_replays_by_seed():
    a, b = _outcomes(CapConfig(workers=3, queue=0, spread=0.5), 1), _outcomes(CapConfig(workers=3, queue=0,
                                                                                       spread=0.5), 1)
    assert a == b
    times = [t for _, t in a]
    assert all(1.0 <= t < 1.5 for t in times) and len(set(times)) > 1, times


class _Steered:
    """Coins as the search steers them: one of 16 levels."""

    def __init__(self, level: int):
        self.level = level

    def random(self) -> float:
        return self.level / 16


def test_fine_uniform_composes_steered_coins_into_4096_levels_and_stays_in_range():
    assert fine_uniform(_Steered(0), 2.0, 3.0) == 2.0  # choice 0 everywhere: the low end, where shrinking goes
    top = fine_uniform(_Steered(15), 0.0, 1.0)
    assert top == 4095 / 4096
    rng = random.Random(7)
    draws = [fine_uniform(rng, 0.0, 1.0) for _ in range(2000)]
    assert all(0.0 <= d < 1.0 for d in draws) and 0.45 < sum(draws) / len(draws) < 0.55


def test_bad_capacity_settings_raise_config_errors_naming_them():
    with pytest.raises(ConfigError, match="workers=0"):
        Capacity(0, 1, 1.0)
    with pytest.raises(ConfigError, match="queue=-1"):
        Capacity(1, -1, 1.0)
    with pytest.raises(ConfigError, match="needs coins"):
        Capacity(1, 1, 1.0, spread=0.1)


def test_apply_first_runs_the_work_when_a_worker_takes_the_request_and_answers_after_the_service_time():
    served = []

    class Recorder(Server):
        @handler
        async def on_work(self, msg: Work):
            import trio

            def work():
                served.append(trio.current_time())
                return Ok(msg.n)
            return await self.capacity.serve(work, lambda: Fail("throttled"), apply_first=True)

    proto = attrs.evolve(SERVER, nodes=lambda cfg: {"s": Recorder})
    run = simulate(proto, CapConfig(workers=1, queue=2), SeededChoices(0), AT_ONCE)
    assert served == [0.0, 1.0, 2.0]  # applied as each worker slot is taken
    assert sorted(op.ret for op in run.history.operations()) == [1.0, 2.0, 3.0]  # answered a service time later
