//! What a write commits beside its facts: the event it appends to the log, the notices
//! it queues, the response an `Idempotency-Key` replays, and the clock watermark — all
//! in the same transaction as the facts, so none exists without the others.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

pub use crate::domain::event::{Event, EventKind, NewEvent};
use crate::domain::{
    FixLinkId, FixReportId, Hazard, HazardId, Inspection, InspectionId, Unit, UnitId,
};

/// Ids the store assigned while committing a change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assigned {
    /// A registered unit's id.
    pub unit: Option<UnitId>,
    /// A recorded visit's id.
    pub inspection: Option<InspectionId>,
    /// The found hazards' ids, in order.
    pub hazards: Vec<HazardId>,
    /// A fix link's id.
    pub fix_link: Option<FixLinkId>,
    /// A fix report's id.
    pub fix_report: Option<FixReportId>,
    /// An import's units, in the order of the import (new and updated alike).
    pub units: Vec<UnitId>,
    /// A records import's visits, in the order of the import (their hazards' ids are
    /// in `hazards`, visit by visit).
    pub inspections: Vec<InspectionId>,
}

/// A message to a unit's owner, queued in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewNotice {
    /// The unit.
    pub unit: UnitId,
    /// The owner's name.
    pub recipient: String,
    /// The owner's phone.
    pub phone: String,
    /// The text to send.
    pub message: String,
}

/// A queued notice, as the sender sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// Outbox id.
    pub id: i64,
    /// The event that queued it.
    pub event_seq: i64,
    /// Attempts made so far.
    pub attempts: i32,
    /// Message and recipient.
    #[serde(flatten)]
    pub notice: NewNotice,
}

/// What an `Idempotency-Key` replays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    /// The key as the client sent it.
    pub key: String,
    /// A hash of method, path and body: the same key with another request is refused.
    pub fingerprint: String,
    /// The first answer.
    pub response: Value,
}

/// An attachment as listed on a unit's card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentInfo {
    /// Content hash.
    pub hash: String,
    /// `photo`, `video` or `floor_plan`.
    pub kind: String,
    /// Media type.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// When attached.
    pub at: DateTime<Utc>,
}

/// Everything a write commits beside its facts.
#[derive(Debug, Clone, Default)]
pub struct Journal {
    /// Events to append, in order, numbered by the writer (one writer at a time, so
    /// the log has no gaps and commit order is number order).
    pub events: Vec<Event>,
    /// Notices to queue, each tied to the first event.
    pub notices: Vec<NewNotice>,
    /// The response to replay for an `Idempotency-Key`.
    pub replay: Option<Replay>,
    /// The clock watermark to record: every clock-driven change up to it is logged.
    pub watermark: Option<DateTime<Utc>>,
}

/// A unit with every fact recorded about it: its card.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitRecord {
    /// Standing facts.
    pub unit: Unit,
    /// Visits, oldest first.
    pub inspections: Vec<Inspection>,
    /// Hazards, oldest first.
    pub hazards: Vec<Hazard>,
    /// Suspension orders, oldest first.
    pub suspensions: Vec<crate::domain::Suspension>,
    /// Attached files, oldest first.
    pub attachments: Vec<AttachmentInfo>,
}

/// Which events to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventQuery {
    /// Only this unit's.
    pub unit: Option<UnitId>,
    /// Only those after this sequence number (oldest first).
    pub after: Option<i64>,
    /// Newest first instead (ignores `after`).
    pub newest_first: bool,
    /// At most this many.
    pub limit: u32,
}
