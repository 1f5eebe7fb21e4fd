//! `GET /api/rankings?level=village|group|grid&metric=inspection_rate|closure_rate&at=`:
//! the daily ranking, as of the end of day `at` (default: now), against a day earlier.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::error::ApiError;
use super::params::Params;
use crate::app::AppState;
use crate::auth::access::Access;
use crate::domain::Level;
use crate::state::aggregate::{UnitFilter, fold_regions};
use crate::views::rankings::{Metric, Ranked, ranking};

/// The response body.
#[derive(Debug, Serialize)]
pub struct RankingResponse {
    level: Level,
    metric: Metric,
    at: DateTime<Utc>,
    previous_at: DateTime<Utc>,
    regions: Vec<Ranked>,
}

/// Handler.
#[utoipa::path(get, path = "/api/rankings", tag = "figures",
    params(
        ("level" = Option<String>, Query, description = "village (default), group or grid"),
        ("metric" = Option<String>, Query, description = "inspection_rate (default) or closure_rate"),
        ("at" = Option<String>, Query, description = "A date or RFC 3339 moment"),
    ),
    responses(
        (status = 200, description = "The ranking", body = serde_json::Value),
        crate::http::openapi::BadRequest,
    ))]
pub async fn get_rankings(
    State(app): State<AppState>,
    who: Access,
    params: Params,
) -> Result<Json<RankingResponse>, ApiError> {
    params.only(&["level", "metric", "at"])?;
    let level: Level = params
        .get("level")?
        .ok_or_else(|| ApiError::bad("level", "required: county, town, group, village or grid"))?;
    if !matches!(
        level,
        Level::County | Level::Town | Level::Village | Level::Group | Level::Grid
    ) {
        return Err(ApiError::bad(
            "level",
            format!("rankings are by county, town, group, village or grid, not {level}"),
        ));
    }
    let metric: Metric = params
        .get("metric")?
        .ok_or_else(|| ApiError::bad("metric", "required: inspection_rate or closure_rate"))?;
    let at = params.moment("at", app.zone)?;
    let (map, now) = app.read_now()?;
    let all = UnitFilter::default();
    let moment = at.unwrap_or(now);
    let previous_at = moment - Duration::days(1);
    let before = fold_regions(&map, previous_at, &all);
    // A reader with a scope ranks the regions in it only (their figures are whole).
    let regions = match at {
        None => ranking(
            &map,
            level,
            metric,
            map.live().regions(),
            &before,
            &who.scope,
        ),
        Some(at) => ranking(
            &map,
            level,
            metric,
            &fold_regions(&map, at, &all),
            &before,
            &who.scope,
        ),
    };
    Ok(Json(RankingResponse {
        level,
        metric,
        at: moment,
        previous_at,
        regions,
    }))
}
