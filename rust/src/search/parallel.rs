//! One large nearest search on several threads, with the same labels as the sequential
//! [`Workspace`](crate::search::Workspace).
//!
//! Nodes are dealt to *parts* in blocks of consecutive ids (block `b` goes to part
//! `b % parts`), one part per thread, so every part holds pieces of every region and the
//! wavefronts of a search keep all threads equally busy. Each part keeps its own Dial
//! bucket ring, and its labels are only ever touched by the thread working on that part.
//! Buckets are expanded in lock step: in step `k` part `p`'s share of bucket `cur` is
//! expanded; an offer to a node of `p` is applied at once, an offer to another part's
//! node goes to a mailbox; once every part has finished step `k`, each part applies the
//! offers mailed to it before it expands the next bucket. Because every offer lands at
//! least one bucket later (see `BucketPlan`), every label of bucket `cur` is final when
//! it is expanded, exactly as in the sequential search, and each label is the
//! lexicographic minimum of the offers it received: the result does not depend on the
//! number of threads, on which thread works on which part, or on their timing.
//!
//! **A busy machine.** A plain barrier makes every step wait for the slowest thread; when
//! another process holds a core, the operating system deschedules one of our threads for
//! a whole time slice (milliseconds) at a time, and a lock-step search on two threads
//! becomes slower than one thread. So threads do not own parts, they *claim* them, one
//! step at a time: thread `t` claims its own part `t` first, and claims another part only
//! when that part's thread has not claimed it within a grace period, or when that thread
//! has been evicted. A thread that has not shown up within the grace period (it is
//! descheduled), or that holds a claim far longer than a step takes, is evicted: it stops
//! at its next step and the others work on its part from then on. So a contended search
//! loses at most one time slice and continues at the speed of the threads that run; on a
//! quiet machine every thread works on its own part, as before. Eviction changes who
//! works on a part, never the order of the work, so the labels are the same either way.
//!
//! Threads are scoped OS threads rather than rayon tasks: a lock-step search needs all
//! its threads running at once, which a busy rayon pool does not promise.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::graph::Graph;
use crate::search::label::{BucketPlan, Label};
use crate::search::prefetch::prefetch_ahead;
use crate::search::sequential::Workspace;
use crate::search::{start_offset, NearestResult, Query};

/// Blocks of at most 16,384 consecutive node ids: large enough that few arcs cross to
/// another part (ids follow geography in road and hexagon graphs)...
const MAX_BLOCK_SHIFT: u32 = 14;
/// ...and at least this many blocks per part, so that each part holds blocks all over
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

/// More threads gain nothing on a memory-bound search (and keep `threads²` mailboxes
/// small); eviction keeps one bit per thread in a `u64`.
const MAX_THREADS: usize = 64;

/// How long a thread waits for another to claim its own part of a step before it claims
/// it itself (and evicts the absent thread). Threads leave a step together, so a thread
/// that has not claimed its part after this long is not running.
const GRACE: Duration = Duration::from_micros(40);
/// The same for the first step, which also waits for the threads to start.
const START_GRACE: Duration = Duration::from_millis(2);
/// A claim held this long is a thread descheduled in the middle of its step (a step of
/// a national search takes microseconds): it is evicted once it has finished that step.
const STALL: Duration = Duration::from_micros(750);

/// Spins between two looks at the clock while waiting.
const SPINS_PER_CHECK: u32 = 64;

/// Threads evicted from searches since the process started (a diagnostic for benchmarks
/// and tests: on a quiet machine it stays at zero).
static EVICTIONS: AtomicUsize = AtomicUsize::new(0);

/// Threads evicted from parallel searches so far in this process.
pub fn parallel_evictions() -> usize {
    EVICTIONS.load(Ordering::Relaxed)
}

/// One mailed label offer.
#[derive(Debug, Clone, Copy)]
struct Offer {
    node: u32,
    source: u32,
    time: f64,
    length: f64,
}

/// Labels shared by all threads; each label is touched only by the thread working on
/// its node's part in the current step.
struct SharedLabels {
    ptr: *mut Label,
    len: usize,
}

