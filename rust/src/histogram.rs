//! Weighted travel-time band histograms, computed straight from a finished search so that
//! callers who only need "how many people within 10, 20, ... minutes" never materialise
//! per-node arrays.

use crate::error::{Error, HistogramError};
use crate::search::Workspace;

/// Band edges in seconds: `0 = e_0 < e_1 < ... < e_m`, all finite.
pub fn validate_edges(edges: &[f64]) -> Result<(), Error> {
    if edges.len() < 2 {
        return Err(HistogramError::TooFewEdges.into());
    }
    if edges[0] != 0.0 {
        return Err(HistogramError::FirstEdgeNotZero(edges[0]).into());
    }
    for i in 1..edges.len() {
        if !(edges[i].is_finite() && edges[i] > edges[i - 1]) {
            return Err(HistogramError::NotIncreasing {
                index: i,
                value: edges[i],
                previous: edges[i - 1],
            }
            .into());
        }
    }
    Ok(())
}

/// Weights: row-major `num_nodes × columns`, finite and non-negative.
pub fn validate_weights(weights: &[f64], columns: usize, num_nodes: usize) -> Result<(), Error> {
    let rows = weights.len().checked_div(columns).unwrap_or(0);
    if columns == 0 || rows != num_nodes || weights.len() != rows * columns {
        return Err(HistogramError::WeightShape { rows, num_nodes }.into());
    }
    if let Some(i) = weights.iter().position(|w| !(w.is_finite() && *w >= 0.0)) {
        return Err(HistogramError::BadWeight {
            node: i / columns,
            column: i % columns,
            value: weights[i],
        }
        .into());
    }
    Ok(())
}

/// Weighted counts of one search. `counts` is `(bands + 1) × columns`, row-major: band `j`
/// holds times in `[e_j, e_{j+1})`, the last row times `>= e_m` (overflow).
#[derive(Debug, Clone, PartialEq)]
pub struct BandHistogram {
    pub counts: Vec<f64>,
    pub unreachable: Vec<f64>,
    pub time_sum: Vec<f64>,
    pub length_sum: Vec<f64>,
}

/// Index of the band holding time `t` (the overflow bin for `t >= e_m`): the same as
/// numpy's `searchsorted(edges, t, side='right') - 1`.
#[inline(always)]
pub fn band_of(edges: &[f64], t: f64) -> usize {
    edges.partition_point(|&e| e <= t) - 1
}

/// Accumulate the histogram of the last search in `ws` over all nodes, in ascending node
/// order (the order fixes the float sums, so every backend gets identical numbers).
pub fn band_histogram(
    ws: &Workspace,
    weights: &[f64],
    columns: usize,
    edges: &[f64],
) -> BandHistogram {
    let bins = edges.len();
    let mut h = BandHistogram {
        counts: vec![0.0; bins * columns],
        unreachable: vec![0.0; columns],
        time_sum: vec![0.0; columns],
        length_sum: vec![0.0; columns],
    };
    let num_nodes = weights.len() / columns.max(1);
    for v in 0..num_nodes {
        let row = &weights[v * columns..(v + 1) * columns];
        if ws.reached(v as u32) {
            let t = ws.time(v as u32);
            let l = ws.length(v as u32);
            let b = band_of(edges, t);
            for (c, &w) in row.iter().enumerate() {
                h.counts[b * columns + c] += w;
                h.time_sum[c] += w * t;
                h.length_sum[c] += w * l;
            }
        } else {
            for (c, &w) in row.iter().enumerate() {
                h.unreachable[c] += w;
            }
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Graph;
    use crate::test_support::query;

    #[test]
    fn band_of_matches_searchsorted_right() {
        let e = [0.0, 600.0, 1200.0];
        assert_eq!(band_of(&e, 0.0), 0);
        assert_eq!(band_of(&e, 599.9), 0);
        assert_eq!(band_of(&e, 600.0), 1);
        assert_eq!(band_of(&e, 1200.0), 2);
        assert_eq!(band_of(&e, 1e9), 2);
    }

    #[test]
    fn hand_worked_histogram() {
        // Chain 0 -5min- 1 -10min- 2, node 3 isolated. Weights (people, 65+):
        // node0 (10,1) at 0 s, node1 (20,2) at 300 s, node2 (30,3) at 900 s, node3 (40,4) unreached.
        let g = Graph::from_edges(
            4,
            &[0, 1],
            &[1, 2],
            &[300.0, 600.0],
            &[1000.0, 2000.0],
            true,
        )
        .unwrap();
        let mut ws = Workspace::new(4);
        ws.run(&g, &query(&[0], None, f64::INFINITY));
        let w = [10.0, 1.0, 20.0, 2.0, 30.0, 3.0, 40.0, 4.0];
        let h = band_histogram(&ws, &w, 2, &[0.0, 600.0, 1200.0]);
        assert_eq!(h.counts, vec![30.0, 3.0, 30.0, 3.0, 0.0, 0.0]);
        assert_eq!(h.unreachable, vec![40.0, 4.0]);
        assert_eq!(
            h.time_sum,
            vec![20.0 * 300.0 + 30.0 * 900.0, 2.0 * 300.0 + 3.0 * 900.0]
        );
        assert_eq!(
            h.length_sum,
            vec![20.0 * 1000.0 + 30.0 * 3000.0, 2.0 * 1000.0 + 3.0 * 3000.0]
        );
    }

    #[test]
    fn validation() {
        assert!(validate_edges(&[0.0]).is_err());
        assert!(validate_edges(&[1.0, 2.0]).is_err());
        assert!(validate_edges(&[0.0, 5.0, 5.0]).is_err());
        assert!(validate_edges(&[0.0, f64::INFINITY]).is_err());
        assert!(validate_edges(&[0.0, 600.0]).is_ok());
        assert!(validate_weights(&[1.0, 2.0, 3.0], 1, 2).is_err());
        let e = validate_weights(&[1.0, 2.0, f64::NAN, 0.0], 2, 2).unwrap_err();
        assert!(matches!(
            e,
            Error::Histogram(HistogramError::BadWeight {
                node: 1,
                column: 0,
                ..
            })
        ));
    }
}
