"""Shuffle sharding: each customer is served by its own combination of k of n shards; a poison customer takes down
its shards, and only customers with no shard outside them are affected.

Seed section 12 ("Shuffle Sharding"). The model:

* **shards** (``shard-0`` .. ``shard-7``): workers. A customer's shards are ``table[hash(customer) % len(table)]``
  (:class:`models.sharding.ShardAssignment`): with ``assignment=shuffle`` the table lists all C(n,k) k-subsets, the
  "virtual shards" (28 for n=8, k=2); the proofs read the very same object.
* **clients** are customers and route themselves (client-side routing, as Route 53's shuffle-sharded name servers
  are used): they ask one of their shards (which first: a choice), and on no answer the next shard of their own set,
  round after round, for up to ``CLIENT_BUDGET`` seconds. With ``retry=none`` a client keeps asking its first shard
  only; with ``retry=every-shard`` it moves on to every other shard too.
* **the poison**: the ``poison`` customer's requests crash the worker that processes them, durably (the worker
  marks itself poisoned, synced, and never answers again): a noisy neighbour that takes its shards down.

The history names its placement (a final ``placement`` operation: every customer's shards and the poison), then
the poison customer's request and one request per customer after healing and recovery; the blast radius is read off
it by :mod:`invariants.blast_radius`. The combinatorics (28 pairs, 1/28, 1/8) are proved exactly for the assignment
in the configuration, by z3 over every 32-bit hash and by counting (:mod:`models.sharding`), and measured over
10,000 customer IDs and in simulation.

Claimed (held under every fault kind, judged after recovery): only customers whose shards are all the poison's are
affected, and all of those are. In the main phase, under any one dropped connection, delay or skew, every other
customer is served (its other shard answers). Not claimed in the main phase: a crash of a healthy shard is a second,
independent outage; a customer whose other shard it was has none left (judged after recovery instead).

Known-bad: ``no-retry`` (customers sharing one shard with the poison are down too), ``retry-every-shard`` (the
poison's own retries take down every shard) and ``clustered-assignment`` (customers put in 4 fixed pairs: its runs
hold, since the blast radius is still "customers sharing both shards", but the proofs refute 28 virtual shards and
1/28: a quarter of all customers share the poison's pair).

Sentences of section 12 not judged here, and why: "Customer uses K× the resources (spread across K shards)" (no
capacity model), "More complex routing logic" and "Monitoring per-customer resource usage is harder" (not
properties of a run), "AWS uses this in Route 53, CloudFront, and other services." (a fact about AWS).
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from fractions import Fraction

import attrs
import trio

from faultlab import (
    Claim,
    ConfigError,
    Fail,
    FaultPlan,
    Invariant,
    Measurement,
    Node,
    Ok,
    Protocol,
    RunSettings,
    SeededChoices,
    Variant,
    Witness,
    handler,
    simulate,
)
from invariants.blast_radius import (
    check_blast_radius,
    check_blast_radius_after_recovery,
    check_exposed_customers_down,
    check_served_by_own_units,
    placement_of,
)
from models.sharding import (
    TABLES,
    ShardAssignment,
    prove_k_distinct_shards,
    prove_overlap,
    prove_unique_sets,
    prove_virtual_shards,
)

CUSTOMERS = tuple(f"cust-{i:02d}" for i in range(1, 17))
ATTEMPT_TIMEOUT = 0.5   # a client's wait for one shard
CLIENT_BUDGET = 12.0    # a client cycles over its shards this long (longer than the longest delay fault, 8 s)
RETRY = ("other-shard", "none", "every-shard")
POPULATION = tuple(f"customer-{i:05d}" for i in range(10_000))


# -- messages --------------------------------------------------------------------------------------------------------
@attrs.frozen
class Work:
    customer: str
    n: int


@attrs.frozen
class Done:
    shard: str


# -- configuration ---------------------------------------------------------------------------------------------------
@attrs.frozen
class ShuffleShardingConfig:
    shards: int = attrs.field(default=8, metadata={"help": "worker shards (n)"})
    k: int = attrs.field(default=2, metadata={"help": "shards per customer (k); k=1 is simple sharding"})
    assignment: str = attrs.field(default="shuffle", metadata={
        "help": "virtual shard table: shuffle (all C(n,k) k-subsets); known-bad blocks (disjoint groups of k) or "
                "adjacent (n windows of k neighbours)"})
    retry: str = attrs.field(default="other-shard", metadata={
        "help": "on no answer the client tries: other-shard (the rest of its own set); known-bad none (its first "
                "shard only) or every-shard (every shard)"})
    poison: str = attrs.field(default="cust-04", metadata={
        "help": f"the customer whose requests crash the shard that serves them ({CUSTOMERS[0]}..{CUSTOMERS[-1]})"})

    def __attrs_post_init__(self) -> None:
        for name, low, high in (("shards", 2, 16), ("k", 1, 4)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ConfigError(f"shuffle-sharding: {name}={value!r}; choose a whole number from {low} to {high}")
        if self.k >= self.shards:
            raise ConfigError(f"shuffle-sharding: k={self.k} must be below shards={self.shards}; lower k or add "
                              f"shards")
        if self.assignment not in TABLES:
            raise ConfigError(f"shuffle-sharding: assignment={self.assignment!r}; choose one of "
                              f"{', '.join(TABLES)}")
        if self.assignment == "blocks" and self.shards % self.k:
            raise ConfigError(f"shuffle-sharding: assignment=blocks needs shards divisible by k ({self.shards} by "
                              f"{self.k}); change shards or k")
        if self.retry not in RETRY:
            raise ConfigError(f"shuffle-sharding: retry={self.retry!r}; choose one of {', '.join(RETRY)}")
        if self.poison not in CUSTOMERS:
            raise ConfigError(f"shuffle-sharding: poison={self.poison!r} is not a customer; choose one of "
                              f"{', '.join(CUSTOMERS)}")

    def shard_assignment(self) -> ShardAssignment:
        return ShardAssignment.build(self.shards, self.k, self.assignment)

    def shard_ids(self) -> tuple[str, ...]:
        return tuple(f"shard-{i}" for i in range(self.shards))

    def placement(self) -> dict:
        """The history's record of every customer's shards (read by invariants.blast_radius)."""
        a = self.shard_assignment()
        return {"kind": "shard", "poison": self.poison,
                "units": {c: [f"shard-{s}" for s in a.shards_of(c)] for c in CUSTOMERS}}


# -- nodes -----------------------------------------------------------------------------------------------------------
class Worker(Node[ShuffleShardingConfig]):
    """A shard: serves any customer's request; the poison customer's request crashes it for good (the poisoned
    flag is synced, so every later incarnation crash-loops and never answers)."""

    @handler
    def on_work(self, msg: Work) -> Done | None:
        if self.storage.get("poisoned") is not None:
            return None
        if msg.customer == self.config.poison:
            self.storage.save(poisoned=msg.customer)
            self.ctx.note("poisoned", customer=msg.customer)
            return None
        return Done(self.id)


# -- client and workload ---------------------------------------------------------------------------------------------
def attempt_order(cfg: ShuffleShardingConfig, shards: tuple[int, ...], first: int) -> list[str]:
    """The shards a client asks, in order, for one round: its own set from ``first`` on, or as ``retry`` says."""
    own = [f"shard-{s}" for s in shards[first:] + shards[:first]]
    if cfg.retry == "none":
        return own[:1]
    if cfg.retry == "every-shard":
        return own + [s for s in cfg.shard_ids() if s not in own]
    return own


async def client(api, f: str, value) -> Ok | Fail:
    """A customer: ask its shards in turn, round after round, until one answers or the budget is spent.
    ``placement`` only records where every customer lives (its input), so the history can be judged alone."""
    if f == "placement":
        return Ok(None)
    cfg = api.config
    customer = value[0]
    shards = cfg.shard_assignment().shards_of(customer)
    order = attempt_order(cfg, shards, api.choose(len(shards)))  # which shard first: spreads the load
    with trio.move_on_after(CLIENT_BUDGET):
        while True:
            for shard in order:
                reply = None
                with trio.move_on_after(ATTEMPT_TIMEOUT):
                    reply = await api.call(Work(customer, value[1]), shard)
                if reply is not None:
                    return Ok([customer, reply.shard])
    return Fail("no shard answered")


def workload(choices, op_index: int) -> tuple[str, object]:
    """A request by one of the customers (the poison customer among them)."""
    return "request", [CUSTOMERS[choices.choose(len(CUSTOMERS))], op_index + 1]


def final_ops(cfg: ShuffleShardingConfig) -> list[tuple[str, object, str]]:
    """After healing and recovery: the placement, the poison customer's request, then one request per customer."""
    ops: list[tuple[str, object, str]] = [("placement", cfg.placement(), "shard-0"),
                                          ("request", [cfg.poison, 0], "shard-0")]
    return ops + [("request", [c, 0], "shard-0") for c in CUSTOMERS if c != cfg.poison]


