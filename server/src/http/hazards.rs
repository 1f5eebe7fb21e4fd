//! `/api/hazards/{id}`: a yellow card (黄牌) with a new deadline, and closure (销号)
//! with evidence.

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::body::WriteBody;
use super::error::ApiError;
use super::units::{deadline, happened, text, written};
use crate::app::AppState;
use crate::app::write::Op;
use crate::auth::access::Access;
use crate::domain::HazardId;

fn hazard_id(raw: &str) -> Result<HazardId, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound {
        what: "hazard",
        id: raw.to_owned(),
    })
}

/// `POST /api/hazards/{id}/yellow-card`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct YellowCard {
    deadline: DateTime<Utc>,
    at: Option<DateTime<Utc>>,
}

/// Issues a yellow card: the hazard must be rectified by the new deadline, or the unit
/// turns orange when it passes.
pub async fn yellow_card(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    req: WriteBody<YellowCard>,
) -> Result<Response, ApiError> {
    let hazard = hazard_id(&id)?;
    let now = Utc::now();
    let at = happened("at", req.body.at, now)?;
    deadline("deadline", req.body.deadline, now)?;
    let op = Op::YellowCard {
        hazard,
        at,
        deadline: req.body.deadline,
    };
    Ok(written(app.write_as(&who, op, req.idempotency).await?))
}

/// `POST /api/hazards/{id}/close`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Closure {
    evidence: String,
    at: Option<DateTime<Utc>>,
}

/// Closes a hazard (销号) with evidence of rectification.
pub async fn close(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    req: WriteBody<Closure>,
) -> Result<Response, ApiError> {
    let hazard = hazard_id(&id)?;
    let at = happened("at", req.body.at, Utc::now())?;
    let evidence = text("evidence", &req.body.evidence, 2000, true)?;
    let op = Op::Close {
        hazard,
        at,
        evidence,
    };
    Ok(written(app.write_as(&who, op, req.idempotency).await?))
}
