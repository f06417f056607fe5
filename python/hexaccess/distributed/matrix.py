"""The coverage matrix in candidate blocks, as Dask tasks.

Each worker receives the engine graph (its CSR arrays) and the cell nodes once
(``client.scatter(broadcast=True)``), rebuilds the graph once per process and runs, per
block of candidates, the same :meth:`hexaccess.Graph.nearest_batch` call as the
single-machine :func:`hexaccess.optimise.coverage_matrix` (same sources, offsets, cutoff
and targets): searches are independent per source and identical for any thread count, so
the blocks put end to end are the single-machine arrays bit for bit.

With a staging directory (the ``--matrix`` cache, :mod:`hexaccess.outputs`), each block
is written by its worker as one file ``entries/part-NNNNN.parquet`` of a partitioned
Parquet dataset: into a hidden temporary name first, fsynced, then renamed in one step,
so a worker killed while writing leaves no file under a part's name (the temporary is
deleted by the driver before the commit). Workers that cannot see the directory (no
shared file system) send the block back and the driver writes it the same way. A task
whose worker dies is rerun by the scheduler, an exception up to twice more (``retries``).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hexaccess._extras import require
from hexaccess.optimise.cache import BLOCK_KEY, PARTS_DIR

__all__ = ["BlockedArrays", "GraphBundle", "block_ranges", "search_blocks"]

#: The name of block ``b`` in the parts folder (the folder and the metadata key belong
#: to the cache format, :mod:`hexaccess.optimise.cache`).
_PART = "part-{:05d}.parquet"
#: Retries of a block task that raised (a lost worker is rescheduled anyway).
RETRIES = 2
#: Bytes a block may hold at most, per entry bound: the Rust batch returns node (i64),
#: time and length (f64) per reached cell, and the block's columns take 10 more.
_BYTES_PER_ENTRY = 34


@dataclass(frozen=True)
class GraphBundle:
    """What every worker receives once: the graph's CSR arrays, its backend, the cell
    nodes (the searches' targets) and a token naming this graph in a worker's cache."""

    token: str
    num_nodes: int
    backend: str
    indptr: npt.NDArray[np.int64]
    head: npt.NDArray[np.int64]
    time_s: npt.NDArray[np.float64]
    length_m: npt.NDArray[np.float64]
    cell_node: npt.NDArray[np.int64]

    @classmethod
    def of(cls, graph: Any, cell_node: npt.ArrayLike) -> GraphBundle:
        """The bundle of an engine graph and its cell nodes."""
        indptr, head, time_s, length_m = graph.csr()
        cells = np.asarray(cell_node, dtype=np.int64)
        digest = hashlib.sha256()
        for arr in (indptr, head, time_s, length_m, cells):
            digest.update(np.ascontiguousarray(arr).tobytes())
        return cls(
            digest.hexdigest()[:16],
            graph.num_nodes,
            graph.backend,
            indptr,
            head,
            time_s,
            length_m,
            cells,
        )

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays (a worker holds them and the rebuilt graph: about twice)."""
        arrays = (self.indptr, self.head, self.time_s, self.length_m, self.cell_node)
        return int(sum(a.nbytes for a in arrays))


#: Graphs rebuilt in this (worker) process, by bundle token: one build per worker.
_GRAPHS: dict[str, tuple[Any, npt.NDArray[np.int64]]] = {}


def _worker_graph(bundle: GraphBundle) -> tuple[Any, npt.NDArray[np.int64]]:
    """The bundle's graph and node -> cell index map, built once in this process."""
    if bundle.token not in _GRAPHS:
        from hexaccess.graph import Graph

        tail = np.repeat(np.arange(bundle.num_nodes, dtype=np.int64), np.diff(bundle.indptr))
        # The CSR already holds both directions of every two-way road: not bidirectional.
        graph = Graph.from_edges(
            tail,
            bundle.head,
            bundle.time_s,
            bundle.length_m,
            num_nodes=bundle.num_nodes,
            backend=bundle.backend,  # type: ignore[arg-type]
        )
        node_to_cell = np.full(bundle.num_nodes, -1, dtype=np.int64)
        node_to_cell[bundle.cell_node] = np.arange(bundle.cell_node.size)
        _GRAPHS.clear()  # one study's graph at a time: a worker's memory is the limit
        _GRAPHS[bundle.token] = (graph, node_to_cell)
    return _GRAPHS[bundle.token]


def block_threads(threads: int | None, slots: dict[str, int]) -> int:
    """Rust threads of one block: ``threads`` when given, else this host's cores shared
    among the task slots of its workers (:func:`hexaccess.distributed.cluster.host_slots`;
    never fewer than one)."""
    if threads is not None:
        return int(threads)
    try:
        from distributed import get_worker

        host = get_worker().address.rsplit("://", 1)[-1].rsplit(":", 1)[0]
    except (ImportError, ValueError):  # not inside a Dask worker
        host = ""
    return max(1, (os.cpu_count() or 1) // max(1, slots.get(host, 1)))


def block_ranges(num_candidates: int, size: int) -> list[tuple[int, int]]:
    """``[start, stop)`` of each block of ``size`` candidates (the last may be shorter)."""
    return [(a, min(a + size, num_candidates)) for a in range(0, num_candidates, size)]


@dataclass(frozen=True)
class _Block:
    """One task's settings (all small: the graph travels separately, once)."""

    index: int
    start: int
    stop: int
    sources: npt.NDArray[np.int64]
    offsets: npt.NDArray[np.float64]
    cutoff_s: float
    unit: float
    threads: int | None
    slots: dict[str, int]
    parts: str | None
    save: str


def _block_columns(bundle: GraphBundle, block: _Block) -> dict[str, np.ndarray]:
    """The block's entries, computed exactly as :func:`hexaccess.optimise.coverage_matrix`
    computes the whole matrix (candidate indices global)."""
    graph, node_to_cell = _worker_graph(bundle)
    batch = graph.nearest_batch(
        block.sources,
        offsets_s=block.offsets,
        cutoff_s=block.cutoff_s,
        targets=bundle.cell_node,
        threads=block_threads(block.threads, block.slots),
    )
    cell = node_to_cell[batch.node]
    return {
        "count": np.diff(np.asarray(batch.indptr, dtype=np.int64)),  # entries per candidate
        "cell": cell.astype(np.int32),
        "time": np.floor(batch.time_s / block.unit).astype(np.uint16),
        "distance_m": batch.length_m.astype(np.float32),
    }


def write_part(folder: Path, block: _Block, columns: dict[str, np.ndarray]) -> dict[str, Any]:
    """Write one block as ``folder/part-NNNNN.parquet`` atomically (a temporary name,
    fsync, one rename); returns its record (name, rows, SHA-256)."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    name = _PART.format(block.index)
    meta = {
        "save": block.save,
        "block": block.index,
        "start": block.start,
        "stop": block.stop,
        "rows": int(columns["cell"].size),
    }
    rows = np.repeat(np.arange(block.start, block.stop, dtype=np.int32), columns["count"])
    table = pa.table(
        {"candidate": rows, **{k: columns[k] for k in ("cell", "time", "distance_m")}}
    ).replace_schema_metadata({BLOCK_KEY: json.dumps(meta).encode()})
    tmp = folder / f".{name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    pq.write_table(table, tmp)
    with open(tmp, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
        os.fsync(handle.fileno())
    os.replace(tmp, folder / name)  # one step: the part is whole or absent
    return {**meta, "path": f"{PARTS_DIR}/{name}", "sha256": digest}


def _marker(save: str) -> str:
    """Name of the file by which a worker knows it sees the driver's staging folder."""
    return f".visible-{save}"


def _run_block(bundle: GraphBundle, block: _Block) -> dict[str, Any]:
    """The Dask task: search one block; write it where the staging folder is visible,
    else send it back."""
    columns = _block_columns(bundle, block)
    # The driver's marker, not just the path: a worker on another node may have a
    # folder of the same name that the driver never sees (no shared file system).
    if block.parts is not None and os.path.isfile(os.path.join(block.parts, _marker(block.save))):
        return {"record": write_part(Path(block.parts), block, columns)}
    return {"columns": columns, "index": block.index}


@dataclass(frozen=True)
class BlockedArrays:
    """The matrix arrays assembled from the blocks, and the blocks' records (a written
    part each, when a staging folder was given)."""

    indptr: npt.NDArray[np.int64]
    cell: npt.NDArray[np.int32]
    time: npt.NDArray[np.uint16]
    distance_m: npt.NDArray[np.float32]
    blocks: dict[str, Any] | None


def default_block_size(client: Any, num_candidates: int, num_cells: int) -> int:
    """Candidates per block: eight blocks per task slot (the last blocks finish close
    together, and a lost worker costs an eighth of its share), and no block's worst case
    (every cell reached) above a quarter of the smallest worker memory limit."""
    workers = client.scheduler_info()["workers"].values()
    slots = max(1, sum(int(w.get("nthreads", 1)) for w in workers))
    limits = [int(w.get("memory_limit") or 0) for w in workers]
    size = max(1, -(-num_candidates // (8 * slots)))
    if limits and min(limits) > 0:
        size = min(size, max(1, min(limits) // 4 // (max(num_cells, 1) * _BYTES_PER_ENTRY)))
    return size


def _record_or_write(result: dict[str, Any], folder: Path | None, block: _Block) -> dict[str, Any]:
    """A finished block's record; a block sent back is written here first (with a
    folder), or kept in memory (without)."""
    if "record" in result:
        return result["record"]
    if folder is None:
        return {"block": block.index, "columns": result["columns"]}
    return write_part(folder, block, result["columns"])


def _read_part(folder: Path, record: dict[str, Any]) -> dict[str, np.ndarray]:
    """The columns of a written block, after checking it is the file its worker wrote."""
    import pyarrow.parquet as pq

    from hexaccess.errors import CorruptOutputError

    path = folder.parent / record["path"]
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != record["sha256"]:
        raise CorruptOutputError(
            f"{path} changed after its worker wrote it (SHA-256 differs); another run is "
            "writing the same staging directory? Rerun the command"
        )
    table = pq.read_table(path)
    rows = table.column("candidate").to_numpy().astype(np.int64) - record["start"]
    out = {c: table.column(c).to_numpy() for c in ("cell", "time", "distance_m")}
    return {"count": np.bincount(rows, minlength=record["stop"] - record["start"]), **out}


def _remove_strays(folder: Path, records: list[dict[str, Any]]) -> None:
    """Delete what killed attempts left in the parts folder (temporary files), so the
    manifest lists exactly the finished blocks."""
    keep = {Path(r["path"]).name for r in records}
    for name in os.listdir(folder):
        if name not in keep:
            (folder / name).unlink()


def _submit(client: Any, bundle: Any, blocks: list[_Block]) -> list[Any]:
    return [
        client.submit(
            _run_block,
            bundle,
            b,
            key=f"hexaccess-block-{b.save}-{b.index:05d}",
            retries=RETRIES,
            pure=False,
        )
        for b in blocks
    ]


def _gather(
    client: Any,
    futures: list[Any],
    blocks: list[_Block],
    folder: Path | None,
    progress: Callable[[int, int], Any] | None,
) -> list[dict[str, Any]]:
    """Each block's record as it finishes (progress in candidates); results are released
    from the workers at once."""
    distributed = require("distributed", "dask", "The distributed coverage matrix")
    total = sum(b.stop - b.start for b in blocks)
    by_key = {f.key: (i, f) for i, f in enumerate(futures)}
    records: list[dict[str, Any] | None] = [None] * len(blocks)
    done = 0
    for future in distributed.as_completed(futures):
        i, _ = by_key[future.key]
        records[i] = _record_or_write(future.result(), folder, blocks[i])
        future.release()
        done += blocks[i].stop - blocks[i].start
        if progress is not None:
            progress(done, total)
    return [r for r in records if r is not None]


def search_blocks(
    access: Any,
    client: Any,
    *,
    cutoff_s: float,
    unit: float,
    threads: int | None = None,
    progress: Callable[[int, int], Any] | None = None,
    block_size: int | None = None,
    staging: Path | None = None,
) -> BlockedArrays:
    """The coverage matrix arrays of ``access`` (its offices are the candidates) computed
    in blocks of ``block_size`` candidates on the workers of ``client``.

    ``staging``: the staging directory of the matrix output
    (:func:`hexaccess.optimise.cache.prepare_matrix_output`); each block is then written
    there as ``entries/part-NNNNN.parquet`` and the result's ``blocks`` lists the parts
    for the manifest and the cache reader. ``threads``: Rust threads per block (default:
    each host's cores shared among its task slots).
    """
    from hexaccess.distributed.cluster import host_slots

    sources = np.asarray(access.office_node, dtype=np.int64)
    offsets = np.asarray(access.office_offsets(), dtype=np.float64)
    n = sources.size
    size = block_size or default_block_size(client, n, len(access.cell_node))
    save = secrets.token_hex(8)
    folder = None if staging is None else Path(staging) / PARTS_DIR
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / _marker(save)).touch()  # removed with the strays before the commit
    slots = host_slots(client)
    blocks = [
        _Block(
            i,
            a,
            b,
            sources[a:b],
            offsets[a:b],
            float(cutoff_s),
            float(unit),
            threads,
            slots,
            None if folder is None else str(folder),
            save,
        )
        for i, (a, b) in enumerate(block_ranges(n, size))
    ]
    bundle = client.scatter(GraphBundle.of(access.graph, access.cell_node), broadcast=True)
    try:
        records = _gather(client, _submit(client, bundle, blocks), blocks, folder, progress)
    finally:
        bundle.release()
    columns = [r["columns"] if "columns" in r else _read_part(folder, r) for r in records]  # type: ignore[arg-type]
    if folder is not None:
        _remove_strays(folder, records)
    return _assemble(n, blocks, columns, records, folder is not None, save)


def _assemble(
    n: int,
    blocks: list[_Block],
    columns: list[dict[str, np.ndarray]],
    records: list[dict[str, Any]],
    written: bool,
    save: str,
) -> BlockedArrays:
    """The blocks end to end: the CSR arrays of the whole matrix."""
    counts = np.zeros(n, dtype=np.int64)
    for b, col in zip(blocks, columns, strict=True):
        counts[b.start : b.stop] = col["count"]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    meta = None
    if written:
        meta = {
            "save": save,
            "parts": [r["path"] for r in records],
            "ranges": [[b.start, b.stop] for b in blocks],
        }
    return BlockedArrays(
        indptr,
        np.concatenate([c["cell"] for c in columns]).astype(np.int32, copy=False),
        np.concatenate([c["time"] for c in columns]).astype(np.uint16, copy=False),
        np.concatenate([c["distance_m"] for c in columns]).astype(np.float32, copy=False),
        meta,
    )
