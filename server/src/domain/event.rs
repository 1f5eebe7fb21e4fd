//! The event log's entries: what happened, to which unit, who did it, the colour before
//! and after and the record before and after. Every committed write appends one (the
//! clock's colour changes too); the stream and the history read them back.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::{Colour, HazardId, RegionId, UnitId};

super::vocabulary! {
    /// The kinds of event in the log.
    EventKind, "event type" {
        /// A unit registered.
        UnitRegistered = "unit_registered",
        /// A unit's facts edited.
        UnitEdited = "unit_edited",
        /// A register imported (one event for the file, after one per unit).
        UnitsImported = "units_imported",
        /// Places imported from a boundary file (one event for the file).
        RegionsImported = "regions_imported",
        /// The apps' records imported (one event for the file, after one per visit).
        RecordsImported = "records_imported",
        /// A visit that found nothing.
        Inspection = "inspection",
        /// A visit that found hazards.
        HazardFound = "hazard_found",
        /// A yellow card.
        YellowCard = "yellow_card",
        /// A hazard closed.
        HazardClosed = "hazard_closed",
        /// A suspension order.
        Suspended = "suspended",
        /// A suspension lifted.
        Resumed = "resumed",
        /// A colour changed by the clock alone (a deadline passed).
        ColourChanged = "colour_changed",
        /// A weekly target set.
        TargetSet = "target_set",
        /// The leader's comment on a day's briefing.
        BriefingCommented = "briefing_commented",
        /// A day's briefing sent to the groups' channels.
        BriefingSent = "briefing_sent",
        /// A file attached.
        AttachmentAdded = "attachment_added",
        /// A fix link made for a unit's owner.
        FixLinkMade = "fix_link_made",
        /// A fix link revoked.
        FixLinkRevoked = "fix_link_revoked",
        /// An owner's fix report received.
        FixReported = "fix_reported",
        /// An owner's fix report rejected.
        FixRejected = "fix_rejected",
    }
}

/// An event to append (its sequence number is assigned by the store).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NewEvent {
    /// When it happened (commit time, or the moment a deadline passed).
    pub at: DateTime<Utc>,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// Who did it (`system` for the clock).
    #[serde(rename = "by")]
    pub actor: String,
    /// The unit concerned.
    #[schema(value_type = Option<i64>)]
    pub unit: Option<UnitId>,
    /// Its name when the event happened (for tickers; names are text, never markup).
    pub unit_name: Option<String>,
    /// The hazard concerned.
    #[schema(value_type = Option<i64>)]
    pub hazard: Option<HazardId>,
    /// The region it happened in (a unit's micro-grid, a target's group).
    #[schema(value_type = Option<String>)]
    pub region: Option<RegionId>,
    /// The unit's colour before.
    pub colour_before: Option<Colour>,
    /// The unit's colour after.
    pub colour_after: Option<Colour>,
    /// The record before the change (`null` when created).
    pub before: Value,
    /// The record after.
    pub after: Value,
}

/// An event as logged.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Event {
    /// Position in the log: strictly increasing in commit order.
    pub seq: i64,
    /// The rest.
    #[serde(flatten)]
    pub event: NewEvent,
}
