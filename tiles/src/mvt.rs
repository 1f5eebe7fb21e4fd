//! Mapbox Vector Tile encoding: points and polygons in lon/lat become the layers of one tile.
//!
//! The server hands this module features and a [`TileCoord`] and gets bytes back; everything
//! here is pure. The protobuf is written by the maintained `mvt` crate (which also shares equal
//! keys and values in each layer's tables); clipping and simplification are `geo`'s.
//!
//! Invariants of what is written:
//! - layers are version 2 with extent [`EXTENT`]; coordinates are in tile space, x right, y down;
//! - no coordinate lies beyond the tile plus [`BUFFER`]: points outside are refused, polygons
//!   are clipped to the buffered square;
//! - each polygon is written exterior ring first (positive area by the surveyor's formula in
//!   tile space, i.e. clockwise on screen) followed by its holes (negative area), as MVT 2.1
//!   §4.3.4.4 requires; rings that collapse to zero area after simplification and rounding are
//!   dropped, and an exterior's holes go with it;
//! - a tile without features encodes to an empty `Vec`, never to a tile of empty layers.

use std::fmt;

use ::mvt::{GeomData, GeomEncoder, GeomType, Tile};
use geo::{BooleanOps, BoundingRect, Coord, LineString, MapCoords, MultiPolygon, Rect, Simplify};

use crate::coord::{LonLat, TileCoord, world_xy};

/// The tile extent: coordinates run over `0..EXTENT` on each axis (16 units per pixel at 256 px).
pub const EXTENT: u32 = 4096;

/// The margin kept around the tile, in extent units (4 px at 256 px), so that symbols and
/// outlines at tile edges are not cut.
pub const BUFFER: u32 = 64;

/// Douglas–Peucker tolerance for polygons, in extent units: half a pixel at 256 px.
const SIMPLIFY_TOLERANCE: f64 = 8.0;

/// The low edge of the buffered square.
const LO: f64 = -(BUFFER as f64);

/// The high edge of the buffered square.
const HI: f64 = (EXTENT + BUFFER) as f64;

/// Why a tile could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum MvtError {
    /// A layer was built for another tile than the one being encoded (its coordinates would
    /// be wrong).
    #[error("layer `{layer}` was built for tile {layer_tile}, not for tile {tile}")]
    WrongTile {
        /// The layer's name.
        layer: String,
        /// The tile the layer was built for.
        layer_tile: TileCoord,
        /// The tile being encoded.
        tile: TileCoord,
    },
    /// Two layers share a name, which MVT forbids.
    #[error("two layers are named `{0}`")]
    DuplicateLayer(String),
    /// The `mvt` encoder refused the tile.
    #[error("MVT encoding failed: {0}")]
    Encode(#[from] ::mvt::Error),
}

/// A feature property value, borrowed for the time of the call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Prop<'a> {
    /// A string.
    Str(&'a str),
    /// An unsigned integer.
    UInt(u64),
    /// A signed integer (written as `sint`, zig-zag encoded).
    Int(i64),
    /// A floating-point number (written as `double`).
    Float(f64),
    /// A boolean.
    Bool(bool),
}

/// Lon/lat to tile extent coordinates of `coord` (x right, y down). Points off the tile give
/// values outside `0..EXTENT`; latitudes are clamped to the Web Mercator limit.
pub fn project(coord: TileCoord, p: LonLat) -> (f64, f64) {
    let (fx, fy) = world_xy(p, coord.z());
    let e = f64::from(EXTENT);
    (
        (fx - f64::from(coord.x())) * e,
        (fy - f64::from(coord.y())) * e,
    )
}

/// Whether `v` lies within the buffered square on one axis (false for NaN).
fn in_buffer(v: f64) -> bool {
    (LO..=HI).contains(&v)
}

/// One named layer of a tile being built: features are encoded as they are added.
pub struct LayerEncoder {
    coord: TileCoord,
    layer: ::mvt::Layer,
}

impl fmt::Debug for LayerEncoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LayerEncoder")
            .field("name", &self.name())
            .field("coord", &self.coord)
            .field("features", &self.len())
            .finish()
    }
}

