//! Vectorised H3 conversions (via h3o) for the loaders and the GIS layers: points to
//! cells, cells to centre points and to boundary rings, over whole arrays at once.

use h3o::{CellIndex, LatLng, Resolution};

use crate::error::{Error, H3Error};

/// An H3 resolution from its number.
fn resolution(resolution: u8) -> Result<Resolution, H3Error> {
    Resolution::try_from(resolution).map_err(|_| H3Error::Resolution(resolution))
}

/// Entry `index` of a cell array as an H3 cell.
pub(super) fn cell(index: usize, value: u64) -> Result<CellIndex, H3Error> {
    CellIndex::try_from(value).map_err(|_| H3Error::InvalidCell { index, value })
}

/// H3 cell of each point (degrees). An error names the first invalid point (lowest
/// index), whatever the thread count.
pub fn latlng_to_cells(lat: &[f64], lng: &[f64], res: u8) -> Result<Vec<u64>, Error> {
    if lat.len() != lng.len() {
        return Err(H3Error::CoordinateCount.into());
    }
    let res = resolution(res)?;
    // Parallel: ~300 ns per point in h3o, and loaders convert millions of sample points.
    // A parallel collect stops at *some* failing point, not necessarily the first, so the
    // error path looks for the first one sequentially (it costs nothing when all are valid).
    use rayon::prelude::*;
    let cells: Result<Vec<u64>, ()> = lat
        .par_iter()
        .zip(lng.par_iter())
        .map(|(&la, &lo)| {
            LatLng::new(la, lo)
                .map(|p| u64::from(p.to_cell(res)))
                .map_err(|_| ())
        })
        .collect();
    cells.map_err(|()| {
        let (index, (&lat, &lng)) = lat
            .iter()
            .zip(lng)
            .enumerate()
            .find(|(_, (&la, &lo))| LatLng::new(la, lo).is_err())
            .expect("a point failed to convert");
        H3Error::InvalidPoint { index, lat, lng }.into()
    })
}

/// Centre (lat, lng) in degrees of each cell. Returns the index of the first invalid id.
pub fn cell_centers(cells: &[u64]) -> Result<(Vec<f64>, Vec<f64>), Error> {
    let mut lat = Vec::with_capacity(cells.len());
    let mut lng = Vec::with_capacity(cells.len());
    for (i, &c) in cells.iter().enumerate() {
        let p = LatLng::from(cell(i, c)?);
        lat.push(p.lat());
        lng.push(p.lng());
    }
    Ok((lat, lng))
}

/// Cell boundary rings of [`cell_boundaries`]: `coords` holds `(lng, lat)` pairs flat,
/// `offsets[i]..offsets[i + 1]` are the vertices of cell `i` (in vertex, not float, units).
#[derive(Debug, Clone, PartialEq)]
pub struct CellBoundaries {
    /// `[lng0, lat0, lng1, lat1, ...]` in degrees.
    pub coords: Vec<f64>,
    /// `cells.len() + 1` vertex offsets, starting at 0.
    pub offsets: Vec<i64>,
}

/// Cells per rayon task of [`cell_boundaries`]: each task fills its own buffers, which
/// are concatenated in order (no per-cell allocation, no second boundary pass).
const BOUNDARY_CHUNK: usize = 16_384;

