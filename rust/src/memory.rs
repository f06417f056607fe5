//! Large per-node arrays backed by transparent huge pages where the OS allows it.
//!
//! A national search writes a few hundred megabytes of fresh memory (labels and output
//! arrays). With 4 KiB pages that is tens of thousands of page faults, which cost as much
//! as a quarter of the search; 2 MiB pages need a few hundred. Linux hands out huge pages
//! to regions marked `MADV_HUGEPAGE` when the system setting is `madvise` (a common
//! default); elsewhere this is a no-op and the arrays are ordinary `Vec`s.

/// Arrays smaller than this gain nothing from huge pages.
const HUGE_FROM_BYTES: usize = 4 << 20;

/// An empty `Vec` with room for `n` elements, its memory marked for huge pages.
pub fn huge_page_vec<T>(n: usize) -> Vec<T> {
    let v = Vec::with_capacity(n);
    advise_huge(v.as_ptr() as usize, n * std::mem::size_of::<T>());
    v
}

fn advise_huge(addr: usize, bytes: usize) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        if bytes < HUGE_FROM_BYTES {
            return;
        }
        // Only whole huge pages inside the allocation are marked.
        let start = addr.next_multiple_of(HUGE);
        let end = (addr + bytes) & !(HUGE - 1);
        if end > start {
            // SAFETY: the range lies inside an allocation we own; MADV_HUGEPAGE only
            // changes how the kernel backs it and fails harmlessly if unsupported.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (addr, bytes);
}

#[cfg(test)]
mod tests {
    #[test]
    fn large_and_small_vectors_work_as_usual() {
        for n in [0usize, 10, 3 << 20] {
            let mut v = super::huge_page_vec::<u64>(n);
            v.extend((0..n as u64).map(|i| i * 3));
            assert_eq!(v.len(), n);
            assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64 * 3));
        }
    }
}
