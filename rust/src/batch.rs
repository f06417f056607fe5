//! Many independent searches over one shared graph, in parallel with rayon.
//!
//! As in fast_paths and RoutingKit, the graph is shared read-only and each worker thread
//! owns one reusable [`Workspace`] for the whole batch, so a batch allocates
//! `threads × num_nodes` labels once, not once per search. Results come back in input
//! order and do not depend on the number of threads: every search is independent and
//! deterministic.

use std::ops::Range;
use std::sync::Mutex;

use rayon::prelude::*;

use crate::error::{Error, QueryError, SourceSetError};
use crate::graph::Graph;
use crate::histogram::{band_histogram, BandHistogram};
use crate::search::{check_query, Query, Workspace};

/// `S` source sets in CSR form: set `i` is `nodes[indptr[i]..indptr[i + 1]]`, with the
/// matching slice of `offsets` when given.
#[derive(Debug, Clone, Copy)]
pub struct SourceSets<'a> {
    pub indptr: &'a [usize],
    pub nodes: &'a [u32],
    pub offsets: Option<&'a [f64]>,
}

impl<'a> SourceSets<'a> {
    pub fn len(&self) -> usize {
        self.indptr.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn query(&self, i: usize, cutoff: f64) -> Query<'a> {
        let r = self.indptr[i]..self.indptr[i + 1];
        Query {
            sources: &self.nodes[r.clone()],
            offsets: self.offsets.map(|o| &o[r]),
            cutoff,
        }
    }
}

/// Source sets checked against a graph and held in the core's types (the owner behind
/// a [`SourceSets`] view), from the `int64` arrays a caller such as numpy passes.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedSourceSets {
    indptr: Vec<usize>,
    nodes: Vec<u32>,
    offsets: Option<Vec<f64>>,
}

impl OwnedSourceSets {
    /// Check `S` source sets in CSR form (`indptr` of `S + 1` entries into `nodes`, with
    /// one start offset per node if given) against a graph of `num_nodes` nodes, as
    /// [`validate_query`](crate::search::validate_query) checks one query. The error
    /// names the set.
    pub fn new(
        num_nodes: usize,
        indptr: &[i64],
        nodes: &[i64],
        offsets: Option<&[f64]>,
        cutoff: f64,
    ) -> Result<Self, Error> {
        if indptr.is_empty() || indptr[0] != 0 || indptr[indptr.len() - 1] != nodes.len() as i64 {
            return Err(SourceSetError::Indptr {
                nodes: nodes.len(),
                entries: indptr.len(),
            }
            .into());
        }
        if let Some(o) = offsets {
            if o.len() != nodes.len() {
                return Err(QueryError::OffsetCount {
                    sources: nodes.len(),
                    offsets: o.len(),
                }
                .into());
            }
        }
        // Check the whole indptr before slicing anything with it.
        for (set, w) in indptr.windows(2).enumerate() {
            if w[1] < w[0] {
                return Err(SourceSetError::Decreasing {
                    set,
                    start: w[0],
                    end: w[1],
                }
                .into());
            }
        }
        for (set, w) in indptr.windows(2).enumerate() {
            let r = w[0] as usize..w[1] as usize;
            check_query(num_nodes, &nodes[r.clone()], offsets.map(|o| &o[r]), cutoff)
                .map_err(|error| SourceSetError::Set { set, error })?;
        }
        Ok(OwnedSourceSets {
            indptr: indptr.iter().map(|&x| x as usize).collect(),
            nodes: nodes.iter().map(|&x| x as u32).collect(),
            offsets: offsets.map(|o| o.to_vec()),
        })
    }

    /// The sets as a borrowed [`SourceSets`].
    pub fn view(&self) -> SourceSets<'_> {
        SourceSets {
            indptr: &self.indptr,
            nodes: &self.nodes,
            offsets: self.offsets.as_deref(),
        }
    }
}

/// Check that a target mask has one entry per node.
pub fn check_target_count(entries: usize, num_nodes: usize) -> Result<(), Error> {
    if entries != num_nodes {
        return Err(SourceSetError::TargetCount { entries, num_nodes }.into());
    }
    Ok(())
}

/// One workspace per worker thread of the current rayon pool, created on first use and
/// kept for the life of the pool object (i.e. across the chunks of a batch).
pub struct WorkspacePool {
    num_nodes: usize,
    slots: Vec<Mutex<Option<Workspace>>>,
}

impl WorkspacePool {
    pub fn new(num_nodes: usize, threads: usize) -> Self {
        WorkspacePool {
            num_nodes,
            slots: (0..threads.max(1)).map(|_| Mutex::new(None)).collect(),
        }
    }

    /// Run `f` with the calling thread's workspace. The lock is uncontended: each rayon
    /// worker has its own slot (index = rayon thread index).
    pub fn with<R>(&self, f: impl FnOnce(&mut Workspace) -> R) -> R {
        let i = rayon::current_thread_index().unwrap_or(0) % self.slots.len();
        let mut slot = self.slots[i].lock().unwrap_or_else(|p| p.into_inner());
        let ws = slot.get_or_insert_with(|| Workspace::new(self.num_nodes));
        f(ws)
    }
}

