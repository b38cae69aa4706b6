"""What a failing run leaves behind: its trace (to replay) and its timeline page (to look at), side by side.

``x.json`` is the trace; ``x.html`` draws the history with the first violated invariant's witness marked, so a
person can open the counterexample in a browser before replaying it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from faultlab.explore import Exploration
from faultlab.protocol import config_to_json
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
    write_timeline(result.history, violated, trace.with_suffix(".html"), title=title)
    return trace


def trace_name(protocol_name: str, variant: str | None, config, seed: int) -> str:
    return f"{protocol_name}-{variant or 'custom'}-{_config_tag(config)}-seed{seed}.json"


def save_failure(exp: Exploration, out: Path, variant: str | None) -> Path:
    assert exp.failure is not None
    name = trace_name(exp.protocol.name, variant, exp.config, exp.seed)
    if not exp.shrunk:  # never overwrite the shrunk trace of the same seed with a longer one
        name = name.replace(".json", "-unshrunk.json")
    path = out / name
    source = {"engine": "hypothesis", "seed": exp.seed, "examples": exp.examples, "found_after": exp.found_after,
              "variant": variant, "shrunk": exp.shrunk}
    return save_run(exp.failure, path, source)


def _config_tag(config: Any) -> str:
    """A short stable name for a configuration, for file names."""
    text = json.dumps(config_to_json(config), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:8]
