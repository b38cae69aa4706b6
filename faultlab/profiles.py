"""Hypothesis profiles for faultlab: ``dev`` (fast), ``ci`` (deterministic, so CI never flakes), ``thorough``.

Hypothesis loads its own built-in ``ci`` profile when the ``CI`` environment variable is set; faultlab registers a
``ci`` profile of its own under the same name, deliberately, so that CI runs these settings: derandomized (the same
examples every run), no example database, no deadline (virtual time, but wall time varies on shared machines), and
no ``explain`` phase (it dominated failing simulation tests: 34 of 37 s in one measurement).

``examples`` is the number of schedules explored per claim; the CLI reads it from the profile when ``--examples``
is not given.
"""

from __future__ import annotations

import os

import attrs
from hypothesis import HealthCheck, Phase, settings

from faultlab.errors import ConfigError

SIMULATION_PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)
_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
             HealthCheck.large_base_example]


@attrs.frozen
class Profile:
    name: str
    examples: int
    derandomize: bool
    use_database: bool
    description: str


PROFILES = {
    "dev": Profile("dev", 150, False, True, "fast feedback while editing; keeps failures in .hypothesis/"),
    "ci": Profile("ci", 200, True, False, "deterministic: the same schedules every run, no database"),
    "thorough": Profile("thorough", 2000, False, True, "long randomized exploration for nightly runs"),
}


def register_profiles() -> None:
    for p in PROFILES.values():
        kwargs = {} if p.use_database else {"database": None}
        settings.register_profile(p.name, max_examples=p.examples, derandomize=p.derandomize, deadline=None,
                                  phases=SIMULATION_PHASES, suppress_health_check=_SUPPRESS, print_blob=True,
                                  **kwargs)


def default_profile_name() -> str:
    name = os.environ.get("FAULTLAB_PROFILE")
    if name:
        return name
    return "ci" if os.environ.get("CI") else "dev"


def get_profile(name: str | None = None) -> Profile:
    name = name or default_profile_name()
    if name not in PROFILES:
        raise ConfigError(f"unknown profile {name!r}; choose from {', '.join(PROFILES)}")
    return PROFILES[name]
