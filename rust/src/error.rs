//! The one error type of the core: every check the engine makes on its input, with the
//! message a user reads.
//!
//! [`Error`] is what every fallible function of the crate returns; it groups the checks by
//! the input they guard (an edge list, a query, source sets, band histograms, H3 cells).
//! Each message names the first offending row, entry or value and says how to fix it. The
//! Python bindings turn an [`Error`] into a `ValueError` in one place
//! (`python/mod.rs`), so the messages below are exactly what Python users see (and what
//! the Python tests match on): change them with care.

use std::fmt;

use crate::graph::MAX_NODES;

/// Every error of the core.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// An edge list given to [`crate::Graph::from_edges`].
    Graph(GraphError),
    /// The sources, start offsets or cutoff of one search.
    Query(QueryError),
    /// The CSR source sets (and target mask) of a batch of searches.
    SourceSets(SourceSetError),
    /// Band edges or node weights of a histogram batch.
    Histogram(HistogramError),
    /// Points, H3 cells or cell speeds.
    H3(H3Error),
    /// Coverage-matrix or network arrays of [`crate::evaluate`] that do not fit together.
    InconsistentNetworks,
    /// A thread count of 0.
    ZeroThreads,
    /// A chunk size of 0.
    ZeroChunk,
    /// The rayon thread pool could not be built (its message).
    ThreadPool(String),
}

/// Why an edge list was refused. Every variant names the first offending input row so the
/// user can find it in their file.
#[derive(Debug, Clone, PartialEq)]
pub enum GraphError {
    LengthMismatch {
        tail: usize,
        head: usize,
        time: usize,
        length: usize,
    },
    TooManyNodes(i64),
    NodeOutOfRange {
        row: usize,
        column: &'static str,
        value: i64,
        num_nodes: usize,
    },
    BadWeight {
        row: usize,
        column: &'static str,
        value: f64,
    },
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

/// Why the source sets of a batch were refused.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceSetError {
    /// `indptr` is empty, does not start at 0 or does not end at the number of nodes.
    Indptr { nodes: usize, entries: usize },
    /// `indptr` decreases from set `set` to the next.
    Decreasing { set: usize, start: i64, end: i64 },
    /// Set `set` fails the checks of a single query.
    Set { set: usize, error: QueryError },
    /// The target mask does not have one entry per node.
    TargetCount { entries: usize, num_nodes: usize },
}

/// Why band edges or weights were refused.
#[derive(Debug, Clone, PartialEq)]
pub enum HistogramError {
    TooFewEdges,
    FirstEdgeNotZero(f64),
    NotIncreasing {
        index: usize,
        value: f64,
        previous: f64,
    },
    WeightShape {
        rows: usize,
        num_nodes: usize,
    },
    BadWeight {
        node: usize,
        column: usize,
        value: f64,
    },
}

/// Why points, H3 cells or a cell list with speeds were refused.
#[derive(Debug, Clone, PartialEq)]
pub enum H3Error {
    Resolution(u8),
    CoordinateCount,
    InvalidPoint {
        index: usize,
        lat: f64,
        lng: f64,
    },
    InvalidCell {
        index: usize,
        value: u64,
    },
    FinerCell {
        index: usize,
        cell: u64,
        cell_resolution: u8,
        resolution: u8,
    },
    SpeedCount {
        cells: usize,
        speeds: usize,
    },
    NotSorted {
        index: usize,
    },
    MixedResolution {
        index: usize,
    },
    GroupCount {
        cells: usize,
        groups: usize,
    },
    GroupOutOfRange {
        index: usize,
        value: i64,
        groups: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Graph(e) => fmt::Display::fmt(e, f),
            Error::Query(e) => fmt::Display::fmt(e, f),
            Error::SourceSets(e) => fmt::Display::fmt(e, f),
            Error::Histogram(e) => fmt::Display::fmt(e, f),
            Error::H3(e) => fmt::Display::fmt(e, f),
            Error::InconsistentNetworks => f.write_str(
                "inconsistent coverage matrix or network arrays (shapes, candidate ids or times)",
            ),
            Error::ZeroThreads => f.write_str("threads must be >= 1 (or None for all cores)"),
            Error::ZeroChunk => f.write_str("chunk must be >= 1"),
            Error::ThreadPool(message) => f.write_str(message),
        }
    }
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GraphError::LengthMismatch {
                tail,
                head,
                time,
                length,
            } => write!(
                f,
                "edge arrays must have equal length: tail has {tail} rows, head has {head}, \
                 time_s has {time}, length_m has {length}"
            ),
            GraphError::TooManyNodes(n) => {
                write!(f, "num_nodes must be in 0..{MAX_NODES}, got {n}")
            }
            GraphError::NodeOutOfRange {
                row,
                column,
                value,
                num_nodes,
            } => write!(
                f,
                "edge row {row}: {column} node id {value} is outside 0..{}; node ids must be \
                 integers in [0, num_nodes)",
                *num_nodes as i64 - 1
            ),
            GraphError::BadWeight { row, column, value } => write!(
                f,
                "edge row {row}: {column} is {}; travel times and lengths must be finite and >= 0",
                python_float_repr(*value)
            ),
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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

