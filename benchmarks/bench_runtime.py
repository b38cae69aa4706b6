"""Speed of the runtime: simulated deliveries per second against a bare heapq event loop, and examples per second.

Both loops do the same work in the same process: three nodes pass a token around a ring for D deliveries. The
baseline is the cheapest possible discrete-event loop (a heap of (time, seq, node, message) and a callback per
node); the runtime is faultlab's trio driver (ask the choice source, deliver, wait for quiescence only when a task
was woken). The ring is run twice: written with Node handlers (as every protocol is; the driver calls them, no
task switch) and with a run() loop per node (a task switch per delivery), next to the floor of a task switch (one
trio scheduler pass). The goal is within 5x of the bare loop. Then: examples per second of a whole exploration
(quorum-register, Hypothesis, every fault kind) and of seeded runs without Hypothesis.

    python benchmarks/bench_runtime.py [--deliveries 30000] [--examples 200] [--against REV [--repeat 3]]

``--against REV`` measures the examples/s of the engine at git revision REV in the same run (a worktree in a
subprocess) and prints the ratio.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import attrs
import trio
import trio.testing

from faultlab import Node, Ok, handler
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


@attrs.frozen
class Start:
    """The client's request that starts the token."""


class RingNode(Node):
    """The ring written as protocols are: a handler per message type (each runs atomically, called by the driver)."""

    @handler
    def on_start(self, msg: Start) -> str:
        self.ctx.send(self._next(), Token(self.config.deliveries))
        return "started"

    @handler
    def on_token(self, msg: Token) -> None:
        if msg.left > 0:
            self.ctx.send(self._next(), Token(msg.left - 1))

    def _next(self) -> str:
        nodes = self.ctx.nodes
        return nodes[(nodes.index(self.id) + 1) % len(nodes)]


class LoopRingNode:
    """The same ring as a node with its own ``run()`` loop: every delivery wakes its task (a trio scheduler pass)."""

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
    return Ok(await api.call(Start()))


def _ring(node_class: type) -> Protocol:
    return Protocol(name="ring", summary="token ring benchmark", config_class=RingConfig,
                    nodes=lambda cfg: {f"r{i}": node_class for i in range(3)}, client=ring_client,
                    workload=lambda choices, i: ("start", None),
                    invariants=(Invariant("none", lambda h, c: CheckResult.holds("none")),), settle_time=0.0,
                    client_timeout=1e9)


RING, LOOP_RING = _ring(RingNode), _ring(LoopRingNode)


def bench_runtime(deliveries: int, protocol: Protocol = RING) -> float:
    settings = RunSettings(clients=1, ops_per_client=1, plan=FaultPlan(kinds=(), swarm=False),
                           max_steps=deliveries * 2)
    start = time.perf_counter()
    result = simulate(protocol, RingConfig(deliveries), SeededChoices(0), settings)
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


def bench_trio_pass(n: int) -> float:
    """The floor of a step that needs trio: scheduler passes per second (an idle wait, as the driver does)."""
    async def passes() -> None:
        for _ in range(n):
            await trio.testing.wait_all_tasks_blocked()

    start = time.perf_counter()
    trio.run(passes, clock=trio.testing.MockClock())
    return n / (time.perf_counter() - start)


class _Passes(trio.abc.Instrument):
    """Counts trio's scheduler passes (each pass polls for I/O once) and the task steps run in them."""

    def __init__(self) -> None:
        self.passes = 0
        self.steps = 0

    def before_io_wait(self, timeout) -> None:
        self.passes += 1

    def before_task_step(self, task) -> None:
        self.steps += 1


def bench_empty_run(n: int) -> float:
    """Seconds per ``trio.run`` of a function that returns at once (every simulated run pays it)."""
    async def nothing() -> None:
        pass

    start = time.perf_counter()
    for _ in range(n):
        trio.run(nothing, clock=trio.testing.MockClock())
    return (time.perf_counter() - start) / n


