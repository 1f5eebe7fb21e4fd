//! `GET /api/exports/units?format=csv|xlsx|geojson&lang=zh|en&region=&kind=&colour=`:
//! the units the reader may see, as a file. CSV (UTF-8 with a BOM, so that Excel reads
//! Chinese) and GeoJSON stream: the ids are taken from the map, then the rows are read
//! from the store a chunk at a time and sent as they are made, a few chunks ahead of the
//! client at most; XLSX is written with `rust_xlsxwriter` in its constant-memory mode
//! and sent whole.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::error::ApiError;
use super::params::Params;
use crate::app::AppState;
use crate::auth::access::Access;
use crate::domain::{Colour, Unit, UnitId};
use crate::views::export::{self, Lang, UnitRow};

/// Rows read from the store at a time.
const CHUNK: usize = 2_000;

/// Exports units.
#[utoipa::path(get, path = "/api/exports/units", tag = "imports",
    params(
        ("format" = Option<String>, Query, description = "csv (default; UTF-8 with BOM), xlsx or geojson"),
        ("lang" = Option<String>, Query, description = "zh (default) or en: the headers and words of CSV and XLSX"),
        ("region" = Option<String>, Query, description = "A region id: its subtree (within the reader's scope)"),
        ("kind" = Option<String>, Query, description = "Comma-separated unit kinds"),
        ("colour" = Option<String>, Query, description = "Comma-separated colours"),
    ),
    responses(
        (status = 200, description = "The file, as an attachment", content(
            (String = "text/csv"),
            (serde_json::Value = "application/geo+json"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
    ))]
pub async fn export_units(
    State(app): State<AppState>,
    who: Access,
    params: Params,
) -> Result<Response, ApiError> {
    params.only(&["format", "lang", "region", "kind", "colour"])?;
    let format = params
        .get::<String>("format")?
        .unwrap_or_else(|| "csv".into());
    let lang = match params.get::<String>("lang")?.as_deref() {
        None | Some("zh") => Lang::Zh,
        Some("en") => Lang::En,
        Some(_) => return Err(ApiError::bad("lang", "zh or en")),
    };
    let (ids, name) = {
        let (map, _) = app.read_now()?;
        let filter = params.unit_filter(&who, &map)?;
        let ids: Vec<UnitId> = map
            .units
            .iter()
            .enumerate()
            .filter(|(i, e)| {
                let colour = map.live().colour(*i as u32).unwrap_or(Colour::Uninspected);
                filter.admits(&map, e, colour)
            })
            .map(|(_, e)| e.unit.id)
            .collect();
        let home = filter.region.unwrap_or_else(|| who.home(&map));
        (ids, map.regions.get(home).id.to_string())
    };
    let date = chrono::Utc::now().format("%Y%m%d");
    let (content_type, ext) = match format.as_str() {
        "csv" => ("text/csv; charset=utf-8", "csv"),
        "geojson" => ("application/geo+json", "geojson"),
        "xlsx" => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        _ => return Err(ApiError::bad("format", "csv, xlsx or geojson")),
    };
    let body = if ext == "xlsx" {
        Body::from(xlsx(&app, &ids, lang).await?)
    } else {
        let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
        tokio::spawn(stream(app, ids, lang, ext == "geojson", tx));
        Body::from_stream(ReceiverStream::new(rx))
    };
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let disposition = format!("attachment; filename=\"units-{name}-{date}.{ext}\"");
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// Sends the rows of `ids` as CSV or GeoJSON, a chunk at a time; a failure ends the
/// body with an error (the client sees a broken download, not a short file).
async fn stream(
    app: AppState,
    ids: Vec<UnitId>,
    lang: Lang,
    geojson: bool,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    let head = if geojson {
        Bytes::from_static(b"{\"type\":\"FeatureCollection\",\"features\":[\n")
    } else {
        let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
        let _ = w.write_record(export::header(lang));
        Bytes::from(w.into_inner().unwrap_or_default())
    };
    if tx.send(Ok(head)).await.is_err() {
        return;
    }
    let mut first = true;
    for part in ids.chunks(CHUNK) {
        let rows = match rows(&app, part).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = ?e, "an export failed");
                let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
                return;
            }
        };
        let mut out = Vec::with_capacity(rows.len() * 200);
        if geojson {
            for r in &rows {
                if !first {
                    out.extend_from_slice(b",\n");
                }
                first = false;
                out.extend_from_slice(export::feature(&r.view()).as_bytes());
            }
        } else {
            let mut w = csv::Writer::from_writer(out);
            for r in &rows {
                let _ = w.write_record(export::cells(&r.view(), lang));
            }
            out = w.into_inner().unwrap_or_default();
        }
        if tx.send(Ok(Bytes::from(out))).await.is_err() {
            return; // the client went away
        }
    }
    if geojson {
        let _ = tx.send(Ok(Bytes::from_static(b"\n]}\n"))).await;
    }
}

/// The rows of `ids` as an XLSX workbook.
async fn xlsx(app: &AppState, ids: &[UnitId], lang: Lang) -> Result<Vec<u8>, ApiError> {
    let bad = |e: rust_xlsxwriter::XlsxError| ApiError::Internal(e.to_string());
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet_with_constant_memory().map_err(bad)?;
    for (c, h) in export::header(lang).into_iter().enumerate() {
        sheet.write_string(0, c as u16, h).map_err(bad)?;
    }
    let mut line = 1u32;
    for part in ids.chunks(CHUNK) {
        for r in rows(app, part).await? {
            for (c, v) in export::cells(&r.view(), lang).into_iter().enumerate() {
                if !v.is_empty() {
                    sheet.write_string(line, c as u16, v).map_err(bad)?;
                }
            }
            line += 1;
        }
    }
    book.save_to_buffer().map_err(bad)
}

/// One unit as read for an export.
struct Row {
    unit: Unit,
    external_id: Option<String>,
    host: Option<String>,
    colour: Option<Colour>,
}

impl Row {
    fn view(&self) -> UnitRow<'_> {
        UnitRow {
            unit: &self.unit,
            external_id: self.external_id.as_deref(),
            host: self.host.clone(),
            colour: self.colour,
        }
    }
}

/// The units of `ids` still on the map, with their text and external ids from the store.
async fn rows(app: &AppState, ids: &[UnitId]) -> Result<Vec<Row>, ApiError> {
    let mut texts = app.store.unit_texts(ids).await?;
    let hosts: Vec<UnitId> = {
        let map = app.map.read().map_err(|_| crate::app::Poisoned)?;
        ids.iter()
            .filter_map(|&id| map.unit_idx(id))
            .filter_map(|u| map.units[u as usize].unit.host)
            .collect()
    };
    let mut keys: Vec<UnitId> = ids.to_vec();
    keys.extend(&hosts);
    let external: HashMap<UnitId, String> = app.store.external_ids_of(&keys).await?;
    let map = app.map.read().map_err(|_| crate::app::Poisoned)?;
    Ok(ids
        .iter()
        .filter_map(|&id| {
            let u = map.unit_idx(id)?;
            let e = &map.units[u as usize];
            let text = texts.remove(&id)?;
            let micro_grid = map.regions.get(e.micro_grid).id.clone();
            let host = e
                .unit
                .host
                .map(|h| external.get(&h).cloned().unwrap_or_else(|| h.to_string()));
            Some(Row {
                unit: e.unit.with_text(micro_grid, text),
                external_id: external.get(&id).cloned(),
                host,
                colour: map.live().colour(u),
            })
        })
        .collect())
}
