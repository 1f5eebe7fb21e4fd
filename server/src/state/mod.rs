//! The map state in memory: regions linked and indexed, every unit with the facts its
//! colour depends on, all units in an R-tree, and the live aggregates. Built from a
//! store's [`Dataset`](crate::store::Dataset) at start, then kept in step with every committed write
//! incrementally ([`apply`]); views (stats, tiles, OGC items) read only from here,
//! never from the store.
//!
//! Invariants: `units[i]` is the unit with handle `i` (handles never change); `by_id`,
//! `hazard_at`, the R-tree and the micro-grids' members hold exactly the units and
//! hazards in `units`; the live aggregates equal a fold at `live.at` (checked by the
//! tests in [`live`]).

pub mod aggregate;
pub mod apply;
mod builder;
pub mod history;
mod index;
pub mod live;
mod members;
pub mod points;
pub mod regions;
pub mod scope;
pub mod stats;

#[cfg(test)]
pub(crate) mod fixture;

use chrono::{DateTime, Utc};
use h3o::{CellIndex, LatLng, Resolution};

use crate::domain::time::Stamp;
use crate::domain::{
    Batch, HazardFacts, HazardId, Location, RegionId, RiskLevel, Suspension, Unit, UnitFacts,
    UnitId, UnitKind,
};
pub use builder::MapBuilder;
use index::{HazardIndex, UnitIndex};
pub use live::Live;
pub use regions::{RegionError, RegionIdx, RegionTree};

/// A unit's handle: its position in [`MapState::units`].
pub type UnitIdx = u32;

pub use points::{PointIndex, UnitPoint};

/// The finest H3 resolution kept per unit (about a micro-grid at Guali); coarser
/// cells are its parents.
pub const FINEST_HEX: Resolution = Resolution::Nine;

/// A dataset that cannot be served as a map.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The place hierarchy is inconsistent.
    #[error(transparent)]
    Regions(#[from] RegionError),
    /// A unit names a micro-grid that does not exist or is not a micro-grid.
    #[error("unit {unit} is in `{micro_grid}`, which is not a micro-grid")]
    UnknownMicroGrid {
        /// The unit.
        unit: UnitId,
        /// What it named.
        micro_grid: String,
    },
    /// A factory-in-factory whose host is missing, not an enterprise, or itself a tenant.
    #[error("unit {unit} names host {host}, which is not a registered enterprise of its own")]
    BadHost {
        /// The tenant.
        unit: UnitId,
        /// The host it names.
        host: UnitId,
    },
    /// A location that is not a point on Earth.
    #[error("unit {0} has a location that is not a valid longitude/latitude")]
    BadLocation(UnitId),
    /// A unit id given twice.
    #[error("unit {0} appears twice")]
    DuplicateUnit(UnitId),
    /// A hazard id given twice, or unknown where one is needed.
    #[error("hazard {0} is unknown or appears twice")]
    BadHazard(HazardId),
    /// The store failed while the map was read from it.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A change the map cannot take as it is (ids missing from what the store
    /// assigned): a bug.
    #[error("a change came without the ids it needs")]
    BadChange,
    /// A record names a unit that does not exist.
    #[error("a {what} refers to unit {unit}, which does not exist")]
    UnknownUnit {
        /// Kind of record.
        what: &'static str,
        /// The unit it names.
        unit: UnitId,
    },
}

/// A unit as the map keeps it: everything but its text (name, address, owner), which
/// stays in the store and is read for the few units a page or a card shows. This is
/// what keeps the map within its memory budget per unit.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitCore {
    /// Id.
    pub id: UnitId,
    /// Kind of premises.
    pub kind: UnitKind,
    /// Location, WGS 84 lon/lat.
    pub location: Location,
    /// Provincial risk rating.
    pub risk: RiskLevel,
    /// Enterprise batch.
    pub batch: Option<Batch>,
    /// For a factory-in-factory, the host enterprise.
    pub host: Option<UnitId>,
    /// When it entered the register.
    pub registered_at: DateTime<Utc>,
}

impl UnitCore {
    /// Whether this is a factory within a factory (厂中厂).
    pub fn is_factory_in_factory(&self) -> bool {
        self.host.is_some()
    }
}

impl UnitCore {
    /// The whole unit, given its text (from the store) and its micro-grid's id.
    pub fn with_text(&self, micro_grid: RegionId, text: crate::store::UnitText) -> Unit {
        Unit {
            id: self.id,
            kind: self.kind,
            name: text.name,
            address: text.address,
            owner_name: text.owner_name,
            owner_phone: text.owner_phone,
            location: self.location,
            micro_grid,
            risk: self.risk,
            batch: self.batch,
            host: self.host,
            registered_at: self.registered_at,
        }
    }
}

impl From<&Unit> for UnitCore {
    fn from(u: &Unit) -> Self {
        UnitCore {
            id: u.id,
            kind: u.kind,
            location: u.location,
            risk: u.risk,
            batch: u.batch,
            host: u.host,
            registered_at: u.registered_at,
        }
    }
}

/// One unit and everything its colour depends on.
#[derive(Debug, Clone)]
pub struct UnitEntry {
    /// The unit as registered (without its text).
    pub unit: UnitCore,
    /// Index of its micro-grid in the region tree.
    pub micro_grid: RegionIdx,
    /// Its first visit, if any.
    pub first_inspected_at: Option<Stamp>,
    /// Its hazards.
    pub hazards: Box<[HazardFacts]>,
    /// Its suspension orders.
    pub suspensions: Box<[Suspension]>,
    /// Its H3 cell at [`FINEST_HEX`].
    pub cell: CellIndex,
}

