//! Monotone radix heap keyed by the bit pattern of non-negative `f64` times.
//!
//! Dijkstra never pushes a key smaller than the last popped one, which is exactly what a
//! radix heap needs (Ahuja, Mehlhorn, Orlin & Tarjan 1990). For non-negative IEEE doubles
//! the order of the values equals the order of their bit patterns as `u64`, so the
//! heap works on exact float times with no quantisation. Each entry moves down at most 64
//! buckets over its lifetime, and in practice a couple, which makes this markedly faster
//! than a binary heap on large graphs while popping exactly the same key sequence.

/// `(key bits, node)`.
type Entry = (u64, u32);

pub struct RadixHeap {
    last: u64,
    len: usize,
    /// Bucket `b > 0` holds keys whose highest bit differing from `last` is bit `b - 1`;
    /// bucket 0 holds keys equal to `last`.
    buckets: [Vec<Entry>; 65],
}

impl Default for RadixHeap {
    fn default() -> Self {
        Self::new()
    }
}

#[inline(always)]
fn bucket_of(key: u64, last: u64) -> usize {
    (64 - (key ^ last).leading_zeros()) as usize
}

impl RadixHeap {
    pub fn new() -> Self {
        RadixHeap {
            last: 0,
            len: 0,
            buckets: std::array::from_fn(|_| Vec::new()),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Empty the heap, keeping the buckets' memory for the next search.
    pub fn clear(&mut self) {
        for b in self.buckets.iter_mut() {
            b.clear();
        }
        self.last = 0;
        self.len = 0;
    }

    /// Push `node` with time `key`; `key` must not be below the last popped key.
    #[inline(always)]
    pub fn push(&mut self, key: f64, node: u32) {
        let bits = key.to_bits();
        debug_assert!(key >= 0.0 && bits >= self.last, "radix heap is monotone");
        self.buckets[bucket_of(bits, self.last)].push((bits, node));
        self.len += 1;
    }

    /// Pop an entry with the smallest key (ties in any order).
    #[inline]
    pub fn pop(&mut self) -> Option<(f64, u32)> {
        if self.len == 0 {
            return None;
        }
        if self.buckets[0].is_empty() {
            let i = (1..65)
                .find(|&i| !self.buckets[i].is_empty())
                .expect("len > 0 means some bucket is non-empty");
            let mut moved = std::mem::take(&mut self.buckets[i]);
            self.last = moved
                .iter()
                .map(|e| e.0)
                .min()
                .expect("bucket is non-empty");
            // Every entry of bucket i now shares more leading bits with `last`, so it lands
            // in a strictly lower bucket: none returns to i.
            for &e in moved.iter() {
                self.buckets[bucket_of(e.0, self.last)].push(e);
            }
            moved.clear();
            self.buckets[i] = moved;
        }
        self.len -= 1;
        let (bits, node) = self.buckets[0].pop().expect("bucket 0 was just filled");
        Some((f64::from_bits(bits), node))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_nondecreasing_key_order_like_a_sort() {
        // A deterministic pseudo-random monotone workload: interleave pushes and pops the
        // way Dijkstra does (every push >= last pop), and compare with a sorted reference.
        let mut heap = RadixHeap::new();
        let mut state = 0x9E3779B97F4A7C15u64;
        let mut rand = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut reference: Vec<f64> = Vec::new();
        let mut last = 0.0f64;
        let mut popped = Vec::new();
        for step in 0..20_000 {
            if step % 3 != 2 || heap.is_empty() {
                let key = last + (rand() % 1000) as f64 * 0.37;
                heap.push(key, step as u32);
                reference.push(key);
            } else {
                let (k, _) = heap.pop().unwrap();
                assert!(k >= last);
                last = k;
                popped.push(k);
            }
        }
        while let Some((k, _)) = heap.pop() {
            assert!(k >= last);
            last = k;
            popped.push(k);
        }
        reference.sort_by(f64::total_cmp);
        assert_eq!(popped, reference);
    }

    #[test]
    fn zero_and_equal_keys() {
        let mut heap = RadixHeap::new();
        heap.push(0.0, 1);
        heap.push(0.0, 2);
        heap.push(5.5, 3);
        assert_eq!(heap.pop().unwrap().0, 0.0);
        heap.push(0.0, 4);
        assert_eq!(heap.pop().unwrap().0, 0.0);
        assert_eq!(heap.pop().unwrap().0, 0.0);
        assert_eq!(heap.pop(), Some((5.5, 3)));
        assert!(heap.pop().is_none());
        heap.clear();
        assert!(heap.is_empty());
    }
}
