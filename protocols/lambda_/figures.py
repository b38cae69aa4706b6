"""Lambda's measured figures, in simulated time and fault-free: the concurrency limit under a burst, scaling from
zero sandboxes, and what cold starts (against provisioned concurrency and SnapStart) cost a synchronous caller.

Each runs the protocol with a workload of its own (a burst, or calls spread over time) and reads the executions the
store recorded after the run. The cold start distribution and the scaling rate are inputs (settings), stated in
every summary: what is measured is what they add up to at the client.
"""

from __future__ import annotations

import statistics

import attrs

from faultlab import FaultPlan, Measurement, Plot, RunSettings, SeededChoices, simulate

NO_FAULTS = FaultPlan(kinds=(), swarm=False)


def _spec():
    from protocols.lambda_.spec import SPEC  # the spec imports this module for its claims

    return SPEC


def _with_workload(workload):
    return attrs.evolve(_spec(), workload=workload)


def _executions(run) -> list[dict]:
    ops = [op for op in run.history.operations() if op.f == "executions" and op.is_ok]
    return list(ops[-1].output) if ops else []


def _burst(duration: float):
    """Every client's one operation: a synchronous invoke of ``duration`` seconds of work."""
    return lambda choices, op_index: ("invoke-sync", [op_index + 1, "work", duration, None])


def _peak(execs: list[dict]) -> tuple[int, float]:
    """The most executions running at once (begin to end report), and when that was first reached."""
    best, at = 0, 0.0
    for y in execs:
        t = y["begin"]
        n = sum(1 for x in execs if x["begin"] <= t < (x["end"] if x["end"] is not None else x["begin"]) or x is y)
        if n > best:
            best, at = n, t
    return best, at


def measure_concurrency_limit(seed: int, burst: int = 8, limits: tuple[int, ...] = (2, 4)) -> Measurement:
    """A burst of ``burst`` synchronous invokes of 2 s functions at once, at each concurrency limit: the peak of
    executions running at once, and the invokes throttled (TooManyRequestsException)."""
    spec = _with_workload(_burst(2.0))
    settings = RunSettings(clients=burst, ops_per_client=1, plan=NO_FAULTS)
    table = []
    for limit in limits:
        run = simulate(spec, spec.make_config({"concurrency_limit": limit}), SeededChoices(seed), settings)
        ops = [op for op in run.history.operations() if op.f == "invoke-sync"]
        peak, _ = _peak(_executions(run))
        table.append({"limit": limit, "burst": burst, "peak_running": peak, "ok": sum(op.is_ok for op in ops),
                      "throttled": sum(op.status == "fail" for op in ops)})
    first = table[0]
    return Measurement(first["peak_running"], f"executions running at once (limit {first['limit']})",
                       "a burst of " + str(burst) + " synchronous 2 s invokes: " + "; ".join(
                           f"limit {r['limit']}: peak {r['peak_running']} running, {r['ok']} ran, {r['throttled']} "
                           f"throttled" for r in table) + " (the limit is the concurrency_limit setting: the "
                       "account's 1000 scaled down, adjustable)", table,
                       plot=Plot("limit", ("peak_running", "ok", "throttled"), kind="bar",
                                 title=f"a burst of {burst} synchronous invokes, by concurrency limit"))


COLD_STARTS = {"0.1-10 s": {}, "125 ms": {"cold_start_min": 0.125, "cold_start_max": 0.125}}


def measure_scale_from_zero(seed: int, sizes: tuple[int, ...] = (100, 1000), scaling_rate: float = 100.0,
                            duration: float = 60.0) -> Measurement:
    """A burst of N synchronous invokes of long functions arrives at t=0 with no sandbox: the time until all N run
    at once (every one needed a new sandbox: its turn in the scaling queue, then its cold start). With the default
    cold starts (0.1-10 s) and with Firecracker's ~125 ms (section 4's figure for a microVM start) throughout."""
    spec = _with_workload(_burst(duration))
    table = []
    for n in sizes:
        for label, cold in COLD_STARTS.items():
            cfg = spec.make_config({"concurrency_limit": n, "timeout": 2 * duration, "scaling_rate": scaling_rate,
                                    **cold})
            run = simulate(spec, cfg, SeededChoices(seed),
                           RunSettings(clients=n, ops_per_client=1, plan=NO_FAULTS, max_steps=40 * n + 2000))
            begins = sorted(x["begin"] for x in _executions(run))
            peak, at = _peak(_executions(run))
            row = {"burst": n, "cold_start": label, "scaling_rate_per_s": scaling_rate, "executions": len(begins),
                   "peak_running": peak, "all_running_at_s": round(at, 3) if peak == n else None}
            for q in (0.5, 0.9):
                row[f"{int(q * 100)}pct_running_at_s"] = round(begins[int(q * n) - 1], 3) if len(begins) >= n else None
            table.append(row)
    main = [r for r in table if r["cold_start"] == "0.1-10 s"][-1]
    figure = main["all_running_at_s"]
    if figure is None:
        return Measurement(0.0, "s", f"the burst of {main['burst']} never ran all at once: {main}", table)
    cfg = spec.make_config({})
    return Measurement(figure, f"s from a burst of {main['burst']} at zero sandboxes to all running",
                       "; ".join(f"{r['burst']} concurrent after {r['all_running_at_s']} s with {r['cold_start']} cold "
                                 f"starts (half after {r['50pct_running_at_s']} s)" for r in table)
                       + f", with scaling_rate={scaling_rate:g} new sandboxes/s over {cfg.workers} workers (AWS: 1000 "
                         f"per 10 s) and the cold starts stated (inputs): N / rate plus the slowest cold start", table,
                       plot=Plot("burst", "all_running_at_s", series="cold_start", kind="bar",
                                 title="seconds from a burst at zero sandboxes until all run"))


