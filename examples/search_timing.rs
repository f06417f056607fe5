//! Quick timing of one 50-source search on a 1000×1000 grid (no Python).
//! `cargo run --release --example search_timing [width]`; `PAR=1` times the search on all
//! threads (`hexaccess::nearest_parallel`) instead of one.
use hexaccess::{edge_scan, nearest_parallel, Graph, Query, Workspace};
use std::time::Instant;

fn main() {
    let w: i64 = std::env::args().nth(1).map_or(1000, |s| s.parse().unwrap());
    let n = w * w;
    let (mut t, mut h, mut tm, mut ln) = (vec![], vec![], vec![], vec![]);
    let mut state = 12345u64;
    let mut rnd = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 1000) as f64 / 1000.0
    };
    for r in 0..w {
        for c in 0..w {
            let v = r * w + c;
            if c + 1 < w {
                t.push(v);
                h.push(v + 1);
                tm.push(30.0 + 10.0 * rnd());
                ln.push(500.0);
            }
            if r + 1 < w {
                t.push(v);
                h.push(v + w);
                tm.push(30.0 + 10.0 * rnd());
                ln.push(500.0);
            }
        }
    }
    let g = Graph::from_edges(n, &t, &h, &tm, &ln, true).unwrap();
    let sources: Vec<u32> = (0..50).map(|i| ((i * 7919 * 131) % n) as u32).collect();
    let parallel = std::env::var_os("PAR").is_some();
    let threads = rayon::current_num_threads();
    let mut ws = Workspace::new(n as usize);
    let query = Query {
        sources: &sources,
        offsets: None,
        cutoff: f64::INFINITY,
    };
    for _ in 0..5 {
        let t0 = Instant::now();
        if parallel {
            std::hint::black_box(nearest_parallel(&g, &query, threads));
        } else {
            ws.run(&g, &query);
        }
        let a = t0.elapsed();
        let t0 = Instant::now();
        let c = edge_scan(&g, &sources);
        let b = t0.elapsed();
        println!(
            "search {:?} scan {:?} ratio {:.2} ({c})",
            a,
            b,
            a.as_secs_f64() / b.as_secs_f64()
        );
    }
}
