//! `/api/units`: register, edit and read a unit (its card and its history), and the
//! field work recorded on it — inspections, re-inspections, suspension, attachments.

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use geo::Point;
use serde::Deserialize;
use serde_json::{Value, json};

use super::body::{self, WriteBody};
use super::error::ApiError;
use super::params::Params;
use crate::app::AppState;
use crate::app::records;
use crate::app::write::{Op, Written};
use crate::auth::access::Access;
use crate::domain::{
    Batch, Category, Hazard, HazardId, Inspection, InspectionId, InspectionKind, RiskLevel,
    Severity, Stage, Unit, UnitId, UnitKind,
};
use crate::state::aggregate::contribution;
use crate::store::{Attachment, EventQuery, Store};

/// How far ahead of the server's clock a phone's clock may run.
const SKEW: i64 = 5;

/// The earliest moment a record may carry (the stores count time from 2000).
fn epoch() -> DateTime<Utc> {
    DateTime::from_timestamp(946_684_800, 0).unwrap_or_default()
}

/// A moment a client says something happened: not in the future (beyond clock skew)
/// and not before 2000. Default: now.
pub(super) fn happened(
    field: &str,
    at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, ApiError> {
    let at = at.unwrap_or(now);
    if at > now + Duration::minutes(SKEW) {
        return Err(ApiError::bad(field, "the moment is in the future"));
    }
    if at < epoch() {
        return Err(ApiError::bad(field, "the moment is before 2000"));
    }
    Ok(at)
}

/// A deadline: after now and within the stores' range (before 2100).
pub(super) fn deadline(field: &str, t: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), ApiError> {
    if t <= now {
        return Err(ApiError::bad(field, "the deadline is in the past"));
    }
    if t >= DateTime::from_timestamp(4_102_444_800, 0).unwrap_or_default() {
        return Err(ApiError::bad(field, "the deadline is after 2100"));
    }
    Ok(())
}

/// Text fields: trimmed, bounded, without control characters.
pub(super) fn text(
    field: &str,
    value: &str,
    max: usize,
    required: bool,
) -> Result<String, ApiError> {
    let v = value.trim();
    if required && v.is_empty() {
        return Err(ApiError::bad(field, "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(ApiError::bad(field, format!("at most {max} characters")));
    }
    if v.chars().any(char::is_control) {
        return Err(ApiError::bad(field, "must not contain control characters"));
    }
    Ok(v.to_owned())
}

/// A write's answer: its status, its JSON, and whether it is a replay.
pub(super) fn written(w: Written) -> Response {
    let status = StatusCode::from_u16(w.status).unwrap_or(StatusCode::OK);
    let mut resp = (status, Json(w.body)).into_response();
    if w.replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

fn unit_id(raw: &str) -> Result<UnitId, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound {
        what: "unit",
        id: raw.to_owned(),
    })
}

/// `POST /api/units`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnit {
    kind: UnitKind,
    name: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    owner_name: String,
    #[serde(default)]
    owner_phone: String,
    #[schema(value_type = Vec<f64>, min_items = 2, max_items = 2)]
    location: [f64; 2],
    risk: RiskLevel,
    batch: Option<Batch>,
    #[schema(value_type = Option<i64>, minimum = 1)]
    host: Option<UnitId>,
    registered_at: Option<DateTime<Utc>>,
}

/// Registers a unit; its micro-grid is where its location lies.
pub async fn register(
    State(app): State<AppState>,
    who: Access,
    req: WriteBody<NewUnit>,
) -> Result<Response, ApiError> {
    let b = req.body;
    let now = Utc::now();
    let unit = Unit {
        id: UnitId::new(1).map_err(|e| ApiError::Internal(e.to_string()))?,
        kind: b.kind,
        name: text("name", &b.name, 200, true)?,
        address: text("address", &b.address, 500, false)?,
        owner_name: text("owner_name", &b.owner_name, 100, false)?,
        owner_phone: text("owner_phone", &b.owner_phone, 40, false)?,
        location: Point::new(b.location[0], b.location[1]),
        micro_grid: "0"
            .parse()
            .map_err(|_| ApiError::Internal("region id".into()))?,
        risk: b.risk,
        batch: b.batch,
        host: b.host,
        registered_at: happened("registered_at", b.registered_at, now)?,
    };
    Ok(written(
        app.write_as(&who, Op::Register(unit), req.idempotency)
            .await?,
    ))
}

/// `PATCH /api/units/{id}`: any of the standing facts; a move re-derives the micro-grid.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitPatch {
    kind: Option<UnitKind>,
    name: Option<String>,
    address: Option<String>,
    owner_name: Option<String>,
    owner_phone: Option<String>,
    #[schema(value_type = Option<Vec<f64>>, min_items = 2, max_items = 2)]
    location: Option<[f64; 2]>,
    risk: Option<RiskLevel>,
    batch: Option<Batch>,
}

