"""Moved to :mod:`hexaccess._engine` (kept for one release: import from there).

The jitted kernels are in :mod:`hexaccess._engine._numba_kernels`, the backend adapter
the engine uses in :mod:`hexaccess._engine.numba`, and these checked functions on CSR
arrays in :mod:`hexaccess._engine._numba_checked`.
"""

from __future__ import annotations

from hexaccess._engine._numba_checked import *  # noqa: F403
from hexaccess._engine._numba_checked import (
    MAX_NUM_NODES,
    band_histograms,
    nearest,
    nearest_batch,
    validate_and_build_csr,
)
from hexaccess._engine._numba_kernels import (  # noqa: F401 - private names tests use
    batch_kernel as _batch_kernel,
)
from hexaccess._engine._numba_kernels import (  # noqa: F401
    histogram_kernel as _histogram_kernel,
)
from hexaccess._engine._numba_kernels import (  # noqa: F401
    nearest_kernel as _nearest_kernel,
)
from hexaccess._engine._numba_kernels import search as _search  # noqa: F401

__all__ = [
    "MAX_NUM_NODES",
    "band_histograms",
    "nearest",
    "nearest_batch",
    "validate_and_build_csr",
]
