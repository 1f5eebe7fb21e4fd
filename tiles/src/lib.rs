//! Tile views for onemap: Web-Mercator (EPSG:3857) tile coordinates and bounds, grid
//! clustering that keeps each cluster's category mix, and Mapbox Vector Tile encoding with
//! clipping and simplification. Pure: no I/O, no async, no server types — the server calls
//! these on the data it holds and sends the bytes.
//!
//! - `coord`: [`TileCoord`], valid by construction, and the lon/lat ↔ tile projection;
//! - `cluster`: the points of a tile gathered into grid cells ([`Clusterer`]), counted per
//!   category;
//! - `mvt`: layers of points and polygons ([`LayerEncoder`]) written as an MVT 2.1 tile
//!   ([`TileEncoder`]).

mod cluster;
mod coord;
mod mvt;

pub use crate::cluster::{CATEGORIES, Cluster, Clusterer, MAX_CELLS_PER_SIDE};
pub use crate::coord::{LonLat, MAX_ZOOM, TileCoord, TileError};
pub use crate::mvt::{BUFFER, EXTENT, LayerEncoder, MvtError, Prop, TileEncoder, project};
