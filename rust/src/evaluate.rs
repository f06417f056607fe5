//! Evaluate many office networks from a coverage matrix stored by cell.
//!
//! Each cell's row lists the candidates within the cutoff sorted by time, so the nearest
//! open office of a network is the first row entry that belongs to it. Per network: one
//! pass over the cells, weights accumulated in ascending cell order (the same order as the
//! Numba kernel, so both give identical sums).

use rayon::prelude::*;

use crate::error::Error;

/// The coverage matrix transposed by cell (CSR): cell `i` owns entries
/// `indptr[i]..indptr[i + 1]`, ascending in time.
pub struct ByCell<'a> {
    pub indptr: &'a [i64],
    pub candidate: &'a [i32],
    pub time: &'a [u16],
    pub distance: &'a [f32],
}

/// Band histogram of one network: weights per band, weight with no member within the
/// cutoff, and the weighted sums of time units and distance over served cells.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkStats {
    pub counts: Vec<f64>,
    pub beyond: f64,
    pub time_sum: f64,
    pub distance_sum: f64,
}

/// Networks evaluated together in one pass over the cells: one bit each in a `u64`.
const BLOCK: usize = 64;

/// Check that the matrix and network arrays fit together: every index [`evaluate`] takes
/// from them stays in bounds. (The Python wrapper checks shapes and ranges with messages
/// of its own; this guards the invariants that would otherwise index out of bounds.)
pub fn validate_networks(
    matrix: &ByCell,
    weights: &[f64],
    nptr: &[i64],
    members: &[i64],
    band_of_unit: &[i64],
    num_candidates: usize,
) -> Result<(), Error> {
    let csr_ok = |ptr: &[i64], len: usize| {
        ptr.first() == Some(&0)
            && ptr.windows(2).all(|p| p[0] <= p[1])
            && ptr.last().is_some_and(|&e| e as usize == len)
    };
    let candidate_ok = |c: i64| c >= 0 && (c as usize) < num_candidates;
    let bad = matrix.indptr.len() != weights.len() + 1
        || !csr_ok(matrix.indptr, matrix.candidate.len())
        || !csr_ok(nptr, members.len())
        || matrix.candidate.len() != matrix.time.len()
        || matrix.time.len() != matrix.distance.len()
        || matrix.candidate.iter().any(|&c| !candidate_ok(c as i64))
        || matrix
            .time
            .iter()
            .any(|&t| t as usize >= band_of_unit.len())
        || members.iter().any(|&c| !candidate_ok(c));
    if bad {
        return Err(Error::InconsistentNetworks);
    }
    Ok(())
}

/// Evaluate networks `members[nptr[k]..nptr[k+1]]` (candidate indices) in parallel.
/// `band_of_unit[t]` is the band of a stored time of `t` units. The arrays must have
/// passed [`validate_networks`].
///
/// Networks go 64 at a time through one pass over the cells: each candidate carries a
/// bit mask of the networks that contain it, and a cell's row is walked until every
/// network of the block has met its first member (`remaining == 0`). A row is thus read
/// once per 64 networks instead of once per network, and each network still receives its
/// cells in ascending order, so its sums are exactly those of a one-network pass.
pub fn evaluate(
    matrix: &ByCell,
    weights: &[f64],
    nptr: &[i64],
    members: &[i64],
    band_of_unit: &[i64],
    num_candidates: usize,
) -> Vec<NetworkStats> {
    let bands = band_of_unit
        .iter()
        .map(|&b| b as usize + 1)
        .max()
        .unwrap_or(1);
    let networks = nptr.len().saturating_sub(1);
    let blocks: Vec<usize> = (0..networks).step_by(BLOCK).collect();
    blocks
        .into_par_iter()
        .flat_map_iter(|start| {
            let size = BLOCK.min(networks - start);
            let block = Block {
                mask: block_masks(nptr, members, num_candidates, start, size),
                all: if size == BLOCK {
                    u64::MAX
                } else {
                    (1u64 << size) - 1
                },
                size,
            };
            block.evaluate(matrix, weights, band_of_unit, bands)
        })
        .collect()
}

/// Up to 64 networks evaluated together: bit `k` of `mask[c]` says whether network `k`
/// of the block contains candidate `c`; `all` has one bit per network of the block.
struct Block {
    mask: Vec<u64>,
    all: u64,
    size: usize,
}

/// The candidate bit masks of networks `start..start + size`.
fn block_masks(
    nptr: &[i64],
    members: &[i64],
    num_candidates: usize,
    start: usize,
    size: usize,
) -> Vec<u64> {
    let mut mask = vec![0u64; num_candidates];
    for k in 0..size {
        let net = start + k;
        for &c in &members[nptr[net] as usize..nptr[net + 1] as usize] {
            mask[c as usize] |= 1u64 << k;
        }
    }
    mask
}

