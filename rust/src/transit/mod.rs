//! Public transport: the nearest office by transit + walking, for every departure minute
//! of a window, from a backward profile search.
//!
//! # Semantics
//!
//! Checked against a forward per-departure scan (`tests/transit/test_routing.py`, and
//! `tests.rs` here) and, for the default rules, the time-expanded graph of
//! `tests/transit/reference.py`.
//!
//! - Times are integer seconds since midnight of the service date (may exceed 86 400).
//! - A traveller is at stop `s` at time `τ` (the walk from home is added by the caller)
//!   and may board at `s` any connection departing at or after `τ` (no slack at the
//!   origin). With [`Rules::walk_first`] they may instead walk **one** footpath `s → w`
//!   (`foot_s`) first and board at `w` at or after `τ + foot_s`.
//! - Staying seated on the same trip costs nothing (consecutive `conn_seq` of a trip).
//! - Changing trips at the same stop `v` after alighting at `a` needs
//!   `dep >= a + stop_transfer_s[v]`; walking one footpath `v → w` between two trips needs
//!   `dep >= a + foot_s + stop_transfer_s[w]` at `w` ([`Rules::footpath_slack`]; without
//!   it `dep >= a + foot_s`). At most one footpath between two trips.
//! - [`Rules::default`] is the convention of `hexaccess.transit.timetable` and of its
//!   reference `tests/transit/reference.py`: no footpath before the first boarding, the
//!   change slack of the stop walked to after a footpath.
//! - After the last alighting at `v` at `a`, the office `o` is reached at
//!   `a + walk(v, o)` for a target `(v, o, walk)`, or via one footpath `v → w` at
//!   `a + foot_s + walk(w, o)`.
//! - A journey has `1..=max_rides` boardings (`max_transfers = max_rides - 1`). Journeys
//!   without a vehicle are the caller's walk-only time, given per cell.
//! - Among journeys with the earliest arrival, the reported number of rides is the fewest
//!   (walking alone first); the office is one reached at that arrival.
//! - Connections of zero duration (`dep == arr`) are allowed, but a change with zero
//!   slack from one zero-duration connection to another departing in the same second
//!   is not seen (the scan order cannot tell which comes first); give stops a positive
//!   `stop_transfer_s` to rule it out.
//!
//! # Algorithm
//!
//! [`profile_search`]: the profile Connection Scan Algorithm (Dibbelt, Pajor, Strasser,
//! Wagner 2018) run backwards from all offices at once, with bounded rides: one scan over
//! the connections that depart in `[first_departure, horizon]`, by decreasing departure.
//! Per round `k` (at most `k` rides) it keeps, per trip, the earliest office arrival when
//! seated on it, and per stop a Pareto list of `(departure, arrival)` pairs ("board at this
//! stop at or after `departure` → reach an office at `arrival`"). A connection with `k`
//! rides takes the best of: alight and walk to an office, stay seated (`k` rides), change at
//! the stop or over one footpath into the `k - 1` round profiles. After the scan (with
//! [`Rules::walk_first`]) each stop's list is merged with its footpath neighbours' lists
//! shifted by the walk, giving the "at stop s at τ, (walk once,) then ride" profile
//! [`Profiles`]. Cost: `O(C · R ·
//! (1 + F) · log P)` for `C` connections, `R` rounds, `F` footpaths per stop and `P`
//! entries per profile; memory `O(C · R)`.
//!
//! [`evaluate_cells`]: per cell and departure minute `t`, the minimum over the cell's walk
//! legs `(s, w)` of `profile_s(t + w) - t` and the cell's walk-only time, by a linear merge
//! of the minute grid with each profile (`O(legs · (minutes + P))` per cell), on rayon,
//! one cell per task: results do not depend on the thread count.
//!
//! Percentiles follow R5 (r5py, r5r): no interpolation; the `p`-th percentile of the `n`
//! travel times sorted ascending (unreachable last) is the element at index
//! `ceil(p / 100 · n) - 1` (clamped to `[0, n - 1]`), i.e. numpy's `inverted_cdf`. The
//! median journey is the earliest departure whose time is the median; its office and
//! transfers are reported.

mod evaluate;
mod profile;
#[cfg(test)]
mod tests;

use std::fmt;

pub use evaluate::{evaluate_cells, percentile_index, CellLegs, CellStats, Window};
pub use profile::{profile_search, Profiles, Rules, MAX_RIDES};

