//! Python bindings (`hexaccess._core`). Only argument conversion, validation messages and
//! GIL handling live here; every algorithm is in the plain-Rust modules.

use std::sync::{Arc, Mutex};

use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArray3, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::batch::{histogram_searches, sparse_searches, HistogramSpec, SourceSets, WorkspacePool};
use crate::graph::Graph;
use crate::histogram::{validate_edges, validate_weights};
use crate::parallel_search::{nearest_with, SearchScratch};
use crate::search::{validate_query, Query, NO_SOURCE};

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// The immutable CSR graph, shared (not copied) by every search and thread.
#[pyclass(name = "Graph", module = "hexaccess._core", frozen)]
struct PyGraph {
    inner: Arc<Graph>,
    /// Label memory of the last large single search, reused by the next one.
    scratch: Mutex<SearchScratch>,
}

impl PyGraph {
    fn wrap(graph: Graph) -> Self {
        PyGraph {
            inner: Arc::new(graph),
            scratch: Mutex::new(SearchScratch::new()),
        }
    }
}

#[pymethods]
impl PyGraph {
    #[new]
    #[pyo3(signature = (num_nodes, tail, head, time_s, length_m, bidirectional = false))]
    fn new(
        py: Python<'_>,
        num_nodes: i64,
        tail: PyReadonlyArray1<'_, i64>,
        head: PyReadonlyArray1<'_, i64>,
        time_s: PyReadonlyArray1<'_, f64>,
        length_m: PyReadonlyArray1<'_, f64>,
        bidirectional: bool,
    ) -> PyResult<Self> {
        let (tail, head) = (tail.as_slice()?, head.as_slice()?);
        let (time, length) = (time_s.as_slice()?, length_m.as_slice()?);
        let graph = py
            .detach(|| Graph::from_edges(num_nodes, tail, head, time, length, bidirectional))
            .map_err(value_error)?;
        Ok(PyGraph::wrap(graph))
    }

    #[getter]
    fn num_nodes(&self) -> usize {
        self.inner.num_nodes()
    }

    #[getter]
    fn num_arcs(&self) -> usize {
        self.inner.num_arcs()
    }

    #[getter]
    fn memory_bytes(&self) -> usize {
        self.inner.memory_bytes()
    }

    /// `(indptr int64, head int64, time_s float64, length_m float64)` copies of the CSR.
    #[allow(clippy::type_complexity)]
    fn csr<'py>(
        &self,
        py: Python<'py>,
    ) -> (
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
    ) {
        let g = &self.inner;
        let indptr: Vec<i64> = g.first_out().iter().map(|&x| x as i64).collect();
        let head: Vec<i64> = g.arcs().iter().map(|a| a.head as i64).collect();
        let time: Vec<f64> = g.arcs().iter().map(|a| a.time).collect();
        let length: Vec<f64> = g.arcs().iter().map(|a| a.length).collect();
        (
            indptr.into_pyarray(py),
            head.into_pyarray(py),
            time.into_pyarray(py),
            length.into_pyarray(py),
        )
    }

    fn __repr__(&self) -> String {
        format!(
            "hexaccess._core.Graph(num_nodes={}, num_arcs={})",
            self.inner.num_nodes(),
            self.inner.num_arcs()
        )
    }
}

/// Source sets checked and converted to the core's types.
struct OwnedSets {
    indptr: Vec<usize>,
    nodes: Vec<u32>,
    offsets: Option<Vec<f64>>,
}

impl OwnedSets {
    fn view(&self) -> SourceSets<'_> {
        SourceSets {
            indptr: &self.indptr,
            nodes: &self.nodes,
            offsets: self.offsets.as_deref(),
        }
    }
}

