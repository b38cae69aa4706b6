"""What a failing run leaves behind: its trace (to replay) and its timeline page (to look at), side by side.

``x.json`` is the trace; ``x.html`` is its space-time diagram (nodes, clients, messages, faults) with the violated
invariants' witness operations and their causal past shown, so a person can see why before replaying it.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from pathlib import Path
from typing import Any

from faultlab.explore import Exploration
from faultlab.network import Envelope
from faultlab.protocol import Protocol, config_to_json
from faultlab.registry import reference
from faultlab.report.timeline import write_timeline
from faultlab.runtime import RunResult
from faultlab.trace import write_trace


def save_run(result: RunResult, path: Path, source: dict[str, Any] | None = None) -> Path:
    """Write the trace at ``path`` and its timeline at ``path`` with ``.html``; returns the trace path."""
    trace = write_trace(result, path, source)
    violated = result.violations[0] if result.violations else None
    title = f"{result.protocol}: " + (f"{violated.name} violated" if violated else result.verdict)
    if result.error:
        title += f" (the protocol raised {result.error})"
    # The page is drawn from the trace as written (what a reader of the file has), plus the send times the file
    # does not record (they narrow where the arrows start).
    sent_at = {p.id: p.sent_at for _, _, p in result.events if isinstance(p, Envelope)}
    write_timeline(result.history, violated, trace.with_suffix(".html"), title=title,
                   trace=json.loads(trace.read_text(encoding="utf-8")), sent_at=sent_at)
    return trace


def trace_name(exp: Exploration, variant: str | None) -> str:
    """``PROTOCOL-VARIANT-TAG-seedN.json``: TAG is a hash of everything that determines the exploration's run.

    That is the configuration, the engine settings (workload, fault plan, limits), the judged invariants, the seed,
    the number of schedules and whether the failure was shrunk: two explorations that could write different traces
    get different names, so one never overwrites the other's, and the same exploration writes the same name (and,
    being deterministic, the same bytes).
    """
    run = {"config": config_to_json(exp.config), "settings": exp.settings.to_json(),
           "invariants": list(exp.invariants), "seed": exp.seed, "examples": exp.examples, "shrunk": exp.shrunk}
    tag = hashlib.sha256(json.dumps(run, sort_keys=True).encode()).hexdigest()[:10]
    # an unshrunk failure is marked in the name too: it is a longer trace than the shrunk one of the same seed
    return f"{exp.protocol.name}-{variant or 'custom'}-{tag}-seed{exp.seed}{'' if exp.shrunk else '-unshrunk'}.json"


def save_failure(exp: Exploration, out: Path, variant: str | None) -> Path:
    assert exp.failure is not None
    path = out / trace_name(exp, variant)
    source = {"engine": "hypothesis", "seed": exp.seed, "examples": exp.examples, "found_after": exp.found_after,
              "variant": variant, "shrunk": exp.shrunk}
    return save_run(exp.failure, path, source)


def save_exhaustive_failure(ex: Any, out: Path, variant: str | None) -> Path:
    """The trace of an exhaustive search's violation: ``PROTOCOL-VARIANT-TAG-exhaustive-dD.json``, TAG a hash of
    the configuration, settings, invariants, depth and run limit."""
    assert ex.failure is not None
    run = {"config": config_to_json(ex.config), "settings": ex.settings.to_json(), "invariants": list(ex.invariants),
           "depth": ex.depth, "max_runs": ex.max_runs, "shrunk": ex.shrunk}
    tag = hashlib.sha256(json.dumps(run, sort_keys=True).encode()).hexdigest()[:10]
    name = f"{ex.protocol.name}-{variant or 'custom'}-{tag}-exhaustive-d{ex.depth}.json"
    source = {"engine": "exhaustive", "depth": ex.depth, "max_runs": ex.max_runs, "found_after": ex.found_after,
              "failure_depth": ex.failure_depth, "variant": variant, "shrunk": ex.shrunk}
    return save_run(ex.failure, out / name, source)


def replay_command(protocol: Protocol | str, trace: Path | str) -> str:
    """The ``faultlab replay`` command for ``trace``, as it must be typed to work: with ``--protocol REF`` when the
    protocol is not registered under its name (it was loaded as ``module:ATTRIBUTE``)."""
    ref = reference(protocol)
    return f"faultlab replay {shlex.quote(str(trace))}" + (f" --protocol {shlex.quote(ref)}" if ref else "")
