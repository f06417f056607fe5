//! One search (`nearest`), batches of searches (`sparse_batch`, `histogram_batch`) and the
//! edge-scan bound, with the GIL released while they run.

use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArray3, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2,
    PyUntypedArrayMethods,
};
use pyo3::prelude::*;

use super::graph::PyGraph;
use super::{install, thread_pool};
use crate::batch::{
    check_target_count, histogram_searches, sparse_searches, HistogramSpec, OwnedSourceSets,
    SparseSearch, WorkspacePool,
};
use crate::error::Error;
use crate::graph::Graph;
use crate::histogram::{validate_edges, validate_weights, BandHistogram};
use crate::search::{
    nearest_with, parallel_evictions, validate_query, NearestResult, Query, SearchScratch,
    DEFAULT_SEARCH_THREADS, NO_SOURCE,
};

type Array1<'py, T> = Bound<'py, PyArray1<T>>;
type Array2<'py, T> = Bound<'py, PyArray2<T>>;

/// Source sets from the numpy arrays of a batch call, checked against the graph.
fn sets_from_numpy(
    g: &Graph,
    set_indptr: &PyReadonlyArray1<'_, i64>,
    set_nodes: &PyReadonlyArray1<'_, i64>,
    set_offsets: Option<&PyReadonlyArray1<'_, f64>>,
    cutoff: f64,
) -> PyResult<OwnedSourceSets> {
    let offsets = match set_offsets {
        Some(o) => Some(o.as_slice()?),
        None => None,
    };
    let (indptr, nodes) = (set_indptr.as_slice()?, set_nodes.as_slice()?);
    Ok(OwnedSourceSets::new(
        g.num_nodes(),
        indptr,
        nodes,
        offsets,
        cutoff,
    )?)
}

fn cutoff_or_inf(cutoff: Option<f64>) -> f64 {
    cutoff.unwrap_or(f64::INFINITY)
}

fn source_to_i32(s: u32) -> i32 {
    if s == NO_SOURCE {
        -1
    } else {
        s as i32
    }
}

/// Run `S` searches in chunks: each chunk runs in parallel with the GIL released; between
/// chunks the progress callback is called (done, total) and Ctrl-C is honoured.
fn run_chunked<R: Send>(
    py: Python<'_>,
    total: usize,
    chunk: usize,
    threads: Option<usize>,
    progress: Option<&Bound<'_, PyAny>>,
    mut work: impl FnMut(std::ops::Range<usize>) -> Vec<R> + Send,
) -> PyResult<Vec<R>> {
    if chunk == 0 {
        return Err(Error::ZeroChunk.into());
    }
    let pool = thread_pool(threads)?;
    let mut out = Vec::with_capacity(total);
    let mut done = 0;
    while done < total {
        let end = (done + chunk).min(total);
        let part = py.detach(|| install(&pool, || work(done..end)));
        out.extend(part);
        done = end;
        if let Some(cb) = progress {
            cb.call1((done, total))?;
        }
        py.check_signals()?;
    }
    Ok(out)
}

fn pool_threads(threads: Option<usize>) -> usize {
    threads.unwrap_or_else(rayon::current_num_threads)
}

/// One search of `graph`, in parallel where it gains (see `nearest` below).
fn search_one(graph: &PyGraph, query: &Query, threads: Option<usize>) -> NearestResult {
    let g = &graph.inner;
    // Lock-step threads on a memory-bound search gain little past a handful: by
    // default at most DEFAULT_SEARCH_THREADS, more only when asked for.
    let threads =
        threads.unwrap_or_else(|| rayon::current_num_threads().min(DEFAULT_SEARCH_THREADS));
    // A concurrent search on the same graph (another Python thread) gets fresh memory.
    match graph.scratch.try_lock() {
        Ok(mut scratch) => nearest_with(g, query, threads, &mut scratch),
        Err(_) => nearest_with(g, query, threads, &mut SearchScratch::new()),
    }
}

