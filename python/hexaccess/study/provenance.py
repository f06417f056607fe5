"""How a result was made: every input with its size and SHA-256, the engine version and
the settings. Written into ``summary.json``, ``provenance.json`` and the manifest of every
output directory, and used as the key of the coverage-matrix cache, so an input is
identified by its content, never by its name alone.

Inputs given as files are hashed as bytes. Inputs given in memory (a DataFrame or
GeoDataFrame) are hashed by content (values, index and geometry as WKB), so the same
table gives the same key in every run. Objects that cannot be hashed by content (an
already-built :class:`~hexaccess.population.PopulationGrid`, ...) are recorded with
``"sha256": None``: a cache keyed on them is never reused.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import hexaccess

__all__ = ["describe_input", "provenance", "sha256_file"]


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _frame_sha256(frame: Any) -> str:
    """Content hash of a (Geo)DataFrame: column names, dtypes, values and geometry."""
    import pandas as pd

    h = hashlib.sha256()
    plain = frame.copy()
    geometry = getattr(frame, "geometry", None) if hasattr(frame, "crs") else None
    if geometry is not None:
        import shapely

        h.update(str(frame.crs).encode())
        wkb = shapely.to_wkb(geometry.to_numpy(), hex=True)
        plain = pd.DataFrame(plain.drop(columns=geometry.name))
        plain["__geometry_wkb__"] = wkb
    h.update(repr(list(map(str, plain.columns))).encode())
    h.update(repr([str(t) for t in plain.dtypes]).encode())
    h.update(pd.util.hash_pandas_object(plain, index=True).to_numpy().tobytes())
    return h.hexdigest()


def describe_input(value: Any) -> dict[str, Any] | None:
    """The provenance record of one input: a file (path, bytes, SHA-256), an in-memory
    table (type, rows, content SHA-256) or another object (type, no hash); ``None`` for
    an input that was not given."""
    if value is None:
        return None
    if isinstance(value, (str, Path)):
        p = Path(value)
        if p.is_file():
            return {"path": str(p), "bytes": p.stat().st_size, "sha256": sha256_file(p)}
        return {"path": str(p), "bytes": None, "sha256": None}
    kind = type(value).__name__
    if hasattr(value, "columns") and hasattr(value, "dtypes"):
        return {"object": kind, "rows": len(value), "sha256": _frame_sha256(value)}
    return {"object": kind, "sha256": None}


def provenance(inputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """How a result was made: input files (or in-memory tables) with sizes and SHA-256,
    the engine version, and any extra settings given as keywords."""
    files = {}
    for role, value in inputs.items():
        record = describe_input(value)
        if record is not None:
            files[role] = record
    return {
        "engine": "hexaccess",
        "engine_version": hexaccess.__version__,
        "inputs": files,
        **extra,
    }