fn check_sets(
    num_nodes: usize,
    indptr: &[i64],
    nodes: &[i64],
    offsets: Option<&[f64]>,
    cutoff: f64,
) -> Result<OwnedSets, String> {
    if indptr.is_empty() || indptr[0] != 0 || indptr[indptr.len() - 1] != nodes.len() as i64 {
        return Err(format!(
            "source-set indptr must start at 0 and end at the number of source nodes ({}); \
             got {} entries",
            nodes.len(),
            indptr.len()
        ));
    }
    if let Some(o) = offsets {
        if o.len() != nodes.len() {
            return Err(format!(
                "got {} start offsets for {} sources; give one offset per source",
                o.len(),
                nodes.len()
            ));
        }
    }
    // Check the whole indptr before slicing anything with it.
    for i in 0..indptr.len() - 1 {
        let (a, b) = (indptr[i], indptr[i + 1]);
        if b < a {
            return Err(format!(
                "source-set indptr decreases at set {i} ({a} > {b})"
            ));
        }
    }
    for i in 0..indptr.len() - 1 {
        let r = indptr[i] as usize..indptr[i + 1] as usize;
        validate_query(num_nodes, &nodes[r.clone()], offsets.map(|o| &o[r]), cutoff)
            .map_err(|e| format!("source set {i}: {e}"))?;
    }
    Ok(OwnedSets {
        indptr: indptr.iter().map(|&x| x as usize).collect(),
        nodes: nodes.iter().map(|&x| x as u32).collect(),
        offsets: offsets.map(|o| o.to_vec()),
    })
}

/// Source sets from the numpy arrays of a batch call, checked against the graph.
fn sets_from_numpy(
    g: &Graph,
    set_indptr: &PyReadonlyArray1<'_, i64>,
    set_nodes: &PyReadonlyArray1<'_, i64>,
    set_offsets: Option<&PyReadonlyArray1<'_, f64>>,
    cutoff: f64,
) -> PyResult<OwnedSets> {
    let offsets = match set_offsets {
        Some(o) => Some(o.as_slice()?),
        None => None,
    };
    check_sets(
        g.num_nodes(),
        set_indptr.as_slice()?,
        set_nodes.as_slice()?,
        offsets,
        cutoff,
    )
    .map_err(value_error)
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

/// A rayon pool with `threads` workers, or the global pool when `threads` is None.
fn thread_pool(threads: Option<usize>) -> PyResult<Option<rayon::ThreadPool>> {
    match threads {
        None => Ok(None),
        Some(0) => Err(PyValueError::new_err(
            "threads must be >= 1 (or None for all cores)",
        )),
        Some(t) => rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .map(Some)
            .map_err(value_error),
    }
}

fn install<R: Send>(pool: &Option<rayon::ThreadPool>, f: impl FnOnce() -> R + Send) -> R {
    match pool {
        Some(p) => p.install(f),
        None => f(),
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
        return Err(PyValueError::new_err("chunk must be >= 1"));
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

/// One multi-source search; full per-node arrays `(time_s, source, length_m)`. Large
/// graphs are searched on `threads` threads (default: the rayon pool's size).
#[pyfunction]
#[pyo3(signature = (graph, sources, offsets = None, cutoff = None, threads = None))]
#[allow(clippy::type_complexity)]
fn nearest<'py>(
    py: Python<'py>,
    graph: &PyGraph,
    sources: PyReadonlyArray1<'py, i64>,
    offsets: Option<PyReadonlyArray1<'py, f64>>,
    cutoff: Option<f64>,
    threads: Option<usize>,
) -> PyResult<(
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<i32>>,
    Bound<'py, PyArray1<f64>>,
)> {
    let g = graph.inner.clone();
    let sources = sources.as_slice()?;
    let offsets = match &offsets {
        Some(o) => Some(o.as_slice()?),
        None => None,
    };
    let cutoff = cutoff_or_inf(cutoff);
    validate_query(g.num_nodes(), sources, offsets, cutoff).map_err(value_error)?;
    let src: Vec<u32> = sources.iter().map(|&s| s as u32).collect();
    let r = py.detach(|| {
        let query = Query {
            sources: &src,
            offsets,
            cutoff,
        };
        // Lock-step threads on a memory-bound search gain little past a handful: by
        // default at most DEFAULT_SEARCH_THREADS, more only when asked for.
        let threads = threads.unwrap_or_else(|| {
            rayon::current_num_threads().min(crate::parallel_search::DEFAULT_SEARCH_THREADS)
        });
        // A concurrent search on the same graph (another Python thread) gets fresh memory.
        let parallel = match graph.scratch.try_lock() {
            Ok(mut scratch) => nearest_with(&g, &query, threads, &mut scratch),
            Err(_) => nearest_with(&g, &query, threads, &mut SearchScratch::new()),
        };
        parallel.unwrap_or_else(|| crate::search::nearest_sequential(&g, &query))
    });
    let source: Vec<i32> = r.source.into_iter().map(source_to_i32).collect();
    Ok((
        r.time.into_pyarray(py),
        source.into_pyarray(py),
        r.length.into_pyarray(py),
    ))
}

/// `S` independent searches; reached nodes (optionally only `targets`) as CSR arrays
/// `(indptr, node, time_s, length_m, source)`.
#[pyfunction]
#[pyo3(signature = (graph, set_indptr, set_nodes, set_offsets = None, cutoff = None,
                    targets = None, threads = None, chunk = 256, progress = None))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn sparse_batch<'py>(
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
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<i32>>,
)> {
    let g = graph.inner.clone();
    let cutoff = cutoff_or_inf(cutoff);
    let sets = sets_from_numpy(&g, &set_indptr, &set_nodes, set_offsets.as_ref(), cutoff)?;
    let targets = match &targets {
        Some(t) => {
            if t.len() != g.num_nodes() {
                return Err(PyValueError::new_err(format!(
                    "targets mask has {} entries but the graph has {} nodes",
                    t.len(),
                    g.num_nodes()
                )));
            }
            Some(t.as_slice()?)
        }
        None => None,
    };
    let pool = WorkspacePool::new(g.num_nodes(), pool_threads(threads));
    let view = sets.view();
    let parts = run_chunked(py, view.len(), chunk, threads, progress.as_ref(), |r| {
        sparse_searches(&g, &pool, &view, r, cutoff, targets)
    })?;
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
    Ok((
        indptr.into_pyarray(py),
        node.into_pyarray(py),
        time.into_pyarray(py),
        length.into_pyarray(py),
        source.into_pyarray(py),
    ))
}