def bench_draw(examples: int = 200, draws: int = 200) -> float:
    """Seconds per Hypothesis choice drawn as the engine draws them (``draw_boolean`` on the test case's data):
    a test drawing ``draws`` coins against one drawing none, same examples."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    from faultlab._compat import conjecture_data

    def run(k: int) -> float:
        @settings(max_examples=examples, database=None, deadline=None, derandomize=True, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(st.data())
        def test(data):
            draw = conjecture_data(data).draw_boolean
            for _ in range(k):
                draw(0.05)

        start = time.perf_counter()
        test()
        return time.perf_counter() - start

    return max(0.0, min(run(draws) for _ in range(3)) - min(run(0) for _ in range(3))) / (examples * draws)


def run_floor(examples: int) -> dict[str, float]:
    """What a quorum-register run costs before any engine or protocol code: one ``trio.run``, its scheduler passes
    at the cost of a bare pass (one task step each; the extra task steps some passes run are not counted, so this
    is a lower bound), its choices at the cost of a Hypothesis draw. Passes and choices are counted on seeded runs
    of the same configuration the examples/s figure explores (an instrument counts the passes)."""
    qr = get_protocol("quorum-register")
    config = qr.make_config({})
    counter = _Passes()
    original = trio.run

    def counted(*a, **kw):
        return original(*a, instruments=[counter], **kw)

    runs, choices = min(examples, 100), 0
    trio.run = counted
    try:
        for seed in range(runs):
            choices += len(simulate(qr, config, SeededChoices(seed), RunSettings()).choices)
    finally:
        trio.run = original
    step = 1.0 / max(bench_trio_pass(30000) for _ in range(3))
    empty = min(bench_empty_run(300) for _ in range(3))
    draw = bench_draw()
    per_run = {"passes": counter.passes / runs, "task_steps": counter.steps / runs, "choices": choices / runs}
    seeded = empty + per_run["passes"] * step
    return {**per_run, "empty_run_ms": empty * 1e3, "step_us": step * 1e6, "draw_us": draw * 1e6,
            "seeded_floor": 1.0 / seeded, "hypothesis_floor": 1.0 / (seeded + per_run["choices"] * draw)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deliveries", type=int, default=30000)
    ap.add_argument("--examples", type=int, default=200)
    ap.add_argument("--against", metavar="REV", help="also measure examples/s with the engine of this git revision")
    ap.add_argument("--repeat", type=int, default=3, help="with --against: turns each engine takes (best counts)")
    args = ap.parse_args()
    base = max(bench_heapq(args.deliveries) for _ in range(3))
    ours = max(bench_runtime(args.deliveries) for _ in range(3))
    loop = max(bench_runtime(args.deliveries, LOOP_RING) for _ in range(3))
    floor = max(bench_trio_pass(args.deliveries) for _ in range(3))
    print(f"deliveries/s  bare heapq loop:                       {base:11,.0f}")
    print(f"deliveries/s  faultlab, Node handlers:               {ours:11,.0f}   {base / ours:5.1f}x slower "
          f"(goal: within 5x)")
    print(f"deliveries/s  faultlab, a run() loop per node:       {loop:11,.0f}   {base / loop:5.1f}x slower "
          f"(a task switch per delivery)")
    print(f"trio scheduler passes/s (the floor of a task switch): {floor:11,.0f}   {base / floor:5.1f}x slower")
    # Best of --repeat, the two engines taking turns: on a shared machine one figure alone swings by 20% or more.
    now, before = examples_per_second(args.examples), None
    for _ in range(args.repeat if args.against else 1):
        if args.against:
            b = _at_revision(args.against, args.examples)
            before = b if before is None else {k: max(before[k], b[k]) for k in b}
            n = examples_per_second(args.examples)
            now = {k: max(now[k], n[k]) for k in n}
    for what, label in (("hypothesis", "under Hypothesis"), ("seeded", "seeded, no Hypothesis")):
        line = f"examples/s    quorum-register {label + ':':24} {now[what]:7.1f}"
        if before is not None:
            line += f"   at {args.against}: {before[what]:7.1f}   ratio: {now[what] / before[what]:.2f}x"
        print(line)
    f = run_floor(args.examples)
    print(f"floor of a quorum-register run: {f['passes']:.0f} trio passes ({f['task_steps']:.0f} task steps) x "
          f"{f['step_us']:.1f} us, "
          f"{f['choices']:.0f} choices x {f['draw_us']:.1f} us (Hypothesis), one trio.run {f['empty_run_ms']:.2f} ms")
    print(f"examples/s    at the floor (no engine, no protocol): {f['hypothesis_floor']:7.1f} under Hypothesis, "
          f"{f['seeded_floor']:.1f} seeded; measured {now['hypothesis'] / f['hypothesis_floor']:.0%} and "
          f"{now['seeded'] / f['seeded_floor']:.0%} of it")


def examples_per_second(examples: int) -> dict[str, float]:
    """Whole explorations of quorum-register (every fault kind), with Hypothesis and with seeded choices."""
    qr = get_protocol("quorum-register")
    config = qr.make_config({})
    exp = explore(qr, config, examples=examples, seed=0)
    seeded = explore_seeded(qr, config, examples=examples, seed=0)
    return {"hypothesis": exp.runs_total / exp.seconds, "seeded": seeded.runs_total / seeded.seconds}


def _at_revision(rev: str, examples: int) -> dict[str, float]:
    """The same measurement with the engine of git revision ``rev`` (a temporary worktree, in a subprocess of this
    run, so both figures come from the same machine at the same time)."""
    repo = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(repo), "worktree", "add", "--detach", "--quiet", str(tree), rev], check=True)
        try:
            code = f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import bench_runtime as b; " \
                   f"print(json.dumps(b.examples_per_second({examples})))"
            out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                                 env={**os.environ, "PYTHONPATH": str(tree)}, cwd=tmp)
            return json.loads(out.stdout.strip().splitlines()[-1])
        finally:
            subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(tree)], check=True)


if __name__ == "__main__":
    main()
