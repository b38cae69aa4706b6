"""``faultlab check-history``: is each recorded history linearizable under a sequential model?

One verdict line per file (``--json``: a JSON list). The exit code is the worst over the files: 1 if any history
is not linearizable (its witness is printed), else 2 if any is undecided within ``--timeout``, else 0. Every file is
read before any is checked, so an unreadable file or a bad argument exits 3 at once, with a one-line message,
instead of after minutes of checking.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from faultlab.errors import ConfigError
from faultlab.importers import FORMATS, load_history
from faultlab.result import CheckResult, Verdict
from invariants.linearizability import check_linearizable
from models import MODELS, get_model

_VERDICT = {Verdict.OK: "linearizable", Verdict.VIOLATED: "not-linearizable", Verdict.UNKNOWN: "unknown"}
_EXIT = {Verdict.OK: 0, Verdict.UNKNOWN: 2, Verdict.VIOLATED: 1}
_SEVERITY = {0: 0, 2: 1, 1: 2}  # a violation outranks an undecided file, which outranks a linearizable one


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-history", help="check recorded histories for linearizability against a model",
                       description=__doc__.split("\n")[0])
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="history files")
    p.add_argument("--model", required=True, help=f"sequential model: {', '.join(MODELS)}")
    p.add_argument("--format", choices=sorted(FORMATS), help="history format (default: guessed from the content)")
    p.add_argument("--initial", metavar="JSON", help="initial state of the model, as JSON (default: the model's)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="give up on a file after this long: unknown")
    p.add_argument("--json", action="store_true", help="print a JSON list of results instead of text")
    p.add_argument("--html", type=Path, metavar="DIR", help="write a timeline per file into DIR")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    model = get_model(args.model)
    initial = model.init
    if args.initial is not None:
        try:
            initial = model.from_json(json.loads(args.initial))
        except json.JSONDecodeError as e:
            raise ConfigError(f"--initial {args.initial!r} is not JSON ({e.msg}); give a JSON value such as 0, "
                              f'"" or {{"x": 1}}') from None
    if args.timeout is not None and args.timeout <= 0:
        raise ConfigError(f"--timeout must be a positive number of seconds, not {args.timeout:g}")
    histories = [(path, load_history(path, args.format)) for path in args.files]
    rows, worst = [], 0
    for path, history in histories:
        started = time.perf_counter()
        result = check_linearizable(history, model, initial=initial, timeout=args.timeout)
        seconds = time.perf_counter() - started
        # A history with nothing to judge is reported undecided: a pass would say something was shown.
        verdict = result.verdict if result.exercised else Verdict.UNKNOWN
        code = _EXIT[verdict]
        worst = max(worst, code, key=_SEVERITY.__getitem__)
        row = {"file": str(path), "model": model.name, "verdict": _VERDICT[verdict],
               "operations": result.witness.get("operations", 0), "seconds": round(seconds, 4),
               "explanation": result.explanation, "witness": result.witness}
        if args.html is not None:
            row["html"] = str(_write_html(history, result, path, args.html, rows))
        rows.append(row)
        if not args.json:
            print(_line(row, result, verdict))
    if args.json:
        print(json.dumps(rows, indent=2))
    return worst


def _line(row: dict, result: CheckResult, verdict: Verdict) -> str:
    head = f"{row['file']}: {row['verdict']} ({row['operations']} operations, {row['seconds']:.3f} s)"
    if verdict is Verdict.OK:
        return head
    lines = [head, f"  {result.explanation}"]
    if result.violated:
        w = result.witness
        lines.append(f"  witness: failed_op={w['failed_op']} (event index of its invoke), partition="
                     f"{json.dumps(w['partition'])}, states={json.dumps(w['states'])}, "
                     f"longest_prefix={json.dumps(w['longest_prefix'])}")
    return "\n".join(lines)


def _write_html(history, result: CheckResult, path: Path, directory: Path, done: list[dict]) -> Path:
    from faultlab.report.timeline import write_timeline  # only --html needs the report writers

    directory.mkdir(parents=True, exist_ok=True)
    names = {Path(r["html"]).name for r in done if "html" in r}
    out = directory / f"{path.stem}.html"
    n = 2
    while out.name in names:  # two inputs with the same name from different folders
        out = directory / f"{path.stem}-{n}.html"
        n += 1
    verdict = _VERDICT[result.verdict] if result.exercised else "nothing to judge"
    write_timeline(history, result, out, title=f"{path.name}: {verdict}")
    return out
