//! Weekly closure targets per group: `POST /api/targets` sets one, `GET /api/targets`
//! shows each group's target and its closures day by day through the week.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use chrono::{Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::answer::written;
use super::body::WriteBody;
use super::error::ApiError;
use super::params::Params;
use crate::app::AppState;
use crate::auth::access::Access;
use crate::domain::time::{local_date, start_of_day};
use crate::domain::{Change, IsoWeek, RegionId, Target};
use crate::views::targets::closures_by_group_and_day;

/// `POST /api/targets`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = NewTarget)]
#[serde(deny_unknown_fields)]
pub struct NewTargetBody {
    #[schema(value_type = String)]
    group: RegionId,
    #[schema(value_type = String, example = "2022-W28")]
    week: IsoWeek,
    closures: u32,
}

/// Sets (or replaces) a group's closure target for a week.
#[utoipa::path(post, path = "/api/targets", tag = "targets", description = crate::http::openapi::WRITE,
    request_body = NewTargetBody,
    params(crate::http::openapi::IdempotencyKey),
    responses(
        (status = 200, description = "Set", body = crate::writes::WriteAnswer),
        crate::http::openapi::BadRequest,
    ),
    extensions(("x-onemap-action" = json!("set_targets"))))]
pub async fn set(
    State(app): State<AppState>,
    who: Access,
    req: WriteBody<NewTargetBody>,
) -> Result<Response, ApiError> {
    let b = req.body;
    if b.closures > 1_000_000 {
        return Err(ApiError::bad("closures", "at most 1,000,000"));
    }
    let target = Target {
        group: b.group,
        week: b.week,
        closures: b.closures,
        set_by: who.user.name.clone(),
        set_at: Utc::now(),
    };
    Ok(written(
        app.write_as(&who, Change::SetTarget(target), req.idempotency)
            .await?,
    ))
}

/// One day of a group's week.
#[derive(Debug, Serialize, ToSchema)]
pub struct Day {
    /// The date (Guali).
    date: NaiveDate,
    /// Hazards closed that day (`null` for a day to come).
    closed: Option<u64>,
    /// Closed so far in the week (`null` for a day to come).
    cumulative: Option<u64>,
}

/// A group's week.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupWeek {
    /// The group.
    #[schema(value_type = String)]
    group: RegionId,
    /// Its name.
    name: String,
    /// Its target (`null`: none set).
    target: Option<u32>,
    /// Hazards closed in the week so far.
    closed: u64,
    /// Closed ÷ target.
    progress: Option<f64>,
    /// Monday to Sunday.
    by_day: Vec<Day>,
}

/// Every group's week.
#[derive(Debug, Serialize, ToSchema)]
pub struct Week {
    /// The ISO week.
    #[schema(value_type = String)]
    week: IsoWeek,
    /// Its Monday.
    from: NaiveDate,
    /// Its Sunday.
    to: NaiveDate,
    /// The groups in the reader's scope.
    groups: Vec<GroupWeek>,
}

/// `GET /api/targets?week=YYYY-Www` (default: this week, Guali time): every group with
/// its target (or `null`), its closures on each day Monday to Sunday, cumulative, and
/// its progress (closures so far ÷ target).
/// A reader with a scope sees the groups in it only.
#[utoipa::path(get, path = "/api/targets", tag = "targets",
    params(("week" = Option<String>, Query, description = "ISO week YYYY-Www; default this week")),
    responses(
        (status = 200, description = "Each group's target and closures by day", body = Week),
        crate::http::openapi::BadRequest,
    ))]
pub async fn get(
    State(app): State<AppState>,
    who: Access,
    params: Params,
) -> Result<Json<Week>, ApiError> {
    params.only(&["week"])?;
    let week = match params.get::<IsoWeek>("week")? {
        Some(w) => w,
        None => IsoWeek::of(local_date(Utc::now())),
    };
    let monday = week.monday();
    let targets = app.store.targets(&week).await?;
    let days: Vec<NaiveDate> = (0..7).map(|d| monday + Duration::days(d)).collect();
    let (map, now) = app.read_now()?;
    let table = closures_by_group_and_day(&map, &days);
    let groups: Vec<GroupWeek> = table
        .into_iter()
        .filter(|(idx, _)| who.scope.covers(&map, *idx))
        .map(|(idx, daily)| {
            let region = map.regions.get(idx);
            let target = targets.iter().find(|t| t.group == region.id);
            let mut cumulative = 0u64;
            let by_day = days
                .iter()
                .zip(&daily)
                .map(|(d, &n)| {
                    let past = start_of_day(*d) <= now;
                    cumulative += n;
                    Day {
                        date: *d,
                        closed: past.then_some(n),
                        cumulative: past.then_some(cumulative),
                    }
                })
                .collect();
            let total: u64 = daily.iter().sum();
            GroupWeek {
                group: region.id.clone(),
                name: region.name.clone(),
                target: target.map(|t| t.closures),
                closed: total,
                progress: target
                    .filter(|t| t.closures > 0)
                    .map(|t| total as f64 / f64::from(t.closures)),
                by_day,
            }
        })
        .collect();
    Ok(Json(Week {
        from: days[0],
        to: days[6],
        week,
        groups,
    }))
}
