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
use crate::domain::{Change, IsoWeek, RegionId, Target};
use crate::views::targets::{GroupWeek, group_weeks};

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

/// `GET /api/targets?week=YYYY-Www` (default: the latest week up to this one, local
/// time, that has targets; this week when none has, so a campaign that has ended shows
/// its last week): every group with
/// its target (or `null`), its closures on each day Monday to Sunday, cumulative, and
/// its progress (closures so far ÷ target).
/// A reader with a scope sees the groups in it only.
#[utoipa::path(get, path = "/api/targets", tag = "targets",
    params(("week" = Option<String>, Query, description = "ISO week YYYY-Www; default the latest week with targets up to this one")),
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
        None => {
            let this = IsoWeek::of(app.zone.date_of(Utc::now()));
            app.store.latest_target_week(&this).await?.unwrap_or(this)
        }
    };
    let monday = week.monday();
    let targets = app.store.targets(&week).await?;
    let (map, now) = app.read_now()?;
    let groups = group_weeks(&map, &week, &targets, (now, app.zone), |idx| {
        who.scope.covers(&map, idx)
    });
    Ok(Json(Week {
        from: monday,
        to: monday + Duration::days(6),
        week,
        groups,
    }))
}
