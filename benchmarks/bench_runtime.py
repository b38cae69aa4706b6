"""Speed of the runtime: simulated deliveries per second against a bare heapq event loop, and examples per second.

Both loops do the same work in the same process: three nodes pass a token around a ring for D deliveries. The
baseline is the cheapest possible discrete-event loop (a heap of (time, seq, node, message) and a callback per
node); the runtime is faultlab's trio driver (wait until all tasks block, ask the choice source, deliver). The goal
is within 5x of the bare loop; the ratio printed is where it stands. Then: examples per second of a whole
exploration (quorum-register, Hypothesis, every fault kind) and of seeded runs without Hypothesis.

    python benchmarks/bench_runtime.py [--deliveries 30000]
"""

from __future__ import annotations

import argparse
import heapq
import time

import attrs

from faultlab.choices import SeededChoices
from faultlab.explore import explore, explore_seeded
from faultlab.faults import FaultPlan
from faultlab.protocol import Invariant, Protocol
from faultlab.registry import get_protocol
from faultlab.result import CheckResult
from faultlab.runtime import RunSettings, simulate


@attrs.frozen
class Token:
    left: int


@attrs.frozen
class RingConfig:
    deliveries: int = 10000


class RingNode:
    def __init__(self, ctx):
        self.ctx = ctx
        self.next = ctx.nodes[(ctx.nodes.index(ctx.id) + 1) % len(ctx.nodes)]

    async def run(self):
        while True:
            env = await self.ctx.recv()
            msg = env.msg
            if isinstance(msg, Token):
                if msg.left > 0:
                    self.ctx.send(self.next, Token(msg.left - 1))
            else:  # the client's start request
                self.ctx.send(self.next, Token(self.ctx.config.deliveries))
                self.ctx.reply(env, "started")


async def ring_client(api, f, value):
    return await api.call("start")


RING = Protocol(name="ring", summary="token ring benchmark", config_class=RingConfig,
                nodes=lambda cfg: {f"r{i}": RingNode for i in range(3)}, client=ring_client,
                workload=lambda choices, i: ("start", None),
                invariants=(Invariant("none", lambda h, c: CheckResult.holds("none")),), settle_time=0.0,
                client_timeout=1e9)


def bench_runtime(deliveries: int) -> float:
    settings = RunSettings(clients=1, ops_per_client=1, plan=FaultPlan(kinds=(), swarm=False),
                           max_steps=deliveries * 2)
    start = time.perf_counter()
    result = simulate(RING, RingConfig(deliveries), SeededChoices(0), settings)
    elapsed = time.perf_counter() - start
    assert result.count("deliver") >= deliveries, result.stats
    return result.count("deliver") / elapsed


def bench_heapq(deliveries: int) -> float:
    nodes = ["r0", "r1", "r2"]
    queue: list[tuple[float, int, str, Token]] = []
    seq = 0
    delivered = 0

    def send(dst: str, msg: Token, now: float) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(queue, (now, seq, dst, msg))

    def on_message(node: str, msg: Token, now: float) -> None:
        if msg.left > 0:
            send(nodes[(nodes.index(node) + 1) % 3], Token(msg.left - 1), now)

    start = time.perf_counter()
    send("r1", Token(deliveries), 0.0)
    while queue:
        now, _, dst, msg = heapq.heappop(queue)
        delivered += 1
        on_message(dst, msg, now)
    return delivered / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deliveries", type=int, default=30000)
    ap.add_argument("--examples", type=int, default=200)
    args = ap.parse_args()
    base = max(bench_heapq(args.deliveries) for _ in range(3))
    ours = max(bench_runtime(args.deliveries) for _ in range(3))
    print(f"deliveries/s  bare heapq loop: {base:12,.0f}")
    print(f"deliveries/s  faultlab runtime: {ours:11,.0f}   ratio: {base / ours:.1f}x slower (goal: within 5x)")
    qr = get_protocol("quorum-register")
    config = qr.make_config({})
    exp = explore(qr, config, examples=args.examples, seed=0)
    seeded = explore_seeded(qr, config, examples=args.examples, seed=0)
    print(f"examples/s    quorum-register under Hypothesis: {exp.runs_total / exp.seconds:7.1f} "
          f"({exp.runs_total} runs, {exp.coverage.steps / exp.seconds:,.0f} steps/s)")
    print(f"examples/s    quorum-register seeded, no Hypothesis: {seeded.runs_total / seeded.seconds:7.1f} "
          f"(Hypothesis costs {seeded.seconds and (exp.seconds / exp.runs_total) / (seeded.seconds / seeded.runs_total):.2f}x per run)")


if __name__ == "__main__":
    main()