/// Edits a unit.
pub async fn edit(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    req: WriteBody<UnitPatch>,
) -> Result<Response, ApiError> {
    let id = unit_id(&id)?;
    let p = req.body;
    let Some(record) = app.store.unit_record(id).await? else {
        return Err(ApiError::NotFound {
            what: "unit",
            id: id.to_string(),
        });
    };
    let mut u = record.unit;
    if let Some(k) = p.kind {
        u.kind = k;
    }
    if let Some(n) = &p.name {
        u.name = text("name", n, 200, true)?;
    }
    if let Some(a) = &p.address {
        u.address = text("address", a, 500, false)?;
    }
    if let Some(o) = &p.owner_name {
        u.owner_name = text("owner_name", o, 100, false)?;
    }
    if let Some(o) = &p.owner_phone {
        u.owner_phone = text("owner_phone", o, 40, false)?;
    }
    if let Some([x, y]) = p.location {
        u.location = Point::new(x, y);
    }
    if let Some(r) = p.risk {
        u.risk = r;
    }
    if p.batch.is_some() {
        u.batch = p.batch;
    }
    Ok(written(
        app.write_as(&who, Op::Edit(u), req.idempotency).await?,
    ))
}

/// `GET /api/units/{id}?at=`: the unit's card as of `at` (default now).
pub async fn card(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    params.only(&["at"])?;
    let id = unit_id(&id)?;
    let at = params.moment("at")?;
    let colour = {
        let (map, now) = app.read_now()?;
        let e = who.unit(&map, id)?;
        match at {
            Some(t) if t != now => contribution(e, t).map(|(c, _)| c),
            _ => map.unit_idx(id).and_then(|idx| map.live().colour(idx)),
        }
    };
    let record = app
        .store
        .unit_record(id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            what: "unit",
            id: id.to_string(),
        })?;
    Ok(Json(records::card(
        &record,
        colour,
        at.unwrap_or_else(Utc::now),
    )))
}

/// `GET /api/units/{id}/history?after=SEQ&limit=N`: the unit's events, oldest first.
pub async fn history(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    params.only(&["after", "limit"])?;
    let id = unit_id(&id)?;
    {
        let (map, _) = app.read_now()?;
        who.unit(&map, id)?;
    }
    let after = params.get::<i64>("after")?;
    let limit = params.get::<u32>("limit")?.unwrap_or(1000).clamp(1, 10_000);
    let events = app
        .store
        .events(EventQuery {
            unit: Some(id),
            after,
            newest_first: false,
            limit,
        })
        .await?;
    Ok(Json(json!({"unit": id, "events": events})))
}

/// A hazard found on a visit.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FoundHazard {
    category: Category,
    hazard_type: String,
    severity: Severity,
    stage: Stage,
    deadline: Option<DateTime<Utc>>,
}

