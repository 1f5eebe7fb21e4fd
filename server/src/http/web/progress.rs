//! The wall's closure-progress chart: `GET /api/progress?region=ID`, hazards found and
//! closed per day of the campaign, with running totals and the closure rate.

use axum::Json;
use axum::extract::State;
use serde_json::Value;

use crate::auth::access::Access;
use crate::domain::RegionId;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::params::Params;
use crate::views::page;

/// `GET /api/progress?region=ID` (default the town).
pub async fn progress(
    State(app): State<AppState>,
    who: Access,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    params.only(&["region"])?;
    let region = params.get::<RegionId>("region")?;
    let (map, now) = app.read_now()?;
    let idx = match region {
        Some(id) => who.region_touching(&map, id.as_str())?,
        None => who.home(&map),
    };
    Ok(Json(page::progress(&map, idx, now, &who.scope)))
}
