"""Retries with backoff and jitter, a circuit breaker and idempotency keys (design document section 13, issue 12).

A caller library (node ``app``) retries a service of bounded capacity (node ``svc``, :mod:`faultlab.capacity`):
timeouts on every call, exponential backoff without jitter, full, equal or decorrelated jitter (the backoff draws
are the caller's coins), max attempts, a circuit breaker, and idempotency keys at the service. See
:mod:`protocols.retries.nodes` for the model, :mod:`protocols.retries.spec` for invariants, variants and claims,
and :mod:`protocols.retries.measure` for the contention, recovery and breaker experiments.
"""

from protocols.retries.spec import SPEC

__all__ = ["SPEC"]
