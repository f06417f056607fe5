//! The union of groups of H3 cells, computed on the cell graph instead of by polygon
//! overlay: an edge of a cell lies on its group's outline exactly when the neighbour
//! across it is not in the group, the outline edges chain into rings at their shared
//! vertices, and each ring belongs to the connected component of cells along it (the
//! counter-clockwise ring of a component is its shell, the clockwise ones its holes).
//!
//! No point-in-polygon test and no floating-point overlay: the work is linear in the
//! cells (a hash lookup per cell edge), and the result is exact for any fragmentation.
//! Every vertex of the hexagonal tiling joins three cells, so an outline vertex has
//! exactly one outgoing outline edge: rings never pinch, and holes never touch shells.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use h3o::CellIndex;
use rayon::prelude::*;

use super::cells::cell;
use crate::error::{Error, H3Error};

/// The dissolved groups as nested offsets (the layout of shapely's
/// `from_ragged_array` for MultiPolygons): `coords` holds `(lng, lat)` pairs of closed
/// rings; ring `r` is `ring_offsets[r]..ring_offsets[r + 1]` (vertex units), polygon
/// `p` has rings `polygon_offsets[p]..polygon_offsets[p + 1]` (shell first, then its
/// holes), group `g` has polygons `group_offsets[g]..group_offsets[g + 1]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dissolved {
    /// `[lng0, lat0, lng1, lat1, ...]` in degrees; each ring closed.
    pub coords: Vec<f64>,
    /// `rings + 1` vertex offsets.
    pub ring_offsets: Vec<i64>,
    /// `polygons + 1` ring offsets.
    pub polygon_offsets: Vec<i64>,
    /// `groups + 1` polygon offsets.
    pub group_offsets: Vec<i64>,
}

/// A splitmix64-finalised hasher: H3 indexes differ in their middle bits only (the low
/// bits of unused digits are all ones), so an identity or multiplicative hash would
/// put them all in a few buckets.
#[derive(Default, Clone, Copy)]
struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        let mut z = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(23) ^ x).wrapping_mul(0x2127_599b_f432_5c37);
    }
    fn write_u32(&mut self, x: u32) {
        self.write_u64(u64::from(x));
    }
    fn write_i64(&mut self, x: i64) {
        self.write_u64(x as u64);
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<MixHasher>>;

/// Vertex keys: coordinates on a 1e-9 degree grid. Two cells compute a shared vertex
/// each in their own face coordinates, equal to ~1e-12 degrees; distinct vertices of
/// a resolution-15 cell are still ~1e-5 degrees apart, so a key and its 8 neighbours
/// find the one matching vertex whatever side of a grid line the two copies fell.
const KEY_SCALE: f64 = 1e9;

fn key_of(lng: f64, lat: f64) -> (i64, i64) {
    (
        (lng * KEY_SCALE).round() as i64,
        (lat * KEY_SCALE).round() as i64,
    )
}

/// One outline edge: the row of the cell it bounds, and its 2 points (3 when it
/// crosses an icosahedron edge: H3's distortion vertex), counter-clockwise around the
/// cell, so the group lies on its left.
#[derive(Clone, Copy)]
struct OutlineEdge {
    row: u32,
    count: u8,
    points: [(f64, f64); 3],
}

impl OutlineEdge {
    fn start(&self) -> (f64, f64) {
        self.points[0]
    }
    fn end(&self) -> (f64, f64) {
        self.points[usize::from(self.count) - 1]
    }
}

/// Union-find whose root is the smallest row of a component (deterministic order).
fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let up = parent[parent[x as usize] as usize];
        parent[x as usize] = up;
        x = up;
    }
    x
}

fn union(parent: &mut [u32], a: u32, b: u32) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        parent[hi as usize] = lo;
    }
}

