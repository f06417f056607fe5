"""Saving and loading a :class:`~hexaccess.optimise.matrix.CoverageMatrix`.

A saved matrix is an output directory of :mod:`hexaccess.outputs` of kind
``coverage-matrix``: ``entries.parquet`` (candidate, cell, time, distance_m per entry),
``cells.parquet``, ``candidates.parquet`` and ``manifest.json`` (size and SHA-256 of each
file, and the matrix's provenance). The matrix settings (cutoff, unit, profile, input
checksums) are JSON in every Parquet file's key-value metadata under ``hexaccess``.

A matrix computed on Dask (:mod:`hexaccess.distributed.matrix`) keeps its entries as a
partitioned Parquet dataset instead of ``entries.parquet``: ``entries/part-NNNNN.parquet``,
one file per block of candidates (same columns; candidate indices global), each tagged
with the save it belongs to and its candidate range (key ``hexaccess_block``); the matrix
settings are then in ``cells.parquet`` and ``candidates.parquet``, with the list of parts
under ``entry_blocks``. :func:`load_matrix` reads both layouts, so a single-machine run
reuses a cache that a cluster wrote.

Writing goes through :func:`hexaccess.outputs.prepare_output`, so a reader sees the whole
old matrix or the whole new one, never a mix, and two runs cannot write one cache at once.
Reading verifies the manifest first: a file changed after the save, or copied in from
another save, is refused (:class:`~hexaccess.errors.CorruptOutputError`), never used.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hexaccess.errors import CorruptOutputError, InputError, InputFileError, OutputError
from hexaccess.optimise.matrix import FORMAT_VERSION, CoverageMatrix
from hexaccess.outputs import (
    OutputDirectory,
    prepare_output,
    read_manifest,
    verify_output,
)

__all__ = [
    "MATRIX_FILES",
    "MATRIX_KIND",
    "load_matrix",
    "prepare_matrix_output",
    "save_matrix",
    "write_matrix_files",
]

#: ``kind`` of a saved matrix in its manifest.
MATRIX_KIND = "coverage-matrix"
#: The Parquet files of a saved matrix, by role.
MATRIX_FILES = {name: f"{name}.parquet" for name in ("entries", "candidates", "cells")}
#: Metadata keys :func:`write_matrix_files` derives from the matrix (not kept in ``meta``).
_SAVED_SETTINGS = frozenset(
    {"format_version", "cutoff_s", "time_unit_s", "time_encoding", "population_columns",
     "num_candidates", "num_cells", "nnz", "entry_blocks"}
)  # fmt: skip
# --- partitioned entries (issue #13: blocks written by Dask workers)
#: Folder of the partitioned entries, and the Parquet metadata key of each part.
PARTS_DIR = "entries"
BLOCK_KEY = b"hexaccess_block"


def _part_info(path: Path) -> dict[str, Any]:
    """The ``hexaccess_block`` record of one part (save, block, start, stop, rows)."""
    import pyarrow.parquet as pq

    raw = (pq.read_schema(path).metadata or {}).get(BLOCK_KEY)
    if raw is None:
        raise InputError(f"{path}: no 'hexaccess_block' metadata (not a block of a matrix)")
    return json.loads(raw)


def _written_blocks(matrix: CoverageMatrix, out: OutputDirectory) -> dict[str, Any] | None:
    """The matrix's ``entry_blocks`` when its workers wrote every part into this staging
    directory (then no ``entries.parquet`` is written), else None."""
    blocks = matrix.meta.get("entry_blocks")
    if not isinstance(blocks, dict):
        return None
    for rel in blocks.get("parts", []):
        path = out.staging / rel
        if not path.is_file() or _part_info(path).get("save") != blocks.get("save"):
            return None
    return blocks


def _check_parts(src: Path, meta: dict[str, Any]) -> list[Path]:
    """The parts of a partitioned matrix, checked: listed in ``entry_blocks``, present,
    of this save, and their candidate ranges tiling ``0..num_candidates`` in order."""
    blocks = meta.get("entry_blocks") or {}
    parts, ranges = blocks.get("parts") or [], blocks.get("ranges") or []
    if len(parts) != len(ranges):
        raise InputError(f"{src}: the metadata lists {len(parts)} parts for {len(ranges)} blocks")
    expect = 0
    paths = []
    for i, (rel, (start, stop)) in enumerate(zip(parts, ranges, strict=True)):
        path = src / rel
        if not path.is_file():
            raise InputFileError(f"{path} is missing (block {i} of the matrix); recompute it")
        info = _part_info(path)
        if info.get("save") != blocks.get("save") or [info.get("start"), info.get("stop")] != [
            start, stop,
        ]:  # fmt: skip
            raise InputError(
                f"{path} is not block {i} (candidates {start}..{stop}) of this save; "
                "recompute the matrix"
            )
        if start != expect:
            raise InputError(f"{src}: block {i} starts at candidate {start}, not {expect}")
        expect = stop
        paths.append(path)
    if expect != meta.get("num_candidates"):
        raise InputError(f"{src}: the blocks cover {expect} of {meta.get('num_candidates')} "
                         "candidates; recompute the matrix")  # fmt: skip
    return paths


def _read_entries(src: Path, files: dict[str, Path], meta: dict[str, Any]) -> Any:
    """The entries table: ``entries.parquet``, or the parts end to end."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if files["entries"].is_file():
        return pq.read_table(files["entries"])
    tables = [pq.read_table(p).replace_schema_metadata(None) for p in _check_parts(src, meta)]
    return pa.concat_tables(tables)


