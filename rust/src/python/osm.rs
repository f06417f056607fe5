//! OpenStreetMap PBF: the two-pass reader (graph arrays for `hexaccess.network.osm`) and
//! the writer of the synthetic extracts. Private names (`_osm_read_pbf`, `_osm_write_pbf`):
//! only `hexaccess.network.osm` and `hexaccess.synthetic.osm_pbf` call them.

use numpy::{IntoPyArray, PyReadonlyArray1};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::osm::{read_pbf, write_pbf, OsmError, OsmRules, PbfWays};

fn to_py(e: OsmError) -> PyErr {
    match e {
        OsmError::Io(m) => PyOSError::new_err(m),
        other => PyValueError::new_err(other.to_string()),
    }
}

/// Read the ways of a PBF usable under the rules into graph arrays: a dict of numpy
/// arrays (`node_id`, `node_lon`, `node_lat`, `node_shape`, `tail`, `head`, `class`,
/// `oneway`, `ferry`, `length_m`, `boarding`, `way_id`, `mid_frac`, `mid_lon0` ...),
/// `bbox`, the way counts and the skip counters. `OSError` when the file cannot be
/// read, `ValueError` when it cannot be decoded.
///
/// The car rules are keyword arguments (empty: off): `maxspeed_tags`, `maxspeed_zones`
/// (zone value, km/h), `destination_access`, `restriction_tags`, `restriction_exempt`;
/// they add `maxspeed_kmh`, `destination`, the restriction rows (`restriction_from`,
/// `restriction_via`, `restriction_to`, `restriction_only`) and the counters
/// `maxspeed_unused` and `restrictions_skipped`.
#[pyfunction]
#[pyo3(name = "_osm_read_pbf")]
#[pyo3(signature = (
    path, classes, exclude, ferry_routes, access_tags, oneway_tags, respect_oneway,
    split_at_vertices, *, maxspeed_tags = Vec::new(), maxspeed_zones = Vec::new(),
    destination_access = Vec::new(), restriction_tags = Vec::new(),
    restriction_exempt = Vec::new()
))]
#[allow(clippy::too_many_arguments)]
pub(super) fn osm_read_pbf<'py>(
    py: Python<'py>,
    path: String,
    classes: Vec<String>,
    exclude: Vec<String>,
    ferry_routes: Vec<String>,
    access_tags: Vec<String>,
    oneway_tags: Vec<String>,
    respect_oneway: bool,
    split_at_vertices: bool,
    maxspeed_tags: Vec<String>,
    maxspeed_zones: Vec<(String, f64)>,
    destination_access: Vec<String>,
    restriction_tags: Vec<String>,
    restriction_exempt: Vec<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let rules = OsmRules {
        classes,
        exclude,
        ferry_routes,
        access_tags,
        oneway_tags,
        respect_oneway,
        maxspeed_tags,
        maxspeed_zones,
        destination_access,
        restriction_tags,
        restriction_exempt,
    };
    let g = py
        .detach(|| read_pbf(&path, &rules, split_at_vertices))
        .map_err(to_py)?;
    let d = PyDict::new(py);
    d.set_item("node_id", g.node_id.into_pyarray(py))?;
    d.set_item("node_lon", g.node_lon.into_pyarray(py))?;
    d.set_item("node_lat", g.node_lat.into_pyarray(py))?;
    d.set_item("node_shape", g.node_shape.into_pyarray(py))?;
    d.set_item("tail", g.tail.into_pyarray(py))?;
    d.set_item("head", g.head.into_pyarray(py))?;
    d.set_item("class", g.class.into_pyarray(py))?;
    d.set_item("oneway", g.oneway.into_pyarray(py))?;
    d.set_item("ferry", g.ferry.into_pyarray(py))?;
    d.set_item("maxspeed_kmh", g.maxspeed_kmh.into_pyarray(py))?;
    d.set_item("destination", g.destination.into_pyarray(py))?;
    let r = &g.restrictions;
    let col = |f: fn(&crate::osm::Restriction) -> i64| r.iter().map(f).collect::<Vec<i64>>();
    d.set_item("restriction_from", col(|x| x.from_way).into_pyarray(py))?;
    d.set_item("restriction_via", col(|x| x.via_node).into_pyarray(py))?;
    d.set_item("restriction_to", col(|x| x.to_way).into_pyarray(py))?;
    let only: Vec<bool> = r.iter().map(|x| x.only).collect();
    d.set_item("restriction_only", only.into_pyarray(py))?;
    d.set_item("length_m", g.length_m.into_pyarray(py))?;
    d.set_item("boarding", g.boarding.into_pyarray(py))?;
    d.set_item("way_id", g.way_id.into_pyarray(py))?;
    d.set_item("mid_frac", g.mid_frac.into_pyarray(py))?;
    d.set_item("mid_lon0", g.mid_lon0.into_pyarray(py))?;
    d.set_item("mid_lat0", g.mid_lat0.into_pyarray(py))?;
    d.set_item("mid_lon1", g.mid_lon1.into_pyarray(py))?;
    d.set_item("mid_lat1", g.mid_lat1.into_pyarray(py))?;
    d.set_item("bbox", g.bbox.to_vec())?;
    d.set_item("ways", g.ways)?;
    d.set_item(
        "ways_without_located_segment",
        g.ways_without_located_segment,
    )?;
    d.set_item("way_nodes", g.way_nodes)?;
    d.set_item("clipped_ways", g.clipped_ways)?;
    d.set_item("excluded", g.counts.excluded)?;
    d.set_item("unknown_highway", g.counts.unknown_highway)?;
    d.set_item("access_forbidden", g.counts.access_forbidden)?;
    d.set_item("unknown_oneway", g.counts.unknown_oneway)?;
    d.set_item("maxspeed_unused", g.counts.maxspeed_unused)?;
    d.set_item("restrictions_skipped", g.counts.restrictions_skipped)?;
    Ok(d)
}

