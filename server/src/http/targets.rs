//! Weekly closure targets per group: `POST /api/targets` sets one, `GET /api/targets`
//! shows each group's target and its closures day by day through the week.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use chrono::{Duration, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

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

/// `GET /api/targets?week=YYYY-Www` (default: this week, Guali time): every group with
/// its target (or `null`), its closures on each day Monday to Sunday, cumulative, and
/// its progress (closures so far ÷ target).
/// A reader with a scope sees the groups in it only.
pub async fn get(
    State(app): State<AppState>,
    who: Access,
    params: Params,
) -> Result<Json<Value>, ApiError> {
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
    let groups: Vec<Value> = table
        .into_iter()
        .filter(|(idx, _)| who.scope.covers(&map, *idx))
        .map(|(idx, daily)| {
            let region = map.regions.get(idx);
            let target = targets.iter().find(|t| t.group == region.id);
            let mut cumulative = 0u64;
            let by_day: Vec<Value> = days
                .iter()
                .zip(&daily)
                .map(|(d, &n)| {
                    let past = start_of_day(*d) <= now;
                    cumulative += n;
                    json!({"date": d, "closed": if past { Some(n) } else { None },
                           "cumulative": if past { Some(cumulative) } else { None }})
                })
                .collect();
            let total: u64 = daily.iter().sum();
            json!({
                "group": region.id,
                "name": region.name,
                "target": target.map(|t| t.closures),
                "closed": total,
                "progress": target.filter(|t| t.closures > 0).map(|t| total as f64 / f64::from(t.closures)),
                "by_day": by_day,
            })
        })
        .collect();
    Ok(Json(json!({
        "week": week,
        "from": days[0],
        "to": days[6],
        "groups": groups,
    })))
}
