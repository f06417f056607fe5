//! One large nearest search on several threads, with the same labels as the sequential
//! [`Workspace`](crate::search::Workspace).
//!
//! Owner computes. Nodes are dealt to threads in blocks of consecutive ids (block `b`
//! goes to thread `b % threads`), so every thread owns pieces of every region
//! and the wavefronts of a search keep all threads equally busy. Each thread keeps its own
//! Dial bucket ring and is the only one that reads or writes the labels of its nodes.
//! Buckets are expanded in lock step: in step `k` every thread expands its part of bucket
//! `cur`; an offer to a node it owns is applied at once, an offer to another thread's node
//! goes to a mailbox; a barrier; then each thread applies the offers mailed to it before it
//! expands the next bucket. Because every offer lands at least one bucket later (see
//! `BucketPlan`), every label of bucket `cur` is final when it is expanded, exactly as
//! in the sequential search, and each label is the lexicographic minimum of the offers it
//! received: the result does not depend on the number of threads or their timing.
//!
//! The barrier spins (a step of a national search is a few microseconds, too short to
//! sleep and wake) and yields after a while, so it stays correct, if slow, when the
//! machine has fewer free cores than threads. Threads are scoped OS threads rather than
//! rayon tasks: a lock-step search needs all its threads running at once, which a busy
//! rayon pool does not promise.

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::graph::Graph;
use crate::search::label::{BucketPlan, Label};
use crate::search::prefetch::prefetch_ahead;
use crate::search::{start_offset, NearestResult, Query};

/// Blocks of at most 16,384 consecutive node ids: large enough that few arcs cross to
/// another thread (ids follow geography in road and hexagon graphs)...
const MAX_BLOCK_SHIFT: u32 = 14;
/// ...and at least this many blocks per thread, so that each thread owns blocks all over
/// the map and the wavefronts keep every thread busy.
const BLOCKS_PER_THREAD: usize = 8;

/// log2 of the block size for `n` nodes on `threads` threads.
fn block_shift(n: usize, threads: usize) -> u32 {
    let block = (n / (threads * BLOCKS_PER_THREAD)).max(1);
    block.ilog2().min(MAX_BLOCK_SHIFT)
}

/// Below this many nodes one thread is faster than starting and synchronising several.
pub const MIN_PARALLEL_NODES: usize = 1 << 14;

/// Threads of one search when the caller does not say (capped by the rayon pool's size).
pub const DEFAULT_SEARCH_THREADS: usize = 8;

/// More threads gain nothing on a memory-bound search (and keep `threads²` mailboxes small).
const MAX_THREADS: usize = 64;

/// One mailed label offer.
#[derive(Debug, Clone, Copy)]
struct Offer {
    node: u32,
    source: u32,
    time: f64,
    length: f64,
}

/// Labels shared by all threads; each node's label is only ever touched by its owner.
struct SharedLabels {
    ptr: *mut Label,
    len: usize,
}

// SAFETY: threads access disjoint labels (owner computes); see `get`.
unsafe impl Sync for SharedLabels {}

impl SharedLabels {
    /// # Safety
    /// Only the owner of `v` may call this, and never while holding another reference
    /// to the same label.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    unsafe fn get(&self, v: u32) -> &mut Label {
        debug_assert!((v as usize) < self.len);
        &mut *self.ptr.add(v as usize)
    }
}

/// Mailboxes `[parity][from][to]`, double-buffered by step parity: in step `k` thread
/// `from` fills `[k % 2][from][*]`; after the barrier of step `k` the receivers drain it,
/// and `from` refills it only in step `k + 2`, after the barrier of step `k + 1`, which
/// every receiver reaches only once it has drained. So no mailbox is ever read and
/// written at the same time.
struct Mail {
    boxes: Vec<UnsafeCell<Vec<Offer>>>,
    threads: usize,
}

// SAFETY: access follows the step discipline described on the type.
unsafe impl Sync for Mail {}

impl Mail {
    fn new(threads: usize) -> Self {
        Mail {
            boxes: (0..2 * threads * threads)
                .map(|_| UnsafeCell::new(Vec::new()))
                .collect(),
            threads,
        }
    }

    fn index(&self, parity: usize, from: usize, to: usize) -> usize {
        (parity * self.threads + from) * self.threads + to
    }

