//! `GET /api/stats?region=ID&at=DATE|TIMESTAMP&kind=&colour=`: figures for the town or a
//! region's subtree, as of the end of day `at` in the town (default: now), optionally for
//! some kinds or colours of unit only.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::error::ApiError;
use super::params::Params;
use crate::app::AppState;
use crate::auth::access::Access;
use crate::domain::{Level, RegionId};
use crate::state::aggregate::fold_filtered;
use crate::state::stats::{Stats, present};

/// The region a figure set is about.
#[derive(Debug, Serialize)]
pub struct RegionRef {
    id: RegionId,
    level: Level,
    name: String,
}

/// The response body.
#[derive(Debug, Serialize)]
pub struct StatsResponse {
    region: RegionRef,
    at: DateTime<Utc>,
    #[serde(flatten)]
    stats: Stats,
}

/// Handler.
#[utoipa::path(get, path = "/api/stats", tag = "figures",
    params(
        ("region" = Option<String>, Query, description = "A region id: its subtree"),
        ("at" = Option<String>, Query, description = "YYYY-MM-DD (end of that day in the town's time zone) or RFC 3339; default now"),
        ("kind" = Option<String>, Query, description = "Comma list of unit kinds"),
        ("colour" = Option<String>, Query, description = "Comma list of colours"),
    ),
    responses(
        (status = 200, description = "Figures", body = serde_json::Value),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
    ))]
pub async fn get_stats(
    State(app): State<AppState>,
    who: Access,
    params: Params,
) -> Result<Json<StatsResponse>, ApiError> {
    params.only(&["region", "at", "kind", "colour"])?;
    let at = params.moment("at", app.zone)?;
    let (map, now) = app.read_now()?;
    // `region=` picks the subtree; `kind=` and `colour=` count only those units (and
    // their hazards).
    // Without `region=`, the reader's home: the town, or their scope (whose figures
    // then count only the units in scope).
    let mut filter = params.unit_filter(&who, &map)?;
    let idx = filter.region.take().unwrap_or_else(|| who.home(&map));
    let r = map.regions.get(idx);
    Ok(Json(StatsResponse {
        region: RegionRef {
            id: r.id.clone(),
            level: r.level,
            name: r.name.clone(),
        },
        at: at.unwrap_or(now),
        // From the live figures, the daily checkpoints or the region's own units.
        stats: present(
            &map,
            idx,
            &fold_filtered(&map, idx, at.unwrap_or(now), &filter),
        ),
    }))
}
