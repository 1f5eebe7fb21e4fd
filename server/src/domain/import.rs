//! A register imported in one write: the units of a file, each new or an update of a
//! unit already registered, checked line by line before the write is made (see
//! `app::import`). All of them are written or none.

use std::borrow::Cow;

use super::{Level, NewUnit, Region, RegionId, Text, UnitId, vocabulary};

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
