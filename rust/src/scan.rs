//! The edge-scan bound: one pass over every arc doing the label update a search does,
//! with no priority queue. No nearest search can touch every arc for less, so the ratio
//! search time / scan time says how much our queue and memory traffic cost on top of the
//! unavoidable work. Used by the benchmarks; not a routing algorithm.

use crate::graph::Graph;

/// One relaxation sweep over all arcs in node order from `sources` (time 0). Returns a
/// checksum so the optimiser cannot drop the work.
pub fn edge_scan(graph: &Graph, sources: &[u32]) -> f64 {
    let n = graph.num_nodes();
    let mut time = vec![f64::INFINITY; n];
    let mut length = vec![f64::INFINITY; n];
    let mut source = vec![u32::MAX; n];
    for (i, &s) in sources.iter().enumerate() {
        if time[s as usize] > 0.0 {
            time[s as usize] = 0.0;
            length[s as usize] = 0.0;
            source[s as usize] = i as u32;
        }
    }
    for u in 0..n as u32 {
        let (tu, lu, su) = (time[u as usize], length[u as usize], source[u as usize]);
        for arc in graph.out_arcs(u) {
            let t = tu + arc.time;
            let v = arc.head as usize;
            if t < time[v] || (t == time[v] && su < source[v]) {
                time[v] = t;
                length[v] = lu + arc.length;
                source[v] = su;
            }
        }
    }
    time.iter().filter(|t| t.is_finite()).sum::<f64>()
        + length.iter().filter(|l| l.is_finite()).sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sweep_relaxes_forward_arcs_in_node_order() {
        let g = Graph::from_edges(3, &[0, 1], &[1, 2], &[1.0, 2.0], &[0.0, 0.0], false).unwrap();
        // Sweep from 0: node 1 gets 1, then node 2 gets 3 in the same pass.
        assert_eq!(edge_scan(&g, &[0]), 0.0 + 1.0 + 3.0);
    }
}
