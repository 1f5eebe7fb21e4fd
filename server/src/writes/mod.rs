//! One file per write. Each takes its part of a [`Change`], checks it against the typed
//! facts of the map and the store, and drafts what it appends to the log: the event's
//! kind, its unit and region, the unit's colour before and after, the record before and
//! after, and the notices it queues. Nothing here commits or answers HTTP: the write
//! path (`app::write`) commits the change with its draft in one transaction, applies
//! the same change to the map, and hands back the typed [`WriteAnswer`].
//!
//! A new kind of write touches its file here, a variant of [`Change`], the store's
//! commit (`store::commit`), the map's apply (`state::apply`) and its route (`http`).

mod attach;
mod close;
mod comment;
mod edit;
pub mod fix;
mod import;
mod inspect;
mod record_import;
pub mod records;
mod regions;
mod register;
mod suspension;
mod target;
mod yellow_card;

use std::sync::{RwLock, RwLockReadGuard};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::{Change, Colour, EventKind, Hazard, HazardId, NewEvent, RegionId, UnitId};
use crate::state::{MapState, StateError};
use crate::store::{AnyStore, Assigned, StoreError};

/// Who made a write, as the event log records it, when no person did (the clock).
pub const SYSTEM: &str = "system";

/// Why a write did not happen (nothing was changed).
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The map state refused what the store took: a bug, logged loudly.
    #[error("the map state refused a committed write: {0}")]
    State(StateError),
    /// The state lock was poisoned by a panic elsewhere.
    #[error("map state lock poisoned")]
    Poisoned,
    /// A field of the request is wrong.
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// No such unit, hazard or region.
    #[error("no {what} `{id}`")]
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// The id.
        id: String,
    },
    /// The write contradicts what is recorded (closing a closed hazard…).
    #[error("{0}")]
    Conflict(String),
    /// An idempotency key reused for a different request.
    #[error("Idempotency-Key `{0}` was used for a different request")]
    KeyReused(String),
    /// The user may not make this write (their role, or a place outside their scope).
    #[error("{0}")]
    Forbidden(String),
}

impl WriteError {
    /// A bad field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        WriteError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// No record `id` of this kind.
    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        WriteError::NotFound {
            what,
            id: id.to_string(),
        }
    }
}

/// What the map refuses, in the client's terms: the map checks a write before the
/// store takes it, so these are the client's mistakes, not ours.
impl From<StateError> for WriteError {
    fn from(e: StateError) -> Self {
        match e {
            StateError::UnknownUnit { unit, .. } => WriteError::not_found("unit", unit),
            StateError::BadHazard(h) => WriteError::not_found("hazard", h),
            StateError::BadHost { .. } => WriteError::invalid(
                "host",
                "the host must be a registered enterprise that is not itself a tenant, and only an enterprise can be hosted",
            ),
            StateError::BadLocation(_) | StateError::UnknownMicroGrid { .. } => {
                WriteError::invalid(
                    "location",
                    "the location lies outside every micro-grid of the town",
                )
            }
            e => WriteError::State(e),
        }
    }
}

/// What a write is drafted against: the map (read briefly, never across an `.await`),
/// the store, the moment of the write and who makes it. The writer lock is held, so
/// nothing read here changes before the commit.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    /// The map.
    pub map: &'a RwLock<MapState>,
    /// The store.
    pub store: &'a AnyStore,
    /// When the write is made (the event's time).
    pub now: DateTime<Utc>,
    /// Who makes it.
    pub actor: &'a str,
}

impl Ctx<'_> {
    fn map(&self) -> Result<RwLockReadGuard<'_, MapState>, WriteError> {
        self.map.read().map_err(|_| WriteError::Poisoned)
    }
}