    /// # Safety
    /// Only thread `from`, in a step of this parity.
    #[allow(clippy::mut_from_ref)]
    unsafe fn outbox(&self, parity: usize, from: usize, to: usize) -> &mut Vec<Offer> {
        &mut *self.boxes[self.index(parity, from, to)].get()
    }

    /// # Safety
    /// Only thread `to`, in the step after one of this parity.
    unsafe fn inbox(&self, parity: usize, from: usize, to: usize) -> &[Offer] {
        &*self.boxes[self.index(parity, from, to)].get()
    }
}

/// A reusable barrier for a fixed number of threads that spins, then yields.
struct SpinBarrier {
    arrived: AtomicUsize,
    generation: AtomicUsize,
    threads: usize,
}

impl SpinBarrier {
    fn new(threads: usize) -> Self {
        SpinBarrier {
            arrived: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
            threads,
        }
    }

    /// Wait until all threads have called `wait` for this round. Everything a thread
    /// wrote before waiting is visible to every thread after it.
    fn wait(&self) {
        let generation = self.generation.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.threads {
            self.arrived.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::Release);
            return;
        }
        let mut spins = 0u32;
        while self.generation.load(Ordering::Acquire) == generation {
            if spins < 1 << 8 {
                spins += 1;
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// Everything the threads of one search share.
struct Shared<'a> {
    graph: &'a Graph,
    query: &'a Query<'a>,
    plan: BucketPlan,
    threads: usize,
    block_shift: u32,
    labels: SharedLabels,
    mail: Mail,
    barrier: SpinBarrier,
    /// Each thread's earliest pending bucket, `[parity][thread]` (double-buffered like
    /// the mail so that a fast thread never overwrites a value a slow one has yet to read).
    next: Vec<AtomicU64>,
}

impl Shared<'_> {
    #[inline(always)]
    fn owner(&self, v: u32) -> usize {
        (v >> self.block_shift) as usize % self.threads
    }

    /// Publish this thread's earliest pending bucket, wait for all, return the earliest
    /// of all (`u64::MAX`: the search is over).
    fn agree_on_next(&self, me: usize, step: usize, mine: u64) -> u64 {
        let row = (step & 1) * self.threads;
        self.next[row + me].store(mine, Ordering::Relaxed);
        self.barrier.wait();
        (0..self.threads)
            .map(|t| self.next[row + t].load(Ordering::Relaxed))
            .min()
            .unwrap_or(u64::MAX)
    }
}

/// One thread's queue.
struct Worker {
    me: usize,
    buckets: Vec<Vec<u32>>,
    current: Vec<u32>,
    pending: usize,
}

impl Worker {
    /// Offer a label to `v`, a node this thread owns; queue it if it improved.
    #[inline(always)]
    fn offer(&mut self, sh: &Shared, v: u32, time: f64, source: u32, length: f64) {
        // SAFETY: callers pass only nodes this thread owns.
        let label = unsafe { sh.labels.get(v) };
        if label.offer(time, source, length) {
            self.buckets[sh.plan.slot(sh.plan.bucket_of(time))].push(v);
            self.pending += 1;
        }
    }

    /// Earliest bucket after `cur` holding an entry of this thread (`u64::MAX`: none).
    fn next_pending(&self, sh: &Shared, cur: u64) -> u64 {
        if self.pending == 0 {
            return u64::MAX;
        }
        // Pending entries lie less than one ring ahead, so this loop finds one.
        (cur.wrapping_add(1)..)
            .find(|&b| !self.buckets[sh.plan.slot(b)].is_empty())
            .unwrap_or(u64::MAX)
    }

    /// Take part in the search until every thread's queue is empty.
    fn run(&mut self, sh: &Shared) {
        let first = self.seed(sh);
        // Step "-1" publishes the seeds with parity 1, so step 0 finds empty inboxes.
        let mut cur = sh.agree_on_next(self.me, 1, first);
        let mut step = 0usize;
        while cur != u64::MAX {
            let parity = step & 1;
            self.apply_mail(sh, parity);
            let mailed = self.expand(sh, cur, parity);
            let mine = self.next_pending(sh, cur).min(mailed);
            cur = sh.agree_on_next(self.me, step, mine);
            step += 1;
        }
    }

    /// Offer the start labels of the sources this thread owns; returns the earliest
    /// bucket they fill (`u64::MAX`: none).
    #[inline(always)]
    fn seed(&mut self, sh: &Shared) -> u64 {
        let mut first = u64::MAX;
        for (i, &s) in sh.query.sources.iter().enumerate() {
            let offset = start_offset(sh.query, i);
            if sh.owner(s) == self.me && offset <= sh.query.cutoff {
                self.offer(sh, s, offset, i as u32, 0.0);
                first = first.min(sh.plan.bucket_of(offset));
            }
        }
        first
    }

