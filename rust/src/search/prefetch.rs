//! Software prefetching: a portable cache hint, and the pipeline that a bucket search
//! runs ahead of the node it expands.

use crate::graph::{Arc, Graph};
use crate::search::label::Label;

/// Distance (in bucket entries) between the stages of the prefetch pipeline.
const PREFETCH_STAGE: usize = 16;

/// Ask the CPU to start loading the cache line holding `value`. A no-op where the
/// architecture has no stable prefetch intrinsic.
#[inline(always)]
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` only hints the cache; it never faults, and the pointer comes
    // from a valid reference anyway.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(value as *const T as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// Ask the CPU to start loading the cache line at address `addr` (a hint: it never
/// faults, whatever the address).
#[inline(always)]
fn prefetch_addr(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` only hints the cache and never faults.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(addr as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}

/// Ask the CPU to start loading `u`'s arcs (a hint; it never faults). A node's arcs
/// usually span two or three cache lines: every line is requested.
#[inline(always)]
fn prefetch_arcs(graph: &Graph, u: u32) {
    let first_out = graph.first_out();
    let (start, end) = (first_out[u as usize], first_out[u as usize + 1]);
    let arcs = &graph.arcs()[start..end];
    if let (Some(first), Some(last)) = (arcs.first(), arcs.last()) {
        let (first, last) = (first as *const Arc as usize, last as *const Arc as usize);
        let mut line = first & !63;
        while line < last + std::mem::size_of::<Arc>() {
            prefetch_addr(line);
            line += 64;
        }
    }
}

/// Ask the CPU to start loading `u`'s CSR offset (a hint; it never faults).
#[inline(always)]
fn prefetch_offset(graph: &Graph, u: u32) {
    if let Some(offset) = graph.first_out().get(u as usize) {
        prefetch(offset);
    }
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
    let hint = |v: u32| prefetch_addr(labels.wrapping_add(v as usize) as usize);
    if let Some(&far) = nodes.get(i + 3 * PREFETCH_STAGE) {
        prefetch_offset(graph, far);
        hint(far);
    }
    if let Some(&mid) = nodes.get(i + 2 * PREFETCH_STAGE) {
        prefetch_arcs(graph, mid);
    }
    if let Some(&near) = nodes.get(i + PREFETCH_STAGE) {
        for arc in graph.out_arcs(near) {
            hint(arc.head);
        }
    }
}