/// `POST /api/units/{id}/inspections` and `/reinspections`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Visit {
    inspector: String,
    at: Option<DateTime<Utc>>,
    /// `"pass"`, or absent when hazards are listed.
    result: Option<String>,
    #[serde(default)]
    hazards: Vec<FoundHazard>,
    #[serde(default)]
    photos: Vec<String>,
    signature: Option<String>,
}

async fn visit(
    app: AppState,
    who: Access,
    id: &str,
    kind: InspectionKind,
    req: WriteBody<Visit>,
) -> Result<Response, ApiError> {
    let id = unit_id(id)?;
    let v = req.body;
    let now = Utc::now();
    match (v.result.as_deref(), v.hazards.is_empty()) {
        (Some("pass"), true) | (None, false) => {}
        (Some("pass"), false) => {
            return Err(ApiError::bad("result", "a pass lists no hazards"));
        }
        (Some(_), _) => return Err(ApiError::bad("result", "the only result is `pass`")),
        (None, true) => {
            return Err(ApiError::bad(
                "hazards",
                "give `\"result\": \"pass\"` or at least one hazard",
            ));
        }
    }
    if v.hazards.len() > 100 {
        return Err(ApiError::bad("hazards", "at most 100 hazards per visit"));
    }
    if v.photos.len() > 50 {
        return Err(ApiError::bad("photos", "at most 50 photos per visit"));
    }
    let at = happened("at", v.at, now)?;
    let photos = v
        .photos
        .iter()
        .enumerate()
        .map(|(k, p)| text(&format!("photos[{k}]"), p, 300, true))
        .collect::<Result<Vec<_>, _>>()?;
    let signature = v
        .signature
        .as_deref()
        .map(|s| text("signature", s, 300, true))
        .transpose()?;
    let placeholder = InspectionId::new(1).map_err(|e| ApiError::Internal(e.to_string()))?;
    let inspection = Inspection {
        id: placeholder,
        unit: id,
        kind,
        inspector: text("inspector", &v.inspector, 100, true)?,
        at,
        signature,
        photos,
    };
    let mut hazards = Vec::with_capacity(v.hazards.len());
    for (k, h) in v.hazards.iter().enumerate() {
        if let Some(d) = h.deadline {
            deadline(&format!("hazards[{k}].deadline"), d, now)?;
        }
        hazards.push(Hazard {
            id: HazardId::new(1).map_err(|e| ApiError::Internal(e.to_string()))?,
            unit: id,
            inspection: placeholder,
            category: h.category,
            hazard_type: text(
                &format!("hazards[{k}].hazard_type"),
                &h.hazard_type,
                100,
                true,
            )?,
            severity: h.severity,
            stage: h.stage,
            found_at: at,
            deadline: h.deadline,
            yellow_card_at: None,
            closed_at: None,
            evidence: None,
        });
    }
    let op = Op::Inspect {
        inspection,
        hazards,
    };
    Ok(written(app.write_as(&who, op, req.idempotency).await?))
}

/// Records an inspection (排查).
pub async fn inspect(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    req: WriteBody<Visit>,
) -> Result<Response, ApiError> {
    visit(app, who, &id, InspectionKind::Inspection, req).await
}

/// Records a re-inspection (复查).
pub async fn reinspect(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    req: WriteBody<Visit>,
) -> Result<Response, ApiError> {
    visit(app, who, &id, InspectionKind::Reinspection, req).await
}

/// `POST /api/units/{id}/suspend` and `/resume`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dated {
    at: Option<DateTime<Utc>>,
}

async fn suspension(
    app: AppState,
    who: Access,
    id: &str,
    req: WriteBody<Dated>,
    suspend: bool,
) -> Result<Response, ApiError> {
    let unit = unit_id(id)?;
    let at = happened("at", req.body.at, Utc::now())?;
    let op = if suspend {
        Op::Suspend { unit, at }
    } else {
        Op::Resume { unit, at }
    };
    Ok(written(app.write_as(&who, op, req.idempotency).await?))
}

