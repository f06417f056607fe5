"""Moved to :mod:`hexaccess.cli.optimise` (kept for one release)."""

from hexaccess.cli.optimise import CHOSEN_COLUMNS, _forbidden, add_parser, main, run

__all__ = ["CHOSEN_COLUMNS", "_forbidden", "add_parser", "main", "run"]