impl UnitEntry {
    /// The facts the colour rule reads.
    pub fn facts(&self) -> UnitFacts<'_> {
        UnitFacts {
            first_inspected_at: self.first_inspected_at.map(Stamp::time),
            suspensions: &self.suspensions,
            hazards: &self.hazards,
        }
    }
}

/// Regions and units, ready to answer questions about any moment.
#[derive(Debug)]
pub struct MapState {
    /// The place hierarchy.
    pub regions: RegionTree,
    /// Every unit, by handle.
    pub units: Vec<UnitEntry>,
    /// Handle of each unit id.
    by_id: UnitIndex,
    /// Which unit each hazard belongs to.
    hazard_at: HazardIndex,
    /// Every unit's location.
    points: PointIndex,
    /// Aggregates and colours for the present, kept up to date.
    live: Live,
    /// Daily checkpoints of the coarse regions, when kept ([`MapState::keep_history`]).
    history: Option<history::History>,
    /// The units of each micro-grid.
    members: members::Members,
}

/// The H3 cell of a lon/lat at [`FINEST_HEX`], if it is a valid coordinate.
pub fn cell_of(lon: f64, lat: f64) -> Option<CellIndex> {
    LatLng::new(lat, lon).ok().map(|ll| ll.to_cell(FINEST_HEX))
}

impl MapState {
    /// A unit entry with its micro-grid resolved and checked.
    fn entry(regions: &RegionTree, unit: Unit) -> Result<UnitEntry, StateError> {
        Self::entry_of(regions, UnitCore::from(&unit), unit.micro_grid.as_str())
    }

    /// A unit entry with its micro-grid (by id) resolved and checked, its cell found.
    fn entry_of(
        regions: &RegionTree,
        unit: UnitCore,
        micro_grid: &str,
    ) -> Result<UnitEntry, StateError> {
        let cell = cell_of(unit.location.x(), unit.location.y())
            .ok_or(StateError::BadLocation(unit.id))?;
        Self::entry_of_deferred(regions, unit, micro_grid, cell)
    }

    /// [`MapState::entry_of`] with `cell` standing in for the unit's cell (found later,
    /// in bulk).
    fn entry_of_deferred(
        regions: &RegionTree,
        unit: UnitCore,
        micro_grid: &str,
        cell: CellIndex,
    ) -> Result<UnitEntry, StateError> {
        let mg = regions
            .find_str(micro_grid)
            .filter(|&i| regions.get(i).level == crate::domain::Level::MicroGrid)
            .ok_or_else(|| StateError::UnknownMicroGrid {
                unit: unit.id,
                micro_grid: micro_grid.to_owned(),
            })?;
        Ok(UnitEntry {
            unit,
            micro_grid: mg,
            first_inspected_at: None,
            hazards: Box::default(),
            suspensions: Box::default(),
            cell,
        })
    }

    /// A factory-in-factory must be an enterprise hosted by an enterprise of its own.
    fn check_host(units: &[UnitEntry], by_id: &UnitIndex, e: &UnitEntry) -> Result<(), StateError> {
        let Some(host) = e.unit.host else {
            return Ok(());
        };
        let ok = by_id.get(units, host).is_some_and(|h| {
            let h = &units[h as usize];
            h.unit.kind == UnitKind::Enterprise && h.unit.host.is_none()
        });
        if !ok || e.unit.kind != UnitKind::Enterprise {
            return Err(StateError::BadHost {
                unit: e.unit.id,
                host,
            });
        }
        Ok(())
    }

    /// The handle of a unit id.
    pub fn unit_idx(&self, id: UnitId) -> Option<UnitIdx> {
        self.by_id.get(&self.units, id)
    }

    /// The unit with this id.
    pub fn unit(&self, id: UnitId) -> Option<&UnitEntry> {
        self.unit_idx(id).map(|i| &self.units[i as usize])
    }

    /// The index of unit locations.
    pub fn points(&self) -> &PointIndex {
        &self.points
    }

    /// The units whose location lies in the box `env` (boundary included).
    pub fn units_in_box(&self, env: &rstar::AABB<[f64; 2]>) -> impl Iterator<Item = UnitIdx> + '_ {
        self.points.locate_in_envelope(&self.units, env)
    }

    /// The live aggregates (valid for `live().at()`).
    pub fn live(&self) -> &Live {
        &self.live
    }

    /// The units of `region`'s subtree (in no particular order).
    pub fn units_under(&self, region: RegionIdx) -> impl Iterator<Item = &UnitEntry> + '_ {
        self.members
            .under(&self.regions, region)
            .map(|u| &self.units[u as usize])
    }
}

impl UnitEntry {
    /// Every timestamp among the unit's facts (registration, first visit, each
    /// hazard's finding, deadline, yellow card and closing, each suspension's start and
    /// end): the only moments its contribution to any figure can change at.
    pub fn moments(&self) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        let hazards = self.hazards.iter().flat_map(|h| {
            [Some(h.found_at), h.deadline, h.yellow_card_at, h.closed_at]
                .map(|s| s.map(Stamp::time))
        });
        let suspensions = self
            .suspensions
            .iter()
            .flat_map(|s| [Some(s.started_at), s.ended_at]);
        [
            Some(self.unit.registered_at),
            self.first_inspected_at.map(Stamp::time),
        ]
        .into_iter()
        .chain(hazards)
        .chain(suspensions)
        .flatten()
    }

    /// Whether the unit had been visited by `at` (a first inspection, or a hazard found,
    /// which only a visit can do). Independent of colour: a suspended unit may or may
    /// not have been inspected.
    pub fn visited_by(&self, at: DateTime<Utc>) -> bool {
        self.first_inspected_at.is_some_and(|t| t <= Stamp::of(at))
            || self.hazards.iter().any(|h| h.is_found(at))
    }
}
