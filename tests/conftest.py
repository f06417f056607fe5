"""Shared test helpers: where the read-only reference data lives."""

from __future__ import annotations

from pathlib import Path

import pytest

#: ``../shared/data`` beside the repository (CI always has it; a user's clone may not).
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_file(relative: str) -> Path:
    """Path of a file under ``../shared/data``, or skip the test saying what is missing."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"../shared/data not present: {path} (reference data is read-only input)")
    return path