/// Boundary ring of each cell as `(lng, lat)` degrees, counter-clockwise, not closed (the
/// first vertex is not repeated). Hexagons have 6 vertices, pentagons 5, and cells cut by
/// an icosahedron edge up to 10 (H3's distortion vertices, as `cellToBoundary` gives).
///
/// A ring that crosses the antimeridian (its longitudes span more than 180 degrees) is
/// made continuous by adding 360 to its negative longitudes, so the polygon extends past
/// +180 instead of wrapping round the globe (planar area and validity stay right). Cells
/// holding a pole keep H3's longitudes. An error names the first invalid cell.
pub fn cell_boundaries(cells: &[u64]) -> Result<CellBoundaries, Error> {
    use rayon::prelude::*;
    // Validate sequentially first so the error names the lowest bad index.
    for (i, &c) in cells.iter().enumerate() {
        cell(i, c)?;
    }
    let parts: Vec<(Vec<f64>, Vec<i64>)> = cells
        .par_chunks(BOUNDARY_CHUNK)
        .map(|chunk| {
            let mut coords = Vec::with_capacity(chunk.len() * 12);
            let mut counts = Vec::with_capacity(chunk.len());
            for &c in chunk {
                let ring = CellIndex::try_from(c).expect("validated above").boundary();
                push_ring(&ring, &mut coords);
                counts.push(ring.len() as i64);
            }
            (coords, counts)
        })
        .collect();
    let total: usize = parts.iter().map(|(c, _)| c.len()).sum();
    let mut coords = Vec::with_capacity(total);
    let mut offsets = Vec::with_capacity(cells.len() + 1);
    offsets.push(0_i64);
    let mut end = 0_i64;
    for (c, counts) in parts {
        coords.extend_from_slice(&c);
        for n in counts {
            end += n;
            offsets.push(end);
        }
    }
    Ok(CellBoundaries { coords, offsets })
}

/// Cell polygons as WKB of [`cell_wkb`]: polygon `i` is `data[offsets[i]..offsets[i + 1]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct CellWkb {
    /// The concatenated WKB polygons.
    pub data: Vec<u8>,
    /// `cells.len() + 1` byte offsets, starting at 0.
    pub offsets: Vec<i64>,
    /// `[min lng, min lat, max lng, max lat]` of every vertex (all NaN without cells).
    pub bbox: [f64; 4],
}

/// Each cell's polygon as ISO WKB (little endian, one closed ring of the vertices of
/// [`cell_boundaries`], antimeridian crossings unwrapped the same way): what GeoParquet
/// and GeoPackage writers take, built without any geometry objects. An error names the
/// first invalid cell.
pub fn cell_wkb(cells: &[u64]) -> Result<CellWkb, Error> {
    use rayon::prelude::*;
    for (i, &c) in cells.iter().enumerate() {
        cell(i, c)?;
    }
    let parts: Vec<(Vec<u8>, Vec<i64>, [f64; 4])> = cells
        .par_chunks(BOUNDARY_CHUNK)
        .map(|chunk| {
            let mut data = Vec::with_capacity(chunk.len() * 125);
            let mut sizes = Vec::with_capacity(chunk.len());
            let mut ring = Vec::with_capacity(20);
            let mut bbox = [
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ];
            for &c in chunk {
                let b = CellIndex::try_from(c).expect("validated above").boundary();
                ring.clear();
                push_ring(&b, &mut ring);
                let start = data.len();
                data.push(1_u8); // little endian
                data.extend_from_slice(&3_u32.to_le_bytes()); // Polygon
                data.extend_from_slice(&1_u32.to_le_bytes()); // one ring
                data.extend_from_slice(&(b.len() as u32 + 1).to_le_bytes());
                for v in ring.iter().chain(&ring[..2]) {
                    data.extend_from_slice(&v.to_le_bytes());
                }
                for xy in ring.chunks(2) {
                    bbox = [
                        bbox[0].min(xy[0]),
                        bbox[1].min(xy[1]),
                        bbox[2].max(xy[0]),
                        bbox[3].max(xy[1]),
                    ];
                }
                sizes.push((data.len() - start) as i64);
            }
            (data, sizes, bbox)
        })
        .collect();
    let total: usize = parts.iter().map(|(d, _, _)| d.len()).sum();
    let mut data = Vec::with_capacity(total);
    let mut offsets = Vec::with_capacity(cells.len() + 1);
    offsets.push(0_i64);
    let mut end = 0_i64;
    let mut bbox = [f64::NAN; 4];
    for (d, sizes, b) in parts {
        data.extend_from_slice(&d);
        for n in sizes {
            end += n;
            offsets.push(end);
        }
        // f64::min/max ignore NaN: the first chunk replaces the NaN start.
        bbox = [
            bbox[0].min(b[0]),
            bbox[1].min(b[1]),
            bbox[2].max(b[2]),
            bbox[3].max(b[3]),
        ];
    }
    Ok(CellWkb {
        data,
        offsets,
        bbox,
    })
}

