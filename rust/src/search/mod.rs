//! Multi-source nearest search: for every node, the time to the nearest source, which
//! source that is, and the length of that fastest path. See `docs/engine-semantics.md`
//! for the exact definition; in short, labels `(time, source, length)` are compared
//! lexicographically, so equal-time ties go to the lowest source index and then to the
//! shortest length, and the result depends on the graph alone, never on heap order.
//!
//! - `label.rs`: a node's label, its offer and settle rules, and the Dial bucket layout
//!   (`BucketPlan`) that decides when a label is final;
//! - `sequential.rs`: the [`Workspace`] of one thread, Dial buckets or a radix heap;
//! - `parallel.rs`: one large search on several threads (owner computes);
//! - `radix_heap.rs` and `prefetch.rs`: the heap and the software prefetch pipeline.
//!
//! All give the same labels, bit for bit.

mod label;
mod parallel;
mod prefetch;
mod radix_heap;
mod sequential;

use crate::error::{Error, QueryError};
use crate::graph::Graph;

pub use parallel::{
    nearest_parallel, nearest_parallel_with, parallel_evictions, SearchScratch,
    DEFAULT_SEARCH_THREADS, MIN_PARALLEL_NODES,
};
pub use radix_heap::RadixHeap;
pub use sequential::{nearest_sequential, Workspace};

/// Source index reported for unreached nodes.
pub const NO_SOURCE: u32 = u32::MAX;

/// A set of sources for one search: node ids, optional start offsets (seconds, e.g. a
/// terminal time at an office), and a cutoff beyond which nodes are left unreached.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    pub sources: &'a [u32],
    pub offsets: Option<&'a [f64]>,
    pub cutoff: f64,
}

/// Check a query against a graph of `num_nodes` nodes. Sources arrive as `i64` so that
/// negative ids from numpy are reported rather than wrapped.
pub fn validate_query(
    num_nodes: usize,
    sources: &[i64],
    offsets: Option<&[f64]>,
    cutoff: f64,
) -> Result<(), Error> {
    check_query(num_nodes, sources, offsets, cutoff).map_err(Error::from)
}

/// [`validate_query`] with the query's own error (a batch prefixes it with the set).
pub(crate) fn check_query(
    num_nodes: usize,
    sources: &[i64],
    offsets: Option<&[f64]>,
    cutoff: f64,
) -> Result<(), QueryError> {
    if cutoff.is_nan() || cutoff < 0.0 {
        return Err(QueryError::BadCutoff(cutoff));
    }
    for (index, &node) in sources.iter().enumerate() {
        if node < 0 || node as u64 >= num_nodes as u64 {
            return Err(QueryError::SourceOutOfRange {
                index,
                node,
                num_nodes,
            });
        }
    }
    if let Some(offsets) = offsets {
        if offsets.len() != sources.len() {
            return Err(QueryError::OffsetCount {
                sources: sources.len(),
                offsets: offsets.len(),
            });
        }
        for (index, &value) in offsets.iter().enumerate() {
            if !(value.is_finite() && value >= 0.0) {
                return Err(QueryError::BadOffset { index, value });
            }
        }
    }
    Ok(())
}

/// Per-node result of one search, as plain arrays.
#[derive(Debug, Clone, PartialEq)]
pub struct NearestResult {
    pub time: Vec<f64>,
    pub source: Vec<u32>,
    pub length: Vec<f64>,
}

/// One search, full per-node arrays: on all threads of the current rayon pool when the
/// graph is large enough to gain from it ([`nearest_parallel`]), else on this one.
pub fn nearest(graph: &Graph, query: &Query) -> NearestResult {
    nearest_with(
        graph,
        query,
        rayon::current_num_threads(),
        &mut SearchScratch::new(),
    )
}

/// One search on `threads` threads where the graph is large enough to gain from it, else
/// on this one, with label memory kept in `scratch` between calls on graphs of one size
/// (no allocation or page faults for the labels after the first call, on either path).
pub fn nearest_with(
    graph: &Graph,
    query: &Query,
    threads: usize,
    scratch: &mut SearchScratch,
) -> NearestResult {
    nearest_parallel_with(graph, query, threads, scratch)
        .unwrap_or_else(|| scratch.nearest_sequential(graph, query))
}

