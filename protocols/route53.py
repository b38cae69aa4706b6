"""Route 53: DNS failover and weighted routing driven by health checks, answers cached by resolvers for their TTL.

Seed section 9 ("Route 53 — DNS"), issue 12. The model, on the engine's latency model (each node in its own zone;
regions us-east-1, eu-west-1, ap-southeast-1 and Route 53's global edge, ``cross_region`` apart):

* ``primary`` (us-east-1) and ``secondary`` (eu-west-1) are the endpoints: they answer a client's request and a
  health check while they are up. The operator can take one down (an ``outage`` operation: it stops answering
  anything) and bring it back (``restore``); a crash is the engine's;
* ``hc1``, ``hc2``, ``hc3`` are health checkers in three regions. Every ``interval`` each probes both endpoints
  (a probe that gets no answer within ``probe_timeout`` has failed), marks an endpoint unhealthy after
  ``failure_threshold`` failed probes in a row and healthy again after as many successes, and reports its verdicts
  to ``dns`` (datagrams: a report can be lost, delayed or reordered; a stamp keeps the newest);
* ``dns`` is the authoritative server. In ``failover`` mode it answers with the primary unless a majority of the
  checkers report it unhealthy (``rule="majority"``; a checker it has no report from counts as healthy), and then
  with the secondary unless that is unhealthy to a majority too (then the primary: an answer is better than none).
  In ``weighted`` mode it answers with an endpoint at random in proportion to ``weights`` (the protocol's coins),
  among those a majority does not report unhealthy. Every answer carries the checkers' verdicts it was decided on,
  so the history shows why;
* ``r1`` (us-east-1) and ``r2`` (eu-west-1) are resolvers: each caches an answer for ``ttl`` seconds (volatile: a
  crash empties the cache). A client resolves through one of them, then calls the endpoint the answer names.

Faults: endpoint and checker crashes and restarts, partitions (a checker cut off from an endpoint disagrees with
the others), message loss, duplication, delay and the latency model's jitter, clock skew. Claimed and held: the
answers follow the checkers' majority (no failover while a majority sees the primary healthy, never an answer a
majority has seen down); after healing, once the primary has been down for longer than
``interval * failure_threshold + ttl + slack`` every client reaches the secondary, and once it is back for as long,
the primary again; with at most two lost or held messages (threshold 3) no checker flaps and DNS never fails over
while the primary is up. Found and refuted (the variants): a resolver that ignores the TTL, a resolver that times
the TTL on its own (skewable) clock, failover decided by one checker, no failback, and a failure threshold of 1
under message loss. Measured: failover time against interval, threshold and TTL; the "~60 seconds" of the
interview sentence; the weighted shares; answer switches and checker flaps under partitions.

What the checks rest on: invariants see only the client history, so "no failover while a majority of checkers sees
the primary healthy" is judged against the checkers' verdicts each answer carries (what DNS decided on), not against
the network's partitions themselves; the outage and restore of the final phase are operations, so the failover
window is judged against real times. Clients pause ``pause`` seconds before each call so that the main phase lasts
several detection windows. With ``rule="single"`` hc1 takes the engine's leader role, so directed faults aim at the
checker DNS follows. (Route 53 itself calls an endpoint healthy while more than 18% of its checkers say so; the
brief asks for a majority, and the rule is the ``_down`` method.)

Sentences of section 9 that are not checked here, and why:

* "Simple, Weighted, Latency-based, Failover, Geolocation, Multi-value" / "Different routing needs": only weighted and
  failover routing are modelled; latency-based and geolocation routing answer by where the client is, which the
  engine's clients do not have (they have no zone), and multi-value routing returns several records at once (the
  model's answer is one endpoint). Simple routing is failover without health checks.
* "100% SLA (the only AWS service with 100% SLA)" / "DNS is the foundation — if DNS fails, everything fails": an SLA
  is a contract over a year of a global anycast fleet, not a property of one authoritative server in a model.
* "Multi-region latency", "Route user to nearest region", "Geographic compliance", "EU users → EU region (GDPR)":
  latency-based and geolocation routing, not modelled (above).
"""

from __future__ import annotations

import statistics

import attrs
import trio

from faultlab import (
    Claim,
    ConfigError,
    Fail,
    FaultPlan,
    Invariant,
    Latency,
    Measurement,
    Node,
    Ok,
    Plot,
    Protocol,
    RunSettings,
    SeededChoices,
    Variant,
    Witness,
    handler,
    simulate,
)
from invariants.dns import (
    check_answers_follow_health_majority,
    check_failover_after_outage,
    check_no_failover_while_primary_up,
)

