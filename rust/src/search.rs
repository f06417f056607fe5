//! Multi-source nearest search: for every node, the time to the nearest source, which
//! source that is, and the length of that fastest path. See `docs/engine-semantics.md`
//! for the exact definition; in short, labels `(time, source, length)` are compared
//! lexicographically, so equal-time ties go to the lowest source index and then to the
//! shortest length, and the result depends on the graph alone, never on heap order.

use crate::graph::Graph;
use crate::radix_heap::RadixHeap;

/// Source index reported for unreached nodes.
pub const NO_SOURCE: u32 = u32::MAX;

const UNTOUCHED: u8 = 0;
const QUEUED: u8 = 1;
const SETTLED: u8 = 2;

/// A set of sources for one search: node ids, optional start offsets (seconds, e.g. a
/// terminal time at an office), and a cutoff beyond which nodes are left unreached.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    pub sources: &'a [u32],
    pub offsets: Option<&'a [f64]>,
    pub cutoff: f64,
}

/// Why a query was refused (checked before any search runs).
#[derive(Debug, Clone, PartialEq)]
pub enum QueryError {
    SourceOutOfRange {
        index: usize,
        node: i64,
        num_nodes: usize,
    },
    BadOffset {
        index: usize,
        value: f64,
    },
    OffsetCount {
        sources: usize,
        offsets: usize,
    },
    BadCutoff(f64),
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::SourceOutOfRange {
                index,
                node,
                num_nodes,
            } => write!(
                f,
                "source {index}: node id {node} is outside 0..{}; sources must be node ids of \
                 the graph",
                *num_nodes as i64 - 1
            ),
            QueryError::BadOffset { index, value } => write!(
                f,
                "source {index}: start offset {value} s is invalid; offsets must be finite and >= 0"
            ),
            QueryError::OffsetCount { sources, offsets } => write!(
                f,
                "got {offsets} start offsets for {sources} sources; give one offset per source"
            ),
            QueryError::BadCutoff(c) => write!(
                f,
                "cutoff {c} s is invalid; it must be >= 0 (use no cutoff for an unbounded search)"
            ),
        }
    }
}

impl std::error::Error for QueryError {}

/// Check a query against a graph of `num_nodes` nodes. Sources arrive as `i64` so that
/// negative ids from numpy are reported rather than wrapped.
pub fn validate_query(
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

/// Largest ring of buckets the bucket queue may use; beyond it (arc times spanning many
/// bucket widths) the search falls back to the radix heap.
const MAX_BUCKETS: usize = 1 << 16;

/// Distance (in bucket entries) between the stages of the prefetch pipeline.
pub(crate) const PREFETCH_STAGE: usize = 16;

/// One node's label and queue state, together: a relaxation reads the time and, on ties,
/// the source and length, so keeping them in one struct (aligned so that it never
/// straddles two cache lines) costs one cache miss, not four.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(32))]
pub(crate) struct Label {
    pub(crate) time: f64,
    pub(crate) length: f64,
    pub(crate) source: u32,
    pub(crate) state: u8,
}

impl Label {
    pub(crate) const UNREACHED: Label = Label {
        time: f64::INFINITY,
        length: f64::INFINITY,
        source: NO_SOURCE,
        state: UNTOUCHED,
    };

    /// Offer `(time, source, length)`; keep it if lexicographically smaller. Returns true
    /// when the node needs a (new) queue entry at `time`.
    #[inline(always)]
    pub(crate) fn offer(&mut self, time: f64, source: u32, length: f64) -> bool {
        let old = self.time;
        // Untouched nodes have time = inf, so the first offer always passes here.
        if time > old
            || (time == old
                && (source > self.source || (source == self.source && length >= self.length)))
        {
            return false;
        }
        self.time = time;
        self.source = source;
        self.length = length;
        // When the node is QUEUED at this same time, its queued entry already carries this
        // key and will see the new tie-break fields: no second entry needed.
        let requeue = self.state != QUEUED || time != old;
        if requeue {
            self.state = QUEUED;
        }
        requeue
    }

    #[inline(always)]
    pub(crate) fn is_untouched(&self) -> bool {
        self.state == UNTOUCHED
    }

    #[inline(always)]
    pub(crate) fn is_settled(&self) -> bool {
        self.state == SETTLED
    }

    #[inline(always)]
    pub(crate) fn settle(&mut self) {
        self.state = SETTLED;
    }

    /// Settle a node taken from bucket `cur` and return its `(time, source, length)` to
    /// expand, or None if the entry is stale: the node was already expanded, or improved
    /// into an earlier bucket and expanded there.
    #[inline(always)]
    pub(crate) fn settle_in(&mut self, plan: BucketPlan, cur: u64) -> Option<(f64, u32, f64)> {
        if self.is_settled() || plan.bucket_of(self.time) != cur {
            return None;
        }
        self.settle();
        Some((self.time, self.source, self.length))
    }
}

/// Dial's bucket queue layout for one graph and query. When every arc (self loops aside)
/// takes at least `width`, the largest power of two not above the shortest arc time, a
/// node's tight predecessors lie in strictly earlier buckets: every label in the current
/// bucket is final, and every offer it makes lands in a later bucket. `width` is a power of
/// two so that `t * (1 / width)` is exact and bucket boundaries never round; the ring of
/// live buckets has a power-of-two size so that its slot is a mask, not a division.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BucketPlan {
    inv_width: f64,
    mask: u64,
}

