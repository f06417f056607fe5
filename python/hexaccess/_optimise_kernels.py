"""Moved to :mod:`hexaccess.optimise._kernels` (kept for one release: import from there)."""

from hexaccess.optimise._kernels import *  # noqa: F403
