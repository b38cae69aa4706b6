"""The experiments behind section 13's measured claims, as seeded simulation runs (no faults: the scenario is the
load, the contention or the outage itself).

* :func:`measure_contention`: the AWS architecture blog's backoff simulator, side by side: N clients each update
  one row once under optimistic concurrency (read the version, write if unchanged, on a conflict back off and start
  again), base 5 ms, cap 2 s, no attempt limit; calls (writes that reach the service) and completion time per
  strategy, at 50 and 100 clients;
* :func:`measure_recovery`: a service at 80% of its capacity slows down 10x for a second; callers time out, retry
  (4 attempts) and add load; how many requests succeed after the slowdown ends, and when, per strategy, with a
  breaker and with a short queue;
* :func:`measure_breaker_load`: the service fails every request for 3 s; calls that reach it with and without the
  circuit breaker;
* :func:`measure_retry_storm`: the same slowdown with callers that never retry and callers that retry at once;
* :func:`measure_herd`: 100 callers whose first calls fail together; how synchronized their retries stay;
* :func:`formula_check`: every backoff drawn in herd runs against one line of the document's jitter formula.

The backoff coins are the caller's (``ctx.random``): in the main phase the seeded choice source draws them fairly,
in 4,096 levels (:func:`faultlab.capacity.fine_uniform`); the recovery and breaker runs generate their load after
the one client operation, from recovery on, where the coins are the engine's fair generator.
"""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

import attrs

from faultlab import FaultPlan, Measurement, Plot, RunSettings, SeededChoices, simulate
from protocols.retries.nodes import Add, WriteRow
from protocols.retries.spec import SPEC, update_workload

NO_FAULTS = FaultPlan(kinds=(), swarm=False)

# The contention protocol: the same nodes, every client updating the row once, nothing to judge.
CONTENTION = attrs.evolve(SPEC, name="retries-contention", workload=update_workload, final_ops=lambda cfg: [],
                          invariants=(), witnesses=(), variants=(), claims=(), client_timeout=3600.0)
# The AWS simulator's network: each leg abs(normal(10 ms, 2 ms)). Here each leg takes 7.5 ms and the service a coin
# uniform over [0, 10 ms] per request, so the window between a read and its write is 20 ms on average with a
# standard deviation of 2.9 ms (the blog's: 20 ms, 2.8 ms), and an attempt (read and write) 40 ms (the blog's: 40).
CONTENTION_SETTINGS = {"strategy": "none", "base": 0.005, "cap": 2.0, "max_attempts": 0, "attempt_timeout": 0.0,
                       "breaker": False, "workers": 100_000, "queue": 0, "service_time": 0.0,
                       "service_spread": 0.010, "net_latency": 0.0075, "audit": False, "idempotency": "off"}
STRATEGY_NAMES = {"none": "no backoff", "exponential": "exponential", "decorrelated": "decorrelated jitter",
                  "equal": "equal jitter", "full": "full jitter"}
# The blog's simulator (mean of 100 runs, base 5 ms, cap 2 s): calls at 50 and 100 clients.
AWS_CALLS = {50: {"none": 690, "exponential": 623, "decorrelated": 373, "equal": 347, "full": 332},
             100: {"none": 2426, "exponential": 1846, "decorrelated": 999, "equal": 813, "full": 796}}


def contention_run(strategy: str, clients: int, seed: int) -> dict[str, Any]:
    """One run of the contention experiment: calls, completion time, and how evenly the writes spread in time."""
    cfg = CONTENTION.make_config({**CONTENTION_SETTINGS, "strategy": strategy})
    settings = RunSettings(clients=clients, ops_per_client=1, plan=NO_FAULTS, max_steps=2_000_000,
                           think_times=(0.0,))
    run = simulate(CONTENTION, cfg, SeededChoices(seed), settings)
    if run.error:
        raise RuntimeError(f"contention run {strategy}/{clients}/{seed}: {run.error}")
    ops = run.history.operations()
    done = [op for op in ops if op.is_ok]
    writes = [e.time for e in run.log.deliveries(WriteRow)]
    # writes arriving per 10 ms, from the end of the first round (every client writes at once at 20-30 ms)
    bins = Counter(int(t / 0.010) for t in writes if t >= 0.040)
    span = max(bins) + 1 if bins else 5
    counts = [bins.get(b, 0) for b in range(4, span)] or [0]
    mean = statistics.fmean(counts)
    return {"strategy": strategy, "clients": clients, "run": seed, "completed": len(done), "calls": len(writes),
            "time_ms": round(1000 * max(op.ret for op in done), 1) if done else None,
            "peak_per_10ms": max(counts), "cv_per_10ms": round(statistics.pstdev(counts) / mean, 3) if mean else None}


