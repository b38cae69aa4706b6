"""AWS Lambda: synchronous and asynchronous invocation, the concurrency limit, retries, the on-failure destination,
sandboxes that scale from zero with cold starts, and the timeout.

Seed section 4 (Lambda): "1000 concurrent executions per account (adjustable)", "Auto-scales from 0 to 1000+
concurrent in seconds", "Stateless, ephemeral", "Max 15 minutes per invocation", "Cold starts (100ms-10s depending
on runtime and VPC)" and "SnapStart reduces from seconds to ~200ms". Section 14 has Lambda consume a stream; this
module is the invocation side that section's event source mapping calls.

The model (messages in ``messages.py``, settings in ``config.py``, nodes in ``frontend.py``, ``worker.py``,
``event_queue.py`` and ``store.py``; the spec in ``spec.py``, the figures in ``figures.py``):

* ``fe1``, ``fe2`` (frontends, the Invoke API): an asynchronous invoke (``InvocationType=Event``) is queued and
  acknowledged once the queue has it durably; a synchronous one runs an *attempt*: take a concurrency slot, pick a
  worker (the environment's choice), wait for the result until the attempt's deadline;
* ``placement`` counts the slots taken, durably, against ``concurrency_limit`` (the account's 1000, scaled to 2). A
  slot is a lease that expires at its attempt's deadline (plus a grace), so a crashed worker's slots come back by
  themselves; the worker also gives a slot back as soon as its execution ends;
* ``w1``, ``w2`` (workers) run each attempt in a sandbox: an idle warm one, else a new one, which waits its turn in
  the scaling queue (``scaling_rate`` new sandboxes per second over the fleet) and then initializes for a cold start
  drawn from the environment (``cold_start_min``..``cold_start_max``: 0.1-10 s, log-uniform; an input, not a
  finding), or ``snapstart_restore`` with SnapStart. ``provisioned`` sandboxes per worker are initialized up front
  and never reaped; others are reaped after ``idle_reap`` idle seconds. The worker stops the function at its
  ``timeout`` (15 minutes, scaled 1:300 to 3 s) and at the attempt's deadline, and never starts one after it;
* ``events``, the durable event queue and the asynchronous invoker draining it: each event is attempted through a
  frontend; a function error or timeout is retried ``maximum_retry_attempts`` (2) times after ``retry_delay`` (1 s,
  then 2 s: AWS's 1 and 2 minutes, scaled); a throttle, a system error or silence until the deadline is retried
  with exponential backoff and equal jitter until ``maximum_event_age`` (a throttle pauses the whole invoker for
  its backoff, so a throttled function is not flooded with retries); a given-up event is marked durably, then
  sent to ``destination`` (the on-failure destination) until it acknowledges, and never attempted again;
* ``store`` is the function's external state (a DynamoDB table): every execution records its beginning before the
  function body runs and its side effect at the end (its result: a tally's count), synced. These records, read
  after recovery, are the executions the checkers in ``invariants/invocations.py`` judge.

Faults tolerated (claimed): message loss and delay, partitions, crashes and restarts of any node, power loss.
Clock skew is not injected: a slot's expiry and a worker's deadline are compared across nodes, so the design
assumes synchronized clocks (as a lease does), and the execution records are timestamps on those clocks. Messages
take no time (no latency model): what a client waits for is the scaling queue, the cold start and the function.

Known-bad variants, each refuted: slots held until the worker releases them (a worker crash leaks them for good),
a frontend that counts slots and then takes one (two frontends exceed the limit), acknowledging an event before
the queue syncs it (lost under power loss), no on-failure destination (a poison event disappears), retrying at once
and counting throttles as failures (events given up while the function never failed), a function that keeps its
count in the sandbox (stateless execution breaks it), no timeout, and an invoker that waits less than an attempt can
run (an event is processed after it went to the failure destination).
"""

from protocols.lambda_.spec import CLAIMS, SPEC

__all__ = ["CLAIMS", "SPEC"]
