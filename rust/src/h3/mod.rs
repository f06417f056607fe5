//! H3 cells (via h3o): vectorised conversions for the loaders (`cells.rs`) and the
//! hexagon friction graph built on a study area's cells (`friction.rs`).

mod cells;
mod friction;

pub use cells::{cell_centers, cell_children, latlng_to_cells};
pub use friction::{cell_nodes, hex_edges, hex_graph, HexEdges};
