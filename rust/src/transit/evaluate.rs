//! Per cell and departure minute: the travel time to the nearest office, reduced to the
//! minimum, R5's percentiles, and the office and transfers of the median journey.

use rayon::prelude::*;

use super::{err, Profiles, TransitError, UNREACHED};

/// Largest walk or departure time accepted: sums of two stay far below `UNREACHED`.
const MAX_SECONDS: i32 = 1_000_000_000;

/// Walking legs of every cell as CSR: cell `i` walks `walk_s[j]` seconds to stop
/// `stop[j]` for `j` in `ptr[i]..ptr[i + 1]`; `walk_only_s[i]` is its walk straight to
/// the nearest office (`-1`: none within reach) and `walk_only_office[i]` that office.
#[derive(Debug, Clone, Copy)]
pub struct CellLegs<'a> {
    pub ptr: &'a [i64],
    pub stop: &'a [i32],
    pub walk_s: &'a [i32],
    pub walk_only_s: &'a [i32],
    pub walk_only_office: &'a [i32],
}

/// Departures `first_departure + j * step_s` for `j < num_departures`; travel times over
/// `max_time_s` count as unreachable (None: no limit).
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub first_departure: i32,
    pub num_departures: usize,
    pub step_s: i32,
    pub max_time_s: Option<i32>,
}

/// Per cell results (times in seconds, `f64::INFINITY` when unreachable).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CellStats {
    pub min_s: Vec<f64>,
    /// Row-major `[cell, percentile]`.
    pub percentiles_s: Vec<f64>,
    pub median_s: Vec<f64>,
    /// The office reached by the median journey (`-1`: unreachable).
    pub office: Vec<i32>,
    /// Transfers of the median journey: rides - 1, `-1` for walking alone or unreachable.
    pub transfers: Vec<i32>,
    /// The departure time of the median journey (`-1`: empty window).
    pub median_departure: Vec<i32>,
    /// Departure minutes without a journey within `max_time_s`.
    pub unreachable: Vec<i32>,
}

/// R5's percentile index into `n` ascending values: `ceil(p / 100 · n) - 1`, clamped
/// to `[0, n - 1]` (numpy's `inverted_cdf`; no interpolation).
pub fn percentile_index(n: usize, p: f64) -> usize {
    let i = (p / 100.0 * n as f64).ceil() as i64 - 1;
    i.clamp(0, n.saturating_sub(1) as i64) as usize
}

fn validate(
    prof: &Profiles,
    legs: &CellLegs<'_>,
    window: &Window,
    percentiles: &[f64],
) -> Result<usize, TransitError> {
    let p = legs.ptr;
    if p.is_empty() || p[0] != 0 {
        return err("cell_ptr must start with 0 and have one entry per cell plus one".into());
    }
    let cells = p.len() - 1;
    if let Some(i) = (0..cells).find(|&i| p[i + 1] < p[i]) {
        return err(format!(
            "cell_ptr decreases at cell {i}; it is the CSR offset of each cell's legs"
        ));
    }
    if p[cells] as usize != legs.stop.len() || legs.walk_s.len() != legs.stop.len() {
        return err(format!(
            "cell_ptr ends at {} but cell_stop and cell_walk_s have {} and {} entries",
            p[cells],
            legs.stop.len(),
            legs.walk_s.len()
        ));
    }
    if legs.walk_only_s.len() != cells || legs.walk_only_office.len() != cells {
        return err(format!(
            "walk_only_s and walk_only_office have {} and {} entries for {cells} cells",
            legs.walk_only_s.len(),
            legs.walk_only_office.len()
        ));
    }
    for (j, (&s, &w)) in legs.stop.iter().zip(legs.walk_s).enumerate() {
        if s < 0 || s as usize >= prof.num_stops {
            return err(format!(
                "cell_stop[{j}] = {s} is not a stop of the timetable ({} stops)",
                prof.num_stops
            ));
        }
        if !(0..=MAX_SECONDS).contains(&w) {
            return err(format!(
                "cell_walk_s[{j}] = {w} is out of range; walking times are seconds in \
                 0..={MAX_SECONDS}"
            ));
        }
    }
    if let Some(&q) = percentiles.iter().find(|q| !(0.0..=100.0).contains(*q)) {
        return err(format!("percentile {q} is not in [0, 100]"));
    }
    if window.step_s <= 0 {
        return err(format!(
            "the departure step {} s must be positive",
            window.step_s
        ));
    }
    if let Some(m) = window.max_time_s {
        if m < 0 {
            return err(format!("max_time_s = {m} is negative"));
        }
    }
    if window.num_departures > 0 {
        if window.first_departure < prof.first_departure {
            return err(format!(
                "the window starts at {} but the profiles were searched from {}; search \
                 them from the window's first departure",
                window.first_departure, prof.first_departure
            ));
        }
        let last = window.first_departure as i64
            + (window.num_departures as i64 - 1) * window.step_s as i64;
        if let Some(h) = prof.horizon() {
            let need = window.max_time_s.map(|m| last + m as i64);
            if need.is_none_or(|x| x > h as i64) {
                return err(format!(
                    "the profiles stop at {h} s but the window needs office arrivals up to \
                     {} (last departure {last} + max_time_s); search them with a later \
                     horizon",
                    need.map_or("unbounded".to_string(), |x| x.to_string())
                ));
            }
        }
        if last > MAX_SECONDS as i64 {
            return err(format!(
                "the window ends at {last} s, beyond the time range"
            ));
        }
    }
    Ok(cells)
}