/// "Never": no journey (i32 seconds).
pub const UNREACHED: i32 = i32::MAX;

/// A bad input of the transit routing; the message names the array, the row and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitError(pub String);

impl fmt::Display for TransitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TransitError {}

fn err<T>(msg: String) -> Result<T, TransitError> {
    Err(TransitError(msg))
}

/// A timetable as plain arrays (the `Timetable` dataclass of `hexaccess.transit.gtfs`).
/// Connections sorted by `(dep_time, arr_time, trip, seq)`; footpaths sorted by `from`.
#[derive(Debug, Clone, Copy)]
pub struct Timetable<'a> {
    pub num_stops: usize,
    pub dep_stop: &'a [i32],
    pub arr_stop: &'a [i32],
    pub dep_time: &'a [i32],
    pub arr_time: &'a [i32],
    pub trip: &'a [i32],
    pub seq: &'a [i32],
    pub foot_from: &'a [i32],
    pub foot_to: &'a [i32],
    pub foot_s: &'a [i32],
    pub transfer_s: &'a [i32],
}

/// Stops within walking distance of an office: `(stop, office, walk seconds)` per row.
#[derive(Debug, Clone, Copy)]
pub struct Targets<'a> {
    pub stop: &'a [i32],
    pub office: &'a [i32],
    pub walk_s: &'a [i32],
}

/// Outgoing footpaths as CSR over stops.
#[derive(Debug, Clone)]
pub(crate) struct Footpaths {
    pub ptr: Vec<usize>,
    pub to: Vec<u32>,
    pub secs: Vec<i32>,
}

impl Footpaths {
    #[inline]
    pub fn of(&self, stop: usize) -> impl Iterator<Item = (usize, i32)> + '_ {
        let (lo, hi) = (self.ptr[stop], self.ptr[stop + 1]);
        self.to[lo..hi]
            .iter()
            .zip(&self.secs[lo..hi])
            .map(|(&t, &s)| (t as usize, s))
    }
}

fn check_stop(name: &str, row: usize, v: i32, n: usize) -> Result<(), TransitError> {
    if v < 0 || v as usize >= n {
        return err(format!(
            "{name}[{row}] = {v} is not a stop index (there are {n} stops, 0..{}); \
             renumber the stops",
            n.saturating_sub(1)
        ));
    }
    Ok(())
}

