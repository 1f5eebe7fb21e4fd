//! Inspections and the hazards they find.

use chrono::{DateTime, Utc};

use super::{HazardId, InspectionId, UnitId, vocabulary};

vocabulary! {
    /// What a hazard is about.
    Category, "hazard category" {
        /// 消防安全, the focus of the campaign.
        Fire = "fire",
        /// 生产安全.
        Production = "production",
        /// 交通安全.
        Traffic = "traffic",
        /// Anything else.
        Other = "other",
    }
}

vocabulary! {
    /// How serious a hazard is.
    Severity, "severity" {
        /// 一般隐患.
        General = "general",
        /// 重大隐患.
        Major = "major",
    }
}

vocabulary! {
    /// How a hazard is rectified (staged rectification).
    Stage, "rectification stage" {
        /// Simple: fixed on the spot.
        Immediate = "immediate",
        /// Key: rectified in the concentrated campaign.
        Concentrated = "concentrated",
        /// Complex: rectified by a deadline (sprinklers, escape stairs).
        Deadline = "deadline",
    }
}

vocabulary! {
    /// A first inspection (排查) or a return visit (复查).
    InspectionKind, "inspection kind" {
        /// 排查.
        Inspection = "inspection",
        /// 复查.
        Reinspection = "reinspection",
    }
}

/// One visit to a unit. A visit that finds hazards has them recorded as [`Hazard`]s
/// pointing back at it; a visit with none is a pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    /// Id.
    pub id: InspectionId,
    /// The unit visited.
    pub unit: UnitId,
    /// First inspection or re-inspection.
    pub kind: InspectionKind,
    /// Who inspected (name and team).
    pub inspector: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Reference to the owner's signature, when signed on the phone.
    pub signature: Option<String>,
    /// References to photos taken.
    pub photos: Vec<String>,
    /// A comprehensive one-time inspection (综合查一次): every department's checklist.
    pub comprehensive: bool,
    /// The inspector's note ('' when none).
    pub note: String,
}

/// A hazard (隐患) and its life: found, maybe yellow-carded, closed (销号).
#[derive(Debug, Clone, PartialEq)]
pub struct Hazard {
    /// Id.
    pub id: HazardId,
    /// The unit it was found at.
    pub unit: UnitId,
    /// The visit that found it.
    pub inspection: InspectionId,
    /// Category.
    pub category: Category,
    /// Type, a stable key such as `blocked_escape_route`.
    pub hazard_type: String,
    /// General or major.
    pub severity: Severity,
    /// Rectification stage.
    pub stage: Stage,
    /// When it was found.
    pub found_at: DateTime<Utc>,
    /// When it must be rectified by (the stage deadline or the yellow card's).
    pub deadline: Option<DateTime<Utc>>,
    /// When a yellow card (黄牌) was issued for it.
    pub yellow_card_at: Option<DateTime<Utc>>,
    /// When it was closed (销号).
    pub closed_at: Option<DateTime<Utc>>,
    /// Evidence of rectification given at closure.
    pub evidence: Option<String>,
    /// Found on a comprehensive one-time inspection (the visit's tag).
    pub comprehensive: bool,
}
