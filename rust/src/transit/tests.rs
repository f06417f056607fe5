//! The profile search and the cell evaluation against a forward, round-based scan per
//! departure (an independent oracle: one pass over all connections per ride).

use super::*;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: reproducible without a dependency.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Owned {
    n: usize,
    dep_stop: Vec<i32>,
    arr_stop: Vec<i32>,
    dep_time: Vec<i32>,
    arr_time: Vec<i32>,
    trip: Vec<i32>,
    seq: Vec<i32>,
    foot_from: Vec<i32>,
    foot_to: Vec<i32>,
    foot_s: Vec<i32>,
    transfer_s: Vec<i32>,
    t_stop: Vec<i32>,
    t_office: Vec<i32>,
    t_walk: Vec<i32>,
}

impl Owned {
    fn tt(&self) -> Timetable<'_> {
        Timetable {
            num_stops: self.n,
            dep_stop: &self.dep_stop,
            arr_stop: &self.arr_stop,
            dep_time: &self.dep_time,
            arr_time: &self.arr_time,
            trip: &self.trip,
            seq: &self.seq,
            foot_from: &self.foot_from,
            foot_to: &self.foot_to,
            foot_s: &self.foot_s,
            transfer_s: &self.transfer_s,
        }
    }
    fn targets(&self) -> Targets<'_> {
        Targets {
            stop: &self.t_stop,
            office: &self.t_office,
            walk_s: &self.t_walk,
        }
    }
}

fn random_timetable(seed: u64, n: usize, trips: usize) -> Owned {
    let mut rng = Rng(seed | 1);
    let mut rows = Vec::new();
    for t in 0..trips {
        let len = 2 + rng.below(6) as usize;
        let mut time = 28_800 + rng.below(3_600) as i32;
        let mut stop = rng.below(n as u64) as i32;
        for s in 0..len {
            let mut next = rng.below(n as u64) as i32;
            if next == stop {
                next = (next + 1) % n as i32;
            }
            let dur = 30 + rng.below(400) as i32;
            rows.push((time, time + dur, t as i32, s as i32, stop, next));
            time += dur + rng.below(60) as i32;
            stop = next;
        }
    }
    rows.sort();
    let mut foot = Vec::new();
    for a in 0..n {
        for b in 0..n {
            if a != b && rng.below(100) < 5 {
                foot.push((a as i32, b as i32, 30 + rng.below(600) as i32));
            }
        }
    }
    let mut o = Owned {
        n,
        dep_stop: rows.iter().map(|r| r.4).collect(),
        arr_stop: rows.iter().map(|r| r.5).collect(),
        dep_time: rows.iter().map(|r| r.0).collect(),
        arr_time: rows.iter().map(|r| r.1).collect(),
        trip: rows.iter().map(|r| r.2).collect(),
        seq: rows.iter().map(|r| r.3).collect(),
        foot_from: foot.iter().map(|f| f.0).collect(),
        foot_to: foot.iter().map(|f| f.1).collect(),
        foot_s: foot.iter().map(|f| f.2).collect(),
        transfer_s: (0..n).map(|_| rng.below(240) as i32).collect(),
        t_stop: vec![],
        t_office: vec![],
        t_walk: vec![],
    };
    for office in 0..3 {
        o.t_stop.push(rng.below(n as u64) as i32);
        o.t_office.push(office);
        o.t_walk.push(rng.below(500) as i32);
    }
    o
}

