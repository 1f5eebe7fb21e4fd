//! Views: pure functions from the map state to what clients read — vector tiles,
//! OGC API features, rankings. No I/O here; `http/` parses requests and calls these.

pub mod briefing;
pub mod day;
pub mod export;
pub mod ogc;
pub mod page;
pub mod rankings;
pub mod targets;
pub mod tiles;

/// An H3 cell's outline as a polygon (closed ring, lon/lat), for tiles and GeoJSON.
pub fn cell_polygon(cell: h3o::CellIndex) -> geo::Polygon<f64> {
    let ring: Vec<geo::Coord<f64>> = cell
        .boundary()
        .iter()
        .map(|ll| geo::Coord {
            x: ll.lng(),
            y: ll.lat(),
        })
        .collect();
    geo::Polygon::new(geo::LineString(ring), vec![])
}
