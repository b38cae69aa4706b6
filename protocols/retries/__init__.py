"""Retries with backoff and jitter, a circuit breaker and idempotency keys (design document section 13, issue 12).

A caller library (node ``app``) retries a service of bounded capacity (node ``svc``, :mod:`faultlab.capacity`):
a timeout on every attempt, exponential backoff without jitter, with full, equal or decorrelated jitter (the backoff
draws are the caller's coins: the caller is a node because the engine's client functions have no coins of their
own), max attempts, a circuit breaker, and idempotency keys at the service (a key names one request: the same key
with other arguments is refused). :mod:`protocols.retries.nodes` is the model, :mod:`protocols.retries.spec` the
invariants, variants and claims, :mod:`protocols.retries.measure` the contention, recovery and breaker experiments.

Faults tolerated (claimed, with the dedup table synced with the balance): message loss, duplication (datagram
links), delay, partitions, crashes and power loss of the service or the caller: no add is applied twice, every
acknowledged add is applied and no failed one, every reply answers its own request, at most 4 attempts per
operation, no call through an open breaker, every operation answered within 5 s, and an add succeeds once the
service has recovered. Not claimed (found and refuted, see the variants): a service without idempotency keys applies
a retried add twice; a dedup table in memory loses that protection in a crash; a table keyed by the key alone
returns another request's reply; a breaker that never half-opens never recovers; retrying without a bound draws
unbounded calls; a call without a timeout waits forever. Measured, not judged: backoff alone does not get a service
out of a retry storm that outlasts a slowdown (a breaker or a short queue does).
"""

from protocols.retries.spec import SPEC

__all__ = ["SPEC"]
