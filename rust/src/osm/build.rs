//! Kept ways → edges between graph nodes, exactly as `_osm_edges` in
//! `python/hexaccess/network/osm.py`: segment `i` joins consecutive node entries of one
//! way when both are located; graph nodes are the entries on usable segments that are
//! shared (two or more such entries of the same OSM node), or that end a run of usable
//! segments (way ends, ends of runs of nodes missing from the extract); with
//! `split_at_vertices` every entry on a usable segment. Lengths are WGS84 geodesics
//! (Karney, as pyproj's `Geod.inv`, or within 3e-10 of it: [`segment_length`]), summed
//! segment by segment in way order.

use geographiclib_rs::{Geodesic, InverseGeodesic};
use rayon::prelude::*;

use super::{unpack, SkipCounts, WayRec, MISSING};

/// The road graph of an extract as flat arrays (edges in way order, as drawn; nodes
/// sorted by OSM id).
#[derive(Debug, Default, Clone)]
pub struct OsmGraph {
    /// OSM id, lon and lat (degrees) of each graph node.
    pub node_id: Vec<i64>,
    pub node_lon: Vec<f64>,
    pub node_lat: Vec<f64>,
    /// Nodes that exist only because of `split_at_vertices` (not junctions or ends).
    pub node_shape: Vec<bool>,
    /// Edge ends (graph node indices) in the way's drawing direction.
    pub tail: Vec<i64>,
    pub head: Vec<i64>,
    /// Class id (position in the rules' classes; ferries one past them).
    pub class: Vec<u16>,
    /// Way direction: +1 one-way along, -1 against, 0 two-way.
    pub oneway: Vec<i8>,
    pub ferry: Vec<bool>,
    /// The way's tagged speed limit, km/h (0: untagged, or no `maxspeed_tags` rule).
    pub maxspeed_kmh: Vec<f32>,
    /// Open to destination traffic only (`[osm] destination_access`).
    pub destination: Vec<bool>,
    /// Geodesic length, metres.
    pub length_m: Vec<f64>,
    /// Edges that start at an unsplit graph node (ferry boarding is paid there).
    pub boarding: Vec<bool>,
    /// OSM id of each edge's way.
    pub way_id: Vec<i64>,
    /// Midpoint: the fraction along the segment at half the edge's length, and (when
    /// not splitting; a split edge is that segment) the segment's end points.
    pub mid_frac: Vec<f64>,
    pub mid_lon0: Vec<f64>,
    pub mid_lat0: Vec<f64>,
    pub mid_lon1: Vec<f64>,
    pub mid_lat1: Vec<f64>,
    /// Bounding box (min lon, min lat, max lon, max lat) of the located nodes of kept
    /// ways (NaN when none).
    pub bbox: [f64; 4],
    /// Kept ways, kept ways without one usable segment, way node entries.
    pub ways: usize,
    pub ways_without_located_segment: usize,
    /// Kept ways with at least one node missing from the extract (cut at its boundary).
    pub clipped_ways: usize,
    pub way_nodes: usize,
    pub counts: SkipCounts,
    /// Turn-restriction rows of the extract (OSM ids; matched to arcs in Python).
    pub restrictions: Vec<super::Restriction>,
}

const LOCATED: u8 = 1;
const SHARED: u8 = 2; // two or more entries on usable segments
const SEEN: u8 = 4; // one entry on a usable segment so far
const JUNCTION: u8 = 8;
const GRAPH: u8 = 16;

fn degrees(v: u64) -> (f64, f64) {
    let (lat, lon) = unpack(v);
    (lon as f64 * 1e-7, lat as f64 * 1e-7)
}

/// Segment lengths (metres) where the local-metric formula below is used instead of
/// Karney's geodesic: within 3e-10 of it there (measured on random segments below
/// 80 degrees of latitude; shorter segments are dominated by the geodesic's own rounding
/// of the coordinates, longer ones by the formula's (d / R)^2 error).
const LOCAL_METRIC_M: std::ops::RangeInclusive<f64> = 20.0..=100.0;

/// WGS84 length of the segment between two packed points (1e-7 degrees): the meridian
/// and prime-vertical radii at the mid latitude applied to the exact integer coordinate
/// differences (about 10x faster than the geodesic) when the segment is 20-100 m long and
/// below 80 degrees of latitude, Karney's geodesic (pyproj's `Geod.inv`) otherwise.
pub(crate) fn segment_length(geod: &Geodesic, p: u64, q: u64) -> f64 {
    const A: f64 = 6_378_137.0;
    const F: f64 = 1.0 / 298.257_223_563;
    let (lat1, lon1) = unpack(p);
    let (lat2, lon2) = unpack(q);
    let k = 1e-7_f64.to_radians();
    let phi = 0.5 * (f64::from(lat1) + f64::from(lat2)) * k;
    if phi.abs() < 80_f64.to_radians() {
        let e2 = F * (2.0 - F);
        let w = 1.0 - e2 * phi.sin().powi(2);
        let n = A / w.sqrt();
        let m = A * (1.0 - e2) / (w * w.sqrt());
        let x = n * phi.cos() * (i64::from(lon2) - i64::from(lon1)) as f64 * k;
        let y = m * (i64::from(lat2) - i64::from(lat1)) as f64 * k;
        let d = x.hypot(y);
        if LOCAL_METRIC_M.contains(&d) {
            return d;
        }
    }
    let ((lon1, lat1), (lon2, lat2)) = (degrees(p), degrees(q));
    InverseGeodesic::<f64>::inverse(geod, lat1, lon1, lat2, lon2)
}

