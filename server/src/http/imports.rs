//! `POST /api/imports/units`: a town's register as the body (CSV in UTF-8 or GB18030,
//! an XLSX workbook, GeoJSON points), imported all or nothing; `POST
//! /api/imports/regions`: a level of its places (GeoJSON polygons, a zipped Shapefile),
//! the same way. Every wrong line is answered at once (400, `error.lines`);
//! `dry_run=true` says what would happen.

use axum::Json;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};

use super::body::Upload;
use super::error::ApiError;
use super::params::Params;
use crate::app::AppState;
use crate::app::import::records::RecordReport;
use crate::app::import::regions::{RegionOptions, RegionReport, level_of};
use crate::app::import::{Format, ImportError, ImportReport, features, table};
use crate::auth::access::Access;
use crate::domain::{Change, Crs};

/// The largest file an import takes (a town's register is a few MiB).
pub const IMPORT_LIMIT: usize = 64 * 1024 * 1024;

/// Imports units.
#[utoipa::path(post, path = "/api/imports/units", tag = "imports", description = crate::http::openapi::WRITE,
    request_body(content = Vec<u8>, description = "The register: `text/csv` (UTF-8, with or without BOM, or GB18030), an XLSX workbook (first sheet) or `application/geo+json` points; columns by name in English or Chinese (see the README)", content_type = "text/csv"),
    params(
        ("crs" = Option<String>, Query, description = "wgs84 (default), gcj02 or bd09: the positions' coordinate system"),
        ("dry_run" = Option<bool>, Query, description = "Check and count, write nothing"),
        ("source" = Option<String>, Query, description = "The file's name, for the log"),
        crate::http::openapi::IdempotencyKey,
    ),
    responses(
        (status = 200, description = "Imported, or what would be on a dry run", body = ImportReport),
        crate::http::openapi::BadRequest,
        crate::http::openapi::TooLarge,
    ),
    extensions(("x-onemap-action" = json!("manage_units"))))]
pub async fn import_units(
    State(app): State<AppState>,
    who: Access,
    params: Params,
    req: Request,
) -> Result<Response, ApiError> {
    params.only(&["crs", "dry_run", "source"])?;
    let crs = params.get::<Crs>("crs")?.unwrap_or(Crs::Wgs84);
    let (dry_run, source) = how_run(&params)?;
    let Upload {
        data,
        content_type,
        idempotency,
    } = Upload::read(req, IMPORT_LIMIT).await?;
    let format = Format::of(content_type.as_deref(), &data);
    let table = table::read(&data, format).map_err(|e| ApiError::BadLines(vec![e]))?;
    let (import, ignored) = app
        .plan_import(&table, crs, &source)
        .await
        .map_err(ApiError::from)?;
    let mut report = ImportReport::of(&import, table.rows.len(), ignored);
    if !dry_run && !import.units.is_empty() {
        let w = app
            .write_as(&who, Change::Import(import), idempotency)
            .await?;
        report.seq = Some(w.answer.seq);
    }
    report.dry_run = dry_run;
    Ok(Json(report).into_response())
}

/// What every import takes besides its file: whether it is a dry run (`dry_run`,
/// default false) and the file's name for the log (`source`).
fn how_run(params: &Params) -> Result<(bool, String), ApiError> {
    Ok((
        params.get::<bool>("dry_run")?.unwrap_or(false),
        params.get::<String>("source")?.unwrap_or_default(),
    ))
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Lines(lines) => ApiError::BadLines(lines),
            ImportError::Write(w) => w.into(),
            ImportError::Failed(m) => ApiError::Internal(m),
        }
    }
}

/// Imports places (villages, grids, micro-grids with their boundaries).
#[utoipa::path(post, path = "/api/imports/regions", tag = "imports", description = crate::http::openapi::WRITE,
    request_body(content = Vec<u8>, description = "The places of one level: `application/geo+json` (a feature collection of polygons; UTF-8 or GB18030), or a Shapefile as `application/zip` of its .shp, .dbf (and .cpg)", content_type = "application/geo+json"),
    params(
        ("level" = String, Query, description = "town, area, group, village, grid or micro_grid"),
        ("crs" = Option<String>, Query, description = "wgs84 (default), gcj02 or bd09: the coordinates' system"),
        ("id_field" = Option<String>, Query, description = "The attribute holding each id (default: id, 编号, code, 代码)"),
        ("name_field" = Option<String>, Query, description = "The attribute holding each name (default: name, 名称)"),
        ("parent_field" = Option<String>, Query, description = "The attribute holding each parent's id (default: parent, parent_id, 上级; none: by containment)"),
        ("tolerance" = Option<f64>, Query, description = "The share of a place's area that may lie outside its parent or over a sibling (default 0.01)"),
        ("dry_run" = Option<bool>, Query, description = "Check and count, write nothing"),
        ("source" = Option<String>, Query, description = "The file's name, for the log"),
        crate::http::openapi::IdempotencyKey,
    ),
    responses(
        (status = 200, description = "Imported, or what would be on a dry run", body = RegionReport),
        crate::http::openapi::BadRequest,
        crate::http::openapi::TooLarge,
    ),
    extensions(("x-onemap-action" = json!("manage_places"))))]
