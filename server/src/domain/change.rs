//! A write, described once: [`Change`] is what a request (or an import, or a test) asks
//! for, and the same value is taken as it is by the store's commit, the map's apply and
//! the write that drafts its event. Its parts are new records without ids (the store
//! assigns them) and edits of records by id, built from checked values ([`Text`],
//! [`Location`], [`PastMoment`], [`Deadline`], [`ContentHash`]).

use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};

use super::fix::{FixRejection, NewFixLink, NewFixReport};
use super::ids::{FixLinkId, FixReportId};
use super::import::{RecordImport, RegionImport, UnitImport};
use super::moment::{Deadline, PastMoment};
use super::text::Text;
use super::user::Action;
use super::{
    Batch, Category, ContentHash, Hazard, HazardId, Inspection, InspectionId, InspectionKind,
    Location, RegionId, RiskLevel, Severity, Stage, Unit, UnitId, UnitKind, vocabulary,
};

/// One write.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Register a unit.
    Register(NewUnit),
    /// Replace a unit's standing facts.
    Edit(UnitEdit),
    /// A visit and the hazards it found (none: a pass).
    Inspect(NewVisit),
    /// A yellow card with a new deadline.
    YellowCard(YellowCard),
    /// A hazard closed (销号) with evidence.
    Close(Closure),
    /// An order to suspend business (停业整改) from `at`.
    Suspend {
        /// The unit.
        unit: UnitId,
        /// From when.
        at: PastMoment,
    },
    /// The order in force lifted at `at`.
    Resume {
        /// The unit.
        unit: UnitId,
        /// When.
        at: PastMoment,
    },
    /// A group's weekly closure target, set or replaced.
    SetTarget(Target),
    /// A file added to a unit's record.
    Attach(Attachment),
    /// A link for the unit's owner to send fix reports through.
    FixLink(NewFixLink),
    /// A fix link revoked.
    RevokeFixLink {
        /// The link.
        link: FixLinkId,
        /// Its unit.
        unit: UnitId,
        /// When.
        at: DateTime<Utc>,
    },
    /// An owner's fix report, through a link.
    FixReport(NewFixReport),
    /// An owner's fix report refused.
    RejectFix(FixRejection),
    /// A register imported: many units registered or updated at once.
    Import(UnitImport),
    /// Places imported from a boundary file: regions of one level new or replaced, and
    /// the units whose micro-grid that changes.
    Regions(RegionImport),
    /// The records of the apps used before: past visits, their hazards and what became
    /// of them.
    Records(RecordImport),
    /// The leader's comment on a day's briefing, written or replaced.
    Comment(BriefingComment),
    /// A day's briefing sent to its groups' channels (once per group and day).
    SendBriefing(BriefingSend),
}

impl Change {
    /// What the write is, as far as roles go.
    pub fn action(&self) -> Action {
        match self {
            Change::Register(_) | Change::Edit(_) | Change::Import(_) | Change::Records(_) => {
                Action::ManageUnits
            }
            Change::Regions(_) => Action::ManagePlaces,
            Change::Inspect(_) => Action::Inspect,
            Change::YellowCard(_)
            | Change::Close(_)
            | Change::FixLink(_)
            | Change::RevokeFixLink { .. }
            | Change::RejectFix(_) => Action::Rectify,
            Change::FixReport(_) => Action::ReportFix,
            Change::Suspend { .. } | Change::Resume { .. } => Action::Suspend,
            Change::SetTarget(_) => Action::SetTargets,
            Change::Comment(_) | Change::SendBriefing(_) => Action::Brief,
            Change::Attach(_) => Action::Attach,
        }
    }

    /// The secret a write makes that only its answer may show (a fix link's token).
    pub fn secret(&self) -> Option<&str> {
        match self {
            Change::FixLink(l) => Some(l.token.as_str()),
            _ => None,
        }
    }
}