/// Append a ring's `(lng, lat)` pairs, unwrapping an antimeridian crossing.
fn push_ring(ring: &[LatLng], out: &mut Vec<f64>) {
    let (lo, hi) = ring.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(p.lng()), hi.max(p.lng()))
    });
    // A pole cell's ring circles the pole: no shift makes it a planar polygon, so keep it.
    let holds_pole = ring.iter().all(|p| p.lat() > 0.0) || ring.iter().all(|p| p.lat() < 0.0);
    let unwrap = hi - lo > 180.0 && !(holds_pole && spans_all_longitudes(ring));
    for p in ring {
        let lng = if unwrap && p.lng() < 0.0 {
            p.lng() + 360.0
        } else {
            p.lng()
        };
        out.push(lng);
        out.push(p.lat());
    }
}

/// Whether a ring winds round the pole: the sum of its longitude steps (each taken the
/// short way round) is a full turn.
fn spans_all_longitudes(ring: &[LatLng]) -> bool {
    let mut turn = 0.0;
    for (i, p) in ring.iter().enumerate() {
        let q = ring[(i + 1) % ring.len()];
        let mut d = q.lng() - p.lng();
        if d > 180.0 {
            d -= 360.0;
        } else if d < -180.0 {
            d += 360.0;
        }
        turn += d;
    }
    turn.abs() > 180.0
}