ENDPOINTS = ("primary", "secondary")
CHECKERS = ("hc1", "hc2", "hc3")
RESOLVERS = ("r1", "r2")
ZONES = {"primary": "use1-az1", "secondary": "euw1-az1", "hc1": "use1-az2", "hc2": "euw1-az2",
         "hc3": "apse1-az1", "dns": "route53", "r1": "use1-az3", "r2": "euw1-az3"}
REGIONS = {"use1-az1": "us-east-1", "use1-az2": "us-east-1", "use1-az3": "us-east-1", "euw1-az1": "eu-west-1",
           "euw1-az2": "eu-west-1", "euw1-az3": "eu-west-1", "apse1-az1": "ap-southeast-1", "route53": "global"}


# -- messages --------------------------------------------------------------------------------------------------------
@attrs.frozen
class Request:
    """A client's request to an endpoint."""


@attrs.frozen
class Served:
    endpoint: str


@attrs.frozen
class Probe:
    """A health check."""


@attrs.frozen
class Healthy:
    endpoint: str


@attrs.frozen
class SetOutage:
    """The operator takes the endpoint down (``down``) or brings it back."""

    down: bool


@attrs.frozen
class OutageSet:
    down: bool


@attrs.frozen
class Report:
    """A checker's verdicts, stamped (incarnation, count) so that ``dns`` keeps the newest of reordered ones."""

    checker: str
    stamp: tuple
    healthy: tuple  # ((endpoint, bool), ...)
    changes: tuple  # ((endpoint, verdict changes so far), ...)


@attrs.frozen
class Query:
    """A resolver (or a sampling client) asks the authoritative server."""


@attrs.frozen
class Answer:
    endpoint: str
    mode: str
    views: tuple  # ((endpoint, ((checker, bool | None), ...)), ...): the verdicts the answer was decided on
    changes: tuple  # ((endpoint, ((checker, int), ...)), ...): how often each checker's verdict changed


@attrs.frozen
class Resolve:
    """A client asks its resolver."""


@attrs.frozen
class Resolved:
    answer: Answer
    cached: bool


# -- configuration ---------------------------------------------------------------------------------------------------
@attrs.frozen
class Route53Config:
    mode: str = attrs.field(default="failover", metadata={"help": "failover or weighted routing"})
    weights: tuple = attrs.field(default=(1, 1), converter=tuple, metadata={
        "help": "weighted mode: the primary's and the secondary's weights (non-negative integers, not both 0)"})
    interval: float = attrs.field(default=0.5, metadata={"help": "seconds between a checker's probes"})
    probe_timeout: float = attrs.field(default=0.45, metadata={
        "help": "seconds a probe waits for its answer (less than the interval)"})
    failure_threshold: int = attrs.field(default=3, metadata={
        "help": "probes in a row that must fail (succeed) before a checker reports unhealthy (healthy)"})
    ttl: float = attrs.field(default=1.0, metadata={"help": "seconds a resolver keeps an answer"})
    rule: str = attrs.field(default="majority", metadata={
        "help": "majority: fail over when most checkers report the primary unhealthy; single: when hc1 does"})
    honor_ttl: bool = attrs.field(default=True, metadata={"help": "resolvers expire answers (off: cache forever)"})
    ttl_clock: str = attrs.field(default="monotonic", metadata={
        "help": "monotonic: a resolver's TTL is a timer; wall: it compares its clock (which a skew steps) to an expiry"})
    failback: bool = attrs.field(default=True, metadata={
        "help": "answer with the primary again once it is healthy (off: a failover is for good)"})
    cross_region: float = attrs.field(default=0.02, metadata={"help": "one-way latency between regions, seconds"})
    attempt_timeout: float = attrs.field(default=1.0, metadata={
        "help": "seconds a client waits for its resolver, and then for the endpoint"})
    pause: float = attrs.field(default=1.0, metadata={
        "help": "seconds a client waits before each call through DNS (clients that keep calling, not a burst)"})
    scenario: str = attrs.field(default="check", metadata={
        "help": "final operations: check (outage and restore, judged), measure (time them), sample (weighted), none"})
    samples: int = attrs.field(default=200, metadata={"help": "scenario=sample: queries asked of dns"})
    offset: float = attrs.field(default=0.0, metadata={
        "help": "scenario=measure: seconds from the call that fills the cache to the outage (sweeps the phases)"})

    def __attrs_post_init__(self) -> None:
        if self.offset < 0 or self.samples < 1:
            raise ConfigError(f"route53: offset={self.offset!r}, samples={self.samples!r}; give offset >= 0 and "
                              f"samples >= 1")
        if self.pause < 0:
            raise ConfigError(f"route53: pause={self.pause!r}; give 0 or more seconds")
        for name in ("interval", "probe_timeout", "ttl", "cross_region", "attempt_timeout"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"route53: {name}={getattr(self, name)!r}; give a positive number of seconds")
        if self.probe_timeout >= self.interval:
            raise ConfigError(f"route53: probe_timeout={self.probe_timeout!r} must be less than interval="
                              f"{self.interval!r}, so that a checker's probes of one endpoint never overlap")
        if self.failure_threshold < 1:
            raise ConfigError(f"route53: failure_threshold={self.failure_threshold!r}; give 1 or more probes")
        if self.mode not in ("failover", "weighted"):
            raise ConfigError(f"route53: mode={self.mode!r}; choose failover or weighted")
        if self.rule not in ("majority", "single"):
            raise ConfigError(f"route53: rule={self.rule!r}; choose majority or single")
        if self.ttl_clock not in ("monotonic", "wall"):
            raise ConfigError(f"route53: ttl_clock={self.ttl_clock!r}; choose monotonic or wall")
        if self.scenario not in ("check", "measure", "sample", "none"):
            raise ConfigError(f"route53: scenario={self.scenario!r}; choose check, measure, sample or none")
        if (len(self.weights) != 2 or any(not isinstance(w, int) or w < 0 for w in self.weights)
                or sum(self.weights) == 0):
            raise ConfigError(f"route53: weights={self.weights!r}; give two non-negative integers, not both 0, "
                              f"e.g. weights=90,10")

    @property
    def slack(self) -> float:
        """Beyond ``interval * failure_threshold + ttl``: the first probe after the change may be a whole interval
        away, a failed probe takes its timeout, and a report and an answer cross regions (jittered)."""
        return 2 * self.interval + self.probe_timeout + 20 * self.cross_region + 2 * self.attempt_timeout

    @property
    def window(self) -> float:
        """The failover time this configuration promises."""
        return self.interval * self.failure_threshold + self.ttl + self.slack


