"""The faultlab pytest plugin (entry point ``pytest11``): Hypothesis profiles and a clear failure report.

Selects the Hypothesis profile for the session: ``--faultlab-profile NAME``, else ``FAULTLAB_PROFILE``, else ``ci``
when the ``CI`` environment variable is set, else ``dev``; and the seed of every exploration: ``--faultlab-seed``,
else ``FAULTLAB_SEED``, else 0 under the deterministic dev and ci profiles. Failures raised by :mod:`faultlab.testing` carry the
trace path and the replay command in their message.
"""

from __future__ import annotations

import os
from pathlib import Path

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
    group.addoption("--faultlab-coverage", default=None, metavar="PATH",
                    help="write the invariant and fault coverage of every faultlab.testing exploration in the "
                         "session (all xdist workers) to PATH as JSON")
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


# -- invariant and fault coverage of the session (faultlab.coverage) ----------------------------------------------

def pytest_sessionfinish(session: pytest.Session) -> None:
    from faultlab.coverage import SESSION

    config = session.config
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand its explorations to the controller
        workeroutput["faultlab_coverage"] = SESSION.to_json()
        return
    path = config.getoption("--faultlab-coverage")
    if path:
        config._faultlab_coverage_path = SESSION.write(Path(path))  # type: ignore[attr-defined]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:  # xdist, on the controller: a worker finished
    from faultlab.coverage import SESSION

    data = getattr(node, "workeroutput", {}).get("faultlab_coverage")
    if data:
        SESSION.merge(data)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    from faultlab.coverage import SESSION

    doc = SESSION.to_json()
    explorations = doc["explorations"]
    if not explorations:
        return
    flagged = [(e["protocol"], e["configuration"], "faults", f) for e in explorations for f in e["flags"]]
    flagged += [(e["protocol"], e["configuration"], name, f) for e in explorations
                for name, inv in e["invariants"].items() for f in inv["flags"]]
    where = getattr(config, "_faultlab_coverage_path", None)
    line = (f"faultlab coverage: {len(explorations)} configurations explored, "
            f"{sum(len(e['invariants']) for e in explorations)} invariants judged, {len(flagged)} flags")
    terminalreporter.write_line(line + (f"; written to {where}" if where else
                                        " (--faultlab-coverage PATH writes them as JSON)"))
    for p, c, name, f in flagged[:10]:
        terminalreporter.write_line(f"  {p} {c} {name}: {f}")