/// A unit to register: everything but its id, which the store assigns. Its micro-grid is
/// the one its location lies in (found on the map when the change is made).
#[derive(Debug, Clone, PartialEq)]
pub struct NewUnit {
    /// Kind of premises.
    pub kind: UnitKind,
    /// Name as registered.
    pub name: Text<200, 1>,
    /// Street address.
    pub address: Text<500>,
    /// Owner or person responsible.
    pub owner_name: Text<100>,
    /// Owner's phone.
    pub owner_phone: Text<40>,
    /// Where it is.
    pub location: Location,
    /// The micro-grid the location lies in.
    pub micro_grid: RegionId,
    /// Provincial risk rating.
    pub risk: RiskLevel,
    /// Enterprise batch.
    pub batch: Option<Batch>,
    /// For a factory-in-factory, the host enterprise.
    pub host: Option<UnitId>,
    /// When it entered the register.
    pub registered_at: PastMoment,
}

impl NewUnit {
    /// The unit as registered, with the id the store gave it.
    pub fn with_id(&self, id: UnitId) -> Unit {
        Unit {
            id,
            kind: self.kind,
            name: self.name.as_str().to_owned(),
            address: self.address.as_str().to_owned(),
            owner_name: self.owner_name.as_str().to_owned(),
            owner_phone: self.owner_phone.as_str().to_owned(),
            location: self.location,
            micro_grid: self.micro_grid.clone(),
            risk: self.risk,
            batch: self.batch,
            host: self.host,
            registered_at: self.registered_at.get(),
        }
    }
}

/// A registered unit's standing facts replaced (its registration time stays).
#[derive(Debug, Clone, PartialEq)]
pub struct UnitEdit {
    /// The unit.
    pub id: UnitId,
    /// Its facts from now on.
    pub unit: NewUnit,
}

/// A value a rule refuses, with the field it is in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

impl UnitEdit {
    /// An edit that leaves `unit` as it is: where a patch starts. Its facts were checked
    /// when they were stored; one that no longer passes (a record from before a rule) is
    /// named, so the client can mend it in the same patch.
    pub fn of(unit: &Unit, now: DateTime<Utc>) -> Result<UnitEdit, FieldError> {
        fn text<const MAX: usize, const MIN: usize>(
            field: &'static str,
            s: &str,
        ) -> Result<Text<MAX, MIN>, FieldError> {
            Text::new(s).map_err(|e| FieldError {
                field,
                message: e.to_string(),
            })
        }
        Ok(UnitEdit {
            id: unit.id,
            unit: NewUnit {
                kind: unit.kind,
                name: text("name", &unit.name)?,
                address: text("address", &unit.address)?,
                owner_name: text("owner_name", &unit.owner_name)?,
                owner_phone: text("owner_phone", &unit.owner_phone)?,
                location: unit.location,
                micro_grid: unit.micro_grid.clone(),
                risk: unit.risk,
                batch: unit.batch,
                host: unit.host,
                registered_at: PastMoment::new(Some(unit.registered_at), now).map_err(|e| {
                    FieldError {
                        field: "registered_at",
                        message: e.to_string(),
                    }
                })?,
            },
        })
    }

    /// The unit as it will be.
    pub fn unit(&self) -> Unit {
        self.unit.with_id(self.id)
    }
}

/// A visit (排查 or 复查) to record: the visit and what it found.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVisit {
    /// The unit visited.
    pub unit: UnitId,
    /// First inspection or re-inspection.
    pub kind: InspectionKind,
    /// Who inspected (name and team).
    pub inspector: Text<100, 1>,
    /// When.
    pub at: PastMoment,
    /// Reference to the owner's signature.
    pub signature: Option<Text<300, 1>>,
    /// References to the photos taken.
    pub photos: Vec<Text<300, 1>>,
    /// The hazards found (none: a pass).
    pub hazards: Vec<NewHazard>,
    /// A comprehensive one-time inspection (综合查一次); its hazards carry the tag.
    pub comprehensive: bool,
    /// The inspector's note.
    pub note: Text<2000>,
}

