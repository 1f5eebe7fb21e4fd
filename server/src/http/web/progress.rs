//! The wall's closure-progress chart: `GET /api/progress?region=ID`, hazards found and
//! closed per day of the campaign, with running totals and the closure rate.

use axum::Json;
use axum::extract::State;

use crate::auth::access::Access;
use crate::domain::RegionId;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::params::Params;
use crate::views::page;

/// `GET /api/progress?region=ID` (default the town).
#[utoipa::path(get, path = "/api/progress", tag = "page",
    params(("region" = Option<String>, Query, description = "A region id; default the town")),
    responses(
        (status = 200, description = "Hazards found and closed on each day with any, running totals and the closure rate", body = page::Progress),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
    ))]
pub async fn progress(
    State(app): State<AppState>,
    who: Access,
    params: Params,
) -> Result<Json<page::Progress>, ApiError> {
    params.only(&["region"])?;
    let region = params.get::<RegionId>("region")?;
    let (map, now) = app.read_now()?;
    let idx = match region {
        Some(id) => who.region_touching(&map, id.as_str())?,
        None => who.home(&map),
    };
    Ok(Json(page::progress(&map, idx, (now, app.zone), &who.scope)))
}