/// What a notice to a unit's owner is about; worded by the outbox (`app::outbox`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notify {
    /// A visit found hazards.
    HazardsFound {
        /// Their types (keys or the inspector's words), in the order found.
        hazard_types: Vec<String>,
        /// How many are major.
        major: usize,
        /// The earliest deadline, if any has one.
        deadline: Option<DateTime<Utc>>,
    },
    /// A yellow card for a hazard.
    YellowCard {
        /// The hazard's type.
        hazard_type: String,
        /// The new deadline.
        deadline: DateTime<Utc>,
    },
    /// A link to send photos of the fix through.
    FixLink {
        /// The owner's page.
        url: String,
        /// When it stops working.
        expires_at: DateTime<Utc>,
    },
    /// A fix report refused.
    FixRejected {
        /// Why.
        reason: String,
    },
}

/// A notice a write queues (the reports' SMS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeDraft {
    /// The unit.
    pub unit: UnitId,
    /// Its name.
    pub unit_name: String,
    /// The owner's name.
    pub recipient: String,
    /// The owner's phone.
    pub phone: String,
    /// What it says.
    pub about: Notify,
}

/// The record a write leaves after it, which may need the ids the store assigns.
pub type Record = Box<dyn Fn(&Assigned) -> Value + Send + Sync>;

/// A write checked and drafted, waiting for the ids the store assigns.
pub struct Draft {
    /// What happened.
    pub kind: EventKind,
    /// When (the write's moment).
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// The unit concerned (a new unit's comes with its id).
    pub unit: Option<UnitId>,
    /// Its name.
    pub unit_name: Option<String>,
    /// The hazard concerned.
    pub hazard: Option<HazardId>,
    /// Where it happened: a unit's micro-grid, a target's group.
    pub region: Option<RegionId>,
    /// The unit's colour before.
    pub colour_before: Option<Colour>,
    /// And after.
    pub colour_after: Option<Colour>,
    /// The record before (`null` when created).
    pub before: Value,
    /// The record after.
    pub after: Record,
    /// Notices to queue.
    pub notices: Vec<NoticeDraft>,
    /// Events logged before this one, in order, which the live feed does not carry (an
    /// import's units: the feed carries the import).
    pub parts: Vec<Draft>,
    /// For a part, the unit of the import it is (its index in [`Assigned::units`]).
    pub row: Option<usize>,
}

impl Draft {
    /// A draft of `kind` by the context's actor at its moment, everything else empty.
    fn new(kind: EventKind, cx: &Ctx<'_>) -> Self {
        Draft {
            kind,
            at: cx.now,
            actor: cx.actor.to_owned(),
            unit: None,
            unit_name: None,
            hazard: None,
            region: None,
            colour_before: None,
            colour_after: None,
            before: Value::Null,
            after: Box::new(|_| Value::Null),
            notices: Vec::new(),
            parts: Vec::new(),
            row: None,
        }
    }

    /// The unit, new or not.
    fn unit(&self, assigned: &Assigned) -> Option<UnitId> {
        self.unit
            .or(assigned.unit)
            .or_else(|| self.row.and_then(|i| assigned.units.get(i)).copied())
    }

    /// The event, given the ids assigned.
    pub fn event(&self, assigned: &Assigned) -> NewEvent {
        NewEvent {
            at: self.at,
            kind: self.kind,
            actor: self.actor.clone(),
            unit: self.unit(assigned),
            unit_name: self.unit_name.clone(),
            hazard: self.hazard,
            region: self.region.clone(),
            colour_before: self.colour_before,
            colour_after: self.colour_after,
            before: self.before.clone(),
            after: (self.after)(assigned),
        }
    }
}

