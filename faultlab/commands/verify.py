"""``faultlab verify``: the main job. Every protocol's good configurations, known-bad variants and proofs.

Prints a table (protocol, configuration, invariant, verdict, runs, time) and writes ``reports/index.html`` (the
page to open), ``reports/verify.md`` and
``reports/verify.json``, plus a trace under ``reports/traces/`` for every refutation; then judges every claim and
writes ``reports/claims.md`` and ``reports/claims.json``. Exit 0 when every row is as
expected (good configurations hold or are proved, known-bad variants are refuted) and no claim is left vacuous or
unknown and every claim computes the verdict it is expected to, 1 otherwise. A refuted claim is a result, not a
failure of the job; a claim that stops being refuted (the search lost it) or starts being refuted is flagged.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from faultlab.commands.claims import (
    claim_explorations,
    evidence_line,
    judge_all,
    judged_on,
    previous_seconds,
    write_claims_report,
)
from faultlab.commands.options import add_scope_arguments, make_runner, resolve_scope
from faultlab.coverage import EXERCISE_FLOOR, invariant_rows
from faultlab.explore import ExplorationCache
from faultlab.parallel import prefetch
from faultlab.report.run import replay_command
from faultlab.report.summary import FAULT_KINDS, coverage_rows, write_index
from faultlab.verification import Row, explorations, verify_protocol


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="verify every protocol and write reports (the main job)")
    add_scope_arguments(p, "configuration")
    p.set_defaults(run=run)


def coverage_section(rows: list[Row]) -> list[str]:
    table = coverage_rows(rows)
    if not table:
        return []
    lines = ["", "## Fault and invariant coverage", "",
             "Runs in which each fault kind was injected, protocol events noted, and operation outcomes, per explored "
             "configuration (up to the first violation for refuted ones).", "",
             "| protocol | configuration | runs | " + " | ".join(FAULT_KINDS) + " | noted (runs) | operations |",
             "|---|---|---|" + "---|" * len(FAULT_KINDS) + "---|---|"]
    for c in table:
        faults = " | ".join(str(n) for n in c["faults"])
        lines.append(f"| {c['protocol']} | {c['configuration']} | {c['runs']} | {faults} | {c['notes']} | {c['ops']} |")
    return lines


def write_reports(rows: list[Row], out: Path, *, profile: str, examples: int, seed: int) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    doc = {"profile": profile, "examples": examples, "seed": seed, "rows": [r.to_json() for r in rows]}
    json_path = out / "verify.json"
    json_path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    lines = ["# faultlab verify", "",
             f"Profile `{profile}`, up to {examples} schedules per configuration, seed {seed}. "
             "Known-bad variants are expected to be refuted; good ones to hold (and not be vacuous) or be proved.", "",
             "| protocol | configuration | invariant / claim | method | links | verdict | expected | runs | found after | "
             "seconds | trace |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        mark = "" if r.as_expected else " **UNEXPECTED**"
        lines.append(f"| {r.protocol} | {r.configuration} | {r.check} | {r.method} | {r.links or ''} | {r.verdict}{mark} | "
                     f"{r.expected} | {r.runs if r.runs is not None else ''} | "
                     f"{r.found_after if r.found_after is not None else ''} | {r.seconds} | "
                     f"{_trace_cell(r, out)} |")
    lines += coverage_section(rows)
    lines += invariant_coverage_section(rows)
    md_path = out / "verify.md"
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    coverage_path = out / "coverage.json"
    coverage_path.write_text(json.dumps({"profile": profile, "examples": examples, "seed": seed,
                                         "exercise_floor": EXERCISE_FLOOR, "invariants": invariant_rows(rows)},
                                        indent=2) + "\n", encoding="utf-8")
    return [md_path, json_path, coverage_path]


def _trace_cell(r: Row, out: Path) -> str:
    """A counterexample's timeline page (relative to the report) and its replay command."""
    if not r.trace:
        return ""
    page = os.path.relpath(Path(r.trace).with_suffix(".html"), out)
    return f"[timeline]({page}) `{replay_command(r.protocol, r.trace)}`"


