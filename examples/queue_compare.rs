//! Experiment: the same label-setting search with std's binary heap instead of the radix
//! heap, on the 1000×1000 grid of `search_timing`. Not part of the library.
use hexaccess::graph::Graph;
use hexaccess::search::{Query, Workspace};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

fn binary_heap_times(g: &Graph, sources: &[u32]) -> Vec<f64> {
    let n = g.num_nodes();
    let mut time = vec![f64::INFINITY; n];
    let mut done = vec![false; n];
    let mut heap = BinaryHeap::new();
    for &s in sources {
        time[s as usize] = 0.0;
        heap.push(Reverse((0u64, s)));
    }
    while let Some(Reverse((k, u))) = heap.pop() {
        let t = f64::from_bits(k);
        if done[u as usize] || t != time[u as usize] {
            continue;
        }
        done[u as usize] = true;
        for a in g.out_arcs(u) {
            let nt = t + a.time;
            if nt < time[a.head as usize] {
                time[a.head as usize] = nt;
                heap.push(Reverse((nt.to_bits(), a.head)));
            }
        }
    }
    time
}

/// Dial-style bucket queue with width = a power of two <= the smallest arc time: all
/// nodes of a bucket are final when it is reached, so they can be expanded in node order.
fn bucket_times(g: &Graph, sources: &[u32]) -> Vec<f64> {
    let n = g.num_nodes();
    let min_arc = g
        .arcs()
        .iter()
        .map(|a| a.time)
        .fold(f64::INFINITY, f64::min);
    let max_arc = g.arcs().iter().map(|a| a.time).fold(0.0, f64::max);
    let delta = 2f64.powi(min_arc.log2().floor() as i32);
    let nb = (max_arc / delta) as usize + 2;
    let mut buckets: Vec<Vec<u32>> = vec![Vec::new(); nb];
    let mut time = vec![f64::INFINITY; n];
    let mut pending = 0usize;
    for &s in sources {
        time[s as usize] = 0.0;
        buckets[0].push(s);
        pending += 1;
    }
    let mut cur = 0usize;
    let mut list = Vec::new();
    while pending > 0 {
        let slot = cur % nb;
        std::mem::swap(&mut list, &mut buckets[slot]);
        pending -= list.len();
        list.sort_unstable();
        list.dedup();
        for &u in &list {
            let t = time[u as usize];
            if (t / delta) as usize != cur {
                continue; // stale: improved into an earlier bucket, already done
            }
            for a in g.out_arcs(u) {
                let nt = t + a.time;
                let v = a.head as usize;
                if nt < time[v] {
                    time[v] = nt;
                    buckets[((nt / delta) as usize) % nb].push(a.head);
                    pending += 1;
                }
            }
        }
        list.clear();
        cur += 1;
    }
    time
}

fn main() {
    let w: i64 = 1000;
    let n = w * w;
    let (mut t, mut h, mut tm, mut ln) = (vec![], vec![], vec![], vec![]);
    let mut state = 12345u64;
    let mut rnd = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 1000) as f64 / 1000.0
    };
    for r in 0..w {
        for c in 0..w {
            let v = r * w + c;
            if c + 1 < w {
                t.push(v);
                h.push(v + 1);
                tm.push(30.0 + 10.0 * rnd());
                ln.push(500.0);
            }
            if r + 1 < w {
                t.push(v);
                h.push(v + w);
                tm.push(30.0 + 10.0 * rnd());
                ln.push(500.0);
            }
        }
    }
    let g = Graph::from_edges(n, &t, &h, &tm, &ln, true).unwrap();
    let sources: Vec<u32> = (0..50).map(|i| ((i * 7919 * 131) % n) as u32).collect();
    let mut ws = Workspace::new(n as usize);
    for _ in 0..3 {
        let t0 = Instant::now();
        ws.run(
            &g,
            &Query {
                sources: &sources,
                offsets: None,
                cutoff: f64::INFINITY,
            },
        );
        let a = t0.elapsed();
        let t0 = Instant::now();
        let bt = binary_heap_times(&g, &sources);
        let b = t0.elapsed();
        assert!((0..n as u32).all(|v| ws.time(v) == bt[v as usize]));
        let t0 = Instant::now();
        let ct = bucket_times(&g, &sources);
        let c = t0.elapsed();
        assert!((0..n as u32).all(|v| ws.time(v) == ct[v as usize]));
        println!(
            "radix+labels {a:?}  binary-heap times-only {b:?}  sorted buckets times-only {c:?}"
        );
    }
}
