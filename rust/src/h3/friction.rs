//! Hexagon friction graph (AccessMod / global friction-surface method on H3 cells).
//!
//! Every cell of a study area is a node; each cell carries a speed (km/h): the best road
//! through it, otherwise an off-road speed; a speed `<= 0` (or NaN) marks the cell
//! impassable. Each pair of neighbouring passable cells is joined by an undirected edge
//! whose length `d` is the great-circle distance between the two centres and whose time is
//! `(d/2)/v_a + (d/2)/v_b`: half the step is spent in each cell, at that cell's speed. The
//! time is symmetric, so the graph is the same in both directions (a search from offices
//! gives home → office times without reversing anything).

use h3o::{CellIndex, LatLng};
use rayon::prelude::*;

use crate::error::{Error, H3Error};
use crate::graph::Graph;
use crate::h3::cells::cell;

/// Undirected edges of a hexagon graph, one row per neighbouring pair (`tail < head`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HexEdges {
    pub tail: Vec<i64>,
    pub head: Vec<i64>,
    pub time: Vec<f64>,
    pub length: Vec<f64>,
}

fn passable(speed: f64) -> bool {
    // NaN compares false: NaN speeds are impassable, never a silent infinite time.
    speed > 0.0 && speed.is_finite()
}

/// Parse and check the cell list: valid, one resolution, strictly ascending (so a
/// neighbour's node id is found by binary search, with no hash map of millions of cells).
fn parse_cells(cells: &[u64]) -> Result<Vec<CellIndex>, H3Error> {
    let parsed = cells
        .iter()
        .enumerate()
        .map(|(index, &value)| cell(index, value))
        .collect::<Result<Vec<_>, _>>()?;
    for index in 1..cells.len() {
        if cells[index] <= cells[index - 1] {
            return Err(H3Error::NotSorted { index });
        }
        if parsed[index].resolution() != parsed[0].resolution() {
            return Err(H3Error::MixedResolution { index });
        }
    }
    Ok(parsed)
}

/// Edges between neighbouring passable cells. `cells` must be sorted ascending and unique
/// (node `i` is `cells[i]`); `speed_kmh[i]` is the speed of node `i`.
pub fn hex_edges(cells: &[u64], speed_kmh: &[f64]) -> Result<HexEdges, Error> {
    if cells.len() != speed_kmh.len() {
        return Err(H3Error::SpeedCount {
            cells: cells.len(),
            speeds: speed_kmh.len(),
        }
        .into());
    }
    let parsed = parse_cells(cells)?;
    let centres: Vec<LatLng> = parsed.par_iter().map(|&c| LatLng::from(c)).collect();
    // Chunks of cells in parallel; each chunk yields its rows in cell order, so the
    // result is the same for any number of threads.
    const CHUNK: usize = 1 << 14;
    let parts: Vec<Vec<(u32, u32, f64)>> = (0..cells.len().div_ceil(CHUNK))
        .into_par_iter()
        .map(|k| {
            let lo = k * CHUNK;
            let hi = (lo + CHUNK).min(cells.len());
            let mut out = Vec::with_capacity((hi - lo) * 3);
            for i in lo..hi {
                if !passable(speed_kmh[i]) {
                    continue;
                }
                for nb in parsed[i].grid_disk::<Vec<_>>(1) {
                    let v = u64::from(nb);
                    // Each undirected pair once: from its lower cell id.
                    if v <= cells[i] {
                        continue;
                    }
                    if let Ok(j) = cells.binary_search(&v) {
                        if passable(speed_kmh[j]) {
                            let d = centres[i].distance_m(centres[j]);
                            out.push((i as u32, j as u32, d));
                        }
                    }
                }
            }
            out
        })
        .collect();
    let total: usize = parts.iter().map(Vec::len).sum();
    let mut e = HexEdges {
        tail: Vec::with_capacity(total),
        head: Vec::with_capacity(total),
        time: Vec::with_capacity(total),
        length: Vec::with_capacity(total),
    };
    for part in parts {
        for (i, j, d) in part {
            let (va, vb) = (speed_kmh[i as usize] / 3.6, speed_kmh[j as usize] / 3.6);
            e.tail.push(i as i64);
            e.head.push(j as i64);
            e.time.push(0.5 * d / va + 0.5 * d / vb);
            e.length.push(d);
        }
        // `part` is dropped here: the tuple buffers are freed chunk by chunk while the
        // output arrays fill, which keeps the peak memory low at national scale.
    }
    Ok(e)
}