// SAFETY: threads access disjoint labels (one thread per part and step); see `get`.
unsafe impl Sync for SharedLabels {}

impl SharedLabels {
    /// # Safety
    /// Only the thread holding the claim on `v`'s part for this step (or, after the
    /// search, the one copying `v` out) may call this, and never while holding another
    /// reference to the same label.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    unsafe fn get(&self, v: u32) -> &mut Label {
        debug_assert!((v as usize) < self.len);
        &mut *self.ptr.add(v as usize)
    }
}

/// Mailboxes `[parity][from][to]` between parts, double-buffered by step parity: in step
/// `k` the thread working on part `from` fills `[k % 2][from][*]`; in step `k + 1` the
/// threads working on the receiving parts drain it; it is refilled only in step `k + 2`,
/// which starts once every part has finished step `k + 1`. So no mailbox is ever read and
/// written at the same time.
struct Mail {
    boxes: Vec<UnsafeCell<Vec<Offer>>>,
    parts: usize,
}

// SAFETY: access follows the step discipline described on the type.
unsafe impl Sync for Mail {}

impl Mail {
    fn new(parts: usize) -> Self {
        Mail {
            boxes: (0..2 * parts * parts)
                .map(|_| UnsafeCell::new(Vec::new()))
                .collect(),
            parts,
        }
    }

    fn index(&self, parity: usize, from: usize, to: usize) -> usize {
        (parity * self.parts + from) * self.parts + to
    }

    /// # Safety
    /// Only the thread working on part `from`, in a step of this parity.
    #[allow(clippy::mut_from_ref)]
    unsafe fn outbox(&self, parity: usize, from: usize, to: usize) -> &mut Vec<Offer> {
        &mut *self.boxes[self.index(parity, from, to)].get()
    }

    /// # Safety
    /// Only the thread working on part `to`, in the step after one of this parity.
    unsafe fn inbox(&self, parity: usize, from: usize, to: usize) -> &[Offer] {
        &*self.boxes[self.index(parity, from, to)].get()
    }
}

/// One part's bucket ring, touched only by the thread holding the part's claim.
struct Part {
    buckets: Vec<Vec<u32>>,
    current: Vec<u32>,
    pending: usize,
}

/// The claim state of one part, on its own cache line (every thread polls it).
#[repr(align(128))]
struct Slot {
    /// Steps of this part claimed so far: step `k` may be claimed while this is `k`.
    claimed: AtomicUsize,
    /// Steps of this part finished so far.
    finished: AtomicUsize,
    /// The thread holding the latest claim.
    holder: AtomicUsize,
}

/// What a thread found when it tried to claim a part.
#[derive(PartialEq)]
enum Claim {
    /// It claimed and expanded the part.
    Worked,
    /// The part is not available to it (yet).
    Skipped,
    /// The search is over.
    Finished,
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
    parts: Vec<UnsafeCell<Part>>,
    slots: Vec<Slot>,
    /// Each part's earliest pending bucket after a step, `[parity][part]` (double-buffered
    /// like the mail). The seeds are published as step "-1", parity 1.
    next: Vec<AtomicU64>,
    /// Part-steps finished: step `k` is over once this reaches `threads * (k + 1)`.
    done: AtomicUsize,
    finished: AtomicBool,
    /// One bit per evicted thread.
    evicted: AtomicU64,
    /// Copy-out chunks handed out so far.
    copied: AtomicUsize,
    /// Tests only: thread, step and duration of an injected stall inside a claim.
    #[cfg(test)]
    stall: Option<(usize, usize, Duration)>,
}

// SAFETY: the parts and mailboxes are accessed under the claim discipline above.
unsafe impl Sync for Shared<'_> {}