/// Check the inputs; the rows to dissolve (first occurrence of each (cell, group)).
fn checked_rows(
    cells: &[u64],
    groups: &[i64],
    num_groups: usize,
) -> Result<FastMap<(u64, u32), u32>, Error> {
    if cells.len() != groups.len() {
        return Err(H3Error::GroupCount {
            cells: cells.len(),
            groups: groups.len(),
        }
        .into());
    }
    if cells.len() >= u32::MAX as usize {
        return Err(H3Error::GroupCount {
            cells: cells.len(),
            groups: groups.len(),
        }
        .into());
    }
    let mut rows = FastMap::with_capacity_and_hasher(cells.len(), Default::default());
    for (i, (&c, &g)) in cells.iter().zip(groups).enumerate() {
        if g < 0 {
            continue;
        }
        if g as u64 >= num_groups as u64 {
            return Err(H3Error::GroupOutOfRange {
                index: i,
                value: g,
                groups: num_groups,
            }
            .into());
        }
        cell(i, c)?;
        rows.entry((c, g as u32)).or_insert(i as u32);
    }
    Ok(rows)
}

/// Rows per rayon task of the outline pass.
const OUTLINE_CHUNK: usize = 8_192;

/// A chunk's outline edges and same-group neighbour pairs.
type OutlinePart = (Vec<OutlineEdge>, Vec<(u32, u32)>);

/// The outline edges of every row (in row order) and the same-group neighbour pairs.
fn outline(cells: &[u64], groups: &[i64], rows: &FastMap<(u64, u32), u32>) -> OutlinePart {
    let parts: Vec<OutlinePart> = (0..cells.len())
        .collect::<Vec<_>>()
        .par_chunks(OUTLINE_CHUNK)
        .map(|chunk| {
            let mut edges = Vec::new();
            let mut pairs = Vec::new();
            for &i in chunk {
                let g = groups[i];
                if g < 0 || rows.get(&(cells[i], g as u32)) != Some(&(i as u32)) {
                    continue; // no group, or a repeated (cell, group) row
                }
                let c = CellIndex::try_from(cells[i]).expect("checked");
                for e in c.edges() {
                    match rows.get(&(u64::from(e.destination()), g as u32)) {
                        Some(&j) => {
                            if (i as u32) < j {
                                pairs.push((i as u32, j));
                            }
                        }
                        None => {
                            let b = e.boundary();
                            let mut points = [(0.0, 0.0); 3];
                            for (k, p) in b.iter().take(3).enumerate() {
                                points[k] = (p.lng(), p.lat());
                            }
                            edges.push(OutlineEdge {
                                row: i as u32,
                                count: b.len().min(3) as u8,
                                points,
                            });
                        }
                    }
                }
            }
            (edges, pairs)
        })
        .collect();
    let mut edges = Vec::new();
    let mut pairs = Vec::new();
    for (e, p) in parts {
        edges.extend(e);
        pairs.extend(p);
    }
    (edges, pairs)
}

/// For each outline edge, the index of the next edge of its ring (the edge of the same
/// group starting where it ends).
fn successors(edges: &[OutlineEdge], groups: &[i64]) -> Vec<u32> {
    let mut starts: FastMap<(u32, i64, i64), u32> =
        FastMap::with_capacity_and_hasher(edges.len(), Default::default());
    for (k, e) in edges.iter().enumerate() {
        let (x, y) = key_of(e.start().0, e.start().1);
        starts.insert((groups[e.row as usize] as u32, x, y), k as u32);
    }
    edges
        .par_iter()
        .map(|e| {
            let g = groups[e.row as usize] as u32;
            let (x, y) = key_of(e.end().0, e.end().1);
            if let Some(&k) = starts.get(&(g, x, y)) {
                return k;
            }
            for dx in -1..=1 {
                for dy in -1..=1 {
                    if let Some(&k) = starts.get(&(g, x + dx, y + dy)) {
                        return k;
                    }
                }
            }
            u32::MAX // cannot happen on a valid tiling; the ring is closed where it stops
        })
        .collect()
}

/// A ring: its edges in order, its group and component, and whether it is a shell.
struct Ring {
    group: u32,
    component: u32,
    shell: bool,
    coords: Vec<(f64, f64)>,
}