impl NewVisit {
    /// The visit as recorded, with the id the store gave it.
    pub fn inspection(&self, id: InspectionId) -> Inspection {
        Inspection {
            id,
            unit: self.unit,
            kind: self.kind,
            inspector: self.inspector.as_str().to_owned(),
            at: self.at.get(),
            signature: self.signature.as_ref().map(|s| s.as_str().to_owned()),
            photos: self.photos.iter().map(|p| p.as_str().to_owned()).collect(),
            comprehensive: self.comprehensive,
            note: self.note.as_str().to_owned(),
        }
    }

    /// Its hazards as recorded, with the ids the store gave them (in order).
    pub fn hazards(&self, inspection: InspectionId, ids: &[HazardId]) -> Vec<Hazard> {
        self.hazards
            .iter()
            .zip(ids)
            .map(|(h, &id)| {
                let mut hazard = h.with_ids(id, self.unit, inspection, self.at.get());
                hazard.comprehensive = self.comprehensive;
                hazard
            })
            .collect()
    }
}

/// A hazard found on a visit.
#[derive(Debug, Clone, PartialEq)]
pub struct NewHazard {
    /// What it is about.
    pub category: Category,
    /// Its type: a key of [`super::checklist::HAZARD_TYPES`] or the inspector's words.
    pub hazard_type: Text<100, 1>,
    /// General or major.
    pub severity: Severity,
    /// Rectification stage.
    pub stage: Stage,
    /// By when it must be rectified.
    pub deadline: Option<Deadline>,
}

impl NewHazard {
    /// The hazard as recorded.
    pub fn with_ids(
        &self,
        id: HazardId,
        unit: UnitId,
        inspection: InspectionId,
        found_at: DateTime<Utc>,
    ) -> Hazard {
        Hazard {
            id,
            unit,
            inspection,
            category: self.category,
            hazard_type: self.hazard_type.as_str().to_owned(),
            severity: self.severity,
            stage: self.stage,
            found_at,
            deadline: self.deadline.map(Deadline::get),
            yellow_card_at: None,
            closed_at: None,
            evidence: None,
            comprehensive: false,
        }
    }
}

/// A yellow card (黄牌) for an open hazard: it must be rectified by the new deadline, or
/// the unit turns orange when it passes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct YellowCard {
    /// The hazard.
    pub hazard: HazardId,
    /// When issued.
    pub at: PastMoment,
    /// The new deadline.
    pub deadline: Deadline,
}

/// An open hazard closed (销号).
#[derive(Debug, Clone, PartialEq)]
pub struct Closure {
    /// The hazard.
    pub hazard: HazardId,
    /// When.
    pub at: PastMoment,
    /// Evidence of rectification.
    pub evidence: Text<2000, 1>,
    /// The owner's fix report it rests on, accepted by the closure.
    pub report: Option<FixReportId>,
    /// Who closes it.
    pub by: String,
}

/// An ISO week, `YYYY-Www` (2000 to 2099): what weekly targets are set for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct IsoWeek(String);

/// Not an ISO week.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an ISO week such as 2022-W28")]
pub struct BadWeek;

impl IsoWeek {
    /// The week `date` falls in.
    pub fn of(date: NaiveDate) -> Self {
        let w = date.iso_week();
        IsoWeek(format!("{}-W{:02}", w.year(), w.week()))
    }

    /// Its Monday.
    pub fn monday(&self) -> NaiveDate {
        parse_week(&self.0).unwrap_or_default()
    }

    /// As written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn parse_week(s: &str) -> Option<NaiveDate> {
    let (y, w) = s.split_once("-W")?;
    let year: i32 = y.parse().ok()?;
    let n: u32 = w.parse().ok()?;
    if w.len() != 2 || !(2000..=2099).contains(&year) {
        return None;
    }
    NaiveDate::from_isoywd_opt(year, n, Weekday::Mon)
}

impl FromStr for IsoWeek {
    type Err = BadWeek;
    fn from_str(s: &str) -> Result<Self, BadWeek> {
        parse_week(s).map(|_| IsoWeek(s.to_owned())).ok_or(BadWeek)
    }
}

