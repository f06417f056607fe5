//! Compact directed graph in CSR (compressed sparse row) form.
//!
//! Nodes are `u32` ids `0..num_nodes`. The arcs leaving node `u` are
//! `arcs[first_out[u]..first_out[u + 1]]`, each carrying head, travel time (s) and length
//! (m) together: a search jumps to a node's arcs at a random place in memory, and one
//! struct means one cache miss there instead of one per field.

use crate::error::{Error, GraphError};

/// One directed arc of the CSR adjacency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arc {
    pub time: f64,
    pub length: f64,
    pub head: u32,
}

/// Largest number of nodes: `u32::MAX` is kept free as a sentinel.
pub const MAX_NODES: usize = (u32::MAX - 1) as usize;

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
    ) -> Result<Graph, Error> {
        let edges = EdgeRows {
            tail,
            head,
            time,
            length,
        };
        let n = edges.check(num_nodes)?;
        let (first_out, arcs) = edges.to_csr(n, bidirectional);
        let (min_arc_time, max_arc_time) = arc_time_range(&first_out, &arcs);
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

/// The four parallel input arrays of [`Graph::from_edges`], one edge per row.
struct EdgeRows<'a> {
    tail: &'a [i64],
    head: &'a [i64],
    time: &'a [f64],
    length: &'a [f64],
}

impl EdgeRows<'_> {
    /// Check the rows against `num_nodes`; returns the node count. The error names the
    /// first bad row.
    fn check(&self, num_nodes: i64) -> Result<usize, GraphError> {
        let (tail, head, time, length) = (self.tail, self.head, self.time, self.length);
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
        Ok(n)
    }

    /// Row `row` as `(tail, arc)`, or as the reverse arc.
    #[inline(always)]
    fn arc(&self, row: usize, reverse: bool) -> (usize, Arc) {
        let (from, to) = if reverse {
            (self.head[row], self.tail[row])
        } else {
            (self.tail[row], self.head[row])
        };
        // `+ 0.0` turns -0.0 into +0.0: the radix heap orders keys by their bit pattern,
        // where -0.0 would sort after every positive time.
        (
            from as usize,
            Arc {
                time: self.time[row] + 0.0,
                length: self.length[row] + 0.0,
                head: to as u32,
            },
        )
    }

    /// The CSR `(first_out, arcs)` of checked rows over `n` nodes: a stable counting sort
    /// by tail of the forward rows, then (if `bidirectional`) the reverse rows.
    fn to_csr(&self, n: usize, bidirectional: bool) -> (Vec<usize>, Vec<Arc>) {
        let rows = self.tail.len();
        let m = rows * if bidirectional { 2 } else { 1 };
        let directions: &[bool] = if bidirectional {
            &[false, true]
        } else {
            &[false]
        };
        let mut first_out = vec![0usize; n + 1];
        for &reverse in directions {
            for row in 0..rows {
                first_out[self.arc(row, reverse).0 + 1] += 1;
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
            for row in 0..rows {
                let (from, arc) = self.arc(row, reverse);
                arcs[next[from]] = arc;
                next[from] += 1;
            }
        }
        (first_out, arcs)
    }
}

/// Smallest and largest time of an arc that is not a self loop (`inf` / 0 if none).
fn arc_time_range(first_out: &[usize], arcs: &[Arc]) -> (f64, f64) {
    let mut min_arc_time = f64::INFINITY;
    let mut max_arc_time = 0.0f64;
    for u in 0..first_out.len() - 1 {
        for a in &arcs[first_out[u]..first_out[u + 1]] {
            // A self loop can never improve a label, so it does not limit the buckets.
            if a.head as usize != u {
                min_arc_time = min_arc_time.min(a.time);
                max_arc_time = max_arc_time.max(a.time);
            }
        }
    }
    (min_arc_time, max_arc_time)
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
        assert!(matches!(
            err,
            Error::Graph(GraphError::LengthMismatch { head: 2, .. })
        ));
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
