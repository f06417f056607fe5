"""Moved to :mod:`hexaccess._engine` (kept for one release: import from there).

``select(name)`` there returns the backend's adapter module; ``rust()`` here is
``hexaccess._engine.rust_core()``. Reading or setting the selector's state here
(``_rust_core``, ``_RUST_IMPORT_ERROR``, ``_warned``) reads or sets it there.
"""

from __future__ import annotations

from types import ModuleType

from hexaccess import _engine
from hexaccess._engine import *  # noqa: F403
from hexaccess._engine import BACKENDS, Backend, resolve, rust_available, select
from hexaccess._engine import rust_core as rust
from hexaccess._engine._shim import forward_to
from hexaccess.errors import FallbackWarning

__all__ = [
    "BACKENDS",
    "Backend",
    "FallbackWarning",
    "numba",
    "resolve",
    "rust",
    "rust_available",
    "select",
]


def numba() -> ModuleType:
    """The Numba backend as checked functions on CSR arrays (``hexaccess._numba_backend``)."""
    from hexaccess import _numba_backend

    return _numba_backend


forward_to(__name__, _engine, ("_rust_core", "_RUST_IMPORT_ERROR", "_warned"))