/// The ring's vertices (closed), longitudes made continuous along it; a ring that then
/// extends past -180 is shifted by +360 so it extends past +180, as the cell boundaries
/// of [`super::cell_boundaries`] do.
fn ring_coords(ring: &[u32], edges: &[OutlineEdge]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(ring.len() + 1);
    for &k in ring {
        let e = &edges[k as usize];
        out.extend_from_slice(&e.points[..usize::from(e.count) - 1]);
    }
    let mut prev = out[0].0;
    let mut lo = f64::MAX;
    for p in out.iter_mut() {
        let mut lng = p.0;
        while lng - prev > 180.0 {
            lng -= 360.0;
        }
        while lng - prev < -180.0 {
            lng += 360.0;
        }
        p.0 = lng;
        prev = lng;
        lo = lo.min(lng);
    }
    if lo < -180.0 {
        for p in out.iter_mut() {
            p.0 += 360.0;
        }
    }
    out.push(out[0]);
    out
}

/// Twice the signed planar area (positive: counter-clockwise).
fn signed_area(coords: &[(f64, f64)]) -> f64 {
    coords
        .windows(2)
        .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
        .sum()
}

/// Walk every ring once.
fn rings(edges: &[OutlineEdge], next: &[u32], groups: &[i64], parent: &mut [u32]) -> Vec<Ring> {
    let mut seen = vec![false; edges.len()];
    let mut out = Vec::new();
    let mut ring = Vec::new();
    for first in 0..edges.len() {
        if seen[first] {
            continue;
        }
        ring.clear();
        let mut k = first;
        while k != u32::MAX as usize && !seen[k] {
            seen[k] = true;
            ring.push(k as u32);
            k = next[k] as usize;
        }
        let coords = ring_coords(&ring, edges);
        let row = edges[first].row;
        out.push(Ring {
            group: groups[row as usize] as u32,
            component: find(parent, row),
            shell: signed_area(&coords) > 0.0,
            coords,
        });
    }
    out
}

