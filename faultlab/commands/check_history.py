"""``faultlab check-history``: is each recorded history linearizable under a sequential model, or does it satisfy a
named checker of ``invariants/`` (``--checker at-least-once``; ``--list-checkers`` lists them)?

One verdict line per file (``--json``: a JSON list). The exit code is the worst over the files: 1 if any history
is not linearizable (its witness is printed), else 2 if any is undecided within ``--timeout``, else 0. Every file is
read, and each of its operations stepped once through the model, before any is checked, so an unreadable file, an
operation the model cannot take (a compare-and-set whose value is not a pair) or a bad argument exits 3 at once,
with a one-line message naming the file, instead of after minutes of checking; it is never taken for a verdict.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from faultlab.checkers import get_checker, history_checkers
from faultlab.cli import positive_seconds
from faultlab.errors import ConfigError, HistoryFormatError
from faultlab.history import History
from faultlab.importers import FORMATS, load_history
from faultlab.importers.json_values import BadJSON, loads, short
from faultlab.result import CheckResult, Verdict
from invariants.linearizability import check_linearizable
from models import FAILED, MODELS, UNKNOWN, Model, get_model

_VERDICT = {Verdict.OK: "linearizable", Verdict.VIOLATED: "not-linearizable", Verdict.UNKNOWN: "unknown"}
_EXIT = {Verdict.OK: 0, Verdict.UNKNOWN: 2, Verdict.VIOLATED: 1}
_SEVERITY = {0: 0, 2: 1, 1: 2}  # a violation outranks an undecided file, which outranks a linearizable one


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-history", help="check recorded histories for linearizability against a model",
                       description=__doc__.split("\n")[0])
    p.add_argument("files", nargs="*", type=Path, metavar="FILE", help="history files")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--model", help=f"judge linearizability under this sequential model: {', '.join(MODELS)}")
    what.add_argument("--checker", metavar="NAME",
                      help="judge with this history checker of invariants/ instead (see --list-checkers)")
    what.add_argument("--list-checkers", action="store_true", help="list the history checkers and what each judges")
    p.add_argument("--format", choices=sorted(FORMATS), help="history format (default: guessed from the content)")
    p.add_argument("--initial", metavar="JSON", help="initial state of the model, as JSON (default: the model's)")
    p.add_argument("--timeout", type=positive_seconds, metavar="SECONDS",
                   help="give up on a file after this long: unknown")
    p.add_argument("--json", action="store_true", help="print a JSON list of results instead of text")
    p.add_argument("--html", type=Path, metavar="DIR", help="write a timeline per file into DIR")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.list_checkers:
        for c in history_checkers():
            print(f"{c.qualified:36} {c.doc}")
        return 0
    if not args.files:
        raise ConfigError("check-history needs at least one history FILE")
    if args.checker is not None:
        return _run_checker(args)
    if args.model is None:
        raise ConfigError("check-history needs --model MODEL (linearizability) or --checker NAME; models: "
                          f"{', '.join(MODELS)}; checkers: see --list-checkers")
    model = get_model(args.model)
    initial = model.init if args.initial is None else _initial_state(model, args.initial)
    histories = [(path, load_history(path, args.format)) for path in args.files]
    for path, history in histories:
        _check_fits(path, history, model, initial, args.initial)
    rows, worst = [], 0
    for path, history in histories:
        started = time.perf_counter()
        try:
            result = check_linearizable(history, model, initial=initial, timeout=args.timeout)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as e:
            # a state the single steps of _check_fits did not reach: still the history's values, not a verdict
            raise HistoryFormatError(f"{path}: the {model.name} model cannot step through this history "
                                     f"({type(e).__name__}: {e}); its values do not have the shapes the model "
                                     f"expects: {model.doc or model.name}") from None
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


_CHECKER_VERDICT = {Verdict.OK: "ok", Verdict.VIOLATED: "violated", Verdict.UNKNOWN: "unknown"}


def _run_checker(args: argparse.Namespace) -> int:
    """Judge each file with one history checker: one line per file (or JSON), the worst exit code over them."""
    for flag, given in (("--initial", args.initial), ("--timeout", args.timeout), ("--html", args.html)):
        if given is not None:
            raise ConfigError(f"{flag} applies to --model (linearizability), not to --checker {args.checker}")
    checker = get_checker(args.checker)
    histories = [(path, load_history(path, args.format)) for path in args.files]  # every file read before any verdict
    rows, worst = [], 0
    for path, history in histories:
        started = time.perf_counter()
        try:
            result = checker.check(history)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as e:
            raise HistoryFormatError(f"{path}: the {checker.qualified} checker cannot read this history "
                                     f"({type(e).__name__}: {e}); its operations do not have the shapes it judges: "
                                     f"{checker.doc or checker.qualified}") from None
        if not isinstance(result, CheckResult):
            raise TypeError(f"checker {checker.qualified} returned {type(result).__name__}, not a CheckResult")
        seconds = time.perf_counter() - started
        verdict = result.verdict if result.exercised else Verdict.UNKNOWN  # nothing judged is not a pass
        worst = max(worst, _EXIT[verdict], key=_SEVERITY.__getitem__)
        row = {"file": str(path), "checker": checker.qualified, "verdict": _CHECKER_VERDICT[verdict],
               "operations": len(history.operations()), "seconds": round(seconds, 4),
               "explanation": result.explanation, "witness": result.witness}
        rows.append(row)
        if not args.json:
            head = f"{path}: {row['verdict']} by {checker.qualified} ({row['operations']} operations, {seconds:.3f} s)"
            print(head if verdict is Verdict.OK else
                  f"{head}\n  {result.explanation}\n  witness: {json.dumps(result.witness, default=str)}")
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
    return worst


def _initial_state(model: Model, text: str):
    """The model state ``--initial`` names: strict JSON, converted by the model, hashable."""
    example = 'a JSON value such as 0, "" or {"x": 1}'
    try:
        value = loads(text)
    except BadJSON as e:
        raise ConfigError(f"--initial {short(text, 40)} is not JSON ({e.where}{e.what}); give {example}") from None
    try:
        state = model.from_json(value)
        hash(state)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"--initial {short(value, 40)} is not a state of the {model.name} model ({e}); give "
                          f"{example} that the model can start from") from None
    return state


def _check_fits(path: Path, history: History, model: Model, initial, initial_text: str | None) -> None:
    """Step each operation once through the model from the initial state; fail, naming the file and the operation,
    when the model lacks the function or cannot take the value (a cas whose value is not a pair)."""
    for op in history.operations():
        if model.functions is not None and op.f not in model.functions:
            fits = [m.name for m in MODELS.values() if m.functions and op.f in m.functions]
            hint = f"models with {op.f!r}: {', '.join(fits)}" if fits else "no built-in model has it"
            raise ConfigError(f"{path}: operation at event {op.call_index} ({op.describe()[:120]}) calls {op.f!r}, "
                              f"which the {model.name!r} model does not have (it has {', '.join(model.functions)}); "
                              f"{hint}")
        if op.status == "fail" and op.f not in model.failures_checked:
            continue  # a failure that did not happen never reaches the model
        output = {"ok": op.output, "info": UNKNOWN, "fail": FAILED}[op.status]
        try:
            _, state = model.step(initial, op.f, op.input, output)
            hash(state)
            if model.partition_by is not None:
                hash(model.partition_by(op))
        except Exception as e:  # the model's own code on the file's values: any failure is the input's
            start = "" if initial_text is None else f" from --initial {short(initial_text, 40)}"
            raise HistoryFormatError(f"{path}: operation at event {op.call_index} ({op.describe()[:120]}) is not "
                                     f"one the {model.name} model can take{start} ({type(e).__name__}: {e}); "
                                     f"{model.doc or 'check the model and the history'}") from None


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
