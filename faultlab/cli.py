"""The ``faultlab`` command line.

Each subcommand lives in ``faultlab/commands/<name>.py`` and exposes ``register(subparsers)``, which adds its parser
and sets ``run=`` to a function ``(args) -> int``. Exit codes are a contract scripts rely on:

* 0: what was asked holds (no violation, linearizable, proved, replay no longer fails);
* 1: a violation was found (or reproduced, or a proof refuted);
* 2: undecided within the budget (``unknown``);
* 3: a usage or input error (bad setting, unreadable file, unknown protocol), with a one-line message;
* 4: a replay diverged from its trace (nondeterminism: a bug).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from faultlab.errors import FaultlabError, ReplayDivergence

EXIT_OK, EXIT_VIOLATION, EXIT_UNKNOWN, EXIT_USAGE, EXIT_DIVERGED = 0, 1, 2, 3, 4

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
}
COMMAND_MODULES = tuple(COMMANDS.values())


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 by default; 2 means "unknown" here.
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    parser = _Parser(prog="faultlab", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    names = [COMMANDS[command]] if command in COMMANDS else COMMAND_MODULES
    for name in names:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv[0] if argv else None).parse_args(argv)
    try:
        return int(args.run(args))
    except ReplayDivergence as e:
        print(f"faultlab: replay diverged: {e}", file=sys.stderr)
        return EXIT_DIVERGED
    except FaultlabError as e:
        print(f"faultlab: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("faultlab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `faultlab replay T | head`: the reader left; that is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
