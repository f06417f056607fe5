//! The two-pass reader on a tiny PBF written by [`write_pbf`]: which ways are kept, where
//! the graph nodes are, one-way flags, lengths (against the length of a parallel arc).

use super::*;

fn rules() -> OsmRules {
    OsmRules {
        classes: vec!["primary".into(), "residential".into()],
        exclude: vec!["footway".into()],
        ferry_routes: vec!["ferry".into()],
        access_tags: vec!["access".into()],
        oneway_tags: vec!["oneway".into()],
        respect_oneway: true,
        ..OsmRules::default()
    }
}

/// Nodes 1..=6 along latitude 60 (0.001 degrees of longitude apart), node 7 missing.
/// Way 10 primary 1-2-3-4; 11 residential one-way 3-5-6; 12 footway 4-5 (excluded);
/// 13 primary 6-7-1 (no located segment); 14 primary, access=private.
fn tiny(dir: &std::path::Path) -> String {
    let path = dir.join("tiny.osm.pbf").to_string_lossy().into_owned();
    let ids: Vec<i64> = (1..=6).collect();
    let lat = vec![600_000_000; 6];
    let lon: Vec<i32> = (0..6).map(|i| 240_000_000 + 10_000 * i).collect();
    let strings: Vec<String> = [
        "highway",
        "primary",
        "residential",
        "oneway",
        "yes",
        "footway",
        "access",
        "private",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let ways = PbfWays {
        ids: &[10, 11, 12, 13, 14],
        node_offsets: &[0, 4, 7, 9, 12, 14],
        refs: &[1, 2, 3, 4, 3, 5, 6, 4, 5, 6, 7, 1, 1, 6],
        tag_set: &[0, 1, 2, 0, 3],
        set_offsets: &[0, 1, 3, 4, 6],
        tag_keys: &[0, 0, 3, 0, 0, 6],
        tag_vals: &[1, 2, 4, 5, 1, 7],
        strings: &strings,
    };
    write_pbf(&path, &ids, &lat, &lon, &ways).unwrap();
    path
}

fn parallel_arc(dlon_deg: f64) -> f64 {
    let (a, f) = (6_378_137.0_f64, 1.0 / 298.257_223_563);
    let e2 = f * (2.0 - f);
    let phi = 60f64.to_radians();
    a / (1.0 - e2 * phi.sin().powi(2)).sqrt() * phi.cos() * dlon_deg.to_radians()
}

#[test]
fn unsplit_graph_has_junctions_and_ends() {
    let dir = std::env::temp_dir().join(format!("hexaccess-osm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let g = read_pbf(&tiny(&dir), &rules(), false).unwrap();
    assert_eq!(g.node_id, vec![1, 3, 4, 6]);
    assert_eq!(g.node_shape, vec![false; 4]);
    // 1->3 and 3->4 (way 10), 3->6 (way 11, one-way)
    assert_eq!(g.tail, vec![0, 1, 1]);
    assert_eq!(g.head, vec![1, 2, 3]);
    assert_eq!(g.way_id, vec![10, 10, 11]);
    assert_eq!(g.class, vec![0, 0, 1]);
    assert_eq!(g.oneway, vec![0, 0, 1]);
    assert_eq!(
        (g.ways, g.ways_without_located_segment, g.way_nodes),
        (3, 1, 10)
    );
    assert_eq!(g.counts.excluded["footway"], 1);
    assert_eq!(g.counts.access_forbidden["primary:private"], 1);
    for (len, dlon) in g.length_m.iter().zip([0.002, 0.001, 0.003]) {
        assert!((len / parallel_arc(dlon) - 1.0).abs() < 1e-6, "{len}");
    }
    assert!(g.mid_frac.iter().all(|f| (0.0..=1.0).contains(f)));
    // the midpoint of 1->3 (two equal segments) is node 2
    let mid = g.mid_lon0[0] + g.mid_frac[0] * (g.mid_lon1[0] - g.mid_lon0[0]);
    assert!((mid - 24.001).abs() < 1e-9, "{mid}");
    assert_eq!(g.bbox, [24.0, 60.0, 24.005, 60.0]);
    let s = read_pbf(&tiny(&dir), &rules(), true).unwrap();
    assert_eq!(s.node_id, vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(s.node_shape, vec![false, true, false, false, true, false]);
    assert_eq!(s.tail, vec![0, 1, 2, 2, 4]);
    assert_eq!(s.head, vec![1, 2, 3, 4, 5]);
    assert_eq!(s.boarding, vec![true, false, true, true, false]);
    let total: f64 = s.length_m.iter().sum();
    assert!((total / g.length_m.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_truncated_file_is_an_error() {
    let dir = std::env::temp_dir().join(format!("hexaccess-osm-cut-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = tiny(&dir);
    let data = std::fs::read(&path).unwrap();
    std::fs::write(&path, &data[..data.len() - 10]).unwrap();
    assert!(matches!(
        read_pbf(&path, &rules(), false),
        Err(OsmError::Corrupt(_))
    ));
    assert!(matches!(
        read_pbf("/nonexistent.pbf", &rules(), false),
        Err(OsmError::Io(_))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn seek_finds_the_first_not_smaller_id() {
    let ids = [2, 4, 6, 8, 10, 12];
    for (from, id, want) in [
        (0, 1, 0),
        (0, 4, 1),
        (1, 5, 2),
        (2, 12, 5),
        (3, 13, 6),
        (0, 10, 4),
    ] {
        assert_eq!(seek(&ids, from, id), want);
    }
}