def measure_contention(seed: int, runs: int = 5, clients: tuple[int, ...] = (50, 100)) -> Measurement:
    table = []
    means: dict[tuple[str, int], dict[str, float]] = {}
    for n in clients:
        for strategy in STRATEGY_NAMES:
            rows = [contention_run(strategy, n, seed * 1_000_003 + i) for i in range(runs)]
            table += rows
            means[(strategy, n)] = {k: statistics.fmean(r[k] for r in rows)
                                    for k in ("calls", "time_ms", "peak_per_10ms", "cv_per_10ms")}
    parts = []
    for n in clients:
        ours = " / ".join(f"{means[(s, n)]['calls']:.0f}" for s in STRATEGY_NAMES)
        times = " / ".join(f"{means[(s, n)]['time_ms']:.0f}" for s in STRATEGY_NAMES)
        aws = " / ".join(f"{AWS_CALLS[n][s]:,}" for s in STRATEGY_NAMES) if n in AWS_CALLS else "-"
        parts.append(f"{n} clients: calls {ours} (AWS blog {aws}), completion {times} ms")
    order = {n: sorted(STRATEGY_NAMES, key=lambda s: means[(s, n)]["calls"]) for n in clients}
    jitter_wins = all(set(order[n][:3]) == {"full", "equal", "decorrelated"} for n in clients)
    spread = "; ".join(f"{n} clients: writes per 10 ms coefficient of variation " + ", ".join(
        f"{s} {means[(s, n)]['cv_per_10ms']:.2f}" for s in ("none", "exponential", "full")) for n in clients)
    big = max(clients)
    summary = (f"mean of {runs} seeded runs per cell, strategies no backoff / exponential / decorrelated / equal / "
               f"full jitter, base 5 ms, cap 2 s: " + "; ".join(parts) + f". {spread}. The ranking "
               + ("agrees with the blog: the three jittered strategies need far fewer calls than exponential "
                  "without jitter and no backoff" if jitter_wins else
                  f"differs from the blog's (fewest calls first at {big}: {', '.join(order[big])})")
               + ". Why the figures differ: faultlab's legs take a fixed 7.5 ms and the variation is one coin per "
                 "request at the service (uniform, 0-10 ms) where the blog draws every leg from a normal "
                 "distribution, and steered coins are quantized to 4,096 levels; no backoff and exponential "
                 "backoff depend on that variation to break ties, so they differ most")
    return Measurement(round(means[("full", big)]["calls"], 1), f"calls (mean, full jitter, {big} clients)",
                       summary, table, plot=Plot("clients", "calls", series="strategy", kind="bar",
                                                 title=f"calls to finish, by backoff strategy (mean of {runs} runs)"))


# -- recovery from a slowdown ----------------------------------------------------------------------------------------
RECOVERY = attrs.evolve(SPEC, name="retries-recovery", final_ops=lambda cfg: [], invariants=(), witnesses=(),
                        variants=(), claims=(), settle_time=12.0)
# Section 13's "1s, 2s, 4s, 8s" scaled 1:100 with everything else: the first three retries after 10, 20, 40 ms
# (base 5 ms: attempt 1 is the first retry, base x 2^attempt), cap 640 ms; per-attempt timeout 200 ms; the service
# serves 400 requests/s (4 workers, 10 ms each, up to 1,000 waiting), the callers offer 320/s (80%) for 8 s; from
# t=2 s to 3 s the service is 10x slower (40/s).
RECOVERY_SETTINGS = {"base": 0.005, "cap": 0.64, "max_attempts": 4, "attempt_timeout": 0.2, "breaker": False,
                     "workers": 4, "queue": 1000, "service_time": 0.01, "net_latency": 0.001, "audit": False,
                     "idempotency": "off", "load_rate": 320.0, "load_for": 8.0, "outage": "slow", "slowdown": 10.0,
                     "outage_at": 2.0, "outage_for": 1.0}
