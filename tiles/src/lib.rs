//! Tile maths for onemap: Web-Mercator (EPSG:3857) tile coordinates, their bounds and
//! the tiles under a point. Pure: no I/O, no async, no server types.
//!
//! Vector-tile encoding and clustering join this crate with the map-engine work.

mod coord;

pub use coord::{LonLat, MAX_ZOOM, TileCoord, TileError};