# -- invariants and witnesses ----------------------------------------------------------------------------------------
INVARIANTS = (
    Invariant("blast-radius", check_blast_radius,
              "after the poison arrived, every request of a customer with a shard outside the poison's is served"),
    Invariant("blast-radius-after-recovery", check_blast_radius_after_recovery,
              "after healing and recovery, every customer with a shard outside the poison's shards is served"),
    Invariant("served-by-own-shards", check_served_by_own_units,
              "every served request was served by one of its customer's own shards"),
    Invariant("sharing-all-shards-down", check_exposed_customers_down,
              "after recovery every customer whose shards are all the poison's is down too"),
)


def neighbour_served_after_poison(run) -> bool:
    """A customer sharing some shards (not all) with the poison was served after the poison arrived: its retry on
    its other shard was exercised. When no customer shares part of the poison's set (k=1, or disjoint blocks),
    there is nothing to witness."""
    pl = placement_of(run.history)
    if pl is None:
        return False

    def neighbour(customer: str) -> bool:
        return bool(pl.units[customer] & pl.origin) and not pl.units[customer] <= pl.origin

    if not any(neighbour(c) for c in pl.units):
        return True
    ops = run.history.operations()
    first = pl.arrival(ops)
    return first is not None and any(op.f == "request" and op.is_ok and first.called < op.called
                                     and neighbour(op.input[0]) for op in ops)


