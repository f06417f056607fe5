//! Office networks evaluated from a coverage matrix stored by cell.

use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;

use super::{install, thread_pool};
use crate::evaluate::{evaluate, validate_networks, ByCell, NetworkStats};

type Array1<'py, T> = Bound<'py, PyArray1<T>>;

/// Per-network stats stacked as `(counts[S, bands], beyond[S], time_sum[S], distance_sum[S])`.
#[allow(clippy::type_complexity)]
fn stack_stats<'py>(
    py: Python<'py>,
    stats: Vec<NetworkStats>,
) -> PyResult<(
    Bound<'py, PyArray2<f64>>,
    Array1<'py, f64>,
    Array1<'py, f64>,
    Array1<'py, f64>,
)> {
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

/// Band histograms of many office networks from a coverage matrix stored by cell:
/// `(counts[S, bands], beyond[S], time_units_sum[S], distance_sum[S])`.
#[pyfunction]
#[pyo3(signature = (indptr, candidate, time, distance, weights, nptr, members, band_of_unit,
                    num_candidates, threads = None))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub(super) fn evaluate_networks<'py>(
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
    Array1<'py, f64>,
    Array1<'py, f64>,
    Array1<'py, f64>,
)> {
    let m = ByCell {
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
    validate_networks(&m, w, nptr, members, lut, num_candidates)?;
    let pool = thread_pool(threads)?;
    let stats = py.detach(|| {
        install(&pool, || {
            evaluate(&m, w, nptr, members, lut, num_candidates)
        })
    });
    stack_stats(py, stats)
}
