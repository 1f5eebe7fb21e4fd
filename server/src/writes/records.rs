//! Records as clients read them: a unit's card, its hazards, visits, orders and files,
//! in the one shape that the unit endpoint returns and the event log keeps as
//! `before`/`after`. Each is a typed struct (its OpenAPI schema comes with it); the
//! `*_json` functions give the same as JSON for the log.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::{
    Batch, Category, Colour, Hazard, Inspection, InspectionKind, Location, RiskLevel, Severity,
    Stage, Suspension, Target, Unit, UnitKind,
};
use crate::store::{AttachmentInfo, UnitRecord};

/// Where an attachment is served.
pub fn attachment_url(hash: &str) -> String {
    format!("/api/attachments/{hash}")
}

/// A photo reference as a link: a content hash becomes its URL, anything else (an
/// external reference recorded by another system) is kept as given.
fn photo_url(reference: &str) -> String {
    let is_hash = reference.len() == 64 && reference.bytes().all(|b| b.is_ascii_hexdigit());
    if is_hash {
        attachment_url(reference)
    } else {
        reference.to_owned()
    }
}

/// As JSON (the log's `before` and `after`).
fn json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}

/// A unit's standing facts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnitView {
    #[schema(value_type = i64)]
    id: crate::domain::UnitId,
    kind: UnitKind,
    name: String,
    address: String,
    owner_name: String,
    owner_phone: String,
    location: Location,
    #[schema(value_type = String)]
    micro_grid: crate::domain::RegionId,
    risk: RiskLevel,
    batch: Option<Batch>,
    #[schema(value_type = Option<i64>)]
    host: Option<crate::domain::UnitId>,
    registered_at: DateTime<Utc>,
}

impl From<&Unit> for UnitView {
    fn from(u: &Unit) -> Self {
        UnitView {
            id: u.id,
            kind: u.kind,
            name: u.name.clone(),
            address: u.address.clone(),
            owner_name: u.owner_name.clone(),
            owner_phone: u.owner_phone.clone(),
            location: u.location,
            micro_grid: u.micro_grid.clone(),
            risk: u.risk,
            batch: u.batch,
            host: u.host,
            registered_at: u.registered_at,
        }
    }
}

/// A unit's standing facts as JSON.
pub fn unit_json(u: &Unit) -> Value {
    json(&UnitView::from(u))
}

/// Whole days a hazard has been open past its deadline at `now` (0 if not overdue).
pub fn overdue_days(h: &Hazard, now: DateTime<Utc>) -> i64 {
    match h.deadline {
        Some(d) if h.closed_at.is_none_or(|c| c > now) && d <= now => (now - d).num_days(),
        _ => 0,
    }
}

/// A hazard, with how overdue it is at the moment it is shown for.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HazardView {
    #[schema(value_type = i64)]
    id: crate::domain::HazardId,
    #[schema(value_type = i64)]
    unit: crate::domain::UnitId,
    #[schema(value_type = i64)]
    inspection: crate::domain::InspectionId,
    category: Category,
    hazard_type: String,
    severity: Severity,
    stage: Stage,
    found_at: DateTime<Utc>,
    deadline: Option<DateTime<Utc>>,
    yellow_card_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    evidence: Option<String>,
    /// Found on a comprehensive one-time inspection (综合查一次).
    comprehensive: bool,
    open: bool,
    overdue: bool,
    overdue_days: i64,
}

impl HazardView {
    /// `h` as it stands at `now`.
    pub fn at(h: &Hazard, now: DateTime<Utc>) -> Self {
        let open = h.found_at <= now && h.closed_at.is_none_or(|c| c > now);
        let overdue = open && h.deadline.is_some_and(|d| d <= now);
        HazardView {
            id: h.id,
            unit: h.unit,
            inspection: h.inspection,
            category: h.category,
            hazard_type: h.hazard_type.clone(),
            severity: h.severity,
            stage: h.stage,
            found_at: h.found_at,
            deadline: h.deadline,
            yellow_card_at: h.yellow_card_at,
            closed_at: h.closed_at,
            evidence: h.evidence.clone(),
            comprehensive: h.comprehensive,
            open,
            overdue,
            overdue_days: if overdue { overdue_days(h, now) } else { 0 },
        }
    }
}