/// The source's start time: its offset (`+ 0.0` folds -0.0 into +0.0, see graph.rs).
#[inline(always)]
fn start_offset(query: &Query, i: usize) -> f64 {
    query.offsets.map_or(0.0, |o| o[i]) + 0.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{dijkstra, graph, query as q};

    /// Hand-worked: a path 0-1-2-3-4 (undirected) with sources at 0 and 4.
    ///   0 --(10 s, 100 m)-- 1 --(10 s, 50 m)-- 2 --(5 s, 70 m)-- 3 --(15 s, 10 m)-- 4
    /// From 0: 1 at 10, 2 at 20, 3 at 25. From 4: 3 at 15, 2 at 20, 1 at 30.
    /// Node 2 is tied at 20 s: source 0 wins by index, with length 150 m.
    #[test]
    fn hand_worked_path_with_a_tie() {
        let g = graph(
            5,
            &[
                (0, 1, 10.0, 100.0),
                (1, 2, 10.0, 50.0),
                (2, 3, 5.0, 70.0),
                (3, 4, 15.0, 10.0),
            ],
            true,
        );
        let r = nearest(&g, &q(&[0, 4], None, f64::INFINITY));
        assert_eq!(r.time, vec![0.0, 10.0, 20.0, 15.0, 0.0]);
        assert_eq!(r.source, vec![0, 0, 0, 1, 1]);
        assert_eq!(r.length, vec![0.0, 100.0, 150.0, 10.0, 0.0]);
        // Listing the sources the other way round moves the tie at node 2 to node 4's side.
        let r = nearest(&g, &q(&[4, 0], None, f64::INFINITY));
        assert_eq!(r.source, vec![1, 1, 0, 0, 0]);
        assert_eq!(r.length[2], 80.0);
    }

    #[test]
    fn offsets_and_cutoff() {
        let g = graph(3, &[(0, 1, 10.0, 1.0), (1, 2, 10.0, 1.0)], true);
        // Source 1 at node 2 starts 25 s late: node 1 is 10 s from node 0, 35 s from node 2.
        let r = nearest(&g, &q(&[0, 2], Some(&[0.0, 25.0]), f64::INFINITY));
        assert_eq!(r.time, vec![0.0, 10.0, 20.0]);
        assert_eq!(r.source, vec![0, 0, 0]);
        // Cutoff is inclusive: time 10 is reached with cutoff 10, time 20 is not.
        let r = nearest(&g, &q(&[0], None, 10.0));
        assert_eq!(r.time, vec![0.0, 10.0, f64::INFINITY]);
        assert_eq!(r.source, vec![0, 0, NO_SOURCE]);
        // A source whose offset exceeds the cutoff reaches nothing, not even itself.
        let r = nearest(&g, &q(&[2], Some(&[11.0]), 10.0));
        assert!(r.time.iter().all(|t| t.is_infinite()));
    }

    /// A zero-weight arc lets a lower source index arrive at an already settled node with
    /// the same time; the node must be re-opened and its label passed on.
    #[test]
    fn zero_weight_ties_reopen_settled_nodes() {
        // Sources: index 0 at node 0, index 1 at node 1. Arcs: 1->2 (0 s), 0->1 (0 s).
        // Node 1 starts with (0, src 1) and may be settled before node 0 relaxes 0->1 with
        // (0, src 0); then node 2 must end with source 0 too.
        let g = graph(3, &[(1, 2, 0.0, 5.0), (0, 1, 0.0, 7.0)], false);
        for sources in [[1u32, 0u32], [0, 1]] {
            let query = q(&sources, None, f64::INFINITY);
            let r = nearest(&g, &query);
            let s0 = sources.iter().position(|&s| s == 0).unwrap() as u32;
            let s1 = 1 - s0;
            let best = s0.min(s1);
            assert_eq!(r.time, vec![0.0, 0.0, 0.0]);
            assert_eq!(r.source[2], best);
            let expect_len = if best == s0 { 12.0 } else { 5.0 };
            assert_eq!(r.length[2], expect_len);
            assert_eq!(r, dijkstra(&g, &query));
        }
    }

    #[test]
    fn duplicate_sources_keep_lowest_index_and_offset() {
        let g = graph(2, &[(0, 1, 1.0, 1.0)], false);
        let r = nearest(&g, &q(&[0, 0], Some(&[3.0, 2.0]), f64::INFINITY));
        assert_eq!(r.time, vec![2.0, 3.0]);
        assert_eq!(r.source, vec![1, 1]);
        let r = nearest(&g, &q(&[0, 0], Some(&[2.0, 2.0]), f64::INFINITY));
        assert_eq!(r.source, vec![0, 0]);
    }

    #[test]
    fn query_validation_names_the_culprit() {
        let e = validate_query(3, &[0, -1], None, 1.0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "source 1: node id -1 is outside 0..2; sources must be node ids of the graph"
        );
        assert!(validate_query(3, &[0], Some(&[f64::NAN]), 1.0).is_err());
        assert!(validate_query(3, &[0], Some(&[1.0, 2.0]), 1.0).is_err());
        assert!(validate_query(3, &[0], None, -1.0).is_err());
        assert!(validate_query(3, &[0], None, f64::INFINITY).is_ok());
    }
}