impl BucketPlan {
    /// The plan for this graph and query, or None when the arcs or the start offsets span
    /// too many bucket widths (or some arc takes no time): then a heap is used.
    pub(crate) fn new(graph: &Graph, query: &Query) -> Option<BucketPlan> {
        let min_arc = graph.min_arc_time();
        if !(min_arc > 0.0 && min_arc.is_finite()) {
            return None;
        }
        let width = 2f64.powi(min_arc.log2().floor() as i32);
        if !(width > 0.0 && width.is_normal() && (1.0 / width).is_normal()) {
            return None;
        }
        // Live keys span at most the longest arc past the current bucket, or the spread
        // of the start offsets at the beginning.
        let spread = query
            .offsets
            .map_or(0.0, |o| o.iter().fold(0.0f64, |m, &x| m.max(x)))
            .max(graph.max_arc_time());
        let ring = (spread / width).floor() + 2.0;
        if ring > MAX_BUCKETS as f64 {
            return None;
        }
        Some(BucketPlan {
            inv_width: 1.0 / width,
            mask: (ring as u64).next_power_of_two() - 1,
        })
    }

    /// Number of ring slots.
    pub(crate) fn ring(&self) -> usize {
        (self.mask + 1) as usize
    }

    #[inline(always)]
    pub(crate) fn bucket_of(&self, t: f64) -> u64 {
        (t * self.inv_width) as u64
    }

    #[inline(always)]
    pub(crate) fn slot(&self, bucket: u64) -> usize {
        (bucket & self.mask) as usize
    }
}

/// Reusable search memory for graphs of one size: allocate once per thread, run many
/// searches. Only the nodes a search touched are reset before the next one, so a batch
/// of small (cut-off) searches costs what they touch, not `num_nodes` each.
///
/// Two queues, one result: Dial's buckets (`BucketPlan`) when the arc times allow,
/// expanded with a software prefetch pipeline (`prefetch_ahead`); otherwise a radix
/// heap. One large search on several threads is
/// [`crate::parallel_search`]; all give the same labels.
pub struct Workspace {
    labels: Vec<Label>,
    touched: Vec<u32>,
    heap: RadixHeap,
    buckets: Vec<Vec<u32>>,
    current: Vec<u32>,
}

