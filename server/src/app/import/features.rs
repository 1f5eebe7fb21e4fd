//! Boundary files read as features: each with its number in the file (from 1), its
//! attributes as text and its geometry as it stands in the file (any coordinate
//! system; the planner converts). GeoJSON (UTF-8 or GB18030) and ESRI Shapefile (the
//! `shapefile` crate; its `.dbf` in the encoding its `.cpg` names), the Shapefile given
//! by its `.shp` path or as a ZIP of its parts. Other formats go through GDAL's
//! `ogr2ogr -f GeoJSON` first (README, "Importing places").

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use geo::Geometry;

use super::LineError;
use super::table::decode;

/// One feature of a boundary file.
#[derive(Debug, Clone)]
pub struct Feature {
    /// Its number in the file, from 1.
    pub line: u64,
    /// Its attributes, as text (numbers written as the file has them).
    pub props: HashMap<String, String>,
    /// Its geometry, if it has one.
    pub geometry: Option<Geometry<f64>>,
}

/// The features of a GeoJSON feature collection.
pub fn geojson(bytes: &[u8]) -> Result<Vec<Feature>, LineError> {
    let collection: geojson::FeatureCollection = decode(bytes)
        .parse::<geojson::GeoJson>()
        .map_err(|e| LineError::file(0, format!("not GeoJSON: {e}")))?
        .try_into()
        .map_err(|e| LineError::file(0, format!("not a feature collection: {e}")))?;
    let mut out = Vec::with_capacity(collection.features.len());
    for (f, line) in collection.features.iter().zip(1..) {
        let props = f
            .properties
            .iter()
            .flatten()
            .filter_map(|(k, v)| {
                let v = match v {
                    serde_json::Value::Null => return None,
                    serde_json::Value::String(s) => s.trim().to_owned(),
                    v => v.to_string(),
                };
                Some((k.clone(), v))
            })
            .collect();
        let geometry = match f.geometry.as_ref() {
            None => None,
            Some(g) => Some(
                Geometry::<f64>::try_from(&g.value)
                    .map_err(|e| LineError::file(line, format!("geometry: {e}")))?,
            ),
        };
        out.push(Feature {
            line,
            props,
            geometry,
        });
    }
    Ok(out)
}

/// The features of a Shapefile, from its `.shp` (the `.dbf` beside it holds the
/// attributes; a `.cpg` beside it names their encoding).
pub fn shapefile(path: &Path) -> Result<Vec<Feature>, LineError> {
    let mut reader = ::shapefile::Reader::from_path(path)
        .map_err(|e| LineError::file(0, format!("not a Shapefile: {e}")))?;
    let mut out = Vec::new();
    for (item, line) in reader.iter_shapes_and_records().zip(1..) {
        let (shape, record) =
            item.map_err(|e| LineError::file(line, format!("unreadable record: {e}")))?;
        let geometry = match shape {
            ::shapefile::Shape::NullShape => None,
            s => Some(
                Geometry::<f64>::try_from(s)
                    .map_err(|e| LineError::file(line, format!("geometry: {e:?}")))?,
            ),
        };
        let props = record
            .into_iter()
            .filter_map(|(k, v)| Some((k, field_text(v)?)))
            .collect();
        out.push(Feature {
            line,
            props,
            geometry,
        });
    }
    Ok(out)
}

/// The text of a `.dbf` field (`None`: empty).
fn field_text(v: ::shapefile::dbase::FieldValue) -> Option<String> {
    use ::shapefile::dbase::FieldValue as F;
    let text = match v {
        F::Character(Some(s)) => s.trim().to_owned(),
        F::Memo(s) => s.trim().to_owned(),
        F::Numeric(Some(n)) => number(n),
        F::Float(Some(n)) => number(f64::from(n)),
        F::Integer(n) => n.to_string(),
        F::Double(n) => number(n),
        F::Currency(n) => number(n),
        F::Logical(Some(b)) => b.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// A number as an id would be written: whole numbers without a fraction.
fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// The features of a zipped Shapefile: the first `.shp` in the archive with its
/// `.dbf` (and `.cpg`, `.shx`, `.prj`) unpacked into a directory of its own.
pub fn zipped_shapefile(bytes: &[u8]) -> Result<Vec<Feature>, LineError> {
    let bad = |m: String| LineError::file(0, m);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| bad(format!("not a ZIP archive: {e}")))?;
    let dir = std::env::temp_dir().join(format!(
        "onemap-shp-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| bad(format!("unpacking: {e}")))?;
    let result = (|| {
        let mut shp = None;
        for i in 0..archive.len() {
            let mut entry = archive
                .by_index(i)
                .map_err(|e| bad(format!("the archive: {e}")))?;
            let Some(name) = entry.enclosed_name() else {
                continue;
            };
            let Some(file) = name.file_name().map(|f| f.to_string_lossy().to_lowercase()) else {
                continue;
            };
            let ext = Path::new(&file)
                .extension()
                .map(|e| e.to_string_lossy().into_owned());
            if !matches!(ext.as_deref(), Some("shp" | "dbf" | "shx" | "cpg" | "prj")) {
                continue;
            }
            // One name for all the parts, so the reader finds the `.dbf` beside the `.shp`.
            let stem = "layer";
            let path = dir.join(format!("{stem}.{}", ext.as_deref().unwrap_or("")));
            if ext.as_deref() == Some("shp") {
                if shp.is_some() {
                    return Err(bad("the archive holds more than one .shp".into()));
                }
                shp = Some(path.clone());
            }
            let mut data = Vec::new();
            entry
                .read_to_end(&mut data)
                .map_err(|e| bad(format!("the archive: {e}")))?;
            std::fs::write(&path, data).map_err(|e| bad(format!("unpacking: {e}")))?;
        }
        let shp = shp.ok_or_else(|| bad("the archive holds no .shp".into()))?;
        shapefile(&shp)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
