"""Moved to :mod:`hexaccess.cli.report` and :mod:`hexaccess.cli.calibrate` (kept for one
release)."""

from hexaccess.cli.calibrate import add_calibrate_parser, run_calibrate
from hexaccess.cli.report import add_report_parser, run_report, run_scenario

__all__ = [
    "add_calibrate_parser",
    "add_report_parser",
    "run_calibrate",
    "run_report",
    "run_scenario",
]