/// Travel times of every departure of `window` from every cell, reduced per cell.
/// Parallel over cells (rayon); the result does not depend on the number of threads.
pub fn evaluate_cells(
    prof: &Profiles,
    legs: &CellLegs<'_>,
    window: &Window,
    percentiles: &[f64],
) -> Result<CellStats, TransitError> {
    let cells = validate(prof, legs, window, percentiles)?;
    let np = percentiles.len();
    let per_cell: Vec<Cell> = (0..cells)
        .into_par_iter()
        .with_min_len(32)
        .map_init(
            || (Vec::new(), Vec::new()),
            |(times, sorted), i| one_cell(prof, legs, window, percentiles, i, times, sorted),
        )
        .collect();
    let mut out = CellStats {
        min_s: Vec::with_capacity(cells),
        percentiles_s: Vec::with_capacity(cells * np),
        median_s: Vec::with_capacity(cells),
        office: Vec::with_capacity(cells),
        transfers: Vec::with_capacity(cells),
        median_departure: Vec::with_capacity(cells),
        unreachable: Vec::with_capacity(cells),
    };
    for c in per_cell {
        out.min_s.push(secs(c.min));
        out.percentiles_s.extend(c.pct.iter().map(|&t| secs(t)));
        out.median_s.push(secs(c.median));
        out.office.push(c.office);
        out.transfers.push(c.transfers);
        out.median_departure.push(c.median_departure);
        out.unreachable.push(c.unreachable);
    }
    Ok(out)
}

fn secs(t: i32) -> f64 {
    if t == UNREACHED {
        f64::INFINITY
    } else {
        t as f64
    }
}

struct Cell {
    min: i32,
    pct: Vec<i32>,
    median: i32,
    office: i32,
    transfers: i32,
    median_departure: i32,
    unreachable: i32,
}

fn one_cell(
    prof: &Profiles,
    legs: &CellLegs<'_>,
    window: &Window,
    percentiles: &[f64],
    i: usize,
    times: &mut Vec<i32>,
    sorted: &mut Vec<i32>,
) -> Cell {
    let n = window.num_departures;
    let (t0, step) = (window.first_departure, window.step_s);
    let (lo, hi) = (legs.ptr[i] as usize, legs.ptr[i + 1] as usize);
    let walk_only = legs.walk_only_s[i];
    times.clear();
    times.resize(n, if walk_only >= 0 { walk_only } else { UNREACHED });
    let last = &prof.rounds[prof.rounds.len() - 1];
    for j in lo..hi {
        let (s, w) = (legs.stop[j] as usize, legs.walk_s[j]);
        let (dep, arr, _) = last.stop(s);
        // The departures t + w grow with t: one merge along the profile.
        let mut idx = dep.partition_point(|&d| d < t0 + w);
        for (m, slot) in times.iter_mut().enumerate() {
            let t = t0 + m as i32 * step;
            let q = t + w;
            while idx < dep.len() && dep[idx] < q {
                idx += 1;
            }
            if idx == dep.len() {
                break;
            }
            let tt = arr[idx] - t;
            if tt < *slot {
                *slot = tt;
            }
        }
    }
    if let Some(m) = window.max_time_s {
        for t in times.iter_mut() {
            if *t > m {
                *t = UNREACHED;
            }
        }
    }
    let unreachable = times.iter().filter(|&&t| t == UNREACHED).count() as i32;
    if n == 0 {
        return Cell {
            min: UNREACHED,
            pct: vec![UNREACHED; percentiles.len()],
            median: UNREACHED,
            office: -1,
            transfers: -1,
            median_departure: -1,
            unreachable: 0,
        };
    }
    sorted.clear();
    sorted.extend_from_slice(times);
    sorted.sort_unstable();
    let pct = percentiles
        .iter()
        .map(|&p| sorted[percentile_index(n, p)])
        .collect();
    let median = sorted[percentile_index(n, 50.0)];
    // The median journey: the earliest departure whose time is the median.
    let m = times.iter().position(|&x| x == median).unwrap_or(0);
    let t = t0 + m as i32 * step;
    let (office, transfers) = if median == UNREACHED {
        (-1, -1)
    } else if walk_only >= 0 && walk_only == median {
        (legs.walk_only_office[i], -1)
    } else {
        // The fewest rides that reach the median arrival; the first leg that does.
        let mut found = (-1, -1);
        for (k, r) in prof.rounds.iter().enumerate() {
            let mut best = (UNREACHED, -1);
            for j in lo..hi {
                let (a, o) = r.query(legs.stop[j] as usize, t + legs.walk_s[j]);
                if a != UNREACHED && a - t < best.0 {
                    best = (a - t, o);
                }
            }
            if best.0 == median {
                found = (best.1, k as i32);
                break;
            }
        }
        found
    };
    Cell {
        min: sorted[0],
        pct,
        median,
        office,
        transfers,
        median_departure: t,
        unreachable,
    }
}
