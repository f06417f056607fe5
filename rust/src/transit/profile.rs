//! The backward profile Connection Scan with bounded rides (see the module doc).

use rayon::prelude::*;

use super::{err, Footpaths, Targets, Timetable, TransitError, UNREACHED};

/// Most rides a search may allow: rounds cost memory and time linearly, and no one
/// changes vehicles 30 times on the way to an office.
pub const MAX_RIDES: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    dep: i32,
    arr: i32,
    office: i32,
}

/// Earliest office arrival of a dep-decreasing Pareto list when boarding at or after
/// `tau`: the entry with the smallest departure `>= tau` (it has the smallest arrival).
#[inline]
fn query_desc(list: &[Entry], tau: i32) -> (i32, i32) {
    let p = list.partition_point(|e| e.dep >= tau);
    if p == 0 {
        (UNREACHED, -1)
    } else {
        let e = list[p - 1];
        (e.arr, e.office)
    }
}

/// Add `e` (departing no later than every entry) when it arrives strictly earlier than
/// the entry departing last-but-not-after it; ties keep the later departure.
#[inline]
fn insert_desc(list: &mut Vec<Entry>, e: Entry) {
    match list.last_mut() {
        Some(l) if l.arr <= e.arr => {}
        Some(l) if l.dep == e.dep => *l = e,
        _ => list.push(e),
    }
}

/// One round's profiles ("at stop s at τ, may walk one footpath, then ride at most k
/// vehicles"): per stop, departures ascending with strictly ascending arrivals, as CSR.
#[derive(Debug, Clone, Default)]
pub(crate) struct RoundProfile {
    ptr: Vec<usize>,
    dep: Vec<i32>,
    arr: Vec<i32>,
    office: Vec<i32>,
}

impl RoundProfile {
    /// `(dep, arr)` slices of a stop's profile and the office slice.
    #[inline]
    pub(crate) fn stop(&self, s: usize) -> (&[i32], &[i32], &[i32]) {
        let (lo, hi) = (self.ptr[s], self.ptr[s + 1]);
        (&self.dep[lo..hi], &self.arr[lo..hi], &self.office[lo..hi])
    }

    /// Earliest office arrival and its office when at stop `s` at `tau`.
    #[inline]
    pub(crate) fn query(&self, s: usize, tau: i32) -> (i32, i32) {
        let (dep, arr, office) = self.stop(s);
        let i = dep.partition_point(|&d| d < tau);
        if i == dep.len() {
            (UNREACHED, -1)
        } else {
            (arr[i], office[i])
        }
    }
}

/// The result of [`profile_search`]: for every stop and every time `τ >= first_departure`
/// the earliest office arrival with at most `k` rides, for `k = 1..=max_rides`.
#[derive(Debug, Clone)]
pub struct Profiles {
    pub(crate) num_stops: usize,
    pub(crate) first_departure: i32,
    /// Office arrivals later than this were dropped (`UNREACHED - 1`: none).
    pub(crate) horizon: i32,
    /// `rounds[k - 1]`: at most `k` rides.
    pub(crate) rounds: Vec<RoundProfile>,
    pub(crate) scanned: usize,
}

impl Profiles {
    pub fn num_stops(&self) -> usize {
        self.num_stops
    }

    pub fn max_rides(&self) -> usize {
        self.rounds.len()
    }

    pub fn first_departure(&self) -> i32 {
        self.first_departure
    }

    /// The latest office arrival kept, or `None` when unbounded.
    pub fn horizon(&self) -> Option<i32> {
        (self.horizon < UNREACHED - 1).then_some(self.horizon)
    }

    /// Connections scanned.
    pub fn scanned(&self) -> usize {
        self.scanned
    }

    /// Profile entries over all rounds and stops.
    pub fn num_entries(&self) -> usize {
        self.rounds.iter().map(|r| r.dep.len()).sum()
    }

    pub fn memory_bytes(&self) -> usize {
        self.rounds
            .iter()
            .map(|r| r.ptr.len() * 8 + r.dep.len() * 12)
            .sum()
    }

    /// At stop `stop` at `tau`: `(arrival, office, rides)` of the earliest office arrival,
    /// with the fewest rides among journeys arriving then; `(UNREACHED, -1, 0)` if none.
    pub fn query(&self, stop: usize, tau: i32) -> (i32, i32, usize) {
        let best = self.rounds[self.rounds.len() - 1].query(stop, tau);
        if best.0 == UNREACHED {
            return (UNREACHED, -1, 0);
        }
        for (k, r) in self.rounds.iter().enumerate() {
            let (a, o) = r.query(stop, tau);
            if a == best.0 {
                return (a, o, k + 1);
            }
        }
        unreachable!("the last round holds the best arrival")
    }
}

/// The two rules on which timetable conventions differ (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// One footpath may be walked before the first boarding.
    pub walk_first: bool,
    /// A boarding at `w` after a footpath also needs `stop_transfer_s[w]`.
    pub footpath_slack: bool,
}

impl Default for Rules {
    /// The rules of `hexaccess.transit.timetable` (and of `tests/transit/reference.py`).
    fn default() -> Self {
        Rules {
            walk_first: false,
            footpath_slack: true,
        }
    }
}

