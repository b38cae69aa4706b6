"""The faultlab pytest plugin (entry point ``pytest11``): Hypothesis profiles and a clear failure report.

Selects the Hypothesis profile for the session: ``--faultlab-profile NAME``, else ``FAULTLAB_PROFILE``, else ``ci``
when the ``CI`` environment variable is set, else ``dev``. Failures raised by :mod:`faultlab.testing` carry the
trace path and the replay command in their message.
"""

from __future__ import annotations

import pytest
from hypothesis import settings

from faultlab.profiles import PROFILES, default_profile_name, register_profiles


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("faultlab")
    group.addoption("--faultlab-profile", choices=sorted(PROFILES), default=None,
                    help="Hypothesis profile for faultlab explorations: dev (fast), ci (deterministic), thorough")


def pytest_configure(config: pytest.Config) -> None:
    register_profiles()
    name = config.getoption("--faultlab-profile") or default_profile_name()
    if name not in PROFILES:
        raise pytest.UsageError(f"FAULTLAB_PROFILE={name!r} is not a profile; choose from {', '.join(PROFILES)}")
    settings.load_profile(name)
    config._faultlab_profile = name  # type: ignore[attr-defined]


def pytest_report_header(config: pytest.Config) -> str:
    name = getattr(config, "_faultlab_profile", "?")
    return f"faultlab: Hypothesis profile {name!r} ({PROFILES[name].examples} schedules per exploration)"
