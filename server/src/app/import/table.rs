//! A file as a table: a header and rows of text cells, each row with the line (CSV),
//! the sheet row (XLSX) or the feature number (GeoJSON) a person finds it by. CSV comes
//! in UTF-8, with or without a BOM, or in GB18030 (what Chinese Excel saves), told
//! apart by whether it is valid UTF-8; XLSX is read with calamine (the first sheet);
//! GeoJSON's points become the `lon` and `lat` columns.

use std::collections::HashMap;
use std::hash::Hash;
use std::io::Cursor;

use calamine::{Data, Reader};

use super::LineError;

/// The formats an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values.
    Csv,
    /// An Excel workbook (Office Open XML).
    Xlsx,
    /// A GeoJSON feature collection.
    GeoJson,
}

impl Format {
    /// The format of a body by its media type, else by its first bytes (a ZIP is a
    /// workbook, `{` is GeoJSON, anything else CSV).
    pub fn of(content_type: Option<&str>, bytes: &[u8]) -> Format {
        let media = content_type
            .and_then(|t| t.split(';').next())
            .map(|t| t.trim().to_ascii_lowercase());
        match media.as_deref() {
            Some("text/csv") => Format::Csv,
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") => {
                Format::Xlsx
            }
            Some("application/geo+json") | Some("application/json") => Format::GeoJson,
            _ if bytes.starts_with(b"PK\x03\x04") => Format::Xlsx,
            _ if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') => Format::GeoJson,
            _ => Format::Csv,
        }
    }

    /// The format of a file by its name's ending, else by its first bytes.
    pub fn of_path(path: &std::path::Path, bytes: &[u8]) -> Format {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("csv") | Some("txt") => Format::Csv,
            Some("xlsx") => Format::Xlsx,
            Some("geojson") | Some("json") => Format::GeoJson,
            _ => Format::of(None, bytes),
        }
    }
}

/// A row of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Where a person finds it: the line of a CSV, the row of a sheet, the feature's
    /// number in a GeoJSON collection (from 1).
    pub line: u64,
    /// Its cells, in the header's order (missing ones empty).
    pub cells: Vec<String>,
}

/// A file read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// The column names.
    pub header: Vec<String>,
    /// The rows, blank ones left out.
    pub rows: Vec<Row>,
}

/// Reads `bytes` as `format`; a file that cannot be read at all is one error on the
/// line where it breaks.
pub fn read(bytes: &[u8], format: Format) -> Result<Table, LineError> {
    match format {
        Format::Csv => csv(&decode(bytes)),
        Format::Xlsx => xlsx(bytes),
        Format::GeoJson => geojson(bytes),
    }
}

/// The text of a CSV: UTF-8 without its BOM, or GB18030 when it is not UTF-8.
pub fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => encoding_rs::GB18030
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

fn csv(text: &str) -> Result<Table, LineError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| LineError::file(1, e.to_string()))?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            LineError::file(line, e.to_string())
        })?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        let line = record.position().map_or(0, |p| p.line());
        rows.push(Row {
            line,
            cells: record.iter().map(str::to_owned).collect(),
        });
    }
    Ok(Table { header, rows })
}

fn xlsx(bytes: &[u8]) -> Result<Table, LineError> {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| LineError::file(0, format!("not a workbook: {e}")))?;
    let sheet = book
        .worksheet_range_at(0)
        .ok_or_else(|| LineError::file(0, "the workbook has no sheet".into()))?
        .map_err(|e| LineError::file(0, e.to_string()))?;
    // A person counts a sheet's rows from 1, wherever its used range starts.
    let first = u64::from(sheet.start().map_or(0, |(r, _)| r)) + 1;
    let mut rows = sheet.rows().zip(first..);
    let Some((head, _)) = rows.next() else {
        return Ok(Table::default());
    };
    let header = head.iter().map(cell).collect();
    let rows = rows
        .filter(|(r, _)| !r.iter().all(|c| cell(c).is_empty()))
        .map(|(r, line)| Row {
            line,
            cells: r.iter().map(cell).collect(),
        })
        .collect();
    Ok(Table { header, rows })
}

/// A cell's text: numbers as a person typed them (an id `1001`, not `1001.0`).
fn cell(c: &Data) -> String {
    match c {
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        // A moment as Excel keeps it (days since 1900): as a person reads it, local time.
        Data::DateTime(d) => d.as_datetime().map_or_else(
            || c.to_string(),
            |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
        ),
        c => c.to_string().trim().to_owned(),
    }
}