pub async fn import_regions(
    State(app): State<AppState>,
    who: Access,
    params: Params,
    req: Request,
) -> Result<Response, ApiError> {
    params.only(&[
        "level",
        "crs",
        "id_field",
        "name_field",
        "parent_field",
        "tolerance",
        "dry_run",
        "source",
    ])?;
    let level = match params.get::<String>("level")? {
        None => return Err(ApiError::bad("level", "required: one of the levels")),
        Some(l) => level_of(&l).map_err(|m| ApiError::bad("level", m))?,
    };
    let mut options = RegionOptions::new(level);
    if let Some(crs) = params.get::<Crs>("crs")? {
        options.crs = crs;
    }
    options.id_field = params.get::<String>("id_field")?;
    options.name_field = params.get::<String>("name_field")?;
    options.parent_field = params.get::<String>("parent_field")?;
    if let Some(t) = params.get::<f64>("tolerance")? {
        if !(0.0..0.5).contains(&t) {
            return Err(ApiError::bad("tolerance", "a share of area from 0 to 0.5"));
        }
        options.tolerance = t;
    }
    let (dry_run, source) = how_run(&params)?;
    options.source = source;
    let Upload {
        data,
        content_type,
        idempotency,
    } = Upload::read(req, IMPORT_LIMIT).await?;
    let zipped = content_type
        .as_deref()
        .is_some_and(|t| t.starts_with("application/zip"));
    let features = if zipped || data.starts_with(b"PK\x03\x04") {
        features::zipped_shapefile(&data)
    } else {
        features::geojson(&data)
    }
    .map_err(|e| ApiError::BadLines(vec![e]))?;
    let count = features.len();
    let import = app
        .plan_regions(features, options)
        .await
        .map_err(ApiError::from)?;
    let mut report = RegionReport::of(&import, count);
    if !dry_run && !import.regions.is_empty() {
        let w = app
            .write_as(&who, Change::Regions(import), idempotency)
            .await?;
        report.seq = Some(w.answer.seq);
    }
    report.dry_run = dry_run;
    Ok(Json(report).into_response())
}

/// Imports the apps' records: past visits, the hazards found, yellow cards, closures.
#[utoipa::path(post, path = "/api/imports/records", tag = "imports", description = crate::http::openapi::WRITE,
    request_body(content = Vec<u8>, description = "A row per hazard found, or per visit that found none: `text/csv` (UTF-8 or GB18030) or an XLSX workbook (first sheet); columns by name in English or Chinese (see the README)", content_type = "text/csv"),
    params(
        ("dry_run" = Option<bool>, Query, description = "Check and count, write nothing"),
        ("source" = Option<String>, Query, description = "The file's name, for the log"),
        crate::http::openapi::IdempotencyKey,
    ),
    responses(
        (status = 200, description = "Imported, or what would be on a dry run", body = RecordReport),
        crate::http::openapi::BadRequest,
        crate::http::openapi::TooLarge,
    ),
    extensions(("x-onemap-action" = json!("manage_units"))))]
pub async fn import_records(
    State(app): State<AppState>,
    who: Access,
    params: Params,
    req: Request,
) -> Result<Response, ApiError> {
    params.only(&["dry_run", "source"])?;
    let (dry_run, source) = how_run(&params)?;
    let Upload {
        data,
        content_type,
        idempotency,
    } = Upload::read(req, IMPORT_LIMIT).await?;
    let format = match Format::of(content_type.as_deref(), &data) {
        Format::GeoJson => return Err(ApiError::bad("body", "records are CSV or XLSX")),
        f => f,
    };
    let table = table::read(&data, format).map_err(|e| ApiError::BadLines(vec![e]))?;
    let (import, ignored) = app
        .plan_records(&table, &source)
        .await
        .map_err(ApiError::from)?;
    let mut report = RecordReport::of(&import, table.rows.len(), ignored);
    if !dry_run && !import.visits.is_empty() {
        let w = app
            .write_as(&who, Change::Records(import), idempotency)
            .await?;
        report.seq = Some(w.answer.seq);
    }
    report.dry_run = dry_run;
    Ok(Json(report).into_response())
}