/// One edge while cutting: first entry, number of segments, way, boarding flag.
struct Cut {
    first: u32,
    nseg: u32,
    way: u32,
    boarding: bool,
}

/// Cut the ways into edges (see the module doc).
pub(crate) fn build(
    ways: Vec<WayRec>,
    entries: &[u32],
    coords: &[u64],
    ids: &[i64],
    counts: SkipCounts,
    split: bool,
) -> OsmGraph {
    let mut flag: Vec<u8> = coords
        .iter()
        .map(|&c| if c == MISSING { 0 } else { LOCATED })
        .collect();
    let located = |flag: &[u8], i: usize| flag[entries[i] as usize] & LOCATED != 0;
    // usage counts of entries on usable segments (saturating at two), clipped ways
    let mut start = 0usize;
    let mut clipped = 0usize;
    for w in &ways {
        let end = start + w.n as usize;
        clipped += usize::from((start..end).any(|i| !located(&flag, i)));
        for i in start..end {
            let next_ok = i + 1 < end && located(&flag, i) && located(&flag, i + 1);
            let prev_ok = i > start && located(&flag, i - 1) && located(&flag, i);
            if next_ok || prev_ok {
                let f = &mut flag[entries[i] as usize];
                *f |= if *f & SEEN != 0 { SHARED } else { SEEN };
            }
        }
        start = end;
    }
    let (cuts, without) = cut(&ways, entries, &mut flag, split);
    let mut g = edges_and_nodes(
        ways, entries, coords, ids, flag, cuts, without, counts, split,
    );
    g.clipped_ways = clipped;
    g
}

/// The edges of every way, marking junctions and graph nodes in `flag`; also the number
/// of ways without a usable segment.
fn cut(ways: &[WayRec], entries: &[u32], flag: &mut [u8], split: bool) -> (Vec<Cut>, usize) {
    let mut cuts = Vec::new();
    let mut without = 0;
    let mut node = Vec::new(); // per entry of the way: (is node, starts a segment)
    let mut start = 0usize;
    for (wi, w) in ways.iter().enumerate() {
        let end = start + w.n as usize;
        let loc = |i: usize| flag[entries[i] as usize] & LOCATED != 0;
        node.clear();
        for i in start..end {
            let next_ok = i + 1 < end && loc(i) && loc(i + 1);
            let prev_ok = i > start && loc(i - 1) && loc(i);
            let in_seg = next_ok || prev_ok;
            let shared = flag[entries[i] as usize] & SHARED != 0;
            let junction = in_seg && (shared || !prev_ok || !next_ok);
            node.push((if split { in_seg } else { junction }, next_ok, junction));
        }
        let before = cuts.len();
        for (k, &(is_node, next_ok, junction)) in node.iter().enumerate() {
            if junction {
                flag[entries[start + k] as usize] |= JUNCTION;
            }
            if !(is_node && next_ok) {
                continue;
            }
            let mut h = k + 1;
            while !node[h].0 {
                h += 1; // ends of runs are junctions, so this stops inside the way
            }
            flag[entries[start + k] as usize] |= GRAPH;
            flag[entries[start + h] as usize] |= GRAPH;
            cuts.push(Cut {
                first: (start + k) as u32,
                nseg: (h - k) as u32,
                way: wi as u32,
                boarding: junction,
            });
        }
        without += usize::from(cuts.len() == before);
        start = end;
    }
    (cuts, without)
}

