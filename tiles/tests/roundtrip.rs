//! Our tiles, read back by an independent decoder (`mvt-reader`, itself checked against
//! mapbox/mvt-fixtures in `fixtures.rs`): layers, extent, ids, every property type, point
//! positions, polygon holes and winding, clipping to the buffered square, simplification, and
//! the empty tile.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::collections::HashMap;
use std::f64::consts::PI;

use geo::{Area, Coord, Geometry, LineString, MultiPolygon, Polygon};
use mvt_reader::Reader;
use mvt_reader::feature::{Feature, Value};
use onemap_tiles::{BUFFER, EXTENT, LayerEncoder, LonLat, Prop, TileCoord, TileEncoder, project};

/// Guali, zoom 12.
fn tile() -> TileCoord {
    TileCoord::new(12, 3418, 1687).unwrap()
}

/// The lon/lat at tile extent coordinates `x`, `y` (the inverse of `project`).
fn unproject(t: TileCoord, x: f64, y: f64) -> LonLat {
    let n = f64::from(1u32 << t.z());
    let fx = f64::from(t.x()) + x / f64::from(EXTENT);
    let fy = f64::from(t.y()) + y / f64::from(EXTENT);
    LonLat {
        lon: fx / n * 360.0 - 180.0,
        lat: (PI * (1.0 - 2.0 * fy / n)).sinh().atan().to_degrees(),
    }
}

/// A ring through tile-space points, given in lon/lat.
fn ring(t: TileCoord, pts: &[(f64, f64)]) -> LineString<f64> {
    pts.iter()
        .map(|&(x, y)| {
            let p = unproject(t, x, y);
            Coord { x: p.lon, y: p.lat }
        })
        .collect()
}

/// A square in tile space, as a lon/lat ring (counter-clockwise in lon/lat).
fn square(t: TileCoord, x0: f64, y0: f64, x1: f64, y1: f64) -> LineString<f64> {
    ring(t, &[(x0, y1), (x1, y1), (x1, y0), (x0, y0), (x0, y1)])
}

fn encode(layers: Vec<LayerEncoder>) -> Vec<u8> {
    let mut t = TileEncoder::new(tile());
    for l in layers {
        t.add_layer(l);
    }
    t.encode().unwrap()
}

fn features(bytes: &[u8], layer: usize) -> Vec<Feature<f64>> {
    Reader::new(bytes.to_vec())
        .unwrap()
        .get_features_as::<f64>(layer)
        .unwrap()
}

/// The one polygon feature of layer 0, as polygons in tile space.
fn polygons(bytes: &[u8]) -> Vec<Polygon<f64>> {
    let f = features(bytes, 0);
    assert_eq!(f.len(), 1);
    match &f[0].geometry {
        Geometry::MultiPolygon(mp) => mp.0.clone(),
        other => panic!("not a polygon: {other:?}"),
    }
}

/// A ring's distinct vertices (without the closing one), as integers.
fn vertices(ring: &LineString<f64>) -> Vec<(i64, i64)> {
    let n = ring.0.len() - 1;
    assert_eq!(ring.0[0], ring.0[n], "ring not closed");
    ring.0[..n]
        .iter()
        .map(|c| (c.x as i64, c.y as i64))
        .collect()
}

/// Twice a ring's signed area by the surveyor's formula (MVT 2.1 §4.3.4.4): in tile space,
/// y down, positive means clockwise on screen.
trait Shoelace {
    fn shoelace(&self) -> f64;
}

impl Shoelace for LineString<f64> {
    fn shoelace(&self) -> f64 {
        self.lines()
            .map(|l| l.start.x * l.end.y - l.end.x * l.start.y)
            .sum()
    }
}

fn sorted(mut v: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    v.sort_unstable();
    v
}