def _spread(choices, op_index: int) -> tuple[str, object]:
    return "invoke-sync", [op_index + 1, "work", 0.1, None]


def _latencies(overrides: dict, seed: int, runs: int) -> tuple[list[float], int]:
    spec = _with_workload(_spread)
    cfg = spec.make_config({"concurrency_limit": 8, **overrides})
    # 4 callers, 12 calls each, pausing 0.5, 2 or 8 s between calls: sandboxes idle longer than idle_reap (5 s) are
    # reaped, so calls keep meeting cold starts, as a spiky real workload does.
    settings = RunSettings(clients=4, ops_per_client=12, think_times=(0.5, 2.0, 8.0), plan=NO_FAULTS)
    lat, colds = [], 0
    for i in range(runs):
        run = simulate(spec, cfg, SeededChoices(seed * 1_000_003 + i), settings)
        lat += [op.ret - op.call for op in run.history.operations() if op.f == "invoke-sync" and op.is_ok]
        colds += sum(1 for e in run.log.notes("cold_start") if not e["provisioned"])
    return sorted(lat), colds


def _pct(xs: list[float], q: float) -> float:
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def _latency_table(modes: dict[str, dict], seed: int, runs: int) -> list[dict]:
    table = []
    for mode, overrides in modes.items():
        lat, colds = _latencies(overrides, seed, runs)
        table.append({"mode": mode, "calls": len(lat), "cold_starts": colds, "p50_s": round(_pct(lat, 0.5), 3),
                      "p90_s": round(_pct(lat, 0.9), 3), "p99_s": round(_pct(lat, 0.99), 3),
                      "max_s": round(lat[-1], 3) if lat else None,
                      "mean_s": round(statistics.fmean(lat), 3) if lat else None})
    return table


def measure_cold_starts(seed: int, runs: int = 5) -> Measurement:
    """Synchronous calls of a 0.1 s function spread over time: client latency p50/p99 with on-demand sandboxes
    (cold starts drawn from 0.1-10 s, an input) and with provisioned concurrency (2 sandboxes per worker)."""
    table = _latency_table({"on-demand": {}, "provisioned": {"provisioned": 2}}, seed, runs)
    by = {r["mode"]: r for r in table}
    cfg = _spec().make_config({})
    return Measurement(by["on-demand"]["p99_s"], "s (p99 synchronous invoke latency, on-demand)",
                       f"a 0.1 s function called by 4 callers with pauses: on-demand p50 {by['on-demand']['p50_s']} s, "
                       f"p99 {by['on-demand']['p99_s']} s ({by['on-demand']['cold_starts']} cold starts in "
                       f"{by['on-demand']['calls']} calls); provisioned concurrency (2 per worker) p50 "
                       f"{by['provisioned']['p50_s']} s, p99 {by['provisioned']['p99_s']} s "
                       f"({by['provisioned']['cold_starts']} cold starts). The cold start itself is an input: "
                       f"log-uniform over {cfg.cold_start_min:g}-{cfg.cold_start_max:g} s; sandboxes idle "
                       f"{cfg.idle_reap:g} s are reaped", table,
                       plot=Plot("mode", ("p50_s", "p90_s", "p99_s"), kind="bar", log_y=True,
                                 title="synchronous invoke latency (s): on-demand against provisioned"))


def measure_snapstart(seed: int, runs: int = 5) -> Measurement:
    """The same calls with SnapStart: a new sandbox is restored in ``snapstart_restore`` seconds (an input) instead
    of a cold start."""
    table = _latency_table({"cold-start": {}, "snapstart": {"snapstart": True}}, seed, runs)
    by = {r["mode"]: r for r in table}
    cfg = _spec().make_config({})
    return Measurement(by["snapstart"]["p99_s"], "s (p99 synchronous invoke latency, SnapStart)",
                       f"p99 {by['cold-start']['p99_s']} s with cold starts (log-uniform {cfg.cold_start_min:g}-"
                       f"{cfg.cold_start_max:g} s) against {by['snapstart']['p99_s']} s with SnapStart restoring in "
                       f"snapstart_restore={cfg.snapstart_restore:g} s (p50 {by['cold-start']['p50_s']} s against "
                       f"{by['snapstart']['p50_s']} s). The ~200 ms is the input, not a finding: what is measured is "
                       f"the tail it leaves the client (restore plus the function plus the scaling queue)", table,
                       plot=Plot("mode", ("p50_s", "p90_s", "p99_s"), kind="bar", log_y=True,
                                 title="synchronous invoke latency (s): cold starts against SnapStart"))
