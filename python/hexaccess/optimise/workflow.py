"""The optimisation workflow on real inputs, as library calls (``hexaccess optimise`` is
these steps plus argument parsing):

1. :func:`candidate_sites`: the candidate table (an offices file, or ``h3:RES[:MIN]``
   for the centres of populated H3 cells), with the fixed sites merged in, regions from
   the municipality table, and the mask of forbidden sites (:func:`forbidden_mask`).
2. :func:`matrix_provenance`: the key a cached coverage matrix must match (the run's
   provenance without the forbidden sites, which only mask candidates).
3. :func:`cached_or_new_matrix`: the cached matrix when it was built from exactly these
   inputs, settings, cutoff and candidates, else a new one (saved to the cache). A cache
   whose files do not match its manifest, or that differs in anything, is rebuilt with a
   message saying why; it is never used.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hexaccess.errors import InputError, OfficeInputError, OutputError, UnknownNameError
from hexaccess.graph import Progress
from hexaccess.optimise.build import candidates_from_cells, coverage_matrix
from hexaccess.optimise.cache import (
    MATRIX_FILES,
    MATRIX_KIND,
    commit_matrix,
    load_matrix,
    prepare_matrix_output,
)
from hexaccess.optimise.matrix import CoverageMatrix
from hexaccess.optimise.problem import check_candidate_count
from hexaccess.outputs import read_manifest

__all__ = [
    "cached_or_new_matrix",
    "candidate_sites",
    "cell_candidates",
    "flat_provenance",
    "forbidden_mask",
    "matrix_provenance",
    "read_sites",
    "reusable_matrix",
]

#: A file, a table, or (candidates only) an ``h3:RES[:MIN_PEOPLE]`` specification.
Sites = str | os.PathLike[str] | pd.DataFrame


# ---------------------------------------------------------------------- candidates
def read_sites(sites: Sites, municipalities: Any = None) -> pd.DataFrame:
    """The office table of a sites file or frame (:func:`hexaccess.inputs.read_offices_any`;
    ``municipalities`` places offices given by municipality code)."""
    from hexaccess import inputs

    return inputs.read_offices_any(sites, municipalities).frame.copy()


def cell_candidates(spec: str, population: Any) -> pd.DataFrame:
    """``h3:RES[:MIN_PEOPLE]`` -> candidates at the centres of the H3 cells at ``RES``
    holding at least ``MIN_PEOPLE`` people (:func:`candidates_from_cells`)."""
    parts = spec.split(":")[1:]
    try:
        res = int(parts[0])
        least = float(parts[1]) if len(parts) > 1 else 0.0
    except (IndexError, ValueError):
        raise OfficeInputError(
            f"candidates {spec!r}: write h3:RES or h3:RES:MIN_PEOPLE, e.g. h3:6:500"
        ) from None
    if population is None:
        raise OfficeInputError(
            f"candidates {spec!r} are derived from the population: pass the population grid"
        )
    return candidates_from_cells(population, res, least)


def _merge_fixed(cand: pd.DataFrame, fixed: pd.DataFrame) -> pd.DataFrame:
    """Candidates with the fixed sites: a candidate of the same name becomes fixed, the
    others are appended."""
    fixed["fixed"] = True
    known = set(cand["name"].astype(str))
    same = fixed["name"].astype(str).isin(known).to_numpy()
    cand.loc[cand["name"].astype(str).isin(set(fixed["name"][same].astype(str))), "fixed"] = True
    return pd.concat([cand, fixed[~same]], ignore_index=True)


def _with_regions(cand: pd.DataFrame, municipalities: Any) -> pd.DataFrame:
    """Fill the ``region`` column from the municipality table (a given region stays)."""
    from hexaccess.offices import read_municipalities

    table = read_municipalities(municipalities)
    region = cand["municipality"].map(table["region"])
    cand["region"] = cand["region"].fillna(region) if "region" in cand.columns else region
    return cand


def _refuse_duplicate_names(cand: pd.DataFrame, source: str) -> None:
    """Candidate names are their identity (fixed and forbidden sites match by name, the
    matrix cache checks them in order): two candidates of one name are refused."""
    names = cand["name"].astype(str)
    dup = names[names.duplicated(keep=False)]
    if len(dup):
        first = list(dict.fromkeys(dup))[:5]
        detail = "; ".join(f"{n!r} at rows {list(dup.index[dup == n])}" for n in first)
        raise OfficeInputError(
            f"{source}: {dup.nunique()} candidate name(s) are used more than once ({detail}); "
            "give each candidate site a unique name (e.g. add the street or a number)"
        )


def candidate_sites(
    candidates: Sites,
    population: Any = None,
    *,
    fixed: Sites | None = None,
    forbidden: Sites | None = None,
    municipalities: Any = None,
) -> tuple[pd.DataFrame, npt.NDArray[np.bool_]]:
    """The candidate table (fixed sites merged in) and the forbidden mask.

    Parameters
    ----------
    candidates
        An offices file or table, or ``'h3:RES[:MIN_PEOPLE]'`` (needs ``population``).
    population
        The :class:`~hexaccess.population.PopulationGrid` (for ``h3:`` candidates).
    fixed
        Sites that must be kept (offices file or table): a candidate of the same name is
        marked fixed, the others are added.
    forbidden
        Sites that may not be chosen (:func:`forbidden_mask`).
    municipalities
        The municipality table (file or frame): places offices given by municipality
        code and gives the candidates a ``region`` column.
    """
    if isinstance(candidates, str) and candidates.startswith("h3:"):
        cand = cell_candidates(candidates, population)
    else:
        cand = read_sites(candidates, municipalities)
    if fixed is not None:
        cand = _merge_fixed(cand, read_sites(fixed, municipalities))
    source = (
        f"candidates {candidates}"
        if isinstance(candidates, str | os.PathLike)
        else ("the candidate table")
    )
    check_candidate_count(len(cand), source)
    _refuse_duplicate_names(cand, source)
    if municipalities is not None and "municipality" in cand.columns:
        cand = _with_regions(cand, municipalities)
    mask = np.zeros(len(cand), bool)
    if forbidden is not None:
        mask = forbidden_mask(forbidden, cand)
    return cand, mask


def _forbidden_municipalities(
    given: list[str], cand: pd.DataFrame, source: str
) -> npt.NDArray[np.bool_]:
    """Candidates in the municipalities ``given`` (codes; each must match a candidate)."""
    from hexaccess.inputs import municipality_codes

    if "municipality" not in cand.columns:
        raise OfficeInputError(
            f"forbidden sites {source} list municipalities but the candidates have no "
            "municipality column; forbid the sites by name instead"
        )
    try:
        codes = set(municipality_codes(given))
        numbered = set(municipality_codes([c for c in given if c.strip().isdigit()]))
    except ValueError as exc:
        raise OfficeInputError(f"forbidden sites {source}: {exc}") from None
    unknown = sorted(numbered - set(cand["municipality"].dropna().astype(str)))
    if unknown:
        raise UnknownNameError(
            f"forbidden sites {source}: municipality code(s) {unknown[:10]} match no candidate"
        )
    return cand["municipality"].astype(str).isin(codes).to_numpy()


def _read_forbidden(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The forbidden-sites CSV as text columns; a missing, empty, binary or malformed
    file, or one that is not UTF-8, is an error naming it."""
    from hexaccess._files import check_input_file, read_csv

    p = check_input_file(path, "forbidden sites file", kinds=("csv", "text"))
    try:
        return read_csv(
            p, error=OfficeInputError, name=str(path),
            role="forbidden sites file", dtype=str, keep_default_na=False,
        )  # fmt: skip
    except UnicodeDecodeError:
        raise OfficeInputError(
            f"forbidden sites file {path} is not UTF-8 text; save it as UTF-8 (CSV UTF-8)"
        ) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise OfficeInputError(
            f"forbidden sites file {path} is not a readable CSV ({' '.join(str(exc).split())});"
            " give a CSV with a 'name' or 'municipality' column"
        ) from None