WINDOW = 0.25  # seconds per bucket of success rate


def recovery_run(strategy: str, seed: int, overrides: dict[str, Any] | None = None,
                 protocol: Any = RECOVERY) -> dict[str, Any]:
    """One run of the generated load through an outage: requests, calls, success after it, time to recover."""
    cfg = protocol.make_config({**RECOVERY_SETTINGS, "strategy": strategy, **(overrides or {})})
    settings = RunSettings(clients=1, ops_per_client=1, plan=NO_FAULTS, max_steps=2_000_000, think_times=(0.0,))
    run = simulate(protocol, cfg, SeededChoices(seed), settings)
    if run.error:
        raise RuntimeError(f"recovery run {strategy}/{seed}: {run.error}")
    done = run.log.notes("load_done")
    end = cfg.outage_at + cfg.outage_for
    buckets: dict[int, list[bool]] = {}
    for e in done:
        buckets.setdefault(int(e["began"] / WINDOW), []).append(e["status"] == "ok")
    rate = {b: sum(v) / len(v) for b, v in buckets.items()}
    last = round((cfg.load_for - WINDOW) / WINDOW)  # the last full window of load
    recovered = next((b * WINDOW for b in sorted(rate) if b * WINDOW >= end and b < last
                      and all(rate[c] >= 0.95 for c in rate if b <= c < last)), None)
    calls = [e.time for e in run.log.deliveries(Add, dst="svc")]
    during = sum(1 for t in calls if cfg.outage_at <= t < end)
    after = [e for e in done if e["began"] >= end]
    return {"strategy": strategy, "breaker": cfg.breaker, "queue": cfg.queue, "run": seed, "requests": len(done),
            "ok": sum(1 for e in done if e["status"] == "ok"), "calls": len(calls),
            "calls_per_s_during": round(during / cfg.outage_for, 1),
            "ok_after_pct": round(100 * sum(1 for e in after if e["status"] == "ok") / len(after), 1) if after else None,
            "recovered_after_s": round(recovered - end, 2) if recovered is not None else None}


RECOVERY_CASES = (("none", {}), ("exponential", {}), ("full", {}), ("exponential", {"breaker": True}),
                  ("exponential", {"queue": 40}))


def _case(strategy: str, over: dict[str, Any]) -> str:
    extra = " + breaker" if over.get("breaker") else f" + queue {over['queue']}" if "queue" in over else ""
    return STRATEGY_NAMES[strategy] + extra


def measure_recovery(seed: int, runs: int = 1, load_for: float = 8.0) -> Measurement:
    table = [{"case": _case(s, over), **recovery_run(s, seed * 1_000_003 + i, {**over, "load_for": load_for})}
             for s, over in RECOVERY_CASES for i in range(runs)]

    def mean(case: str, k: str) -> str:
        got = [r[k] for r in table if r["case"] == case]
        if any(g is None for g in got):
            return f"never ({sum(g is None for g in got)} of {len(got)} runs)"
        return f"{statistics.fmean(got):.2f}"

    cases = [_case(s, over) for s, over in RECOVERY_CASES]
    expo = [r["ok_after_pct"] for r in table if r["case"] == "exponential"]
    summary = ("scaled 1:100 (retries after 10, 20, 40 ms for the document's 1 s, 2 s, 4 s; per-attempt timeout "
               "200 ms, 4 attempts; service 400 requests/s with up to 1,000 waiting; callers offer 320/s; the "
               "service is 10x slower from t=2 s to 3 s). Success rate after the slowdown / time until 95% of "
               "requests succeed again (s): " +
               "; ".join(f"{c} {mean(c, 'ok_after_pct')}% / {mean(c, 'recovered_after_s')}" for c in cases) +
               ". Backoff alone did not give the service time to recover: every request's 4 attempts still arrive "
               "(backoff defers retries, it does not remove them), requests that timed out still wait in the queue "
               "and are served for nobody, so load stays above capacity after the slowdown ends (a metastable "
               "retry storm) whatever the jitter; a circuit breaker (load shed at the caller) or a short queue "
               "(load shed at the service) recovers at once")
    return Measurement(statistics.fmean(expo), "% of requests succeeding after the slowdown (exponential backoff)",
                       summary, table, plot=Plot("case", "ok_after_pct", kind="bar",
                                                 title="requests succeeding after the slowdown ends (%)"))