/// `S` independent searches reduced to weighted band histograms:
/// `(counts[S, bins, cols], unreachable[S, cols], time_sum[S, cols], length_sum[S, cols])`.
#[pyfunction]
#[pyo3(signature = (graph, set_indptr, set_nodes, weights, edges, set_offsets = None,
                    cutoff = None, threads = None, chunk = 64, progress = None))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn histogram_batch<'py>(
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
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
)> {
    let g = graph.inner.clone();
    let cutoff = cutoff_or_inf(cutoff);
    let sets = sets_from_numpy(&g, &set_indptr, &set_nodes, set_offsets.as_ref(), cutoff)?;
    let columns = weights.shape()[1];
    let w = weights.as_slice()?;
    validate_weights(w, columns, g.num_nodes()).map_err(value_error)?;
    let edges = edges.as_slice()?;
    validate_edges(edges).map_err(value_error)?;
    let pool = WorkspacePool::new(g.num_nodes(), pool_threads(threads));
    let view = sets.view();
    let hists = run_chunked(py, view.len(), chunk, threads, progress.as_ref(), |r| {
        histogram_searches(
            &g,
            &pool,
            &view,
            r,
            cutoff,
            HistogramSpec {
                weights: w,
                columns,
                edges,
            },
        )
    })?;
    let s = hists.len();
    let bins = edges.len();
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

/// The edge-scan bound (see `scan.rs`): one label-update pass over all arcs.
#[pyfunction]
fn edge_scan(py: Python<'_>, graph: &PyGraph, sources: PyReadonlyArray1<'_, i64>) -> PyResult<f64> {
    let g = graph.inner.clone();
    let sources = sources.as_slice()?;
    validate_query(g.num_nodes(), sources, None, f64::INFINITY).map_err(value_error)?;
    let src: Vec<u32> = sources.iter().map(|&s| s as u32).collect();
    Ok(py.detach(|| crate::scan::edge_scan(&g, &src)))
}

/// H3 cells (uint64) of points given in degrees.
#[pyfunction]
fn latlng_to_cells<'py>(
    py: Python<'py>,
    lat: PyReadonlyArray1<'py, f64>,
    lng: PyReadonlyArray1<'py, f64>,
    resolution: u8,
) -> PyResult<Bound<'py, PyArray1<u64>>> {
    let (lat, lng) = (lat.as_slice()?, lng.as_slice()?);
    if lat.len() != lng.len() {
        return Err(PyValueError::new_err("lat and lng must have equal length"));
    }
    let cells = py
        .detach(|| crate::h3grid::latlng_to_cells(lat, lng, resolution))
        .map_err(PyValueError::new_err)?;
    Ok(cells.into_pyarray(py))
}