# --- end partitioned entries


# ---------------------------------------------------------------------- writing
def _is_legacy_matrix(path: Path) -> bool:
    """A directory holding only the Parquet files of a matrix saved before manifests
    existed (ours to replace, though :mod:`hexaccess.outputs` cannot tell)."""
    try:
        names = set(os.listdir(path))
    except (FileNotFoundError, NotADirectoryError):
        return False
    return bool(names) and names <= set(MATRIX_FILES.values())


def prepare_matrix_output(path: str | Path, *, overwrite: bool = False) -> OutputDirectory:
    """Lock and stage directory ``path`` for a matrix, before it is computed.

    An earlier matrix (with or without a manifest) or an empty directory is replaced; a
    file, another kind of hexaccess output, or a directory of other files raises
    :class:`~hexaccess.errors.OutputError` unless ``overwrite`` (a file: always).
    """
    target = Path(path)
    out = prepare_output(target, overwrite=overwrite or _is_legacy_matrix(target), kind=MATRIX_KIND)
    try:
        manifest = None if overwrite else read_manifest(out.target)
    except CorruptOutputError:
        manifest = None  # an unreadable manifest of ours: replaced, like an earlier matrix
    if manifest is not None and manifest.get("kind") != MATRIX_KIND:
        out.abort()
        raise OutputError(
            f"{target} holds a {manifest.get('kind')!r} output of hexaccess, not a coverage "
            "matrix; choose another directory for the matrix (or pass overwrite=True)"
        )
    return out


def write_matrix_files(matrix: CoverageMatrix, out: OutputDirectory) -> None:
    """Write the three Parquet files of ``matrix`` into the staging directory of ``out``
    (the caller commits)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    blocks = _written_blocks(matrix, out)  # partitioned entries already staged
    meta = {
        **{k: v for k, v in matrix.meta.items() if k != "entry_blocks"},
        **({"entry_blocks": blocks} if blocks is not None else {}),
        "format_version": FORMAT_VERSION,
        "cutoff_s": matrix.cutoff_s,
        "time_unit_s": matrix.time_unit_s,
        "time_encoding": "uint16 floor(time_s / time_unit_s)",
        "population_columns": list(matrix.population_columns),
        "num_candidates": matrix.num_candidates,
        "num_cells": matrix.num_cells,
        "nnz": matrix.nnz,
    }
    kv = {b"hexaccess": json.dumps(meta, default=str).encode()}
    if blocks is None:  # one file (the workers did not already write the parts)
        rows = np.repeat(np.arange(matrix.num_candidates, dtype=np.int32), np.diff(matrix.indptr))
        entries = pa.table(
            {
                "candidate": rows,
                "cell": matrix.cell,
                "time": matrix.time,
                "distance_m": matrix.distance_m,
            }
        )
        pq.write_table(entries.replace_schema_metadata(kv), out.file(MATRIX_FILES["entries"]))
    for name, frame in (("cells", matrix.cells), ("candidates", matrix.candidates)):
        table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
        pq.write_table(
            table.replace_schema_metadata({**(table.schema.metadata or {}), **kv}),
            out.file(MATRIX_FILES[name]),
        )


def matrix_manifest_provenance(matrix: CoverageMatrix) -> dict[str, Any]:
    """What the manifest records of a matrix: its provenance (inputs and settings) in
    JSON form, so a reader can compare it with the Parquet metadata."""
    return json.loads(json.dumps(matrix.meta.get("provenance") or {}, default=str))


def commit_matrix(matrix: CoverageMatrix, out: OutputDirectory) -> None:
    """Write ``matrix`` into ``out`` and publish it (manifest included)."""
    write_matrix_files(matrix, out)
    out.commit(provenance=matrix_manifest_provenance(matrix))


def save_matrix(matrix: CoverageMatrix, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``matrix`` to directory ``path`` (see :func:`prepare_matrix_output` for what
    may be replaced); returns ``path``."""
    with prepare_matrix_output(path, overwrite=overwrite) as out:
        commit_matrix(matrix, out)
    return Path(path)