impl Workspace {
    pub fn new(num_nodes: usize) -> Self {
        Workspace {
            labels: vec![Label::UNREACHED; num_nodes],
            touched: Vec::new(),
            heap: RadixHeap::new(),
            buckets: Vec::new(),
            current: Vec::new(),
        }
    }

    fn reset(&mut self) {
        for &v in &self.touched {
            self.labels[v as usize] = Label::UNREACHED;
        }
        self.touched.clear();
        self.heap.clear();
        // The bucket ring needs no clearing: a bucket search ends only once every queued
        // entry has been taken out again (`pending == 0`), and clearing up to 65,536 empty
        // slots per search would cost batches of small searches more than the searches.
        debug_assert!(self.buckets.iter().all(Vec::is_empty));
    }

    /// Offer label `(time, source, length)` to `v`. Returns true when `v` needs a (new)
    /// queue entry at `time`.
    #[inline(always)]
    fn offer(&mut self, v: u32, time: f64, source: u32, length: f64) -> bool {
        let label = &mut self.labels[v as usize];
        let fresh = label.is_untouched();
        let requeue = label.offer(time, source, length);
        if requeue && fresh {
            self.touched.push(v);
        }
        requeue
    }

    /// Run one multi-source search. The query must have passed [`validate_query`].
    pub fn run(&mut self, graph: &Graph, query: &Query) {
        debug_assert_eq!(self.labels.len(), graph.num_nodes());
        self.reset();
        match BucketPlan::new(graph, query) {
            Some(plan) => self.run_buckets(graph, query, plan),
            None => self.run_heap(graph, query),
        }
    }

    /// Offer every source its start label; returns the sources that need queueing.
    fn seed(&mut self, query: &Query) -> Vec<(f64, u32)> {
        let mut queued = Vec::with_capacity(query.sources.len());
        for (i, &s) in query.sources.iter().enumerate() {
            let offset = start_offset(query, i);
            if offset <= query.cutoff && self.offer(s, offset, i as u32, 0.0) {
                queued.push((offset, s));
            }
        }
        queued
    }

    fn run_heap(&mut self, graph: &Graph, query: &Query) {
        let cutoff = query.cutoff;
        for (t, s) in self.seed(query) {
            self.heap.push(t, s);
        }
        while let Some((time, u)) = self.heap.pop() {
            let label = &mut self.labels[u as usize];
            // Stale entry (the node has since been reached faster) or already expanded
            // with its current label.
            if label.time != time || label.is_settled() {
                continue;
            }
            label.settle();
            let (source, length) = (label.source, label.length);
            for arc in graph.out_arcs(u) {
                let t = time + arc.time;
                if t <= cutoff && self.offer(arc.head, t, source, length + arc.length) {
                    self.heap.push(t, arc.head);
                }
            }
        }
    }

    fn run_buckets(&mut self, graph: &Graph, query: &Query, plan: BucketPlan) {
        let cutoff = query.cutoff;
        if self.buckets.len() < plan.ring() {
            self.buckets.resize_with(plan.ring(), Vec::new);
        }
        let mut pending = 0usize;
        let mut cur = u64::MAX;
        for (t, s) in self.seed(query) {
            let b = plan.bucket_of(t);
            cur = cur.min(b);
            self.buckets[plan.slot(b)].push(s);
            pending += 1;
        }
        let mut current = std::mem::take(&mut self.current);
        while pending > 0 {
            std::mem::swap(&mut current, &mut self.buckets[plan.slot(cur)]);
            pending -= current.len();
            // Every label in this bucket is final, so the order of expansion does not
            // matter, and a node queued twice is skipped once settled. (Sorting the bucket
            // into node order helped locality before the prefetch pipeline; with it, the
            // sort only costs time.)
            for (i, &u) in current.iter().enumerate() {
                prefetch_ahead(graph, self.labels.as_ptr(), &current, i);
                let Some((time, source, length)) = self.labels[u as usize].settle_in(plan, cur)
                else {
                    continue;
                };
                for arc in graph.out_arcs(u) {
                    let t = time + arc.time;
                    if t <= cutoff && self.offer(arc.head, t, source, length + arc.length) {
                        self.buckets[plan.slot(plan.bucket_of(t))].push(arc.head);
                        pending += 1;
                    }
                }
            }
            current.clear();
            cur += 1;
        }
        self.current = current;
    }

