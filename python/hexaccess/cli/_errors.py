"""How the command line reports failure: one line for a mistake in the inputs, settings
or output directory (any :class:`hexaccess.HexaccessError`, exit code 2); anything else
is a bug in hexaccess, reported as such (exit code 1) with the traceback behind
``--debug``."""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from typing import Any

from hexaccess.errors import HexaccessError

__all__ = ["EXIT_BUG", "EXIT_INPUT", "EXIT_OK", "reports_errors"]

EXIT_OK = 0
EXIT_INPUT = 2
EXIT_BUG = 1

ISSUES = "please report it with the command line and this message"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def reports_errors(prog: str) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """Decorate a command ``f(args, ...) -> exit code`` so that errors become one line on
    stderr and an exit code (``args.debug`` re-raises internal errors with their
    traceback)."""

    def decorate(command: Callable[..., int]) -> Callable[..., int]:
        @functools.wraps(command)
        def run(args: Any, *rest: Any, **kw: Any) -> int:
            try:
                return command(args, *rest, **kw)
            except HexaccessError as exc:
                print(f"{prog}: {_one_line(exc)}", file=sys.stderr)
                return EXIT_INPUT
            except OSError as exc:  # the file system refused (permission, disk full)
                where = f" ({exc.filename})" if exc.filename else ""
                print(f"{prog}: {exc.strerror or exc}{where}", file=sys.stderr)
                return EXIT_INPUT
            except KeyboardInterrupt:
                print(f"{prog}: interrupted; no output was changed", file=sys.stderr)
                return 130
            except Exception as exc:  # a bug: say so, never pass it off as bad input
                if getattr(args, "debug", False):
                    traceback.print_exc()
                print(
                    f"{prog}: internal error ({type(exc).__name__}: {_one_line(exc)}); this "
                    f"is a bug in hexaccess, {ISSUES}"
                    + ("" if getattr(args, "debug", False) else "; --debug shows the traceback"),
                    file=sys.stderr,
                )
                return EXIT_BUG

        return run

    return decorate