# ---------------------------------------------------------------------- reading
def _matrix_files(src: Path) -> dict[str, Path]:
    """The Parquet files of the matrix directory ``src``, all present (else an error)."""
    if src.exists() and not src.is_dir():
        raise InputFileError(
            f"{src} is a file, not a coverage-matrix directory; point at the directory "
            "written by CoverageMatrix.save"
        )
    files = {name: src / file for name, file in MATRIX_FILES.items()}
    if not files["entries"].exists() and (src / PARTS_DIR).is_dir():
        files["entries"] = src / PARTS_DIR  # partitioned entries (written on Dask)
    missing = [f.name for f in files.values() if not f.exists()]
    if missing:
        raise InputFileError(
            f"{src}: not a coverage matrix (no {', '.join(missing)}); remove the directory "
            "or point at one written by CoverageMatrix.save"
        )
    return files


def _settings(files: dict[str, Path]) -> dict[str, Any]:
    """The ``hexaccess`` metadata of ``entries.parquet``, checked, and the same in the
    other two files (files of two saves never mix)."""
    import pyarrow.parquet as pq

    # Partitioned entries carry block records only: the settings are in cells.parquet.
    first = "entries" if files["entries"].is_file() else "cells"
    raw = (pq.read_schema(files[first]).metadata or {}).get(b"hexaccess")
    if raw is None:
        raise InputError(
            f"{files[first]}: no 'hexaccess' metadata (not written by "
            "CoverageMatrix.save); recompute the matrix"
        )
    meta = json.loads(raw)
    if meta.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"{files[first]}: coverage matrix format {meta.get('format_version')}, "
            f"this hexaccess reads {FORMAT_VERSION}; recompute the matrix"
        )
    lacking = [k for k in ("cutoff_s", "time_unit_s", "population_columns") if k not in meta]
    if lacking:
        raise InputError(f"{files[first]}: metadata lacks {lacking}; recompute the matrix")
    for name in ("cells", "candidates"):
        if (pq.read_schema(files[name]).metadata or {}).get(b"hexaccess") != raw:
            raise InputError(
                f"{files[name]} and {files[first]} come from different saves (their "
                "'hexaccess' metadata differ); recompute the matrix"
            )
    return meta


def _read_files(src: Path, files: dict[str, Path]) -> CoverageMatrix:
    """The matrix in ``files``, with every check of the metadata and the CSR structure."""

    meta = _settings(files)
    table = _read_entries(src, files, meta)
    cand = table.column("candidate").to_numpy()
    candidates = pd.read_parquet(files["candidates"])
    cells = pd.read_parquet(files["cells"])
    if cand.size and (cand.min() < 0 or cand.max() >= len(candidates)):
        raise InputError(
            f"{files['entries']}: candidate indices outside 0..{len(candidates) - 1} "
            f"({files['candidates']} has {len(candidates)} rows)"
        )
    if cand.size and np.any(np.diff(cand) < 0):
        raise InputError(f"{files['entries']}: entries are not sorted by candidate")
    indptr = np.zeros(len(candidates) + 1, dtype=np.int64)
    np.cumsum(np.bincount(cand, minlength=len(candidates)), out=indptr[1:])
    try:
        return CoverageMatrix(
            indptr,
            table.column("cell").to_numpy().astype(np.int32),
            table.column("time").to_numpy().astype(np.uint16),
            table.column("distance_m").to_numpy().astype(np.float32),
            candidates,
            cells,
            tuple(meta["population_columns"]),
            float(meta["cutoff_s"]),
            float(meta["time_unit_s"]),
            {k: v for k, v in meta.items() if k not in _SAVED_SETTINGS},
        )
    except InputError as exc:
        raise InputError(f"{src}: {exc}") from None


def _verify(src: Path, files: dict[str, Path]) -> dict[str, Any]:
    """The manifest of ``src`` after checking every file against it.

    When a file fails, its contents are read to say what is wrong with it where they can
    (no metadata, a time beyond the cutoff, files of two saves): the error is still a
    :class:`~hexaccess.errors.CorruptOutputError`, chained to the checksum failure.
    """
    try:
        return verify_output(src, kind=MATRIX_KIND)
    except CorruptOutputError as failure:
        if read_manifest(src) is None:
            raise CorruptOutputError(
                f"{src} has no manifest.json: an interrupted save, files from elsewhere, or "
                "a matrix saved by an older hexaccess; recompute the matrix, or read an old "
                "one with CoverageMatrix.load(path, verify=False)"
            ) from failure
        try:
            _read_files(src, files)
        except InputError as why:
            raise CorruptOutputError(f"{why} ({failure})") from failure
        except Exception:  # unreadable Parquet: the checksum failure says enough
            pass
        raise


def load_matrix(
    path: str | Path, *, verify: bool = True
) -> tuple[CoverageMatrix, dict[str, Any] | None]:
    """The matrix saved in directory ``path`` and its manifest (``None`` without
    ``verify``).

    Raises :class:`~hexaccess.errors.InputFileError` (also a ``FileNotFoundError``) for a
    missing directory or file, :class:`~hexaccess.errors.CorruptOutputError` when a file
    does not match the manifest, and :class:`~hexaccess.errors.InputError` for a matrix
    this hexaccess cannot read (another format version).
    """
    src = Path(path)
    files = _matrix_files(src)
    manifest = _verify(src, files) if verify else None
    return _read_files(src, files), manifest
