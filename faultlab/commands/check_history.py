"""``faultlab check-history``: is each recorded history linearizable under a sequential model (``--model``), and
does it satisfy the history checkers of ``invariants/`` named with ``--check`` (repeatable; ``--list-checkers``)?

One verdict line per file and judgment (``--json``: a JSON list of rows). The exit code is the worst over them: 3
if a file could not be read or judged, else 1 if any judgment found a violation (its witness is printed), else 2 if
any was undecided (``--timeout``, or nothing to judge), else 0. Every file is read, and each of its operations
stepped once through the model, before anything is checked, so an unreadable file or an operation the model cannot
take (a compare-and-set whose value is not a pair) is reported at once, with a one-line message naming the file;
it is never taken for a verdict, and it never stops the other files from being judged. A bad argument (an unknown
model or checker) exits 3 before any file is read.

``--model list-append`` and ``--model rw-register`` are transactional workloads, not sequential models: they are
judged as Jepsen's Elle judges them (``invariants/elle.py``, ``invariants/rw_register.py``), against
``--consistency-model NAME`` (repeatable; default serializable), one row per file like a ``--check``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from faultlab.checkers import HistoryChecker, get_checker, history_checkers
from faultlab.cli import one_line, positive_seconds
from faultlab.errors import ConfigError, HistoryFormatError
from faultlab.history import History
from faultlab.importers import FORMATS, load_history
from faultlab.importers.json_values import BadJSON, loads, short
from faultlab.result import CheckResult, Verdict
from invariants.linearizability import check_linearizable
from models import FAILED, MODELS, UNKNOWN, Model, get_model

_VERDICT = {Verdict.OK: "linearizable", Verdict.VIOLATED: "not-linearizable", Verdict.UNKNOWN: "unknown"}
_CHECK_VERDICT = {Verdict.OK: "ok", Verdict.VIOLATED: "violated", Verdict.UNKNOWN: "unknown"}
_EXIT = {Verdict.OK: 0, Verdict.UNKNOWN: 2, Verdict.VIOLATED: 1}
# an unreadable file outranks a violation, which outranks an undecided file, which outranks a pass
_SEVERITY = {0: 0, 2: 1, 1: 2, 3: 3}
_INPUT_ERRORS = (TypeError, ValueError, KeyError, IndexError, AttributeError)
_TRANSACTIONAL = ("list-append", "rw-register")  # judged by Elle's checkers, not as sequential models


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-history", help="judge recorded histories: linearizability under a model, and the "
                                             "history checkers of invariants/", description=__doc__.split("\n")[0])
    p.add_argument("files", nargs="*", type=Path, metavar="FILE", help="history files")
    p.add_argument("--model", help=f"judge linearizability under this sequential model: {', '.join(MODELS)}; "
                                   f"or judge transactions as Elle does: {', '.join(_TRANSACTIONAL)}")
    p.add_argument("--consistency-model", dest="consistency_models", action="append", metavar="NAME", default=[],
                   help="with --model list-append or rw-register: the consistency model the history must obey, "
                        "as Elle names it (serializable, snapshot-isolation, strict-serializable, repeatable-read, "
                        "read-committed, read-uncommitted, ...; repeatable; default serializable)")
    p.add_argument("--check", "--checker", dest="checks", action="append", metavar="NAME", default=[],
                   help="also judge with this history checker of invariants/ (repeatable; see --list-checkers)")
    p.add_argument("--list-checkers", action="store_true", help="list the history checkers and what each judges")
    p.add_argument("--format", choices=sorted(FORMATS), help="history format (default: guessed from the content)")
    p.add_argument("--initial", metavar="JSON", help="initial state of the model, as JSON (default: the model's)")
    p.add_argument("--timeout", type=positive_seconds, metavar="SECONDS",
                   help="give up on a file's linearizability after this long: unknown")
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
    checks = [get_checker(name) for name in args.checks]  # an unknown name is a usage error before any file is read
    if args.model in _TRANSACTIONAL:
        checks.insert(0, _transactional_checker(args))
        args.model = None
    elif args.consistency_models:
        raise ConfigError(f"--consistency-model applies to --model {' or --model '.join(_TRANSACTIONAL)}, "
                          f"not to {'--model ' + args.model if args.model else '--check'}")
    if args.model is None and not checks:
        raise ConfigError("check-history needs --model MODEL (linearizability) or --check NAME; models: "
                          f"{', '.join(MODELS)}; checkers: see --list-checkers")
    if args.model is None:
        for flag, given in (("--initial", args.initial), ("--timeout", args.timeout)):
            if given is not None:
                raise ConfigError(f"{flag} applies to --model (linearizability), not to --check")
    model = get_model(args.model) if args.model is not None else None
    initial = None
    if model is not None:
        initial = model.init if args.initial is None else _initial_state(model, args.initial)
    loaded: list[tuple[Path, History | None, str | None]] = []
    for path in args.files:  # every file read (and fitted to the model) before anything is checked
        try:
            history = load_history(path, args.format)
            if model is not None:
                _check_fits(path, history, model, initial, args.initial)
        except (ConfigError, HistoryFormatError) as e:
            loaded.append((path, None, one_line(str(e))))
        else:
            loaded.append((path, history, None))
    rows: list[dict[str, Any]] = []
    worst = 0
    for path, history, error in loaded:
        judged: list[tuple[dict[str, Any], CheckResult | None]] = []
        if history is not None and model is not None:
            judged.append(_judge_model(path, history, model, initial, args.timeout))
        for checker in checks if history is not None else ():
            judged.append(_judge_check(path, history, checker))
        if error is not None:
            judged.append(({"file": str(path), "verdict": "error", "error": error}, None))
        for row, result in judged:
            worst = max(worst, row.pop("_code", 3), key=_SEVERITY.__getitem__)
            if "error" in row:
                print(f"faultlab: {row['error']}", file=sys.stderr)
            elif not args.json:
                print(_line(row, result))
        if args.html is not None and history is not None and judged:
            shown = next((r for r in judged if r[1] is not None and r[1].violated), judged[0])
            if shown[1] is not None:
                shown[0]["html"] = str(_write_html(history, shown[1], path, args.html, rows))
        rows += [row for row, _ in judged]
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
    return worst


def _transactional_checker(args: argparse.Namespace) -> HistoryChecker:
    """``--model list-append`` / ``rw-register``: Elle's checkers under the ``--consistency-model``s, as a checker
    row. A bad model name or a linearizability-only flag is a usage error before any file is read."""
    from invariants.consistency import validate_models
    from invariants.elle import check_elle_list_append
    from invariants.rw_register import check_rw_register

    for flag, given in (("--initial", args.initial), ("--timeout", args.timeout)):
        if given is not None:
            raise ConfigError(f"{flag} applies to linearizability under a sequential model, not to --model "
                              f"{args.model}")
    models = validate_models(args.consistency_models or ["serializable"])
    check = {"list-append": check_elle_list_append, "rw-register": check_rw_register}[args.model]

    def judge(history: History) -> CheckResult:
        return check(history, consistency_models=models)
    judge.__doc__ = check.__doc__
    return HistoryChecker("elle", f"{args.model}[{','.join(models)}]", judge)


def _judge_model(path: Path, history: History, model: Model, initial, timeout) -> tuple[dict, CheckResult | None]:
    started = time.perf_counter()
    try:
        result = check_linearizable(history, model, initial=initial, timeout=timeout)
    except _INPUT_ERRORS as e:  # a state the single steps of _check_fits did not reach: the history's values
        return {"file": str(path), "model": model.name, "verdict": "error",
                "error": f"{path}: the {model.name} model cannot step through this history ({type(e).__name__}: "
                         f"{e}); its values do not have the shapes the model expects: {model.doc or model.name}"}, None
    seconds = time.perf_counter() - started
    verdict = result.verdict if result.exercised else Verdict.UNKNOWN  # nothing to judge is not a pass
    return {"file": str(path), "model": model.name, "verdict": _VERDICT[verdict],
            "operations": result.witness.get("operations", 0), "seconds": round(seconds, 4),
            "explanation": result.explanation, "witness": result.witness, "_code": _EXIT[verdict]}, result


def _judge_check(path: Path, history: History, checker: HistoryChecker) -> tuple[dict, CheckResult | None]:
    started = time.perf_counter()
    try:
        result = checker.check(history)
    except (*_INPUT_ERRORS, HistoryFormatError) as e:  # e.g. a transaction that is not a list of micro-ops
        return {"file": str(path), "checker": checker.qualified, "verdict": "error",
                "error": f"{path}: the {checker.qualified} checker cannot read this history ({type(e).__name__}: "
                         f"{e}); its operations do not have the shapes it judges: "
                         f"{checker.doc or checker.qualified}"}, None
    if not isinstance(result, CheckResult):
        raise TypeError(f"checker {checker.qualified} returned {type(result).__name__}, not a CheckResult")
    seconds = time.perf_counter() - started
    verdict = result.verdict if result.exercised else Verdict.UNKNOWN
    return {"file": str(path), "checker": checker.qualified, "verdict": _CHECK_VERDICT[verdict],
            "operations": len(history.operations()), "seconds": round(seconds, 4),
            "explanation": result.explanation, "witness": result.witness, "_code": _EXIT[verdict]}, result


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


def _line(row: dict, result: CheckResult) -> str:
    by = f" by {row['checker']}" if "checker" in row else ""
    head = f"{row['file']}: {row['verdict']}{by} ({row['operations']} operations, {row['seconds']:.3f} s)"
    if result.verdict is Verdict.OK and result.exercised:
        return head
    lines = [head, f"  {result.explanation}"]
    if result.violated:
        w = result.witness
        if "checker" in row:
            lines.append(f"  witness: {json.dumps(w, default=str)}")
        else:
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
    verdict = result.verdict.value if result.exercised else "nothing to judge"
    write_timeline(history, result, out, title=f"{path.name}: {result.name} {verdict}")
    return out