/// One multi-source search; full per-node arrays `(time_s, source, length_m)`. Large
/// graphs are searched on `threads` threads (default: the rayon pool's size).
#[pyfunction]
#[pyo3(signature = (graph, sources, offsets = None, cutoff = None, threads = None))]
#[allow(clippy::type_complexity)]
pub(super) fn nearest<'py>(
    py: Python<'py>,
    graph: &PyGraph,
    sources: PyReadonlyArray1<'py, i64>,
    offsets: Option<PyReadonlyArray1<'py, f64>>,
    cutoff: Option<f64>,
    threads: Option<usize>,
) -> PyResult<(Array1<'py, f64>, Array1<'py, i32>, Array1<'py, f64>)> {
    let sources = sources.as_slice()?;
    let offsets = match &offsets {
        Some(o) => Some(o.as_slice()?),
        None => None,
    };
    let cutoff = cutoff_or_inf(cutoff);
    validate_query(graph.inner.num_nodes(), sources, offsets, cutoff)?;
    let src: Vec<u32> = sources.iter().map(|&s| s as u32).collect();
    let r = py.detach(|| {
        let query = Query {
            sources: &src,
            offsets,
            cutoff,
        };
        search_one(graph, &query, threads)
    });
    let source: Vec<i32> = r.source.into_iter().map(source_to_i32).collect();
    Ok((
        r.time.into_pyarray(py),
        source.into_pyarray(py),
        r.length.into_pyarray(py),
    ))
}

/// The reached nodes of many searches as one CSR `(indptr, node, time, length, source)`.
#[allow(clippy::type_complexity)]
fn concat_sparse<'py>(
    py: Python<'py>,
    parts: Vec<SparseSearch>,
) -> (
    Array1<'py, i64>,
    Array1<'py, i64>,
    Array1<'py, f64>,
    Array1<'py, f64>,
    Array1<'py, i32>,
) {
    let total: usize = parts.iter().map(|p| p.node.len()).sum();
    let mut indptr = Vec::with_capacity(parts.len() + 1);
    indptr.push(0i64);
    let (mut node, mut time, mut length, mut source) = (
        Vec::with_capacity(total),
        Vec::with_capacity(total),
        Vec::with_capacity(total),
        Vec::with_capacity(total),
    );
    for p in parts {
        node.extend(p.node.iter().map(|&v| v as i64));
        time.extend_from_slice(&p.time);
        length.extend_from_slice(&p.length);
        source.extend(p.source.iter().map(|&s| source_to_i32(s)));
        indptr.push(node.len() as i64);
    }
    (
        indptr.into_pyarray(py),
        node.into_pyarray(py),
        time.into_pyarray(py),
        length.into_pyarray(py),
        source.into_pyarray(py),
    )
}

/// `S` independent searches; reached nodes (optionally only `targets`) as CSR arrays
/// `(indptr, node, time_s, length_m, source)`.
#[pyfunction]
#[pyo3(signature = (graph, set_indptr, set_nodes, set_offsets = None, cutoff = None,
                    targets = None, threads = None, chunk = 256, progress = None))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub(super) fn sparse_batch<'py>(
    py: Python<'py>,
    graph: &PyGraph,
    set_indptr: PyReadonlyArray1<'py, i64>,
    set_nodes: PyReadonlyArray1<'py, i64>,
    set_offsets: Option<PyReadonlyArray1<'py, f64>>,
    cutoff: Option<f64>,
    targets: Option<PyReadonlyArray1<'py, bool>>,
    threads: Option<usize>,
    chunk: usize,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<(
    Array1<'py, i64>,
    Array1<'py, i64>,
    Array1<'py, f64>,
    Array1<'py, f64>,
    Array1<'py, i32>,
)> {
    let g = graph.inner.clone();
    let cutoff = cutoff_or_inf(cutoff);
    let sets = sets_from_numpy(&g, &set_indptr, &set_nodes, set_offsets.as_ref(), cutoff)?;
    let targets = match &targets {
        Some(t) => {
            check_target_count(t.len(), g.num_nodes())?;
            Some(t.as_slice()?)
        }
        None => None,
    };
    let pool = WorkspacePool::new(g.num_nodes(), pool_threads(threads));
    let view = sets.view();
    let parts = run_chunked(py, view.len(), chunk, threads, progress.as_ref(), |r| {
        sparse_searches(&g, &pool, &view, r, cutoff, targets)
    })?;
    Ok(concat_sparse(py, parts))
}

