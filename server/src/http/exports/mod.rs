//! `GET /api/exports/{units,hazards,visits}?format=csv|xlsx|geojson&lang=zh|en&…`: what
//! the reader may see, as a file. Each handler picks its keys (ids) from the map, within
//! the reader's scope; then one task reads the rows from the store a chunk at a time
//! and sends them as they are made, a few chunks ahead of the client at most — as CSV
//! (UTF-8 with a BOM, so that Excel reads Chinese), GeoJSON, or XLSX: `rust_xlsxwriter`
//! in its constant-memory mode writes the rows to a temporary file off the async
//! threads, and its ZIP is written straight into the response. Memory stays bounded by
//! a chunk, not by the rows; the headers go out at once, so a long export is not cut
//! off by the request timeout. A failure half-way ends the body with an error: the
//! client sees a broken download, not a short file.

pub mod hazards;
pub mod units;
pub mod visits;

use std::collections::HashMap;
use std::future::Future;
use std::io::Write;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::error::ApiError;
use super::params::Params;
use crate::app::AppState;
use crate::domain::UnitId;
use crate::views::export::{Cell, Lang};

/// Keys read from the store at a time.
const CHUNK: usize = 2_000;

/// Bytes of a workbook sent at a time.
const XLSX_PIECE: usize = 64 * 1024;

/// Rows of a worksheet, its header included (Excel's limit): more go on to a new sheet.
const XLSX_ROWS: u32 = 1_048_576;

/// A body's pieces as they are sent.
type Piece = Result<Bytes, std::io::Error>;

/// The file format asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    /// UTF-8 with a BOM.
    Csv,
    /// An Excel workbook.
    Xlsx,
    /// A GeoJSON feature collection of points.
    GeoJson,
}

impl Format {
    /// `format=` (default CSV).
    pub(super) fn of(params: &Params) -> Result<Self, ApiError> {
        match params.get::<String>("format")?.as_deref() {
            None | Some("csv") => Ok(Format::Csv),
            Some("xlsx") => Ok(Format::Xlsx),
            Some("geojson") => Ok(Format::GeoJson),
            Some(_) => Err(ApiError::bad("format", "csv, xlsx or geojson")),
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::GeoJson => "application/geo+json",
        }
    }

    fn ext(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::GeoJson => "geojson",
        }
    }
}

/// `lang=` (default Chinese).
pub(super) fn lang_of(params: &Params) -> Result<Lang, ApiError> {
    match params.get::<String>("lang")?.as_deref() {
        None | Some("zh") => Ok(Lang::Zh),
        Some("en") => Ok(Lang::En),
        Some(_) => Err(ApiError::bad("lang", "zh or en")),
    }
}

/// One kind of export: how a chunk of its keys becomes rows, and a row cells or a
/// feature.
pub(super) trait Export: Send + Sync + 'static {
    /// What the handler picks from the map (an id).
    type Key: Copy + Send + Sync + 'static;
    /// One line of the file.
    type Row: Send + 'static;
    /// The header in `lang`.
    fn header(&self, lang: Lang) -> Vec<&'static str>;
    /// The rows of a chunk of keys (a key may give none, or several).
    fn rows(
        &self,
        app: &AppState,
        keys: &[Self::Key],
    ) -> impl Future<Output = Result<Vec<Self::Row>, ApiError>> + Send;
    /// A row's cells, in the header's order.
    fn cells(&self, row: &Self::Row, lang: Lang) -> Vec<Cell>;
    /// A row as a GeoJSON feature, one line.
    fn feature(&self, row: &Self::Row) -> String;
}

/// The name and external id of each of `units` that exists, from the store.
pub(super) async fn names_of(
    app: &AppState,
    units: &[UnitId],
) -> Result<HashMap<UnitId, (String, Option<String>)>, ApiError> {
    let texts = app.store.unit_texts(units).await?;
    let mut external = app.store.external_ids_of(units).await?;
    Ok(texts
        .into_iter()
        .map(|(id, t)| (id, (t.name, external.remove(&id))))
        .collect())
}

/// Why sending a file stopped early.
enum Stop {
    /// The client went away: nothing to report.
    Gone,
    /// Reading or writing failed (logged; the body ends with an error).
    Failed(String),
}

impl From<ApiError> for Stop {
    fn from(e: ApiError) -> Self {
        Stop::Failed(format!("{e:?}"))
    }
}

