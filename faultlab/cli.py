"""The ``faultlab`` command line.

Each subcommand lives in ``faultlab/commands/<name>.py`` and exposes ``register(subparsers)``, which adds its parser
and sets ``run=`` to a function ``(args) -> int``. Exit codes are a contract scripts rely on:

* 0: what was asked holds (no violation, linearizable, proved, replay no longer fails);
* 1: a violation was found (or reproduced, or a proof refuted);
* 2: undecided within the budget (``unknown``), or vacuous: nothing was shown;
* 3: a usage or input error (bad argument or setting, unreadable or malformed file, unknown protocol), with one
  line on stderr naming the thing and the fix; never a verdict;
* 4: nondeterminism, a bug: a replay diverged from its trace, or a run did not repeat when Hypothesis re-ran it;
* 5: an internal error, a bug in faultlab (never a verdict): one line on stderr; ``FAULTLAB_DEBUG=1`` re-raises it
  with its traceback.

A reader that leaves early (``faultlab check ... | head -1``) only silences the rest of the output: the command
still finishes and exits with its real code.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import re
import sys
from collections.abc import Callable
from typing import Any

from faultlab.errors import FaultlabError, Nondeterminism, ReplayDivergence

EXIT_OK, EXIT_VIOLATION, EXIT_UNKNOWN, EXIT_USAGE, EXIT_NONDETERMINISM, EXIT_INTERNAL = 0, 1, 2, 3, 4, 5
EXIT_DIVERGED = EXIT_NONDETERMINISM

# Command name -> module. Only the module of the command being run is imported (z3, Hypothesis and rich are slow
# to import, and `check-history` on one file should not pay for them); help imports them all.
COMMANDS = {
    "list": "faultlab.commands.list_protocols",
    "check": "faultlab.commands.check",
    "replay": "faultlab.commands.replay",
    "prove": "faultlab.commands.prove",
    "verify": "faultlab.commands.verify",
    "claims": "faultlab.commands.claims",
    "check-history": "faultlab.commands.check_history",
    "report": "faultlab.commands.report",
}
COMMAND_MODULES = tuple(COMMANDS.values())
MESSAGE_LIMIT = 2000  # characters of an error line; the head names the thing, the tail usually says the fix


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 by default; 2 means "unknown" here. One line, not the usage.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {one_line(message)} (see `{self.prog} --help`)\n")


def int_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer from ``low`` to ``high``; anything else is a one-line usage error (exit 3)."""
    def parse(text: str) -> int:
        try:
            value = int(text.strip(), 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text[:40]!r} is not an integer; give one from {low} to "
                                             f"{high}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text[:40]} is out of range; give an integer from {low} to {high}")
        return value
    parse.__name__ = "integer"
    return parse


def positive_seconds(text: str) -> float:
    """An argparse type: a finite number of seconds greater than 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number of seconds") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text[:40]} must be a finite number of seconds greater than 0")
    return value


positive_seconds.__name__ = "seconds"


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    parser = _Parser(prog="faultlab", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    names = [COMMANDS[command]] if command in COMMANDS else COMMAND_MODULES
    for name in names:
        importlib.import_module(name).register(sub)
    return parser


def one_line(message: str) -> str:
    """``message`` as a single line (a script reads the first line of stderr), at most ``MESSAGE_LIMIT`` long."""
    text = re.sub(r"\s*\n\s*", "; ", str(message).strip())
    if len(text) > MESSAGE_LIMIT:
        text = text[:MESSAGE_LIMIT * 3 // 4] + " ... " + text[-MESSAGE_LIMIT // 4:]
    return text


class _ReaderGone:
    """Standard output or error while a command runs: once the reader has left (``| head``), writes are dropped.

    The reader leaving is not the command failing: it keeps running and exits with its real code. The file
    descriptor is pointed at /dev/null so that what is still buffered, and the interpreter's flush at exit, go
    nowhere instead of raising again.
    """

    def __init__(self, stream: Any):
        self._stream = stream
        self.gone = stream is None  # started with the descriptor closed (`faultlab ... >&-`)

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._left()
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._left()

    def _left(self) -> None:
        self.gone = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):  # not a real file (a test's capture): nothing to redirect
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _ReaderGone(sys.stdout), _ReaderGone(sys.stderr)
    try:
        return _run(argv)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = saved


def _run(argv: list[str]) -> int:
    try:
        args = build_parser(argv[0] if argv else None).parse_args(argv)
    except SystemExit as e:  # argparse: --help (0) or a usage error (3, already printed)
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    debug = os.environ.get("FAULTLAB_DEBUG", "") not in ("", "0")
    try:
        return int(args.run(args))
    except Nondeterminism as e:
        if debug:
            raise
        what = "replay diverged" if isinstance(e, ReplayDivergence) else "nondeterminism"
        print(f"faultlab: {what}: {one_line(str(e))}", file=sys.stderr)
        return EXIT_NONDETERMINISM
    except FaultlabError as e:
        if debug:
            raise
        print(f"faultlab: {one_line(str(e))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("faultlab: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # the last line of defence: a bug is reported as one, never as a verdict
        if debug:
            raise
        print(f"faultlab: internal error (a bug in faultlab, not a verdict): {type(e).__name__}: "
              f"{one_line(str(e))} (FAULTLAB_DEBUG=1 shows the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
