"""The retries protocol's client, workload, invariants, variants, claims and SPEC (see the package docstring)."""

from __future__ import annotations

from faultlab import Claim, Invariant, Latency, Protocol, Variant, Witness
from invariants.idempotency import (
    check_acknowledged_applied,
    check_answers_in_time,
    check_applied_at_most_once,
    check_attempts_bounded,
    check_available_after_recovery,
    check_breaker_respected,
    check_replies_match_requests,
)
from protocols.retries.nodes import FINAL_OP, Audit, Caller, Invoke, ReadState, RetriesConfig, Service


# -- client and workload ---------------------------------------------------------------------------------------------
async def client(api, f: str, value):
    """A user of the caller library: an add or an update goes to ``app`` (which retries against ``svc``); the final
    phase also reads the service's state and the caller's audit log directly. The engine bounds each operation by
    ``client_timeout`` (info when it runs out)."""
    if f in ("add", "update"):
        return await api.call(Invoke(f, value), "app")
    if f == "read":
        return await api.call(ReadState(), "svc")
    return await api.call(Audit(), "app")


def workload(choices, op_index: int) -> tuple[str, object]:
    """Adds of the operation's number under its own idempotency key; a quarter of them (choice 3) reuse the key of
    the operation before, as a user who copies a request's key onto another request does."""
    n = op_index + 1
    reuse = n > 1 and choices.choose(4) == 3
    return "add", [n, f"k{n - 1 if reuse else n}"]


def update_workload(choices, op_index: int) -> tuple[str, object]:
    """The contention experiment: every client updates the one row once (optimistic concurrency)."""
    return "update", op_index + 1


def final_ops(config: RetriesConfig) -> list[tuple[str, object, str]]:
    """An add through the caller once the service is healthy again (availability), then the service's state (what
    it applied) and the caller's audit log."""
    return [("add", [FINAL_OP, f"k{FINAL_OP}"], "svc"), ("read", None, "svc"), ("audit", None, "svc")]


def latency(cfg: RetriesConfig) -> Latency:
    # app and svc in two zones net_latency apart, with no per-message jitter (no choice per message: the search stays
    # small and the contention figures draw their variation from the service time, a coin of the service); the
    # users are in the app's process (no latency)
    return Latency(cross_zone=cfg.net_latency, client=0.0, jitter=(1.0,))


# -- invariants ------------------------------------------------------------------------------------------------------
INVARIANTS = (
    Invariant("applied-at-most-once", check_applied_at_most_once,
              "no add is applied twice (a retry or a duplicate of an applied request applied again)"),
    Invariant("acknowledged-applied", check_acknowledged_applied,
              "every acknowledged add is in the service's applied log and no failed one is"),
    Invariant("replies-match-requests", check_replies_match_requests,
              "an acknowledged add's reply answers that add, not another request under the same key"),
    Invariant("attempts-bounded", check_attempts_bounded, "no operation makes more than 5 attempts (3-5 attempts)"),
    Invariant("breaker-respected", check_breaker_respected,
              "once the breaker opens no call is made until its half-open probe, and one probe at a time"),
    Invariant("available-after-recovery", check_available_after_recovery,
              "after healing and recovery an add through the caller succeeds"),
    Invariant("answers-in-time", check_answers_in_time,
              "the caller answers every operation within 5 s unless it crashed first"),
)

FAULTS = ("drop", "duplicate", "delay", "partition", "crash", "restart", "lose_unsynced")
SERVER_CRASHES = ("crash", "restart", "delay")

WITNESSES = (
    Witness.acknowledged("add"),
    Witness.noted("retry"),
    Witness("a retry met the dedup table", lambda run: run.note_count("dedup_hit") > 0
            or run.config.idempotency == "off"),
    Witness("the breaker opened", lambda run: run.note_count("breaker_open") > 0 or not run.config.breaker),
)

