"""Moved to :mod:`hexaccess.cli._options` (kept for one release)."""

from hexaccess.cli._options import (
    Progress,
    StudyInputs,
    add_input_arguments,
    read_study,
    read_study_inputs,
    split_columns,
)

__all__ = [
    "Progress",
    "StudyInputs",
    "add_input_arguments",
    "read_study",
    "read_study_inputs",
    "split_columns",
]