/// The friction graph itself: [`hex_edges`] handed to [`Graph::from_edges`] (both
/// directions), without the edge arrays ever crossing into Python.
pub fn hex_graph(cells: &[u64], speed_kmh: &[f64]) -> Result<Graph, Error> {
    let e = hex_edges(cells, speed_kmh)?;
    Graph::from_edges(
        cells.len() as i64,
        &e.tail,
        &e.head,
        &e.time,
        &e.length,
        true,
    )
}

/// For each query cell, its node id in the sorted `cells` (or -1 when absent).
pub fn cell_nodes(cells: &[u64], query: &[u64]) -> Vec<i64> {
    query
        .par_iter()
        .map(|q| cells.binary_search(q).map_or(-1, |i| i as i64))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use h3o::Resolution;

    fn disk(lat: f64, lng: f64, res: u8, k: u32) -> Vec<u64> {
        let c = LatLng::new(lat, lng)
            .unwrap()
            .to_cell(Resolution::try_from(res).unwrap());
        let mut v: Vec<u64> = c
            .grid_disk::<Vec<_>>(k)
            .into_iter()
            .map(u64::from)
            .collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn seven_cells_give_twelve_edges_with_half_and_half_times() {
        // A cell and its six neighbours: 6 spokes + 6 rim edges.
        let cells = disk(60.17, 24.94, 9, 1);
        let speed: Vec<f64> = (0..cells.len()).map(|i| 10.0 + i as f64).collect();
        let e = hex_edges(&cells, &speed).unwrap();
        assert_eq!(e.tail.len(), 12);
        for r in 0..e.tail.len() {
            let (a, b) = (e.tail[r] as usize, e.head[r] as usize);
            assert!(a < b);
            let ca = LatLng::from(CellIndex::try_from(cells[a]).unwrap());
            let cb = LatLng::from(CellIndex::try_from(cells[b]).unwrap());
            let d = ca.distance_m(cb);
            assert_eq!(e.length[r], d);
            // Resolution-9 neighbours are about 2 × apothem ≈ 300-350 m apart.
            assert!((250.0..450.0).contains(&d), "{d}");
            let t = d / 2.0 / (speed[a] / 3.6) + d / 2.0 / (speed[b] / 3.6);
            assert!((e.time[r] - t).abs() < 1e-9);
        }
    }

    #[test]
    fn impassable_cells_lose_their_edges() {
        let cells = disk(60.17, 24.94, 9, 1);
        let centre = u64::from(LatLng::new(60.17, 24.94).unwrap().to_cell(Resolution::Nine));
        let c = cells.binary_search(&centre).unwrap();
        let mut speed = vec![5.0; cells.len()];
        speed[c] = 0.0;
        let e = hex_edges(&cells, &speed).unwrap();
        assert_eq!(e.tail.len(), 6); // the rim only
        assert!(e.tail.iter().chain(&e.head).all(|&v| v as usize != c));
        speed[c] = f64::NAN;
        assert_eq!(hex_edges(&cells, &speed).unwrap().tail.len(), 6);
    }

    #[test]
    fn graph_has_both_directions_and_bad_input_is_named() {
        let cells = disk(61.5, 23.8, 8, 2);
        let g = hex_graph(&cells, &vec![30.0; cells.len()]).unwrap();
        assert_eq!(g.num_nodes(), 19);
        // 19-cell disk: 42 neighbouring pairs, 84 arcs.
        assert_eq!(g.num_arcs(), 84);
        let mut rev = cells.clone();
        rev.reverse();
        assert!(matches!(
            hex_edges(&rev, &vec![1.0; rev.len()]),
            Err(Error::H3(H3Error::NotSorted { index: 1 }))
        ));
        assert!(matches!(
            hex_edges(&[1, 2], &[1.0]),
            Err(Error::H3(H3Error::SpeedCount { .. }))
        ));
        assert!(matches!(
            hex_edges(&[12345], &[1.0]),
            Err(Error::H3(H3Error::InvalidCell { index: 0, .. }))
        ));
        assert_eq!(cell_nodes(&cells, &[cells[3], 7]), vec![3, -1]);
    }
}