def invariant_coverage_section(rows: list[Row]) -> list[str]:
    table = invariant_rows(rows)
    if not table:
        return []
    lines = ["", "## Invariant coverage", "",
             f"Per explored configuration and invariant: the runs that judged it, how many exercised it (its checker "
             f"had something to judge), the faults present in those runs, and flags: exercised in under "
             f"{EXERCISE_FLOOR:.0%} of runs, never under a fault, a fault kind or partition shape never drawn.", "",
             "| protocol | configuration | invariant | verdict | runs | exercised | with a fault | faults in exercised runs "
             "| flags |", "|---|---|---|---|---|---|---|---|---|"]
    for c in table:
        faults = ", ".join(f"{k} {n}" for k, n in c["exercised_under"].items()) or "-"
        lines.append(f"| {c['protocol']} | {c['configuration']} | {c['invariant']} | {c['verdict']} | {c['runs']} | "
                     f"{c['exercised']} ({c['share']:.0%}) | {c['exercised_with_a_fault']} | {faults} | "
                     f"{'; '.join(c['flags']) or '-'} |")
    return lines


def run(args: argparse.Namespace) -> int:
    profile, examples, protocols = resolve_scope(args)
    start = time.perf_counter()
    with make_runner(args) as runner:
        # a claim about the same variant and invariants as a row reuses its exploration
        cache = ExplorationCache(runner)
        if runner.parallel:
            print(f"exploring on {runner.workers} workers"
                  f"{' at ' + runner.scheduler if runner.scheduler else ''}", file=sys.stderr)
        prefetch(runner, [call for p in protocols for call in explorations(p, examples=examples, seed=args.seed,
                                                                         cache=cache)]
                 + claim_explorations([p for p in protocols if p.claims], examples=examples, seed=args.seed,
                                      cache=cache), previous_seconds(args.out))
        return _report(args, profile, examples, protocols, cache, start)


def _report(args: argparse.Namespace, profile, examples: int, protocols: list, cache: ExplorationCache,
            start: float) -> int:
    rows: list[Row] = []
    console = Console(stderr=True)
    total = sum(len(p.variants) for p in protocols)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("verifying", total=total)
        for protocol in protocols:
            def step(label: str) -> None:
                bar.update(task, description=label)
            before = len(rows)
            rows += verify_protocol(protocol, examples=examples, seed=args.seed, traces=args.out / "traces",
                                    cache=cache, progress=step)
            bar.advance(task, len(protocol.variants))
            if not console.is_terminal:
                print(f"verified {protocol.name}: {len(rows) - before} rows", file=sys.stderr)
    table = Table(title=f"faultlab verify (profile {profile.name}, {examples} schedules per configuration)")
    for col in ("protocol", "configuration", "invariant / claim", "verdict", "expected", "runs", "seconds"):
        table.add_column(col)
    for r in rows:
        style = None if r.as_expected else "bold red"
        table.add_row(r.protocol, r.configuration, r.check[:70], r.verdict, r.expected,
                      "" if r.runs is None else str(r.runs), f"{r.seconds}", style=style)
    Console(width=160).print(table)
    paths = write_reports(rows, args.out, profile=profile.name, examples=examples, seed=args.seed)
    claims = judge_all([p for p in protocols if p.claims], examples=examples, seed=args.seed, out=args.out,
                       cache=cache)
    if claims:
        paths += write_claims_report(claims, args.out)
        print(f"\nclaims ({len(claims)}):")
        for c in claims:
            print(f"  {c.protocol} §{c.claim.section} {c.verdict}: {c.claim.text}\n      judged on {judged_on(c)}\n"
                  f"      {evidence_line(c)}")
    paths.insert(0, write_index(rows, claims, args.out, profile=profile.name, examples=examples, seed=args.seed,
                                evidence=evidence_line))
    undecided = [c for c in claims if c.verdict in ("vacuous", "unknown") or not c.as_expected]
    bad = [r for r in rows if not r.as_expected]
    print(f"{len(rows)} rows, {len(bad)} unexpected, {time.perf_counter() - start:.1f}s; "
          f"reports: {', '.join(str(p) for p in paths)}")
    for r in bad:
        print(f"UNEXPECTED: {r.protocol} {r.configuration} {r.check}: {r.verdict} (expected {r.expected}) {r.detail}")
    for c in undecided:
        expected = f" (expected {c.claim.expect})" if c.claim.expect else ""
        print(f"UNEXPECTED CLAIM: {c.protocol} §{c.claim.section} {c.claim.text}: {c.verdict}{expected}")
    return 1 if bad or undecided else 0
