//! Shared helpers of the unit tests: small graph builders and a plain Dijkstra oracle.
//!
//! The oracle is deliberately the textbook algorithm (a binary heap of whole labels,
//! popped in lexicographic `(time, source, length)` order), sharing nothing with the
//! engine's queues, label states or prefetching, so that agreeing with it means something
//! (as fast_paths checks itself against its `dijkstra` and `floyd_warshall`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::graph::Graph;
use crate::search::{NearestResult, Query, NO_SOURCE};

/// A graph from `(tail, head, time_s, length_m)` rows.
pub(crate) fn graph(n: i64, edges: &[(i64, i64, f64, f64)], both: bool) -> Graph {
    let tail: Vec<i64> = edges.iter().map(|e| e.0).collect();
    let head: Vec<i64> = edges.iter().map(|e| e.1).collect();
    let time: Vec<f64> = edges.iter().map(|e| e.2).collect();
    let length: Vec<f64> = edges.iter().map(|e| e.3).collect();
    Graph::from_edges(n, &tail, &head, &time, &length, both).unwrap()
}

/// A query from its three parts.
pub(crate) fn query<'a>(sources: &'a [u32], offsets: Option<&'a [f64]>, cutoff: f64) -> Query<'a> {
    Query {
        sources,
        offsets,
        cutoff,
    }
}

/// A perturbed `w × w` grid with positive arc times (the bucket queue's case), a few
/// distinct values so that equal-time ties are common, and `missing` of its links
/// removed.
pub(crate) fn grid(w: i64, seed: u64, missing: f64) -> Graph {
    let mut state = seed | 1;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 1000) as f64 / 1000.0
    };
    let (mut t, mut h, mut tm, mut ln) = (vec![], vec![], vec![], vec![]);
    for r in 0..w {
        for c in 0..w {
            let v = r * w + c;
            for (ok, u) in [(c + 1 < w, v + 1), (r + 1 < w, v + w)] {
                if ok && rnd() >= missing {
                    t.push(v);
                    h.push(u);
                    tm.push(1.0 + (rnd() * 4.0).floor() * 0.5);
                    ln.push(10.0 + (rnd() * 3.0).floor());
                }
            }
        }
    }
    Graph::from_edges(w * w, &t, &h, &tm, &ln, true).unwrap()
}

/// Every node's label as exact bits, for bit-for-bit comparisons.
pub(crate) fn label_bits(r: &NearestResult) -> Vec<(u64, u32, u64)> {
    (0..r.time.len())
        .map(|v| (r.time[v].to_bits(), r.source[v], r.length[v].to_bits()))
        .collect()
}

/// A label as heap key: non-negative floats order like their bit patterns, so the tuple
/// compares as `(time, source, length)` lexicographically.
type Key = (u64, u32, u64);

/// The search semantics of `docs/engine-semantics.md` by the textbook Dijkstra: labels
/// are popped in lexicographic order, so the first pop of a node is final (arc times and
/// lengths are >= 0, so an offer is never smaller than the label it extends).
pub(crate) fn dijkstra(graph: &Graph, query: &Query) -> NearestResult {
    fn offer(best: &mut [Key], heap: &mut BinaryHeap<Reverse<(Key, u32)>>, v: u32, key: Key) {
        if key < best[v as usize] {
            best[v as usize] = key;
            heap.push(Reverse((key, v)));
        }
    }
    let inf = f64::INFINITY.to_bits();
    let mut best: Vec<Key> = vec![(inf, NO_SOURCE, inf); graph.num_nodes()];
    let mut heap = BinaryHeap::new();
    for (i, &s) in query.sources.iter().enumerate() {
        let offset = query.offsets.map_or(0.0, |o| o[i]) + 0.0;
        if offset <= query.cutoff {
            offer(&mut best, &mut heap, s, (offset.to_bits(), i as u32, 0));
        }
    }
    while let Some(Reverse((key, u))) = heap.pop() {
        if key != best[u as usize] {
            continue; // improved since it was pushed
        }
        let (time, source, length) = (f64::from_bits(key.0), key.1, f64::from_bits(key.2));
        for arc in graph.out_arcs(u) {
            let t = time + arc.time;
            if t <= query.cutoff {
                let next = (t.to_bits(), source, (length + arc.length).to_bits());
                offer(&mut best, &mut heap, arc.head, next);
            }
        }
    }
    NearestResult {
        time: best.iter().map(|k| f64::from_bits(k.0)).collect(),
        source: best.iter().map(|k| k.1).collect(),
        length: best.iter().map(|k| f64::from_bits(k.2)).collect(),
    }
}
