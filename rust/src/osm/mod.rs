//! OpenStreetMap PBF → road graph arrays, in two passes with the blobs decoded in
//! parallel (rayon): pass 1 keeps the ways whose tags the profile uses and collects
//! their node ids (sorted, deduplicated); pass 2 reads only those nodes' coordinates.
//! `build.rs` then cuts the ways into edges at graph nodes exactly as the Python reader
//! (`python/hexaccess/network/osm.py`) does. `write.rs` writes PBF files (the synthetic
//! national extracts and the tests' tiny files).
//!
//! Memory is proportional to the kept way nodes: 8 bytes per id during pass 1, then a
//! 4-byte index per way node and 8 bytes of coordinates per distinct node.

mod build;
mod restrictions;
mod tags;
mod write;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use osmpbf::{BlobDecode, BlobReader, PrimitiveBlock};
use rayon::prelude::*;

pub use build::OsmGraph;
pub use restrictions::Restriction;
pub use tags::{classify, OsmRules, SkipCounts, WayKind};
pub use write::{write_pbf, PbfWays};

/// A file that cannot be read, or PBF content that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OsmError {
    /// The file cannot be opened or read.
    Io(String),
    /// A blob or block cannot be decoded (truncated or corrupt file).
    Corrupt(String),
    /// More way nodes than the 32-bit entry indices hold.
    TooLarge(usize),
}

impl fmt::Display for OsmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OsmError::Io(e) => write!(f, "cannot read the file: {e}"),
            OsmError::Corrupt(e) => write!(f, "{e}"),
            OsmError::TooLarge(n) => {
                write!(f, "{n} way nodes: more than the reader's 4,294,967,295")
            }
        }
    }
}

impl std::error::Error for OsmError {}

impl From<osmpbf::Error> for OsmError {
    fn from(e: osmpbf::Error) -> Self {
        match e.kind() {
            osmpbf::ErrorKind::Io(io) => OsmError::Corrupt(format!("PBF error: {io}")),
            _ => OsmError::Corrupt(format!("PBF error: {e}")),
        }
    }
}

/// One kept way: id, kind and number of node entries.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WayRec {
    pub id: i64,
    pub kind: WayKind,
    pub n: u32,
}

/// The kept ways of one block, their node ids in order, and the skip counts.
#[derive(Default)]
struct BlockWays {
    ways: Vec<WayRec>,
    refs: Vec<i64>,
    restrictions: Vec<Restriction>,
    counts: SkipCounts,
    /// Whether the block holds nodes (pass 2 decodes only those blocks).
    nodes: bool,
}

/// Packed coordinates of a node not (validly) in the file.
pub(crate) const MISSING: u64 = (i32::MIN as u32 as u64) << 32;

/// `(lat, lon)` in 1e-7 degrees packed into one word (lat high).
pub(crate) fn pack(lat: i32, lon: i32) -> u64 {
    ((lat as u32 as u64) << 32) | lon as u32 as u64
}

/// Inverse of [`pack`].
pub(crate) fn unpack(v: u64) -> (i32, i32) {
    ((v >> 32) as u32 as i32, v as u32 as i32)
}

/// Read the ways of `path` usable under `rules` and build the graph arrays
/// (`split_at_vertices`: every located node of a kept way is a graph node).
pub fn read_pbf(
    path: &str,
    rules: &OsmRules,
    split_at_vertices: bool,
) -> Result<OsmGraph, OsmError> {
    let (ways, refs, restrictions, counts, node_blobs) = scan_ways(path, rules)?;
    if refs.len() >= u32::MAX as usize {
        return Err(OsmError::TooLarge(refs.len()));
    }
    let mut ids = refs.clone();
    ids.par_sort_unstable();
    ids.dedup();
    ids.shrink_to_fit();
    let entries: Vec<u32> = refs
        .par_iter()
        .map(|r| ids.partition_point(|x| x < r) as u32)
        .collect();
    drop(refs);
    let coords = if ids.is_empty() {
        Vec::new()
    } else {
        scan_nodes(path, &ids, &node_blobs)?
    };
    let mut g = build::build(ways, &entries, &coords, &ids, counts, split_at_vertices);
    g.restrictions = restrictions;
    Ok(g)
}

fn open(path: &str) -> Result<BlobReader<std::io::BufReader<std::fs::File>>, OsmError> {
    BlobReader::from_path(path).map_err(|e| OsmError::Io(e.to_string()))
}

/// Decode the data blobs whose index `decode` accepts in parallel with `f`; results
/// with their blob index, in file order. Every blob is read (a truncated file is an
/// error in both passes); skipped blobs are not decompressed.
fn par_blocks<T: Send>(
    path: &str,
    decode: impl Fn(usize) -> bool + Sync + Send,
    f: impl Fn(&PrimitiveBlock) -> T + Sync + Send,
) -> Result<Vec<(usize, T)>, OsmError> {
    let mut out: Vec<(usize, T)> = open(path)?
        .enumerate()
        .par_bridge()
        .filter_map(|(i, blob)| {
            let blob = match blob {
                Ok(b) => b,
                Err(e) => return Some(Err(OsmError::from(e))),
            };
            if !decode(i) {
                return None;
            }
            match blob.decode() {
                Ok(BlobDecode::OsmData(block)) => Some(Ok((i, f(&block)))),
                Ok(_) => None,
                Err(e) => Some(Err(OsmError::from(e))),
            }
        })
        .collect::<Result<_, _>>()?;
    out.sort_unstable_by_key(|(i, _)| *i);
    Ok(out)
}