impl Shared<'_> {
    #[inline(always)]
    fn owner(&self, v: u32) -> usize {
        (v >> self.block_shift) as usize % self.threads
    }

    fn is_evicted(&self, thread: usize) -> bool {
        self.evicted.load(Ordering::Acquire) & (1 << thread) != 0
    }

    /// Evict `thread` on behalf of `me`: it stops at its next step and the others claim
    /// its part without waiting. A thread that is itself evicted evicts nobody, so one
    /// thread always remains.
    fn evict(&self, me: usize, thread: usize) {
        let mut old = self.evicted.load(Ordering::Acquire);
        loop {
            if old & (1 << me) != 0 || old & (1 << thread) != 0 || me == thread {
                return;
            }
            match self.evicted.compare_exchange_weak(
                old,
                old | (1 << thread),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    EVICTIONS.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                Err(now) => old = now,
            }
        }
    }

    /// The bucket every part expands in `step`: the earliest pending bucket of all parts
    /// after the step before (`u64::MAX`: the search is over). Read only while holding a
    /// claim of `step`, which keeps step `step + 1` from overwriting these values.
    fn bucket_of_step(&self, step: usize) -> u64 {
        let row = ((step + 1) & 1) * self.threads;
        (0..self.threads)
            .map(|p| self.next[row + p].load(Ordering::Relaxed))
            .min()
            .unwrap_or(u64::MAX)
    }

    /// Try to claim part `p` for `step` and expand it. Another thread's part is claimed
    /// only once its thread is evicted, or has not claimed it within the grace period
    /// (then it is evicted: it is not running).
    fn try_claim(&self, me: usize, p: usize, step: usize, waited: Duration) -> Claim {
        let slot = &self.slots[p];
        if slot.claimed.load(Ordering::Relaxed) != step {
            return Claim::Skipped;
        }
        let grace = if step == 0 { START_GRACE } else { GRACE };
        let absent = p != me && !self.is_evicted(p);
        if absent && waited < grace {
            return Claim::Skipped;
        }
        if slot
            .claimed
            .compare_exchange(step, step + 1, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return Claim::Skipped;
        }
        slot.holder.store(me, Ordering::Relaxed);
        if absent {
            self.evict(me, p);
        }
        let cur = self.bucket_of_step(step);
        if cur == u64::MAX {
            self.finished.store(true, Ordering::Release);
            return Claim::Finished;
        }
        #[cfg(test)]
        if let Some((thread, at, pause)) = self.stall {
            if (thread, at) == (me, step) {
                std::thread::sleep(pause);
            }
        }
        // SAFETY: the claim gives this thread part `p` for this step.
        let part = unsafe { &mut *self.parts[p].get() };
        let mine = part.step(self, p, step, cur);
        self.next[(step & 1) * self.threads + p].store(mine, Ordering::Relaxed);
        slot.finished.store(step + 1, Ordering::Release);
        self.done.fetch_add(1, Ordering::AcqRel);
        Claim::Worked
    }

    /// While waiting for the other parts of `step`: evict the thread of a part whose
    /// claim has been held for too long (it was descheduled in the middle of the step).
    fn evict_stalled(&self, me: usize, step: usize) {
        for slot in &self.slots {
            let held = slot.claimed.load(Ordering::Acquire) == step + 1;
            if held && slot.finished.load(Ordering::Acquire) == step {
                self.evict(me, slot.holder.load(Ordering::Relaxed));
            }
        }
    }

    /// Take part in the search until it is over. Returns false if this thread was
    /// evicted before the end (it then takes no part in the copy-out either).
    fn run(&self, me: usize) -> bool {
        let mut seen = usize::MAX;
        let (mut spins, mut since, mut waited) = (0u32, None::<Instant>, Duration::ZERO);
        loop {
            if self.finished.load(Ordering::Acquire) {
                return true;
            }
            if self.is_evicted(me) {
                return false;
            }
            let step = self.done.load(Ordering::Acquire) / self.threads;
            if step != seen {
                (seen, spins, since, waited) = (step, 0, None, Duration::ZERO);
            }
            let mut worked = false;
            for p in (0..self.threads).map(|i| (me + i) % self.threads) {
                match self.try_claim(me, p, step, waited) {
                    Claim::Worked => worked = true,
                    Claim::Finished => return true,
                    Claim::Skipped => {}
                }
            }
            if worked {
                continue;
            }
            spins += 1;
            if spins % SPINS_PER_CHECK == 0 {
                let now = Instant::now();
                waited = now - *since.get_or_insert(now);
                if waited > STALL {
                    self.evict_stalled(me, step);
                }
                if waited > GRACE {
                    // Let a thread of ours that shares this core run.
                    std::thread::yield_now();
                }
            }
            std::hint::spin_loop();
        }
    }
}