VARIANTS = (
    Variant("keys-breaker", {},
            "idempotency keys with the dedup table synced with the balance, full jitter, 4 attempts of 0.5 s, a "
            "circuit breaker; datagram links (loss and duplication of single messages)", links="datagram"),
    Variant("keys-breaker-stream", {},
            "the same on stream links (a loss resets the connection: everything in flight on it is lost)"),
    Variant("non-idempotent", {"idempotency": "off"},
            "no idempotency keys: a retry after a timeout whose request was applied (or a duplicated request) "
            "applies the add twice", expect_violation="applied-at-most-once", links="datagram"),
    Variant("dedup-in-memory", {"idempotency": "memory"},
            "idempotency keys in a table kept only in memory: the service applies an add, crashes before the reply, "
            "restarts with an empty table, and the retry applies it again",
            expect_violation="applied-at-most-once", faults=("crash", "restart")),
    Variant("dedup-key-only", {"idempotency": "key-only"},
            "the dedup table keyed by the key alone: a different request under a reused key gets the cached reply "
            "of the first (the design: a key names one request, so other arguments are refused)",
            expect_violation="replies-match-requests", faults=()),
    Variant("breaker-never-half-opens", {"breaker_half_open": False},
            "a circuit breaker that never half-opens: once the service failed enough to open it, availability "
            "never returns, even after the service recovered", expect_violation="available-after-recovery",
            faults=SERVER_CRASHES),
    Variant("no-max-attempts", {"max_attempts": 0, "breaker": False},
            "retry forever (no max attempts, no breaker): a service that stays down draws unbounded calls",
            expect_violation="attempts-bounded", faults=SERVER_CRASHES),
    Variant("no-timeout", {"attempt_timeout": 0},
            "no timeout on a call: a lost request or reply leaves the caller waiting forever",
            expect_violation="answers-in-time", faults=("crash", "restart")),
)


# -- claims ----------------------------------------------------------------------------------------------------------
def _measured(name: str):
    def measure(seed: int):
        from protocols.retries import measure as experiments  # it builds on SPEC

        return getattr(experiments, name)(seed)
    measure.__name__ = name
    return measure


def _formula(strategy: str):
    def measure(seed: int):
        from protocols.retries.measure import formula_check

        return formula_check(strategy)(seed)
    measure.__name__ = f"formula_{strategy}"
    return measure


FULL_JITTER = "**Full jitter is recommended** by AWS — it spreads retries evenly across time, preventing synchronized storms"
BACKOFF = "**Backoff** | Exponential (1s, 2s, 4s, 8s...) | Gives the failing service time to recover"
BREAKER = ("**Circuit breaker** | Stop retrying entirely when failure rate > threshold | Prevent wasting resources "
           "on a dead service")
IDEMPOTENCY_ROW = ("**Idempotency** | All retryable operations must be idempotent | Retrying a non-idempotent "
                   "operation causes data corruption")
KEYS = "idempotency keys (safe to retry)"
MAX_RETRIES = "**Max retries** | 3-5 attempts | Bound the total retry time; don't retry forever"
TIMEOUT = "**Timeout** | Set explicit timeouts on every call | Don't wait forever; fail fast"
JITTER = "**Jitter** | Full jitter (random between 0 and max backoff) | Prevents synchronized retry storms (thundering herd)"
STORM = "When a downstream service is overloaded, aggressive retries make it worse (retry storm)."
FORMULAS = {"exponential": "Without jitter:   sleep = min(max_backoff, base × 2^attempt)",
            "full": "With full jitter:  sleep = random(0, min(max_backoff, base × 2^attempt))",
            "equal": "With equal jitter: sleep = min(max_backoff, base × 2^attempt) / 2 + random(0, same / 2)"}
SAFE = ("applied-at-most-once", "acknowledged-applied", "replies-match-requests")

