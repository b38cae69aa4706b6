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
import sys

from faultlab.errors import FaultlabError, ReplayDivergence

EXIT_OK, EXIT_VIOLATION, EXIT_UNKNOWN, EXIT_USAGE, EXIT_DIVERGED = 0, 1, 2, 3, 4

COMMAND_MODULES = (
    "faultlab.commands.list_protocols",
    "faultlab.commands.check",
    "faultlab.commands.replay",
    "faultlab.commands.prove",
    "faultlab.commands.verify",
    "faultlab.commands.check_history",
    "faultlab.commands.claims",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 by default; 2 means "unknown" here.
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="faultlab", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:  # a command not written yet
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
