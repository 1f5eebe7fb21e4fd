//! A register imported in one write: the units of a file, each new or an update of a
//! unit already registered, checked line by line before the write is made (see
//! `app::import`). All of them are written or none.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use super::time::Stamp;
use super::{
    Category, Hazard, HazardFacts, HazardId, Inspection, InspectionId, InspectionKind, Level,
    NewUnit, Region, RegionId, Severity, Stage, Text, UnitId, vocabulary,
};

vocabulary! {
    /// The coordinate system of a file's positions: what phones and Chinese map sites
    /// give (AMap's GCJ-02, Baidu's BD-09) or plain WGS 84, which the map stores.
    Crs, "coordinate system" {
        /// WGS 84 (GPS).
        Wgs84 = "wgs84",
        /// GCJ-02 (国测局, AMap, Tencent).
        Gcj02 = "gcj02",
        /// BD-09 (Baidu).
        Bd09 = "bd09",
    }
}

impl Crs {
    /// `lon`, `lat` in this system, in WGS 84. Outside China GCJ-02 and BD-09 are WGS 84
    /// by definition and the point comes back as it was.
    pub fn to_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 => (lon, lat),
            Crs::Gcj02 => coordtransform::gcj02_to_wgs84(lon, lat),
            Crs::Bd09 => coordtransform::bd09_to_wgs84(lon, lat),
        }
    }
}

/// An external id (编号): the register's own key for a unit, kept beside onemap's id so
/// that a second import of the same register updates instead of adding.
pub type ExternalId = Text<100, 1>;

/// One unit of an import.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedUnit {
    /// The register's key, if the file has one.
    pub external_id: Option<ExternalId>,
    /// The unit this row updates; `None`: a new unit.
    pub existing: Option<UnitId>,
    /// Its facts (a tenant's host left `None` when the host is a new unit of the file).
    pub unit: NewUnit,
    /// For a tenant whose host is a new unit of the same file, that unit's index in
    /// [`UnitImport::units`] (always before the tenant's own).
    pub host_row: Option<usize>,
}

impl ImportedUnit {
    /// Its facts given the ids of the import's units before it: its host filled in when
    /// that is a unit of the same file.
    pub fn resolved(&self, ids: &[UnitId]) -> Cow<'_, NewUnit> {
        match self.host_row.and_then(|h| ids.get(h)) {
            Some(&host) => {
                let mut u = self.unit.clone();
                u.host = Some(host);
                Cow::Owned(u)
            }
            None => Cow::Borrowed(&self.unit),
        }
    }
}

/// A register imported in one write.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitImport {
    /// The units written, hosts before their tenants.
    pub units: Vec<ImportedUnit>,
    /// Rows of the file that matched a unit and changed nothing (not written).
    pub unchanged: usize,
    /// What the file was called, for the log.
    pub source: Text<200>,
}

impl UnitImport {
    /// The facts of unit `i` given the ids of the units before it (`ids[..i]`).
    pub fn unit_at(&self, i: usize, ids: &[UnitId]) -> Cow<'_, NewUnit> {
        self.units[i].resolved(ids)
    }

    /// How many units are new and how many updated.
    pub fn counts(&self) -> (usize, usize) {
        let new = self.units.iter().filter(|u| u.existing.is_none()).count();
        (new, self.units.len() - new)
    }
}

/// Places imported in one write: the regions of one level from a boundary file, each
/// new or replacing the region of the same id, checked whole before the write is made
/// (valid polygons, each inside its parent, siblings apart, every unit still in a
/// micro-grid: see `app::import::regions`). All of them are written or none.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionImport {
    /// The level the file holds.
    pub level: Level,
    /// The regions written, each whole (a region of a known id replaces it), parents
    /// before children; the root with its boundary made from its villages when it had
    /// none.
    pub regions: Vec<Region>,
    /// How many of `regions` are new.
    pub new: usize,
    /// Features of the file that matched a region and changed nothing (not written).
    pub unchanged: usize,
    /// Units whose point now lies in another micro-grid: the unit and its new one.
    pub moved: Vec<(UnitId, RegionId)>,
    /// What the file was called, for the log.
    pub source: Text<200>,
}

/// The records of the apps used before onemap, imported in one write: visits with the
/// hazards they found and what became of each (a yellow card, a closure). Checked row
/// by row when the file is read (`app::import::records`); all written or none.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordImport {
    /// The visits, in the file's order.
    pub visits: Vec<PastVisit>,
    /// Visits of the file already recorded (same unit, moment and inspector): not
    /// written again.
    pub unchanged: usize,
    /// What the file was called, for the log.
    pub source: Text<200>,
}

impl RecordImport {
    /// How many hazards the visits found.
    pub fn hazards(&self) -> usize {
        self.visits.iter().map(|v| v.hazards.len()).sum()
    }
}

/// A visit of the past, as an app recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct PastVisit {
    /// The unit visited.
    pub unit: UnitId,
    /// First inspection or re-inspection.
    pub kind: InspectionKind,
    /// Who inspected.
    pub inspector: Text<100, 1>,
    /// When (not ahead of the import).
    pub at: DateTime<Utc>,
    /// The hazards it found (none: a pass).
    pub hazards: Vec<PastHazard>,
}

