"""Moved to :mod:`hexaccess.h3` (kept for one release: import from there).

Reading or setting a private name here (``_HAVE_RUST_H3``, as tests do to run the h3-py
fallback) reads or sets it in :mod:`hexaccess.h3`.
"""

from __future__ import annotations

from hexaccess import h3 as _h3
from hexaccess._engine._shim import forward_to
from hexaccess.h3 import *  # noqa: F403
from hexaccess.h3 import (
    _check_resolution,  # noqa: F401 - used by old imports
    cell_centers,
    cell_children,
    cell_to_str,
    latlng_to_cells,
    str_to_cell,
)

__all__ = [
    "cell_centers",
    "cell_children",
    "cell_to_str",
    "latlng_to_cells",
    "str_to_cell",
]

forward_to(__name__, _h3, ("_HAVE_RUST_H3", "_rust"))