/// Best office arrival after each round `1..=rides`, and the best arrival per office,
/// from travellers ready at `origins` (stop, time) who may walk one footpath first.
fn forward(
    o: &Owned,
    origins: &[(usize, i32)],
    rides: usize,
    rules: Rules,
) -> (Vec<i32>, Vec<i32>) {
    let inf = UNREACHED;
    let n = o.n;
    let foots: Vec<(usize, usize, i32)> = (0..o.foot_from.len())
        .map(|i| (o.foot_from[i] as usize, o.foot_to[i] as usize, o.foot_s[i]))
        .collect();
    let mut ready = vec![inf; n];
    for &(s, t) in origins {
        ready[s] = ready[s].min(t);
        for &(a, b, f) in &foots {
            if a == s && rules.walk_first {
                ready[b] = ready[b].min(t + f);
            }
        }
    }
    let trips = *o.trip.iter().max().unwrap() as usize + 1;
    let mut best = inf;
    let mut per_office = vec![inf; 3];
    let mut rounds = Vec::new();
    for _ in 0..rides {
        let mut alight = vec![inf; n];
        let mut on = vec![false; trips];
        for c in 0..o.dep_time.len() {
            let t = o.trip[c] as usize;
            if on[t] || ready[o.dep_stop[c] as usize] <= o.dep_time[c] {
                on[t] = true;
                let v = o.arr_stop[c] as usize;
                alight[v] = alight[v].min(o.arr_time[c]);
            }
        }
        let mut at = alight.clone();
        for &(a, b, f) in &foots {
            if alight[a] < inf {
                at[b] = at[b].min(alight[a] + f);
            }
        }
        // A footpath after alighting, then the walk to the office; or the walk directly.
        for i in 0..o.t_stop.len() {
            let s = o.t_stop[i] as usize;
            if at[s] < inf {
                let arr = at[s] + o.t_walk[i];
                best = best.min(arr);
                let of = o.t_office[i] as usize;
                per_office[of] = per_office[of].min(arr);
            }
        }
        rounds.push(best);
        let mut next = vec![inf; n];
        for v in 0..n {
            if alight[v] < inf {
                next[v] = next[v].min(alight[v] + o.transfer_s[v]);
            }
        }
        for &(a, b, f) in &foots {
            if alight[a] < inf {
                let slack = if rules.footpath_slack {
                    o.transfer_s[b]
                } else {
                    0
                };
                next[b] = next[b].min(alight[a] + f + slack);
            }
        }
        ready = next;
    }
    (rounds, per_office)
}

const ALL_RULES: [Rules; 4] = [
    Rules {
        walk_first: false,
        footpath_slack: true,
    },
    Rules {
        walk_first: true,
        footpath_slack: true,
    },
    Rules {
        walk_first: false,
        footpath_slack: false,
    },
    Rules {
        walk_first: true,
        footpath_slack: false,
    },
];

#[test]
fn profiles_match_a_forward_scan_per_departure() {
    let (mut reached, mut changed, mut total) = (0, 0, 0);
    for seed in 1..6u64 {
        let o = random_timetable(seed * 7919, 16, 60);
        for (rides, rules) in [1usize, 2, 4]
            .into_iter()
            .flat_map(|r| ALL_RULES.map(|x| (r, x)))
        {
            let p = profile_search(&o.tt(), &o.targets(), 28_800, None, rides, rules).unwrap();
            for s in 0..o.n {
                for tau in (28_800..28_800 + 5_400).step_by(97) {
                    let (rounds, per_office) = forward(&o, &[(s, tau)], rides, rules);
                    let want = rounds[rides - 1];
                    let (got, office, k) = p.query(s, tau);
                    assert_eq!(got, want, "seed {seed} rides {rides} stop {s} tau {tau}");
                    total += 1;
                    if want < UNREACHED {
                        reached += 1;
                        changed += usize::from(k > 1);
                        let want_k = rounds.iter().position(|&r| r == want).unwrap() + 1;
                        assert_eq!(k, want_k, "fewest rides, stop {s} tau {tau}");
                        assert_eq!(per_office[office as usize], want);
                    }
                }
            }
        }
    }
    // The cases are not trivial: most are reached, many only with a change.
    assert!(
        reached * 2 > total && changed * 20 > total,
        "{reached} {changed} {total}"
    );
}

#[test]
fn horizon_drops_late_arrivals_only() {
    let o = random_timetable(42, 10, 30);
    let h = 28_800 + 3_000;
    let full = profile_search(&o.tt(), &o.targets(), 28_800, None, 3, Rules::default()).unwrap();
    let cut = profile_search(&o.tt(), &o.targets(), 28_800, Some(h), 3, Rules::default()).unwrap();
    for s in 0..o.n {
        for tau in (28_800..h).step_by(61) {
            let a = full.query(s, tau).0;
            let want = if a <= h { a } else { UNREACHED };
            assert_eq!(cut.query(s, tau).0, want);
        }
    }
}

