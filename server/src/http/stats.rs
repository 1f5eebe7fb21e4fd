//! `GET /api/stats?region=ID&at=DATE|TIMESTAMP&kind=&colour=`: figures for the town or a
//! region's subtree, as of the end of day `at` in Guali (default: now), optionally for
//! some kinds or colours of unit only.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::AppState;
use super::error::ApiError;
use super::params::Params;
use super::tiles::unit_filter;
use crate::domain::time::parse_moment;
use crate::domain::{Level, RegionId};
use crate::state::aggregate::{UnitFilter, fold_filtered};
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
pub async fn get_stats(
    State(app): State<AppState>,
    params: Params,
) -> Result<Json<StatsResponse>, ApiError> {
    params.only(&["region", "at", "kind", "colour"])?;
    let region: Option<RegionId> = params.get("region")?;
    let at = params
        .get::<String>("at")?
        .map(|s| parse_moment(&s).map_err(|e| ApiError::bad("at", e.to_string())))
        .transpose()?;
    let (map, now) = app.read_now()?;
    let idx = match region {
        Some(id) => map.regions.find(&id).ok_or(ApiError::NotFound {
            what: "region",
            id: id.to_string(),
        })?,
        None => map.regions.town(),
    };
    // `kind=` and `colour=` count only those units (and their hazards).
    let filter = UnitFilter {
        region: None,
        ..unit_filter(&params, &map)?
    };
    let r = map.regions.get(idx);
    Ok(Json(StatsResponse {
        region: RegionRef {
            id: r.id.clone(),
            level: r.level,
            name: r.name.clone(),
        },
        at: at.unwrap_or(now),
        // The present comes from the live aggregates; a past moment is folded.
        stats: match at {
            None if filter.is_all() => present(&map, idx, map.live().region(idx)),
            None => present(&map, idx, &fold_filtered(&map, idx, now, &filter)),
            Some(at) => present(&map, idx, &fold_filtered(&map, idx, at, &filter)),
        },
    }))
}
