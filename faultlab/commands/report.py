"""``faultlab report``: write every report page again from the last run's JSON, without running anything.

Reads ``verify.json`` and ``claims.json`` in the report directory (either may be missing, not both) and writes
``index.html``, ``verify.md``, ``coverage.json``, ``claims.md`` and the plots again, as ``faultlab verify`` and
``faultlab claims`` would from the same results, and each trace's page in ``traces/`` from the trace file (a trace
that cannot be read is named on stderr, exit 3, and every other page is still written). Nothing is explored, proved, measured or imported: a report file
names protocols, it never loads them. An unreadable or malformed file exits 3 naming it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from faultlab.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="rewrite the report pages from the last run's JSON (runs nothing)",
                       description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("reports"), help="report directory (default reports/)")
    p.set_defaults(run=run)


def _read(path: Path, key: str | None) -> Any:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{path}: cannot read it ({e.strerror}); run `faultlab verify --out {path.parent}`") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not JSON ({e}); it is not a faultlab report file, or it was cut short: run "
                          f"`faultlab verify --out {path.parent}` again") from None
    if key is not None and not (isinstance(doc, dict) and isinstance(doc.get(key), list)):
        raise ConfigError(f"{path}: not a faultlab report file (no {key!r} list); run `faultlab verify` again")
    return doc


def run(args: argparse.Namespace) -> int:
    from faultlab.claims import ClaimResult
    from faultlab.commands.claims import evidence_line, write_claims_report
    from faultlab.commands.verify import write_reports
    from faultlab.report.summary import write_index
    from faultlab.verification import Row

    out: Path = args.out
    verify_path, claims_path = out / "verify.json", out / "claims.json"
    if not verify_path.exists() and not claims_path.exists():
        raise ConfigError(f"{out}: no verify.json or claims.json to report from; run `faultlab verify --out {out}`")
    doc = _read(verify_path, "rows") if verify_path.exists() else {"rows": []}
    claims_doc = _read(claims_path, None) if claims_path.exists() else []
    if not isinstance(claims_doc, list):
        raise ConfigError(f"{claims_path}: not a faultlab claims file (a JSON list); run `faultlab claims` again")
    rows, claims = [], []
    for i, d in enumerate(doc["rows"]):
        try:
            rows.append(Row.from_json(d))
        except (TypeError, ValueError, KeyError, AttributeError) as e:
            raise ConfigError(f"{verify_path}: row {i} is malformed ({e}); run `faultlab verify` again") from None
    for i, d in enumerate(claims_doc):
        try:
            claims.append(ClaimResult.from_json(d))
        except (TypeError, ValueError, KeyError, AttributeError) as e:
            raise ConfigError(f"{claims_path}: claim {i} is malformed ({e}); run `faultlab claims` again") from None
    profile, examples, seed = doc.get("profile", "?"), doc.get("examples", 0), doc.get("seed", 0)
    paths: list[Path] = []
    if verify_path.exists():
        paths += write_reports(rows, out, profile=profile, examples=examples, seed=seed)
    if claims:
        paths += write_claims_report(claims, out)
    paths.insert(0, write_index(rows, claims, out, profile=profile, examples=examples, seed=seed,
                                evidence=evidence_line))
    pages, bad = _trace_pages(out / "traces")
    print(f"{len(rows)} rows, {len(claims)} claims, {pages} trace pages; rewrote "
          + ", ".join(str(p) for p in paths))
    for line in bad:  # one unreadable trace costs its own page, never the others
        print(f"faultlab: {line}", file=sys.stderr)
    return 3 if bad else 0


def _trace_pages(folder: Path) -> tuple[int, list[str]]:
    """Each trace's space-time page written again from the trace file alone (nothing is replayed)."""
    from faultlab.cli import one_line
    from faultlab.errors import FaultlabError
    from faultlab.report.timeline import write_timeline
    from faultlab.trace import read_trace

    written, bad = 0, []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        try:
            trace = read_trace(path)
            doc = trace.doc
            violated = next((c for c in doc.get("checks") or () if c.get("verdict") == "violated"), None)
            title = f"{doc['protocol']}: " + (f"{violated.get('invariant') or violated.get('checker')} violated"
                                              if violated else str(trace.verdict))
            write_timeline(trace.history, None, path.with_suffix(".html"), title=title, trace=doc)
            written += 1
        except FaultlabError as e:
            bad.append(one_line(str(e)))
    return written, bad