impl Part {
    /// Offer a label to `v`, a node of this part; queue it if it improved.
    #[inline(always)]
    fn offer(&mut self, sh: &Shared, v: u32, time: f64, source: u32, length: f64) {
        // SAFETY: callers pass only nodes of this part, whose claim they hold.
        let label = unsafe { sh.labels.get(v) };
        if label.offer(time, source, length) {
            self.buckets[sh.plan.slot(sh.plan.bucket_of(time))].push(v);
            self.pending += 1;
        }
    }

    /// Earliest bucket after `cur` holding an entry of this part (`u64::MAX`: none).
    fn next_pending(&self, plan: BucketPlan, cur: u64) -> u64 {
        if self.pending == 0 {
            return u64::MAX;
        }
        // Pending entries lie less than one ring ahead, so this loop finds one.
        (cur.wrapping_add(1)..)
            .find(|&b| !self.buckets[plan.slot(b)].is_empty())
            .unwrap_or(u64::MAX)
    }

    /// Step `step` of part `p`: apply the mail of the step before, expand this part's
    /// share of bucket `cur`; returns the part's earliest pending bucket afterwards
    /// (its own entries or offers it mailed).
    fn step(&mut self, sh: &Shared, p: usize, step: usize, cur: u64) -> u64 {
        let parity = step & 1;
        self.apply_mail(sh, p, parity);
        let mailed = self.expand(sh, p, cur, parity);
        self.next_pending(sh.plan, cur).min(mailed)
    }

    /// Offer the start labels of the sources in part `p`; returns the earliest bucket
    /// they fill (`u64::MAX`: none).
    fn seed(&mut self, sh: &Shared, p: usize) -> u64 {
        let mut first = u64::MAX;
        for (i, &s) in sh.query.sources.iter().enumerate() {
            let offset = start_offset(sh.query, i);
            if sh.owner(s) == p && offset <= sh.query.cutoff {
                self.offer(sh, s, offset, i as u32, 0.0);
                first = first.min(sh.plan.bucket_of(offset));
            }
        }
        first
    }

    /// Apply the offers mailed to part `p` in the previous step, then empty its outboxes
    /// of this step's parity.
    #[inline(always)]
    fn apply_mail(&mut self, sh: &Shared, p: usize, parity: usize) {
        for from in (0..sh.threads).filter(|&q| q != p) {
            // SAFETY: the previous step's mail, complete since that step ended.
            for o in unsafe { sh.mail.inbox(1 - parity, from, p) } {
                self.offer(sh, o.node, o.time, o.source, o.length);
            }
        }
        for to in 0..sh.threads {
            // SAFETY: part p's outboxes of this parity; their readers finished with them
            // in the previous step.
            unsafe { sh.mail.outbox(parity, p, to) }.clear();
        }
    }

