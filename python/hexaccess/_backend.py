"""Backend selection: the Rust extension when importable, else the Numba fallback.

Both backends implement ``docs/engine-semantics.md`` and give bit-identical results; the
Numba one exists so the package still works where the compiled extension cannot be
loaded (an unsupported platform, a source checkout without a Rust toolchain).
"""

from __future__ import annotations

import warnings
from types import ModuleType
from typing import Literal

Backend = Literal["auto", "rust", "numba"]
BACKENDS: tuple[str, ...] = ("auto", "rust", "numba")


class FallbackWarning(RuntimeWarning):
    """The Rust extension could not be imported; the slower Numba backend is used."""


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


def rust() -> ModuleType:
    if _rust_core is None:
        raise ImportError(
            "backend='rust' was requested but the compiled extension hexaccess._core could "
            f"not be imported ({_RUST_IMPORT_ERROR}). Reinstall hexaccess from a wheel, or "
            "build it with `pip install .` where a Rust toolchain is available; "
            "backend='numba' works without it."
        )
    return _rust_core


def numba() -> ModuleType:
    # Imported lazily: compiling/loading the Numba kernels costs time that users of the
    # Rust backend should not pay.
    from hexaccess import _numba_backend

    return _numba_backend


def resolve(backend: str) -> str:
    """Map ``'auto'`` to a concrete backend name, warning once on fallback."""
    global _warned
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend != "auto":
        if backend == "rust":
            rust()  # raises a helpful ImportError when missing
        return backend
    if rust_available():
        return "rust"
    if not _warned:
        warnings.warn(
            f"hexaccess._core is not importable ({_RUST_IMPORT_ERROR}); using the slower "
            "Numba backend. Results are identical.",
            FallbackWarning,
            stacklevel=3,
        )
        _warned = True
    return "numba"
