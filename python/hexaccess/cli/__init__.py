"""Command-line interface: ``hexaccess run | report | calibrate | optimise``.

Each sub-command is argparse plus one call into the library (:class:`hexaccess.Study`,
:mod:`hexaccess.scenario`, :mod:`hexaccess.calibrate`, :mod:`hexaccess.optimise`):

- :mod:`hexaccess.cli.run`: ``hexaccess run`` (a study, a scenario file, or the demo);
- :mod:`hexaccess.cli.report`: ``hexaccess report`` and scenario files;
- :mod:`hexaccess.cli.calibrate`: ``hexaccess calibrate``;
- :mod:`hexaccess.cli.optimise`: ``hexaccess optimise``;
- :mod:`hexaccess.cli._options`: the shared input options and the progress bar;
- :mod:`hexaccess.cli._errors`: one line and exit code 2 for bad input, a bug report
  (traceback with ``--debug``) for anything else.

Output files and columns, commands and options are a contract: only ever added to.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

import hexaccess
from hexaccess.cli import calibrate, optimise, report, run

__all__ = ["OneLineParser", "build_parser", "main"]


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose refusals are one line on stderr (``PROG: error: ...;
    see PROG --help``) and exit code 2, like every other input mistake; sub-command
    parsers are of the same class."""

    def error(self, message: str) -> NoReturn:
        text = " ".join(str(message).split())
        self.exit(2, f"{self.prog}: error: {text}; see {self.prog} --help\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``hexaccess`` argument parser with every sub-command."""
    parser = OneLineParser(
        prog="hexaccess", description="Travel-time accessibility of public service offices."
    )
    parser.add_argument("--version", action="version", version=hexaccess.__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    run.add_parser(sub)
    report.add_report_parser(sub)
    calibrate.add_calibrate_parser(sub)
    optimise.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``hexaccess`` with ``argv`` (default ``sys.argv[1:]``); returns the exit code:
    0 done, 2 bad input or settings (one line on stderr), 1 an internal error."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) or a refused option (2)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    commands = {
        "run": run.run,
        "report": report.run_report,
        "calibrate": calibrate.run_calibrate,
        "optimise": optimise.run,
    }
    return commands[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