impl fmt::Display for SourceSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceSetError::Indptr { nodes, entries } => write!(
                f,
                "source-set indptr must start at 0 and end at the number of source nodes \
                 ({nodes}); got {entries} entries"
            ),
            SourceSetError::Decreasing { set, start, end } => {
                write!(
                    f,
                    "source-set indptr decreases at set {set} ({start} > {end})"
                )
            }
            SourceSetError::Set { set, error } => write!(f, "source set {set}: {error}"),
            SourceSetError::TargetCount { entries, num_nodes } => write!(
                f,
                "targets mask has {entries} entries but the graph has {num_nodes} nodes"
            ),
        }
    }
}

impl fmt::Display for HistogramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistogramError::TooFewEdges => {
                write!(
                    f,
                    "band edges need at least two values, e.g. [0, 600, 1200]"
                )
            }
            HistogramError::FirstEdgeNotZero(v) => write!(
                f,
                "the first band edge must be 0 s (got {v}); bands start at the office"
            ),
            HistogramError::NotIncreasing {
                index,
                value,
                previous,
            } => write!(
                f,
                "band edge {index} ({value} s) must be finite and greater than the previous \
                 edge ({previous} s)"
            ),
            HistogramError::WeightShape { rows, num_nodes } => write!(
                f,
                "weights have {rows} rows but the graph has {num_nodes} nodes; give one row \
                 per node (zeros for nodes without people)"
            ),
            HistogramError::BadWeight {
                node,
                column,
                value,
            } => write!(
                f,
                "weight at node {node}, column {column} is {value}; weights must be finite and >= 0"
            ),
        }
    }
}

impl fmt::Display for H3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            H3Error::Resolution(r) => write!(f, "H3 resolution must be in 0..15, got {r}"),
            H3Error::CoordinateCount => f.write_str("lat and lng must have equal length"),
            H3Error::InvalidPoint { index, lat, lng } => write!(
                f,
                "point {index} has invalid coordinates (lat={lat}, lng={lng})"
            ),
            H3Error::InvalidCell { index, value } => {
                write!(f, "entry {index}: {value:#x} is not a valid H3 cell index")
            }
            H3Error::FinerCell {
                index,
                cell,
                cell_resolution,
                resolution,
            } => write!(
                f,
                "entry {index}: cell {cell:x} is finer (resolution {cell_resolution}) than \
                 {resolution}"
            ),
            H3Error::SpeedCount { cells, speeds } => write!(
                f,
                "got {cells} cells and {speeds} speeds; give one speed (km/h) per cell"
            ),
            H3Error::NotSorted { index } => write!(
                f,
                "cells must be sorted ascending without duplicates; entry {index} is not \
                 greater than the one before (use numpy.unique)"
            ),
            H3Error::MixedResolution { index } => write!(
                f,
                "entry {index} has another H3 resolution than entry 0; all cells of a \
                 friction graph must share one resolution"
            ),
            H3Error::GroupCount { cells, groups } => write!(
                f,
                "got {cells} cells and {groups} group codes; give one group code per cell"
            ),
            H3Error::GroupOutOfRange {
                index,
                value,
                groups,
            } => write!(
                f,
                "entry {index}: group code {value} is not below the number of groups \
                 ({groups}); codes are 0..groups-1, or negative for no group"
            ),
        }
    }
}

impl std::error::Error for Error {}

macro_rules! from_area {
    ($($area:ident => $variant:ident),* $(,)?) => {$(
        impl From<$area> for Error {
            fn from(e: $area) -> Self {
                Error::$variant(e)
            }
        }
    )*};
}

from_area!(
    GraphError => Graph,
    QueryError => Query,
    SourceSetError => SourceSets,
    HistogramError => Histogram,
    H3Error => H3,
);

/// Format a float the way Python's `repr` does for the special values users will see
/// (`nan`, `inf`, `-inf`, `-1.0`), so messages read the same from both backends.
fn python_float_repr(x: f64) -> String {
    if x.is_nan() {
        "nan".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.to_string()
    } else if x == x.trunc() && x.abs() < 1e16 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_display_their_own_message() {
        let e: Error = QueryError::BadCutoff(-1.0).into();
        assert_eq!(
            e.to_string(),
            "cutoff -1 s is invalid; it must be >= 0 (use no cutoff for an unbounded search)"
        );
        let e: Error = SourceSetError::Set {
            set: 1,
            error: QueryError::OffsetCount {
                sources: 1,
                offsets: 2,
            },
        }
        .into();
        assert_eq!(
            e.to_string(),
            "source set 1: got 2 start offsets for 1 sources; give one offset per source"
        );
        assert_eq!(python_float_repr(f64::NEG_INFINITY), "-inf");
        assert_eq!(python_float_repr(-2.5), "-2.5");
    }
}
