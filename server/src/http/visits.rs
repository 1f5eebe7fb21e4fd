//! The field work recorded on a unit: inspections (排查) and re-inspections (复查) with
//! the hazards they find, and orders to suspend business (停业整改) and their lifting.

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::answer::{deadline, happened, path_id, written};
use super::body::WriteBody;
use super::error::ApiError;
use crate::app::AppState;
use crate::auth::access::Access;
use crate::domain::{
    Category, Change, InspectionKind, NewHazard, NewVisit, Severity, Stage, Text, UnitId,
};

/// A hazard found on a visit.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = FoundHazard)]
#[serde(deny_unknown_fields)]
pub struct FoundHazardBody {
    category: Category,
    hazard_type: Text<100, 1>,
    severity: Severity,
    stage: Stage,
    deadline: Option<DateTime<Utc>>,
}

/// `POST /api/units/{id}/inspections` and `/reinspections`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = Visit)]
#[serde(deny_unknown_fields)]
pub struct VisitBody {
    inspector: Text<100, 1>,
    at: Option<DateTime<Utc>>,
    /// `"pass"`, or absent when hazards are listed.
    result: Option<String>,
    #[serde(default)]
    hazards: Vec<FoundHazardBody>,
    #[serde(default)]
    photos: Vec<Text<300, 1>>,
    signature: Option<Text<300, 1>>,
    /// A comprehensive one-time inspection (综合查一次): its hazards carry the tag.
    #[serde(default)]
    comprehensive: bool,
    /// The inspector's note (up to 2,000 characters).
    #[serde(default)]
    note: Text<2000>,
}

async fn visit(
    app: AppState,
    who: Access,
    id: &str,
    kind: InspectionKind,
    req: WriteBody<VisitBody>,
) -> Result<Response, ApiError> {
    let unit: UnitId = path_id("unit", id)?;
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
    let hazards = v
        .hazards
        .into_iter()
        .enumerate()
        .map(|(k, h)| {
            Ok(NewHazard {
                category: h.category,
                hazard_type: h.hazard_type,
                severity: h.severity,
                stage: h.stage,
                deadline: h
                    .deadline
                    .map(|d| deadline(&format!("hazards[{k}].deadline"), d, now))
                    .transpose()?,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let change = Change::Inspect(NewVisit {
        unit,
        kind,
        inspector: v.inspector,
        at,
        signature: v.signature,
        photos: v.photos,
        hazards,
        comprehensive: v.comprehensive,
        note: v.note,
    });
    Ok(written(app.write_as(&who, change, req.idempotency).await?))
}

/// Records an inspection (排查).
#[utoipa::path(post, path = "/api/units/{id}/inspections", tag = "field work", description = crate::http::openapi::WRITE,
    request_body = VisitBody,
    params(("id" = i64, Path, minimum = 1), crate::http::openapi::IdempotencyKey),
    responses(
        (status = 201, description = "Recorded; hazards created", body = crate::writes::WriteAnswer),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
        crate::http::openapi::Unprocessable,
    ),
    extensions(("x-onemap-action" = json!("inspect"))))]
pub async fn inspect(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    req: WriteBody<VisitBody>,
) -> Result<Response, ApiError> {
    visit(app, who, &id, InspectionKind::Inspection, req).await
}

/// Records a re-inspection (复查).
#[utoipa::path(post, path = "/api/units/{id}/reinspections", tag = "field work", description = crate::http::openapi::WRITE,
    request_body = VisitBody,
    params(("id" = i64, Path, minimum = 1), crate::http::openapi::IdempotencyKey),
    responses(
        (status = 201, description = "Recorded", body = crate::writes::WriteAnswer),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
    ),
    extensions(("x-onemap-action" = json!("inspect"))))]
pub async fn reinspect(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    req: WriteBody<VisitBody>,
) -> Result<Response, ApiError> {
    visit(app, who, &id, InspectionKind::Reinspection, req).await
}

/// `POST /api/units/{id}/suspend` and `/resume`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = Dated)]
#[serde(deny_unknown_fields)]
pub struct DatedBody {
    at: Option<DateTime<Utc>>,
}

/// Orders a unit to suspend business (停业整改).
#[utoipa::path(post, path = "/api/units/{id}/suspend", tag = "field work", description = crate::http::openapi::WRITE,
    request_body = DatedBody,
    params(("id" = i64, Path, minimum = 1), crate::http::openapi::IdempotencyKey),
    responses(
        (status = 200, description = "Suspended (black)", body = crate::writes::WriteAnswer),
        crate::http::openapi::NotFound,
        crate::http::openapi::Conflict,
    ),
    extensions(("x-onemap-action" = json!("suspend"))))]
pub async fn suspend(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    req: WriteBody<DatedBody>,
) -> Result<Response, ApiError> {
    order(app, who, &id, req, true).await
}

/// Lifts a unit's suspension.
#[utoipa::path(post, path = "/api/units/{id}/resume", tag = "field work", description = crate::http::openapi::WRITE,
    request_body = DatedBody,
    params(("id" = i64, Path, minimum = 1), crate::http::openapi::IdempotencyKey),
    responses(
        (status = 200, description = "Resumed", body = crate::writes::WriteAnswer),
        crate::http::openapi::NotFound,
        crate::http::openapi::Conflict,
    ),
    extensions(("x-onemap-action" = json!("suspend"))))]
pub async fn resume(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    req: WriteBody<DatedBody>,
) -> Result<Response, ApiError> {
    order(app, who, &id, req, false).await
}

async fn order(
    app: AppState,
    who: Access,
    id: &str,
    req: WriteBody<DatedBody>,
    suspend: bool,
) -> Result<Response, ApiError> {
    let unit = path_id("unit", id)?;
    let at = happened("at", req.body.at, Utc::now())?;
    let change = if suspend {
        Change::Suspend { unit, at }
    } else {
        Change::Resume { unit, at }
    };
    Ok(written(app.write_as(&who, change, req.idempotency).await?))
}
