"""Measured claims of the Aurora model: failover time, replica lag, and what each loss pattern leaves.

Every figure is in simulated time from seeded runs. The engine has no latency model (a message takes no time unless
a ``delay`` fault holds it), so each figure is the protocol's own timing parameters at work, and each summary states
them.
"""
from __future__ import annotations

import statistics

from faultlab import FaultPlan, Measurement, RunSettings, SeededChoices, simulate


def _spec():
    from protocols.aurora import SPEC
    return SPEC


def measure_failover(seed: int, runs: int = 20) -> Measurement:
    raise NotImplementedError


def measure_replica_lag(seed: int, runs: int = 20) -> Measurement:
    raise NotImplementedError


def measure_loss_patterns(seed: int, runs: int = 10) -> Measurement:
    raise NotImplementedError