    /// Apply the offers mailed to this thread in the previous step, then empty this
    /// thread's outboxes of this step's parity.
    #[inline(always)]
    fn apply_mail(&mut self, sh: &Shared, parity: usize) {
        let me = self.me;
        for from in (0..sh.threads).filter(|&t| t != me) {
            // SAFETY: the previous step's mail, filled before the barrier we passed.
            for o in unsafe { sh.mail.inbox(1 - parity, from, me) } {
                self.offer(sh, o.node, o.time, o.source, o.length);
            }
        }
        for to in 0..sh.threads {
            // SAFETY: our own outboxes of this parity; their readers finished with them
            // before the previous barrier.
            unsafe { sh.mail.outbox(parity, me, to) }.clear();
        }
    }

    /// Expand this thread's part of bucket `cur`: offers to own nodes are applied, the
    /// others mailed. Returns the earliest bucket of a mailed offer (`u64::MAX`: none).
    #[inline(always)]
    fn expand(&mut self, sh: &Shared, cur: u64, parity: usize) -> u64 {
        let (me, plan, cutoff) = (self.me, sh.plan, sh.query.cutoff);
        let mut current = std::mem::take(&mut self.current);
        std::mem::swap(&mut current, &mut self.buckets[plan.slot(cur)]);
        self.pending -= current.len();
        // As in the sequential search: every label of the bucket is final, any order
        // of expansion gives the same result.
        let mut mailed = u64::MAX;
        for (i, &u) in current.iter().enumerate() {
            prefetch_ahead(sh.graph, sh.labels.ptr, &current, i);
            // SAFETY: `u` was queued by this thread, so it owns it.
            let Some((time, source, length)) = unsafe { sh.labels.get(u) }.settle_in(plan, cur)
            else {
                continue;
            };
            for arc in sh.graph.out_arcs(u) {
                let t = time + arc.time;
                if t > cutoff {
                    continue;
                }
                let owner = sh.owner(arc.head);
                if owner == me {
                    self.offer(sh, arc.head, t, source, length + arc.length);
                } else {
                    // SAFETY: our own outbox for this step.
                    unsafe { sh.mail.outbox(parity, me, owner) }.push(Offer {
                        node: arc.head,
                        source,
                        time: t,
                        length: length + arc.length,
                    });
                    mailed = mailed.min(plan.bucket_of(t));
                }
            }
        }
        current.clear();
        self.current = current;
        mailed
    }
}

/// Label memory kept between searches on one graph, so that a repeated national search
/// neither allocates nor page-faults its labels again. Between searches every label is
/// `UNREACHED`: the final pass of a search copies each label out and resets it in the same
/// cache line.
#[derive(Default)]
pub struct SearchScratch {
    labels: Vec<Label>,
    /// Labels may hold values of an unfinished search (one that panicked).
    dirty: bool,
}

impl SearchScratch {
    pub fn new() -> Self {
        Self::default()
    }

