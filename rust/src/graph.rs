//! Compact directed graph in CSR (compressed sparse row) form.
//!
//! Nodes are `u32` ids `0..num_nodes`. The arcs leaving node `u` are
//! `arcs[first_out[u]..first_out[u + 1]]`, each carrying head, travel time (s) and length
//! (m) together: a search jumps to a node's arcs at a random place in memory, and one
//! struct means one cache miss there instead of one per field.

use std::fmt;

/// One directed arc of the CSR adjacency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arc {
    pub time: f64,
    pub length: f64,
    pub head: u32,
}

/// Largest number of nodes: `u32::MAX` is kept free as a sentinel.
pub const MAX_NODES: usize = (u32::MAX - 1) as usize;

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

impl std::error::Error for GraphError {}

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

fn valid_weight(x: f64) -> bool {
    x.is_finite() && x >= 0.0
}

/// A directed graph in CSR form, immutable once built and shared by all search threads.
#[derive(Debug, Clone)]
pub struct Graph {
    first_out: Vec<usize>,
    arcs: Vec<Arc>,
    /// Smallest and largest time of an arc that is not a self loop (+inf / 0 if none).
    min_arc_time: f64,
    max_arc_time: f64,
}

impl Graph {
    /// Build from parallel edge arrays. With `bidirectional`, every row also yields the
    /// reverse arc. Arcs of a node keep input order (all forward rows, then all reverse
    /// rows): a stable counting sort by tail, O(num_nodes + num_arcs), no comparisons.
    pub fn from_edges(
        num_nodes: i64,
        tail: &[i64],
        head: &[i64],
        time: &[f64],
        length: &[f64],
        bidirectional: bool,
    ) -> Result<Graph, GraphError> {
        if tail.len() != head.len() || tail.len() != time.len() || tail.len() != length.len() {
            return Err(GraphError::LengthMismatch {
                tail: tail.len(),
                head: head.len(),
                time: time.len(),
                length: length.len(),
            });
        }
        if num_nodes < 0 || num_nodes as u64 > MAX_NODES as u64 {
            return Err(GraphError::TooManyNodes(num_nodes));
        }
        let n = num_nodes as usize;
        let in_range = |v: i64| v >= 0 && (v as u64) < n as u64;
        for row in 0..tail.len() {
            for (column, value) in [("tail", tail[row]), ("head", head[row])] {
                if !in_range(value) {
                    return Err(GraphError::NodeOutOfRange {
                        row,
                        column,
                        value,
                        num_nodes: n,
                    });
                }
            }
            for (column, value) in [("time_s", time[row]), ("length_m", length[row])] {
                if !valid_weight(value) {
                    return Err(GraphError::BadWeight { row, column, value });
                }
            }
        }

        let m = tail.len() * if bidirectional { 2 } else { 1 };
        // `+ 0.0` turns -0.0 into +0.0: the radix heap orders keys by their bit pattern,
        // where -0.0 would sort after every positive time.
        let arc_of = |row: usize, reverse: bool| {
            let (from, to) = if reverse {
                (head[row], tail[row])
            } else {
                (tail[row], head[row])
            };
            (
                from as usize,
                Arc {
                    time: time[row] + 0.0,
                    length: length[row] + 0.0,
                    head: to as u32,
                },
            )
        };
        let directions: &[bool] = if bidirectional {
            &[false, true]
        } else {
            &[false]
        };

        let mut first_out = vec![0usize; n + 1];
        for &reverse in directions {
            for row in 0..tail.len() {
                first_out[arc_of(row, reverse).0 + 1] += 1;
            }
        }
        for u in 0..n {
            first_out[u + 1] += first_out[u];
        }
        let mut next = first_out.clone();
        let placeholder = Arc {
            time: 0.0,
            length: 0.0,
            head: 0,
        };
        let mut arcs = vec![placeholder; m];
        for &reverse in directions {
            for row in 0..tail.len() {
                let (from, arc) = arc_of(row, reverse);
                arcs[next[from]] = arc;
                next[from] += 1;
            }
        }
        let mut min_arc_time = f64::INFINITY;
        let mut max_arc_time = 0.0f64;
        for u in 0..n {
            for a in &arcs[first_out[u]..first_out[u + 1]] {
                // A self loop can never improve a label, so it does not limit the buckets.
                if a.head as usize != u {
                    min_arc_time = min_arc_time.min(a.time);
                    max_arc_time = max_arc_time.max(a.time);
                }
            }
        }
        Ok(Graph {
            first_out,
            arcs,
            min_arc_time,
            max_arc_time,
        })
    }

