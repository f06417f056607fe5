//! The search of one thread: a reusable [`Workspace`] expanding Dial's buckets (with the
//! prefetch pipeline) when the arc times allow, a radix heap otherwise.

use crate::graph::Graph;
use crate::search::label::{BucketPlan, Label};
use crate::search::prefetch::prefetch_ahead;
use crate::search::radix_heap::RadixHeap;
use crate::search::{start_offset, NearestResult, Query};

/// Reusable search memory for graphs of one size: allocate once per thread, run many
/// searches. Only the nodes a search touched are reset before the next one, so a batch
/// of small (cut-off) searches costs what they touch, not `num_nodes` each.
///
/// Two queues, one result: Dial's buckets (`BucketPlan`) when the arc times allow,
/// expanded with a software prefetch pipeline (`prefetch_ahead`); otherwise a radix
/// heap. One large search on several threads is
/// [`nearest_parallel`](crate::search::nearest_parallel); all give the same labels.
pub struct Workspace {
    labels: Vec<Label>,
    touched: Vec<u32>,
    heap: RadixHeap,
    buckets: Vec<Vec<u32>>,
    current: Vec<u32>,
}

impl Workspace {
    pub fn new(num_nodes: usize) -> Self {
        let mut labels = crate::memory::huge_page_vec(num_nodes);
        labels.resize(num_nodes, Label::UNREACHED);
        Workspace {
            labels,
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

    /// Run one multi-source search. The query must have passed
    /// [`validate_query`](crate::search::validate_query).
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
        !self.labels[v as usize].is_untouched()
    }

    /// The labels as plain per-node arrays (one sequential pass, no per-node scatter).
    /// Nodes of the graphs this workspace searches.
    pub fn num_nodes(&self) -> usize {
        self.labels.len()
    }

    /// The labels, for the parallel search that shares this memory (all `UNREACHED`
    /// between searches: see [`Workspace::take_result`]).
    pub(crate) fn labels_mut(&mut self) -> &mut [Label] {
        debug_assert!(self.touched.is_empty());
        &mut self.labels
    }

    /// Copy every label out and reset the ones this search touched, so that the
    /// memory is clean for the next search (sequential or parallel).
    pub fn take_result(&mut self) -> NearestResult {
        let n = self.labels.len();
        let mut out = NearestResult {
            time: crate::memory::huge_page_vec(n),
            source: crate::memory::huge_page_vec(n),
            length: crate::memory::huge_page_vec(n),
        };
        // One pass in memory order copies each label out and resets it in the same cache
        // line; resetting through `touched` instead would visit the labels in search order.
        for l in &mut self.labels {
            out.time.push(l.time);
            out.source.push(l.source);
            out.length.push(l.length);
            *l = Label::UNREACHED;
        }
        self.touched.clear();
        self.heap.clear();
        out
    }

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

/// One search on this thread, full per-node arrays.
pub fn nearest_sequential(graph: &Graph, query: &Query) -> NearestResult {
    let mut ws = Workspace::new(graph.num_nodes());
    ws.run(graph, query);
    ws.into_result()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{dijkstra, graph, grid, label_bits, query};

    #[test]
    fn workspace_reuse_gives_identical_results() {
        let g = graph(
            4,
            &[(0, 1, 1.0, 1.0), (1, 2, 2.0, 2.0), (2, 3, 3.0, 3.0)],
            true,
        );
        let mut ws = Workspace::new(4);
        ws.run(&g, &query(&[3], None, f64::INFINITY));
        ws.run(&g, &query(&[0], None, 2.5));
        assert!(ws.reached(1) && !ws.reached(2) && !ws.reached(3));
        assert_eq!(ws.time(1), 1.0);
    }

    fn labels(ws: &Workspace, n: u32) -> Vec<(u64, u32, u64)> {
        (0..n)
            .map(|v| (ws.time(v).to_bits(), ws.source(v), ws.length(v).to_bits()))
            .collect()
    }

    /// Bucket queue, radix heap and the plain Dijkstra oracle give identical labels.
    #[test]
    fn bucket_queue_equals_radix_heap_and_oracle() {
        let g = grid(60, 7, 0.0);
        let n = g.num_nodes() as u32;
        let sources: Vec<u32> = vec![0, 1234, 1799, 3599, 2000, 2001];
        let offsets = [0.0, 3.0, 0.0, 1.5, 40.0, 0.0];
        for (offsets, cutoff) in [(None, f64::INFINITY), (Some(&offsets[..]), 25.0)] {
            let q = query(&sources, offsets, cutoff);
            assert!(BucketPlan::new(&g, &q).is_some());
            let mut heap_ws = Workspace::new(n as usize);
            heap_ws.run_heap(&g, &q);
            let expect = labels(&heap_ws, n);
            let mut seq = Workspace::new(n as usize);
            seq.run(&g, &q);
            assert_eq!(labels(&seq, n), expect);
            assert_eq!(label_bits(&dijkstra(&g, &q)), expect);
        }
    }
}