def measure_breaker_load(seed: int, runs: int = 3) -> Measurement:
    """The service fails every request fast for 3 s (t=2..5) under 100 requests/s, full jitter, 4 attempts: calls
    that reach it during the outage with the breaker and without."""
    over = {"outage": "error", "outage_at": 2.0, "outage_for": 3.0, "load_rate": 100.0, "load_for": 8.0,
            "queue": 40, "strategy": "full"}
    table = []
    for breaker in (False, True):
        for i in range(runs):
            table.append(recovery_run("full", seed * 1_000_003 + i, {**over, "breaker": breaker}))
    without = statistics.fmean(r["calls_per_s_during"] for r in table if not r["breaker"])
    with_ = statistics.fmean(r["calls_per_s_during"] for r in table if r["breaker"])
    ok_with = statistics.fmean(r["ok_after_pct"] for r in table if r["breaker"])
    ok_without = statistics.fmean(r["ok_after_pct"] for r in table if not r["breaker"])
    reduction = 100 * (1 - with_ / without) if without else 0.0
    summary = (f"the service fails every request for 3 s under 100 requests/s (full jitter, 4 attempts, breaker: "
               f"opens above 50% failures over 4 calls, half-opens after 1 s): {without:.0f} calls/s reach the dead "
               f"service without a breaker, {with_:.0f} with it ({reduction:.0f}% less); after the outage "
               f"{ok_without:.1f}% of requests succeed without it and {ok_with:.1f}% with it (one probe per second "
               f"closes it again)")
    return Measurement(round(reduction, 1), "% fewer calls to the failing service with the breaker", summary, table)


def measure_retry_storm(seed: int, load_for: float = 8.0) -> Measurement:
    """The slowdown of :func:`measure_recovery` with callers that do not retry and with callers that retry at once
    (no backoff, 4 attempts): does retrying make the overload worse?"""
    table = [{"case": f"{attempts} attempt{'s' if attempts > 1 else ''}",
              **recovery_run("none", seed * 1_000_003, {"max_attempts": attempts, "load_for": load_for})}
             for attempts in (1, 4)]
    once, four = table
    summary = (f"the service (400 requests/s, up to 1,000 waiting) under 320 requests/s is 10x slower for 1 s "
               f"(scaled as in the recovery experiment): callers that never retry see {once['ok_after_pct']}% of "
               f"requests succeed after the slowdown, {once['calls']} calls in all; callers that retry at once up to "
               f"4 attempts see {four['ok_after_pct']}%, {four['calls']} calls: the retries of requests that timed "
               f"out in the queue keep it full after the slowdown ends (a retry storm), where without them the "
               f"queue drains")
    return Measurement(four["ok_after_pct"], "% of requests succeeding after the slowdown with 4 immediate attempts",
                       summary, table)


# -- a thundering herd -----------------------------------------------------------------------------------------------
HERD = attrs.evolve(SPEC, name="retries-herd", workload=lambda choices, i: ("add", [i + 1, f"k{i + 1}"]),
                    final_ops=lambda cfg: [], invariants=(), witnesses=(), variants=(), claims=(),
                    client_timeout=3600.0)
# 100 callers' first calls all fail at once: the service answers "unavailable" for its first 0.5 s; base 10 ms,
# cap 1 s, retry until it succeeds; no capacity limit (the point is when the calls come, not what they cost).
HERD_SETTINGS = {"base": 0.01, "cap": 1.0, "max_attempts": 0, "attempt_timeout": 2.0, "breaker": False,
                 "workers": 100_000, "queue": 0, "service_time": 0.0, "net_latency": 0.001, "audit": False,
                 "outage": "error", "outage_at": 0.0, "outage_for": 0.5}
HERD_STRATEGIES = ("exponential", "decorrelated", "equal", "full")