WITNESSES = (
    Witness.acknowledged("request", "a request served"),
    Witness.noted("poisoned", "a shard took the poison"),
    Witness("a neighbour of the poison served", neighbour_served_after_poison,
            "a customer sharing some of the poison's shards was served after the poison arrived (when one exists)"),
)


# -- proofs ----------------------------------------------------------------------------------------------------------
def prove_virtual_shard_count(cfg: ShuffleShardingConfig):
    """Exactly C(n,k) virtual shards (every k-subset reachable), each customer on k distinct shards."""
    a = cfg.shard_assignment()
    return [prove_k_distinct_shards(a), prove_virtual_shards(a)]


def prove_pair_overlap(cfg: ShuffleShardingConfig):
    """Two random customers share both shards with probability 1/C(n,k): 1/28 ≈ 3.6% for n=8, k=2."""
    a = cfg.shard_assignment()
    c = math.comb(cfg.shards, cfg.k)
    return [prove_virtual_shards(a), prove_overlap(a, Fraction(1, c), f"1/{c} ≈ {100 / c:.1f}%")]


def prove_simple_overlap(cfg: ShuffleShardingConfig):
    """Simple sharding (k=1): two random customers are on the same shard with probability 1/n: 1/8 = 12.5%."""
    a = cfg.shard_assignment()
    return [prove_overlap(a, Fraction(1, cfg.shards), f"1/{cfg.shards} = {100 / cfg.shards:.1f}%")]


def prove_unique_pairs(cfg: ShuffleShardingConfig):
    return [prove_unique_sets(cfg.shard_assignment(), CUSTOMERS)]


def prove_deterministic_k(cfg: ShuffleShardingConfig):
    return [prove_k_distinct_shards(cfg.shard_assignment())]


