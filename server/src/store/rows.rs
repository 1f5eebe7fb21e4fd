//! Rows as both backends return them, and their conversion into domain types.
//!
//! The SELECTs of both backends produce these same column shapes (PostGIS turns its
//! geometry into `lon`/`lat` or WKB in SQL), so decoding is written once, here.

use std::fmt::Display;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::journal::{AttachmentInfo, Event, NewEvent, NewNotice, Notice, Replay};
use super::{StoreError, geometry};
use sqlx::types::Json;

use crate::domain::{
    BriefingComment, Hazard, HazardId, Inspection, InspectionId, Location, NewUnit, Region,
    RegionId, Suspension, Target, Unit, UnitId,
};

pub(super) fn parse<T>(column: &'static str, text: &str) -> Result<T, StoreError>
where
    T: FromStr,
    T::Err: Display,
{
    text.parse().map_err(|e: T::Err| StoreError::Corrupt {
        column,
        message: e.to_string(),
    })
}

pub(super) fn id<T>(column: &'static str, raw: i64) -> Result<T, StoreError>
where
    T: FromStr,
    T::Err: Display,
{
    parse(column, &raw.to_string())
}

/// `regions` as read.
#[derive(sqlx::FromRow)]
pub struct RegionRow {
    pub id: String,
    pub level: String,
    pub parent_id: Option<String>,
    pub code: Option<String>,
    pub name: String,
    pub geom: Option<Vec<u8>>,
}

impl TryFrom<RegionRow> for Region {
    type Error = StoreError;
    fn try_from(r: RegionRow) -> Result<Self, StoreError> {
        Ok(Region {
            id: parse::<RegionId>("regions.id", &r.id)?,
            level: parse("regions.level", &r.level)?,
            parent: r
                .parent_id
                .map(|p| parse::<RegionId>("regions.parent_id", &p))
                .transpose()?,
            code: r.code,
            name: r.name,
            boundary: r.geom.map(geometry::from_wkb).transpose()?,
        })
    }
}

/// `units` as read, the point split into `lon`/`lat`.
#[derive(sqlx::FromRow)]
pub struct UnitRow {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub address: String,
    pub owner_name: String,
    pub owner_phone: String,
    pub lon: f64,
    pub lat: f64,
    pub micro_grid_id: String,
    pub risk_level: String,
    pub batch: Option<String>,
    pub host_id: Option<i64>,
    pub registered_at: DateTime<Utc>,
}

impl TryFrom<UnitRow> for Unit {
    type Error = StoreError;
    fn try_from(r: UnitRow) -> Result<Self, StoreError> {
        Ok(Unit {
            id: id::<UnitId>("units.id", r.id)?,
            kind: parse("units.kind", &r.kind)?,
            name: r.name,
            address: r.address,
            owner_name: r.owner_name,
            owner_phone: r.owner_phone,
            location: location(r.lon, r.lat)?,
            micro_grid: parse("units.micro_grid_id", &r.micro_grid_id)?,
            risk: parse("units.risk_level", &r.risk_level)?,
            batch: r.batch.map(|b| parse("units.batch", &b)).transpose()?,
            host: r.host_id.map(|h| id("units.host_id", h)).transpose()?,
            registered_at: r.registered_at,
        })
    }
}

/// `inspections` as read; photos are a JSON array of references.
#[derive(sqlx::FromRow)]
pub struct InspectionRow {
    pub id: i64,
    pub unit_id: i64,
    pub kind: String,
    pub inspector: String,
    pub inspected_at: DateTime<Utc>,
    pub signature: Option<String>,
    pub photos: String,
    pub comprehensive: bool,
    pub note: String,
}

impl TryFrom<InspectionRow> for Inspection {
    type Error = StoreError;
    fn try_from(r: InspectionRow) -> Result<Self, StoreError> {
        Ok(Inspection {
            id: id::<InspectionId>("inspections.id", r.id)?,
            unit: id("inspections.unit_id", r.unit_id)?,
            kind: parse("inspections.kind", &r.kind)?,
            inspector: r.inspector,
            at: r.inspected_at,
            signature: r.signature,
            photos: serde_json::from_str(&r.photos).map_err(|e| StoreError::Corrupt {
                column: "inspections.photos",
                message: e.to_string(),
            })?,
            comprehensive: r.comprehensive,
            note: r.note,
        })
    }
}

/// The photo references as stored.
pub fn photos_json(photos: &[String]) -> String {
    serde_json::Value::from(photos.to_vec()).to_string()
}

/// `hazards` as read.
#[derive(sqlx::FromRow)]
pub struct HazardRow {
    pub id: i64,
    pub unit_id: i64,
    pub inspection_id: i64,
    pub category: String,
    pub hazard_type: String,
    pub severity: String,
    pub stage: String,
    pub found_at: DateTime<Utc>,
    pub deadline: Option<DateTime<Utc>>,
    pub yellow_card_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub evidence: Option<String>,
    pub comprehensive: bool,
}

impl TryFrom<HazardRow> for Hazard {
    type Error = StoreError;
    fn try_from(r: HazardRow) -> Result<Self, StoreError> {
        Ok(Hazard {
            id: id::<HazardId>("hazards.id", r.id)?,
            unit: id("hazards.unit_id", r.unit_id)?,
            inspection: id("hazards.inspection_id", r.inspection_id)?,
            category: parse("hazards.category", &r.category)?,
            hazard_type: r.hazard_type,
            severity: parse("hazards.severity", &r.severity)?,
            stage: parse("hazards.stage", &r.stage)?,
            found_at: r.found_at,
            deadline: r.deadline,
            yellow_card_at: r.yellow_card_at,
            closed_at: r.closed_at,
            evidence: r.evidence,
            comprehensive: r.comprehensive,
        })
    }
}

/// `suspensions` as read.
#[derive(sqlx::FromRow)]
pub struct SuspensionRow {
    pub unit_id: i64,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

impl TryFrom<SuspensionRow> for Suspension {
    type Error = StoreError;
    fn try_from(r: SuspensionRow) -> Result<Self, StoreError> {
        Ok(Suspension {
            unit: id("suspensions.unit_id", r.unit_id)?,
            started_at: r.started_at,
            ended_at: r.ended_at,
        })
    }
}

/// `events` as read (the JSON columns as text).
#[derive(sqlx::FromRow)]
pub struct EventRow {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub actor: String,
    pub unit_id: Option<i64>,
    pub unit_name: Option<String>,
    pub hazard_id: Option<i64>,
    pub region_id: Option<String>,
    pub colour_before: Option<String>,
    pub colour_after: Option<String>,
    pub before: Json<serde_json::Value>,
    pub after: Json<serde_json::Value>,
}

impl TryFrom<EventRow> for Event {
    type Error = StoreError;
    fn try_from(r: EventRow) -> Result<Self, StoreError> {
        Ok(Event {
            seq: r.seq,
            event: NewEvent {
                at: r.at,
                kind: parse("events.kind", &r.kind)?,
                actor: r.actor,
                unit: r.unit_id.map(|u| id("events.unit_id", u)).transpose()?,
                unit_name: r.unit_name,
                hazard: r.hazard_id.map(|h| id("events.hazard_id", h)).transpose()?,
                region: r
                    .region_id
                    .map(|g| parse("events.region_id", &g))
                    .transpose()?,
                colour_before: r
                    .colour_before
                    .map(|c| parse("events.colour_before", &c))
                    .transpose()?,
                colour_after: r
                    .colour_after
                    .map(|c| parse("events.colour_after", &c))
                    .transpose()?,
                before: r.before.0,
                after: r.after.0,
            },
        })
    }
}

/// An idempotency record as read: key, fingerprint, the first answer.
pub type ReplayRow = (String, String, Json<serde_json::Value>);

impl From<ReplayRow> for Replay {
    fn from((key, fingerprint, response): ReplayRow) -> Self {
        Replay {
            key,
            fingerprint,
            response: response.0,
        }
    }
}

/// An attachment listed with its blob's type and size.
#[derive(sqlx::FromRow)]
pub struct AttachmentRow {
    pub hash: String,
    pub kind: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: DateTime<Utc>,
}

impl From<AttachmentRow> for AttachmentInfo {
    fn from(r: AttachmentRow) -> Self {
        AttachmentInfo {
            hash: r.hash,
            kind: r.kind,
            content_type: r.content_type,
            size: r.size,
            at: r.created_at,
        }
    }
}

/// `targets` as read.
#[derive(sqlx::FromRow)]
pub struct TargetRow {
    pub group_id: String,
    pub week: String,
    pub closures: i32,
    pub set_by: String,
    pub set_at: DateTime<Utc>,
}

/// A `briefing_comments` row.
#[derive(sqlx::FromRow)]
pub struct CommentRow {
    pub region_id: String,
    pub day: String,
    pub text: String,
    pub set_by: String,
    pub set_at: DateTime<Utc>,
}

impl TryFrom<CommentRow> for BriefingComment {
    type Error = StoreError;
    fn try_from(r: CommentRow) -> Result<Self, StoreError> {
        Ok(BriefingComment {
            region: parse("briefing_comments.region_id", &r.region_id)?,
            date: parse("briefing_comments.day", &r.day)?,
            text: parse("briefing_comments.text", &r.text)?,
            by: r.set_by,
            at: r.set_at,
        })
    }
}

impl TryFrom<TargetRow> for Target {
    type Error = StoreError;
    fn try_from(r: TargetRow) -> Result<Self, StoreError> {
        Ok(Target {
            group: parse("targets.group_id", &r.group_id)?,
            week: parse("targets.week", &r.week)?,
            closures: u32::try_from(r.closures).map_err(|e| StoreError::Corrupt {
                column: "targets.closures",
                message: e.to_string(),
            })?,
            set_by: r.set_by,
            set_at: r.set_at,
        })
    }
}

/// `notices` as read by the sender.
#[derive(sqlx::FromRow)]
pub struct NoticeRow {
    pub id: i64,
    pub event_seq: i64,
    pub unit_id: i64,
    pub recipient: String,
    pub phone: String,
    pub message: String,
    pub attempts: i32,
}

impl TryFrom<NoticeRow> for Notice {
    type Error = StoreError;
    fn try_from(r: NoticeRow) -> Result<Self, StoreError> {
        Ok(Notice {
            id: r.id,
            event_seq: r.event_seq,
            attempts: r.attempts,
            notice: NewNotice {
                unit: id("notices.unit_id", r.unit_id)?,
                recipient: r.recipient,
                phone: r.phone,
                message: r.message,
            },
        })
    }
}

/// Converts every row, stopping at the first bad one.
pub fn convert<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

/// What a write needs to know after an UPDATE that touched nothing: whether the record
/// exists at all (then the write conflicts with its state) or not.
pub fn missing_or_conflict(
    exists: bool,
    what: &'static str,
    id: i64,
    conflict: &str,
) -> StoreError {
    if exists {
        StoreError::Conflict(conflict.to_owned())
    } else {
        StoreError::NotFound {
            what,
            id: id.to_string(),
        }
    }
}

/// A unit's point read from the store.
pub fn location(lon: f64, lat: f64) -> super::Result<Location> {
    Location::new(lon, lat).map_err(|e| StoreError::Corrupt {
        column: "units.location",
        message: e.to_string(),
    })
}

/// An id the store has just assigned.
pub fn assigned_id<T>(raw: i64, column: &'static str) -> super::Result<T>
where
    T: FromStr,
    T::Err: Display,
{
    id(column, raw)
}

/// A unit id read from the store.
pub fn unit_id(id: i64) -> super::Result<UnitId> {
    UnitId::new(id).map_err(|e| StoreError::Corrupt {
        column: "units.id",
        message: e.to_string(),
    })
}

/// Binds a unit's standing columns in their order — kind, name, address, owner name,
/// owner phone, longitude, latitude, micro-grid, risk, batch, host — to a query of
/// either backend (the registration time and the id follow where a statement takes
/// them).
macro_rules! bind_unit {
    ($query:expr, $u:expr) => {{
        let u: &$crate::store::rows::UnitValues<'_> = $u;
        $query
            .bind(u.kind)
            .bind(u.name)
            .bind(u.address)
            .bind(u.owner_name)
            .bind(u.owner_phone)
            .bind(u.lon)
            .bind(u.lat)
            .bind(u.micro_grid)
            .bind(u.risk)
            .bind(u.batch)
            .bind(u.host)
    }};
}
pub(super) use bind_unit;

/// A unit's columns as written, from a stored unit or a new one (whose id the store
/// chooses).
pub struct UnitValues<'a> {
    pub kind: &'static str,
    pub name: &'a str,
    pub address: &'a str,
    pub owner_name: &'a str,
    pub owner_phone: &'a str,
    pub lon: f64,
    pub lat: f64,
    pub micro_grid: &'a str,
    pub risk: &'static str,
    pub batch: Option<&'static str>,
    pub host: Option<i64>,
    pub registered_at: DateTime<Utc>,
}

impl<'a> From<&'a Unit> for UnitValues<'a> {
    fn from(u: &'a Unit) -> Self {
        UnitValues {
            kind: u.kind.as_str(),
            name: &u.name,
            address: &u.address,
            owner_name: &u.owner_name,
            owner_phone: &u.owner_phone,
            lon: u.location.x(),
            lat: u.location.y(),
            micro_grid: u.micro_grid.as_str(),
            risk: u.risk.as_str(),
            batch: u.batch.map(|b| b.as_str()),
            host: u.host.map(UnitId::get),
            registered_at: u.registered_at,
        }
    }
}

impl<'a> From<&'a NewUnit> for UnitValues<'a> {
    fn from(u: &'a NewUnit) -> Self {
        UnitValues {
            kind: u.kind.as_str(),
            name: u.name.as_str(),
            address: u.address.as_str(),
            owner_name: u.owner_name.as_str(),
            owner_phone: u.owner_phone.as_str(),
            lon: u.location.x(),
            lat: u.location.y(),
            micro_grid: u.micro_grid.as_str(),
            risk: u.risk.as_str(),
            batch: u.batch.map(|b| b.as_str()),
            host: u.host.map(UnitId::get),
            registered_at: u.registered_at.get(),
        }
    }
}

/// A unit's text row: id, name, address, owner name, owner phone.
pub type UnitTextRow = (i64, String, String, String, String);

/// Decodes unit text rows into `out`.
pub fn unit_texts(
    rows: Vec<UnitTextRow>,
    out: &mut std::collections::HashMap<UnitId, super::UnitText>,
) -> super::Result<()> {
    for (id, name, address, owner_name, owner_phone) in rows {
        let id = unit_id(id)?;
        let text = super::UnitText {
            name,
            address,
            owner_name,
            owner_phone,
        };
        out.insert(id, text);
    }
    Ok(())
}