/// Geodesic lengths, midpoints and the node and edge arrays.
#[allow(clippy::too_many_arguments)]
fn edges_and_nodes(
    ways: Vec<WayRec>,
    entries: &[u32],
    coords: &[u64],
    ids: &[i64],
    flag: Vec<u8>,
    cuts: Vec<Cut>,
    without: usize,
    counts: SkipCounts,
    split: bool,
) -> OsmGraph {
    let geod = Geodesic::wgs84();
    let point = |i: usize| degrees(coords[entries[i] as usize]);
    let seg = |i: usize| {
        segment_length(
            &geod,
            coords[entries[i] as usize],
            coords[entries[i + 1] as usize],
        )
    };
    // length, frac and mid segment: the first segment whose cumulative length reaches
    // half the edge's (searchsorted 'left' in the Python reader)
    let ((length_m, mid_frac), mid_seg): ((Vec<f64>, Vec<f64>), Vec<u32>) = cuts
        .par_iter()
        .map_init(Vec::new, |lens: &mut Vec<f64>, c| {
            lens.clear();
            let first = c.first as usize;
            let mut length = 0.0;
            for s in first..first + c.nseg as usize {
                let l = seg(s);
                lens.push(l);
                length += l;
            }
            let half = length / 2.0;
            let (mut cum, mut k) = (0.0, 0);
            for (j, &l) in lens.iter().enumerate() {
                cum += l;
                k = j;
                if cum >= half {
                    break;
                }
            }
            let l = lens[k];
            let frac = if l > 0.0 {
                ((half - (cum - l)) / l).clamp(0.0, 1.0)
            } else {
                0.0
            };
            ((length, frac), (first + k) as u32)
        })
        .unzip();
    let mid_seg = if split { Vec::new() } else { mid_seg }; // a split edge is one segment
    let mut rank = vec![u32::MAX; ids.len()];
    let mut g = OsmGraph::default();
    let mut bbox = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for (u, &f) in flag.iter().enumerate() {
        if f & LOCATED != 0 {
            let (lon, lat) = degrees(coords[u]);
            bbox = [
                bbox[0].min(lon),
                bbox[1].min(lat),
                bbox[2].max(lon),
                bbox[3].max(lat),
            ];
        }
        if f & GRAPH != 0 {
            rank[u] = g.node_id.len() as u32;
            let (lon, lat) = degrees(coords[u]);
            g.node_id.push(ids[u]);
            g.node_lon.push(lon);
            g.node_lat.push(lat);
            g.node_shape.push(f & JUNCTION == 0);
        }
    }
    if !bbox[0].is_finite() {
        bbox = [f64::NAN; 4];
    }
    drop(flag);
    let end_of = |c: &Cut| (c.first + c.nseg) as usize;
    g.tail = cuts
        .iter()
        .map(|c| rank[entries[c.first as usize] as usize] as i64)
        .collect();
    g.head = cuts
        .iter()
        .map(|c| rank[entries[end_of(c)] as usize] as i64)
        .collect();
    // per edge, a field of its way's kind
    let kind = |c: &Cut| &ways[c.way as usize].kind;
    g.class = cuts.iter().map(|c| kind(c).class).collect();
    g.oneway = cuts.iter().map(|c| kind(c).oneway).collect();
    g.ferry = cuts.iter().map(|c| kind(c).ferry).collect();
    g.maxspeed_kmh = cuts.iter().map(|c| kind(c).maxspeed_kmh).collect();
    g.destination = cuts.iter().map(|c| kind(c).destination).collect();
    g.way_id = cuts.iter().map(|c| ways[c.way as usize].id).collect();
    g.boarding = cuts.iter().map(|c| c.boarding).collect();
    drop(cuts);
    g.length_m = length_m;
    g.mid_frac = mid_frac;
    g.mid_lon0 = mid_seg.iter().map(|&k| point(k as usize).0).collect();
    g.mid_lat0 = mid_seg.iter().map(|&k| point(k as usize).1).collect();
    g.mid_lon1 = mid_seg.iter().map(|&k| point(k as usize + 1).0).collect();
    g.mid_lat1 = mid_seg.iter().map(|&k| point(k as usize + 1).1).collect();
    g.bbox = bbox;
    g.ways = ways.len();
    g.ways_without_located_segment = without;
    g.way_nodes = entries.len();
    g.counts = counts;
    g
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::osm::pack;

    #[test]
    fn local_metric_lengths_agree_with_the_geodesic() {
        let geod = Geodesic::wgs84();
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut rnd = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut worst, mut used) = (0.0_f64, 0);
        for _ in 0..200_000 {
            let (lat, lon) = (-79.0 + 158.0 * rnd(), -179.0 + 358.0 * rnd());
            let (d, b) = ((5.0 + 200.0 * rnd()) / 111_000.0, 6.3 * rnd());
            let e7 = |v: f64| (v * 1e7).round() as i32;
            let lat2 = lat + d * b.sin();
            let lon2 = lon + d * b.cos() / lat.to_radians().cos();
            let (p, q) = (pack(e7(lat), e7(lon)), pack(e7(lat2), e7(lon2)));
            let ((x1, y1), (x2, y2)) = (degrees(p), degrees(q));
            let exact: f64 = InverseGeodesic::<f64>::inverse(&geod, y1, x1, y2, x2);
            if LOCAL_METRIC_M.contains(&exact) {
                used += 1;
            }
            worst = worst.max((segment_length(&geod, p, q) / exact - 1.0).abs());
        }
        assert!(used > 50_000, "{used}");
        assert!(worst < 5e-10, "{worst:e}");
    }
}