# -- measurements ----------------------------------------------------------------------------------------------------
def population_overlap(a: ShardAssignment, customers=POPULATION) -> float:
    """Share of pairs of distinct customers (of ``customers``) that share all their shards."""
    counts = Counter(a.shards_of(c) for c in customers)
    n = len(customers)
    return sum(m * (m - 1) for m in counts.values()) / (n * (n - 1))


FAULT_FREE = RunSettings(clients=1, ops_per_client=0, plan=FaultPlan(kinds=(), swarm=False))


def simulated_affected(settings: dict, seed: int) -> float:
    """Each of the 16 customers in turn is the poison (simulated, no faults); the share of the other 15 customers
    not served after recovery, averaged."""
    shares = []
    for i, poison in enumerate(CUSTOMERS):
        cfg = SPEC.make_config({**settings, "poison": poison})
        run = simulate(SPEC, cfg, SeededChoices(seed * 1_000_003 + i), FAULT_FREE)
        down = {op.input[0] for op in run.history.operations()
                if op.f == "request" and op.phase == "final" and not op.is_ok} - {poison}
        shares.append(len(down) / (len(CUSTOMERS) - 1))
    return sum(shares) / len(shares)


def measure_overlap(seed: int, figure: str = "shuffle n=8 k=2") -> Measurement:
    """Co-location of two customers: exact (every hash), over 10,000 customer IDs, and the share of the other
    customers a simulated poison customer takes down (16 customers, each the poison in turn); the figure is the
    ``figure`` row's share of customer pairs."""
    rows = [dict(r) for r in _overlap_rows(seed)]
    by_name = {r["configuration"]: r for r in rows}
    shuffle, simple = by_name["shuffle n=8 k=2"], by_name["simple n=8 k=1"]
    return Measurement(by_name[figure]["population_pct"],
                       f"% of customer pairs sharing all shards ({figure}, 10,000 customers)",
                       "; ".join(f"{r['configuration']}: " + (f"{r['exact_pct']}% exact, {r['population_pct']}% "
                                 f"of 10,000 customers' pairs share all shards, " if r["exact_pct"] is not None
                                 else "") + f"{r['simulated_affected_pct']}% of the other 15 simulated customers "
                                 f"down after a poison" for r in rows)
                       + f" (simple/shuffle = {simple['population_pct'] / shuffle['population_pct']:.2f}x)", rows)


@functools.cache
def _overlap_rows(seed: int) -> tuple[dict, ...]:
    """The rows of :func:`measure_overlap`, computed once per seed and process (three claims read them)."""
    rows = []
    for label, settings in (("shuffle n=8 k=2", {}), ("simple n=8 k=1", {"k": 1}),
                            ("no retry n=8 k=2", {"retry": "none"}),
                            ("clustered blocks n=8 k=2", {"assignment": "blocks"})):
        cfg = SPEC.make_config(settings)
        a = cfg.shard_assignment()
        same = settings.get("retry") == "none"  # the shuffle's assignment: its figures are the first row's
        rows.append({"configuration": label,
                     "exact_pct": None if same else round(100 * float(a.overlap_probability()), 3),
                     "population_pct": None if same else round(100 * population_overlap(a), 3),
                     "population": len(POPULATION),
                     "simulated_affected_pct": round(100 * simulated_affected(settings, seed), 2),
                     "simulated_customers": len(CUSTOMERS)})
    return tuple(rows)


