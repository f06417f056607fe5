//! Vectorised H3 conversions (via h3o) for the loaders: points to cells and cells to
//! centre points, over whole arrays at once.

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