/// Reached nodes of one search, ascending by node id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseSearch {
    pub node: Vec<u32>,
    pub time: Vec<f64>,
    pub length: Vec<f64>,
    pub source: Vec<u32>,
}

/// Run searches `range` of `sets`; keep reached nodes (only those in `targets` if given).
pub fn sparse_searches(
    graph: &Graph,
    pool: &WorkspacePool,
    sets: &SourceSets,
    range: Range<usize>,
    cutoff: f64,
    targets: Option<&[bool]>,
) -> Vec<SparseSearch> {
    range
        .into_par_iter()
        .map(|i| {
            pool.with(|ws| {
                ws.run(graph, &sets.query(i, cutoff));
                ws.sort_touched();
                let mut out = SparseSearch::default();
                for &v in ws.touched() {
                    if targets.is_none_or(|t| t[v as usize]) {
                        out.node.push(v);
                        out.time.push(ws.time(v));
                        out.length.push(ws.length(v));
                        out.source.push(ws.source(v));
                    }
                }
                out
            })
        })
        .collect()
}

/// What to histogram: node weights (row-major `num_nodes × columns`) and band edges.
#[derive(Debug, Clone, Copy)]
pub struct HistogramSpec<'a> {
    pub weights: &'a [f64],
    pub columns: usize,
    pub edges: &'a [f64],
}

/// Run searches `range` of `sets`, returning only their weighted band histograms.
pub fn histogram_searches(
    graph: &Graph,
    pool: &WorkspacePool,
    sets: &SourceSets,
    range: Range<usize>,
    cutoff: f64,
    spec: HistogramSpec,
) -> Vec<BandHistogram> {
    range
        .into_par_iter()
        .map(|i| {
            pool.with(|ws| {
                ws.run(graph, &sets.query(i, cutoff));
                band_histogram(ws, spec.weights, spec.columns, spec.edges)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::nearest;

    fn ring(n: i64) -> Graph {
        let tail: Vec<i64> = (0..n).collect();
        let head: Vec<i64> = (0..n).map(|i| (i + 1) % n).collect();
        let time: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
        let len: Vec<f64> = (0..n).map(|i| 10.0 * (1 + i % 2) as f64).collect();
        Graph::from_edges(n, &tail, &head, &time, &len, true).unwrap()
    }

    #[test]
    fn batch_equals_single_searches_for_any_thread_count() {
        let g = ring(50);
        let indptr = [0usize, 1, 3, 3, 4];
        let nodes = [5u32, 7, 40, 49];
        let sets = SourceSets {
            indptr: &indptr,
            nodes: &nodes,
            offsets: None,
        };
        let mut results = Vec::new();
        for threads in [1, 2, 3] {
            let tp = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let pool = WorkspacePool::new(g.num_nodes(), threads);
            results.push(tp.install(|| sparse_searches(&g, &pool, &sets, 0..4, 6.0, None)));
        }
        assert_eq!(results[0], results[1]);
        assert_eq!(results[0], results[2]);
        for (i, r) in results[0].iter().enumerate() {
            let single = nearest(&g, &sets.query(i, 6.0));
            let reached: Vec<u32> = (0..50u32)
                .filter(|&v| single.time[v as usize].is_finite())
                .collect();
            assert_eq!(r.node, reached);
            for (k, &v) in r.node.iter().enumerate() {
                assert_eq!(r.time[k], single.time[v as usize]);
                assert_eq!(r.length[k], single.length[v as usize]);
                assert_eq!(r.source[k], single.source[v as usize]);
            }
        }
        assert!(
            results[0][2].node.is_empty(),
            "an empty source set reaches nothing"
        );
    }

    #[test]
    fn source_sets_are_checked_set_by_set() {
        let sets = OwnedSourceSets::new(3, &[0, 1, 3], &[0, 1, 2], None, 5.0).unwrap();
        assert_eq!(sets.view().len(), 2);
        assert_eq!(sets.view().query(1, 5.0).sources, &[1, 2]);
        let err = |indptr: &[i64], nodes: &[i64], offsets: Option<&[f64]>, cutoff: f64| {
            OwnedSourceSets::new(3, indptr, nodes, offsets, cutoff)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(&[1, 2], &[0], None, 1.0),
            "source-set indptr must start at 0 and end at the number of source nodes (1); \
             got 2 entries"
        );
        assert_eq!(
            err(&[0, 2, 1, 2], &[0, 1], None, 1.0),
            "source-set indptr decreases at set 1 (2 > 1)"
        );
        assert_eq!(
            err(&[0, 1, 2], &[0, 7], None, 1.0),
            "source set 1: source 0: node id 7 is outside 0..2; sources must be node ids of \
             the graph"
        );
        assert!(err(&[0, 1], &[0], Some(&[1.0, 2.0]), 1.0).contains("one offset per source"));
        assert!(check_target_count(3, 3).is_ok());
        assert!(check_target_count(2, 3).is_err());
    }
}
