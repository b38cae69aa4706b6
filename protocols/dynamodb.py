"""One DynamoDB partition: an item replicated three ways across zones, a leader, quorum-acknowledged writes.

Seed section 1 (DynamoDB, "Evolution to DynamoDB"): "`ConsistentRead=true` reads from leader", and in the tradeoffs
"Always available — writes succeed even during partial failures" and "Eventually consistent by default". This
module is the replication group behind one partition, in the Raft style DynamoDB's Multi-Paxos groups resemble:

* the leader appends a write to its log, syncs it, replicates the whole log to both followers and acknowledges the
  client once one follower (so two of three replicas) has the entry: the write is then committed;
* a default read (``f="read"``) is served by whichever replica the client chose, from that replica's committed
  prefix: eventually consistent, possibly stale;
* a consistent read (``f="consistent-read"``) is served by the leader, which first confirms it is still the leader
  of a majority (a read-index round: one follower acknowledges a heartbeat of the leader's term) and that it has
  committed an entry of its own term, so it knows the latest committed value;
* leader failover: a follower that hears no heartbeat for its election timeout increments the term, votes for
  itself and asks the others; a voter grants at most one vote per term (synced before replying) and only to a
  candidate whose log is at least as up to date as its own (last term, then length). A majority of two elects. The
  new leader appends a no-op of its term and only commits entries of its own term directly.

Faults tolerated (claimed): message loss, duplication, reordering and delay, partitions (including a whole zone),
crashes and restarts, power loss of unsynced writes (everything is synced before it is acknowledged) and clock skew
(nothing reads a clock for safety: terms and read-index rounds, not leases). Not claimed: default reads are stale
(the document says so); with two replicas unreachable writes and consistent reads fail or time out.

Known-bad variants the suite must refute: ``default-read-as-strong`` (hold eventually consistent reads to
read-after-write, which the document says they do not give), ``unsafe-failover`` (voters do not compare logs, so
a replica missing acknowledged writes can become leader and truncate them), ``async-replication`` (the leader
acknowledges before any follower has the write: two faults in order, a partition or crash of the leader then an
election on the other side, lose it) and ``local-consistent-read`` (the leader answers a consistent read from its
own state without a read-index round, so a deposed leader serves stale data).
"""

from __future__ import annotations

from collections import Counter

import attrs
import trio