/// Centres `(lat, lng)` in degrees of H3 cells.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn cell_centers<'py>(
    py: Python<'py>,
    cells: PyReadonlyArray1<'py, u64>,
) -> PyResult<(Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>)> {
    let cells = cells.as_slice()?;
    let (lat, lng) = py
        .detach(|| crate::h3grid::cell_centers(cells))
        .map_err(PyValueError::new_err)?;
    Ok((lat.into_pyarray(py), lng.into_pyarray(py)))
}

/// Hexagon friction graph from sorted unique H3 cells and a speed (km/h) per cell
/// (`<= 0` or NaN: impassable). Built and stored in Rust: no edge arrays cross into
/// Python, which keeps national graphs (millions of cells) within memory.
#[pyfunction]
fn hex_graph(
    py: Python<'_>,
    cells: PyReadonlyArray1<'_, u64>,
    speed_kmh: PyReadonlyArray1<'_, f64>,
) -> PyResult<PyGraph> {
    let (cells, speed) = (cells.as_slice()?, speed_kmh.as_slice()?);
    let graph = py
        .detach(|| crate::hexgraph::hex_graph(cells, speed))
        .map_err(value_error)?;
    Ok(PyGraph::wrap(graph))
}

/// The undirected edge rows `(tail, head, time_s, length_m)` of a hexagon friction graph
/// (for inspection and tests; `hex_graph` builds the graph without them).
#[pyfunction]
#[allow(clippy::type_complexity)]
fn hex_edges<'py>(
    py: Python<'py>,
    cells: PyReadonlyArray1<'py, u64>,
    speed_kmh: PyReadonlyArray1<'py, f64>,
) -> PyResult<(
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
)> {
    let (cells, speed) = (cells.as_slice()?, speed_kmh.as_slice()?);
    let e = py
        .detach(|| crate::hexgraph::hex_edges(cells, speed))
        .map_err(value_error)?;
    Ok((
        e.tail.into_pyarray(py),
        e.head.into_pyarray(py),
        e.time.into_pyarray(py),
        e.length.into_pyarray(py),
    ))
}

/// Node id of each query cell in the sorted cell array (-1 when absent).
#[pyfunction]
fn cell_nodes<'py>(
    py: Python<'py>,
    cells: PyReadonlyArray1<'py, u64>,
    query: PyReadonlyArray1<'py, u64>,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let (cells, query) = (cells.as_slice()?, query.as_slice()?);
    let out = py.detach(|| crate::hexgraph::cell_nodes(cells, query));
    Ok(out.into_pyarray(py))
}

/// All children at `resolution` of each cell (uint64), concatenated in input order.
#[pyfunction]
fn cell_children<'py>(
    py: Python<'py>,
    cells: PyReadonlyArray1<'py, u64>,
    resolution: u8,
) -> PyResult<Bound<'py, PyArray1<u64>>> {
    let cells = cells.as_slice()?;
    let out = py
        .detach(|| crate::h3grid::cell_children(cells, resolution))
        .map_err(PyValueError::new_err)?;
    Ok(out.into_pyarray(py))
}