    /// Nodes that received a label in the last search, in the order they were reached.
    pub fn touched(&self) -> &[u32] {
        &self.touched
    }

    /// Sort the touched list ascending (for outputs in node order).
    pub fn sort_touched(&mut self) {
        self.touched.sort_unstable();
    }

    #[inline(always)]
    pub fn time(&self, v: u32) -> f64 {
        self.labels[v as usize].time
    }

    #[inline(always)]
    pub fn length(&self, v: u32) -> f64 {
        self.labels[v as usize].length
    }

    #[inline(always)]
    pub fn source(&self, v: u32) -> u32 {
        self.labels[v as usize].source
    }

    #[inline(always)]
    pub fn reached(&self, v: u32) -> bool {
        self.labels[v as usize].state != UNTOUCHED
    }

    /// The labels as plain per-node arrays (one sequential pass, no per-node scatter).
    pub fn into_result(self) -> NearestResult {
        let n = self.labels.len();
        let mut out = NearestResult {
            time: Vec::with_capacity(n),
            source: Vec::with_capacity(n),
            length: Vec::with_capacity(n),
        };
        for l in &self.labels {
            out.time.push(l.time);
            out.source.push(l.source);
            out.length.push(l.length);
        }
        out
    }

    /// Bytes held (for memory reports).
    pub fn memory_bytes(&self) -> usize {
        self.labels.capacity() * std::mem::size_of::<Label>() + self.touched.capacity() * 4
    }
}

/// Per-node result of one search, as plain arrays.
#[derive(Debug, Clone, PartialEq)]
pub struct NearestResult {
    pub time: Vec<f64>,
    pub source: Vec<u32>,
    pub length: Vec<f64>,
}

/// One search, full per-node arrays: on all threads of the current rayon pool when the
/// graph is large enough to gain from it ([`crate::parallel_search`]), else on this one.
pub fn nearest(graph: &Graph, query: &Query) -> NearestResult {
    let threads = rayon::current_num_threads();
    crate::parallel_search::nearest(graph, query, threads)
        .unwrap_or_else(|| nearest_sequential(graph, query))
}

/// One search on this thread, full per-node arrays.
pub fn nearest_sequential(graph: &Graph, query: &Query) -> NearestResult {
    let mut ws = Workspace::new(graph.num_nodes());
    ws.run(graph, query);
    ws.into_result()
}

/// The source's start time: its offset (`+ 0.0` folds -0.0 into +0.0, see graph.rs).
#[inline(always)]
pub(crate) fn start_offset(query: &Query, i: usize) -> f64 {
    query.offsets.map_or(0.0, |o| o[i]) + 0.0
}