from faultlab import (
    Claim,
    ConfigError,
    Fail,
    FaultPlan,
    History,
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
from faultlab.clients import follow_leader
from invariants.convergence import check_convergence
from invariants.durability import check_no_lost_writes
from invariants.linearizability import RUN_SEARCH_STEPS, check_linearizable
from invariants.session import check_read_after_write

HEARTBEAT = 0.3          # seconds between leader heartbeats
REPLICATE_TIMEOUT = 0.5  # how long the leader waits for a follower's acknowledgement
ELECTION_TIMEOUT = 1.0   # base of a follower's election timeout; see Replica._election_timer
ELECTION_STAGGER = 0.4

Entry = tuple  # (term, kind, value): kind "put" carries a client value, "noop" marks a new leader's term


# -- messages --------------------------------------------------------------------------------------------------------
@attrs.frozen
class ClientWrite:
    value: int


@attrs.frozen
class ClientRead:
    consistent: bool


@attrs.frozen
class Redirect:
    """A replica's answer to a request only the leader serves: ask ``leader`` (who it believes leads) instead."""

    leader: str | None


@attrs.frozen
class Append:
    """Leader to follower: the leader's whole log (a partition's log is short) and its commit index."""

    term: int
    leader: str
    log: tuple
    commit: int


@attrs.frozen
class AppendAck:
    term: int
    success: bool
    match: int  # length of the leader's log this follower now holds


@attrs.frozen
class RequestVote:
    term: int
    candidate: str
    last_term: int
    length: int


@attrs.frozen
class Vote:
    term: int
    granted: bool


# -- configuration ---------------------------------------------------------------------------------------------------
@attrs.frozen
class DynamoConfig:
    replicas: int = attrs.field(default=3, metadata={"help": "replicas of the partition, one per zone"})
    vote_checks_log: bool = attrs.field(default=True, metadata={
        "help": "a voter refuses a candidate whose log is less up to date than its own (Raft's election restriction)"})
    read_index: bool = attrs.field(default=True, metadata={
        "help": "a consistent read first confirms leadership with a majority; off: answered from local state"})
    write_followers: int = attrs.field(default=1, metadata={
        "help": "followers that must hold a write before the leader acknowledges it (1: with the leader a majority of "
                "3; 0: asynchronous replication, acknowledged once the leader's own log has it)"})
    down_zone: str = attrs.field(default="", metadata={
        "help": "a zone whose replica is down for the whole run (measures availability with one zone lost)"})

    def __attrs_post_init__(self) -> None:
        if self.replicas != 3:
            raise ConfigError(f"dynamodb: replicas={self.replicas}; this model has exactly 3 (a majority of 2 acks "
                              f"writes and elects leaders), one per zone")
        if not 0 <= self.write_followers <= self.replicas - 1:
            raise ConfigError(f"dynamodb: write_followers={self.write_followers}; choose 0 to {self.replicas - 1} "
                              f"(1 is a majority with the leader)")
        if self.down_zone and self.down_zone not in self.zone_of().values():
            raise ConfigError(f"dynamodb: down_zone={self.down_zone!r} is not a zone; use one of "
                              f"{', '.join(sorted(set(self.zone_of().values())))} or leave it empty")

    def nodes(self) -> tuple[str, ...]:
        return tuple(f"n{i + 1}" for i in range(self.replicas))

    def zone_of(self) -> dict[str, str]:
        return {n: f"zone-{'abc'[i]}" for i, n in enumerate(self.nodes())}


# -- the node --------------------------------------------------------------------------------------------------------
class Replica(Node[DynamoConfig]):
    """A replica of the partition: follower, candidate or leader. Term, vote, log and commit index are durable."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.index = self.config.nodes().index(self.id)
        self.role = "follower"
        self.leader: str | None = None
        self.heard = trio.Event()

    def start(self) -> None:
        st = self.storage
        if "term" not in st and self.index == 0:
            # A fresh partition starts with n1 as the leader of term 1 (what a control plane does on creation).
            st["term"], st["voted"], st["log"], st["commit"] = 1, self.id, ((1, "noop", None),), 1
            st.sync()
        if "term" not in st:
            st["term"], st["voted"], st["log"], st["commit"] = 1, "n1", (), 0
            st.sync()
            self.leader = "n1"
        if self.index == 0 and self.ctx.incarnation == 1:
            self._become_leader(initial=True)
        self.ctx.spawn(self._election_timer)
        if self.role == "leader":
            self.ctx.spawn(self._heartbeats, self.term)

    # durable state, always read from and written to storage so a restart sees exactly what was synced
    @property
    def term(self) -> int:
        return self.storage["term"]

    @property
    def log(self) -> tuple:
        return self.storage["log"]

    @property
    def commit(self) -> int:
        return self.storage["commit"]

    def _value_at(self, length: int) -> int | None:
        for _term, kind, value in reversed(self.log[:length]):
            if kind == "put":
                return value
        return None

    # -- follower side -------------------------------------------------------------------------------------------
    def _observe_term(self, term: int) -> None:
        if term > self.term:
            self.storage.save(term=term, voted=None)
            self._step_down()

    def _step_down(self) -> None:
        if self.role == "leader":
            self.ctx.set_role(None)
        self.role = "follower"

    @handler
    def on_append(self, msg: Append) -> AppendAck:
        self._observe_term(msg.term)
        if msg.term < self.term:
            return AppendAck(self.term, False, 0)
        self._step_down()  # a candidate of this term yields to its leader
        self.leader = msg.leader
        self.heard.set()
        log = list(self.log)
        for i, entry in enumerate(msg.log):  # Raft's rule: truncate only at the first conflicting entry
            entry = tuple(entry)
            if i < len(log) and tuple(log[i]) != entry:
                del log[i:]
            if i >= len(log):
                log.append(entry)
        commit = max(self.commit, min(msg.commit, len(msg.log)))
        self.storage.save(log=tuple(log), commit=commit)
        return AppendAck(self.term, True, len(msg.log))

    @handler
    def on_request_vote(self, msg: RequestVote) -> Vote:
        self._observe_term(msg.term)
        if msg.term < self.term or self.storage["voted"] not in (None, msg.candidate):
            return Vote(self.term, False)
        mine = (self.log[-1][0] if self.log else 0, len(self.log))
        if self.config.vote_checks_log and (msg.last_term, msg.length) < mine:
            return Vote(self.term, False)
        self.storage.save(voted=msg.candidate)
        self.heard.set()
        return Vote(self.term, True)

    async def _election_timer(self) -> None:
        # Not @every: the timer restarts whenever the replica hears its leader or grants a vote. Raft's randomized
        # timeout, from the node's coins, drawn when the node starts and again after each campaign (not per
        # heartbeat, which would make runs long to shrink). While faults happen the search steers the coin: 0
        # staggers the replicas by index (n2 before n3), other values reorder them so a lagging replica campaigns
        # first, or make two time out at once (a split vote). From recovery on the coins are fair, so two replicas
        # never keep timing out together and an election is won, as Raft's liveness needs.
        def draw() -> float:
            return ELECTION_TIMEOUT + ELECTION_STAGGER * ((self.index + 3 * self.ctx.random.random()) % 3)

        timeout = draw()
        while True:
            self.heard = trio.Event()
            with trio.move_on_after(timeout) as scope:
                await self.heard.wait()
            if scope.cancelled_caught and self.role != "leader":
                await self._campaign()
                timeout = draw()

    async def _campaign(self) -> None:
        term = self.term + 1
        self.role = "candidate"
        self.storage.save(term=term, voted=self.id)
        last_term = self.log[-1][0] if self.log else 0
        votes = await self.ctx.gather(self.ctx.peers, RequestVote(term, self.id, last_term, len(self.log)),
                                      need=len(self.ctx.peers), timeout=REPLICATE_TIMEOUT)
        for v in votes.values():
            self._observe_term(v.term)
        granted = sum(1 for v in votes.values() if v.granted and v.term == term)
        if self.role == "candidate" and self.term == term and granted >= 1:  # self + 1 = a majority of 3
            self._become_leader(initial=False)
            self.ctx.spawn(self._heartbeats, term)

    def _become_leader(self, *, initial: bool) -> None:
        self.role = "leader"
        self.leader = self.id
        self.ctx.set_role("leader")
        if not initial:
            self.storage.save(log=self.log + ((self.term, "noop", None),))
            self.ctx.note("failover", term=self.term, log=len(self.log), commit=self.commit)

    # -- leader side ---------------------------------------------------------------------------------------------
    async def _replicate(self, term: int, need: int) -> bool:
        """Send the log to the followers; True once ``need`` of them hold all of it (and commit it if so)."""
        length = len(self.log)
        msg = Append(term, self.id, self.log, self.commit)
        acks = await self.ctx.gather(self.ctx.peers, msg, need=need, timeout=REPLICATE_TIMEOUT)
        for a in acks.values():
            self._observe_term(a.term)
        good = sum(1 for a in acks.values() if a.success and a.term == term and a.match >= length)
        if self.role != "leader" or self.term != term or good < need:
            return False
        # Only an entry of the leader's own term is committed by counting replicas (Raft, figure 8).
        if length > self.commit and self.log[length - 1][0] == term:
            self.storage.save(commit=length)
        return True

    async def _heartbeats(self, term: int) -> None:
        # One loop per term rather than @every: the first heartbeat goes out the moment a leader is elected (it
        # establishes the term), and the loop ends with the term.
        while self.role == "leader" and self.term == term:
            self.ctx.spawn(self._replicate, term, len(self.ctx.peers))
            await trio.sleep(HEARTBEAT)

    @handler
    async def on_write(self, msg: ClientWrite) -> Ok | Unknown | Redirect:
        if self.role != "leader":
            return Redirect(self.leader)
        term = self.term
        if not any(e[1] == "put" and e[2] == msg.value for e in self.log):  # a duplicated request is applied once
            self.storage.save(log=self.log + ((term, "put", msg.value),))
        if await self._replicate(term, self.config.write_followers):  # leader + one follower = a majority of 3
            return Ok(msg.value)
        return Unknown("no majority acknowledged: a later leader may still commit the entry")

    @handler
    async def on_read(self, msg: ClientRead) -> Ok | Fail | Redirect:
        if not msg.consistent:
            return Ok(self._value_at(self.commit))
        if self.role != "leader":
            return Redirect(self.leader)
        term = self.term
        if self.config.read_index:
            # Read index: the commit index must cover an entry of this term (else older entries may be committed
            # that this leader does not know of), and a majority must still follow this leader.
            if not await self._replicate(term, 1) or not self.commit or self.log[self.commit - 1][0] != term:
                return Fail("leadership not confirmed by a majority")
        return Ok(self._value_at(self.commit))


class DownReplica(Node[DynamoConfig]):
    """The replica of a zone that is down for the whole run: it takes in every message and never answers."""

    ignores = (object,)


# -- client and workload -----------------------------------------------------------------------------------------
ATTEMPT_TIMEOUT = 1.0  # the client's wait per attempt before it tries another replica


async def client(api, f: str, value) -> Ok | Fail | Unknown:
    """The SDK: ask the chosen replica, follow a redirect to the leader, try the other replicas on a timeout.

    A write that timed out or came back unknown may still be applied, so if no later attempt succeeds it is
    indeterminate, never failed; a retried write is applied once because the leader ignores a value it already has.
    """
    msg = ClientWrite(value) if f == "write" else ClientRead(consistent=f == "consistent-read")
    return await follow_leader(api, msg, write=f == "write", attempt_timeout=ATTEMPT_TIMEOUT, who="replica",
                               redirect=lambda reply: reply.leader if isinstance(reply, Redirect) else None)


def workload(choices, op_index: int) -> tuple[str, object]:
    """Half writes of unique values, a quarter default reads, a quarter consistent reads; choice 0 is a write."""
    k = choices.choose(4)
    return [("write", op_index + 1), ("write", op_index + 1), ("read", None), ("consistent-read", None)][k]


def final_ops(config: DynamoConfig) -> list[tuple[str, object, str]]:
    """A consistent read (through n1, redirected to the leader), then a default read on every replica."""
    return [("consistent-read", None, "n1")] + [("read", None, n) for n in config.nodes()]


# -- invariants ------------------------------------------------------------------------------------------------------
def reads_view(history: History, f: str, *, phase: str | None = None) -> History:
    """The register history seen through one kind of read: reads of function ``f`` (in ``phase``, if given) renamed
    ``read``.

    The register checkers judge ``f="read"``; this lets them judge consistent reads and default reads separately.
    The other reads are renamed ``unjudged-...`` rather than dropped, which the register checkers ignore, so every
    event keeps its index and a witness's call indices name the run's own operations.
    """
    def renamed(e):
        if e.f == f and (phase is None or e.phase == phase):
            return attrs.evolve(e, f="read")
        return e if e.f == "write" else attrs.evolve(e, f=f"unjudged-{e.f}")
    return History(renamed(e) for e in history)


def _consistent_linearizable(history: History):
    ops = [op for op in reads_view(history, "consistent-read").operations() if op.f in ("read", "write")]
    return check_linearizable(ops, "register", max_steps=RUN_SEARCH_STEPS)


INVARIANTS = (
    Invariant("consistent-read-after-write", lambda h: check_read_after_write(reads_view(h, "consistent-read")),
              "a consistent read that starts after a write was acknowledged returns it or newer"),
    Invariant("linearizable", _consistent_linearizable, "writes and consistent reads are linearizable"),
    Invariant("no-lost-writes", lambda h: check_no_lost_writes(reads_view(h, "consistent-read")),
              "after healing and recovery the consistent read sees every acknowledged write or a newer one"),
    Invariant("convergence", lambda h: check_convergence(reads_view(h, "read")),
              "after healing and settling every replica's default read returns the same value"),
    Invariant("default-read-after-write", lambda h: check_read_after_write(reads_view(h, "read", phase="main")),
              "default reads held to read-after-write as if they were strong (the document says they are not: "
              "no configuration promises it, so it is judged only when named)", by_default=False),
)


# -- claims ----------------------------------------------------------------------------------------------------------
def measure_write_availability(seed: int, runs: int = 30) -> Measurement:
    """Acknowledged share of writes with each zone's replica down in turn (no other fault), over seeded runs."""
    settings = RunSettings(plan=FaultPlan(kinds=(), swarm=False))
    table = []
    for zone in ("zone-a", "zone-b", "zone-c"):
        cfg = SPEC.make_config({"down_zone": zone})
        writes: Counter[str] = Counter()
        failovers = 0
        for i in range(runs):
            result = simulate(SPEC, cfg, SeededChoices(seed * 1_000_003 + i), settings)
            writes.update(op.status for op in result.history.operations() if op.f == "write" and op.phase == "main")
            failovers += len(result.log.notes("failover"))
        table.append({"down_zone": zone, "leader_zone_down": zone == "zone-a", "writes_ok": writes["ok"],
                      "writes_fail": writes["fail"], "writes_info": writes["info"], "failovers": failovers,
                      "runs": runs})
    total_ok = sum(row["writes_ok"] for row in table)
    total = sum(row["writes_ok"] + row["writes_fail"] + row["writes_info"] for row in table)
    figure = round(100.0 * total_ok / total, 1) if total else 0.0
    lead = table[0]
    lead_share = 100.0 * lead["writes_ok"] / max(1, lead["writes_ok"] + lead["writes_fail"] + lead["writes_info"])
    return Measurement(figure, "% of writes acknowledged",
                       f"with one of three zones down, {figure}% of writes were acknowledged; with the leader's zone "
                       f"down, {lead_share:.1f}% (writes fail until a follower's election timeout and failover)",
                       table)


CLAIMS = (
    Claim("1", "`ConsistentRead=true` reads from leader", "invariant", variant="raft-leader",
          invariants=("consistent-read-after-write", "linearizable", "no-lost-writes"),
          note="consistent reads go to the leader, which confirms a majority still follows it (read index) before "
               "answering; judged as read-after-write and linearizability of writes plus consistent reads under "
               "every fault kind, including leader failover", expect="held"),
    Claim("1", "Eventually consistent by default (strong consistency costs 2× read capacity)", "invariant",
          variant="default-read-as-strong", invariants=("default-read-after-write",),
          note="holding default reads to read-after-write is refuted, as the sentence says: a default read from a "
               "follower misses an acknowledged write", expect="refuted"),
    Claim("1", "Always available — writes succeed even during partial failures", "measure",
          measure=measure_write_availability,
          note="share of writes acknowledged with one zone's replica down for the whole run, each zone in turn; "
               "not 100%: losing the leader's zone makes writes fail until failover", expect="measured"),
)


SPEC = Protocol(
    name="dynamodb",
    summary="One DynamoDB partition: 3 replicas across zones, leader + 1 follower acks writes, default and "
            "consistent reads, leader failover by term and majority vote",
    config_class=DynamoConfig,
    nodes=lambda cfg: {n: (DownReplica if cfg.zone_of()[n] == cfg.down_zone else Replica) for n in cfg.nodes()},
    zones=lambda cfg: cfg.zone_of(),
    client=client,
    workload=workload,
    final_ops=final_ops,
    invariants=INVARIANTS,
    witnesses=(
        Witness.acknowledged("write"),
        Witness.acknowledged("consistent-read", "consistent read returned"),
        Witness.acknowledged("read", "default read returned"),
        Witness.noted("failover", "failover happened"),
    ),
    variants=(
        Variant("raft-leader", {}, "leader + 1 follower ack, up-to-date-log votes, read-index consistent reads"),
        Variant("raft-leader-datagram", {},
                "the same over datagram links: duplicated and reordered Append, vote and reply messages (terms and "
                "log matching make them harmless)", links="datagram"),
        Variant("default-read-as-strong", {},
                "default reads held to read-after-write: a follower that has not heard the commit answers stale",
                expect_violation="default-read-after-write"),
        Variant("unsafe-failover", {"vote_checks_log": False},
                "voters do not compare logs: a replica without the last acknowledged write can win and truncate it",
                expect_violation="no-lost-writes"),
        Variant("async-replication", {"write_followers": 0},
                "the leader acknowledges a write once its own log has it: a leader cut off by a partition (or crashed) "
                "keeps acknowledging while the majority elects a new leader, and the old leader's writes are "
                "truncated when it rejoins",
                expect_violation="no-lost-writes"),
        Variant("local-consistent-read", {"read_index": False},
                "the leader answers consistent reads locally: a deposed leader serves stale values",
                expect_violation="linearizable"),
    ),
    claims=CLAIMS,
    settle_time=4.0,  # a dozen heartbeats: every replica has heard the last commit index
)