    fn prepare(&mut self, n: usize) {
        if self.labels.len() != n || self.dirty {
            self.labels = Vec::new();
            let mut labels = crate::memory::huge_page_vec(n);
            labels.resize(n, Label::UNREACHED);
            self.labels = labels;
        }
        self.dirty = true;
    }
}

/// One multi-source search on `threads` threads, or None when it should run on one (a
/// small graph, one thread, or arc times that need the heap instead of buckets). The
/// query must have passed [`validate_query`](crate::search::validate_query).
pub fn nearest_parallel(graph: &Graph, query: &Query, threads: usize) -> Option<NearestResult> {
    nearest_parallel_with(graph, query, threads, &mut SearchScratch::new())
}

/// [`nearest_parallel`] with label memory kept from an earlier search on a graph of this
/// size.
pub fn nearest_parallel_with(
    graph: &Graph,
    query: &Query,
    threads: usize,
    scratch: &mut SearchScratch,
) -> Option<NearestResult> {
    let n = graph.num_nodes();
    let threads = threads.min(MAX_THREADS);
    if threads < 2 || n < MIN_PARALLEL_NODES {
        return None;
    }
    let plan = BucketPlan::new(graph, query)?;
    scratch.prepare(n);
    let shared = Shared {
        graph,
        query,
        plan,
        threads,
        block_shift: block_shift(n, threads),
        labels: SharedLabels {
            ptr: scratch.labels.as_mut_ptr(),
            len: n,
        },
        mail: Mail::new(threads),
        barrier: SpinBarrier::new(threads),
        next: (0..2 * threads).map(|_| AtomicU64::new(u64::MAX)).collect(),
    };
    let result = shared.search();
    scratch.dirty = false;
    Some(result)
}

impl Shared<'_> {
    /// Run the search on all threads (this one among them); then each thread copies out
    /// and resets one contiguous share of the labels.
    fn search(&self) -> NearestResult {
        let n = self.labels.len;
        let chunk = n.div_ceil(self.threads);
        // n >= MIN_PARALLEL_NODES > threads², so every thread gets a non-empty share.
        debug_assert_eq!(n.div_ceil(chunk), self.threads);
        let mut time = crate::memory::huge_page_vec::<f64>(n);
        let mut source = crate::memory::huge_page_vec::<u32>(n);
        let mut length = crate::memory::huge_page_vec::<f64>(n);
        let pieces = time.spare_capacity_mut()[..n]
            .chunks_mut(chunk)
            .zip(source.spare_capacity_mut()[..n].chunks_mut(chunk))
            .zip(length.spare_capacity_mut()[..n].chunks_mut(chunk))
            .enumerate();
        std::thread::scope(|scope| {
            for (me, ((time, source), length)) in pieces {
                let mut work = move || {
                    let mut worker = Worker {
                        me,
                        buckets: vec![Vec::new(); self.plan.ring()],
                        current: Vec::new(),
                        pending: 0,
                    };
                    worker.run(self);
                    self.take_labels(me * chunk, time, source, length);
                };
                if me + 1 == self.threads {
                    work();
                } else {
                    scope.spawn(work);
                }
            }
        });
        // SAFETY: the threads wrote every element of their shares, and the shares cover 0..n.
        unsafe {
            time.set_len(n);
            source.set_len(n);
            length.set_len(n);
        }
        NearestResult {
            time,
            source,
            length,
        }
    }

    /// Copy labels `lo..lo + time.len()` into one thread's share of the output arrays and
    /// reset them to `UNREACHED` for the next search.
    fn take_labels(
        &self,
        lo: usize,
        time: &mut [MaybeUninit<f64>],
        source: &mut [MaybeUninit<u32>],
        length: &mut [MaybeUninit<f64>],
    ) {
        // The last step ended with a barrier that every thread passed after its last
        // write: all labels are final and visible.
        for i in 0..time.len() {
            // SAFETY: shares are disjoint and no thread searches any more.
            let label = unsafe { self.labels.get((lo + i) as u32) };
            time[i].write(label.time);
            source[i].write(label.source);
            length[i].write(label.length);
            *label = Label::UNREACHED;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::nearest_sequential;
    use crate::test_support::{dijkstra, grid, label_bits as bits, query};

    /// Identical labels for 2, 3 and 5 threads, with offsets, a cutoff, duplicate sources
    /// and many ties, on a graph large enough to run in parallel.
    #[test]
    fn every_thread_count_gives_the_sequential_labels() {
        let g = grid(400, 11, 0.03);
        assert!(g.num_nodes() >= MIN_PARALLEL_NODES);
        let sources: Vec<u32> = vec![0, 77_777, 159_999, 80_200, 80_200, 16_383, 16_384];
        let offsets = [0.0, 3.0, 0.0, 1.5, 0.5, 40.0, 0.0];
        for (offsets, cutoff) in [(None, f64::INFINITY), (Some(&offsets[..]), 150.0)] {
            let q = query(&sources, offsets, cutoff);
            let expect = bits(&nearest_sequential(&g, &q));
            assert_eq!(bits(&dijkstra(&g, &q)), expect);
            for threads in [2, 3, 5] {
                let r = nearest_parallel(&g, &q, threads).expect("runs in parallel");
                assert_eq!(bits(&r), expect, "{threads} threads");
            }
        }
    }

    #[test]
    fn small_graphs_and_one_thread_stay_sequential() {
        let g = grid(20, 3, 0.03);
        let q = query(&[0], None, f64::INFINITY);
        assert!(nearest_parallel(&g, &q, 4).is_none());
        let g = grid(400, 3, 0.03);
        assert!(nearest_parallel(&g, &q, 1).is_none());
    }
}