impl PastVisit {
    /// The visit as recorded, with the id the store gave it.
    pub fn inspection(&self, id: InspectionId) -> Inspection {
        Inspection {
            id,
            unit: self.unit,
            kind: self.kind,
            inspector: self.inspector.as_str().to_owned(),
            at: self.at,
            signature: None,
            photos: Vec::new(),
            comprehensive: false,
            note: String::new(),
        }
    }

    /// Its hazards as recorded, with the ids the store gave them (in order).
    pub fn hazards(&self, inspection: InspectionId, ids: &[HazardId]) -> Vec<Hazard> {
        self.hazards
            .iter()
            .zip(ids)
            .map(|(h, &id)| Hazard {
                id,
                unit: self.unit,
                inspection,
                category: h.category,
                hazard_type: h.hazard_type.as_str().to_owned(),
                severity: h.severity,
                stage: h.stage,
                found_at: self.at,
                deadline: h.deadline,
                yellow_card_at: h.yellow_card_at,
                closed_at: h.closed_at,
                evidence: h.evidence.as_ref().map(|e| e.as_str().to_owned()),
                comprehensive: false,
            })
            .collect()
    }
}

/// A hazard of the past and what became of it: its life's moments in order, checked
/// once, here ([`PastHazard::new`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PastHazard {
    /// Category.
    pub category: Category,
    /// Type: a key of the checklist, or the app's words.
    pub hazard_type: Text<100, 1>,
    /// General or major.
    pub severity: Severity,
    /// Rectification stage.
    pub stage: Stage,
    /// The deadline in force at the end: a yellow card's, else the stage's.
    pub deadline: Option<DateTime<Utc>>,
    /// When a yellow card was given.
    pub yellow_card_at: Option<DateTime<Utc>>,
    /// When it was closed (销号).
    pub closed_at: Option<DateTime<Utc>>,
    /// The evidence it was closed on.
    pub evidence: Option<Text<2000>>,
}

/// What a hazard's moments say of one another, when they do not hold together: the
/// field (a column of the import) and why.
pub type PastError = (&'static str, &'static str);

/// A hazard's moments as a file gives them.
#[derive(Debug, Clone, Copy, Default)]
pub struct PastMoments {
    /// When the visit found it.
    pub found_at: Option<DateTime<Utc>>,
    /// The stage's deadline.
    pub deadline: Option<DateTime<Utc>>,
    /// A yellow card, and the new deadline it gave.
    pub yellow_card: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Its closure.
    pub closed_at: Option<DateTime<Utc>>,
}

impl PastHazard {
    /// A hazard whose moments hold together as of `now`: a deadline stage has a
    /// deadline; no deadline before it was found; a yellow card after it was found and
    /// before it was closed, with a new deadline after the card; a closure after it was
    /// found; nothing ahead of `now` but deadlines.
    #[allow(
        clippy::too_many_arguments,
        reason = "a record's columns, named once here"
    )]
    pub fn new(
        category: Category,
        hazard_type: Text<100, 1>,
        severity: Severity,
        stage: Stage,
        m: PastMoments,
        evidence: Option<Text<2000>>,
        now: DateTime<Utc>,
    ) -> Result<Self, PastError> {
        let found = m.found_at.ok_or(("at", "missing"))?;
        if stage == Stage::Deadline && m.deadline.is_none() {
            return Err(("deadline", "a deadline stage (限期整改) needs its deadline"));
        }
        if m.deadline.is_some_and(|d| d < found) {
            return Err(("deadline", "before the hazard was found"));
        }
        if let Some((at, deadline)) = m.yellow_card {
            if at < found {
                return Err(("yellow_card_at", "before the hazard was found"));
            }
            if at > now {
                return Err(("yellow_card_at", "ahead of now"));
            }
            if deadline <= at {
                return Err(("yellow_card_deadline", "not after the yellow card"));
            }
            if m.closed_at.is_some_and(|c| c < at) {
                return Err(("yellow_card_at", "after the hazard was closed"));
            }
        }
        if let Some(c) = m.closed_at {
            if c < found {
                return Err(("closed_at", "before the hazard was found"));
            }
            if c > now {
                return Err(("closed_at", "ahead of now"));
            }
        }
        Ok(PastHazard {
            category,
            hazard_type,
            severity,
            stage,
            deadline: m.yellow_card.map(|(_, d)| d).or(m.deadline),
            yellow_card_at: m.yellow_card.map(|(at, _)| at),
            closed_at: m.closed_at,
            evidence: if m.closed_at.is_some() {
                evidence.or_else(|| Text::new("导入的销号记录").ok())
            } else {
                None
            },
        })
    }

    /// Its facts for the colour rule, found at `found_at` with id `id`.
    pub fn facts(&self, id: HazardId, found_at: DateTime<Utc>) -> HazardFacts {
        HazardFacts {
            id,
            found_at: Stamp::of(found_at),
            deadline: self.deadline.map(Stamp::of),
            yellow_card_at: self.yellow_card_at.map(Stamp::of),
            closed_at: self.closed_at.map(Stamp::of),
            severity: self.severity,
            stage: self.stage,
            comprehensive: false,
        }
    }
}
