//! UTM projection (WGS84) of points, segment points and edge points: the bindings of
//! `crate::projection`. Arrays must be contiguous float64 / int64; the work runs on
//! rayon's threads with the GIL released. `inplace=True` writes the results over the
//! first input arrays (which must then be writeable) and returns them: national graphs
//! save two arrays per point.

use numpy::{IntoPyArray, PyArray1, PyArrayMethods, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::projection::{self, ProjectionError, Utm};

type Array1<'py, T> = Bound<'py, PyArray1<T>>;
type Pair<'py> = (Array1<'py, f64>, Array1<'py, f64>);

fn to_py(e: ProjectionError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// Easting and northing (metres) in UTM zone `zone` (south: false northing 10,000 km)
/// of points in degrees; `inf` outside the projection's domain, as PROJ.
#[pyfunction]
#[pyo3(signature = (lon, lat, zone, south, inplace = false))]
pub(super) fn utm_forward<'py>(
    py: Python<'py>,
    lon: Array1<'py, f64>,
    lat: Array1<'py, f64>,
    zone: i64,
    south: bool,
    inplace: bool,
) -> PyResult<Pair<'py>> {
    let utm = Utm::new(zone, south).map_err(to_py)?;
    if inplace {
        {
            let (mut x, mut y) = (lon.try_readwrite()?, lat.try_readwrite()?);
            let (x, y) = (x.as_slice_mut()?, y.as_slice_mut()?);
            py.detach(|| projection::utm_forward_in_place(&utm, x, y))
                .map_err(to_py)?;
        }
        return Ok((lon, lat));
    }
    let (lon, lat) = (lon.try_readonly()?, lat.try_readonly()?);
    let (lon, lat) = (lon.as_slice()?, lat.as_slice()?);
    let (x, y) = py
        .detach(|| projection::utm_forward(&utm, lon, lat))
        .map_err(to_py)?;
    Ok((x.into_pyarray(py), y.into_pyarray(py)))
}

/// Points at `frac` along segments from (lon0, lat0) to (lon1, lat1), degrees: both
/// ends projected to UTM, then interpolated in the plane (`(x1 - x0) * frac + x0`).
#[pyfunction]
#[pyo3(signature = (lon0, lat0, lon1, lat1, frac, zone, south, inplace = false))]
#[allow(clippy::too_many_arguments)]
pub(super) fn utm_segment_points<'py>(
    py: Python<'py>,
    lon0: Array1<'py, f64>,
    lat0: Array1<'py, f64>,
    lon1: PyReadonlyArray1<'py, f64>,
    lat1: PyReadonlyArray1<'py, f64>,
    frac: PyReadonlyArray1<'py, f64>,
    zone: i64,
    south: bool,
    inplace: bool,
) -> PyResult<Pair<'py>> {
    let utm = Utm::new(zone, south).map_err(to_py)?;
    let (lon1, lat1, frac) = (lon1.as_slice()?, lat1.as_slice()?, frac.as_slice()?);
    if inplace {
        {
            let (mut x, mut y) = (lon0.try_readwrite()?, lat0.try_readwrite()?);
            let (x, y) = (x.as_slice_mut()?, y.as_slice_mut()?);
            py.detach(|| projection::segment_points_in_place(&utm, x, y, lon1, lat1, frac))
                .map_err(to_py)?;
        }
        return Ok((lon0, lat0));
    }
    let (lon0, lat0) = (lon0.try_readonly()?, lat0.try_readonly()?);
    let (lon0, lat0) = (lon0.as_slice()?, lat0.as_slice()?);
    let (x, y) = py
        .detach(|| projection::segment_points(&utm, lon0, lat0, lon1, lat1, frac))
        .map_err(to_py)?;
    Ok((x.into_pyarray(py), y.into_pyarray(py)))
}

/// Points at `frac` along edges `tail -> head` between (projected) nodes `x, y`:
/// `(x[head] - x[tail]) * frac + x[tail]`, without gathered temporaries.
#[pyfunction]
pub(super) fn edge_points<'py>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, f64>,
    y: PyReadonlyArray1<'py, f64>,
    tail: PyReadonlyArray1<'py, i64>,
    head: PyReadonlyArray1<'py, i64>,
    frac: PyReadonlyArray1<'py, f64>,
) -> PyResult<Pair<'py>> {
    let (x, y) = (x.as_slice()?, y.as_slice()?);
    let (tail, head, frac) = (tail.as_slice()?, head.as_slice()?, frac.as_slice()?);
    let (mx, my) = py
        .detach(|| projection::edge_points(x, y, tail, head, frac))
        .map_err(to_py)?;
    Ok((mx.into_pyarray(py), my.into_pyarray(py)))
}
