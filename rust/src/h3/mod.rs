//! H3 cells (via h3o): vectorised conversions for the loaders and layers (`cells.rs`),
//! the union of groups of cells (`dissolve.rs`) and the hexagon friction graph built on
//! a study area's cells (`friction.rs`).

mod cells;
mod dissolve;
mod friction;

pub use cells::{
    cell_boundaries, cell_centers, cell_children, cell_wkb, latlng_to_cells, CellBoundaries,
    CellWkb,
};
pub use dissolve::{dissolve_cells, Dissolved};
pub use friction::{cell_nodes, hex_edges, hex_graph, HexEdges};