/// The union of the cells of each group: `groups[i]` is cell `i`'s group in
/// `0..num_groups` (negative: in none). Each group becomes a MultiPolygon (possibly
/// empty), one polygon per connected component of its cells, with the component's
/// holes; vertices are H3's cell vertices, counter-clockwise shells and clockwise
/// holes, rings closed. A (cell, group) given twice counts once. An error names the
/// first invalid cell or group code.
pub fn dissolve_cells(
    cells: &[u64],
    groups: &[i64],
    num_groups: usize,
) -> Result<Dissolved, Error> {
    let rows = checked_rows(cells, groups, num_groups)?;
    let (edges, pairs) = outline(cells, groups, &rows);
    drop(rows);
    let mut parent: Vec<u32> = (0..cells.len() as u32).collect();
    for (a, b) in pairs {
        union(&mut parent, a, b);
    }
    let next = successors(&edges, groups);
    let mut all = rings(&edges, &next, groups, &mut parent);
    // Polygons in a stable order: by group, component (its lowest row), shell first.
    all.sort_by_key(|r| (r.group, r.component, !r.shell));
    let mut out = Dissolved::default();
    out.ring_offsets.push(0);
    out.polygon_offsets.push(0);
    out.group_offsets.push(0);
    let mut at = 0;
    for g in 0..num_groups as u32 {
        while at < all.len() && all[at].group == g {
            let component = all[at].component;
            let mut shell_seen = false;
            while at < all.len() && all[at].group == g && all[at].component == component {
                let r = &all[at];
                // A component has one shell; a second one (only possible for rings
                // round a pole) starts a polygon of its own.
                if r.shell && shell_seen {
                    out.polygon_offsets.push(out.ring_offsets.len() as i64 - 1);
                }
                shell_seen |= r.shell;
                for &(x, y) in &r.coords {
                    out.coords.push(x);
                    out.coords.push(y);
                }
                out.ring_offsets.push((out.coords.len() / 2) as i64);
                at += 1;
            }
            out.polygon_offsets.push(out.ring_offsets.len() as i64 - 1);
        }
        out.group_offsets.push(out.polygon_offsets.len() as i64 - 1);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::h3::{cell_boundaries, cell_children, latlng_to_cells};

    fn polygon_count(d: &Dissolved, g: usize) -> i64 {
        d.group_offsets[g + 1] - d.group_offsets[g]
    }

    fn ring_area(d: &Dissolved, r: usize) -> f64 {
        let (a, b) = (d.ring_offsets[r] as usize, d.ring_offsets[r + 1] as usize);
        let pts: Vec<(f64, f64)> = (a..b)
            .map(|i| (d.coords[2 * i], d.coords[2 * i + 1]))
            .collect();
        signed_area(&pts) / 2.0
    }

    fn cell_area(c: u64) -> f64 {
        let b = cell_boundaries(&[c]).unwrap();
        let mut pts: Vec<(f64, f64)> = b.coords.chunks(2).map(|v| (v[0], v[1])).collect();
        pts.push(pts[0]);
        signed_area(&pts) / 2.0
    }

    #[test]
    fn seven_children_make_one_hexagon_like_ring_and_a_ring_with_a_hole() {
        let parent = latlng_to_cells(&[60.17], &[24.94], 7).unwrap();
        let kids = cell_children(&parent, 8).unwrap();
        // Group 0: all seven; group 1: the six outer ones (a ring round the centre).
        let mut cells = kids.clone();
        cells.extend_from_slice(&kids[1..]);
        let mut groups = vec![0_i64; 7];
        groups.extend(vec![1_i64; 6]);
        let d = dissolve_cells(&cells, &groups, 3).unwrap();
        assert_eq!(d.group_offsets, [0, 1, 2, 2]); // group 2 is empty
        assert_eq!(polygon_count(&d, 0), 1);
        // Group 0: one shell and no hole; group 1: a shell and one hole, the centre cell.
        assert_eq!(d.polygon_offsets, [0, 1, 3]);
        let total: f64 = kids.iter().map(|&c| cell_area(c)).sum();
        assert!((ring_area(&d, 0) - total).abs() < 1e-9 * total);
        assert!(ring_area(&d, 2) < 0.0);
        let centre = kids[0];
        assert!((ring_area(&d, 1) + ring_area(&d, 2) - (total - cell_area(centre))).abs() < 1e-12);
        assert!((ring_area(&d, 2) + cell_area(centre)).abs() < 1e-9 * cell_area(centre));
        // 7 children of an aperture-7 cell: an outline of 18 edges (19 points closed).
        assert_eq!(d.ring_offsets[1] - d.ring_offsets[0], 19);
    }

    #[test]
    fn separate_cells_are_separate_polygons_and_bad_input_is_named() {
        let cells = latlng_to_cells(&[60.0, 61.0, 62.0], &[25.0, 25.0, 25.0], 8).unwrap();
        let d = dissolve_cells(&cells, &[0, 0, -1], 1).unwrap();
        assert_eq!(d.group_offsets, [0, 2]);
        assert_eq!(d.polygon_offsets, [0, 1, 2]);
        assert_eq!(d.ring_offsets, [0, 7, 14]);
        let err = dissolve_cells(&cells, &[0, 3, 0], 2)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("entry 1: group code 3 "), "{err}");
        let err = dissolve_cells(&[cells[0], 12345], &[0, 0], 1)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("entry 1: 0x3039 "), "{err}");
        assert!(dissolve_cells(&cells, &[0], 1).is_err());
        // A cell given twice in a group counts once.
        let d = dissolve_cells(&[cells[0], cells[0]], &[0, 0], 1).unwrap();
        assert_eq!(d.ring_offsets, [0, 7]);
    }

    #[test]
    fn cells_across_the_antimeridian_join_east_of_it() {
        let cells = latlng_to_cells(&[0.0, 0.0], &[179.999, -179.999], 9).unwrap();
        let d = dissolve_cells(&cells, &[0, 0], 1).unwrap();
        let lngs: Vec<f64> = d.coords.chunks(2).map(|v| v[0]).collect();
        assert!(lngs.iter().all(|&x| x > 179.0 && x < 181.0), "{lngs:?}");
    }
}