    /// Smallest travel time of an arc other than a self loop (`inf` without such arcs).
    pub fn min_arc_time(&self) -> f64 {
        self.min_arc_time
    }

    /// Largest travel time of an arc other than a self loop (0 without such arcs).
    pub fn max_arc_time(&self) -> f64 {
        self.max_arc_time
    }

    pub fn num_nodes(&self) -> usize {
        self.first_out.len() - 1
    }

    pub fn num_arcs(&self) -> usize {
        self.arcs.len()
    }

    /// The arcs leaving `u`.
    #[inline(always)]
    pub fn out_arcs(&self, u: u32) -> &[Arc] {
        let u = u as usize;
        &self.arcs[self.first_out[u]..self.first_out[u + 1]]
    }

    /// Ask the CPU to start loading `u`'s arcs (a hint; it never faults). A node's arcs
    /// usually span two or three cache lines: every line is requested.
    #[inline(always)]
    pub fn prefetch_arcs(&self, u: u32) {
        let (start, end) = (self.first_out[u as usize], self.first_out[u as usize + 1]);
        let arcs = &self.arcs[start..end];
        if let (Some(first), Some(last)) = (arcs.first(), arcs.last()) {
            let (first, last) = (first as *const Arc as usize, last as *const Arc as usize);
            let mut line = first & !63;
            while line < last + std::mem::size_of::<Arc>() {
                crate::prefetch::prefetch_addr(line);
                line += 64;
            }
        }
    }

    /// Ask the CPU to start loading `u`'s CSR offset (a hint; it never faults).
    #[inline(always)]
    pub fn prefetch_offset(&self, u: u32) {
        if let Some(offset) = self.first_out.get(u as usize) {
            crate::prefetch::prefetch(offset);
        }
    }

    pub fn first_out(&self) -> &[usize] {
        &self.first_out
    }

    pub fn arcs(&self) -> &[Arc] {
        &self.arcs
    }

    /// Bytes held by the graph (for memory reports).
    pub fn memory_bytes(&self) -> usize {
        self.first_out.len() * std::mem::size_of::<usize>()
            + self.arcs.len() * std::mem::size_of::<Arc>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csr_keeps_input_order_and_adds_reverse_arcs_after_forward_ones() {
        // rows: 0->1, 1->2, 0->2
        let g = Graph::from_edges(
            3,
            &[0, 1, 0],
            &[1, 2, 2],
            &[1.0, 2.0, 3.0],
            &[10.0, 20.0, 30.0],
            true,
        )
        .unwrap();
        assert_eq!(g.num_nodes(), 3);
        assert_eq!(g.num_arcs(), 6);
        let heads = |u| g.out_arcs(u).iter().map(|a| a.head).collect::<Vec<_>>();
        assert_eq!(heads(0), vec![1, 2]);
        assert_eq!(heads(1), vec![2, 0]);
        assert_eq!(heads(2), vec![1, 0]);
        assert_eq!(g.out_arcs(2)[1].time, 3.0);
    }

    #[test]
    fn first_bad_row_is_named() {
        let err =
            Graph::from_edges(3, &[0, 1, 5], &[1, 2, 0], &[1.0; 3], &[1.0; 3], false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "edge row 2: tail node id 5 is outside 0..2; node ids must be integers in [0, num_nodes)"
        );
        let err = Graph::from_edges(3, &[0, 1], &[1, 2], &[1.0, f64::NAN], &[-1.0, 1.0], false)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "edge row 0: length_m is -1.0; travel times and lengths must be finite and >= 0"
        );
        let err = Graph::from_edges(3, &[0], &[1, 2], &[1.0], &[1.0], false).unwrap_err();
        assert!(matches!(err, GraphError::LengthMismatch { head: 2, .. }));
        assert!(Graph::from_edges(-1, &[], &[], &[], &[], false).is_err());
    }

    #[test]
    fn negative_zero_is_stored_as_positive_zero() {
        let g = Graph::from_edges(2, &[0], &[1], &[-0.0], &[-0.0], false).unwrap();
        assert_eq!(g.out_arcs(0)[0].time.to_bits(), 0.0f64.to_bits());
    }

    #[test]
    fn empty_graph_is_fine() {
        let g = Graph::from_edges(0, &[], &[], &[], &[], false).unwrap();
        assert_eq!(g.num_nodes(), 0);
        assert_eq!(g.num_arcs(), 0);
    }
}
