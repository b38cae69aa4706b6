"""Cell-based architecture: a thin router sends each customer to its cell by a stable hash; a poison request takes
down its own cell and no other.

Seed section 11 ("Cell-Based Architecture"). The model:

* **routers** (``router-a``, ``router-b``): the thin routing layer. A customer's cell is ``hash(customer) % cells``
  (:class:`models.sharding.CellRouting`, SHA-256 of the ID, the same function the proofs read). A router asks the
  cell's replicas one after the other (which first: an environment choice) and answers with the cell that served,
  or "cell unavailable". Clients try the other router when one does not answer.
* **cells** (``cell-1`` .. ``cell-N``), each ``replicas`` nodes (``cell-1a``, ``cell-1b``) that keep the cell's data
  in their own storage: own database, own instances, nothing shared with another cell.
* **the poison**: one customer's requests (``poison``) crash whatever processes them, and the crash is durable (the
  bad record is in the cell's store; every restart crash-loops on it): the node marks itself poisoned, synced, and
  never answers again. That is a bug or overload in one customer's traffic, in the document's words.

The history names its placement (a final ``placement`` operation whose input is every customer's cell and the
poison customer), then the poison customer's request and one request per customer, after healing and recovery, so
the blast radius is read off the history: :mod:`invariants.blast_radius`.

A bad deployment (``rollout``, with ``poison=none``): a deployer rolls out a version that crash-loops on every request
while the workload runs, under faults: ``cell-by-cell`` installs cell-1 first (the canary), bakes it, health-checks
every replica and halts at the first unhealthy cell (progress is durable: a restarted deployer resumes, and a halted
rollout stays halted). The final phase asks where the rollout got to, then sends one request per customer.

Claimed (held under every fault kind, judged after recovery): no customer outside the poison's cell (the canary
cell) is affected, every customer inside the poison's cell is, and no request is served by another cell; in the
main phase, under any single fault (a crash, a dropped connection, a delayed link or node, clock skew), customers
outside the poisoned cell are never refused. Not claimed in the main phase: a partition that cuts a whole healthy
cell off from both routers is an outage of that cell, not the poison's (judged after recovery instead), and two
faults can take both routers. Not claimed for a rollout: that the canary is always broken (a partition can make the
install fail, and the rollout halts before it).

Known-bad: ``failover-to-next-cell`` (a router that sends a failed cell's customers to the next cells in turn until
one answers: the poison follows and takes every cell down), ``shared-database`` (every cell's replicas query one
database node: the poison's query takes it down, and every cell with it) and ``all-at-once-rollout`` (the bad
version goes to every cell at once).

Sentences of section 11 not judged here, and why: "Each cell can scale independently" (no capacity model); "More
infrastructure to manage (N copies of everything)" and "Higher base cost (each cell has minimum resources)" (no cost
model; the node count is N times a cell's, by construction); "Cross-cell operations are complex (customer migration
between cells)" (no migration is modelled); "AWS uses this pattern internally — S3, DynamoDB, and other services are
cell-based." (a fact about AWS, not about this design); "Deploy changes one cell at a time as a canary." (the
design's own advice; its consequence is judged as "If deployment breaks cell 1, cells 2-N are unaffected").
"""

from __future__ import annotations

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
    Unknown,
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
)
from models.sharding import CellRouting, prove_cell_routing

CUSTOMERS = tuple(f"cust-{i:02d}" for i in range(1, 13))
REPLICA_TIMEOUT = 0.5   # a router's wait for one cell replica
DB_TIMEOUT = 0.2        # a replica's wait for the shared database (shared-database only)
POPULATION = tuple(f"customer-{i:05d}" for i in range(10_000))  # for figures over many customers (no simulation)
ROLLOUTS = ("none", "cell-by-cell", "all-at-once")
ROLLOUT_AT = 1.0        # seconds after the deployer starts that it begins the rollout
INSTALL_TIMEOUT = 0.5   # the deployer's wait for a cell's replicas to acknowledge an install (3 tries)
BAKE_TIME = 0.5         # how long a new version runs before the health check
BAD_VERSION = "v2-broken"
STATUS_TIMEOUT = 10.0   # a client's wait for the deployer to report (it answers once the rollout has finished)


