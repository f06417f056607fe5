"""The one copy of the engine's Python-side input checks.

:class:`~hexaccess.graph.Graph` calls these once, before it hands arrays to a backend,
so the Rust and the Numba backend see the same checked input and users get the same
error from both. The wording follows the Rust core's (floats printed as Rust prints
them: ``-1``, ``NaN``, no exponent), which still checks everything again on its own side
(defence in depth); the Numba kernels trust what passed here and check nothing.

Two kinds of function live here:

- *conversions* of what a user may pass (lists, any integer or float dtype, a 1-D mask
  or an array of node ids) into the contiguous ``int64``/``float64`` arrays the backends
  take: :func:`node_ids`, :func:`floats`, :func:`source_sets`, :func:`weights`,
  :func:`targets`, :func:`cutoff`, :func:`threads`, :func:`chunk`,
  :func:`column_names`;
- *contract checks* of ``docs/engine-semantics.md`` on arrays: :func:`num_nodes`,
  :func:`edge_list`, :func:`sources`, :func:`set_sources`, :func:`weight_matrix`,
  :func:`band_edges`, :func:`target_mask`, :func:`csr_arrays`.

Every mistake raises :class:`~hexaccess.errors.EngineInputError` (a ``ValueError``)
naming the first bad row, node, source or value.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from hexaccess import defaults
from hexaccess.errors import EngineInputError

#: Largest graph the engine takes (node ids must fit in u32, with one value spare).
MAX_NUM_NODES = 2**32 - 2
#: Source indices are reported as int32, so one search may have at most this many sources.
MAX_SOURCES = 2**31 - 1

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


# ------------------------------------------------------------------ message helpers
def rust_float(x: float) -> str:
    """An f64 as Rust's ``{}`` prints it (shortest round-trip digits, never an exponent,
    ``NaN``/``inf``), so that messages read the same whichever side raised them."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return str(np.format_float_positional(x, trim="-"))


def _id_for_message(arr: np.ndarray, index: int) -> int | float:
    value = arr[index].item()
    # Integral floats print as integers ("7", not "7.0") so messages read the same
    # whatever dtype the caller used.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _bad_weight_mask(values: F64) -> Mask:
    """True where a weight, offset or time is not finite and >= 0."""
    with np.errstate(invalid="ignore"):
        return ~(np.isfinite(values) & (values >= 0))