#[test]
fn cells_match_the_forward_scan_and_percentiles() {
    let o = random_timetable(3, 14, 50);
    let rides = 3;
    let mut rng = Rng(99);
    let (mut ptr, mut stop, mut walk, mut wo, mut woo) =
        (vec![0i64], vec![], vec![], vec![], vec![]);
    for _ in 0..25 {
        for _ in 0..rng.below(4) {
            stop.push(rng.below(o.n as u64) as i32);
            walk.push(rng.below(600) as i32);
        }
        ptr.push(stop.len() as i64);
        let w = if rng.below(3) == 0 {
            1_200 + rng.below(4_000) as i32
        } else {
            -1
        };
        wo.push(w);
        woo.push(if w >= 0 { 7 } else { -1 });
    }
    let legs = CellLegs {
        ptr: &ptr,
        stop: &stop,
        walk_s: &walk,
        walk_only_s: &wo,
        walk_only_office: &woo,
    };
    let window = Window {
        first_departure: 28_800,
        num_departures: 45,
        step_s: 60,
        max_time_s: Some(3_000),
    };
    let h = 28_800 + 44 * 60 + 3_000;
    let rules = Rules {
        walk_first: true,
        footpath_slack: false,
    };
    let p = profile_search(&o.tt(), &o.targets(), 28_800, Some(h), rides, rules).unwrap();
    let pct = [0.0, 10.0, 25.0, 50.0, 75.0, 100.0];
    let got = evaluate_cells(&p, &legs, &window, &pct).unwrap();
    let (mut seen_unreachable, mut seen_reached) = (false, false);
    for c in 0..25 {
        let (lo, hi) = (ptr[c] as usize, ptr[c + 1] as usize);
        let mut times: Vec<i32> = (0..45)
            .map(|m| {
                let t = 28_800 + m * 60;
                let origins: Vec<(usize, i32)> =
                    (lo..hi).map(|j| (stop[j] as usize, t + walk[j])).collect();
                let mut best = if wo[c] >= 0 { wo[c] } else { UNREACHED };
                if !origins.is_empty() {
                    let r = forward(&o, &origins, rides, rules).0[rides - 1];
                    if r < UNREACHED {
                        best = best.min(r - t);
                    }
                }
                if best > 3_000 {
                    UNREACHED
                } else {
                    best
                }
            })
            .collect();
        let unreachable = times.iter().filter(|&&t| t == UNREACHED).count() as i32;
        assert_eq!(got.unreachable[c], unreachable);
        seen_unreachable |= unreachable > 0;
        seen_reached |= unreachable < 45;
        times.sort();
        let f = |t: i32| {
            if t == UNREACHED {
                f64::INFINITY
            } else {
                t as f64
            }
        };
        assert_eq!(got.min_s[c], f(times[0]));
        for (q, &pq) in pct.iter().enumerate() {
            assert_eq!(
                got.percentiles_s[c * pct.len() + q],
                f(times[percentile_index(45, pq)])
            );
        }
        assert_eq!(got.median_s[c], f(times[22]));
    }
    assert!(seen_unreachable && seen_reached);
    // The same on one thread and on three.
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let three = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    let a = one.install(|| evaluate_cells(&p, &legs, &window, &pct).unwrap());
    let b = three.install(|| evaluate_cells(&p, &legs, &window, &pct).unwrap());
    assert_eq!(a, b);
    assert_eq!(a, got);
}

#[test]
fn percentile_index_is_nearest_rank() {
    assert_eq!(percentile_index(120, 50.0), 59);
    assert_eq!(percentile_index(4, 25.0), 0);
    assert_eq!(percentile_index(4, 26.0), 1);
    assert_eq!(percentile_index(4, 100.0), 3);
    assert_eq!(percentile_index(5, 0.0), 0);
    assert_eq!(percentile_index(1, 50.0), 0);
}

#[test]
fn bad_inputs_name_the_row() {
    let mut o = random_timetable(5, 6, 5);
    o.seq[3] += 5;
    let e = profile_search(&o.tt(), &o.targets(), 0, None, 2, Rules::default()).unwrap_err();
    assert!(e.0.contains("conn_seq"), "{e}");
    let o = random_timetable(5, 6, 5);
    let e = profile_search(&o.tt(), &o.targets(), 0, None, 0, Rules::default()).unwrap_err();
    assert!(e.0.contains("max_rides"), "{e}");
    let mut o = random_timetable(5, 6, 5);
    o.t_stop[0] = 99;
    let e = profile_search(&o.tt(), &o.targets(), 0, None, 2, Rules::default()).unwrap_err();
    assert!(e.0.contains("target_stop[0]"), "{e}");
}