impl Timetable<'_> {
    /// Every check of the arrays; returns the number of trips (max trip id + 1) and the
    /// footpath CSR.
    pub(crate) fn validate(&self) -> Result<(usize, Footpaths), TransitError> {
        let n = self.num_stops;
        let c = self.dep_stop.len();
        let lens = [
            ("conn_arr_stop", self.arr_stop.len()),
            ("conn_dep_time", self.dep_time.len()),
            ("conn_arr_time", self.arr_time.len()),
            ("conn_trip", self.trip.len()),
            ("conn_seq", self.seq.len()),
        ];
        for (name, l) in lens {
            if l != c {
                return err(format!(
                    "{name} has {l} entries but conn_dep_stop has {c}; every connection \
                     array needs one entry per connection"
                ));
            }
        }
        if self.transfer_s.len() != n {
            return err(format!(
                "stop_transfer_s has {} entries but there are {n} stops; give one minimum \
                 transfer time per stop",
                self.transfer_s.len()
            ));
        }
        if let Some((i, &v)) = self.transfer_s.iter().enumerate().find(|(_, &v)| v < 0) {
            return err(format!(
                "stop_transfer_s[{i}] = {v} is negative; transfer times are seconds >= 0"
            ));
        }
        let mut num_trips = 0usize;
        for i in 0..c {
            check_stop("conn_dep_stop", i, self.dep_stop[i], n)?;
            check_stop("conn_arr_stop", i, self.arr_stop[i], n)?;
            if self.trip[i] < 0 {
                return err(format!(
                    "conn_trip[{i}] = {} is negative; trips are numbered from 0",
                    self.trip[i]
                ));
            }
            num_trips = num_trips.max(self.trip[i] as usize + 1);
            if self.arr_time[i] < self.dep_time[i] {
                return err(format!(
                    "connection {i} arrives at {} before it departs at {}; fix the stop \
                     times of trip {}",
                    self.arr_time[i], self.dep_time[i], self.trip[i]
                ));
            }
            if self.dep_time[i] < 0 || self.arr_time[i] == UNREACHED {
                return err(format!(
                    "connection {i} has time {}..{} out of range (0 <= t < 2^31 - 1 seconds)",
                    self.dep_time[i], self.arr_time[i]
                ));
            }
            if i > 0 {
                let key = |j: usize| {
                    (
                        self.dep_time[j],
                        self.arr_time[j],
                        self.trip[j],
                        self.seq[j],
                    )
                };
                if key(i - 1) >= key(i) {
                    return err(format!(
                        "connections {} and {i} are not sorted by (dep_time, arr_time, trip, \
                         seq) without repeats; sort the connections",
                        i - 1
                    ));
                }
            }
        }
        // Consecutive connections of a trip: seq 0, 1, 2, ... in scan order, each leaving
        // the stop where the previous one arrived, not before it arrived. Staying seated is
        // only exact with this.
        let mut last: Vec<u32> = vec![u32::MAX; num_trips];
        for i in 0..c {
            let t = self.trip[i] as usize;
            let want = if last[t] == u32::MAX {
                0
            } else {
                self.seq[last[t] as usize] + 1
            };
            if self.seq[i] != want {
                return err(format!(
                    "connection {i} of trip {t} has conn_seq {} but {want} was expected \
                     (a trip's connections are numbered 0, 1, 2, ... in time order)",
                    self.seq[i]
                ));
            }
            if last[t] != u32::MAX {
                let p = last[t] as usize;
                if self.arr_stop[p] != self.dep_stop[i] || self.arr_time[p] > self.dep_time[i] {
                    return err(format!(
                        "connection {i} of trip {t} does not continue connection {p} (it must \
                         leave stop {} at or after {})",
                        self.arr_stop[p], self.arr_time[p]
                    ));
                }
            }
            last[t] = i as u32;
        }
        let f = self.foot_from.len();
        if self.foot_to.len() != f || self.foot_s.len() != f {
            return err(format!(
                "foot_from, foot_to and foot_s have {}, {} and {} entries; give one of each \
                 per footpath",
                f,
                self.foot_to.len(),
                self.foot_s.len()
            ));
        }
        let mut ptr = vec![0usize; n + 1];
        for i in 0..f {
            check_stop("foot_from", i, self.foot_from[i], n)?;
            check_stop("foot_to", i, self.foot_to[i], n)?;
            if self.foot_from[i] == self.foot_to[i] {
                return err(format!(
                    "footpath {i} leads from stop {} to itself; footpaths join different \
                     stops (use stop_transfer_s for changes at one stop)",
                    self.foot_from[i]
                ));
            }
            if self.foot_s[i] < 0 || self.foot_s[i] == UNREACHED {
                return err(format!(
                    "foot_s[{i}] = {} is out of range; walking times are seconds >= 0",
                    self.foot_s[i]
                ));
            }
            if i > 0 && self.foot_from[i - 1] > self.foot_from[i] {
                return err(format!(
                    "footpaths {} and {i} are not sorted by foot_from; sort them",
                    i - 1
                ));
            }
            ptr[self.foot_from[i] as usize + 1] += 1;
        }
        for s in 0..n {
            ptr[s + 1] += ptr[s];
        }
        let foot = Footpaths {
            ptr,
            to: self.foot_to.iter().map(|&t| t as u32).collect(),
            secs: self.foot_s.to_vec(),
        };
        Ok((num_trips, foot))
    }
}

impl Targets<'_> {
    pub(crate) fn validate(&self, num_stops: usize) -> Result<(), TransitError> {
        let t = self.stop.len();
        if self.office.len() != t || self.walk_s.len() != t {
            return err(format!(
                "target_stop, target_office and target_walk_s have {}, {} and {} entries; \
                 give one of each per (stop, office) pair",
                t,
                self.office.len(),
                self.walk_s.len()
            ));
        }
        for i in 0..t {
            check_stop("target_stop", i, self.stop[i], num_stops)?;
            if self.office[i] < 0 {
                return err(format!(
                    "target_office[{i}] = {} is negative; offices are numbered from 0",
                    self.office[i]
                ));
            }
            if self.walk_s[i] < 0 || self.walk_s[i] == UNREACHED {
                return err(format!(
                    "target_walk_s[{i}] = {} is out of range; walking times are seconds >= 0",
                    self.walk_s[i]
                ));
            }
        }
        Ok(())
    }
}
