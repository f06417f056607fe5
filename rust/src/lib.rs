//! hexaccess core: multi-source shortest paths for accessibility analysis.
//!
//! The modules are private; this file is the crate's surface (as in h3o and fast_paths):
//!
//! - [`Graph`]: the immutable CSR travel-time graph (`graph.rs`);
//! - one search: [`nearest`], [`nearest_sequential`], [`nearest_parallel`] and a reusable
//!   [`Workspace`] (`search/`: labels, Dial buckets, radix heap, prefetching, the
//!   owner-computes parallel search);
//! - many searches: [`sparse_searches`] and [`histogram_searches`] over [`SourceSets`]
//!   (`batch.rs`), reduced by [`band_histogram`] (`histogram.rs`);
//! - office networks from a coverage matrix: [`evaluate`] (`evaluate.rs`);
//! - H3 cells, their boundaries and unions, and the hexagon friction graph:
//!   [`latlng_to_cells`], [`cell_boundaries`], [`dissolve_cells`], [`hex_graph`] and
//!   friends (`h3/`);
//! - the edge-scan bound of the benchmarks: [`edge_scan`] (`scan.rs`);
//! - [`Error`]: every check on the input, with its message (`error.rs`).
//!
//! The Python bindings (`python/`) are compiled only with the `python` feature (maturin
//! turns it on), so `cargo test` needs no Python.

mod batch;
mod error;
mod evaluate;
mod graph;
mod h3;
mod histogram;
mod memory;
mod osm;
pub mod projection;
mod scan;
mod search;
mod transit;

#[cfg(feature = "python")]
mod python;
#[cfg(test)]
mod test_support;

pub use crate::batch::{
    check_target_count, histogram_searches, sparse_searches, HistogramSpec, OwnedSourceSets,
    SourceSets, SparseSearch, WorkspacePool,
};
pub use crate::error::{Error, GraphError, H3Error, HistogramError, QueryError, SourceSetError};
pub use crate::evaluate::{evaluate, validate_networks, ByCell, NetworkStats};
pub use crate::graph::{Arc, Graph, MAX_NODES};
pub use crate::h3::{
    cell_boundaries, cell_centers, cell_children, cell_nodes, cell_wkb, dissolve_cells, hex_edges,
    hex_graph, latlng_to_cells, CellBoundaries, CellWkb, Dissolved, HexEdges,
};
pub use crate::histogram::{
    band_histogram, band_of, validate_edges, validate_weights, BandHistogram,
};
pub use crate::memory::huge_page_vec;
pub use crate::osm::{read_pbf, write_pbf, OsmError, OsmGraph, OsmRules, PbfWays, SkipCounts};
pub use crate::scan::edge_scan;
pub use crate::search::{
    nearest, nearest_parallel, nearest_parallel_with, nearest_sequential, nearest_with,
    parallel_evictions, validate_query, NearestResult, Query, RadixHeap, SearchScratch, Workspace,
    DEFAULT_SEARCH_THREADS, MIN_PARALLEL_NODES, NO_SOURCE,
};
pub use crate::transit::{
    evaluate_cells, percentile_index, profile_search, CellLegs, CellStats, Profiles, Rules,
    Targets, Timetable, TransitError, Window, MAX_RIDES, UNREACHED,
};
