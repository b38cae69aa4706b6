"""Lambda's measured figures, in simulated time: the concurrency limit under a burst, scaling from zero, and what
cold starts (and provisioned concurrency, and SnapStart) cost the client."""

from __future__ import annotations

from faultlab import Measurement


def measure_concurrency_limit(seed: int) -> Measurement:
    raise NotImplementedError


def measure_scale_from_zero(seed: int) -> Measurement:
    raise NotImplementedError


def measure_cold_starts(seed: int) -> Measurement:
    raise NotImplementedError


def measure_snapstart(seed: int) -> Measurement:
    raise NotImplementedError