impl<'de> serde::Deserialize<'de> for IsoWeek {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A group's closure target for an ISO week.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Target {
    /// The group.
    pub group: RegionId,
    /// The week.
    pub week: IsoWeek,
    /// Hazards to close that week.
    pub closures: u32,
    /// Who set it.
    pub set_by: String,
    /// When.
    pub set_at: DateTime<Utc>,
}

/// The town leader's comment (点评) on a region's daily briefing: one per region and
/// day, replaced when written again; an empty text takes it back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BriefingComment {
    /// The region the briefing is of.
    pub region: RegionId,
    /// The day (local date).
    pub date: NaiveDate,
    /// What the leader says.
    pub text: Text<2000>,
    /// Who wrote it.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A day's briefing for one group's channel.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BriefingDelivery {
    /// The group.
    pub group: RegionId,
    /// Where it goes (`command:PATH` or a webhook URL).
    pub sink: String,
    /// The message.
    pub message: String,
}

/// A region's briefing of a day sent: a message queued for each group's channel, once
/// per group and day whoever sends it again.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BriefingSend {
    /// The region the briefing is of.
    pub region: RegionId,
    /// The day.
    pub date: NaiveDate,
    /// The messages, a group each.
    pub deliveries: Vec<BriefingDelivery>,
    /// The briefing's groups that have no channel (nothing is sent to them).
    pub without_channel: Vec<RegionId>,
    /// Who sent it.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

vocabulary! {
    /// What a file added to a unit's record is.
    AttachmentKind, "attachment kind" {
        /// A photo.
        Photo = "photo",
        /// A video.
        Video = "video",
        /// A floor plan.
        FloorPlan = "floor_plan",
    }
}

impl AttachmentKind {
    /// The largest file of any kind (a video).
    pub const MAX_BYTES: usize = 50 * 1024 * 1024;

    /// The largest file of this kind and media type, or `None` if this kind cannot be of
    /// that type: photos JPEG, PNG, WebP, HEIF or AVIF up to 10 MiB; floor plans those or
    /// PDF up to 20 MiB; videos MP4, QuickTime or WebM up to 50 MiB.
    pub fn limit_for(self, media_type: &str) -> Option<usize> {
        const MIB: usize = 1024 * 1024;
        const IMAGES: [&str; 5] = [
            "image/jpeg",
            "image/png",
            "image/webp",
            "image/heif",
            "image/avif",
        ];
        let image = IMAGES.contains(&media_type);
        match self {
            AttachmentKind::Photo if image => Some(10 * MIB),
            AttachmentKind::FloorPlan if image || media_type == "application/pdf" => Some(20 * MIB),
            AttachmentKind::Video
                if ["video/mp4", "video/quicktime", "video/webm"].contains(&media_type) =>
            {
                Some(Self::MAX_BYTES)
            }
            _ => None,
        }
    }
}

/// A file added to a unit's record (stored once per content hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The unit.
    pub unit: UnitId,
    /// Photo, video or floor plan.
    pub kind: AttachmentKind,
    /// SHA-256 of the content: the file's name.
    pub hash: ContentHash,
    /// Its media type, as read from the content.
    pub content_type: &'static str,
    /// The bytes.
    pub data: bytes::Bytes,
    /// Who attached it.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_parse_and_know_their_monday() {
        let w: IsoWeek = "2022-W28".parse().unwrap();
        assert_eq!(w.monday().to_string(), "2022-07-11");
        assert_eq!(IsoWeek::of(w.monday()), w);
        for bad in ["2022-28", "2022-W1", "1999-W10", "2022-W54", "x-W01"] {
            assert!(bad.parse::<IsoWeek>().is_err(), "{bad}");
        }
    }

    #[test]
    fn each_kind_of_file_takes_its_types() {
        assert_eq!(AttachmentKind::Photo.limit_for("image/png"), Some(10 << 20));
        assert_eq!(AttachmentKind::Photo.limit_for("application/pdf"), None);
        assert_eq!(
            AttachmentKind::FloorPlan.limit_for("application/pdf"),
            Some(20 << 20)
        );
        assert_eq!(AttachmentKind::Video.limit_for("image/png"), None);
    }
}