def forbidden_mask(
    forbidden: str | os.PathLike[str] | pd.DataFrame, cand: pd.DataFrame
) -> npt.NDArray[np.bool_]:
    """The candidates forbidden by a CSV file (or table) with a ``name`` column (site
    names) and/or a ``municipality`` column (every candidate of those municipalities);
    each name and municipality code must match a candidate."""
    if isinstance(forbidden, pd.DataFrame):
        fb, source = forbidden.fillna("").astype(str), "table"
    else:
        fb, source = _read_forbidden(forbidden), str(forbidden)
    if not {"name", "municipality"} & set(fb.columns):
        raise OfficeInputError(f"forbidden sites {source} need a 'name' or 'municipality' column")
    mask = np.zeros(len(cand), bool)
    names = {n for n in fb.get("name", []) if n}
    if names:
        unknown = sorted(names - set(cand["name"].astype(str)))
        if unknown:
            raise UnknownNameError(f"forbidden sites {source}: unknown site name(s) {unknown[:10]}")
        mask |= cand["name"].astype(str).isin(names).to_numpy()
    given = [c for c in fb.get("municipality", []) if c]
    if given:
        mask |= _forbidden_municipalities(given, cand, source)
    return mask


# ---------------------------------------------------------------------- the matrix cache
def matrix_provenance(info: dict[str, Any]) -> dict[str, Any]:
    """What a cached matrix must have been built from: the run's provenance
    (:func:`hexaccess.study.provenance.provenance`) without the ``forbidden`` input (it
    only masks candidates), in the JSON form the matrix stores."""
    inputs = {k: v for k, v in info["inputs"].items() if k != "forbidden"}
    return json.loads(json.dumps({**info, "inputs": inputs}, default=str))


