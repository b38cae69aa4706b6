"""Hypothesis profiles for faultlab: ``dev`` (fast), ``ci`` (more schedules), ``thorough`` (a long random search).

A test must not depend on a random seed it did not choose, so ``dev`` and ``ci`` are deterministic: derandomized
Hypothesis, no example database, and every exploration seeded with :func:`exploration_seed` (0 unless a seed is
chosen). A randomized search is always chosen on purpose: the ``thorough`` profile, ``FAULTLAB_SEED=random``
(``pytest --faultlab-seed random``), or the CLI's ``--seed``.

Hypothesis loads its own built-in ``ci`` profile when the ``CI`` environment variable is set; faultlab registers a
``ci`` profile of its own under the same name, deliberately, so that CI runs these settings: derandomized, no example
database, no deadline (virtual time, but wall time varies on shared machines), and no ``explain`` phase (it dominated
failing simulation tests: 34 of 37 s in one measurement).

``examples`` is the number of schedules explored per claim; the CLI reads it from the profile when ``--examples``
is not given.
"""

from __future__ import annotations

import os
import random

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
    "dev": Profile("dev", 150, True, False, "fast feedback while editing; deterministic, seed 0"),
    "ci": Profile("ci", 200, True, False, "deterministic: the same schedules every run, no database"),
    "thorough": Profile("thorough", 2000, False, True, "long randomized exploration (a fresh seed each session, "
                        "printed), chosen on purpose for nightly runs"),
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


_RANDOM_SEED = random.SystemRandom().randrange(2**31)  # drawn once per process, used only when asked for


def exploration_seed(profile: Profile | None = None) -> int:
    """The seed of explorations that are not given one: ``FAULTLAB_SEED`` (an integer, or ``random``), else 0
    under a deterministic profile and a fresh seed per process under a randomized one."""
    raw = os.environ.get("FAULTLAB_SEED", "").strip()
    if raw == "random":
        return _RANDOM_SEED
    if raw:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"FAULTLAB_SEED={raw!r} is not a seed; give an integer or 'random'") from None
    profile = profile or active_profile()
    return 0 if profile.derandomize else _RANDOM_SEED


_ACTIVE: list[Profile] = []


def load_profile(name: str) -> Profile:
    """Make ``name`` the active profile, for Hypothesis and for :func:`exploration_seed` (the pytest plugin)."""
    profile = get_profile(name)
    register_profiles()
    settings.load_profile(profile.name)
    _ACTIVE[:] = [profile]
    return profile


def active_profile() -> Profile:
    """The profile loaded by :func:`load_profile`, else the default one (``FAULTLAB_PROFILE``, ``CI``)."""
    return _ACTIVE[0] if _ACTIVE else get_profile()


def get_profile(name: str | None = None) -> Profile:
    name = name or default_profile_name()
    if name not in PROFILES:
        raise ConfigError(f"unknown profile {name!r}; choose from {', '.join(PROFILES)}")
    return PROFILES[name]