/// The answer to every write.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct WriteAnswer {
    /// The number of the event the write appended to the log.
    pub seq: i64,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// The unit concerned.
    #[schema(value_type = Option<i64>)]
    pub unit: Option<UnitId>,
    /// The hazard concerned.
    #[schema(value_type = Option<i64>)]
    pub hazard: Option<HazardId>,
    /// The unit's colour before.
    pub colour_before: Option<Colour>,
    /// And after.
    pub colour_after: Option<Colour>,
    /// What was written, with the new ids.
    pub record: Value,
    /// A fix link's token: only in the answer to the write that made it (the log and
    /// the store keep none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl WriteAnswer {
    /// The answer to the write that appended `event` as number `seq`.
    pub fn of(seq: i64, event: &NewEvent) -> Self {
        WriteAnswer {
            seq,
            kind: event.kind,
            unit: event.unit,
            hazard: event.hazard,
            colour_before: event.colour_before,
            colour_after: event.colour_after,
            record: event.after.clone(),
            token: None,
        }
    }

    /// Whether the write made a new record (a unit, a visit, a file) rather than
    /// changing one.
    pub fn created(&self) -> bool {
        matches!(
            self.kind,
            EventKind::UnitRegistered
                | EventKind::UnitsImported
                | EventKind::RegionsImported
                | EventKind::RecordsImported
                | EventKind::Inspection
                | EventKind::HazardFound
                | EventKind::AttachmentAdded
                | EventKind::FixLinkMade
                | EventKind::FixReported
        )
    }
}

/// Checks `change` and drafts its event (see the module's description).
pub async fn draft(change: &Change, cx: &Ctx<'_>) -> Result<Draft, WriteError> {
    match change {
        Change::Register(u) => register::draft(change, u, cx),
        Change::Edit(e) => edit::draft(change, e, cx).await,
        Change::Import(i) => import::draft(i, cx).await,
        Change::Regions(r) => regions::draft(r, cx).await,
        Change::Records(r) => record_import::draft(r, cx).await,
        Change::Inspect(v) => inspect::draft(change, v, cx).await,
        Change::YellowCard(y) => yellow_card::draft(change, y, cx).await,
        Change::Close(c) => close::draft(change, c, cx).await,
        Change::Suspend { unit, at } | Change::Resume { unit, at } => {
            suspension::draft(change, *unit, at.get(), cx).await
        }
        Change::SetTarget(t) => target::draft(t, cx).await,
        Change::Comment(c) => comment::draft(c, cx).await,
        Change::SendBriefing(b) => comment::send(b, cx).await,
        Change::Attach(a) => attach::draft(change, a, cx).await,
        Change::FixLink(l) => fix::link(change, l, cx).await,
        Change::RevokeFixLink { link, unit, .. } => fix::revoke(change, *link, *unit, cx).await,
        Change::FixReport(r) => fix::report(change, r, cx).await,
        Change::RejectFix(r) => fix::reject(change, r, cx).await,
    }
}

/// The part of drafting that every change to a unit shares: the map previews `change`
/// (refusing an unknown unit or hazard, a bad micro-grid or host) and the draft takes
/// the unit, its micro-grid and its colour before and after.
fn on_unit(d: &mut Draft, change: &Change, map: &MapState) -> Result<(), WriteError> {
    let p = map.preview(change)?;
    if let Some(idx) = p.unit {
        let e = &map.units[idx as usize];
        d.unit = Some(e.unit.id);
        d.region = Some(map.regions.get(e.micro_grid).id.clone());
    }
    d.colour_before = p.before;
    d.colour_after = p.after;
    Ok(())
}

/// The part of drafting that a yellow card and a closure share: the hazard as recorded
/// (its record before), its unit and the colours. Whether it is still open is the
/// store's to refuse, in the same transaction as the write.
async fn on_hazard(
    d: &mut Draft,
    change: &Change,
    hazard: HazardId,
    cx: &Ctx<'_>,
) -> Result<Hazard, WriteError> {
    let unit = {
        let map = cx.map()?;
        let (u, _) = map.hazard_slot(hazard)?;
        map.units[u as usize].unit.id
    };
    let record = cx.store.unit_record(unit).await?;
    let found = record.and_then(|r| {
        let h = r.hazards.into_iter().find(|h| h.id == hazard)?;
        Some((r.unit.name, h))
    });
    let (name, h) = found.ok_or_else(|| WriteError::not_found("hazard", hazard))?;
    on_unit(d, change, &*cx.map()?)?;
    d.unit_name = Some(name);
    d.hazard = Some(hazard);
    d.before = records::hazard_json(&h, d.at);
    Ok(h)
}
