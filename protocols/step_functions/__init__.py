"""Step Functions: a durable state machine executor (task, choice, retry with backoff, catch, parallel) running an
order saga (validate, charge, ship, notify) with compensations, in Standard and Express modes.

Seed section 19 (Step Functions — Workflow Orchestration), its design-decision table: execution "Managed, durable
state machine" ("Zero infrastructure; state is persisted automatically"), types "Standard (durable, up to 1 year) +
Express (high-volume, 5 min)", error handling "Built-in retry, catch, fallback states", and the interview's order
workflow "validate → charge → ship → notify"; with section 15's tradeoff "Distributed transactions are hard (no
cross-service DB transactions)", which a saga answers.

The model (``executor.py``, ``service.py``): the executor ``sfn`` persists each execution's transitions in an
append-only log (synced before it acts, in Standard mode) and resumes unfinished executions after a crash; task
attempts go through one of two workers ``w1``/``w2`` to the external service ``svc`` (payments, shipping,
notifications), which deduplicates by idempotency token and keeps a synced ledger of every effect and attempt. The
section does not say "exactly-once" or "at-least-once": those are AWS's words for Standard and Express (its
"durable"), and they are what is judged here: Standard applies no effect twice; Express re-runs an execution after a
crash, so its tasks may run twice (refuted on purpose as the tradeoff, variant ``express-exactly-once``).

Faults: executor crashes and power loss, worker and service crashes, message loss, duplication and delay
(datagram links), partitions. Claimed for Standard: every acknowledged execution completes after recovery, no
effect is applied twice, every saga ends fully committed or fully compensated, a task is attempted at most
MaxAttempts times with backoff and then caught. Premise of the environment: a transient error clears within the
retry budget (the service fails an attempt transiently only before the last one; timeouts from loss and partitions
still exhaust retries, and are caught and compensated). Not claimed: clock skew (backoff is judged by the
executor's clock); destroyed disks (the executor is one node; AWS's is replicated); torn writes, which cannot
happen here: the executor syncs each record in the step that appends it (and reads its log through
``recover_log``), so no step leaves a record half written, and listing ``torn_write`` makes the exploration vacuous
(the fault is never drawn).

Not checkable here, and why: "up to 1 year" and "5 min" (service quotas on an execution's duration, not
properties of a protocol: a simulated run lasts seconds); "high-volume" and "high-throughput event processing"
(no throughput model); "200+ services", "Call DynamoDB, SQS, ECS directly — no Lambda middleman" (an integration
catalogue); "Visual, declarative; good for non-engineers to understand", "Declarative error handling — easier to
reason about", "Zero infrastructure" and the Temporal/Cadence comparison (judgements about people and operations).
The section gives no state-transition prices.
"""

from .config import StepFunctionsConfig
from .measure import measure_duplicates
from .spec import SPEC

__all__ = ["SPEC", "StepFunctionsConfig", "measure_duplicates"]
