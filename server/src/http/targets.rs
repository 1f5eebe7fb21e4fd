//! Weekly closure targets per group: `POST /api/targets` sets one, `GET /api/targets`
//! shows each group's target and its closures day by day through the week.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use chrono::{Datelike, Duration, NaiveDate, Utc, Weekday};
use serde::Deserialize;
use serde_json::{Value, json};

use super::body::WriteBody;
use super::error::ApiError;
use super::params::Params;
use super::units::written;
use crate::app::AppState;
use crate::auth::access::Access;
use crate::domain::RegionId;
use crate::domain::time::{local_date, start_of_day};
use crate::store::{Store, Target};
use crate::views::targets::closures_by_group_and_day;

/// Parses an ISO week `YYYY-Www` into its Monday.
pub fn week_monday(field: &str, week: &str) -> Result<NaiveDate, ApiError> {
    let bad = || ApiError::bad(field, "an ISO week such as 2022-W28");
    let (y, w) = week.split_once("-W").ok_or_else(bad)?;
    let year: i32 = y.parse().map_err(|_| bad())?;
    let n: u32 = w.parse().map_err(|_| bad())?;
    if w.len() != 2 || !(2000..=2099).contains(&year) {
        return Err(bad());
    }
    NaiveDate::from_isoywd_opt(year, n, Weekday::Mon).ok_or_else(bad)
}

fn week_of(date: NaiveDate) -> String {
    let w = date.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// `POST /api/targets`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTarget {
    #[schema(value_type = String)]
    group: RegionId,
    week: String,
    closures: u32,
}

/// Sets (or replaces) a group's closure target for a week.
pub async fn set(
    State(app): State<AppState>,
    who: Access,
    req: WriteBody<NewTarget>,
) -> Result<Response, ApiError> {
    let b = req.body;
    week_monday("week", &b.week)?;
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
        app.write_as(
            &who,
            crate::app::write::Op::SetTarget(target),
            req.idempotency,
        )
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
    let week = match params.get::<String>("week")? {
        Some(w) => w,
        None => week_of(local_date(Utc::now())),
    };
    let monday = week_monday("week", &week)?;
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
