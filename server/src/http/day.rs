//! `GET /api/day?near=LON,LAT&limit=N`: the signed-in worker's day in their scope (see
//! `views/day.rs`), with each unit's name and address, and how many units each reason
//! puts on the list.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::error::ApiError;
use super::params::Params;
use crate::app::AppState;
use crate::auth::access::Access;
use crate::domain::{Action, Colour, HazardId, Location, UnitId, UnitKind};
use crate::views::day::{self, Reason};

/// The most units one answer lists.
const MAX_LIMIT: usize = 1000;

/// One unit to go to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DayUnit {
    #[schema(value_type = i64)]
    id: UnitId,
    kind: UnitKind,
    colour: Colour,
    name: Option<String>,
    address: Option<String>,
    /// `[lon, lat]`.
    #[schema(value_type = [f64; 2])]
    location: Location,
    /// Every reason it is listed, most urgent first.
    reasons: Vec<Reason>,
    /// The open hazards that put it here.
    #[schema(value_type = Vec<i64>)]
    hazards: Vec<HazardId>,
    /// The earliest deadline among them.
    deadline: Option<DateTime<Utc>>,
    /// Metres from `near`, when given.
    distance_m: Option<f64>,
}

/// How many units each reason lists (a unit counts under every reason it has).
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct DayCounts {
    overdue_yellow_card: usize,
    fix_reported: usize,
    reinspect: usize,
    due_soon: usize,
    major: usize,
    suspended: usize,
    uninspected: usize,
}

impl DayCounts {
    fn add(&mut self, r: Reason) {
        let n = match r {
            Reason::OverdueYellowCard => &mut self.overdue_yellow_card,
            Reason::FixReported => &mut self.fix_reported,
            Reason::Reinspect => &mut self.reinspect,
            Reason::DueSoon => &mut self.due_soon,
            Reason::Major => &mut self.major,
            Reason::Suspended => &mut self.suspended,
            Reason::Uninspected => &mut self.uninspected,
        };
        *n += 1;
    }
}

/// The worker's day.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = WorkerDay)]
pub struct Day {
    /// The moment it is for.
    at: DateTime<Utc>,
    /// Units listed in all (`units` holds the first `limit`).
    total: usize,
    /// Per reason.
    counts: DayCounts,
    /// Most urgent first; nearest first among the same reason when `near` is given.
    units: Vec<DayUnit>,
}

/// `near=LON,LAT`.
fn near(params: &Params) -> Result<Option<Location>, ApiError> {
    let Some(raw) = params.get::<String>("near")? else {
        return Ok(None);
    };
    let bad = || ApiError::bad("near", "give `near=LON,LAT` in degrees (WGS 84)");
    let (lon, lat) = raw.split_once(',').ok_or_else(bad)?;
    let (lon, lat) = (
        lon.trim().parse::<f64>().map_err(|_| bad())?,
        lat.trim().parse::<f64>().map_err(|_| bad())?,
    );
    Location::new(lon, lat).map(Some).map_err(|_| bad())
}

/// `GET /api/day`.
#[utoipa::path(get, path = "/api/day", tag = "field work",
    params(
        ("near" = Option<String>, Query, description = "The phone's position `LON,LAT` (WGS 84): nearest first among equals"),
        ("limit" = Option<u32>, Query, description = "At most this many units (default 200, at most 1000)"),
    ),
    responses(
        (status = 200, description = "The signed-in user's units to go to in their scope, most urgent first: an owner's fix report waiting (for inspectors), overdue after a yellow card, past a deadline (re-inspect), due within 3 days, major hazard open, suspended, never visited", body = Day),
        crate::http::openapi::BadRequest,
    ))]
pub async fn day(
    State(app): State<AppState>,
    who: Access,
    params: Params,
) -> Result<Json<Day>, ApiError> {
    params.only(&["near", "limit"])?;
    let near = near(&params)?;
    let limit = match params.get::<usize>("limit")? {
        Some(n @ 1..=MAX_LIMIT) => n,
        Some(_) => return Err(ApiError::bad("limit", "give 1 to 1000")),
        None => 200,
    };
    // Owners' reports wait for those who may close or reject them.
    let reported: HashSet<UnitId> = if who.user.role.may(Action::Rectify) {
        app.store.waiting_fix_reports().await?.into_iter().collect()
    } else {
        HashSet::new()
    };
    let (errands, at) = {
        let (map, now) = app.read_now()?;
        (day::errands(&map, &who.scope, now, near, &reported), now)
    };
    let mut counts = DayCounts::default();
    for r in errands.iter().flat_map(|e| &e.reasons) {
        counts.add(*r);
    }
    let total = errands.len();
    let listed = &errands[..total.min(limit)];
    let ids: Vec<UnitId> = listed.iter().map(|e| e.unit).collect();
    let texts = app.store.unit_texts(&ids).await?;
    let units = listed
        .iter()
        .map(|e| {
            let t = texts.get(&e.unit);
            DayUnit {
                id: e.unit,
                kind: e.kind,
                colour: e.colour,
                name: t.map(|t| t.name.clone()),
                address: t.map(|t| t.address.clone()),
                location: e.location,
                reasons: e.reasons.clone(),
                hazards: e.hazards.clone(),
                deadline: e.deadline,
                distance_m: e.distance_m.map(f64::round),
            }
        })
        .collect();
    Ok(Json(Day {
        at,
        total,
        counts,
        units,
    }))
}
