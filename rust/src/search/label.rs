//! A node's label and when it is final.
//!
//! [`Label`] holds one node's `(time, source, length)` and queue state; [`Label::offer`]
//! keeps the lexicographically smallest offer. [`BucketPlan`] is Dial's bucket layout:
//! when every arc spans at least one bucket, the labels of the current bucket are final,
//! which is what lets the sequential and the parallel search settle a whole bucket in any
//! order ([`Label::settle_in`]).

use crate::graph::Graph;
use crate::search::{Query, NO_SOURCE};

const UNTOUCHED: u8 = 0;
const QUEUED: u8 = 1;
const SETTLED: u8 = 2;

/// Largest ring of buckets the bucket queue may use; beyond it (arc times spanning many
/// bucket widths) the search falls back to the radix heap.
const MAX_BUCKETS: usize = 1 << 16;

/// One node's label and queue state, together: a relaxation reads the time and, on ties,
/// the source and length, so keeping them in one struct (aligned so that it never
/// straddles two cache lines) costs one cache miss, not four.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(32))]
pub(crate) struct Label {
    pub(crate) time: f64,
    pub(crate) length: f64,
    pub(crate) source: u32,
    state: u8,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{graph, query};

    #[test]
    fn zero_arcs_fall_back_to_the_radix_heap() {
        let g = graph(3, &[(0, 1, 0.0, 1.0), (1, 2, 5.0, 1.0)], true);
        let q = query(&[0], None, f64::INFINITY);
        assert!(BucketPlan::new(&g, &q).is_none());
        // A huge offset spread needs too many buckets: also the radix heap.
        let g = graph(2, &[(0, 1, 1.0, 1.0)], true);
        let q = query(&[0], Some(&[1e9]), f64::INFINITY);
        assert!(BucketPlan::new(&g, &q).is_none());
    }

    #[test]
    fn offers_keep_the_lexicographic_minimum() {
        let mut label = Label::UNREACHED;
        assert!(label.is_untouched());
        assert!(label.offer(5.0, 3, 10.0));
        // Same time: a lower source replaces the label without a second queue entry.
        assert!(!label.offer(5.0, 1, 50.0));
        assert_eq!((label.time, label.source, label.length), (5.0, 1, 50.0));
        assert!(!label.offer(5.0, 1, 60.0));
        assert!(!label.offer(6.0, 0, 0.0));
        // An earlier time needs a new entry.
        assert!(label.offer(4.0, 2, 1.0));
        label.settle();
        assert!(label.is_settled());
    }
}