/// The bucket is known in advance, so the loads a node needs are started a few nodes
/// ahead in three stages, each reading only what the stage before it brought into cache:
/// the node's CSR offset and label (far ahead), its arcs (nearer), and the labels its arcs
/// point to (nearest). A stage that read uncached memory itself would stall on it, and the
/// search is memory-bound: most of its time is such stalls.
#[inline(always)]
pub(crate) fn prefetch_ahead(graph: &Graph, labels: *const Label, nodes: &[u32], i: usize) {
    // Labels are passed as a pointer: only addresses are computed, nothing is read, so
    // the parallel search may hint at labels other threads are writing.
    let hint = |v: u32| crate::prefetch::prefetch_addr(labels.wrapping_add(v as usize) as usize);
    if let Some(&far) = nodes.get(i + 3 * PREFETCH_STAGE) {
        graph.prefetch_offset(far);
        hint(far);
    }
    if let Some(&mid) = nodes.get(i + 2 * PREFETCH_STAGE) {
        graph.prefetch_arcs(mid);
    }
    if let Some(&near) = nodes.get(i + PREFETCH_STAGE) {
        for arc in graph.out_arcs(near) {
            hint(arc.head);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn graph(n: i64, edges: &[(i64, i64, f64, f64)], both: bool) -> Graph {
        let tail: Vec<i64> = edges.iter().map(|e| e.0).collect();
        let head: Vec<i64> = edges.iter().map(|e| e.1).collect();
        let time: Vec<f64> = edges.iter().map(|e| e.2).collect();
        let length: Vec<f64> = edges.iter().map(|e| e.3).collect();
        Graph::from_edges(n, &tail, &head, &time, &length, both).unwrap()
    }

    fn q<'a>(sources: &'a [u32], offsets: Option<&'a [f64]>, cutoff: f64) -> Query<'a> {
        Query {
            sources,
            offsets,
            cutoff,
        }
    }

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
            let r = nearest(&g, &q(&sources, None, f64::INFINITY));
            let s0 = sources.iter().position(|&s| s == 0).unwrap() as u32;
            let s1 = 1 - s0;
            let best = s0.min(s1);
            assert_eq!(r.time, vec![0.0, 0.0, 0.0]);
            assert_eq!(r.source[2], best);
            let expect_len = if best == s0 { 12.0 } else { 5.0 };
            assert_eq!(r.length[2], expect_len);
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
    fn workspace_reuse_gives_identical_results() {
        let g = graph(
            4,
            &[(0, 1, 1.0, 1.0), (1, 2, 2.0, 2.0), (2, 3, 3.0, 3.0)],
            true,
        );
        let mut ws = Workspace::new(4);
        ws.run(&g, &q(&[3], None, f64::INFINITY));
        ws.run(&g, &q(&[0], None, 2.5));
        assert!(ws.reached(1) && !ws.reached(2) && !ws.reached(3));
        assert_eq!(ws.time(1), 1.0);
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

    fn labels(ws: &Workspace, n: u32) -> Vec<(u64, u32, u64)> {
        (0..n)
            .map(|v| (ws.time(v).to_bits(), ws.source(v), ws.length(v).to_bits()))
            .collect()
    }

    /// Bucket queue and radix heap give identical labels.
    #[test]
    fn bucket_queue_equals_radix_heap() {
        let g = grid(60, 7, 0.0);
        let n = g.num_nodes() as u32;
        let sources: Vec<u32> = vec![0, 1234, 1799, 3599, 2000, 2001];
        let offsets = [0.0, 3.0, 0.0, 1.5, 40.0, 0.0];
        for (offsets, cutoff) in [(None, f64::INFINITY), (Some(&offsets[..]), 25.0)] {
            let query = Query {
                sources: &sources,
                offsets,
                cutoff,
            };
            assert!(BucketPlan::new(&g, &query).is_some());
            let mut heap_ws = Workspace::new(n as usize);
            heap_ws.run_heap(&g, &query);
            let expect = labels(&heap_ws, n);
            let mut seq = Workspace::new(n as usize);
            seq.run(&g, &query);
            assert_eq!(labels(&seq, n), expect);
        }
    }

    #[test]
    fn zero_arcs_fall_back_to_the_radix_heap() {
        let g = graph(3, &[(0, 1, 0.0, 1.0), (1, 2, 5.0, 1.0)], true);
        let q = Query {
            sources: &[0],
            offsets: None,
            cutoff: f64::INFINITY,
        };
        assert!(BucketPlan::new(&g, &q).is_none());
        // A huge offset spread needs too many buckets: also the radix heap.
        let g = graph(2, &[(0, 1, 1.0, 1.0)], true);
        let q = Query {
            sources: &[0],
            offsets: Some(&[1e9]),
            cutoff: f64::INFINITY,
        };
        assert!(BucketPlan::new(&g, &q).is_none());
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