/// A hazard as JSON, with how overdue it is at `now`.
pub fn hazard_json(h: &Hazard, now: DateTime<Utc>) -> Value {
    json(&HazardView::at(h, now))
}

/// A visit; photos and the signature as links.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VisitView {
    #[schema(value_type = i64)]
    id: crate::domain::InspectionId,
    #[schema(value_type = i64)]
    unit: crate::domain::UnitId,
    kind: InspectionKind,
    inspector: String,
    at: DateTime<Utc>,
    signature: Option<String>,
    photos: Vec<String>,
    /// A comprehensive one-time inspection (综合查一次).
    comprehensive: bool,
    /// The inspector's note.
    note: String,
}

impl From<&Inspection> for VisitView {
    fn from(i: &Inspection) -> Self {
        VisitView {
            id: i.id,
            unit: i.unit,
            kind: i.kind,
            inspector: i.inspector.clone(),
            at: i.at,
            signature: i.signature.as_deref().map(photo_url),
            photos: i.photos.iter().map(|p| photo_url(p)).collect(),
            comprehensive: i.comprehensive,
            note: i.note.clone(),
        }
    }
}

/// A visit as JSON.
pub fn inspection_json(i: &Inspection) -> Value {
    json(&VisitView::from(i))
}

/// A suspension order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderView {
    started_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
}

/// A suspension order as JSON.
pub fn suspension_json(s: &Suspension) -> Value {
    json(&OrderView {
        started_at: s.started_at,
        ended_at: s.ended_at,
    })
}

/// A file attached, with its link.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileView {
    hash: String,
    url: String,
    kind: String,
    content_type: String,
    size: i64,
    at: DateTime<Utc>,
}

impl From<&AttachmentInfo> for FileView {
    fn from(a: &AttachmentInfo) -> Self {
        FileView {
            hash: a.hash.clone(),
            url: attachment_url(&a.hash),
            kind: a.kind.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            at: a.at,
        }
    }
}

/// A weekly target as JSON.
pub fn target_json(t: &Target) -> Value {
    json(t)
}

/// The card's links.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CardLinks {
    /// The card.
    #[serde(rename = "self")]
    this: String,
    /// The unit's history.
    history: String,
}

/// A unit's card: its facts, its colour at `at`, every hazard, visit, order and file
/// recorded up to `at`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Card {
    /// The unit.
    #[serde(flatten)]
    unit: UnitView,
    /// The moment the card is for.
    at: DateTime<Utc>,
    /// `null` before the unit was registered.
    colour: Option<Colour>,
    /// Whether a suspension order is in force.
    suspended: bool,
    /// Its hazards.
    hazards: Vec<HazardView>,
    /// Its visits.
    inspections: Vec<VisitView>,
    /// Its suspension orders.
    suspensions: Vec<OrderView>,
    /// Its files.
    attachments: Vec<FileView>,
    /// Where to read more.
    links: CardLinks,
}

impl Card {
    /// The card of `r` as of `at` (facts recorded later are left out, so a past day
    /// reads as it was).
    pub fn of(r: &UnitRecord, colour: Option<Colour>, at: DateTime<Utc>) -> Self {
        let hazards = r
            .hazards
            .iter()
            .filter(|h| h.found_at <= at)
            .map(|h| {
                let mut h = h.clone();
                h.closed_at = h.closed_at.filter(|&c| c <= at);
                h.yellow_card_at = h.yellow_card_at.filter(|&y| y <= at);
                HazardView::at(&h, at)
            })
            .collect();
        Card {
            unit: UnitView::from(&r.unit),
            at,
            colour,
            suspended: r.suspensions.iter().any(|s| s.in_force(at)),
            hazards,
            inspections: r
                .inspections
                .iter()
                .filter(|i| i.at <= at)
                .map(VisitView::from)
                .collect(),
            suspensions: r
                .suspensions
                .iter()
                .filter(|s| s.started_at <= at)
                .map(|s| OrderView {
                    started_at: s.started_at,
                    ended_at: s.ended_at,
                })
                .collect(),
            attachments: r
                .attachments
                .iter()
                .filter(|a| a.at <= at)
                .map(FileView::from)
                .collect(),
            links: CardLinks {
                this: format!("/api/units/{}", r.unit.id),
                history: format!("/api/units/{}/history", r.unit.id),
            },
        }
    }
}