impl LayerEncoder {
    /// An empty layer called `name` for the tile `coord`.
    pub fn new(name: &str, coord: TileCoord) -> Self {
        LayerEncoder {
            coord,
            layer: Tile::new(EXTENT).create_layer(name),
        }
    }

    /// The layer's name.
    pub fn name(&self) -> &str {
        self.layer.name().unwrap_or_default()
    }

    /// The tile this layer is built for.
    pub fn coord(&self) -> TileCoord {
        self.coord
    }

    /// Adds a point feature; returns false (and adds nothing) when the point falls outside the
    /// tile plus buffer.
    pub fn add_point(&mut self, p: LonLat, id: Option<u64>, props: &[(&str, Prop<'_>)]) -> bool {
        let (x, y) = project(self.coord, p);
        if !(in_buffer(x) && in_buffer(y)) {
            return false;
        }
        // Cannot fail for finite coordinates inside the buffer; refuse rather than panic.
        let Ok(geom) = GeomEncoder::<f64>::new(GeomType::Point)
            .point(x.round(), y.round())
            .and_then(GeomEncoder::encode)
        else {
            return false;
        };
        self.push(geom, id, props);
        true
    }

    /// Adds a (multi)polygon in lon/lat: projected to Web Mercator tile space, clipped to the
    /// tile plus buffer, simplified to about half a pixel at 256 px, rings that collapse
    /// dropped, winding fixed as MVT 2.1 requires. Returns false when nothing remains.
    ///
    /// Input is expected to be valid (OGC) polygons; a polygon wholly inside the buffered
    /// square skips the clipping step and so is not repaired by it.
    pub fn add_polygon(
        &mut self,
        mp: &MultiPolygon<f64>,
        id: Option<u64>,
        props: &[(&str, Prop<'_>)],
    ) -> bool {
        let Some(clipped) = clip_to_buffer(self.coord, mp) else {
            return false;
        };
        let simplified = clipped.simplify(SIMPLIFY_TOLERANCE);
        match encode_polygons(&simplified) {
            Ok(Some(geom)) => {
                self.push(geom, id, props);
                true
            }
            // Err cannot happen for rounded, bounded coordinates; treat it as nothing left.
            Ok(None) | Err(_) => false,
        }
    }

    /// The number of features added.
    pub fn len(&self) -> usize {
        self.layer.num_features()
    }

    /// Whether no feature was added.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends one feature with its id and properties.
    fn push(&mut self, geom: GeomData, id: Option<u64>, props: &[(&str, Prop<'_>)]) {
        let mut feature = std::mem::take(&mut self.layer).into_feature(geom);
        if let Some(id) = id {
            feature.set_id(id);
        }
        for &(key, value) in props {
            match value {
                Prop::Str(s) => feature.add_tag_string(key, s),
                Prop::UInt(u) => feature.add_tag_uint(key, u),
                Prop::Int(i) => feature.add_tag_sint(key, i),
                Prop::Float(f) => feature.add_tag_double(key, f),
                Prop::Bool(b) => feature.add_tag_bool(key, b),
            }
        }
        self.layer = feature.into_layer();
    }
}

/// Projects `mp` to tile space and clips it to the buffered square; `None` when it lies wholly
/// outside (decided on its bounding box before any vertex is projected).
fn clip_to_buffer(coord: TileCoord, mp: &MultiPolygon<f64>) -> Option<MultiPolygon<f64>> {
    let bbox = mp.bounding_rect()?;
    // South-west gives the smallest x and the largest y (y grows southwards).
    let (x0, y1) = project(coord, lonlat(bbox.min()));
    let (x1, y0) = project(coord, lonlat(bbox.max()));
    // Written so that NaN refuses.
    if !(x0 <= HI && x1 >= LO && y0 <= HI && y1 >= LO) {
        return None;
    }
    let projected = mp.map_coords(|c| {
        let (x, y) = project(coord, lonlat(c));
        Coord { x, y }
    });
    if x0 >= LO && x1 <= HI && y0 >= LO && y1 <= HI {
        return Some(projected);
    }
    let square = Rect::new(Coord { x: LO, y: LO }, Coord { x: HI, y: HI }).to_polygon();
    let clipped = projected.intersection(&square);
    (!clipped.0.is_empty()).then_some(clipped)
}

/// A geo coordinate read as lon/lat (geo's convention: x east, y north).
fn lonlat(c: Coord<f64>) -> LonLat {
    LonLat { lon: c.x, lat: c.y }
}

/// Writes the polygons of `mp` (tile space) as one MVT polygon geometry; `None` when every
/// ring collapsed.
fn encode_polygons(mp: &MultiPolygon<f64>) -> Result<Option<GeomData>, ::mvt::Error> {
    let mut enc = GeomEncoder::<f64>::new(GeomType::Polygon);
    let mut last = None;
    let mut rings = 0usize;
    for polygon in mp {
        let Some(exterior) = integer_ring(polygon.exterior(), true) else {
            continue;
        };
        write_ring(&mut enc, &exterior, &mut last)?;
        rings += 1;
        for hole in polygon.interiors() {
            if let Some(hole) = integer_ring(hole, false) {
                write_ring(&mut enc, &hole, &mut last)?;
                rings += 1;
            }
        }
    }
    if rings == 0 {
        return Ok(None);
    }
    enc.encode().map(Some)
}

/// A ring rounded to the integer grid, without repeated or closing vertices and wound for its
/// role (exteriors positive area, holes negative); `None` when it has no area left.
fn integer_ring(ring: &LineString<f64>, exterior: bool) -> Option<Vec<(i32, i32)>> {
    let mut pts: Vec<(i32, i32)> = Vec::with_capacity(ring.0.len());
    for c in ring.coords() {
        // Coordinates are within the buffered square here, so the casts are exact.
        let p = (c.x.round() as i32, c.y.round() as i32);
        if pts.last() != Some(&p) {
            pts.push(p);
        }
    }
    while pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    if pts.len() < 3 {
        return None;
    }
    let twice_area = twice_signed_area(&pts);
    if twice_area == 0 {
        return None;
    }
    if (twice_area > 0) != exterior {
        pts.reverse();
    }
    Some(pts)
}

/// Twice the ring's signed area by the surveyor's formula (positive: clockwise on screen).
fn twice_signed_area(pts: &[(i32, i32)]) -> i64 {
    let mut sum = 0i64;
    let mut prev = pts[pts.len() - 1];
    for &p in pts {
        sum += i64::from(prev.0) * i64::from(p.1) - i64::from(p.0) * i64::from(prev.1);
        prev = p;
    }
    sum
}

/// Feeds one closed ring to the encoder. The encoder treats a ring whose first point equals
/// the previous ring's last point as a continuation (no MoveTo), so such a ring is started
/// one vertex later.
fn write_ring(
    enc: &mut GeomEncoder<f64>,
    ring: &[(i32, i32)],
    last: &mut Option<(i32, i32)>,
) -> Result<(), ::mvt::Error> {
    let start = match *last {
        Some(l) => ring.iter().position(|&p| p != l).unwrap_or(0),
        None => 0,
    };
    for &(x, y) in ring[start..].iter().chain(&ring[..start]) {
        enc.add_point(f64::from(x), f64::from(y))?;
        *last = Some((x, y));
    }
    enc.complete_geom()
}

/// A whole tile being built from layers.
#[derive(Debug)]
pub struct TileEncoder {
    coord: TileCoord,
    layers: Vec<LayerEncoder>,
    features: usize,
}

impl TileEncoder {
    /// An empty tile `coord`.
    pub fn new(coord: TileCoord) -> Self {
        TileEncoder {
            coord,
            layers: Vec::new(),
            features: 0,
        }
    }

    /// Adds a layer; layers without features are skipped (MVT encoders should not write them).
    pub fn add_layer(&mut self, layer: LayerEncoder) {
        if layer.is_empty() {
            return;
        }
        self.features += layer.len();
        self.layers.push(layer);
    }

    /// The number of features over all layers added.
    pub fn feature_count(&self) -> usize {
        self.features
    }

    /// The encoded tile; an empty `Vec` when no layer has features (the server answers 204).
    pub fn encode(self) -> Result<Vec<u8>, MvtError> {
        if self.features == 0 {
            return Ok(Vec::new());
        }
        let mut tile = Tile::new(EXTENT);
        let mut names = Vec::with_capacity(self.layers.len());
        for layer in self.layers {
            let name = layer.name().to_owned();
            if layer.coord != self.coord {
                return Err(MvtError::WrongTile {
                    layer: name,
                    layer_tile: layer.coord,
                    tile: self.coord,
                });
            }
            if names.contains(&name) {
                return Err(MvtError::DuplicateLayer(name));
            }
            tile.add_layer(layer.layer)?;
            names.push(name);
        }
        Ok(tile.to_bytes()?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use geo::polygon;

    fn tile() -> TileCoord {
        TileCoord::new(12, 3418, 1687).unwrap()
    }

    #[test]
    fn encoders_can_move_to_a_blocking_thread() {
        fn send<T: Send + 'static>() {}
        send::<LayerEncoder>();
        send::<TileEncoder>();
        send::<MvtError>();
    }

    #[test]
    fn projection_puts_tile_corners_on_the_extent() {
        let t = tile();
        let [w, s, e, n] = t.bounds();
        let (x, y) = project(t, LonLat { lon: w, lat: n });
        assert!(x.abs() < 1e-6 && y.abs() < 1e-6, "{x} {y}");
        let (x, y) = project(t, LonLat { lon: e, lat: s });
        assert!(
            (x - 4096.0).abs() < 1e-6 && (y - 4096.0).abs() < 1e-6,
            "{x} {y}"
        );
    }

    #[test]
    fn rings_are_wound_for_their_role_and_collapsed_ones_dropped() {
        // Counter-clockwise on screen (negative area) as an exterior: reversed.
        let ccw = LineString::from(vec![(0.0, 0.0), (0.0, 10.0), (10.0, 10.0), (0.0, 0.0)]);
        let ext = integer_ring(&ccw, true).unwrap();
        assert!(twice_signed_area(&ext) > 0);
        let hole = integer_ring(&ccw, false).unwrap();
        assert!(twice_signed_area(&hole) < 0);
        // A sliver thinner than one unit rounds to a line.
        let sliver = LineString::from(vec![(0.0, 0.0), (100.0, 0.2), (200.0, 0.0), (0.0, 0.0)]);
        assert_eq!(integer_ring(&sliver, true), None);
    }

    #[test]
    fn a_ring_starting_where_the_last_ended_gets_its_own_move_to() {
        // The hole's first vertex is the exterior's last: rotation keeps the MoveTo.
        let mp = MultiPolygon::new(vec![polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 100.0, y: 0.0), (x: 100.0, y: 100.0), (x: 10.0, y: 10.0)],
            interiors: [[(x: 10.0, y: 10.0), (x: 20.0, y: 60.0), (x: 60.0, y: 60.0)]],
        )]);
        let geom = encode_polygons(&mp).unwrap().unwrap();
        let mut layer = LayerEncoder::new("t", tile());
        layer.push(geom, None, &[]);
        let mut t = TileEncoder::new(tile());
        t.add_layer(layer);
        let bytes = t.encode().unwrap();
        let reader = mvt_reader::Reader::new(bytes).unwrap();
        let f = reader.get_features(0).unwrap();
        let geo::Geometry::MultiPolygon(mp) = &f[0].geometry else {
            panic!("{:?}", f[0].geometry)
        };
        assert_eq!(mp.0.len(), 1);
        assert_eq!(mp.0[0].interiors().len(), 1);
    }

    #[test]
    fn layers_for_another_tile_or_with_a_taken_name_are_refused() {
        let p = LonLat {
            lon: 120.46,
            lat: 30.18,
        };
        let other = TileCoord::new(12, 3418, 1688).unwrap();
        let mut a = LayerEncoder::new("a", other);
        assert!(!a.add_point(p, None, &[]));
        let mut a = LayerEncoder::new("a", tile());
        assert!(a.add_point(p, None, &[]));
        let mut b = LayerEncoder::new("a", tile());
        assert!(b.add_point(p, None, &[]));
        let mut t = TileEncoder::new(tile());
        t.add_layer(a);
        t.add_layer(b);
        assert!(matches!(t.encode(), Err(MvtError::DuplicateLayer(n)) if n == "a"));

        let mut c = LayerEncoder::new("c", tile());
        assert!(c.add_point(p, None, &[]));
        let mut t = TileEncoder::new(other);
        t.add_layer(c);
        assert!(matches!(t.encode(), Err(MvtError::WrongTile { .. })));
    }
}