fn geojson(bytes: &[u8]) -> Result<Table, LineError> {
    let text = decode(bytes);
    let collection: geojson::FeatureCollection = text
        .parse::<geojson::GeoJson>()
        .map_err(|e| LineError::file(0, format!("not GeoJSON: {e}")))?
        .try_into()
        .map_err(|e| LineError::file(0, format!("not a feature collection: {e}")))?;
    // The columns are the properties' names, first seen first, then the point's.
    let mut header: Vec<String> = Vec::new();
    for f in &collection.features {
        for k in f.properties.iter().flat_map(|p| p.keys()) {
            if !header.contains(k) {
                header.push(k.clone());
            }
        }
    }
    header.retain(|k| k != "lon" && k != "lat");
    header.extend(["lon".to_owned(), "lat".to_owned()]);
    let mut rows = Vec::with_capacity(collection.features.len());
    for (f, line) in collection.features.iter().zip(1..) {
        let mut cells: Vec<String> = header[..header.len() - 2]
            .iter()
            .map(|k| match f.property(k) {
                None | Some(serde_json::Value::Null) => String::new(),
                Some(serde_json::Value::String(s)) => s.trim().to_owned(),
                Some(v) => v.to_string(),
            })
            .collect();
        match f.geometry.as_ref().map(|g| &g.value) {
            Some(geojson::GeometryValue::Point { coordinates: p }) if p.as_slice().len() >= 2 => {
                cells.push(p[0].to_string());
                cells.push(p[1].to_string());
            }
            // Left empty: the row is refused for its position, with the others.
            _ => cells.extend([String::new(), String::new()]),
        }
        rows.push(Row { line, cells });
    }
    Ok(Table { header, rows })
}

/// A column table: each column with its English and Chinese names.
pub type Columns<C> = [(C, &'static str, &'static str)];

/// Where each known column of `names` is in a table's header, and the header's other
/// names (left out, and said so).
pub struct Layout<C: 'static> {
    at: HashMap<C, (usize, String)>,
    names: &'static Columns<C>,
    /// The header's columns that are not in the table.
    pub ignored: Vec<String>,
}

impl<C: Copy + Eq + Hash> Layout<C> {
    /// The layout of `header` (names in English, any case, or in Chinese), which must
    /// hold one column of each set in `required`; a column named twice is wrong.
    pub fn of(
        header: &[String],
        names: &'static Columns<C>,
        required: &[&[C]],
    ) -> Result<Self, Vec<LineError>> {
        let mut at = HashMap::new();
        let mut ignored = Vec::new();
        let mut errors = Vec::new();
        for (i, name) in header.iter().enumerate() {
            let key = name.trim().trim_start_matches('\u{feff}');
            match names
                .iter()
                .find(|(_, en, zh)| key.eq_ignore_ascii_case(en) || key == *zh)
            {
                Some(&(c, _, _)) => {
                    if at.insert(c, (i, key.to_owned())).is_some() {
                        errors.push(LineError::at(1, key, "this column appears twice"));
                    }
                }
                None if key.is_empty() => {}
                None => ignored.push(key.to_owned()),
            }
        }
        for set in required {
            if !set.iter().any(|c| at.contains_key(c)) {
                let named: Vec<String> = set
                    .iter()
                    .filter_map(|c| names.iter().find(|(k, _, _)| k == c))
                    .map(|(_, en, zh)| format!("`{en}` (`{zh}`)"))
                    .collect();
                errors.push(LineError::file(
                    1,
                    format!("the file has no {} column", named.join(" or ")),
                ));
            }
        }
        if errors.is_empty() {
            Ok(Layout { at, names, ignored })
        } else {
            Err(errors)
        }
    }

    /// The cell of `c` in `cells` and the column's name as the file spells it (its
    /// English name when the file has no such column).
    pub fn get<'a>(&'a self, cells: &'a [String], c: C) -> (&'a str, &'a str) {
        match self.at.get(&c) {
            Some((i, name)) => (cells.get(*i).map_or("", |s| s.trim()), name),
            None => (
                "",
                self.names
                    .iter()
                    .find(|(k, _, _)| *k == c)
                    .map_or("", |(_, en, _)| en),
            ),
        }
    }
}
