//! Public transport: the `TransitProfiles` class (the backward profile search towards the
//! offices) and its per-cell evaluation over a departure window.

use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::{install, thread_pool};
use crate::transit::{
    evaluate_cells, profile_search, CellLegs, Profiles, Rules, Targets, Timetable, TransitError,
    Window, UNREACHED,
};

type I32<'py> = PyReadonlyArray1<'py, i32>;
type Out1<'py, T> = Bound<'py, PyArray1<T>>;

fn value_error(e: TransitError) -> PyErr {
    PyValueError::new_err(e.0)
}

/// Profiles of every stop towards the nearest office ("at stop s at τ → earliest office
/// arrival"), for 1..=max_rides vehicles.
#[pyclass(name = "TransitProfiles", module = "hexaccess._core", frozen)]
pub(super) struct PyTransitProfiles {
    inner: Profiles,
}

#[pymethods]
impl PyTransitProfiles {
    #[new]
    #[pyo3(signature = (num_stops, conn_dep_stop, conn_arr_stop, conn_dep_time, conn_arr_time,
                        conn_trip, conn_seq, foot_from, foot_to, foot_s, stop_transfer_s,
                        target_stop, target_office, target_walk_s, first_departure,
                        horizon = None, max_rides = 4, walk_first = false,
                        footpath_slack = true, threads = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        num_stops: usize,
        conn_dep_stop: I32<'_>,
        conn_arr_stop: I32<'_>,
        conn_dep_time: I32<'_>,
        conn_arr_time: I32<'_>,
        conn_trip: I32<'_>,
        conn_seq: I32<'_>,
        foot_from: I32<'_>,
        foot_to: I32<'_>,
        foot_s: I32<'_>,
        stop_transfer_s: I32<'_>,
        target_stop: I32<'_>,
        target_office: I32<'_>,
        target_walk_s: I32<'_>,
        first_departure: i32,
        horizon: Option<i32>,
        max_rides: usize,
        walk_first: bool,
        footpath_slack: bool,
        threads: Option<usize>,
    ) -> PyResult<Self> {
        let tt = Timetable {
            num_stops,
            dep_stop: conn_dep_stop.as_slice()?,
            arr_stop: conn_arr_stop.as_slice()?,
            dep_time: conn_dep_time.as_slice()?,
            arr_time: conn_arr_time.as_slice()?,
            trip: conn_trip.as_slice()?,
            seq: conn_seq.as_slice()?,
            foot_from: foot_from.as_slice()?,
            foot_to: foot_to.as_slice()?,
            foot_s: foot_s.as_slice()?,
            transfer_s: stop_transfer_s.as_slice()?,
        };
        let targets = Targets {
            stop: target_stop.as_slice()?,
            office: target_office.as_slice()?,
            walk_s: target_walk_s.as_slice()?,
        };
        let pool = thread_pool(threads)?;
        let inner = py
            .detach(|| {
                install(&pool, || {
                    let rules = Rules {
                        walk_first,
                        footpath_slack,
                    };
                    profile_search(&tt, &targets, first_departure, horizon, max_rides, rules)
                })
            })
            .map_err(value_error)?;
        Ok(PyTransitProfiles { inner })
    }

    #[getter]
    fn num_stops(&self) -> usize {
        self.inner.num_stops()
    }

    #[getter]
    fn max_rides(&self) -> usize {
        self.inner.max_rides()
    }

    #[getter]
    fn first_departure(&self) -> i32 {
        self.inner.first_departure()
    }

    #[getter]
    fn horizon(&self) -> Option<i32> {
        self.inner.horizon()
    }

    #[getter]
    fn scanned(&self) -> usize {
        self.inner.scanned()
    }

    #[getter]
    fn num_entries(&self) -> usize {
        self.inner.num_entries()
    }

    #[getter]
    fn memory_bytes(&self) -> usize {
        self.inner.memory_bytes()
    }

    /// `(arrival_s, office, rides)` at each `(stop[i], time_s[i])`: the earliest office
    /// arrival (inf if none), its office (-1) and the fewest rides reaching it (0).
    fn query<'py>(
        &self,
        py: Python<'py>,
        stop: I32<'py>,
        time_s: I32<'py>,
    ) -> PyResult<(Out1<'py, f64>, Out1<'py, i32>, Out1<'py, i32>)> {
        let (stop, time) = (stop.as_slice()?, time_s.as_slice()?);
        if stop.len() != time.len() {
            return Err(PyValueError::new_err(format!(
                "stop has {} entries but time_s has {}; give one time per stop",
                stop.len(),
                time.len()
            )));
        }
        let p = &self.inner;
        if let Some((i, &s)) = stop
            .iter()
            .enumerate()
            .find(|(_, &s)| s < 0 || s as usize >= p.num_stops())
        {
            return Err(PyValueError::new_err(format!(
                "stop[{i}] = {s} is not a stop ({} stops)",
                p.num_stops()
            )));
        }
        if let Some((i, &t)) = time
            .iter()
            .enumerate()
            .find(|(_, &t)| t < p.first_departure())
        {
            return Err(PyValueError::new_err(format!(
                "time_s[{i}] = {t} is before the profiles' first departure {}",
                p.first_departure()
            )));
        }
        let (mut arr, mut office, mut rides) = (Vec::new(), Vec::new(), Vec::new());
        py.detach(|| {
            for (&s, &t) in stop.iter().zip(time) {
                let (a, o, k) = p.query(s as usize, t);
                arr.push(if a == UNREACHED {
                    f64::INFINITY
                } else {
                    a as f64
                });
                office.push(o);
                rides.push(k as i32);
            }
        });
        Ok((
            arr.into_pyarray(py),
            office.into_pyarray(py),
            rides.into_pyarray(py),
        ))
    }

    /// Per cell over the departures `first_departure + j * step_s`, `j < num_departures`:
    /// `(min_s, median_s, percentiles_s[cells, P], office, transfers, median_departure,
    /// unreachable)`; see `hexaccess.transit.route`.
    #[pyo3(signature = (cell_ptr, cell_stop, cell_walk_s, walk_only_s, walk_only_office,
                        first_departure, num_departures, step_s = 60, max_time_s = None,
                        percentiles = None, threads = None))]
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn evaluate_cells<'py>(
        &self,
        py: Python<'py>,
        cell_ptr: PyReadonlyArray1<'py, i64>,
        cell_stop: I32<'py>,
        cell_walk_s: I32<'py>,
        walk_only_s: I32<'py>,
        walk_only_office: I32<'py>,
        first_departure: i32,
        num_departures: usize,
        step_s: i32,
        max_time_s: Option<i32>,
        percentiles: Option<PyReadonlyArray1<'py, f64>>,
        threads: Option<usize>,
    ) -> PyResult<(
        Out1<'py, f64>,
        Out1<'py, f64>,
        Bound<'py, PyArray2<f64>>,
        Out1<'py, i32>,
        Out1<'py, i32>,
        Out1<'py, i32>,
        Out1<'py, i32>,
    )> {
        let legs = CellLegs {
            ptr: cell_ptr.as_slice()?,
            stop: cell_stop.as_slice()?,
            walk_s: cell_walk_s.as_slice()?,
            walk_only_s: walk_only_s.as_slice()?,
            walk_only_office: walk_only_office.as_slice()?,
        };
        let window = Window {
            first_departure,
            num_departures,
            step_s,
            max_time_s,
        };
        let pct: Vec<f64> = match &percentiles {
            Some(p) => p.as_slice()?.to_vec(),
            None => vec![50.0],
        };
        let pool = thread_pool(threads)?;
        let p = &self.inner;
        let stats = py
            .detach(|| install(&pool, || evaluate_cells(p, &legs, &window, &pct)))
            .map_err(value_error)?;
        let cells = stats.min_s.len();
        Ok((
            stats.min_s.into_pyarray(py),
            stats.median_s.into_pyarray(py),
            stats
                .percentiles_s
                .into_pyarray(py)
                .reshape([cells, pct.len()])?,
            stats.office.into_pyarray(py),
            stats.transfers.into_pyarray(py),
            stats.median_departure.into_pyarray(py),
            stats.unreachable.into_pyarray(py),
        ))
    }
}