impl Block {
    /// One pass over the cells for every network of the block.
    fn evaluate(
        &self,
        matrix: &ByCell,
        weights: &[f64],
        band_of_unit: &[i64],
        bands: usize,
    ) -> Vec<NetworkStats> {
        let mut out = vec![
            NetworkStats {
                counts: vec![0.0; bands],
                beyond: 0.0,
                time_sum: 0.0,
                distance_sum: 0.0,
            };
            self.size
        ];
        for (i, &w) in weights.iter().enumerate() {
            let mut remaining = self.all;
            let row = matrix.indptr[i] as usize..matrix.indptr[i + 1] as usize;
            for e in row {
                let hit = remaining & self.mask[matrix.candidate[e] as usize];
                if hit == 0 {
                    continue;
                }
                let t = matrix.time[e];
                let band = band_of_unit[t as usize] as usize;
                let (wt, wd) = (w * t as f64, w * matrix.distance[e] as f64);
                let mut bits = hit;
                while bits != 0 {
                    let s = &mut out[bits.trailing_zeros() as usize];
                    s.counts[band] += w;
                    s.time_sum += wt;
                    s.distance_sum += wd;
                    bits &= bits - 1;
                }
                remaining &= !hit;
                if remaining == 0 {
                    break;
                }
            }
            while remaining != 0 {
                out[remaining.trailing_zeros() as usize].beyond += w;
                remaining &= remaining - 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_of_networks_equal_one_network_at_a_time() {
        // 150 random networks over a random by-cell matrix: each evaluated alone (a block
        // of one) must equal the same network inside blocks of 64.
        let mut state = 0x2545F4914F6CDD1Du64;
        let mut rnd = move |m: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % m
        };
        let (cells, cands) = (300usize, 40usize);
        let (mut indptr, mut cand, mut time, mut dist) = (vec![0i64], vec![], vec![], vec![]);
        for _ in 0..cells {
            let mut row: Vec<(u16, i32)> = (0..rnd(12))
                .map(|_| (rnd(100) as u16, rnd(cands as u64) as i32))
                .collect();
            row.sort();
            row.dedup_by_key(|x| x.1);
            for (t, c) in row {
                cand.push(c);
                time.push(t);
                dist.push(t as f32 * 1.5);
            }
            indptr.push(cand.len() as i64);
        }
        let m = ByCell {
            indptr: &indptr,
            candidate: &cand,
            time: &time,
            distance: &dist,
        };
        let weights: Vec<f64> = (0..cells).map(|_| rnd(50) as f64 + 0.25).collect();
        let lut: Vec<i64> = (0..100).map(|t| t / 10).collect();
        let mut nptr = vec![0i64];
        let mut members = vec![];
        for _ in 0..150 {
            for _ in 0..rnd(8) + 1 {
                members.push(rnd(cands as u64) as i64);
            }
            nptr.push(members.len() as i64);
        }
        let together = evaluate(&m, &weights, &nptr, &members, &lut, cands);
        for k in 0..150 {
            let one = &members[nptr[k] as usize..nptr[k + 1] as usize];
            let alone = evaluate(&m, &weights, &[0, one.len() as i64], one, &lut, cands);
            assert_eq!(alone[0], together[k], "network {k}");
        }
    }

    #[test]
    fn first_member_of_each_row_decides() {
        // Two cells. Cell 0: candidates 2 (t=1), 0 (t=3). Cell 1: candidate 1 (t=2).
        let m = ByCell {
            indptr: &[0, 2, 3],
            candidate: &[2, 0, 1],
            time: &[1, 3, 2],
            distance: &[10.0, 30.0, 20.0],
        };
        let lut = [0, 0, 1, 1]; // units 0-1 -> band 0, 2-3 -> band 1
        let r = evaluate(&m, &[5.0, 7.0], &[0, 1, 3], &[0, 1, 2], &lut, 3);
        // Network {0}: cell 0 at t=3 (band 1), cell 1 not served.
        assert_eq!(r[0].counts, vec![0.0, 5.0]);
        assert_eq!(r[0].beyond, 7.0);
        assert_eq!(r[0].time_sum, 15.0);
        // Network {1, 2}: cell 0 at t=1, cell 1 at t=2.
        assert_eq!(r[1].counts, vec![5.0, 7.0]);
        assert_eq!(r[1].distance_sum, 5.0 * 10.0 + 7.0 * 20.0);
    }
}