def flat_provenance(prov: dict[str, Any]) -> dict[str, Any]:
    """A provenance record on one level: input files as ``--role``, settings by name."""
    out = {k: v for k, v in prov.items() if k not in ("inputs", "settings")}
    out.update(prov.get("settings") or {})
    out.update({f"--{r.replace('_', '-')}": v for r, v in (prov.get("inputs") or {}).items()})
    return out


def _differences(
    matrix: CoverageMatrix, key: dict[str, Any], cutoff_s: float, names: list[str]
) -> list[str]:
    """What differs between a cached matrix and the run: provenance entries (flattened),
    ``--cutoff``, ``candidates``."""
    old, new = flat_provenance(matrix.meta.get("provenance") or {}), flat_provenance(key)
    differ = [k for k in sorted(old.keys() | new.keys()) if old.get(k) != new.get(k)]
    if matrix.cutoff_s != cutoff_s:
        differ.append("--cutoff")
    if list(matrix.candidates["name"].astype(str)) != names:
        differ.append("candidates")
    return differ


def _refuse_file(cache_dir: Path) -> None:
    """A cache path naming a file is a mistake to report, not a cache to rebuild."""
    if cache_dir.exists() and not cache_dir.is_dir():
        raise OutputError(
            f"matrix cache {cache_dir} is a file, not a directory; give a directory for the "
            "coverage-matrix cache (a new one, or one written before), or remove the file"
        )


def _holds_a_matrix(cache: Path) -> bool:
    """Whether ``cache`` holds a saved matrix, whole or not (our manifest of kind
    coverage-matrix, or no manifest but a matrix file). Anything else is no cache: saving
    there is refused by :func:`~hexaccess.optimise.cache.prepare_matrix_output`."""
    try:
        manifest = read_manifest(cache)
    except OutputError:  # a manifest.json that is not ours
        return False
    if manifest is not None:
        return manifest.get("kind") == MATRIX_KIND
    return any((cache / name).exists() for name in MATRIX_FILES.values())


