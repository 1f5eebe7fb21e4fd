//! `GET /api/rankings?region=&level=&metric=&at=&offset=&limit=`: the daily ranking of
//! the regions of a level under a region, as of the end of day `at` (default: now),
//! against the end of the day before, a page at a time (a province has 23,040
//! villages). Counties and towns are ranked from their daily checkpoints.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::error::ApiError;
use super::params::Params;
use crate::app::AppState;
use crate::auth::access::Access;
use crate::domain::{Level, RegionId};
use crate::state::aggregate::UnitFilter;
use crate::state::history::AggsAt;
use crate::views::rankings::{Metric, Ranked, ranked_regions, ranking};

/// Lines in a page when the request names no `limit`.
pub const DEFAULT_LIMIT: usize = 100;
/// The most lines a page holds.
pub const MAX_LIMIT: usize = 1000;

/// The region a ranking is under.
#[derive(Debug, Serialize)]
pub struct Under {
    id: RegionId,
    level: Level,
    name: String,
}

/// The response body.
#[derive(Debug, Serialize)]
pub struct RankingResponse {
    region: Under,
    level: Level,
    metric: Metric,
    at: DateTime<Utc>,
    previous_at: DateTime<Utc>,
    /// Regions ranked in all (the page holds `regions`).
    total: usize,
    offset: usize,
    limit: usize,
    regions: Vec<Ranked>,
}

/// Handler.
#[utoipa::path(get, path = "/api/rankings", tag = "figures",
    params(
        ("region" = Option<String>, Query, description = "The region whose regions are ranked (default: the whole map when `level` is given, else the reader's home region)"),
        ("level" = Option<String>, Query, description = "county, town, group, village, grid or micro_grid, below `region` (default: the level under it: counties of a province, towns of a county, villages of a town, grids of a village)"),
        ("metric" = Option<String>, Query, description = "inspection_rate or closure_rate"),
        ("at" = Option<String>, Query, description = "A date or RFC 3339 moment"),
        ("offset" = Option<u32>, Query, description = "Lines skipped (default 0)"),
        ("limit" = Option<u32>, Query, description = "Lines in the page, 1–1000 (default 100)"),
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
    params.only(&["region", "level", "metric", "at", "offset", "limit"])?;
    let metric: Metric = params
        .get("metric")?
        .ok_or_else(|| ApiError::bad("metric", "required: inspection_rate or closure_rate"))?;
    let page = params.page(DEFAULT_LIMIT, MAX_LIMIT)?;
    let at = params.moment("at", app.zone)?;
    let (map, now) = app.read_now()?;
    let asked = params.get::<Level>("level")?;
    // Without `region`: a named level is ranked across the whole map (as far as the
    // reader's scope goes), no level means the one under the reader's home region.
    let within = match (params.get::<String>("region")?, asked) {
        (Some(id), _) => who.region_touching(&map, &id)?,
        (None, Some(_)) => map.regions.root(),
        (None, None) => who.home(&map),
    };
    let region = map.regions.get(within);
    let level = match asked {
        Some(level) => level,
        None => region.level.ranked_below().ok_or_else(|| {
            ApiError::bad("level", format!("a {} has no level under it", region.level))
        })?,
    };
    if matches!(level, Level::Province | Level::Area) || level.depth() <= region.level.depth() {
        return Err(ApiError::bad(
            "level",
            format!(
                "rankings are of counties, towns, groups, villages, grids or micro-grids under the {} {}, not of {level}",
                region.level, region.id
            ),
        ));
    }
    let all = UnitFilter::default();
    let moment = at.unwrap_or(now);
    // The day before: the end of the previous day (a past day's end is its checkpoint).
    let previous_at = app
        .zone
        .end_of_day(app.zone.date_of(moment) - chrono::Days::new(1));
    // A reader with a scope ranks the regions in it only (their figures are whole).
    let regions = ranked_regions(&map, (level, within), &who.scope);
    let before = AggsAt::of(&map, regions.iter().copied(), Some(previous_at), &all);
    let present = AggsAt::of(&map, regions.iter().copied(), at, &all);
    let ranked = ranking(&map, &regions, metric, &present, &before);
    Ok(Json(RankingResponse {
        region: Under {
            id: region.id.clone(),
            level: region.level,
            name: region.name.clone(),
        },
        level,
        metric,
        at: moment,
        previous_at,
        total: ranked.len(),
        offset: page.offset,
        limit: page.limit,
        regions: page.of(&ranked).to_vec(),
    }))
}
