//! hexaccess core: multi-source shortest paths for accessibility analysis.
//!
//! The modules are plain Rust; the Python bindings below are compiled only with the
//! `python` feature (maturin turns it on), so `cargo test` needs no Python.

pub mod batch;
pub mod evaluate;
pub mod graph;
pub mod h3grid;
pub mod hexgraph;
pub mod histogram;
pub mod memory;
pub mod parallel_search;
pub mod prefetch;
pub mod radix_heap;
pub mod scan;
pub mod search;

#[cfg(feature = "python")]
mod python;