/// Orders a unit to suspend business (停业整改).
pub async fn suspend(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    req: WriteBody<Dated>,
) -> Result<Response, ApiError> {
    suspension(app, who, &id, req, true).await
}

/// Lifts a unit's suspension.
pub async fn resume(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    req: WriteBody<Dated>,
) -> Result<Response, ApiError> {
    suspension(app, who, &id, req, false).await
}

/// The largest attachment (a video); photos and plans have lower limits.
pub const ATTACHMENT_LIMIT: usize = 50 * 1024 * 1024;

/// What each kind of attachment may be, and how large.
fn accepts(kind: &str, mime: &str) -> Option<usize> {
    const MIB: usize = 1024 * 1024;
    let image = [
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/heif",
        "image/avif",
    ]
    .contains(&mime);
    match kind {
        "photo" if image => Some(10 * MIB),
        "floor_plan" if image || mime == "application/pdf" => Some(20 * MIB),
        "video" if ["video/mp4", "video/quicktime", "video/webm"].contains(&mime) => {
            Some(ATTACHMENT_LIMIT)
        }
        _ => None,
    }
}

/// `POST /api/units/{id}/attachments?kind=photo|video|floor_plan`: the raw file as
/// the body. Its type is read from its content (not from what the client claims); it is
/// stored once, named by its SHA-256.
pub async fn attach(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    params: Params,
    req: Request,
) -> Result<Response, ApiError> {
    params.only(&["kind"])?;
    let unit = unit_id(&id)?;
    let kind = match params.get::<String>("kind")?.as_deref() {
        Some("photo") => "photo",
        Some("video") => "video",
        Some("floor_plan") => "floor_plan",
        _ => return Err(ApiError::bad("kind", "one of photo, video, floor_plan")),
    };
    let key = body::idempotency_key(req.headers())?;
    let path = req.uri().path().to_owned();
    let data = body::read_limited(req, ATTACHMENT_LIMIT).await?;
    if data.is_empty() {
        return Err(ApiError::bad("body", "the file is empty"));
    }
    let mime = infer::get(&data)
        .map(|t| t.mime_type())
        .unwrap_or("application/octet-stream");
    let limit = accepts(kind, mime).ok_or_else(|| ApiError::UnsupportedType {
        field: "body".into(),
        message: format!("a {kind} cannot be {mime}"),
    })?;
    if data.len() > limit {
        return Err(ApiError::TooLarge {
            field: "body".into(),
            limit,
        });
    }
    let hash = body::hex(&<sha2::Sha256 as sha2::Digest>::digest(&data));
    let idempotency = key.map(|key| crate::app::Idempotency {
        fingerprint: body::fingerprint(&[
            b"POST",
            path.as_bytes(),
            kind.as_bytes(),
            hash.as_bytes(),
        ]),
        key,
    });
    let attachment = Attachment {
        unit,
        kind,
        hash,
        content_type: mime,
        data,
        actor: who.user.name.clone(),
        at: Utc::now(),
    };
    Ok(written(
        app.write_as(&who, Op::Attach(attachment), idempotency)
            .await?,
    ))
}

/// `GET /api/attachments/{hash}`: the file, immutable (its name is its content).
pub async fn attachment(
    State(app): State<AppState>,
    Path(hash): Path<String>,
    who: Access,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound {
        what: "attachment",
        id: hash.clone(),
    };
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_found());
    }
    // A file is the reader's to see when it is attached to a unit in their scope.
    let units = app.store.attachment_units(&hash).await?;
    {
        let (map, _) = app.read_now()?;
        if !units.iter().any(|&u| who.unit(&map, u).is_ok()) {
            return Err(not_found());
        }
    }
    let etag = format!("\"{hash}\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let (mime, data) = app.store.blob(&hash).await?.ok_or_else(not_found)?;
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::ETAG, etag),
            (
                header::CACHE_CONTROL,
                "private, max-age=31536000, immutable".into(),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
        ],
        data,
    )
        .into_response())
}