# ------------------------------------------------------------------ conversions
def one_dimensional(name: str, values: npt.ArrayLike) -> np.ndarray:
    """``values`` as a numpy array, which must be one-dimensional."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise EngineInputError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def node_ids(name: str, values: npt.ArrayLike) -> I64:
    """Node ids as contiguous ``int64``: integers, booleans or integral floats.

    Range checks are the contract checks' job (they know ``num_nodes``); this refuses
    what is not an id at all: ``1.5``, ``nan`` or a ``uint64`` above the ``int64`` range.
    """
    arr = one_dimensional(name, values)
    if arr.size and not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_):
        is_float = np.issubdtype(arr.dtype, np.floating)
        good = np.isfinite(arr) & (arr == np.round(arr)) if is_float else None
        if good is None or not np.all(good):
            bad = int(np.flatnonzero(~good)[0]) if good is not None else 0
            raise EngineInputError(
                f"{name} must hold integer node ids; entry {bad} is {arr[bad]!r}"
            )
    if arr.dtype == np.uint64 and arr.size and arr.max() > np.iinfo(np.int64).max:
        raise EngineInputError(f"{name} holds ids larger than int64")
    return np.ascontiguousarray(arr, dtype=np.int64)


def floats(name: str, values: npt.ArrayLike) -> F64:
    """A one-dimensional array as contiguous ``float64`` (values are checked later)."""
    return np.ascontiguousarray(one_dimensional(name, values), dtype=np.float64)


def source_sets(
    sets: Sequence[npt.ArrayLike] | npt.ArrayLike,
    offsets_s: Sequence[npt.ArrayLike] | npt.ArrayLike | None,
) -> tuple[I64, I64, F64 | None]:
    """Normalise source sets to CSR ``(indptr, nodes, offsets)``.

    A 1-D numpy array means one single-source search per entry; a sequence of
    array-likes means one multi-source search per item (with one offset array per item).
    """
    if isinstance(sets, np.ndarray) and sets.ndim == 1:
        nodes = node_ids("source_sets", sets)
        indptr = np.arange(nodes.size + 1, dtype=np.int64)
        offsets = None if offsets_s is None else floats("offsets_s", offsets_s)
        return indptr, nodes, offsets
    parts = [node_ids(f"source_sets[{i}]", s) for i, s in enumerate(sets)]
    indptr = np.zeros(len(parts) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([s.size for s in parts])
    nodes = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    if offsets_s is None:
        return indptr, nodes, None
    offs = [floats(f"offsets_s[{i}]", o) for i, o in enumerate(offsets_s)]
    if len(offs) != len(parts) or any(o.size != s.size for o, s in zip(offs, parts, strict=False)):
        raise EngineInputError("offsets_s must have one array per source set, one value per source")
    return indptr, nodes, (np.concatenate(offs) if offs else np.zeros(0))


def weights(values: npt.ArrayLike, num_nodes: int) -> F64:
    """Node weights as a checked ``(num_nodes, columns)`` matrix; a 1-D array is one
    column (e.g. people per node)."""
    w = np.asarray(values, dtype=np.float64)
    return weight_matrix(w[:, None] if w.ndim == 1 else w, num_nodes)


def targets(values: npt.ArrayLike | None, num_nodes: int) -> Mask | None:
    """A boolean node mask from ``None`` (all nodes), a mask, or an array of node ids."""
    if values is None:
        return None
    t = np.asarray(values)
    if t.dtype == np.bool_:
        return target_mask(t, num_nodes)
    ids = node_ids("targets", t)
    bad = (ids < 0) | (ids >= num_nodes)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise EngineInputError(f"targets[{i}] = {ids[i]} is not a node id of this graph")
    mask = np.zeros(num_nodes, dtype=np.bool_)
    mask[ids] = True
    return mask


def cutoff(value: float | None, prefix: str = "") -> float | None:
    """A search cutoff in seconds: ``None`` (no limit) or a number ``>= 0``."""
    if value is None:
        return None
    try:
        c = float(value)
    except (TypeError, ValueError):
        raise EngineInputError(
            f"{prefix}cutoff must be a number of seconds or None, got {value!r}"
        ) from None
    if not c >= 0:  # also catches NaN
        raise EngineInputError(
            f"{prefix}cutoff {rust_float(c)} s is invalid; it must be >= 0 (use no cutoff "
            "for an unbounded search)"
        )
    return c


def threads(value: int | None) -> int | None:
    """A thread count: ``None`` (all of rayon's pool) or an integer from 1 to
    :func:`hexaccess.defaults.max_threads` (64, or the core count when larger): more
    threads than that only add start-up cost and memory, never speed."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise EngineInputError(f"threads must be >= 1 (or None for all cores), got {value!r}")
    cap = defaults.max_threads()
    if value > cap:
        raise EngineInputError(
            f"threads={value} is more than the limit of {cap} (hexaccess.defaults.MAX_THREADS "
            "or the core count); give at most that, or None for all cores"
        )
    return int(value)


def chunk(value: int) -> int:
    """Searches per chunk of a streamed batch: an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise EngineInputError(f"chunk must be >= 1, got {value}")
    return int(value)


def column_names(columns: Sequence[str] | None, count: int) -> list[str]:
    """Names of the weight columns: given, else ``weight`` (one) or ``w0, w1, ...``."""
    if columns is None:
        return ["weight"] if count == 1 else [f"w{i}" for i in range(count)]
    names = list(columns)
    if len(names) != count:
        raise EngineInputError(f"{len(names)} column names for {count} weight columns")
    return names


# ------------------------------------------------------------------ contract checks
def num_nodes(value: int) -> int:
    """The number of nodes of a graph: an integer in ``0..MAX_NUM_NODES``."""
    try:
        n = operator.index(value)
    except TypeError:
        raise EngineInputError(f"num_nodes must be an integer, got {value!r}") from None
    if not 0 <= n <= MAX_NUM_NODES:
        raise EngineInputError(f"num_nodes must be in 0..{MAX_NUM_NODES}, got {n}")
    return n


def _id_mask(arr: np.ndarray, n: int) -> tuple[I64, Mask]:
    """(ids as int64, mask of invalid entries). Invalid entries of the result are junk."""
    kind = arr.dtype.kind
    if kind == "u" and arr.dtype.itemsize == 8:
        # uint64 values >= 2**63 would wrap when cast to int64, so compare before casting.
        return arr.astype(np.int64), arr >= np.uint64(n)
    if kind in "biu":
        ids = np.asarray(arr, dtype=np.int64)  # no copy when already int64
        return ids, (ids < 0) | (ids >= n)
    # Floats (or objects convertible to float): valid only if integral and in range;
    # NaN fails every comparison and so is reported as bad.
    as_float = arr.astype(np.float64)
    with np.errstate(invalid="ignore"):
        good = (as_float >= 0) & (as_float < n) & (np.floor(as_float) == as_float)
        ids = np.where(good, as_float, 0).astype(np.int64)
    return ids, ~good


def edge_list(
    n: int,
    tail: npt.ArrayLike,
    head: npt.ArrayLike,
    time_s: npt.ArrayLike,
    length_m: npt.ArrayLike,
) -> tuple[I64, I64, F64, F64]:
    """Check an edge list against a graph of ``n`` nodes; ``(tail, head, time_s,
    length_m)`` as ``int64``/``float64`` arrays.

    Names the first bad row (rows in order; within a row tail, head, time_s, length_m in
    that order): ids outside ``0..n-1``, times or lengths that are not finite and >= 0,
    arrays of different lengths.
    """
    cols = {"tail": tail, "head": head, "time_s": time_s, "length_m": length_m}
    arrs = {k: one_dimensional(k, v) for k, v in cols.items()}
    sizes = [a.shape[0] for a in arrs.values()]
    if len(set(sizes)) != 1:
        raise EngineInputError(
            f"edge arrays must have equal length: tail has {sizes[0]} rows, head has "
            f"{sizes[1]}, time_s has {sizes[2]}, length_m has {sizes[3]}"
        )
    tail_ids, bad_tail = _id_mask(arrs["tail"], n)
    head_ids, bad_head = _id_mask(arrs["head"], n)
    time_f = np.asarray(arrs["time_s"], dtype=np.float64)
    length_f = np.asarray(arrs["length_m"], dtype=np.float64)
    bad = {"tail": bad_tail, "head": bad_head}
    bad.update(time_s=_bad_weight_mask(time_f), length_m=_bad_weight_mask(length_f))
    bad_any = bad_tail | bad_head | bad["time_s"] | bad["length_m"]
    if bad_any.any():
        _raise_bad_edge_row(int(np.argmax(bad_any)), n, arrs, bad, time_f, length_f)
    return tail_ids, head_ids, time_f, length_f


def _raise_bad_edge_row(
    row: int,
    n: int,
    arrs: dict[str, np.ndarray],
    bad: dict[str, Mask],
    time_f: F64,
    length_f: F64,
) -> None:
    """Raise for the first bad column of edge ``row``."""
    for column in ("tail", "head"):
        if bad[column][row]:
            raise EngineInputError(
                f"edge row {row}: {column} node id {_id_for_message(arrs[column], row)} is "
                f"outside 0..{n - 1}; node ids must be integers in [0, num_nodes)"
            )
    for column, arr in (("time_s", time_f), ("length_m", length_f)):
        if bad[column][row]:
            raise EngineInputError(
                f"edge row {row}: {column} is {float(arr[row])!r}; travel times and "
                "lengths must be finite and >= 0"
            )


def _raise_bad_source(
    raw: np.ndarray,
    bad_id: Mask,
    offsets: F64 | None,
    bad_offset: Mask | None,
    span: tuple[int, int],
    n: int,
    prefix: str = "",
) -> None:
    """Raise for the first bad source of entries ``span`` (one search): all node ids
    are checked before any offset, in the order the Rust core uses."""
    lo, hi = span
    if bad_id[lo:hi].any():
        j = int(np.argmax(bad_id[lo:hi]))
        raise EngineInputError(
            f"{prefix}source {j}: node id {_id_for_message(raw, lo + j)} is outside "
            f"0..{n - 1}; sources must be node ids of the graph"
        )
    if bad_offset is not None and offsets is not None and bad_offset[lo:hi].any():
        j = int(np.argmax(bad_offset[lo:hi]))
        raise EngineInputError(
            f"{prefix}source {j}: start offset {rust_float(float(offsets[lo + j]))} s is "
            "invalid; offsets must be finite and >= 0"
        )


def _offsets(offsets: npt.ArrayLike | None, count: int) -> tuple[F64 | None, Mask | None]:
    """(offsets as float64, bad-offset mask); one offset per source or ``None``."""
    if offsets is None:
        return None, None
    offs = np.ascontiguousarray(one_dimensional("offsets", offsets), dtype=np.float64)
    if offs.shape[0] != count:
        raise EngineInputError(
            f"got {offs.shape[0]} start offsets for {count} sources; give one offset per source"
        )
    return offs, _bad_weight_mask(offs)


def sources(n: int, nodes: npt.ArrayLike, offsets: npt.ArrayLike | None) -> tuple[I64, F64 | None]:
    """Check the sources of one search of a graph of ``n`` nodes: node ids in range (all
    of them first), then one finite offset >= 0 per source. ``(ids, offsets)``."""
    raw = one_dimensional("sources", nodes)
    # An empty list becomes float64 in numpy; that is still a valid (empty) id array.
    ids, bad_id = _id_mask(raw, n)
    span = (0, ids.shape[0])
    if bad_id.any():
        _raise_bad_source(raw, bad_id, None, None, span, n)
    offs, bad_offset = _offsets(offsets, ids.shape[0])
    if bad_offset is not None and bad_offset.any():
        _raise_bad_source(raw, bad_id, offs, bad_offset, span, n)
    if ids.shape[0] > MAX_SOURCES:
        raise EngineInputError(f"a search may have at most {MAX_SOURCES} sources")
    return np.ascontiguousarray(ids), offs


def set_sources(
    n: int,
    indptr: npt.ArrayLike,
    nodes: npt.ArrayLike,
    offsets: npt.ArrayLike | None,
    cutoff_s: float | None = None,
) -> tuple[I64, I64, F64 | None]:
    """Check source sets in CSR form (set ``i`` is ``nodes[indptr[i]:indptr[i+1]]``)
    against a graph of ``n`` nodes; ``(indptr, ids, offsets)``.

    Order and messages follow the Rust core: the shape of ``indptr``, the offset count,
    a decreasing ``indptr``, ``cutoff_s`` (when there is a set; callers that checked it
    with :func:`cutoff` already leave it out), then set by set the node ids and offsets,
    prefixed with ``source set i:``.
    """
    ptr = np.ascontiguousarray(one_dimensional("set_indptr", indptr), dtype=np.int64)
    raw = one_dimensional("set_nodes", nodes)
    if ptr.shape[0] == 0 or ptr[0] != 0 or ptr[-1] != raw.shape[0]:
        raise EngineInputError(
            "source-set indptr must start at 0 and end at the number of source nodes "
            f"({raw.shape[0]}); got {ptr.shape[0]} entries"
        )
    ids, bad_id = _id_mask(raw, n)
    offs, bad_offset = _offsets(offsets, ids.shape[0])
    sizes = np.diff(ptr)
    if (sizes < 0).any():
        i = int(np.argmax(sizes < 0))
        raise EngineInputError(f"source-set indptr decreases at set {i} ({ptr[i]} > {ptr[i + 1]})")
    if sizes.shape[0] > 0:  # the Rust core checks the cutoff once per set
        cutoff(cutoff_s, "source set 0: ")
    bad = bad_id if bad_offset is None else bad_id | bad_offset
    if bad.any():
        # Sets are checked in order, so the first bad entry lies in the first bad set.
        i = int(np.searchsorted(ptr, np.argmax(bad), side="right")) - 1
        span = (int(ptr[i]), int(ptr[i + 1]))
        _raise_bad_source(raw, bad_id, offs, bad_offset, span, n, f"source set {i}: ")
    if sizes.shape[0] > 0 and int(sizes.max()) > MAX_SOURCES:
        raise EngineInputError(f"a search may have at most {MAX_SOURCES} sources")
    return ptr, np.ascontiguousarray(ids), offs


def weight_matrix(values: npt.ArrayLike, n: int) -> F64:
    """Check node weights ``(n, columns)``: at least one column, one row per node, all
    finite and >= 0. Returned contiguous ``float64``."""
    w = np.ascontiguousarray(values, dtype=np.float64)
    if w.ndim != 2:
        raise EngineInputError(
            f"weights must be a 2-D array (num_nodes, columns), got shape {w.shape}"
        )
    if w.shape[1] == 0:
        raise EngineInputError("weights need at least one column")
    if w.shape[0] != n:
        raise EngineInputError(
            f"weights have {w.shape[0]} rows but the graph has {n} nodes; give one row per "
            "node (zeros for nodes without people)"
        )
    bad = _bad_weight_mask(w)
    if bad.any():
        node, column = np.unravel_index(int(np.argmax(bad)), w.shape)  # row-major first
        raise EngineInputError(
            f"weight at node {node}, column {column} is {rust_float(float(w[node, column]))}; "
            "weights must be finite and >= 0"
        )
    return w


def band_edges(values: npt.ArrayLike) -> F64:
    """Check band edges in seconds: ``0 = e_0 < e_1 < ... < e_m``, finite, ``m >= 1``."""
    e = floats("band edges", values)
    if e.shape[0] < 2:
        raise EngineInputError("band edges need at least two values, e.g. [0, 600, 1200]")
    if e[0] != 0:
        raise EngineInputError(
            f"the first band edge must be 0 s (got {rust_float(float(e[0]))}); bands start "
            "at the office"
        )
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(e[1:]) & (e[1:] > e[:-1]))
    if bad.any():
        i = int(np.argmax(bad)) + 1
        raise EngineInputError(
            f"band edge {i} ({rust_float(float(e[i]))} s) must be finite and greater than "
            f"the previous edge ({rust_float(float(e[i - 1]))} s)"
        )
    return e


def target_mask(mask: npt.ArrayLike, n: int) -> Mask:
    """Check a boolean target mask: one entry per node."""
    m = np.ascontiguousarray(one_dimensional("targets", mask), dtype=np.bool_)
    if m.shape[0] != n:
        raise EngineInputError(f"targets mask has {m.shape[0]} entries but the graph has {n} nodes")
    return m


def csr_arrays(
    indptr: npt.ArrayLike, heads: npt.ArrayLike, times: npt.ArrayLike, lengths: npt.ArrayLike
) -> tuple[I64, I64, F64, F64]:
    """Check the shapes of CSR arrays given to the Numba functions directly (their
    contents are trusted: they come from ``validate_and_build_csr``)."""
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    heads = np.ascontiguousarray(heads, dtype=np.int64)
    times = np.ascontiguousarray(times, dtype=np.float64)
    lengths = np.ascontiguousarray(lengths, dtype=np.float64)
    m = heads.shape[0]
    if (
        indptr.ndim != 1
        or indptr.shape[0] < 1
        or heads.ndim != 1
        or times.shape != (m,)
        or lengths.shape != (m,)
        or indptr[0] != 0
        or indptr[-1] != m
    ):
        raise EngineInputError("malformed CSR graph; build it with validate_and_build_csr")
    return indptr, heads, times, lengths
