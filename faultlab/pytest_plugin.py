"""The faultlab pytest plugin (entry point ``pytest11``): Hypothesis profiles and a clear failure report.

Selects the Hypothesis profile for the session: ``--faultlab-profile NAME``, else ``FAULTLAB_PROFILE``, else ``ci``
when the ``CI`` environment variable is set, else ``dev``; and the seed of every exploration: ``--faultlab-seed``,
else ``FAULTLAB_SEED``, else 0 under the deterministic dev and ci profiles. Failures raised by :mod:`faultlab.testing` carry the
trace path and the replay command in their message.
"""

from __future__ import annotations

import os

import pytest

from faultlab.errors import ConfigError
from faultlab.profiles import PROFILES, default_profile_name, exploration_seed, load_profile


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("faultlab")
    group.addoption("--faultlab-profile", choices=sorted(PROFILES), default=None,
                    help="Hypothesis profile for faultlab explorations: dev (fast), ci (more schedules), thorough "
                         "(long, randomized)")
    group.addoption("--faultlab-seed", default=None, metavar="N|random",
                    help="seed of every exploration (default 0; 'random' draws one, printed in the header)")
    group.addoption("--faultlab-workers", default=None, metavar="N",
                    help="processes each faultlab.testing exploration runs its shards on (default 1: pytest-xdist "
                         "already spreads tests over the cores); results are the same for any N")


def pytest_configure(config: pytest.Config) -> None:
    name = config.getoption("--faultlab-profile") or default_profile_name()
    if name not in PROFILES:
        raise pytest.UsageError(f"FAULTLAB_PROFILE={name!r} is not a profile; choose from {', '.join(PROFILES)}")
    seed = config.getoption("--faultlab-seed")
    if seed is not None:
        os.environ["FAULTLAB_SEED"] = seed
    workers = config.getoption("--faultlab-workers")
    if workers is not None:
        if not workers.isdigit() or int(workers) < 1:
            raise pytest.UsageError(f"--faultlab-workers {workers!r}: give a number of processes, 1 or more")
        os.environ["FAULTLAB_WORKERS"] = workers
    load_profile(name)
    try:
        config._faultlab_seed = exploration_seed()  # type: ignore[attr-defined]
    except ConfigError as e:
        raise pytest.UsageError(str(e)) from None
    config._faultlab_profile = name  # type: ignore[attr-defined]


def pytest_report_header(config: pytest.Config) -> str:
    name = getattr(config, "_faultlab_profile", "?")
    return (f"faultlab: Hypothesis profile {name!r} ({PROFILES[name].examples} schedules per exploration), "
            f"exploration seed {getattr(config, '_faultlab_seed', '?')}")