/// Band histograms of many office networks from a coverage matrix stored by cell:
/// `(counts[S, bands], beyond[S], time_units_sum[S], distance_sum[S])`.
#[pyfunction]
#[pyo3(signature = (indptr, candidate, time, distance, weights, nptr, members, band_of_unit,
                    num_candidates, threads = None))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn evaluate_networks<'py>(
    py: Python<'py>,
    indptr: PyReadonlyArray1<'py, i64>,
    candidate: PyReadonlyArray1<'py, i32>,
    time: PyReadonlyArray1<'py, u16>,
    distance: PyReadonlyArray1<'py, f32>,
    weights: PyReadonlyArray1<'py, f64>,
    nptr: PyReadonlyArray1<'py, i64>,
    members: PyReadonlyArray1<'py, i64>,
    band_of_unit: PyReadonlyArray1<'py, i64>,
    num_candidates: usize,
    threads: Option<usize>,
) -> PyResult<(
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
)> {
    let m = crate::evaluate::ByCell {
        indptr: indptr.as_slice()?,
        candidate: candidate.as_slice()?,
        time: time.as_slice()?,
        distance: distance.as_slice()?,
    };
    let (w, nptr, members, lut) = (
        weights.as_slice()?,
        nptr.as_slice()?,
        members.as_slice()?,
        band_of_unit.as_slice()?,
    );
    // The Python wrapper validates shapes and ranges; guard the invariants that would
    // otherwise index out of bounds.
    let csr_ok = |ptr: &[i64], len: usize| {
        ptr.first() == Some(&0)
            && ptr.windows(2).all(|p| p[0] <= p[1])
            && ptr.last().is_some_and(|&e| e as usize == len)
    };
    let bad = m.indptr.len() != w.len() + 1
        || !csr_ok(m.indptr, m.candidate.len())
        || !csr_ok(nptr, members.len())
        || m.candidate.len() != m.time.len()
        || m.time.len() != m.distance.len()
        || m.candidate
            .iter()
            .any(|&c| c < 0 || c as usize >= num_candidates)
        || m.time.iter().any(|&t| t as usize >= lut.len())
        || members
            .iter()
            .any(|&c| c < 0 || c as usize >= num_candidates);
    if bad {
        return Err(PyValueError::new_err(
            "inconsistent coverage matrix or network arrays (shapes, candidate ids or times)",
        ));
    }
    let pool = thread_pool(threads)?;
    let stats = py.detach(|| {
        install(&pool, || {
            crate::evaluate::evaluate(&m, w, nptr, members, lut, num_candidates)
        })
    });
    let s = stats.len();
    let bands = stats.first().map_or(1, |x| x.counts.len());
    let mut counts = Vec::with_capacity(s * bands);
    let (mut beyond, mut tsum, mut dsum) = (Vec::new(), Vec::new(), Vec::new());
    for x in stats {
        counts.extend_from_slice(&x.counts);
        beyond.push(x.beyond);
        tsum.push(x.time_sum);
        dsum.push(x.distance_sum);
    }
    Ok((
        counts.into_pyarray(py).reshape([s, bands])?,
        beyond.into_pyarray(py),
        tsum.into_pyarray(py),
        dsum.into_pyarray(py),
    ))
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "PARALLEL_MIN_NODES",
        crate::parallel_search::MIN_PARALLEL_NODES,
    )?;
    m.add_class::<PyGraph>()?;
    m.add_function(wrap_pyfunction!(nearest, m)?)?;
    m.add_function(wrap_pyfunction!(sparse_batch, m)?)?;
    m.add_function(wrap_pyfunction!(histogram_batch, m)?)?;
    m.add_function(wrap_pyfunction!(edge_scan, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate_networks, m)?)?;
    m.add_function(wrap_pyfunction!(latlng_to_cells, m)?)?;
    m.add_function(wrap_pyfunction!(cell_centers, m)?)?;
    m.add_function(wrap_pyfunction!(hex_graph, m)?)?;
    m.add_function(wrap_pyfunction!(hex_edges, m)?)?;
    m.add_function(wrap_pyfunction!(cell_nodes, m)?)?;
    m.add_function(wrap_pyfunction!(cell_children, m)?)?;
    Ok(())
}