def herd_run(strategy: str, seed: int, clients: int = 100) -> dict[str, Any]:
    """One herd: calls per 10 ms after the first round, the most calls at one instant, and every backoff drawn."""
    cfg = HERD.make_config({**HERD_SETTINGS, "strategy": strategy})
    settings = RunSettings(clients=clients, ops_per_client=1, plan=NO_FAULTS, max_steps=2_000_000,
                           think_times=(0.0,))
    run = simulate(HERD, cfg, SeededChoices(seed), settings)
    if run.error:
        raise RuntimeError(f"herd run {strategy}/{seed}: {run.error}")
    calls = [e.time for e in run.log.deliveries(Add, dst="svc") if e.time > 0.002]  # the retries
    windows = Counter(int(t / 0.010) for t in calls)
    instants = Counter(round(t, 9) for t in calls)
    done = [op.ret for op in run.history.operations() if op.is_ok]
    draws = [(e["attempt"], e["sleep"], e["previous"]) for e in run.log.notes("backoff")]
    return {"strategy": strategy, "run": seed, "clients": clients, "completed": len(done), "retries": len(calls),
            "peak_per_10ms": max(windows.values()) if windows else 0,
            "most_at_one_instant": max(instants.values()) if instants else 0,
            "time_ms": round(1000 * max(done), 1) if done else None, "draws": draws}


def measure_herd(seed: int, runs: int = 2) -> Measurement:
    rows = [herd_run(s, seed * 1_000_003 + i) for s in HERD_STRATEGIES for i in range(runs)]
    table = [{k: v for k, v in r.items() if k != "draws"} for r in rows]

    def mean(s: str, k: str) -> float:
        return statistics.fmean(r[k] for r in table if r["strategy"] == s)

    summary = ("100 callers whose first calls fail together (the service answers unavailable for 0.5 s), base "
               "10 ms, cap 1 s, retrying until they succeed: most retries arriving in one 10 ms window / at one "
               "instant / all done (ms): " +
               "; ".join(f"{STRATEGY_NAMES[s]} {mean(s, 'peak_per_10ms'):.0f} / {mean(s, 'most_at_one_instant'):.0f}"
                         f" / {mean(s, 'time_ms'):.0f}" for s in HERD_STRATEGIES) +
               ". Without jitter every caller retries at the same instants (the herd stays synchronized on every "
               "retry); with jitter the peak is a fraction of it")
    return Measurement(mean("full", "most_at_one_instant"),
                       f"retries arriving at one instant (most, full jitter; without jitter: "
                       f"{mean('exponential', 'most_at_one_instant'):.0f})", summary, table)


FORMULA_BOUNDS = {"exponential": (1.0, 1.0), "full": (0.0, 1.0), "equal": (0.5, 1.0)}
FORMULA_MEANS = {"exponential": 1.0, "full": 0.5, "equal": 0.75}


def formula_check(strategy: str):
    """A measurement of the backoffs the caller drew in herd runs against one line of the jitter formula: each
    sleep over its ceiling ``min(max_backoff, base × 2^attempt)`` is within the formula's range, and their mean is
    the uniform distribution's."""
    from protocols.retries.backoff import ceiling

    def measure(seed: int) -> Measurement:
        rows = [herd_run(strategy, seed * 1_000_003 + i) for i in range(2)]
        lo, hi = FORMULA_BOUNDS[strategy]
        ratios = [sleep / ceiling(a, HERD_SETTINGS["base"], HERD_SETTINGS["cap"])
                  for r in rows for a, sleep, _ in r["draws"]]
        inside = [x for x in ratios if lo - 1e-12 <= x <= hi + 1e-12]
        share = 100 * len(inside) / len(ratios) if ratios else 0.0
        mean = statistics.fmean(ratios) if ratios else float("nan")
        summary = (f"{len(ratios)} backoffs drawn by 100 callers in 2 herd runs (base 10 ms, cap 1 s): "
                   f"{share:.1f}% of sleep / min(cap, base × 2^attempt) within [{lo}, {hi}], mean {mean:.3f} "
                   f"(the formula's: {FORMULA_MEANS[strategy]})")
        table = [{"attempt": a, "sleep": round(sleep, 6), "ratio": round(x, 4)}
                 for (a, sleep, _), x in zip([d for r in rows for d in r["draws"]], ratios, strict=True)][:200]
        return Measurement(round(share, 2), "% of drawn backoffs within the formula's range", summary, table)
    measure.__name__ = f"formula_{strategy}"
    return measure