#[test]
fn points_keep_ids_positions_and_every_property_type() {
    let t = tile();
    let at = [(100.4, 200.6), (2048.0, 2048.0), (4000.0, 10.0)];
    let mut units = LayerEncoder::new("units", t);
    for (i, &(x, y)) in at.iter().enumerate() {
        let props = [
            ("name", Prop::Str(["A-1", "B-2", "C-3"][i])),
            ("rank", Prop::UInt(i as u64 + 7)),
            ("delta", Prop::Int(-5 * i as i64)),
            ("load", Prop::Float(0.25 * i as f64)),
            ("active", Prop::Bool(i % 2 == 0)),
        ];
        assert!(units.add_point(unproject(t, x, y), Some(i as u64 + 1), &props));
    }
    let mut extra = LayerEncoder::new("extra", t);
    assert!(extra.add_point(unproject(t, 1.0, 1.0), None, &[]));
    let empty = LayerEncoder::new("nothing", t);
    let mut tile_enc = TileEncoder::new(t);
    tile_enc.add_layer(units);
    tile_enc.add_layer(empty);
    tile_enc.add_layer(extra);
    assert_eq!(tile_enc.feature_count(), 4);
    let bytes = tile_enc.encode().unwrap();

    let reader = Reader::new(bytes.clone()).unwrap();
    assert_eq!(reader.get_layer_names().unwrap(), ["units", "extra"]);
    for m in reader.get_layer_metadata().unwrap() {
        assert_eq!((m.extent, m.version), (EXTENT, 2), "{}", m.name);
    }
    let got = features(&bytes, 0);
    assert_eq!(got.len(), 3);
    for (i, f) in got.iter().enumerate() {
        assert_eq!(f.id, Some(i as u64 + 1));
        let want: HashMap<String, Value> = [
            ("name", Value::String(["A-1", "B-2", "C-3"][i].to_owned())),
            ("rank", Value::UInt(i as u64 + 7)),
            ("delta", Value::SInt(-5 * i as i64)),
            ("load", Value::Double(0.25 * i as f64)),
            ("active", Value::Bool(i % 2 == 0)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        assert_eq!(f.properties.as_ref(), Some(&want));
        let Geometry::MultiPoint(mp) = &f.geometry else {
            panic!("{:?}", f.geometry)
        };
        assert_eq!(mp.0.len(), 1);
        let (x, y) = project(t, unproject(t, at[i].0, at[i].1));
        assert!((mp.0[0].x() - x).abs() <= 1.0 && (mp.0[0].y() - y).abs() <= 1.0);
    }
    let extra = features(&bytes, 1);
    assert_eq!((extra.len(), extra[0].id), (1, None));
}

#[test]
fn equal_properties_share_the_layer_tables() {
    let t = tile();
    let long = "a long text, easy to spot in the encoded bytes";
    let mut layer = LayerEncoder::new("units", t);
    for i in 0..200u32 {
        let p = unproject(t, f64::from(i) * 20.0, 100.0);
        assert!(layer.add_point(
            p,
            Some(i.into()),
            &[("status", Prop::Str(long)), ("n", Prop::UInt(3))]
        ));
    }
    let bytes = encode(vec![layer]);
    let count = |needle: &[u8]| bytes.windows(needle.len()).filter(|w| *w == needle).count();
    assert_eq!(count(long.as_bytes()), 1);
    assert_eq!(count(b"status"), 1);
    assert_eq!(features(&bytes, 0).len(), 200);
}

#[test]
fn points_outside_the_buffer_are_refused_and_inside_it_kept() {
    let t = tile();
    let b = f64::from(BUFFER);
    let mut layer = LayerEncoder::new("units", t);
    assert!(!layer.add_point(unproject(t, -b - 2.0, 100.0), None, &[]));
    assert!(!layer.add_point(unproject(t, 100.0, f64::from(EXTENT) + b + 2.0), None, &[]));
    assert!(!layer.add_point(
        LonLat {
            lon: f64::NAN,
            lat: 30.0
        },
        None,
        &[]
    ));
    assert!(layer.is_empty());
    assert!(layer.add_point(unproject(t, -b + 2.0, 100.0), None, &[]));
    let bytes = encode(vec![layer]);
    let Geometry::MultiPoint(mp) = &features(&bytes, 0)[0].geometry else {
        panic!()
    };
    assert_eq!((mp.0[0].x(), mp.0[0].y()), (-b + 2.0, 100.0));
}

#[test]
fn a_polygon_with_a_hole_keeps_it_and_is_wound_as_mvt_requires() {
    let t = tile();
    let outer = square(t, 1000.0, 1000.0, 3000.0, 3000.0);
    let hole = square(t, 1500.0, 1500.0, 2500.0, 2500.0);
    // Either input winding gives the same tile.
    let mut reversed_outer = outer.clone();
    reversed_outer.0.reverse();
    for outer in [outer, reversed_outer] {
        let mp = MultiPolygon::new(vec![Polygon::new(outer, vec![hole.clone()])]);
        let mut layer = LayerEncoder::new("areas", t);
        assert!(layer.add_polygon(&mp, Some(42), &[("name", Prop::Str("Guali"))]));
        let bytes = encode(vec![layer]);
        assert_eq!(features(&bytes, 0)[0].id, Some(42));
        let polys = polygons(&bytes);
        assert_eq!(polys.len(), 1);
        let p = &polys[0];
        assert_eq!(p.interiors().len(), 1);
        // The exterior must have positive area and the hole negative (MVT 2.1 §4.3.4.4).
        assert!(p.exterior().shoelace() > 0.0);
        assert!(p.interiors()[0].shoelace() < 0.0);
        let near = |got: Vec<(i64, i64)>, want: [(i64, i64); 4]| {
            let got = sorted(got);
            let want = sorted(want.to_vec());
            got.len() == 4
                && got
                    .iter()
                    .zip(&want)
                    .all(|(a, b)| (a.0 - b.0).abs() <= 1 && (a.1 - b.1).abs() <= 1)
        };
        let ext = vertices(p.exterior());
        assert!(
            near(
                ext.clone(),
                [(1000, 1000), (3000, 1000), (3000, 3000), (1000, 3000)]
            ),
            "{ext:?}"
        );
        let int = vertices(&p.interiors()[0]);
        assert!(
            near(
                int.clone(),
                [(1500, 1500), (2500, 1500), (2500, 2500), (1500, 2500)]
            ),
            "{int:?}"
        );
    }
}

#[test]
fn a_polygon_larger_than_the_tile_becomes_the_buffered_square() {
    let t = tile();
    let mp = MultiPolygon::new(vec![Polygon::new(
        square(t, -2000.0, -3000.0, 6000.0, 7000.0),
        vec![],
    )]);
    let mut layer = LayerEncoder::new("areas", t);
    assert!(layer.add_polygon(&mp, None, &[]));
    let polys = polygons(&encode(vec![layer]));
    assert_eq!(polys.len(), 1);
    let (lo, hi) = (-i64::from(BUFFER), i64::from(EXTENT + BUFFER));
    assert_eq!(
        sorted(vertices(polys[0].exterior())),
        sorted(vec![(lo, lo), (hi, lo), (hi, hi), (lo, hi)])
    );
    assert!(polys[0].exterior().shoelace() > 0.0);
}

#[test]
fn polygons_across_the_edge_are_cut_at_the_buffer() {
    let t = tile();
    let mp = MultiPolygon::new(vec![
        // Across the east edge.
        Polygon::new(square(t, 3000.0, 1000.0, 6000.0, 2000.0), vec![]),
        // Across the south edge, its hole inside the tile: the hole stays.
        Polygon::new(
            square(t, 1000.0, 2000.0, 2000.0, 4600.0),
            vec![square(t, 1200.0, 2200.0, 1800.0, 2800.0)],
        ),
        // Across the south edge with its hole: the hole becomes a notch in the exterior.
        Polygon::new(
            square(t, 2200.0, 3000.0, 3000.0, 4600.0),
            vec![square(t, 2300.0, 3200.0, 2900.0, 4400.0)],
        ),
    ]);
    let mut layer = LayerEncoder::new("areas", t);
    assert!(layer.add_polygon(&mp, None, &[]));
    let polys = polygons(&encode(vec![layer]));
    assert_eq!(polys.len(), 3);
    let hi = f64::from(EXTENT + BUFFER);
    let coords: Vec<Coord<f64>> = polys
        .iter()
        .flat_map(|p| p.exterior().coords().copied())
        .collect();
    assert!(coords.iter().all(|c| c.x <= hi && c.y <= hi));
    assert!(coords.iter().any(|c| c.x == hi));
    assert!(coords.iter().any(|c| c.y == hi));
    assert_eq!(
        polys.iter().filter(|p| !p.interiors().is_empty()).count(),
        1
    );
    for p in &polys {
        assert!(p.exterior().shoelace() > 0.0);
        assert!(p.interiors().iter().all(|h| h.shoelace() < 0.0));
    }
    // The notched one: 800 × 1160 less the 600 × 960 notch cut at the buffer.
    let notched = polys
        .iter()
        .find(|p| p.exterior().coords().any(|c| c.x == 2200.0))
        .unwrap();
    assert!((notched.unsigned_area() - (800.0 * 1160.0 - 600.0 * 960.0)).abs() < 2000.0);
}

#[test]
fn polygons_outside_or_too_small_are_refused() {
    let t = tile();
    let mut layer = LayerEncoder::new("areas", t);
    let outside = MultiPolygon::new(vec![Polygon::new(
        square(t, 5000.0, 100.0, 6000.0, 900.0),
        vec![],
    )]);
    assert!(!layer.add_polygon(&outside, None, &[]));
    let speck = MultiPolygon::new(vec![Polygon::new(
        square(t, 100.0, 100.0, 100.3, 100.3),
        vec![],
    )]);
    assert!(!layer.add_polygon(&speck, None, &[]));
    assert!(!layer.add_polygon(&MultiPolygon::new(vec![]), None, &[]));
    assert!(layer.is_empty());
    // A tile whose only layer ended up empty is the empty tile.
    assert_eq!(encode(vec![layer]), Vec::<u8>::new());
}

#[test]
fn polygons_are_simplified_to_half_a_pixel() {
    let t = tile();
    // A square whose top edge wiggles by ±3 units over 400 vertices: below the tolerance.
    let mut pts: Vec<(f64, f64)> = (0..=400)
        .map(|i| {
            (
                1000.0 + 5.0 * f64::from(i),
                1000.0 + if i % 2 == 0 { 3.0 } else { -3.0 },
            )
        })
        .collect();
    pts.extend([(3000.0, 3000.0), (1000.0, 3000.0), (1000.0, 1003.0)]);
    let mp = MultiPolygon::new(vec![Polygon::new(ring(t, &pts), vec![])]);
    let mut layer = LayerEncoder::new("areas", t);
    assert!(layer.add_polygon(&mp, None, &[]));
    let polys = polygons(&encode(vec![layer]));
    let n = vertices(polys[0].exterior()).len();
    assert!((4..=6).contains(&n), "{n} vertices left");
}

#[test]
fn an_empty_tile_encodes_to_nothing() {
    let t = tile();
    assert_eq!(TileEncoder::new(t).encode().unwrap(), Vec::<u8>::new());
    let mut enc = TileEncoder::new(t);
    enc.add_layer(LayerEncoder::new("units", t));
    assert_eq!(enc.feature_count(), 0);
    assert_eq!(enc.encode().unwrap(), Vec::<u8>::new());
}