# -- messages --------------------------------------------------------------------------------------------------------
@attrs.frozen
class CustomerRequest:
    customer: str
    n: int


@attrs.frozen
class Serve:
    customer: str
    n: int


@attrs.frozen
class Served:
    cell: str


@attrs.frozen
class Query:
    customer: str


@attrs.frozen
class QueryReply:
    pass


@attrs.frozen
class Install:
    version: str


@attrs.frozen
class Installed:
    pass


@attrs.frozen
class RolloutStatus:
    pass


# -- configuration ---------------------------------------------------------------------------------------------------
@attrs.frozen
class CellsConfig:
    cells: int = attrs.field(default=4, metadata={"help": "independent cells (N); customer -> cell by hash % N"})
    replicas: int = attrs.field(default=2, metadata={"help": "nodes per cell, each with the cell's own storage"})
    poison: str = attrs.field(default="cust-04", metadata={
        "help": f"the customer whose requests crash what processes them (one of {CUSTOMERS[0]}..{CUSTOMERS[-1]})"})
    spill: bool = attrs.field(default=False, metadata={
        "help": "known-bad: a router sends a customer whose cell does not answer to the next cells, in turn"})
    shared_db: bool = attrs.field(default=False, metadata={
        "help": "known-bad: every cell's replicas query one shared database node"})
    rollout: str = attrs.field(default="none", metadata={
        "help": "a deployer rolls a bad version out during the workload: none, cell-by-cell (cell-1 first as the "
                "canary, halting when a cell fails its health check) or known-bad all-at-once (needs poison=none)"})

    def __attrs_post_init__(self) -> None:
        for name, low, high in (("cells", 1, 8), ("replicas", 1, 3)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ConfigError(f"cells: {name}={value!r}; choose a whole number from {low} to {high}")
        if self.poison not in CUSTOMERS + ("none",):
            raise ConfigError(f"cells: poison={self.poison!r} is not a customer; choose one of "
                              f"{', '.join(CUSTOMERS)} or none")
        if self.rollout not in ROLLOUTS:
            raise ConfigError(f"cells: rollout={self.rollout!r}; choose one of {', '.join(ROLLOUTS)}")
        if self.rollout != "none" and self.poison != "none":
            raise ConfigError(f"cells: rollout={self.rollout} judges a bad deployment on its own; set poison=none")
        if self.spill and self.cells < 2:
            raise ConfigError("cells: spill=true needs another cell to spill to; set cells=2 or more")

    def router_timeout(self) -> float:
        """A client's wait for one router: longer than the router's worst case (every replica of every cell it may
        ask times out)."""
        return (self.cells if self.spill else 1) * self.replicas * REPLICA_TIMEOUT + 0.5

    def routing(self) -> CellRouting:
        return CellRouting(self.cells)

    def router_ids(self) -> tuple[str, ...]:
        return ("router-a", "router-b")

    def replica_ids(self, cell: str) -> tuple[str, ...]:
        return tuple(f"{cell}{'abc'[i]}" for i in range(self.replicas))

    def cell_nodes(self) -> dict[str, str]:
        """node -> its cell."""
        return {r: cell for cell in self.routing().cell_names() for r in self.replica_ids(cell)}

    @property
    def poison_customer(self) -> str | None:
        return None if self.poison == "none" else self.poison

    def placement(self) -> dict:
        """The history's record of where every customer lives and where the outage starts (the poison's cell, or
        the canary cell of a rollout), read by invariants.blast_radius."""
        routing = self.routing()
        units = {c: [routing.cell_of(c)] for c in CUSTOMERS}
        if self.rollout != "none":
            return {"kind": "cell", "canary": [routing.cell_names()[0]], "trigger": "rollout", "units": units}
        return {"kind": "cell", "poison": self.poison_customer, "units": units}


# -- nodes -----------------------------------------------------------------------------------------------------------
class Poisonable(Node[CellsConfig]):
    """A node the poison customer's request crashes for good: the poisoned flag is synced, so every later
    incarnation crash-loops on it and never answers."""

    @property
    def poisoned(self) -> bool:
        return self.storage.get("poisoned") is not None

    def take_poison(self, customer: str) -> None:
        self.storage.save(poisoned=customer)
        self.ctx.note("poisoned", customer=customer)


class Router(Node[CellsConfig]):
    """Maps a customer to its cell and asks that cell's replicas; with ``spill``, the next cells in turn."""

    async def _ask_cell(self, cell: str, msg: CustomerRequest) -> Served | None:
        replicas = self.config.replica_ids(cell)
        k = self.ctx.choose(len(replicas))   # which replica first: an environment choice, 0 = in order
        for replica in replicas[k:] + replicas[:k]:
            reply = await self.ctx.call(replica, Serve(msg.customer, msg.n), timeout=REPLICA_TIMEOUT)
            if reply is not None:
                return reply
        return None

    @handler
    async def on_request(self, msg: CustomerRequest) -> Ok | Fail:
        routing = self.config.routing()
        home = routing.cell_of(msg.customer)
        served = await self._ask_cell(home, msg)
        if served is None and self.config.spill:  # fail over to the next cells, in order, until one answers
            names, start = routing.cell_names(), routing.cell_index(msg.customer)
            for step in range(1, self.config.cells):
                other = names[(start + step) % self.config.cells]
                self.ctx.note("spilled", customer=msg.customer, home=home, to=other)
                served = await self._ask_cell(other, msg)
                if served is not None:
                    break
        if served is None:
            return Fail(f"{home} unavailable")
        return Ok([msg.customer, served.cell])


class CellReplica(Poisonable):
    """One node of a cell: serves its customers from the cell's own storage (or, with ``shared_db``, after asking
    the one shared database)."""

    @handler
    async def on_serve(self, msg: Serve) -> Served | None:
        if self.poisoned:
            return None
        cell = self.config.cell_nodes()[self.id]
        if self.config.shared_db:
            answer = await self.ctx.call("shared-db", Query(msg.customer), timeout=DB_TIMEOUT)
            if msg.customer == self.config.poison:
                self.take_poison(msg.customer)
                return None
            return Served(cell) if answer is not None else None
        if msg.customer == self.config.poison:
            self.take_poison(msg.customer)
            return None
        return Served(cell)

    @handler
    def on_install(self, msg: Install) -> Installed:
        """An upgrade (from the deployer): the bad version crash-loops on every request, durably, as a poison
        does."""
        if not self.poisoned:
            self.storage.save(poisoned=f"version {msg.version}")
            self.ctx.note("poisoned", version=msg.version, cell=self.config.cell_nodes()[self.id])
        return Installed()


class Deployer(Node[CellsConfig]):
    """Rolls ``BAD_VERSION`` out during the workload: cell by cell (install, bake, health-check every replica, halt
    at the first unhealthy cell) or all at once. Progress is durable: a restarted deployer resumes, and a halted
    rollout stays halted."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.finished = trio.Event()

    def start(self) -> None:
        self.ctx.spawn(self._rollout)

    async def _install(self, cells: list[str]) -> bool:
        replicas = [r for cell in cells for r in self.config.replica_ids(cell)]
        for _ in range(3):
            acks = await self.ctx.gather(replicas, Install(BAD_VERSION), need=len(replicas), timeout=INSTALL_TIMEOUT)
            replicas = [r for r in replicas if r not in acks]
            if not replicas:
                return True
        return False

    async def _healthy(self, cells: list[str]) -> bool:
        replicas = [r for cell in cells for r in self.config.replica_ids(cell)]
        replies = await self.ctx.gather(replicas, Serve("health-check", 0), need=len(replicas),
                                        timeout=REPLICA_TIMEOUT)
        return len(replies) == len(replicas)

    async def _rollout(self) -> None:
        await trio.sleep(ROLLOUT_AT)
        cells = list(self.config.routing().cell_names())
        waves = [cells] if self.config.rollout == "all-at-once" else [[c] for c in cells]
        for wave in waves:
            if self.storage.get("halted") is not None:
                break
            if wave[-1] in self.storage.get("done", ()):
                continue
            healthy = await self._install(wave)
            if healthy:
                await trio.sleep(BAKE_TIME)
                healthy = await self._healthy(wave)
            if not healthy:
                self.storage.save(halted=tuple(wave))
                self.ctx.note("rollout_halted", at=wave)
                break
            self.storage.save(done=tuple(self.storage.get("done", ())) + tuple(wave))
        self.finished.set()

    @handler
    async def on_status(self, msg: RolloutStatus) -> Ok:
        await self.finished.wait()
        halted = self.storage.get("halted")
        return Ok({"done": list(self.storage.get("done", ())), "halted": list(halted) if halted else None})


class SharedDatabase(Poisonable):
    """The dependency every cell shares in the known-bad ``shared-database`` configuration."""

    @handler
    def on_query(self, msg: Query) -> QueryReply | None:
        if self.poisoned:
            return None
        if msg.customer == self.config.poison:
            self.take_poison(msg.customer)
            return None
        return QueryReply()


def nodes(cfg: CellsConfig) -> dict:
    table: dict = {r: Router for r in cfg.router_ids()}
    table |= {n: CellReplica for n in cfg.cell_nodes()}
    if cfg.shared_db:
        table["shared-db"] = SharedDatabase
    if cfg.rollout != "none":
        table["deployer"] = Deployer
    return table


def zones(cfg: CellsConfig) -> dict[str, str]:
    """A cell is its own failure domain (a zone partition cuts one cell off); routers and the database apart."""
    return ({r: "routing" for r in cfg.router_ids()} | dict(cfg.cell_nodes())
            | ({"shared-db": "database"} if cfg.shared_db else {})
            | ({"deployer": "deployment"} if cfg.rollout != "none" else {}))


# -- client and workload ---------------------------------------------------------------------------------------------
async def client(api, f: str, value) -> Ok | Fail | Unknown:
    """A customer's SDK: ask a router, the other one if it does not answer. ``placement`` only records where every
    customer lives (its input), so that the history can be judged alone."""
    if f == "placement":
        return Ok(None)
    if f == "rollout":  # where the rollout got to (the deployer answers once it has finished)
        with trio.move_on_after(STATUS_TIMEOUT):
            return await api.call(RolloutStatus(), "deployer")
        return Unknown("the deployer did not answer")
    routers = list(api.config.router_ids())
    start = routers.index(api.node) if api.node in routers else 0
    for i in range(len(routers)):
        with trio.move_on_after(api.config.router_timeout()):
            return await api.call(CustomerRequest(value[0], value[1]), routers[(start + i) % len(routers)])
    return Unknown("no router answered")


def workload(choices, op_index: int) -> tuple[str, object]:
    """A request by one of the customers (the poison customer among them)."""
    return "request", [CUSTOMERS[choices.choose(len(CUSTOMERS))], op_index + 1]


def final_ops(cfg: CellsConfig) -> list[tuple[str, object, str]]:
    """After healing and recovery: the placement, the poison customer's request (or where the rollout got to),
    then one request per customer."""
    ops: list[tuple[str, object, str]] = [("placement", cfg.placement(), "router-a")]
    if cfg.poison_customer is not None:
        ops.append(("request", [cfg.poison, 0], "router-a"))
    if cfg.rollout != "none":
        ops.append(("rollout", None, "router-a"))
    return ops + [("request", [c, 0], "router-a") for c in CUSTOMERS if c != cfg.poison]


# -- invariants and witnesses ----------------------------------------------------------------------------------------
INVARIANTS = (
    Invariant("blast-radius", check_blast_radius,
              "after the poison arrived, every request of a customer outside its cell is served (every phase)"),
    Invariant("blast-radius-after-recovery", check_blast_radius_after_recovery,
              "after healing and recovery, every customer outside the poison's cell is served"),
    Invariant("served-by-home-cell", check_served_by_own_units,
              "every served request was served by its customer's own cell (no cross-cell traffic)"),
    Invariant("cell-down-together", check_exposed_customers_down,
              "after recovery every customer of the poison's cell is down: the poison took the whole cell"),
)

def poisoned_in_main(run) -> bool:
    """A node took the poison before the final phase began (its placement operation is the first final one)."""
    events = run.log.of("invoke", "note")
    final = next((e.index for e in events if e.kind == "invoke" and e["f"] == "placement"), None)
    return any(e.what == "poisoned" and (final is None or e.index < final) for e in events)


WITNESSES = (
    Witness.acknowledged("request", "a request served"),
    Witness.noted("poisoned", "a node took the poison (or the bad version)"),
    Witness("poison in the main phase", lambda run: poisoned_in_main(run),
            "a node was poisoned (or upgraded to the bad version) while the workload ran, not only by the final "
            "request"),
)


# -- measurements ----------------------------------------------------------------------------------------------------
def affected_customers(result) -> list[str]:
    """The customers whose request after recovery was not served."""
    return sorted(op.input[0] for op in result.history.operations()
                  if op.f == "request" and op.phase == "final" and not op.is_ok)


FAULT_FREE = RunSettings(clients=1, ops_per_client=0, plan=FaultPlan(kinds=(), swarm=False))


def measure_blast_radius(seed: int, cell_counts: tuple[int, ...] = (1, 2, 4, 8)) -> Measurement:
    """For N cells, each customer in turn is the poison (simulated, no faults: the blast radius alone); the share
    of the 12 customers not served after recovery, against 1/N, and the same from the routing function over 10,000
    customer IDs (no simulation)."""
    table = []
    for n in cell_counts:
        fractions, one_cell = [], True
        for i, poison in enumerate(CUSTOMERS):
            cfg = SPEC.make_config({"cells": n, "poison": poison})
            run = simulate(SPEC, cfg, SeededChoices(seed * 1_000_003 + 97 * n + i), FAULT_FREE)
            affected = affected_customers(run)
            routing = cfg.routing()
            one_cell &= affected == sorted(c for c in CUSTOMERS if routing.cell_of(c) == routing.cell_of(poison))
            fractions.append(len(affected) / len(CUSTOMERS))
        routing = CellRouting(n)
        sizes = [sum(1 for c in CUSTOMERS if routing.cell_of(c) == cell) for cell in routing.cell_names()]
        big = [sum(1 for c in POPULATION if routing.cell_of(c) == cell) for cell in routing.cell_names()]
        table.append({"cells": n, "one_over_n_pct": round(100 / n, 2), "exactly_the_poisons_cell": one_cell,
                      "simulated_affected_pct": round(100 * sum(fractions) / len(fractions), 2),
                      "cell_sizes_of_12": sizes,
                      "affected_pct_poison_cell_uniform": round(100 * sum(s / len(CUSTOMERS) for s in sizes if s)
                                                                / sum(1 for s in sizes if s), 2),
                      "affected_pct_10000_customers": round(100 * sum(b * b for b in big) / len(POPULATION) ** 2, 3),
                      "runs": len(CUSTOMERS)})
    row = next((r for r in table if r["cells"] == 4), table[-1])
    return Measurement(row["simulated_affected_pct"], f"% of customers affected by a poison customer, N={row['cells']}",
                       "; ".join(f"N={r['cells']}: {r['simulated_affected_pct']}% of 12 simulated customers "
                                 f"(cells of {r['cell_sizes_of_12']}), {r['affected_pct_poison_cell_uniform']}% "
                                 f"averaged over cells, {r['affected_pct_10000_customers']}% over 10,000 customers; "
                                 f"1/N = {r['one_over_n_pct']}%" for r in table)
                       + (" (exactly the poison's cell each time" if all(r["exactly_the_poisons_cell"] for r in table)
                          else " (NOT always exactly the poison's cell: see the table")
                       + "; a poison customer picked uniformly lands in big cells more often, so a small uneven "
                         "population is above 1/N)", table)


def measure_distribution(seed: int) -> Measurement:
    """How evenly hash % N spreads 10,000 customer IDs over N cells (the routing function itself; no randomness,
    so the seed changes nothing)."""
    table = []
    for n in (2, 4, 8):
        routing = CellRouting(n)
        counts = [sum(1 for c in POPULATION if routing.cell_of(c) == cell) for cell in routing.cell_names()]
        mean = len(POPULATION) / n
        table.append({"cells": n, "customers": len(POPULATION), "smallest": min(counts), "largest": max(counts),
                      "largest_over_mean": round(max(counts) / mean, 4),
                      "max_deviation_pct": round(100 * max(abs(c - mean) for c in counts) / mean, 2)})
    worst = max(r["max_deviation_pct"] for r in table)
    return Measurement(worst, "% largest deviation of a cell's customer count from 10,000/N",
                       "; ".join(f"N={r['cells']}: {r['smallest']}..{r['largest']} customers per cell "
                                 f"(±{r['max_deviation_pct']}%)" for r in table), table)


def prove_routing(cfg: CellsConfig):
    return prove_cell_routing(cfg.routing())


# -- claims ----------------------------------------------------------------------------------------------------------
AFTER = ("blast-radius-after-recovery",)
CLAIMS = (
    Claim("11", "Blast radius: bug/outage affects only 1/N of customers", "invariant", variant="isolated",
          invariants=AFTER + ("cell-down-together",),
          note="a poison customer's requests crash what serves them, durably; after healing and recovery, under "
               "every fault kind, every customer outside its cell is served and every customer inside is not: "
               "the outage is exactly one cell", expect="held"),
    Claim("11", "Blast radius: bug/outage affects only 1/N of customers", "measure", measure=measure_blast_radius,
          note="share of customers affected, simulated with each of 12 customers as the poison for N = 1, 2, 4, 8 "
               "cells; exactly one cell's customers, which is 1/N on average over cells and over a large "
               "population, more when a small population hashes unevenly", expect="measured"),
    Claim("11", "A failure in one cell doesn't affect others.", "invariant", variant="isolated-single-fault",
          invariants=("blast-radius",),
          note="every request of a customer outside the poisoned cell, from the moment the poison arrived, is "
               "served, under any single crash, dropped connection, delay or skew", expect="held"),
    Claim("11", "Each cell is fully independent (own DB, own cache, own instances)", "invariant",
          variant="isolated", invariants=AFTER,
          note="each cell's replicas keep its data in their own storage: the poison stays in its cell",
          expect="held"),
    Claim("11", "Blast radius limited to one cell", "invariant", variant="shared-database", invariants=AFTER,
          note="with one database behind every cell (not fully independent), the poison's query takes the "
               "database down and with it every cell: refuted", expect="refuted"),
    Claim("11", "No cascading failures between cells", "invariant", variant="isolated", invariants=AFTER,
          note="the router never sends a customer elsewhere; the poisoned cell's outage stays there",
          expect="held"),
    Claim("11", "No cascading failures between cells", "invariant", variant="failover-to-next-cell",
          invariants=AFTER,
          note="a router that spills a failed cell's customers to the next cells carries the poison from cell to "
               "cell: every cell's customers end up down: refuted", expect="refuted"),
    Claim("11", "Avoided — cells are self-contained", "invariant", variant="isolated",
          invariants=("served-by-home-cell",),
          note="every served request was served by its customer's own cell, under every fault kind",
          expect="held"),
    Claim("11", "Avoided — cells are self-contained", "invariant", variant="failover-to-next-cell",
          invariants=("served-by-home-cell",),
          note="the spilling router serves a down cell's customers from another cell: cross-cell traffic, refuted",
          expect="refuted"),
    Claim("11", "If deployment breaks cell 1, cells 2-N are unaffected", "invariant", variant="cell-by-cell-rollout",
          invariants=AFTER + ("served-by-home-cell",),
          note="a deployer rolls a version that crash-loops on every request out during the workload, one cell at a "
               "time with a health check after each; under every fault kind it halts at cell-1 and, after "
               "recovery, every customer of cells 2-4 is served", expect="held"),
    Claim("11", "If deployment breaks cell 1, cells 2-N are unaffected", "invariant", variant="all-at-once-rollout",
          invariants=AFTER, note="the same version rolled out to every cell at once: every cell is down: refuted",
          expect="refuted"),
    Claim("11", "Deployments are safer (canary per cell)", "invariant", variant="cell-by-cell-rollout",
          invariants=AFTER,
          note="cell-1 is the canary: its failed health check stops the rollout (the tests check it halted there)",
          expect="held"),
    Claim("11", "Hash customer ID → cell", "z3", variant="isolated", prove=prove_routing,
          note="hash % N (SHA-256 of the ID, 32 bits): z3 shows every hash lands in one of the N cells and each "
               "cell is reached; the hash space is split within one value per cell", expect="proved"),
    Claim("11", "Deterministic routing, even distribution", "measure", measure=measure_distribution,
          note="the routing function over 10,000 customer IDs for N = 2, 4, 8 (deterministic: the same in every "
               "process)", expect="measured"),
    Claim("11", "Small enough that losing one cell affects few customers", "measure", measure=measure_blast_radius,
          note="the affected share falls as 1/N with the number of cells (the same runs as the blast radius)",
          expect="measured"),
    Claim("11", "A bug or overload in one customer's traffic can take down the service for everyone.", "measure",
          measure=lambda seed: measure_blast_radius(seed, (1,)),
          note="one cell (N=1, a single deployment): every customer is affected", expect="measured"),
)


SPEC = Protocol(
    name="cells",
    summary="cell-based architecture: a hash router, independent replicated cells, a poison customer's blast "
            "radius",
    config_class=CellsConfig,
    nodes=nodes,
    zones=zones,
    client_nodes=lambda cfg: cfg.router_ids(),
    client=client,
    workload=workload,
    final_ops=final_ops,
    invariants=INVARIANTS,
    witnesses=WITNESSES,
    variants=(
        Variant("isolated", {}, "independent cells, each with its own storage; a router that never spills",
                invariants=("blast-radius-after-recovery", "served-by-home-cell", "cell-down-together")),
        Variant("isolated-single-fault", {}, "the same, judged in every phase under any one fault (no partitions)",
                invariants=("blast-radius", "served-by-home-cell"), faults=("drop", "delay", "crash", "skew"),
                max_faults=1),
        Variant("failover-to-next-cell", {"spill": True},
                "the router sends a customer whose cell does not answer to the next cells, in turn",
                expect_violation="blast-radius-after-recovery"),
        Variant("shared-database", {"shared_db": True}, "every cell's replicas query one shared database node",
                expect_violation="blast-radius-after-recovery"),
        Variant("cell-by-cell-rollout", {"rollout": "cell-by-cell", "poison": "none"},
                "a bad version rolled out one cell at a time, cell-1 first, halting at a failed health check",
                invariants=("blast-radius-after-recovery", "served-by-home-cell")),
        Variant("all-at-once-rollout", {"rollout": "all-at-once", "poison": "none"},
                "a bad version rolled out to every cell at once", expect_violation="blast-radius-after-recovery"),
    ),
    claims=CLAIMS,
    settle_time=2.0,
    client_timeout=2 * (8 * 3 * REPLICA_TIMEOUT + 0.5),  # both routers' worst case, at the largest settings
)