# -- the nodes -------------------------------------------------------------------------------------------------------
class Endpoint(Node[Route53Config]):
    """Serves requests and health checks unless the operator took it down (durable: ``down``)."""

    def start(self) -> None:
        if "down" not in self.storage:
            self.storage.save(down=False)

    @handler
    def on_request(self, msg: Request) -> Served | None:
        return None if self.storage["down"] else Served(self.id)

    @handler
    def on_probe(self, msg: Probe) -> Healthy | None:
        return None if self.storage["down"] else Healthy(self.id)

    @handler
    def on_set_outage(self, msg: SetOutage) -> OutageSet:
        self.storage.save(down=msg.down)
        self.ctx.note("outage" if msg.down else "restored", endpoint=self.id)
        return OutageSet(msg.down)


class HealthChecker(Node[Route53Config]):
    """Probes every endpoint each interval; a verdict changes after ``failure_threshold`` probes in a row say so.
    Volatile: a restarted checker starts with every endpoint healthy, as a new health check does."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.healthy = {e: True for e in ENDPOINTS}
        self.streak = {e: 0 for e in ENDPOINTS}  # probes in a row that disagree with the verdict
        self.reports = 0
        self.changes = {e: 0 for e in ENDPOINTS}  # verdict changes this incarnation (flapping shows here)

    def start(self) -> None:
        if self.config.rule == "single" and self.id == "hc1":
            self.ctx.set_role("leader")  # the one checker DNS follows: directed faults aim at it first
        self.ctx.every(self.config.interval, self._tick)

    def _tick(self) -> None:
        for e in ENDPOINTS:
            self.ctx.spawn(self._probe, e)
        self._report()

    def _report(self) -> None:
        self.reports += 1
        self.ctx.send("dns", Report(self.id, (self.ctx.incarnation, self.reports),
                                    tuple((e, self.healthy[e]) for e in ENDPOINTS),
                                    tuple((e, self.changes[e]) for e in ENDPOINTS)))

    async def _probe(self, endpoint: str) -> None:
        ok = await self.ctx.call(endpoint, Probe(), timeout=self.config.probe_timeout) is not None
        if ok == self.healthy[endpoint]:
            self.streak[endpoint] = 0
            return
        self.streak[endpoint] += 1
        if self.streak[endpoint] >= self.config.failure_threshold:
            self.healthy[endpoint], self.streak[endpoint] = ok, 0
            self.changes[endpoint] += 1
            self.ctx.note("healthy" if ok else "unhealthy", endpoint=endpoint, checker=self.id)
            self._report()


class Authoritative(Node[Route53Config]):
    """The hosted zone's record: answers by the checkers' newest reports. Volatile but for ``failed_over`` (the
    no-failback variant's latch)."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.views: dict[str, dict[str, bool | None]] = {e: {c: None for c in CHECKERS} for e in ENDPOINTS}
        self.changes: dict[str, dict[str, int]] = {e: {c: 0 for c in CHECKERS} for e in ENDPOINTS}
        self.stamps: dict[str, tuple] = {}
        self.last: str | None = None

    @handler
    def on_report(self, msg: Report) -> None:
        if msg.checker in self.stamps and tuple(msg.stamp) <= self.stamps[msg.checker]:
            return  # an older report overtaken by a newer one (datagrams reorder)
        self.stamps[msg.checker] = tuple(msg.stamp)
        for e, healthy in msg.healthy:
            self.views[e][msg.checker] = healthy
        for e, n in msg.changes:
            self.changes[e][msg.checker] = n

    def _down(self, endpoint: str) -> bool:
        views = self.views[endpoint]
        if self.config.rule == "single":
            return views["hc1"] is False
        return sum(v is False for v in views.values()) * 2 > len(views)

    def _decide(self) -> str:
        if self.config.mode == "weighted":
            up = [e for e in ENDPOINTS if not self._down(e)] or list(ENDPOINTS)
            weights = [self.config.weights[ENDPOINTS.index(e)] for e in up]
            if sum(weights) == 0:
                weights = [1] * len(up)
            x = self.ctx.random.random() * sum(weights)
            for e, w in zip(up, weights, strict=True):
                if x < w:
                    return e
                x -= w
            return up[-1]
        if self.storage.get("failed_over", False) and not self.config.failback:
            return "secondary"
        answer = "secondary" if self._down("primary") and not self._down("secondary") else "primary"
        if answer == "secondary" and not self.config.failback:
            self.storage.save(failed_over=True)
        return answer

    @handler
    def on_query(self, msg: Query) -> Answer:
        answer = self._decide()
        if self.config.mode == "failover" and answer != self.last:
            if self.last is not None or answer != "primary":
                self.ctx.note("switch", to=answer)
                if answer == "secondary":
                    self.ctx.note("failover")
                elif self.last == "secondary":
                    self.ctx.note("failback")
            self.last = answer
        return Answer(answer, self.config.mode,
                      tuple((e, tuple((c, self.views[e][c]) for c in CHECKERS)) for e in ENDPOINTS),
                      tuple((e, tuple((c, self.changes[e][c]) for c in CHECKERS)) for e in ENDPOINTS))


class Resolver(Node[Route53Config]):
    """A recursive resolver: one cache for its clients, kept ``ttl`` seconds (volatile: a crash empties it).

    The TTL runs on a timer (elapsed time, as a monotonic clock measures it), not by comparing this node's clock with
    an expiry: with ``ttl_clock="wall"`` it compares, and a clock stepped back keeps the answer that much longer."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.cached: Answer | None = None
        self.expires = 0.0  # wall clock only
        self.fetches = 0

    def _fresh(self) -> bool:
        if self.cached is None:
            return False
        if not self.config.honor_ttl or self.config.ttl_clock == "monotonic":
            return True  # the monotonic timer clears it
        return self.ctx.now() < self.expires

    async def _expire(self, fetch: int) -> None:
        await trio.sleep(self.config.ttl)
        if self.fetches == fetch:
            self.cached = None

    @handler
    async def on_resolve(self, msg: Resolve) -> Resolved | None:
        if self._fresh():
            return Resolved(self.cached, True)
        answer = await self.ctx.call("dns", Query(), timeout=self.config.attempt_timeout)
        if answer is None:
            return None
        self.cached, self.expires = answer, self.ctx.now() + self.config.ttl
        self.fetches += 1
        if self.config.honor_ttl and self.config.ttl_clock == "monotonic":
            self.ctx.spawn(self._expire, self.fetches)
        return Resolved(answer, False)


# -- client, workload, final operations ------------------------------------------------------------------------------
def _views(answer: Answer) -> dict:
    return {e: dict(vs) for e, vs in answer.views}


async def _call_through_dns(api, resolver: str) -> Ok | Fail:
    resolved = reply = None
    with trio.move_on_after(api.config.attempt_timeout):
        resolved = await api.call(Resolve(), resolver)
    if resolved is None:
        return Fail("the resolver did not answer")
    answer = resolved.answer
    with trio.move_on_after(api.config.attempt_timeout):
        reply = await api.call(Request(), answer.endpoint)
    return Ok({"answer": answer.endpoint, "served_by": reply.endpoint if reply is not None else None,
               "cached": resolved.cached, "mode": answer.mode, "views": _views(answer),
               "changes": {e: dict(cs) for e, cs in answer.changes}})


async def client(api, f: str, value) -> Ok | Fail:
    """``call``: resolve through the chosen resolver, call the endpoint named (an ok outcome says which answered, or
    that none did: the request is a read with no effect); ``outage``/``restore``: the operator's switch on the
    primary; ``wait``: let time pass; ``watch``: call every second until ``value`` serves, and say how long it took;
    ``sample``: ask ``dns`` ``value`` times and count the answers."""
    cfg = api.config
    if f == "call":
        if cfg.pause:
            await trio.sleep(cfg.pause)
        return await _call_through_dns(api, api.node)
    if f in ("outage", "restore"):
        while True:  # the network is healed in the final phase; a jittered answer only takes longer
            with trio.move_on_after(cfg.attempt_timeout):
                ack = await api.call(SetOutage(f == "outage"), value)
                if ack is not None:
                    return Ok({"endpoint": value, "down": f == "outage", "window": cfg.window})
    if f == "wait":
        if value:
            await trio.sleep(value)
        return Ok(value)
    if f == "watch":
        target, resolver = value
        start = trio.current_time()
        while True:
            outcome = await _call_through_dns(api, resolver)
            if isinstance(outcome, Ok) and outcome.value["served_by"] == target:
                return Ok({"target": target, "after": round(trio.current_time() - start, 3)})
            await trio.sleep(1.0)
    if f == "sample":
        counts = {e: 0 for e in ENDPOINTS}
        for _ in range(value):
            answer = None
            with trio.move_on_after(cfg.attempt_timeout):
                answer = await api.call(Query(), "dns")
            if answer is not None:
                counts[answer.endpoint] += 1
        return Ok(counts)
    return Fail(f"unknown operation {f!r}")


def workload(choices, op_index: int) -> tuple[str, object]:
    return ("call", None)


def final_ops(cfg: Route53Config) -> list[tuple[str, object, str | None]]:
    """``check``: after the settling, a window, then a call on each resolver (the primary, failing back from whatever
    the faults did); the primary down, a window, calls (the secondary); the primary back, a window, calls (the
    primary). ``measure``: the same switches, each timed by a ``watch``. ``sample``: queries of ``dns``."""
    w = cfg.window
    calls = [("call", None, r) for r in RESOLVERS]
    if cfg.scenario == "check":
        return [("wait", w, "dns"), *calls, ("outage", "primary", "primary"), ("wait", w, "dns"), *calls,
                ("restore", "primary", "primary"), ("wait", w, "dns"), *calls]
    if cfg.scenario == "measure":
        return [("wait", w, "dns"), ("call", None, "r1"), ("wait", cfg.offset, "dns"),
                ("outage", "primary", "primary"), ("watch", ["secondary", "r1"], "r1"),
                ("restore", "primary", "primary"), ("watch", ["primary", "r1"], "r1")]
    if cfg.scenario == "sample":
        return [("wait", w, "dns"), ("sample", cfg.samples, "dns")]
    return []


# -- invariants ------------------------------------------------------------------------------------------------------
INVARIANTS = (
    Invariant("answers-follow-majority", check_answers_follow_health_majority,
              "every DNS answer is the one the checkers' majority implies: no failover while a majority sees the "
              "primary healthy, never an endpoint a majority has seen down"),
    Invariant("failover-after-outage", check_failover_after_outage,
              "after healing: once the primary is down (up) for longer than interval * failure_threshold + ttl + "
              "slack, clients reach the secondary (the primary)"),
    Invariant("no-failover-while-up", check_no_failover_while_primary_up,
              "no answer names the secondary while the primary is up (judged under message loss only)",
              by_default=False),
)


# -- measurements ----------------------------------------------------------------------------------------------------
QUIET = RunSettings(clients=1, ops_per_client=0, plan=FaultPlan(kinds=(), swarm=False), max_steps=50_000,
                    max_time=5_000.0)
ROUTE53 = {"probe_timeout": 4.0, "cross_region": 0.1, "attempt_timeout": 2.0, "pause": 0.0}  # Route 53's timings


def _watch_times(run) -> list[float]:
    return [op.output["after"] for op in run.history.operations() if op.f == "watch" and op.is_ok]


def _failover_table(seed: int, intervals, ttls, runs: int, threshold: int = 3) -> list[dict]:
    """Fault-free runs: the primary goes down ``offset`` seconds after a client filled its resolver's cache (offsets
    sweep the cache's and the probes' phases); failover is the time from the outage to the first call the secondary
    serves, failback the time from the restore to the first call the primary serves."""
    table = []
    for interval in intervals:
        for ttl in ttls:
            for k in range(runs):
                offset = round(((k + 0.5) / runs) * ttl + k * interval / runs, 3)
                cfg = SPEC.make_config({**ROUTE53, "interval": interval, "ttl": ttl, "failure_threshold": threshold,
                                        "scenario": "measure", "offset": offset})
                run = simulate(SPEC, cfg, SeededChoices(seed * 1_000_003 + k), QUIET)
                times = _watch_times(run)
                if len(times) < 2:
                    continue
                table.append({"interval_s": interval, "ttl_s": ttl, "threshold": threshold, "offset_s": offset,
                              "failover_s": times[0], "failback_s": times[1],
                              "expected_max_s": interval * threshold + ttl})
    return table


def measure_failover_time(seed: int, runs: int = 3) -> Measurement:
    """Failover time against TTL for two health-check intervals (Route 53's fast 10 s and standard 30 s), threshold
    3, probe timeout 4 s, 100 ms between regions."""
    table = _failover_table(seed, (10.0, 30.0), (10.0, 60.0, 300.0), runs)
    if not table:
        return Measurement(0.0, "s", "no run failed over: nothing measured", table)
    over = [r for r in table if r["failover_s"] > r["expected_max_s"] + 4.0 + 2.0]
    cell = [r["failover_s"] for r in table if r["interval_s"] == 10.0 and r["ttl_s"] == 60.0]
    return Measurement(
        round(statistics.median(cell), 1), "s (median failover, 10 s interval, threshold 3, TTL 60 s)",
        f"{len(table)} fault-free runs (intervals 10 and 30 s, TTL 10, 60 and 300 s, threshold 3, the outage at "
        f"swept phases of the probes and the cache): failover took {min(r['failover_s'] for r in table):.0f}-"
        f"{max(r['failover_s'] for r in table):.0f} s, between (threshold - 1) * interval and interval * threshold "
        f"+ TTL + a probe timeout; {len(over)} runs beyond that; failback "
        f"{min(r['failback_s'] for r in table):.0f}-{max(r['failback_s'] for r in table):.0f} s",
        table, plot=Plot("ttl_s", "failover_s", series="interval_s", kind="line",
                         title="failover time against TTL, by health-check interval (threshold 3)"))


def measure_sixty_seconds(seed: int, runs: int = 4) -> Measurement:
    """The interview's "~60 seconds": failover time with a 60 s TTL at the fast (10 s) and standard (30 s) interval,
    and with a 0-ish TTL of 5 s, where health checks alone decide."""
    table = _failover_table(seed, (10.0, 30.0), (5.0, 60.0), runs)
    if not table:
        return Measurement(0.0, "s", "no run failed over: nothing measured", table)
    by = {}
    for r in table:
        by.setdefault((r["interval_s"], r["ttl_s"]), []).append(r["failover_s"])
    cells = "; ".join(f"interval {i:g} s, TTL {t:g} s: {min(v):.0f}-{max(v):.0f} s (median {statistics.median(v):.0f})"
                      for (i, t), v in sorted(by.items()))
    within = sum(r["failover_s"] <= 60.0 for r in table)
    return Measurement(round(statistics.median(by[(30.0, 60.0)]), 1),
                       "s (median failover, standard 30 s interval, threshold 3, TTL 60 s)",
                       f"{within} of {len(table)} runs failed over within 60 s; {cells}", table,
                       plot=Plot("ttl_s", "failover_s", series="interval_s", kind="bar",
                                 title="failover time: is it ~60 s?"))


WEIGHTS = ((90, 10), (50, 50), (0, 100), (10, 90))


def measure_weighted_shares(seed: int, samples: int = 400) -> Measurement:
    """Weighted routing: the share of ``samples`` answers naming each endpoint, against its weight (fault-free; the
    protocol's coins are fair once faults stop)."""
    table, worst = [], 0.0
    for k, weights in enumerate(WEIGHTS):
        cfg = SPEC.make_config({"mode": "weighted", "weights": weights, "scenario": "sample", "samples": samples})
        run = simulate(SPEC, cfg, SeededChoices(seed * 1_000_003 + k), RunSettings(
            clients=1, ops_per_client=0, plan=FaultPlan(kinds=(), swarm=False), max_steps=20_000))
        (counts,) = [op.output for op in run.history.operations() if op.f == "sample" and op.is_ok]
        total = sum(counts.values())
        label = f"{weights[0]}/{weights[1]}"
        share = counts["primary"] / total
        expected = weights[0] / sum(weights)
        worst = max(worst, abs(share - expected))
        table.append({"weights": label, "series": "weight", "primary_share": round(expected, 3), "answers": total})
        table.append({"weights": label, "series": "measured", "primary_share": round(share, 3), "answers": total})
    return Measurement(round(worst, 3), "(largest |measured - weight| share of the primary)",
                       f"{samples} answers per setting, weights (primary/secondary) "
                       f"{', '.join(f'{a}/{b}' for a, b in WEIGHTS)}: measured primary shares "
                       f"{', '.join(str(r['primary_share']) for r in table if r['series'] == 'measured')}", table,
                       plot=Plot("weights", "primary_share", series="series", kind="bar",
                                 title="weighted routing: the primary's share of answers"))


FLAP_CASES = (("majority", 3), ("majority", 1), ("single", 3), ("single", 1))


def measure_flapping(seed: int, runs: int = 12) -> Measurement:
    """Partitions (checkers cut off from endpoints or from DNS disagree) and message loss, the primary never down:
    how often the DNS answer switches per run, and how often a checker changes its verdict on the primary, by rule
    and threshold."""
    settings = RunSettings(plan=FaultPlan(kinds=("partition", "drop"), swarm=False))
    table = []
    for rule, threshold in FLAP_CASES:
        cfg = SPEC.make_config({"rule": rule, "failure_threshold": threshold, "scenario": "none"})
        switches = flips = switched_runs = 0
        for i in range(runs):
            run = simulate(SPEC, cfg, SeededChoices(seed * 1_000_003 + i), settings)
            n = run.note_count("switch")
            switches += n
            switched_runs += n > 0
            flips += sum(1 for e in run.log.notes("unhealthy") if e["endpoint"] == "primary")
        table.append({"case": f"{rule}, threshold {threshold}", "rule": rule, "threshold": threshold, "runs": runs,
                      "switches_per_run": round(switches / runs, 2), "runs_switched": switched_runs,
                      "checker_flaps_per_run": round(flips / runs, 2)})
    by = {(r["rule"], r["threshold"]): r for r in table}
    return Measurement(by[("majority", 3)]["switches_per_run"], "DNS answer switches per run (majority, threshold 3)",
                       "; ".join(f"{r['case']}: {r['switches_per_run']} switches, {r['checker_flaps_per_run']} "
                                 f"checker verdicts of unhealthy per run ({r['runs_switched']} of {runs} runs "
                                 f"switched)" for r in table) + " (partitions and loss, the primary never down)",
                       table, plot=Plot("case", ("switches_per_run", "checker_flaps_per_run"), kind="bar",
                                        title="flapping under partitions: answer switches and checker flaps"))


FAILOVER = "Automatic DNS failover based on health checks"
HEALTH = "Active health checks on endpoints"
DR = "Primary region down → route to DR region"
WEIGHTED = "Weighted (90/10 → 50/50 → 0/100)"
SPLIT = "Split traffic across endpoints"
SIXTY = ("If the primary region fails health checks, Route 53 automatically routes to the secondary region within "
         "~60 seconds.")

CLAIMS = (
    Claim("9", FAILOVER, "measure", measure=measure_failover_time,
          note="failover time (outage to the first call the secondary serves) against TTL for 10 s and 30 s "
               "intervals, threshold 3, compared with interval * threshold + TTL", expect="measured"),
    Claim("9", FAILOVER, "invariant", variant="good", invariants=("answers-follow-majority",
                                                                 "failover-after-outage"),
          note="under every fault kind the answers follow the checkers' majority; after healing clients reach the "
               "secondary once the primary has been down for the window, and the primary once it is back",
          expect="held"),
    Claim("9", FAILOVER, "invariant", variant="ignore-ttl", invariants=("failover-after-outage",),
          note="a resolver that caches forever never fails over", expect="refuted"),
    Claim("9", FAILOVER, "invariant", variant="wall-clock-ttl", invariants=("failover-after-outage",),
          note="a resolver timing its TTL on a clock that can be stepped back serves a stale answer past the window",
          expect="refuted"),
    Claim("9", FAILOVER, "invariant", variant="single-checker", invariants=("answers-follow-majority",),
          note="failover decided by one checker: a partition between it and a healthy primary fails over",
          expect="refuted"),
    Claim("9", FAILOVER, "invariant", variant="no-failback", invariants=("failover-after-outage",),
          note="without failback clients stay on the secondary after the primary recovers", expect="refuted"),
    Claim("9", HEALTH, "invariant", variant="good-loss", invariants=("no-failover-while-up",),
          note="with threshold 3, at most two lost or held messages never make a checker (or DNS) flap",
          expect="held"),
    Claim("9", HEALTH, "invariant", variant="threshold-1", invariants=("no-failover-while-up",),
          note="with a failure threshold of 1 one lost probe marks a healthy primary unhealthy (flapping)",
          expect="refuted"),
    Claim("9", HEALTH, "measure", measure=measure_flapping,
          note="checkers that disagree under partitions: answer switches and checker flaps per run, by rule and "
               "threshold", expect="measured"),
    Claim("9", DR, "invariant", variant="good", invariants=("failover-after-outage",),
          note="after healing, the primary down for longer than the window: every client reaches the secondary",
          expect="held"),
    Claim("9", WEIGHTED, "measure", measure=measure_weighted_shares,
          note="the share of answers per endpoint against the weights", expect="measured"),
    Claim("9", SPLIT, "measure", measure=measure_weighted_shares,
          note="weighted routing splits answers in proportion to the weights", expect="measured"),
    Claim("9", SIXTY, "measure", measure=measure_sixty_seconds,
          note="failover time with a 60 s TTL at the fast and standard intervals (threshold 3), and with a 5 s TTL",
          expect="measured"),
)

LOSS = ("drop", "delay", "duplicate")

SPEC = Protocol(
    name="route53",
    summary="Route 53 DNS failover and weighted routing: three health checkers in three regions, a majority rule, "
            "resolvers caching answers for their TTL; failover and failback timed against interval, threshold, TTL",
    config_class=Route53Config,
    nodes=lambda cfg: {"primary": Endpoint, "secondary": Endpoint, **{c: HealthChecker for c in CHECKERS},
                       "dns": Authoritative, **{r: Resolver for r in RESOLVERS}},
    zones=lambda cfg: dict(ZONES),
    latency=lambda cfg: Latency(cross_region=cfg.cross_region, regions=REGIONS),
    client=client,
    client_nodes=lambda cfg: RESOLVERS,
    workload=workload,
    final_ops=final_ops,
    invariants=INVARIANTS,
    claims=CLAIMS,
    witnesses=(
        Witness.acknowledged("call", "a call answered"),
        Witness.noted("failover"),
        Witness.noted("failback"),
        Witness.noted("unhealthy", "a checker saw an endpoint fail"),
    ),
    variants=(
        Variant("good", {}, "majority of three checkers, threshold 3, resolvers honour the TTL, failback",
                invariants=("answers-follow-majority", "failover-after-outage")),
        Variant("good-loss", {}, "the good configuration under at most two lost or held messages (the primary "
                "never goes down): no checker flaps, since that needs three failed probes in a row",
                faults=LOSS, max_faults=2, invariants=("no-failover-while-up",)),
        Variant("ignore-ttl", {"honor_ttl": False}, "resolvers cache an answer forever: clients never fail over",
                expect_violation="failover-after-outage"),
        Variant("wall-clock-ttl", {"ttl_clock": "wall"}, "resolvers expire answers by comparing their own clock "
                "with the expiry: a clock stepped back keeps a stale answer past its TTL", faults=("skew",),
                expect_violation="failover-after-outage"),
        Variant("single-checker", {"rule": "single"}, "failover decided by hc1 alone: a partition between hc1 and a "
                "healthy primary fails over", faults=("partition",),
                expect_violation="answers-follow-majority"),
        Variant("no-failback", {"failback": False}, "once failed over DNS stays on the secondary after the primary "
                "recovers", expect_violation="failover-after-outage"),
        Variant("threshold-1", {"failure_threshold": 1}, "one failed probe marks the primary unhealthy: under "
                "message loss alone a checker marks it unhealthy and back (flapping)", faults=LOSS, max_faults=2,
                expect_violation="no-failover-while-up", invariants=("no-failover-while-up",)),
    ),
    settle_time=10.0,
    client_timeout=2000.0,  # a watch waits as long as a failover takes; every other operation has its own timeouts
    links="datagram",
)
