//! Do we trust the decoder? The round-trip tests judge our tiles with `mvt-reader`, so first
//! check it against mapbox/mvt-fixtures (see `fixtures/mvt-fixtures/README.md`): every valid
//! fixture reads back as its `tile.json` says — layer names, versions, extents, feature counts,
//! ids, properties and geometry — and invalid ones are refused.
//!
//! The expected geometry is decoded here from the command integers in `tile.json` by the
//! specification's rules (§4.3), independently of the decoder under test.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::collections::HashMap;
use std::path::PathBuf;

use geo::Geometry;
use mvt_reader::Reader;
use mvt_reader::feature::Value;
use serde_json::Value as Json;

/// Valid fixtures (MVT 2.x) the decoder must read in full.
const VALID: &[&str] = &[
    "002", "009", "017", "018", "019", "020", "021", "022", "025", "027", "032", "033", "034",
    "035", "036", "037", "038", "043", "053", "054", "055", "056",
];

/// Invalid fixtures (MVT 2.x) the decoder refuses: bad tags, bad geometry type, wrong wire
/// types, unknown version, tags pointing past the tables, geometry opening with ClosePath.
/// (It accepts some other invalid ones, e.g. 047/048's wrong ClosePath counts; our own tiles
/// are checked for those properties directly in the round-trip tests.)
const INVALID_REFUSED: &[&str] = &[
    "005", "006", "007", "008", "010", "012", "013", "040", "041", "042", "044",
];

fn dir(id: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mvt-fixtures")
        .join(id)
}

fn tile(id: &str) -> Vec<u8> {
    std::fs::read(dir(id).join("tile.mvt")).unwrap()
}

fn json(id: &str, file: &str) -> Json {
    serde_json::from_str(&std::fs::read_to_string(dir(id).join(file)).unwrap()).unwrap()
}

/// Geometry as plain integer paths, comparable across decoders.
#[derive(Debug, PartialEq)]
enum Shape {
    Points(Vec<(i64, i64)>),
    Lines(Vec<Vec<(i64, i64)>>),
    /// Rings in order (each polygon's exterior, then its holes), closed.
    Rings(Vec<Vec<(i64, i64)>>),
}

/// The specification's decoding of geometry commands (MoveTo 1, LineTo 2, ClosePath 7;
/// parameters zig-zag encoded, relative to a cursor).
fn expected_shape(ty: u64, geometry: &[u64]) -> Shape {
    let mut cursor = (0i64, 0i64);
    let mut paths: Vec<Vec<(i64, i64)>> = Vec::new();
    let mut it = geometry.iter().copied();
    let zigzag = |v: u64| ((v >> 1) as i64) ^ -((v & 1) as i64);
    while let Some(command) = it.next() {
        let (id, count) = (command & 7, command >> 3);
        match id {
            1 | 2 => {
                for i in 0..count {
                    cursor.0 += zigzag(it.next().unwrap());
                    cursor.1 += zigzag(it.next().unwrap());
                    if id == 1 && (ty != 1 || paths.is_empty()) && i == 0 {
                        paths.push(Vec::new());
                    }
                    paths.last_mut().unwrap().push(cursor);
                }
            }
            7 => {
                let ring = paths.last_mut().unwrap();
                ring.push(ring[0]);
            }
            other => panic!("command {other}"),
        }
    }
    match ty {
        1 => Shape::Points(paths.concat()),
        2 => Shape::Lines(paths),
        3 => Shape::Rings(paths),
        other => panic!("type {other}"),
    }
}

fn ints(c: geo::Coord<f64>) -> (i64, i64) {
    assert_eq!(c.x.fract(), 0.0);
    assert_eq!(c.y.fract(), 0.0);
    (c.x as i64, c.y as i64)
}

fn decoded_shape(g: &Geometry<f64>) -> Shape {
    let line = |l: &geo::LineString<f64>| l.coords().map(|&c| ints(c)).collect::<Vec<_>>();
    match g {
        Geometry::MultiPoint(mp) => Shape::Points(mp.iter().map(|p| ints(p.0)).collect()),
        Geometry::LineString(l) => Shape::Lines(vec![line(l)]),
        Geometry::MultiLineString(ml) => Shape::Lines(ml.iter().map(line).collect()),
        Geometry::MultiPolygon(mp) => Shape::Rings(
            mp.iter()
                .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                .map(line)
                .collect(),
        ),
        other => panic!("unexpected geometry {other:?}"),
    }
}