    /// Expand part `p`'s share of bucket `cur`: offers to its own nodes are applied, the
    /// others mailed. Returns the earliest bucket of a mailed offer (`u64::MAX`: none).
    #[inline(always)]
    fn expand(&mut self, sh: &Shared, p: usize, cur: u64, parity: usize) -> u64 {
        let (plan, cutoff) = (sh.plan, sh.query.cutoff);
        let mut current = std::mem::take(&mut self.current);
        std::mem::swap(&mut current, &mut self.buckets[plan.slot(cur)]);
        self.pending -= current.len();
        // As in the sequential search: every label of the bucket is final, any order
        // of expansion gives the same result.
        let mut mailed = u64::MAX;
        for (i, &u) in current.iter().enumerate() {
            prefetch_ahead(sh.graph, sh.labels.ptr, &current, i);
            // SAFETY: `u` was queued in part p, whose claim this thread holds.
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
                if owner == p {
                    self.offer(sh, arc.head, t, source, length + arc.length);
                } else {
                    // SAFETY: part p's own outbox for this step.
                    unsafe { sh.mail.outbox(parity, p, owner) }.push(Offer {
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
/// neither allocates nor page-faults its labels again, on one thread or several: the
/// sequential [`Workspace`] and the parallel search share one label array. Between
/// searches every label is `UNREACHED` (both paths reset what they touched when they copy
/// the result out).
#[derive(Default)]
pub struct SearchScratch {
    workspace: Option<Workspace>,
    /// Labels may hold values of an unfinished search (one that panicked).
    dirty: bool,
}

impl SearchScratch {
    pub fn new() -> Self {
        Self::default()
    }

    /// The workspace for a graph of `n` nodes, every label `UNREACHED`.
    fn workspace(&mut self, n: usize) -> &mut Workspace {
        if self.dirty || self.workspace.as_ref().is_none_or(|w| w.num_nodes() != n) {
            self.workspace = None;
            self.workspace = Some(Workspace::new(n));
        }
        self.dirty = true;
        self.workspace.as_mut().expect("just made")
    }

    /// One search on this thread, with the kept memory.
    pub fn nearest_sequential(&mut self, graph: &Graph, query: &Query) -> NearestResult {
        let ws = self.workspace(graph.num_nodes());
        ws.run(graph, query);
        let result = ws.take_result();
        self.dirty = false;
        result
    }

    /// Bytes of label memory kept.
    pub fn memory_bytes(&self) -> usize {
        self.workspace.as_ref().map_or(0, Workspace::memory_bytes)
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
    search_parallel(graph, query, threads, scratch, None)
}

/// The search, with a stall injected in tests.
fn search_parallel(
    graph: &Graph,
    query: &Query,
    threads: usize,
    scratch: &mut SearchScratch,
    #[allow(unused_variables)] stall: Option<(usize, usize, Duration)>,
) -> Option<NearestResult> {
    let n = graph.num_nodes();
    let threads = threads.min(MAX_THREADS);
    if threads < 2 || n < MIN_PARALLEL_NODES {
        return None;
    }
    let plan = BucketPlan::new(graph, query)?;
    let labels = scratch.workspace(n).labels_mut();
    let shared = Shared {
        graph,
        query,
        plan,
        threads,
        block_shift: block_shift(n, threads),
        labels: SharedLabels {
            ptr: labels.as_mut_ptr(),
            len: n,
        },
        mail: Mail::new(threads),
        parts: (0..threads)
            .map(|_| {
                UnsafeCell::new(Part {
                    buckets: vec![Vec::new(); plan.ring()],
                    current: Vec::new(),
                    pending: 0,
                })
            })
            .collect(),
        slots: (0..threads)
            .map(|_| Slot {
                claimed: AtomicUsize::new(0),
                finished: AtomicUsize::new(0),
                holder: AtomicUsize::new(usize::MAX),
            })
            .collect(),
        next: (0..2 * threads).map(|_| AtomicU64::new(u64::MAX)).collect(),
        done: AtomicUsize::new(0),
        finished: AtomicBool::new(false),
        evicted: AtomicU64::new(0),
        copied: AtomicUsize::new(0),
        #[cfg(test)]
        stall,
    };
    let result = shared.search();
    scratch.dirty = false;
    Some(result)
}

/// Shares of the output arrays, written by whichever threads copy the labels out.
struct Output {
    time: *mut f64,
    source: *mut u32,
    length: *mut f64,
}

// SAFETY: every chunk of the arrays is written by exactly one thread (see `copy_out`).
unsafe impl Sync for Output {}

impl Shared<'_> {
    /// Seed every part, run the search on all threads (this one among them); then the
    /// threads still taking part copy the labels out, chunk by chunk, and reset them.
    fn search(&self) -> NearestResult {
        for p in 0..self.threads {
            // SAFETY: no other thread runs yet.
            let first = unsafe { &mut *self.parts[p].get() }.seed(self, p);
            self.next[self.threads + p].store(first, Ordering::Relaxed);
        }
        let n = self.labels.len;
        let mut time = crate::memory::huge_page_vec::<f64>(n);
        let mut source = crate::memory::huge_page_vec::<u32>(n);
        let mut length = crate::memory::huge_page_vec::<f64>(n);
        let out = Output {
            time: time.as_mut_ptr(),
            source: source.as_mut_ptr(),
            length: length.as_mut_ptr(),
        };
        std::thread::scope(|scope| {
            let out = &out;
            let work = move |me: usize| {
                if self.run(me) {
                    self.copy_out(out);
                }
            };
            for me in 0..self.threads - 1 {
                scope.spawn(move || work(me));
            }
            work(self.threads - 1);
        });
        debug_assert!(self.copied.load(Ordering::Relaxed) >= self.chunks());
        // SAFETY: the copy-out wrote every element (its chunks cover 0..n; the last
        // thread standing takes every chunk left), and the threads have joined.
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

    /// Chunks of the copy-out: several per thread, so that a thread descheduled during
    /// it holds up little.
    fn chunks(&self) -> usize {
        4 * self.threads
    }

    /// Copy labels into the output arrays and reset them to `UNREACHED` for the next
    /// search, one chunk at a time until none is left.
    fn copy_out(&self, out: &Output) {
        let n = self.labels.len;
        let size = n.div_ceil(self.chunks());
        loop {
            let c = self.copied.fetch_add(1, Ordering::Relaxed);
            let lo = c * size;
            if lo >= n {
                return;
            }
            for i in lo..(lo + size).min(n) {
                // SAFETY: the search is over (we saw `finished` after the last step's
                // writes), chunks are disjoint, and `i < n` lies inside the arrays.
                unsafe {
                    let label = self.labels.get(i as u32);
                    out.time.add(i).write(label.time);
                    out.source.add(i).write(label.source);
                    out.length.add(i).write(label.length);
                    *label = Label::UNREACHED;
                }
            }
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

    /// A thread descheduled in the middle of a step (here: made to sleep far past the
    /// stall limit) is evicted, the others finish the search, and the labels are the
    /// same; the kept memory is clean afterwards, for the next search.
    #[test]
    fn a_stalled_thread_is_evicted_and_the_labels_stay_the_same() {
        let g = grid(400, 11, 0.03);
        let q = query(&[0, 77_777, 159_999], None, f64::INFINITY);
        let expect = bits(&nearest_sequential(&g, &q));
        let mut scratch = SearchScratch::new();
        for (threads, thread, step) in [(2, 0, 5), (2, 1, 0), (3, 2, 40), (3, 0, 1)] {
            let before = parallel_evictions();
            let stall = Some((thread, step, Duration::from_millis(30)));
            let r = search_parallel(&g, &q, threads, &mut scratch, stall).expect("parallel");
            assert_eq!(
                bits(&r),
                expect,
                "{threads} threads, stall of {thread} at {step}"
            );
            assert!(
                parallel_evictions() > before,
                "the stalled thread was evicted"
            );
            assert_eq!(bits(&scratch.nearest_sequential(&g, &q)), expect);
        }
    }

    #[test]
    fn sequential_and_parallel_share_clean_kept_memory() {
        let g = grid(400, 11, 0.03);
        let mut scratch = SearchScratch::new();
        let near = query(&[80_200], None, 20.0);
        let far = query(&[0, 159_999], None, f64::INFINITY);
        for q in [near, far, near] {
            let expect = bits(&nearest_sequential(&g, &q));
            assert_eq!(bits(&scratch.nearest_sequential(&g, &q)), expect);
            let r = nearest_parallel_with(&g, &q, 2, &mut scratch).expect("parallel");
            assert_eq!(bits(&r), expect);
        }
        assert!(scratch.memory_bytes() >= g.num_nodes() * std::mem::size_of::<Label>());
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