/// All children at `resolution` of each cell, concatenated in input order (each cell's
/// children ascending). Used to fill a coarse cover of a study area with fine cells.
pub fn cell_children(cells: &[u64], res: u8) -> Result<Vec<u64>, Error> {
    let target = resolution(res)?;
    let mut out = Vec::new();
    for (index, &c) in cells.iter().enumerate() {
        let parent = cell(index, c)?;
        if parent.resolution() > target {
            return Err(H3Error::FinerCell {
                index,
                cell: c,
                cell_resolution: u8::from(parent.resolution()),
                resolution: res,
            }
            .into());
        }
        out.extend(parent.children(target).map(u64::from));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helsinki_round_trip() {
        let cells = latlng_to_cells(&[60.17], &[24.94], 8).unwrap();
        // Value from h3-py: h3.latlng_to_cell(60.17, 24.94, 8) == 0x8808...; checked in
        // tests/test_h3cells.py against h3-py; here: the centre maps back to the same cell.
        let (lat, lng) = cell_centers(&cells).unwrap();
        assert!((lat[0] - 60.17).abs() < 0.01 && (lng[0] - 24.94).abs() < 0.01);
        assert_eq!(latlng_to_cells(&lat, &lng, 8).unwrap(), cells);
        assert!(latlng_to_cells(&[f64::NAN], &[0.0], 8).is_err());
        // The error names the first invalid point, however the work was split.
        let mut lat = vec![60.0; 100_000];
        let lng = vec![25.0; 100_000];
        for i in [70_000, 99_999, 31_337, 50_000] {
            lat[i] = f64::INFINITY;
        }
        let err = latlng_to_cells(&lat, &lng, 8).unwrap_err().to_string();
        assert!(err.starts_with("point 31337 "), "{err}");
        assert!(latlng_to_cells(&[1.0], &[], 8).is_err());
        assert!(cell_centers(&[12345]).is_err());
    }

    #[test]
    fn boundaries_are_rings_round_the_centre() {
        let cells = latlng_to_cells(&[60.17, 10.0], &[24.94, -170.0], 8).unwrap();
        // A pentagon (base cell 4 at resolution 0) and its resolution-8 centre child.
        let pentagon = u64::from(CellIndex::base_cells().find(|c| c.is_pentagon()).unwrap());
        let kid = cell_children(&[pentagon], 8).unwrap()[0];
        let all = [cells[0], cells[1], pentagon, kid];
        let b = cell_boundaries(&all).unwrap();
        assert_eq!(b.offsets.len(), all.len() + 1);
        assert_eq!(*b.offsets.last().unwrap() as usize * 2, b.coords.len());
        let counts: Vec<i64> = b.offsets.windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!(counts, [6, 6, 5, 5]);
        // Every vertex lies about one edge length from the centre, and the vertices are
        // the ones h3o gives (same order).
        let (lat, lng) = cell_centers(&all[..1]).unwrap();
        let ring = &b.coords[0..12];
        let edge_deg = 0.461 / 111.2 * 2.0; // res-8 edge ~0.46 km; degrees of longitude at 60N
        for v in ring.chunks(2) {
            let (dx, dy) = ((v[0] - lng[0]) * 0.5, v[1] - lat[0]);
            assert!((dx * dx + dy * dy).sqrt() < edge_deg, "{v:?}");
        }
        let first = CellIndex::try_from(all[0]).unwrap().boundary()[0];
        assert_eq!((ring[0], ring[1]), (first.lng(), first.lat()));
        let err = cell_boundaries(&[all[0], 12345]).unwrap_err().to_string();
        assert!(err.starts_with("entry 1: 0x3039 "), "{err}");
        assert_eq!(cell_boundaries(&[]).unwrap().offsets, [0]);
    }

    #[test]
    fn wkb_polygons_hold_the_closed_boundary_rings() {
        let cells = latlng_to_cells(&[60.17, 0.0], &[24.94, 180.0], 8).unwrap();
        let pentagon = u64::from(CellIndex::base_cells().find(|c| c.is_pentagon()).unwrap());
        let all = [cells[0], cells[1], pentagon];
        let w = cell_wkb(&all).unwrap();
        let b = cell_boundaries(&all).unwrap();
        for i in 0..all.len() {
            let wkb = &w.data[w.offsets[i] as usize..w.offsets[i + 1] as usize];
            let n = (b.offsets[i + 1] - b.offsets[i]) as usize;
            assert_eq!(wkb.len(), 13 + 16 * (n + 1));
            assert_eq!(&wkb[..9], &[1, 3, 0, 0, 0, 1, 0, 0, 0]);
            assert_eq!(
                u32::from_le_bytes(wkb[9..13].try_into().unwrap()) as usize,
                n + 1
            );
            let xy: Vec<f64> = wkb[13..]
                .chunks(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect();
            let ring = &b.coords[2 * b.offsets[i] as usize..2 * b.offsets[i + 1] as usize];
            assert_eq!(&xy[..2 * n], ring);
            assert_eq!(&xy[2 * n..], &ring[..2]); // closed
        }
        assert!(cell_wkb(&[all[0], 7])
            .unwrap_err()
            .to_string()
            .starts_with("entry 1: "));
    }

    #[test]
    fn antimeridian_cells_are_unwrapped() {
        // A cell centred on the antimeridian at a coarse resolution spans both signs.
        let c = latlng_to_cells(&[0.0], &[180.0], 3).unwrap();
        let b = cell_boundaries(&c).unwrap();
        let lngs: Vec<f64> = b.coords.chunks(2).map(|v| v[0]).collect();
        let (lo, hi) = lngs
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
        assert!(hi - lo < 5.0 && hi > 180.0, "{lngs:?}");
        // A pole cell (resolution 0) is left as H3 gives it.
        let pole = latlng_to_cells(&[90.0], &[0.0], 0).unwrap();
        let b = cell_boundaries(&pole).unwrap();
        let raw = CellIndex::try_from(pole[0]).unwrap().boundary();
        assert_eq!(b.coords[0], raw[0].lng());
    }

    #[test]
    fn children_of_a_cell_are_seven_per_level() {
        let cells = latlng_to_cells(&[60.17], &[24.94], 6).unwrap();
        let kids = cell_children(&cells, 8).unwrap();
        assert_eq!(kids.len(), 49);
        let (lat, lng) = cell_centers(&kids).unwrap();
        // Every child's centre lies near the parent (res-6 edge ~3.7 km).
        assert!(lat.iter().all(|&x| (x - 60.17).abs() < 0.1));
        assert!(lng.iter().all(|&x| (x - 24.94).abs() < 0.2));
        assert!(cell_children(&kids, 6).is_err());
    }
}
