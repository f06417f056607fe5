//! Python bindings (`hexaccess._core`). Only argument conversion, GIL handling and the
//! mapping of core errors to Python live here; every algorithm and every input check is
//! in the plain-Rust modules. By topic: `graph.rs` (the `Graph` class), `search.rs` (one
//! search, batches, the edge scan), `h3.rs` (cells and the hexagon graph), `evaluate.rs`
//! (office networks). The Python-visible contract is `python/hexaccess/_core.pyi`.

mod evaluate;
mod graph;
mod h3;
mod osm;
mod project;
mod search;
mod transit;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::error::Error;

/// The one place where core errors become Python exceptions: every check of the core is
/// about the caller's input, so each becomes a `ValueError` carrying the core's message
/// (the Python layer re-raises it as its area's `InputError` where it adds context).
impl From<Error> for PyErr {
    fn from(error: Error) -> PyErr {
        PyValueError::new_err(error.to_string())
    }
}

/// A rayon pool with `threads` workers, or the global pool when `threads` is None.
fn thread_pool(threads: Option<usize>) -> Result<Option<rayon::ThreadPool>, Error> {
    match threads {
        None => Ok(None),
        Some(0) => Err(Error::ZeroThreads),
        Some(t) => rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .map(Some)
            .map_err(|e| Error::ThreadPool(e.to_string())),
    }
}

/// Run `f` in `pool`, or in the global pool when there is none.
fn install<R: Send>(pool: &Option<rayon::ThreadPool>, f: impl FnOnce() -> R + Send) -> R {
    match pool {
        Some(p) => p.install(f),
        None => f(),
    }
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("PARALLEL_MIN_NODES", crate::search::MIN_PARALLEL_NODES)?;
    m.add_class::<graph::PyGraph>()?;
    m.add_function(wrap_pyfunction!(search::nearest, m)?)?;
    m.add_function(wrap_pyfunction!(search::sparse_batch, m)?)?;
    m.add_function(wrap_pyfunction!(search::histogram_batch, m)?)?;
    m.add_function(wrap_pyfunction!(search::_parallel_evictions, m)?)?;
    m.add_function(wrap_pyfunction!(search::edge_scan, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate::evaluate_networks, m)?)?;
    m.add_function(wrap_pyfunction!(h3::latlng_to_cells, m)?)?;
    m.add_function(wrap_pyfunction!(h3::cell_centers, m)?)?;
    m.add_function(wrap_pyfunction!(h3::hex_graph, m)?)?;
    m.add_function(wrap_pyfunction!(h3::hex_edges, m)?)?;
    m.add_function(wrap_pyfunction!(h3::cell_nodes, m)?)?;
    m.add_function(wrap_pyfunction!(h3::cell_children, m)?)?;
    m.add_function(wrap_pyfunction!(h3::cell_boundaries, m)?)?;
    m.add_function(wrap_pyfunction!(h3::dissolve_cells, m)?)?;
    m.add_function(wrap_pyfunction!(h3::cell_wkb, m)?)?;
    m.add_function(wrap_pyfunction!(osm::osm_read_pbf, m)?)?;
    m.add_function(wrap_pyfunction!(osm::osm_write_pbf, m)?)?;
    m.add_function(wrap_pyfunction!(project::utm_forward, m)?)?;
    m.add_function(wrap_pyfunction!(project::utm_segment_points, m)?)?;
    m.add_function(wrap_pyfunction!(project::edge_points, m)?)?;
    m.add_class::<transit::PyTransitProfiles>()?;
    Ok(())
}