/// The answer: the file `{name}.{ext}` of `keys`' rows, as an attachment, its body made
/// as it is sent.
pub(super) fn file<E: Export>(
    app: AppState,
    export: E,
    keys: Vec<E::Key>,
    format: Format,
    lang: Lang,
    name: &str,
) -> Response {
    let (tx, rx) = mpsc::channel::<Piece>(4);
    tokio::spawn(async move {
        let sent = match format {
            Format::Xlsx => xlsx(&app, &export, &keys, lang, tx.clone()).await,
            _ => text(&app, &export, &keys, lang, format, &tx).await,
        };
        if let Err(Stop::Failed(e)) = sent {
            tracing::error!(error = %e, "an export failed");
            let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
        }
    });
    let mut resp = Body::from_stream(ReceiverStream::new(rx)).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    let disposition = format!("attachment; filename=\"{name}.{}\"", format.ext());
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// Sends the rows as CSV or GeoJSON, a chunk at a time.
async fn text<E: Export>(
    app: &AppState,
    export: &E,
    keys: &[E::Key],
    lang: Lang,
    format: Format,
    tx: &mpsc::Sender<Piece>,
) -> Result<(), Stop> {
    let geojson = format == Format::GeoJson;
    let head = if geojson {
        b"{\"type\":\"FeatureCollection\",\"features\":[\n".to_vec()
    } else {
        let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
        w.write_record(export.header(lang))
            .map_err(|e| Stop::Failed(e.to_string()))?;
        w.into_inner().map_err(|e| Stop::Failed(e.to_string()))?
    };
    tx.send(Ok(Bytes::from(head)))
        .await
        .map_err(|_| Stop::Gone)?;
    let mut first = true;
    for part in keys.chunks(CHUNK) {
        let rows = export.rows(app, part).await?;
        let mut out = Vec::with_capacity(rows.len() * 200);
        if geojson {
            for r in &rows {
                if !first {
                    out.extend_from_slice(b",\n");
                }
                first = false;
                out.extend_from_slice(export.feature(r).as_bytes());
            }
        } else {
            let mut w = csv::Writer::from_writer(out);
            for r in &rows {
                let cells = export.cells(r, lang);
                w.write_record(cells.iter().map(|c| c.as_text().into_owned()))
                    .map_err(|e| Stop::Failed(e.to_string()))?;
            }
            out = w.into_inner().map_err(|e| Stop::Failed(e.to_string()))?;
        }
        tx.send(Ok(Bytes::from(out)))
            .await
            .map_err(|_| Stop::Gone)?;
    }
    if geojson {
        tx.send(Ok(Bytes::from_static(b"\n]}\n")))
            .await
            .map_err(|_| Stop::Gone)?;
    }
    Ok(())
}

/// What the reader of the rows hands the workbook's writer.
enum ToBook {
    /// The next rows' cells.
    Rows(Vec<Vec<Cell>>),
    /// Every row has come: write the workbook.
    End,
}

/// Sends the rows as an XLSX workbook: the rows are read here and written by a
/// blocking task ([`write_book`]), which then writes the workbook into the body.
async fn xlsx<E: Export>(
    app: &AppState,
    export: &E,
    keys: &[E::Key],
    lang: Lang,
    tx: mpsc::Sender<Piece>,
) -> Result<(), Stop> {
    let (rows_tx, rows_rx) = mpsc::channel::<ToBook>(2);
    let header = export.header(lang);
    let client = tx.clone();
    let writer = tokio::task::spawn_blocking(move || write_book(&header, rows_rx, tx));
    let read = async {
        for part in keys.chunks(CHUNK) {
            let rows = export.rows(app, part).await?;
            let cells = rows.iter().map(|r| export.cells(r, lang)).collect();
            if rows_tx.send(ToBook::Rows(cells)).await.is_err() {
                return Ok(()); // the writer stopped: its result says why
            }
        }
        let _ = rows_tx.send(ToBook::End).await;
        Ok::<_, Stop>(())
    };
    // A failed read drops `rows_tx` before `End`: the writer then writes nothing more.
    read.await?;
    match writer.await {
        Ok(Ok(())) => Ok(()),
        _ if client.is_closed() => Err(Stop::Gone),
        Ok(Err(e)) => Err(Stop::Failed(e.to_string())),
        Err(e) => Err(Stop::Failed(e.to_string())),
    }
}

/// Writes the rows that come on `rows` to a constant-memory worksheet (a new sheet,
/// with the header again, after Excel's last row), then, once they have all come, the
/// workbook into `out`.
fn write_book(
    header: &[&str],
    mut rows: mpsc::Receiver<ToBook>,
    out: mpsc::Sender<Piece>,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let add_sheet = |book: &mut rust_xlsxwriter::Workbook| {
        let sheet = book.add_worksheet_with_constant_memory()?;
        for (c, h) in header.iter().enumerate() {
            sheet.write_string(0, c as u16, *h)?;
        }
        Ok::<_, rust_xlsxwriter::XlsxError>(())
    };
    add_sheet(&mut book)?;
    let (mut sheet_no, mut line) = (0, 1u32);
    loop {
        let chunk = match rows.blocking_recv() {
            Some(ToBook::Rows(chunk)) => chunk,
            Some(ToBook::End) => break,
            None => {
                return Err(rust_xlsxwriter::XlsxError::IoError(std::io::Error::other(
                    "the rows stopped before their end",
                )));
            }
        };
        for row in chunk {
            if line == XLSX_ROWS {
                add_sheet(&mut book)?;
                (sheet_no, line) = (sheet_no + 1, 1);
            }
            let sheet = book.worksheet_from_index(sheet_no)?;
            for (c, v) in row.iter().enumerate() {
                match v {
                    Cell::Text(s) if s.is_empty() => {}
                    Cell::Text(s) => {
                        sheet.write_string(line, c as u16, s)?;
                    }
                    Cell::Int(n) => {
                        sheet.write_number(line, c as u16, *n as f64)?;
                    }
                }
            }
            line += 1;
        }
    }
    let mut body = BodyWriter {
        tx: out,
        buf: Vec::with_capacity(XLSX_PIECE),
    };
    book.save_to_writer(&mut body)?;
    body.flush()?;
    Ok(())
}

/// The response body as a blocking writer: bytes gathered into pieces and sent.
struct BodyWriter {
    tx: mpsc::Sender<Piece>,
    buf: Vec<u8>,
}

impl Write for BodyWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= XLSX_PIECE {
            self.flush()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let piece = std::mem::replace(&mut self.buf, Vec::with_capacity(XLSX_PIECE));
        self.tx
            .blocking_send(Ok(Bytes::from(piece)))
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))
    }
}
