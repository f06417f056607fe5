"""The engine's backends and the one place that chooses between them.

Two interchangeable adapters implement ``docs/engine-semantics.md`` with bit-identical
results: :mod:`hexaccess._engine.rust` (the compiled extension ``hexaccess._core``) and
:mod:`hexaccess._engine.numba` (the fallback where the extension cannot be loaded: an
unsupported platform, a source checkout without a Rust toolchain). Both offer the same
functions on their own graph handle (``build_graph``, ``nearest``, ``nearest_batch``,
``band_histograms``, ``edge_scan``, ``csr``, ``num_arcs``, ``memory_bytes``), take input
that :mod:`hexaccess._engine.checks` has checked, and are picked by :func:`select`.
"""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from hexaccess.errors import EngineInputError, FallbackWarning

__all__ = [
    "BACKENDS",
    "CSR",
    "Backend",
    "FallbackWarning",
    "resolve",
    "rust_available",
    "rust_core",
    "select",
]

Backend = Literal["auto", "rust", "numba"]
BACKENDS: tuple[str, ...] = ("auto", "rust", "numba")


class CSR(NamedTuple):
    """The graph's adjacency: arcs of node ``u`` are ``indptr[u]:indptr[u+1]``."""

    indptr: npt.NDArray[np.int64]
    head: npt.NDArray[np.int64]
    time_s: npt.NDArray[np.float64]
    length_m: npt.NDArray[np.float64]


# Module state, read on every call so that tests can simulate a missing extension.
try:
    from hexaccess import _core as _rust_core

    _RUST_IMPORT_ERROR: ImportError | None = None
except ImportError as exc:  # pragma: no cover - depends on the installation
    _rust_core = None
    _RUST_IMPORT_ERROR = exc

_warned = False


def rust_available() -> bool:
    """True when the compiled extension ``hexaccess._core`` is importable."""
    return _rust_core is not None


def rust_core() -> ModuleType:
    """The compiled extension ``hexaccess._core``; an ``ImportError`` saying how to get
    it when it is missing."""
    if _rust_core is None:
        raise ImportError(
            "backend='rust' was requested but the compiled extension hexaccess._core could "
            f"not be imported ({_RUST_IMPORT_ERROR}). Reinstall hexaccess from a wheel, or "
            "build it with `pip install .` where a Rust toolchain is available; "
            "backend='numba' works without it."
        )
    return _rust_core


def _resolve(backend: str, stacklevel: int) -> str:
    global _warned
    if backend not in BACKENDS:
        raise EngineInputError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend != "auto":
        if backend == "rust":
            rust_core()  # raises a helpful ImportError when missing
        return backend
    if rust_available():
        return "rust"
    if not _warned:
        warnings.warn(
            f"hexaccess._core is not importable ({_RUST_IMPORT_ERROR}); using the slower "
            "Numba backend. Results are identical.",
            FallbackWarning,
            stacklevel=stacklevel,
        )
        _warned = True
    return "numba"


def resolve(backend: str) -> str:
    """Map ``'auto'`` to a concrete backend name (``'rust'`` when the extension is
    importable, else ``'numba'`` with a one-time :class:`FallbackWarning`); check that
    ``'rust'`` is available when asked for by name."""
    # Level 4: the user's line that called the function that called resolve().
    return _resolve(backend, stacklevel=4)


def select(backend: str) -> ModuleType:
    """The adapter module of a backend (``'auto'``, ``'rust'`` or ``'numba'``), resolved
    as :func:`resolve` does."""
    name = _resolve(backend, stacklevel=4)
    # Imported on first use: loading the Numba kernels costs time that users of the
    # Rust backend should not pay.
    return importlib.import_module(f"{__name__}.{name}")
