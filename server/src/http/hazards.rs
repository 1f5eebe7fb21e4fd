//! `/api/hazards/{id}`: a yellow card (黄牌) with a new deadline, and closure (销号)
//! with evidence.

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::answer::{deadline, happened, path_id, written};
use super::body::WriteBody;
use super::error::ApiError;
use crate::app::AppState;
use crate::auth::access::Access;
use crate::domain::{Change, Closure, FixReportId, HazardId, Text, YellowCard};

/// `POST /api/hazards/{id}/yellow-card`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = YellowCard)]
#[serde(deny_unknown_fields)]
pub struct YellowCardBody {
    deadline: DateTime<Utc>,
    at: Option<DateTime<Utc>>,
}

/// Issues a yellow card: the hazard must be rectified by the new deadline, or the unit
/// turns orange when it passes.
#[utoipa::path(post, path = "/api/hazards/{id}/yellow-card", tag = "field work", description = crate::http::openapi::WRITE,
    request_body = YellowCardBody,
    params(("id" = i64, Path, minimum = 1), crate::http::openapi::IdempotencyKey),
    responses(
        (status = 200, description = "Issued", body = crate::writes::WriteAnswer),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
        crate::http::openapi::Conflict,
    ),
    extensions(("x-onemap-action" = json!("rectify"))))]
pub async fn yellow_card(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    req: WriteBody<YellowCardBody>,
) -> Result<Response, ApiError> {
    let hazard: HazardId = path_id("hazard", &id)?;
    let now = Utc::now();
    let change = Change::YellowCard(YellowCard {
        hazard,
        at: happened("at", req.body.at, now)?,
        deadline: deadline("deadline", req.body.deadline, now)?,
    });
    Ok(written(app.write_as(&who, change, req.idempotency).await?))
}

/// `POST /api/hazards/{id}/close`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = Closure)]
#[serde(deny_unknown_fields)]
pub struct ClosureBody {
    evidence: Text<2000, 1>,
    at: Option<DateTime<Utc>>,
    /// The owner's fix report the closure rests on (accepts it).
    #[schema(value_type = Option<i64>, minimum = 1)]
    report: Option<FixReportId>,
}

/// Closes a hazard (销号) with evidence of rectification.
#[utoipa::path(post, path = "/api/hazards/{id}/close", tag = "field work", description = crate::http::openapi::WRITE,
    request_body = ClosureBody,
    params(("id" = i64, Path, minimum = 1), crate::http::openapi::IdempotencyKey),
    responses(
        (status = 200, description = "Closed (销号)", body = crate::writes::WriteAnswer),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
        crate::http::openapi::Conflict,
    ),
    extensions(("x-onemap-action" = json!("rectify"))))]
pub async fn close(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    req: WriteBody<ClosureBody>,
) -> Result<Response, ApiError> {
    let hazard: HazardId = path_id("hazard", &id)?;
    let change = Change::Close(Closure {
        hazard,
        at: happened("at", req.body.at, Utc::now())?,
        evidence: req.body.evidence,
        report: req.body.report,
        by: who.user.name.clone(),
    });
    Ok(written(app.write_as(&who, change, req.idempotency).await?))
}
