"""Worker hosts and their sandboxes: warm reuse, the scaling queue and cold starts, reaping, the timeout."""

from __future__ import annotations

import attrs
import trio

from faultlab import Node, handler
from protocols.lambda_.config import CALL_TIMEOUT, RESEND_INTERVAL, LambdaConfig
from protocols.lambda_.messages import Begin, Commit, End, Release, Run, RunResult


# -- workers and sandboxes -------------------------------------------------------------------------------------------
@attrs.define
class Sandbox:
    """A microVM with the function initialized in it; volatile, as its worker's memory is."""

    sid: str
    pinned: bool = False  # provisioned concurrency: never reaped
    busy: bool = False
    last_used: float = 0.0
    memory: dict = attrs.Factory(dict)  # what a stateful function keeps between invocations


class Worker(Node[LambdaConfig]):
    """A worker host: runs each attempt in an idle sandbox, or starts one (a cold start, at most ``scaling_rate``
    new sandboxes per second over the fleet), stops the function at its timeout and its deadline, reaps idle
    sandboxes and gives the slot back."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.sandboxes: dict[str, Sandbox] = {}
        self.went_idle = trio.Event()  # wakes the reaper
        self.started = 0
        self.next_start = 0.0  # the scaling queue: when the next new sandbox may start initializing

    def start(self) -> None:
        for _ in range(self.config.provisioned):
            if self.ctx.incarnation == 1:  # configured before the traffic came: initialized already
                self.started += 1
                sid = f"{self.id}.1.{self.started}"
                self.sandboxes[sid] = Sandbox(sid, pinned=True)
            else:  # a restarted worker initializes its provisioned sandboxes again, off the request path
                self.ctx.spawn(self._provision)
        self.ctx.spawn(self._reaper)

    async def _provision(self) -> None:
        sandbox = await self._new_sandbox(pinned=True)
        sandbox.busy = False
        self.went_idle.set()

    async def _new_sandbox(self, pinned: bool = False) -> Sandbox:
        """A new sandbox, after its turn in the scaling queue and its initialization; returned busy."""
        cfg = self.config
        now = self.ctx.now()
        interval = cfg.workers / cfg.scaling_rate
        begin = max(now, self.next_start)
        self.next_start = begin + interval
        if cfg.snapstart:
            init = cfg.snapstart_restore
        else:  # the environment's draw: runtime, package size, VPC (cold_start_min..max, log-uniform)
            init = cfg.cold_start_min * (cfg.cold_start_max / cfg.cold_start_min) ** (self.ctx.choose(16) / 15)
        self.started += 1
        sandbox = Sandbox(f"{self.id}.{self.ctx.incarnation}.{self.started}", pinned=pinned, busy=True)
        self.sandboxes[sandbox.sid] = sandbox
        await trio.sleep(begin - now + init)
        self.ctx.note("cold_start", sandbox=sandbox.sid, init=round(init, 6), queued=round(begin - now, 6),
                      provisioned=pinned)
        return sandbox

    def _idle(self) -> Sandbox | None:
        idle = [s for s in self.sandboxes.values() if not s.busy]
        if not idle:
            return None
        sandbox = min(idle, key=lambda s: (not s.pinned, s.sid))
        sandbox.busy = True
        return sandbox

    async def _reaper(self) -> None:
        """Reap each unpinned sandbox ``idle_reap`` seconds after its last use; asleep while there is none (not a
        periodic timer: an idle fleet costs the simulation nothing)."""
        while True:
            idle = [s for s in self.sandboxes.values() if not s.busy and not s.pinned]
            if not idle:
                self.went_idle = trio.Event()
                await self.went_idle.wait()
                continue
            due = min(s.last_used for s in idle) + self.config.idle_reap
            now = self.ctx.now()
            if due > now:
                await trio.sleep(due - now)
                continue
            for s in sorted(idle, key=lambda s: s.sid):
                if s.last_used + self.config.idle_reap <= now:
                    del self.sandboxes[s.sid]
                    self.ctx.note("reaped", sandbox=s.sid)

    @handler
    async def on_run(self, msg: Run) -> RunResult:
        sandbox = self._idle() or await self._new_sandbox()
        budget = msg.deadline - self.ctx.now()
        outcome = await self._execute(sandbox, msg, budget) if budget > 0 else "not-started"
        if outcome != "not-started":  # the function ran: its report line says when it stopped
            self.ctx.send("store", End(msg.exec_id, self.ctx.now(), outcome))
        if outcome == "timeout":
            self.sandboxes.pop(sandbox.sid, None)  # a timed-out sandbox is reset: its next use is a cold start
        sandbox.busy = False
        sandbox.last_used = self.ctx.now()
        self.went_idle.set()
        self.ctx.spawn(self._release, msg.lease)  # a crash before this leaves the slot to its expiry
        return RunResult(outcome)

    async def _execute(self, sandbox: Sandbox, msg: Run, budget: float) -> str:
        cfg = self.config
        eid, kind, duration, key = msg.event
        limit = min(cfg.timeout, budget) if cfg.enforce_timeout else budget
        began = False
        with trio.move_on_after(limit):
            begin = Begin(msg.exec_id, eid, kind, sandbox.sid, self.ctx.now())
            if await self.ctx.call("store", begin, CALL_TIMEOUT) is None:
                return "not-started"  # the function body never ran (a system error, not the function's)
            began = True
            if kind == "slow":
                duration = 2 * cfg.timeout
            await trio.sleep(duration)
            if kind == "poison":
                return "error"
            commit = Commit(msg.exec_id, self.ctx.now(), key)
            if kind == "tally":
                if cfg.stateful_handler:
                    sandbox.memory[key] = sandbox.memory.get(key, 0) + 1
                    commit = attrs.evolve(commit, ticket=sandbox.memory[key])
                else:
                    commit = attrs.evolve(commit, tally=True)
            done = await self.ctx.call("store", commit, CALL_TIMEOUT)
            return "ok" if done is not None else "error"  # the function's write failed: it raises
        if not began:
            return "not-started"  # stopped while recording its beginning: the body never ran
        self.ctx.note("timeout_kill", exec=msg.exec_id, kind=kind)
        return "timeout"

    async def _release(self, lease: str) -> None:
        # Retried while this incarnation lives; if the worker crashes first, only the slot's expiry frees it.
        while await self.ctx.call("placement", Release(lease), CALL_TIMEOUT) is None:
            await trio.sleep(RESEND_INTERVAL)