fn value(v: &Json) -> Value {
    let (kind, v) = v.as_object().unwrap().iter().next().unwrap();
    match kind.as_str() {
        "string_value" => Value::String(v.as_str().unwrap().to_owned()),
        "float_value" => Value::Float(v.as_f64().unwrap() as f32),
        "double_value" => Value::Double(v.as_f64().unwrap()),
        "int_value" => Value::Int(v.as_i64().unwrap()),
        "uint_value" => Value::UInt(v.as_u64().unwrap()),
        "sint_value" => Value::SInt(v.as_i64().unwrap()),
        "bool_value" => Value::Bool(v.as_bool().unwrap()),
        other => panic!("value kind {other}"),
    }
}

fn as_u64s(v: &Json) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect()
}

#[test]
fn the_decoder_reads_every_valid_fixture_as_its_json_says() {
    let mut features_checked = 0;
    for &id in VALID {
        let info = json(id, "info.json");
        assert_eq!(
            info["validity"]["v2"],
            Json::Bool(true),
            "{id} is not a valid fixture"
        );
        let expected = json(id, "tile.json");
        let layers = expected["layers"].as_array().unwrap();
        let reader = Reader::new(tile(id)).unwrap_or_else(|e| panic!("{id}: {e}"));
        let meta = reader
            .get_layer_metadata()
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(meta.len(), layers.len(), "{id}");
        for (i, (m, l)) in meta.iter().zip(layers).enumerate() {
            assert_eq!(m.name, l["name"].as_str().unwrap(), "{id}");
            assert_eq!(u64::from(m.version), l["version"].as_u64().unwrap(), "{id}");
            // A missing extent takes the proto2 default, 4096 (fixture 009).
            assert_eq!(
                u64::from(m.extent),
                l["extent"].as_u64().unwrap_or(4096),
                "{id}"
            );
            let keys: Vec<&str> = l["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap())
                .collect();
            let values: Vec<Value> = l["values"].as_array().unwrap().iter().map(value).collect();
            let want = l["features"].as_array().unwrap();
            assert_eq!(m.feature_count, want.len(), "{id}");
            let got = reader
                .get_features_as::<f64>(i)
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(got.len(), want.len(), "{id}");
            for (g, w) in got.iter().zip(want) {
                assert_eq!(g.id, w["id"].as_u64(), "{id}");
                let tags = as_u64s(&w["tags"]);
                let props: HashMap<String, Value> = tags
                    .chunks(2)
                    .map(|kv| {
                        (
                            keys[kv[0] as usize].to_owned(),
                            values[kv[1] as usize].clone(),
                        )
                    })
                    .collect();
                assert_eq!(g.properties.as_ref(), Some(&props), "{id}");
                let shape = expected_shape(w["type"].as_u64().unwrap(), &as_u64s(&w["geometry"]));
                assert_eq!(decoded_shape(&g.geometry), shape, "{id}");
                features_checked += 1;
            }
        }
    }
    assert!(features_checked >= 25, "{features_checked}");
}

#[test]
fn an_unknown_geometry_type_is_refused_as_the_spec_allows() {
    // 039 is valid: every field carries its default explicitly, including geometry type
    // UNKNOWN, which "encoders/decoders can choose to use or throw on". The layer reads;
    // the feature's geometry is refused.
    let reader = Reader::new(tile("039")).unwrap();
    let meta = reader.get_layer_metadata().unwrap();
    assert_eq!(
        (meta[0].name.as_str(), meta[0].version, meta[0].extent),
        ("hello", 1, 4096)
    );
    assert_eq!(meta[0].feature_count, 1);
    assert!(reader.get_features(0).is_err());
}

#[test]
fn the_decoder_refuses_invalid_fixtures() {
    for &id in INVALID_REFUSED {
        let info = json(id, "info.json");
        assert_eq!(
            info["validity"]["v2"],
            Json::Bool(false),
            "{id} is not an invalid fixture"
        );
        let refused = match Reader::new(tile(id)) {
            Err(_) => true,
            Ok(r) => match r.get_layer_metadata() {
                Err(_) => true,
                Ok(m) => (0..m.len()).any(|i| r.get_features(i).is_err()),
            },
        };
        assert!(refused, "{id} was accepted");
    }
}
