//! The `Graph` class: the core's CSR graph behind an `Arc`, shared by every search.

use std::sync::{Arc, Mutex};

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::graph::Graph;
use crate::search::SearchScratch;

/// The immutable CSR graph, shared (not copied) by every search and thread.
#[pyclass(name = "Graph", module = "hexaccess._core", frozen)]
pub(super) struct PyGraph {
    pub(super) inner: Arc<Graph>,
    /// Label memory of the last large single search, reused by the next one.
    pub(super) scratch: Mutex<SearchScratch>,
}

impl PyGraph {
    pub(super) fn wrap(graph: Graph) -> Self {
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
        let graph =
            py.detach(|| Graph::from_edges(num_nodes, tail, head, time, length, bidirectional))?;
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
