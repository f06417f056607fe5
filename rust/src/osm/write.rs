//! A minimal OSM PBF writer: a header blob, then blocks of dense nodes, then blocks of
//! ways, each a zlib-compressed `PrimitiveBlock` (the protobuf messages are encoded by
//! hand: only the fields readers need). Blocks are compressed in parallel. Used for the
//! synthetic national extracts (`hexaccess.synthetic.osm_pbf`) and the unit tests.

use std::fs::File;
use std::io::{BufWriter, Write};

use flate2::write::ZlibEncoder;
use flate2::Compression;
use rayon::prelude::*;

use super::OsmError;

/// Elements per block (osmium writes 8000).
const BLOCK: usize = 8000;

/// Ways to write: way `i` has nodes `refs[node_offsets[i]..node_offsets[i + 1]]` and tag
/// set `tag_set[i]`, whose (key, value) string ids are
/// `tag_keys/tag_vals[set_offsets[s]..set_offsets[s + 1]]` into `strings`.
pub struct PbfWays<'a> {
    pub ids: &'a [i64],
    pub node_offsets: &'a [u64],
    pub refs: &'a [i64],
    pub tag_set: &'a [u32],
    pub set_offsets: &'a [u64],
    pub tag_keys: &'a [u32],
    pub tag_vals: &'a [u32],
    pub strings: &'a [String],
}

fn varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn key(buf: &mut Vec<u8>, field: u32, wire: u32) {
    varint(buf, u64::from(field << 3 | wire));
}

fn bytes(buf: &mut Vec<u8>, field: u32, data: &[u8]) {
    key(buf, field, 2);
    varint(buf, data.len() as u64);
    buf.extend_from_slice(data);
}

fn packed(buf: &mut Vec<u8>, field: u32, values: impl Iterator<Item = u64>) {
    let mut inner = Vec::new();
    values.for_each(|v| varint(&mut inner, v));
    bytes(buf, field, &inner);
}

fn delta(values: impl Iterator<Item = i64>) -> impl Iterator<Item = u64> {
    let mut last = 0i64;
    values.map(move |v| {
        let d = v - last;
        last = v;
        zigzag(d)
    })
}

/// A `PrimitiveBlock` holding one group (already encoded) and the string table.
fn primitive_block(strings: &[String], group: &[u8]) -> Vec<u8> {
    let mut table = Vec::new();
    bytes(&mut table, 1, b"");
    for s in strings {
        bytes(&mut table, 1, s.as_bytes());
    }
    let mut block = Vec::new();
    bytes(&mut block, 1, &table);
    bytes(&mut block, 2, group);
    block
}

/// `BlobHeader` + `Blob` (zlib) of one message, length-prefixed.
fn blob(kind: &str, message: &[u8]) -> Result<Vec<u8>, OsmError> {
    let mut z = ZlibEncoder::new(Vec::new(), Compression::fast());
    z.write_all(message)
        .map_err(|e| OsmError::Io(e.to_string()))?;
    let zdata = z.finish().map_err(|e| OsmError::Io(e.to_string()))?;
    let mut body = Vec::new();
    key(&mut body, 2, 0);
    varint(&mut body, message.len() as u64);
    bytes(&mut body, 3, &zdata);
    let mut header = Vec::new();
    bytes(&mut header, 1, kind.as_bytes());
    key(&mut header, 3, 0);
    varint(&mut header, body.len() as u64);
    let mut out = (header.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&header);
    out.extend_from_slice(&body);
    Ok(out)
}

fn dense_group(ids: &[i64], lat: &[i32], lon: &[i32]) -> Vec<u8> {
    let mut dense = Vec::new();
    packed(&mut dense, 1, delta(ids.iter().copied()));
    packed(&mut dense, 8, delta(lat.iter().map(|&v| i64::from(v))));
    packed(&mut dense, 9, delta(lon.iter().map(|&v| i64::from(v))));
    let mut group = Vec::new();
    bytes(&mut group, 2, &dense);
    group
}

fn way_group(w: &PbfWays<'_>, range: std::ops::Range<usize>) -> Vec<u8> {
    let mut group = Vec::new();
    let mut msg = Vec::new();
    for i in range {
        msg.clear();
        key(&mut msg, 1, 0);
        varint(&mut msg, w.ids[i] as u64);
        let s = w.tag_set[i] as usize;
        let tags = w.set_offsets[s] as usize..w.set_offsets[s + 1] as usize;
        packed(
            &mut msg,
            2,
            w.tag_keys[tags.clone()].iter().map(|&k| u64::from(k) + 1),
        );
        packed(
            &mut msg,
            3,
            w.tag_vals[tags].iter().map(|&v| u64::from(v) + 1),
        );
        let nodes = w.node_offsets[i] as usize..w.node_offsets[i + 1] as usize;
        packed(&mut msg, 8, delta(w.refs[nodes].iter().copied()));
        bytes(&mut group, 3, &msg);
    }
    group
}

/// Write nodes (ids ascending, coordinates in 1e-7 degrees) and ways to `path`.
pub fn write_pbf(
    path: &str,
    node_ids: &[i64],
    lat_e7: &[i32],
    lon_e7: &[i32],
    ways: &PbfWays<'_>,
) -> Result<(), OsmError> {
    let io = |e: std::io::Error| OsmError::Io(format!("{path}: {e}"));
    let mut out = BufWriter::new(File::create(path).map_err(io)?);
    let mut header = Vec::new();
    for feature in ["OsmSchema-V0.6", "DenseNodes"] {
        bytes(&mut header, 4, feature.as_bytes());
    }
    bytes(&mut header, 16, b"hexaccess");
    out.write_all(&blob("OSMHeader", &header)?).map_err(io)?;
    let node_blocks: Vec<usize> = (0..node_ids.len()).step_by(BLOCK).collect();
    let way_blocks: Vec<usize> = (0..ways.ids.len()).step_by(BLOCK).collect();
    // a few blocks at a time: compressed in parallel, written in order
    for chunk in node_blocks.chunks(64) {
        let blobs: Vec<Result<Vec<u8>, OsmError>> = chunk
            .par_iter()
            .map(|&a| {
                let b = (a + BLOCK).min(node_ids.len());
                let group = dense_group(&node_ids[a..b], &lat_e7[a..b], &lon_e7[a..b]);
                blob("OSMData", &primitive_block(&[], &group))
            })
            .collect();
        for b in blobs {
            out.write_all(&b?).map_err(io)?;
        }
    }
    for chunk in way_blocks.chunks(64) {
        let blobs: Vec<Result<Vec<u8>, OsmError>> = chunk
            .par_iter()
            .map(|&a| {
                let group = way_group(ways, a..(a + BLOCK).min(ways.ids.len()));
                blob("OSMData", &primitive_block(ways.strings, &group))
            })
            .collect();
        for b in blobs {
            out.write_all(&b?).map_err(io)?;
        }
    }
    out.flush().map_err(io)
}