/// Write nodes (ascending ids, 1e-7 degree coordinates) and ways (node lists by
/// offsets, one tag set each: string ids by offsets into `strings`) as a PBF file.
#[pyfunction]
#[pyo3(name = "_osm_write_pbf")]
#[allow(clippy::too_many_arguments)]
pub(super) fn osm_write_pbf(
    py: Python<'_>,
    path: String,
    node_id: PyReadonlyArray1<'_, i64>,
    lat_e7: PyReadonlyArray1<'_, i32>,
    lon_e7: PyReadonlyArray1<'_, i32>,
    way_id: PyReadonlyArray1<'_, i64>,
    node_offsets: PyReadonlyArray1<'_, u64>,
    refs: PyReadonlyArray1<'_, i64>,
    tag_set: PyReadonlyArray1<'_, u32>,
    set_offsets: PyReadonlyArray1<'_, u64>,
    tag_keys: PyReadonlyArray1<'_, u32>,
    tag_vals: PyReadonlyArray1<'_, u32>,
    strings: Vec<String>,
) -> PyResult<()> {
    let (ids, lat, lon) = (node_id.as_slice()?, lat_e7.as_slice()?, lon_e7.as_slice()?);
    let ways = PbfWays {
        ids: way_id.as_slice()?,
        node_offsets: node_offsets.as_slice()?,
        refs: refs.as_slice()?,
        tag_set: tag_set.as_slice()?,
        set_offsets: set_offsets.as_slice()?,
        tag_keys: tag_keys.as_slice()?,
        tag_vals: tag_vals.as_slice()?,
        strings: &strings,
    };
    check_ways(ids.len(), lat.len(), lon.len(), &ways)?;
    py.detach(|| write_pbf(&path, ids, lat, lon, &ways))
        .map_err(to_py)
}

/// Array lengths and offsets consistent, every string id in range.
fn check_ways(n: usize, nlat: usize, nlon: usize, w: &PbfWays<'_>) -> PyResult<()> {
    let offsets_ok = |o: &[u64], len: usize| {
        o.first() == Some(&0)
            && o.last() == Some(&(len as u64))
            && o.windows(2).all(|p| p[0] <= p[1])
    };
    let nsets = w.set_offsets.len().saturating_sub(1);
    let ok = n == nlat
        && n == nlon
        && w.node_offsets.len() == w.ids.len() + 1
        && offsets_ok(w.node_offsets, w.refs.len())
        && w.tag_set.len() == w.ids.len()
        && w.tag_set.iter().all(|&s| (s as usize) < nsets)
        && offsets_ok(w.set_offsets, w.tag_keys.len())
        && w.tag_keys.len() == w.tag_vals.len()
        && w.tag_keys
            .iter()
            .chain(w.tag_vals)
            .all(|&s| (s as usize) < w.strings.len());
    if ok {
        Ok(())
    } else {
        Err(PyValueError::new_err(
            "osm_write_pbf: inconsistent array lengths, offsets or string ids",
        ))
    }
}