/// Profiles of every stop towards the nearest office, for boardings at or after
/// `first_departure` and office arrivals no later than `horizon` (None: unbounded), with
/// at most `max_rides` vehicles.
pub fn profile_search(
    tt: &Timetable<'_>,
    targets: &Targets<'_>,
    first_departure: i32,
    horizon: Option<i32>,
    max_rides: usize,
    rules: Rules,
) -> Result<Profiles, TransitError> {
    if max_rides == 0 || max_rides > MAX_RIDES {
        return err(format!(
            "max_rides = {max_rides} is out of range; allow 1..={MAX_RIDES} vehicles \
             (max_transfers + 1)"
        ));
    }
    let h = horizon.unwrap_or(UNREACHED - 1).min(UNREACHED - 1);
    if h < first_departure {
        return err(format!(
            "the horizon {h} is before the first departure {first_departure}; give a \
             horizon after the departure window"
        ));
    }
    let (num_trips, foot) = tt.validate()?;
    let n = tt.num_stops;
    targets.validate(n)?;

    let (d0, d0_office) = egress(n, targets, &foot);
    let lo = tt.dep_time.partition_point(|&d| d < first_departure);
    let hi = tt.dep_time.partition_point(|&d| d <= h);
    let r = max_rides;

    let mut by_stop: Vec<Vec<Vec<Entry>>> = vec![vec![Vec::new(); n]; r];
    let mut seated: Vec<Vec<(i32, i32)>> = vec![vec![(UNREACHED, -1); num_trips]; r];
    for c in (lo..hi.max(lo)).rev() {
        let (u, v) = (tt.dep_stop[c] as usize, tt.arr_stop[c] as usize);
        let (d, a, trip) = (tt.dep_time[c], tt.arr_time[c], tt.trip[c] as usize);
        let exit = (a.saturating_add(d0[v]), d0_office[v]);
        let change_at = a.saturating_add(tt.transfer_s[v]);
        for (k, seated_k) in seated.iter_mut().enumerate() {
            let (before, rest) = by_stop.split_at_mut(k);
            let mut best = exit;
            let seat = seated_k[trip];
            if seat.0 < best.0 {
                best = seat;
            }
            if let Some(prev) = before.last() {
                let q = query_desc(&prev[v], change_at);
                if q.0 < best.0 {
                    best = q;
                }
                for (w, f) in foot.of(v) {
                    let slack = if rules.footpath_slack {
                        tt.transfer_s[w]
                    } else {
                        0
                    };
                    let q = query_desc(&prev[w], a.saturating_add(f).saturating_add(slack));
                    if q.0 < best.0 {
                        best = q;
                    }
                }
            }
            seated_k[trip] = best;
            if best.0 <= h {
                insert_desc(
                    &mut rest[0][u],
                    Entry {
                        dep: d,
                        arr: best.0,
                        office: best.1,
                    },
                );
            }
        }
    }
    drop(seated);

    let rounds = by_stop
        .iter()
        .map(|b| walk_first(b, &foot, rules.walk_first))
        .collect::<Vec<_>>();
    Ok(Profiles {
        num_stops: n,
        first_departure,
        horizon: h,
        rounds,
        scanned: hi.saturating_sub(lo),
    })
}

/// Per stop, the walk to an office after the last alighting: directly (the target's
/// walk) or over one footpath first. Ties keep the first target row, then the direct walk.
fn egress(n: usize, targets: &Targets<'_>, foot: &Footpaths) -> (Vec<i32>, Vec<i32>) {
    let mut direct = vec![(UNREACHED, -1); n];
    for i in 0..targets.stop.len() {
        let s = targets.stop[i] as usize;
        if targets.walk_s[i] < direct[s].0 {
            direct[s] = (targets.walk_s[i], targets.office[i]);
        }
    }
    let mut d0 = vec![UNREACHED; n];
    let mut office = vec![-1; n];
    for v in 0..n {
        let mut best = direct[v];
        for (w, f) in foot.of(v) {
            let t = f.saturating_add(direct[w].0);
            if t < best.0 {
                best = (t, direct[w].1);
            }
        }
        d0[v] = best.0;
        office[v] = best.1;
    }
    (d0, office)
}

/// A round's "board here" lists merged with the footpath neighbours' lists shifted by
/// the walk: the profile of a traveller who may walk once before boarding.
/// Without `walk`, only the lists reversed (departures ascending).
fn walk_first(by_stop: &[Vec<Entry>], foot: &Footpaths, walk: bool) -> RoundProfile {
    let n = by_stop.len();
    let lists: Vec<Vec<Entry>> = (0..n)
        .into_par_iter()
        .with_min_len(256)
        .map(|x| {
            let mut cand: Vec<Entry> = by_stop[x].clone();
            if !walk {
                cand.reverse();
                return cand;
            }
            for (w, f) in foot.of(x) {
                cand.extend(by_stop[w].iter().map(|e| Entry {
                    dep: e.dep - f,
                    ..*e
                }));
            }
            // Latest departure first, earliest arrival first among equal departures;
            // then keep strict arrival improvements: a Pareto list, deterministic.
            cand.sort_unstable_by(|a, b| {
                b.dep
                    .cmp(&a.dep)
                    .then(a.arr.cmp(&b.arr))
                    .then(a.office.cmp(&b.office))
            });
            let mut out: Vec<Entry> = Vec::with_capacity(cand.len());
            let mut best = UNREACHED;
            for e in cand {
                if e.arr < best {
                    best = e.arr;
                    out.push(e);
                }
            }
            out.reverse();
            out
        })
        .collect();
    let mut prof = RoundProfile {
        ptr: Vec::with_capacity(n + 1),
        ..Default::default()
    };
    let total = lists.iter().map(Vec::len).sum();
    prof.dep.reserve_exact(total);
    prof.arr.reserve_exact(total);
    prof.office.reserve_exact(total);
    prof.ptr.push(0);
    for l in &lists {
        for e in l {
            prof.dep.push(e.dep);
            prof.arr.push(e.arr);
            prof.office.push(e.office);
        }
        prof.ptr.push(prof.dep.len());
    }
    prof
}
