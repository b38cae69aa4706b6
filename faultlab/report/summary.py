"""``reports/index.html``: the page a person opens after ``faultlab verify``.

Claims with their verdicts and evidence, measured figures as tables, every configuration's rows with links to the
counterexample timelines, and the fault coverage behind each held verdict. Rendered with jinja2 (autoescaped) from the
same rows the markdown and JSON reports are written from; deterministic for the same rows.
"""

from __future__ import annotations

import collections
import os
from pathlib import Path
from typing import Any

import jinja2

from faultlab.faults import INJECTABLE

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True,
                          lstrip_blocks=True, undefined=jinja2.StrictUndefined)
FAULT_KINDS = INJECTABLE


def _link(trace: str | None, out: Path) -> str | None:
    if not trace:
        return None
    return os.path.relpath(Path(trace).with_suffix(".html"), out)


def coverage_rows(rows: list[Any]) -> list[dict[str, Any]]:
    """One row per explored configuration (its first verify row carries the coverage): the runs in which each fault
    kind was injected, what the protocol noted and how operations ended. A held verdict is only as good as this."""
    out, seen = [], set()
    for r in rows:
        if r.coverage and (r.protocol, r.configuration) not in seen:
            seen.add((r.protocol, r.configuration))
            cov = r.coverage
            out.append({"protocol": r.protocol, "configuration": r.configuration, "runs": cov["runs"],
                        "faults": [cov["runs_with_event"].get(k, 0) for k in FAULT_KINDS],
                        "notes": ", ".join(f"{k} ({n})" for k, n in cov["runs_with_note"].items()) or "-",
                        "ops": ", ".join(f"{k} {n}" for k, n in cov["ops"].items())})
    return out


def write_index(rows: list[Any], claims: list[Any], out: Path, *, profile: str, examples: int, seed: int,
                evidence: Any) -> Path:
    """Write ``out/index.html`` from verify rows and judged claims; ``evidence(claim) -> str`` words each claim."""
    counts = collections.Counter(r.verdict for r in rows) + collections.Counter(c.verdict for c in claims)
    from faultlab.claims import judged_on
    from faultlab.report.plots import write_plot

    claim_views = [{"protocol": c.protocol, "section": c.claim.section, "text": c.claim.text,
                    "judged_on": judged_on(c).replace("`", ""),  # markdown quoting, not for the page
                    "method": c.claim.method, "verdict": c.verdict, "expect": c.claim.expect,
                    "as_expected": c.as_expected, "evidence": evidence(c),
                    "timeline": _link(c.evidence.get("trace"), out)} for c in claims]
    measurements = []
    for c in claims:
        table = c.evidence.get("table") if c.verdict == "measured" else None
        if table:
            columns = list(table[0])
            plot = write_plot(out, c.protocol, c.claim.text, c.evidence) if c.evidence.get("plot") else None
            measurements.append({"protocol": c.protocol, "text": c.claim.text, "summary": c.evidence["summary"],
                                 "columns": columns, "rows": [[row.get(k, "") for k in columns] for row in table],
                                 "plot": plot.relative_to(out).as_posix() if plot else None})
    row_views = [{**r.to_json(), "timeline": _link(r.trace, out)} for r in rows]
    coverage = coverage_rows(rows)
    from faultlab.coverage import EXERCISE_FLOOR, invariant_rows

    invariant_coverage = invariant_rows(rows)
    unexpected = sum(not r.as_expected for r in rows) + sum(not c.as_expected for c in claims)
    html = _ENV.get_template("report.html.j2").render(
        profile=profile, examples=examples, seed=seed, counts=sorted(counts.items()), unexpected=unexpected,
        claims=claim_views, measurements=measurements, rows=row_views, coverage=coverage, fault_kinds=FAULT_KINDS,
        invariant_coverage=invariant_coverage, exercise_floor=f"{EXERCISE_FLOOR:.0%}",
        flagged=sum(bool(c["flags"]) for c in invariant_coverage))
    out.mkdir(parents=True, exist_ok=True)
    path = out / "index.html"
    path.write_text(html, encoding="utf-8")
    return path
