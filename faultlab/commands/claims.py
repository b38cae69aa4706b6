"""``faultlab claims [PROTOCOL]``: judge each protocol's claims from the design document and print the table.

Every verdict is computed: ``proved``/``refuted`` by z3, ``held``/``refuted`` by exploration (a refutation comes
with its shrunk trace and replay command), ``measured`` with the figure and unit. Writes ``reports/claims.md`` and
``reports/claims.json``. Exit 0 when every claim computes its expected verdict (a refuted claim is a result, not an
error), 1 when one computes another verdict than expected, 2 if any claim is vacuous or unknown.
"""

from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path

from faultlab.claims import ClaimResult, exploration_for, judge, judged_on
from faultlab.commands.options import add_scope_arguments, make_runner, resolve_scope
from faultlab.explore import ExplorationCache
from faultlab.parallel import prefetch


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("claims", help="judge the design document's claims, protocol by protocol")
    add_scope_arguments(p, "explored claim")
    p.add_argument("--json", action="store_true", help="print a JSON list of {protocol, section, claim, verdict, "
                                                       "evidence}")
    p.set_defaults(run=run)


def claim_explorations(protocols, *, examples: int, seed: int, cache) -> list:
    """The explorations and measurements the claims of ``protocols`` are judged on, as ``(label, call)`` to run
    ahead in parallel; the label is :func:`claim_label`."""
    calls = []
    for p in protocols:
        for c in p.claims:
            if c.method == "invariant":
                calls.append((claim_label(p.name, c.text),
                              functools.partial(exploration_for, p, c, examples=examples, seed=seed, cache=cache)))
            elif c.method == "measure":
                calls.append((claim_label(p.name, c.text), functools.partial(cache.measure, p, c, seed)))
    return calls


def claim_label(protocol: str, text: str) -> str:
    return f"{protocol} claim {text}"


def previous_seconds(out: Path) -> dict[str, float]:
    """How long each verify row and claim took in the reports a previous run left in ``out`` (for ordering work
    only: longest first). Unreadable or absent reports give no hints."""
    took: dict[str, float] = {}
    try:
        rows = json.loads((out / "verify.json").read_text(encoding="utf-8")).get("rows", [])
        claims = json.loads((out / "claims.json").read_text(encoding="utf-8"))
        for r in rows:
            label = f"{r['protocol']} {r['configuration']}"
            took[label] = max(took.get(label, 0.0), float(r["seconds"]))
        for c in claims:
            took[claim_label(c["protocol"], c["claim"])] = float(c["seconds"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}
    return took


def judge_all(protocols, *, examples: int, seed: int, out: Path, cache=None) -> list[ClaimResult]:
    return [judge(p, c, examples=examples, seed=seed, traces=out / "traces", cache=cache)
            for p in protocols for c in p.claims]


def evidence_line(r: ClaimResult) -> str:
    e = r.evidence
    if r.verdict == "measured":
        return f"{e['figure']:g} {e['unit']}: {e['summary']}"
    if r.claim.method == "z3":
        bad = [p for p in e["proofs"] if p["verdict"] != "proved"]
        return bad[0]["explanation"] if bad else f"{len(e['proofs'])} proofs"
    if r.verdict == "refuted":
        return (f"found after {e['found_after']} runs over {e['links']} links, shrunk to {e['events']} events / "
                f"{e['operations']} operations; {e['replay']}")
    faults = ", ".join(f"{k} in {n}" for k, n in e["faults_in_runs"].items())
    missing = f"; never seen: {', '.join(e['missing_witnesses'])}" if e.get("missing_witnesses") else ""
    distinct = f" ({e['distinct_schedules']} distinct schedules)" if "distinct_schedules" in e else ""
    return f"{e['runs']} runs{distinct} over {e['links']} links; faults: {faults or 'none'}{missing}"


def write_claims_report(results: list[ClaimResult], out: Path) -> list[Path]:
    from faultlab.report.plots import write_plot  # matplotlib only when a measurement has a plot

    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "claims.json"
    json_path.write_text(json.dumps([r.to_json() for r in results], indent=2) + "\n", encoding="utf-8")
    lines = ["# Claims", "", "Sentences from the design document, each with the verdict faultlab computed.", "",
             "| protocol | section | claim | judged on | method | verdict | expected | evidence |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        text = r.claim.text.replace("|", "\\|")
        lines.append(f"| {r.protocol} | {r.claim.section} | {text} | {judged_on(r).replace('|', '/')} | "
                     f"{r.claim.method} | **{r.verdict}** | "
                     f"{r.claim.expect or ''} | {evidence_line(r).replace('|', '/')} |")
    for r in results:
        if r.verdict == "measured" and r.evidence["table"]:
            rows = r.evidence["table"]
            cols = list(rows[0])
            lines += ["", f"## {r.protocol}: {r.claim.text}", "", r.evidence["summary"], ""]
            plot = write_plot(out, r.protocol, r.claim.text, r.evidence) if r.evidence.get("plot") else None
            if plot is not None:
                lines += [f"![{r.protocol}: plot of the table below]({plot.relative_to(out).as_posix()})", ""]
            lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
            lines += ["| " + " | ".join(str(row.get(c, "")) for c in cols) + " |" for row in rows]
    md_path = out / "claims.md"
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [md_path, json_path]


def run(args: argparse.Namespace) -> int:
    _, examples, protocols = resolve_scope(args)
    with make_runner(args) as runner:
        cache = ExplorationCache(runner)
        prefetch(runner, claim_explorations(protocols, examples=examples, seed=args.seed, cache=cache),
                 previous_seconds(args.out))
        results = judge_all(protocols, examples=examples, seed=args.seed, out=args.out, cache=cache)
    paths = write_claims_report(results, args.out)
    if args.json:
        print(json.dumps([{k: v for k, v in r.to_json().items()
                           if k in ("protocol", "section", "claim", "verdict", "evidence")} for r in results],
                         indent=2))
    else:
        for r in results:
            flag = "" if r.as_expected else f"  [UNEXPECTED: expected {r.claim.expect}]"
            print(f"{r.protocol:18} §{r.claim.section:3} {r.verdict:9} {r.claim.text}{flag}")
            print(f"{'':24}judged on {judged_on(r)}")
            print(f"{'':24}{evidence_line(r)}")
        print(f"{len(results)} claims; reports: {', '.join(str(p) for p in paths)}")
    if any(r.verdict in ("vacuous", "unknown") for r in results):
        return 2
    return 1 if any(not r.as_expected for r in results) else 0