CLAIMS = (
    Claim("13", FULL_JITTER, "measure", measure=_measured("measure_contention"), expect="measured",
          note="the AWS blog's contention experiment side by side (N clients, one row, optimistic concurrency, base "
               "5 ms, cap 2 s): calls and completion time per strategy at 50 and 100 clients, and how evenly the "
               "writes spread over time"),
    Claim("13", JITTER, "measure", measure=_measured("measure_herd"), expect="measured",
          note="a thundering herd: 100 callers whose first calls fail together; how many retries arrive at one "
               "instant and in one 10 ms window, per strategy"),
    Claim("13", STORM, "measure", measure=_measured("measure_retry_storm"), expect="measured",
          note="the recovery experiment's slowdown with callers that never retry and callers that retry at once "
               "(4 attempts): the share of requests that succeed after it"),
    *(Claim("13", text, "measure", measure=_formula(strategy), expect="measured",
            note=f"every backoff the caller drew with strategy={strategy} in herd runs (fair draws), against the "
                 f"formula's range and mean") for strategy, text in FORMULAS.items()),
    Claim("13", BACKOFF, "measure", measure=_measured("measure_recovery"), expect="measured",
          note="scaled 1:100: a service at 80% of capacity slows 10x for a second; the share of requests that "
               "succeed after it, per strategy, with a breaker and with a short queue"),
    Claim("13", BREAKER, "invariant", variant="keys-breaker", invariants=("breaker-respected",), expect="held",
          note="once the breaker opens (failure rate over the last 4 calls above 50%) the caller makes no call "
               "until the half-open probe after 1 s, and one probe at a time, under loss, duplication, delay, "
               "partitions and crashes"),
    Claim("13", BREAKER, "measure", measure=_measured("measure_breaker_load"), expect="measured",
          note="the load the breaker takes off a service that fails every request for 3 s"),
    Claim("13", BREAKER, "invariant", variant="breaker-never-half-opens", invariants=("available-after-recovery",),
          expect="refuted",
          note="read literally (stop retrying entirely, never probe again) the breaker keeps the service "
               "unavailable after it recovered: a half-open probe is what brings availability back"),
    Claim("13", IDEMPOTENCY_ROW, "invariant", variant="non-idempotent", invariants=("applied-at-most-once",),
          expect="refuted",
          note="the refutation is the sentence's point: without idempotency keys a retry after a timeout whose "
               "request was applied (or a duplicated request) applies the add twice"),
    Claim("13", KEYS, "invariant", variant="keys-breaker", invariants=SAFE, expect="held",
          note="with the dedup table synced with the balance (and a reused key with other arguments refused), no "
               "add is applied twice and every reply answers its own request, under message loss, duplication, "
               "delay, partitions, and crashes and power loss of the service"),
    Claim("13", KEYS, "invariant", variant="dedup-in-memory", invariants=("applied-at-most-once",),
          expect="refuted",
          note="keys are safe only if the dedup table survives what the data survives: kept in memory, a crash "
               "between the apply and the reply and a retry after the restart applies the add twice"),
    Claim("13", KEYS, "invariant", variant="dedup-key-only", invariants=("replies-match-requests",),
          expect="refuted",
          note="a table keyed by the key alone answers a different request under a reused key with the first "
               "request's cached reply (and never applies it)"),
    Claim("13", MAX_RETRIES, "invariant", variant="keys-breaker", invariants=("attempts-bounded",), expect="held",
          note="at most 4 attempts per operation under every fault kind"),
    Claim("13", MAX_RETRIES, "invariant", variant="no-max-attempts", invariants=("attempts-bounded",),
          expect="refuted", note="without a bound (and without a breaker) a service that stays down draws unbounded "
                                 "attempts"),
    Claim("13", TIMEOUT, "invariant", variant="keys-breaker", invariants=("answers-in-time",), expect="held",
          note="with a 0.5 s timeout per attempt, 4 attempts and a 0.4 s backoff cap the caller answers every "
               "operation within 5 s"),
    Claim("13", TIMEOUT, "invariant", variant="no-timeout", invariants=("answers-in-time",), expect="refuted",
          note="without a timeout a lost request or reply leaves the caller waiting forever"),
)


SPEC = Protocol(
    name="retries",
    summary="a caller retrying against a service of bounded capacity: backoff with full/equal/decorrelated jitter, "
            "max attempts, a circuit breaker, idempotency keys (section 13)",
    config_class=RetriesConfig,
    nodes=lambda cfg: {"svc": Service, "app": Caller},
    zones=lambda cfg: {"app": "zone-a", "svc": "zone-b"},
    client_nodes=lambda cfg: ["svc"],  # operations are against the service, through the caller library
    client=client,
    workload=workload,
    final_ops=final_ops,
    latency=latency,
    invariants=INVARIANTS,
    witnesses=WITNESSES,
    variants=VARIANTS,
    faults=FAULTS,
    claims=CLAIMS,
    settle_time=10.0,
)