/// Pass 1: the kept ways in file order, their node ids, the turn restrictions, the skip
/// counts. Also which blobs (by index) hold nodes.
#[allow(clippy::type_complexity)]
fn scan_ways(
    path: &str,
    rules: &OsmRules,
) -> Result<
    (
        Vec<WayRec>,
        Vec<i64>,
        Vec<Restriction>,
        SkipCounts,
        Vec<bool>,
    ),
    OsmError,
> {
    let blocks = par_blocks(path, |_| true, |block| block_ways(block, rules))?;
    let n_refs = blocks.iter().map(|b| b.1.refs.len()).sum();
    let mut refs = Vec::with_capacity(n_refs);
    let mut ways = Vec::with_capacity(blocks.iter().map(|b| b.1.ways.len()).sum());
    let mut node_blobs = vec![false; blocks.last().map_or(0, |b| b.0 + 1)];
    let mut counts = SkipCounts::default();
    let mut restrictions = Vec::new();
    for (i, b) in blocks {
        refs.extend_from_slice(&b.refs);
        ways.extend_from_slice(&b.ways);
        restrictions.extend_from_slice(&b.restrictions);
        counts.merge(b.counts);
        node_blobs[i] = b.nodes;
    }
    Ok((ways, refs, restrictions, counts, node_blobs))
}

fn block_ways(block: &PrimitiveBlock, rules: &OsmRules) -> BlockWays {
    let strings = block.raw_stringtable();
    let text = |i: u32| {
        strings
            .get(i as usize)
            .and_then(|s| std::str::from_utf8(s).ok())
    };
    let mut out = BlockWays::default();
    let mut tags: Vec<(&str, &str)> = Vec::new();
    for group in block.groups() {
        out.nodes |= group.dense_nodes().next().is_some() || group.nodes().next().is_some();
        for way in group.ways() {
            tags.clear();
            tags.extend(
                way.raw_tags()
                    .filter_map(|(k, v)| Some((text(k)?, text(v)?))),
            );
            let Some(kind) = classify(&tags, rules, &mut out.counts) else {
                continue;
            };
            let n0 = out.refs.len();
            out.refs.extend(way.refs());
            out.ways.push(WayRec {
                id: way.id(),
                kind,
                n: (out.refs.len() - n0) as u32,
            });
        }
    }
    restrictions::block_restrictions(block, rules, &mut out.restrictions, &mut out.counts);
    out
}

/// First index of `ids` at or after `from` holding a value >= `id` (galloping: the
/// nodes of a block are usually sorted, so the next one is near).
fn seek(ids: &[i64], from: usize, id: i64) -> usize {
    let (mut lo, mut hi, mut step) = (from, from, 1);
    while hi < ids.len() && ids[hi] < id {
        lo = hi + 1;
        hi += step;
        step *= 2;
    }
    lo + ids[lo..hi.min(ids.len())].partition_point(|&x| x < id)
}

/// Pass 2: packed coordinates of each id of `ids` ([`MISSING`] when not in the file or
/// outside the valid range, as osmium's `Location::valid`); only the blobs that pass 1
/// found nodes in are decoded (blobs past its end, e.g. a file grown since, are too).
fn scan_nodes(path: &str, ids: &[i64], node_blobs: &[bool]) -> Result<Vec<u64>, OsmError> {
    let coords: Vec<AtomicU64> = (0..ids.len()).map(|_| AtomicU64::new(MISSING)).collect();
    let store = |id: i64, nano_lat: i64, nano_lon: i64, pos: &mut usize, last: &mut i64| {
        *pos = seek(ids, if id > *last { *pos } else { 0 }, id);
        *last = id;
        if *pos < ids.len() && ids[*pos] == id {
            let (lat, lon) = (nano_lat / 100, nano_lon / 100);
            if (-900_000_000..=900_000_000).contains(&lat)
                && (-1_800_000_000..=1_800_000_000).contains(&lon)
            {
                coords[*pos].store(pack(lat as i32, lon as i32), Ordering::Relaxed);
            }
        }
    };
    let decode = |i: usize| node_blobs.get(i).copied().unwrap_or(true);
    par_blocks(path, decode, |block| {
        let (mut pos, mut last) = (0usize, i64::MIN);
        for group in block.groups() {
            for n in group.dense_nodes() {
                store(n.id(), n.nano_lat(), n.nano_lon(), &mut pos, &mut last);
            }
            for n in group.nodes() {
                store(n.id(), n.nano_lat(), n.nano_lon(), &mut pos, &mut last);
            }
        }
    })?;
    Ok(coords.into_iter().map(AtomicU64::into_inner).collect())
}

#[cfg(test)]
mod tests;
