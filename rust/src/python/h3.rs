//! H3 cells (points to cells, centres, children) and the hexagon friction graph.

use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;

use super::graph::PyGraph;

type Array1<'py, T> = Bound<'py, PyArray1<T>>;

/// H3 cells (uint64) of points given in degrees.
#[pyfunction]
pub(super) fn latlng_to_cells<'py>(
    py: Python<'py>,
    lat: PyReadonlyArray1<'py, f64>,
    lng: PyReadonlyArray1<'py, f64>,
    resolution: u8,
) -> PyResult<Array1<'py, u64>> {
    let (lat, lng) = (lat.as_slice()?, lng.as_slice()?);
    let cells = py.detach(|| crate::h3::latlng_to_cells(lat, lng, resolution))?;
    Ok(cells.into_pyarray(py))
}

/// Centres `(lat, lng)` in degrees of H3 cells.
#[pyfunction]
pub(super) fn cell_centers<'py>(
    py: Python<'py>,
    cells: PyReadonlyArray1<'py, u64>,
) -> PyResult<(Array1<'py, f64>, Array1<'py, f64>)> {
    let cells = cells.as_slice()?;
    let (lat, lng) = py.detach(|| crate::h3::cell_centers(cells))?;
    Ok((lat.into_pyarray(py), lng.into_pyarray(py)))
}

/// Hexagon friction graph from sorted unique H3 cells and a speed (km/h) per cell
/// (`<= 0` or NaN: impassable). Built and stored in Rust: no edge arrays cross into
/// Python, which keeps national graphs (millions of cells) within memory.
#[pyfunction]
pub(super) fn hex_graph(
    py: Python<'_>,
    cells: PyReadonlyArray1<'_, u64>,
    speed_kmh: PyReadonlyArray1<'_, f64>,
) -> PyResult<PyGraph> {
    let (cells, speed) = (cells.as_slice()?, speed_kmh.as_slice()?);
    let graph = py.detach(|| crate::h3::hex_graph(cells, speed))?;
    Ok(PyGraph::wrap(graph))
}

/// The undirected edge rows `(tail, head, time_s, length_m)` of a hexagon friction graph
/// (for inspection and tests; `hex_graph` builds the graph without them).
#[pyfunction]
#[allow(clippy::type_complexity)]
pub(super) fn hex_edges<'py>(
    py: Python<'py>,
    cells: PyReadonlyArray1<'py, u64>,
    speed_kmh: PyReadonlyArray1<'py, f64>,
) -> PyResult<(
    Array1<'py, i64>,
    Array1<'py, i64>,
    Array1<'py, f64>,
    Array1<'py, f64>,
)> {
    let (cells, speed) = (cells.as_slice()?, speed_kmh.as_slice()?);
    let e = py.detach(|| crate::h3::hex_edges(cells, speed))?;
    Ok((
        e.tail.into_pyarray(py),
        e.head.into_pyarray(py),
        e.time.into_pyarray(py),
        e.length.into_pyarray(py),
    ))
}

/// Node id of each query cell in the sorted cell array (-1 when absent).
#[pyfunction]
pub(super) fn cell_nodes<'py>(
    py: Python<'py>,
    cells: PyReadonlyArray1<'py, u64>,
    query: PyReadonlyArray1<'py, u64>,
) -> PyResult<Array1<'py, i64>> {
    let (cells, query) = (cells.as_slice()?, query.as_slice()?);
    let out = py.detach(|| crate::h3::cell_nodes(cells, query));
    Ok(out.into_pyarray(py))
}

/// All children at `resolution` of each cell (uint64), concatenated in input order.
#[pyfunction]
pub(super) fn cell_children<'py>(
    py: Python<'py>,
    cells: PyReadonlyArray1<'py, u64>,
    resolution: u8,
) -> PyResult<Array1<'py, u64>> {
    let cells = cells.as_slice()?;
    let out = py.detach(|| crate::h3::cell_children(cells, resolution))?;
    Ok(out.into_pyarray(py))
}

/// Boundary rings of cells: `(coords, offsets)`, `coords` an `(m, 2)` array of
/// `(lng, lat)` degrees and cell `i`'s ring `coords[offsets[i]:offsets[i + 1]]` (not
/// closed; antimeridian crossings unwrapped past +180).
#[pyfunction]
pub(super) fn cell_boundaries<'py>(
    py: Python<'py>,
    cells: PyReadonlyArray1<'py, u64>,
) -> PyResult<(Bound<'py, PyArray2<f64>>, Array1<'py, i64>)> {
    let cells = cells.as_slice()?;
    let b = py.detach(|| crate::h3::cell_boundaries(cells))?;
    let rows = b.coords.len() / 2;
    let coords = b
        .coords
        .into_pyarray(py)
        .reshape([rows, 2])
        .expect("coords hold (lng, lat) pairs");
    Ok((coords, b.offsets.into_pyarray(py)))
}

/// The union of the cells of each group (`groups[i]` in `0..num_groups`, negative for
/// none) as MultiPolygon ragged arrays: `(coords, ring_offsets, polygon_offsets,
/// group_offsets)`, closed rings, `coords` an `(m, 2)` array of `(lng, lat)` degrees.
#[pyfunction]
#[allow(clippy::type_complexity)]
pub(super) fn dissolve_cells<'py>(
    py: Python<'py>,
    cells: PyReadonlyArray1<'py, u64>,
    groups: PyReadonlyArray1<'py, i64>,
    num_groups: usize,
) -> PyResult<(
    Bound<'py, PyArray2<f64>>,
    Array1<'py, i64>,
    Array1<'py, i64>,
    Array1<'py, i64>,
)> {
    let (cells, groups) = (cells.as_slice()?, groups.as_slice()?);
    let d = py.detach(|| crate::h3::dissolve_cells(cells, groups, num_groups))?;
    let rows = d.coords.len() / 2;
    let coords = d
        .coords
        .into_pyarray(py)
        .reshape([rows, 2])
        .expect("coords hold (lng, lat) pairs");
    Ok((
        coords,
        d.ring_offsets.into_pyarray(py),
        d.polygon_offsets.into_pyarray(py),
        d.group_offsets.into_pyarray(py),
    ))
}

/// Each cell's polygon as WKB: `(data, offsets, bbox)`, polygon `i` is
/// `data[offsets[i]:offsets[i + 1]]` (uint8 and int64 arrays, ready for Arrow), `bbox`
/// `(min lng, min lat, max lng, max lat)` of all vertices.
#[pyfunction]
#[allow(clippy::type_complexity)]
pub(super) fn cell_wkb<'py>(
    py: Python<'py>,
    cells: PyReadonlyArray1<'py, u64>,
) -> PyResult<(Array1<'py, u8>, Array1<'py, i64>, (f64, f64, f64, f64))> {
    let cells = cells.as_slice()?;
    let w = py.detach(|| crate::h3::cell_wkb(cells))?;
    let [x0, y0, x1, y1] = w.bbox;
    Ok((
        w.data.into_pyarray(py),
        w.offsets.into_pyarray(py),
        (x0, y0, x1, y1),
    ))
}