def measure_combinations(seed: int) -> Measurement:
    """Virtual shards C(n,k) and the exact chance two customers share all k shards, for n shards: for fixed k the
    count grows as n^k/k! (polynomially); with k = n/2 it grows exponentially (about 2^n / sqrt(n))."""
    rows = []
    for n in (4, 8, 16, 32):
        for k in sorted({1, 2, 3, n // 2}):
            c = math.comb(n, k)
            rows.append({"shards": n, "k": k, "virtual_shards": c, "vs_simple": round(c / n, 2),
                         "share_both_pct": round(100 / c, 6)})
    eight = next(r for r in rows if r["shards"] == 8 and r["k"] == 2)
    return Measurement(float(eight["virtual_shards"]), "virtual shards for n=8, k=2",
                       "k=2: " + ", ".join(f"n={r['shards']}: {r['virtual_shards']}" for r in rows if r["k"] == 2)
                       + " (quadratic in n); k=n/2: "
                       + ", ".join(f"n={r['shards']}: {r['virtual_shards']}" for r in rows if r["k"] == r["shards"] // 2)
                       + " (exponential in n); blast radius 1/C(n,k) against 1/n for simple sharding", rows)


# -- claims ----------------------------------------------------------------------------------------------------------
AFTER = ("blast-radius-after-recovery",)
CLAIMS = (
    Claim("12", "8 shards, each customer assigned to a unique pair of 2 shards", "z3", variant="shuffle",
          prove=prove_unique_pairs,
          note="exhaustive over the 16 customers the simulation runs: a hash-based assignment gives two of them "
               "the same pair (the birthday problem over 28 pairs); no assignment can keep more than 28 customers "
               "unique: refuted as stated, which is why the next sentences speak of probabilities",
          expect="refuted"),
    Claim("12", "Number of unique pairs: C(8,2) = 28 virtual shards", "z3", variant="shuffle",
          prove=prove_virtual_shard_count,
          note="z3 over every 32-bit customer hash: each gets 2 distinct shards of 8, and all 28 pairs are reached",
          expect="proved"),
    Claim("12", "Number of unique pairs: C(8,2) = 28 virtual shards", "z3", variant="clustered-assignment",
          prove=prove_virtual_shard_count,
          note="customers put in 4 fixed pairs (0,1), (2,3), (4,5), (6,7): only 4 of the 28 pairs are reached",
          expect="refuted"),
    Claim("12", "If a bad customer overloads their 2 shards → only customers sharing BOTH shards are affected",
          "invariant", variant="shuffle", invariants=AFTER + ("sharing-all-shards-down",),
          note="a poison customer's requests crash its 2 shards durably; after healing and recovery, under every "
               "fault kind, every customer with a shard outside them is served (retry on its other shard) and "
               "every customer sharing both is not", expect="held"),
    Claim("12", "If a bad customer overloads their 2 shards → only customers sharing BOTH shards are affected",
          "invariant", variant="shuffle-transient", invariants=("blast-radius",),
          note="every request after the poison arrived, in every phase, under any one dropped connection, delay or "
               "skew: served unless the customer shares both shards", expect="held"),
    Claim("12", "If a bad customer overloads their 2 shards → only customers sharing BOTH shards are affected",
          "invariant", variant="no-retry", invariants=AFTER,
          note="without retry on the other shard, a customer sharing one shard with the poison is down: refuted",
          expect="refuted"),
    Claim("12", "If a bad customer overloads their 2 shards → only customers sharing BOTH shards are affected",
          "invariant", variant="retry-every-shard", invariants=AFTER,
          note="a client that retries on every shard carries its poison to all 8: every customer is down: refuted",
          expect="refuted"),
    Claim("12", "Probability of two random customers sharing both shards: 1/28 ≈ 3.6%", "z3", variant="shuffle",
          prove=prove_pair_overlap,
          note="exact over every 32-bit hash (customers' hashes independent and uniform): the assignment the code "
               "runs reaches all 28 pairs, and two customers share both shards with probability "
               "(24q² + 4(q+1)²)/2^64 with q = floor(2^32/28) = 153391689, which is 1/28 + 3/(7·2^61)",
          expect="proved"),
    Claim("12", "Probability of two random customers sharing both shards: 1/28 ≈ 3.6%", "z3",
          variant="clustered-assignment", prove=prove_pair_overlap,
          note="the clustered assignment: 4 pairs, so two customers share both shards with probability 1/4 = 25%: "
               "refuted", expect="refuted"),
    Claim("12", "Probability of two random customers sharing both shards: 1/28 ≈ 3.6%", "measure",
          measure=measure_overlap,
          note="over the 49,995,000 pairs of 10,000 customer IDs, and the share of the other customers a simulated "
               "poison customer takes down (16 customers; each the poison in turn; no faults)", expect="measured"),
    Claim("12", "vs simple sharding (1 of 8): 1/8 = 12.5% chance of being co-located", "z3",
          variant="simple-sharding", prove=prove_simple_overlap,
          note="k=1: every hash maps to one of 8 shards, 2^32/8 hashes each: exactly 1/8", expect="proved"),
    Claim("12", "vs simple sharding (1 of 8): 1/8 = 12.5% chance of being co-located", "measure",
          measure=lambda seed: measure_overlap(seed, "simple n=8 k=1"),
          note="the same measurement; the figure is its simple-sharding row", expect="measured"),
    Claim("12", 'With simple sharding (customer → shard), if a "noisy neighbor" overloads shard 3, ALL customers '
                'on shard 3 are affected.', "invariant", variant="simple-sharding",
          invariants=("sharing-all-shards-down",) + AFTER,
          note="k=1: after recovery every customer on the poison's shard is down, and no other customer",
          expect="held"),
    Claim("12", "Simple to implement — just pick K shards per customer deterministically", "z3", variant="shuffle",
          prove=prove_deterministic_k,
          note="table[hash % 28] with SHA-256 of the ID: z3 shows every hash gets 2 distinct shards of 8; the "
               "function is the one the clients run", expect="proved"),
    Claim("12", "The number of unique combinations grows exponentially.", "measure", measure=measure_combinations,
          note="C(n,k) for n = 4..32: polynomial (n^k/k!) for a fixed k, exponential only when k grows with n",
          expect="measured"),
    Claim("12", "Exponentially reduces blast radius (C(N,K) combinations vs N shards)", "measure",
          measure=measure_combinations, note="the same table: blast radius 1/C(n,k) against 1/n", expect="measured"),
    Claim("12", "This creates C(8,2) = 28 virtual isolation groups instead of 8.", "z3", variant="shuffle",
          prove=prove_virtual_shard_count, note="as for the 28 virtual shards", expect="proved"),
    Claim("12", "A bad customer only affects the ~3.6% of customers sharing both shards, vs 12.5% with simple "
                "sharding.", "measure", measure=measure_overlap,
          note="simulated: the share of the other customers down after a poison, and over 10,000 customers",
          expect="measured"),
)


SPEC = Protocol(
    name="shuffle-sharding",
    summary="shuffle sharding: each customer on k of n shards (28 pairs of 8), retry on its other shard; a poison "
            "customer's blast radius",
    config_class=ShuffleShardingConfig,
    nodes=lambda cfg: {s: Worker for s in cfg.shard_ids()},
    client=client,
    workload=workload,
    final_ops=final_ops,
    invariants=INVARIANTS,
    witnesses=WITNESSES,
    variants=(
        Variant("shuffle", {}, "all 28 pairs of 8 shards by hash; a client retries on its other shard",
                invariants=("blast-radius-after-recovery", "served-by-own-shards", "sharing-all-shards-down")),
        Variant("shuffle-transient", {}, "the same, judged in every phase under any one drop, delay or skew",
                invariants=("blast-radius", "served-by-own-shards"), faults=("drop", "delay", "skew"),
                max_faults=1),
        Variant("simple-sharding", {"k": 1}, "each customer on one shard of 8",
                invariants=("blast-radius-after-recovery", "served-by-own-shards", "sharing-all-shards-down")),
        Variant("no-retry", {"retry": "none"}, "a client asks its first shard only",
                expect_violation="blast-radius-after-recovery"),
        Variant("retry-every-shard", {"retry": "every-shard"}, "a client retries on every shard, not only its own",
                expect_violation="blast-radius-after-recovery"),
        Variant("clustered-assignment", {"assignment": "blocks"},
                "customers in 4 fixed pairs of shards, not a shuffle: the proofs refute 28 virtual shards and 1/28; "
                "its runs hold (the blast radius is still the customers sharing both shards, a quarter of them)",
                invariants=("blast-radius-after-recovery", "served-by-own-shards")),
    ),
    claims=CLAIMS,
    settle_time=2.0,
    client_timeout=CLIENT_BUDGET + 3.0,
)