def reusable_matrix(
    cache_dir: str | os.PathLike[str],
    *,
    provenance_key: dict[str, Any],
    cutoff_s: float,
    names: list[str],
    log: Callable[[str], Any] | None = None,
) -> CoverageMatrix | None:
    """The matrix cached in ``cache_dir`` when it was built from exactly
    ``provenance_key`` (:func:`matrix_provenance`), ``cutoff_s`` and the candidates
    ``names`` (in order), else None; ``log`` hears why a cache is not used.

    A cache that fails its manifest (a file changed, truncated, missing, or copied from
    another cache), whose manifest provenance differs from its metadata, or that this
    hexaccess cannot read, is never used. A missing directory, an empty one, or one that
    holds no matrix is no cache (None, without a message).
    """
    say = log or (lambda _msg: None)
    cache = Path(cache_dir)
    _refuse_file(cache)
    if not cache.is_dir() or not _holds_a_matrix(cache):
        return None
    try:
        matrix, manifest = load_matrix(cache)
    except InputError as exc:  # includes a missing file (InputFileError)
        say(f"{cache}: the cached matrix cannot be used ({exc}); recomputing")
        return None
    except OutputError as exc:  # CorruptOutputError: a file does not match the manifest
        say(f"{cache}: the cached matrix does not match its manifest ({exc}); recomputing")
        return None
    stored = json.loads(json.dumps(matrix.meta.get("provenance") or {}, default=str))
    if manifest is None or manifest.get("provenance") != stored:
        say(f"{cache}: the manifest's provenance differs from the matrix's; recomputing")
        return None
    unhashed = sorted(
        role
        for role, record in (provenance_key.get("inputs") or {}).items()
        if isinstance(record, dict) and record.get("sha256") is None
    )
    if unhashed:  # an input given as an object: nothing proves the cache was built from it
        say(f"{cache}: inputs {unhashed} have no content hash; recomputing the matrix")
        return None
    differ = _differences(matrix, provenance_key, cutoff_s, names)
    if differ:
        say(f"{cache}: the cached matrix differs in {', '.join(differ)}; recomputing")
        return None
    say(f"loaded {matrix!r}")
    return matrix


def cached_or_new_matrix(
    access: Any,
    *,
    cache_dir: str | os.PathLike[str] | None,
    provenance_key: dict[str, Any],
    cutoff_s: float,
    names: list[str] | None = None,
    threads: int | None = None,
    progress: Progress | None = None,
    log: Callable[[str], Any] | None = None,
    client: Any = None,
) -> CoverageMatrix:
    """The coverage matrix of ``access`` (whose offices are the candidates): reused from
    ``cache_dir`` when :func:`reusable_matrix` allows it, else computed
    (:func:`~hexaccess.optimise.coverage_matrix`) and, with ``cache_dir``, saved there.

    ``names`` are the candidate names in order (default: ``access.offices.names``). The
    cache directory is checked and locked *before* the matrix is computed: a file, or a
    directory holding other files, raises :class:`~hexaccess.errors.OutputError` at once.
    ``log`` receives one line per step (loaded, why recomputed, built, saved).
    ``client`` (Dask): the matrix is computed in candidate blocks on its workers, which
    write the blocks straight into the cache (:mod:`hexaccess.distributed.matrix`).
    """
    names = [str(n) for n in (access.offices.names if names is None else names)]
    build: dict[str, Any] = {"cutoff_s": cutoff_s, "threads": threads, "progress": progress,
                             "log": log, "provenance_info": provenance_key,
                             "client": client}  # fmt: skip
    if cache_dir is None:
        return coverage_matrix(access, **build)
    cache = Path(cache_dir)
    matrix = reusable_matrix(
        cache, provenance_key=provenance_key, cutoff_s=cutoff_s, names=names, log=log
    )
    if matrix is not None:
        return matrix
    with prepare_matrix_output(cache) as out:
        matrix = coverage_matrix(access, **build, out=out)  # out: where Dask workers write
        commit_matrix(matrix, out)
    if log is not None:
        log(f"saved the coverage matrix to {cache}")
    return matrix