/// Band histograms of many searches stacked as `(counts[S, bins, cols],
/// unreachable[S, cols], time_sum[S, cols], length_sum[S, cols])`.
#[allow(clippy::type_complexity)]
fn stack_histograms<'py>(
    py: Python<'py>,
    hists: Vec<BandHistogram>,
    bins: usize,
    columns: usize,
) -> PyResult<(
    Bound<'py, PyArray3<f64>>,
    Array2<'py, f64>,
    Array2<'py, f64>,
    Array2<'py, f64>,
)> {
    let s = hists.len();
    let mut counts = Vec::with_capacity(s * bins * columns);
    let mut unreachable = Vec::with_capacity(s * columns);
    let mut time_sum = Vec::with_capacity(s * columns);
    let mut length_sum = Vec::with_capacity(s * columns);
    for h in hists {
        counts.extend_from_slice(&h.counts);
        unreachable.extend_from_slice(&h.unreachable);
        time_sum.extend_from_slice(&h.time_sum);
        length_sum.extend_from_slice(&h.length_sum);
    }
    Ok((
        counts.into_pyarray(py).reshape([s, bins, columns])?,
        unreachable.into_pyarray(py).reshape([s, columns])?,
        time_sum.into_pyarray(py).reshape([s, columns])?,
        length_sum.into_pyarray(py).reshape([s, columns])?,
    ))
}

/// `S` independent searches reduced to weighted band histograms:
/// `(counts[S, bins, cols], unreachable[S, cols], time_sum[S, cols], length_sum[S, cols])`.
#[pyfunction]
#[pyo3(signature = (graph, set_indptr, set_nodes, weights, edges, set_offsets = None,
                    cutoff = None, threads = None, chunk = 64, progress = None))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub(super) fn histogram_batch<'py>(
    py: Python<'py>,
    graph: &PyGraph,
    set_indptr: PyReadonlyArray1<'py, i64>,
    set_nodes: PyReadonlyArray1<'py, i64>,
    weights: PyReadonlyArray2<'py, f64>,
    edges: PyReadonlyArray1<'py, f64>,
    set_offsets: Option<PyReadonlyArray1<'py, f64>>,
    cutoff: Option<f64>,
    threads: Option<usize>,
    chunk: usize,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<(
    Bound<'py, PyArray3<f64>>,
    Array2<'py, f64>,
    Array2<'py, f64>,
    Array2<'py, f64>,
)> {
    let g = graph.inner.clone();
    let cutoff = cutoff_or_inf(cutoff);
    let sets = sets_from_numpy(&g, &set_indptr, &set_nodes, set_offsets.as_ref(), cutoff)?;
    let columns = weights.shape()[1];
    let w = weights.as_slice()?;
    validate_weights(w, columns, g.num_nodes())?;
    let edges = edges.as_slice()?;
    validate_edges(edges)?;
    let pool = WorkspacePool::new(g.num_nodes(), pool_threads(threads));
    let view = sets.view();
    let spec = HistogramSpec {
        weights: w,
        columns,
        edges,
    };
    let hists = run_chunked(py, view.len(), chunk, threads, progress.as_ref(), |r| {
        histogram_searches(&g, &pool, &view, r, cutoff, spec)
    })?;
    stack_histograms(py, hists, edges.len(), columns)
}

/// The edge-scan bound (see `scan.rs`): one label-update pass over all arcs.
#[pyfunction]
pub(super) fn edge_scan(
    py: Python<'_>,
    graph: &PyGraph,
    sources: PyReadonlyArray1<'_, i64>,
) -> PyResult<f64> {
    let g = graph.inner.clone();
    let sources = sources.as_slice()?;
    validate_query(g.num_nodes(), sources, None, f64::INFINITY)?;
    let src: Vec<u32> = sources.iter().map(|&s| s as u32).collect();
    Ok(py.detach(|| crate::scan::edge_scan(&g, &src)))
}

/// Threads evicted from parallel searches so far in this process (a diagnostic for the
/// contention benchmark: it stays at zero on a quiet machine).
#[pyfunction]
pub(super) fn _parallel_evictions() -> usize {
    parallel_evictions()
}
