//! `/api/units`: register and edit a unit, read its card and its history.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::answer::{happened, path_id, written};
use super::body::WriteBody;
use super::error::ApiError;
use super::params::Params;
use crate::app::AppState;
use crate::auth::access::Access;
use crate::domain::Event;
use crate::domain::{
    Batch, Change, Location, NewUnit, RiskLevel, Text, UnitEdit, UnitId, UnitKind,
};
use crate::state::aggregate::contribution;
use crate::store::EventQuery;
use crate::writes::records::Card;

/// `POST /api/units`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = NewUnit)]
#[serde(deny_unknown_fields)]
pub struct NewUnitBody {
    kind: UnitKind,
    name: Text<200, 1>,
    #[serde(default)]
    address: Text<500>,
    #[serde(default)]
    owner_name: Text<100>,
    #[serde(default)]
    owner_phone: Text<40>,
    location: Location,
    risk: RiskLevel,
    batch: Option<Batch>,
    #[schema(value_type = Option<i64>, minimum = 1)]
    host: Option<UnitId>,
    registered_at: Option<DateTime<Utc>>,
}

/// Registers a unit; its micro-grid is where its location lies.
#[utoipa::path(post, path = "/api/units", tag = "units", description = crate::http::openapi::WRITE,
    request_body = NewUnitBody,
    params(crate::http::openapi::IdempotencyKey),
    responses(
        (status = 201, description = "Registered", body = crate::writes::WriteAnswer),
        crate::http::openapi::BadRequest,
        crate::http::openapi::TooLarge,
        crate::http::openapi::Unprocessable,
    ),
    extensions(("x-onemap-action" = json!("manage_units"))))]
pub async fn register(
    State(app): State<AppState>,
    who: Access,
    req: WriteBody<NewUnitBody>,
) -> Result<Response, ApiError> {
    let b = req.body;
    let unit = NewUnit {
        kind: b.kind,
        name: b.name,
        address: b.address,
        owner_name: b.owner_name,
        owner_phone: b.owner_phone,
        micro_grid: app.locate(b.location)?,
        location: b.location,
        risk: b.risk,
        batch: b.batch,
        host: b.host,
        registered_at: happened("registered_at", b.registered_at, Utc::now())?,
    };
    let w = app
        .write_as(&who, Change::Register(unit), req.idempotency)
        .await?;
    Ok(written(w))
}

/// `PATCH /api/units/{id}`: any of the standing facts; a move re-derives the micro-grid.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = UnitPatch)]
#[serde(deny_unknown_fields)]
pub struct UnitPatchBody {
    kind: Option<UnitKind>,
    name: Option<Text<200, 1>>,
    address: Option<Text<500>>,
    owner_name: Option<Text<100>>,
    owner_phone: Option<Text<40>>,
    location: Option<Location>,
    risk: Option<RiskLevel>,
    batch: Option<Batch>,
}

/// Edits a unit.
#[utoipa::path(patch, path = "/api/units/{id}", tag = "units", description = crate::http::openapi::WRITE,
    request_body = UnitPatchBody,
    params(("id" = i64, Path, minimum = 1), crate::http::openapi::IdempotencyKey),
    responses(
        (status = 200, description = "Edited", body = crate::writes::WriteAnswer),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
    ),
    extensions(("x-onemap-action" = json!("manage_units"))))]
pub async fn edit(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    req: WriteBody<UnitPatchBody>,
) -> Result<Response, ApiError> {
    let id: UnitId = path_id("unit", &id)?;
    let p = req.body;
    let Some(record) = app.store.unit_record(id).await? else {
        return Err(ApiError::NotFound {
            what: "unit",
            id: id.to_string(),
        });
    };
    let mut edit =
        UnitEdit::of(&record.unit, Utc::now()).map_err(|e| ApiError::bad(e.field, e.message))?;
    let u = &mut edit.unit;
    if let Some(k) = p.kind {
        u.kind = k;
    }
    if let Some(n) = p.name {
        u.name = n;
    }
    if let Some(a) = p.address {
        u.address = a;
    }
    if let Some(o) = p.owner_name {
        u.owner_name = o;
    }
    if let Some(o) = p.owner_phone {
        u.owner_phone = o;
    }
    if let Some(l) = p.location {
        u.location = l;
    }
    if let Some(r) = p.risk {
        u.risk = r;
    }
    if p.batch.is_some() {
        u.batch = p.batch;
    }
    // Wherever it is now, it belongs to the micro-grid its location lies in.
    u.micro_grid = app.locate(u.location)?;
    let change = Change::Edit(edit);
    Ok(written(app.write_as(&who, change, req.idempotency).await?))
}

/// `GET /api/units/{id}?at=`: the unit's card as of `at` (default now).
#[utoipa::path(get, path = "/api/units/{id}", tag = "units",
    params(("id" = i64, Path, minimum = 1), ("at" = Option<String>, Query)),
    responses(
        (status = 200, description = "The unit's card", body = Card),
        crate::http::openapi::NotFound,
    ))]
pub async fn card(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    params: Params,
) -> Result<Json<Card>, ApiError> {
    params.only(&["at"])?;
    let id: UnitId = path_id("unit", &id)?;
    let at = params.moment("at", app.zone)?;
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
    Ok(Json(Card::of(&record, colour, at.unwrap_or_else(Utc::now))))
}

/// A unit's history.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct History {
    /// The unit.
    #[schema(value_type = i64)]
    unit: UnitId,
    /// Its events, oldest first.
    events: Vec<Event>,
}

/// `GET /api/units/{id}/history?after=SEQ&limit=N`: the unit's events, oldest first.
#[utoipa::path(get, path = "/api/units/{id}/history", tag = "units",
    params(("id" = i64, Path, minimum = 1), ("after" = Option<i64>, Query), ("limit" = Option<u32>, Query)),
    responses(
        (status = 200, description = "The unit's events, oldest first", body = History),
        crate::http::openapi::NotFound,
    ))]
pub async fn history(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    params: Params,
) -> Result<Json<History>, ApiError> {
    params.only(&["after", "limit"])?;
    let id: UnitId = path_id("unit", &id)?;
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
    Ok(Json(History { unit: id, events }))
}
