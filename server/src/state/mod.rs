//! The map state in memory: regions linked and indexed, every unit with the facts its
//! colour depends on, all units in an R-tree, and the live aggregates. Built from a
//! store's [`Dataset`] at start, then kept in step with every committed write
//! incrementally ([`writes`]); views (stats, tiles, OGC items) read only from here,
//! never from the store.
//!
//! Invariants: `units[i]` is the unit with handle `i` (handles never change); `by_id`,
//! `hazard_at` and the R-tree hold exactly the units and hazards in `units`; the live
//! aggregates equal a fold at `live.at` (checked by the tests in [`live`]).

pub mod aggregate;
pub mod live;
pub mod regions;
pub mod scope;
pub mod stats;
pub mod writes;

#[cfg(test)]
pub(crate) mod fixture;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use h3o::{CellIndex, LatLng, Resolution};
use rstar::RTree;
use rstar::primitives::GeomWithData;

use geo::Point;

use crate::domain::time::Stamp;
use crate::domain::{
    Batch, HazardFacts, HazardId, RiskLevel, Suspension, Unit, UnitFacts, UnitId, UnitKind,
};
use crate::store::Dataset;
pub use live::Live;
pub use regions::{RegionError, RegionIdx, RegionTree};

/// A unit's handle: its position in [`MapState::units`].
pub type UnitIdx = u32;

/// A unit in the R-tree: its lon/lat and handle.
pub type UnitPoint = GeomWithData<[f64; 2], UnitIdx>;

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
    pub location: Point<f64>,
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
    points: RTree<UnitPoint>,
    /// Aggregates and colours for the present, kept up to date.
    live: Live,
}

/// The handle of each unit id. Units are loaded in id order and the store assigns
/// growing ids, so a binary search over `units` finds nearly every unit; the few added
/// out of order sit in a map. (A hash map of every id would cost ~30 bytes a unit.)
#[derive(Debug, Default)]
pub(crate) struct UnitIndex {
    /// `units[..sorted]` is ordered by id.
    sorted: usize,
    out_of_order: HashMap<UnitId, UnitIdx>,
}

impl UnitIndex {
    fn get(&self, units: &[UnitEntry], id: UnitId) -> Option<UnitIdx> {
        units[..self.sorted]
            .binary_search_by_key(&id, |e| e.unit.id)
            .ok()
            .map(|i| i as UnitIdx)
            .or_else(|| self.out_of_order.get(&id).copied())
    }

    /// Indexes the unit just pushed as `units.last()`.
    fn push(&mut self, units: &[UnitEntry]) {
        let n = units.len();
        let Some(last) = units.last() else { return };
        let in_order = self.sorted == n - 1 && (n == 1 || units[n - 2].unit.id < last.unit.id);
        if in_order {
            self.sorted = n;
        } else {
            self.out_of_order.insert(last.unit.id, (n - 1) as UnitIdx);
        }
    }
}

/// Which unit each hazard belongs to. Store ids are sequential, so a dense vector by
/// id (4 bytes a hazard) holds them; an id beyond [`HazardIndex::DENSE_LIMIT`] goes to a
/// map instead.
#[derive(Debug, Default)]
struct HazardIndex {
    dense: Vec<UnitIdx>,
    sparse: HashMap<HazardId, UnitIdx>,
}

impl HazardIndex {
    const DENSE_LIMIT: i64 = 1 << 26;
    const NONE: UnitIdx = UnitIdx::MAX;

    fn get(&self, id: HazardId) -> Option<UnitIdx> {
        let raw = id.get();
        if raw < Self::DENSE_LIMIT {
            self.dense
                .get(raw as usize)
                .copied()
                .filter(|&u| u != Self::NONE)
        } else {
            self.sparse.get(&id).copied()
        }
    }

    /// Records `id` at `unit`; false if `id` is already there.
    fn insert(&mut self, id: HazardId, unit: UnitIdx) -> bool {
        if self.get(id).is_some() {
            return false;
        }
        let raw = id.get();
        if raw < Self::DENSE_LIMIT {
            let i = raw as usize;
            if self.dense.len() <= i {
                self.dense.resize(i + 1, Self::NONE);
            }
            self.dense[i] = unit;
        } else {
            self.sparse.insert(id, unit);
        }
        true
    }
}

/// The H3 cell of a lon/lat at [`FINEST_HEX`], if it is a valid coordinate.
pub fn cell_of(lon: f64, lat: f64) -> Option<CellIndex> {
    LatLng::new(lat, lon).ok().map(|ll| ll.to_cell(FINEST_HEX))
}

impl MapState {
    /// Builds the state from everything a store holds, with live aggregates as of `now`.
    pub fn build(data: Dataset, now: DateTime<Utc>) -> Result<Self, StateError> {
        let regions = RegionTree::new(data.regions)?;
        let mut units = Vec::with_capacity(data.units.len());
        let mut sorted = data.units;
        sorted.sort_by_key(|u| u.id);
        for unit in sorted {
            units.push(Self::entry(&regions, unit)?);
        }
        if let Some(w) = units.windows(2).find(|w| w[0].unit.id == w[1].unit.id) {
            return Err(StateError::DuplicateUnit(w[0].unit.id));
        }
        let by_id = UnitIndex {
            sorted: units.len(),
            out_of_order: HashMap::new(),
        };
        for e in &units {
            Self::check_host(&units, &by_id, e)?;
        }
        let find = |units: &[UnitEntry], what, unit: UnitId| {
            by_id
                .get(units, unit)
                .map(|i| i as usize)
                .ok_or(StateError::UnknownUnit { what, unit })
        };
        for i in &data.inspections {
            let u = find(&units, "inspection", i.unit)?;
            let at = Stamp::of(i.at);
            let first = &mut units[u].first_inspected_at;
            *first = Some(first.map_or(at, |f| f.min(at)));
        }
        // Gathered in vectors, then kept as exact-size boxed slices.
        let mut hazards = vec![Vec::new(); units.len()];
        let mut hazard_at = HazardIndex::default();
        for h in &data.hazards {
            let u = find(&units, "hazard", h.unit)?;
            if !hazard_at.insert(h.id, u as UnitIdx) {
                return Err(StateError::BadHazard(h.id));
            }
            hazards[u].push(HazardFacts::from(h));
        }
        let mut suspensions = vec![Vec::new(); units.len()];
        for s in data.suspensions {
            let u = find(&units, "suspension", s.unit)?;
            suspensions[u].push(s);
        }
        for ((e, h), s) in units.iter_mut().zip(hazards).zip(suspensions) {
            e.hazards = h.into_boxed_slice();
            e.suspensions = s.into_boxed_slice();
        }
        let points = RTree::bulk_load(
            units
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    UnitPoint::new([e.unit.location.x(), e.unit.location.y()], i as UnitIdx)
                })
                .collect(),
        );
        let live = Live::empty(&regions, now);
        let mut state = MapState {
            regions,
            units,
            by_id,
            hazard_at,
            points,
            live,
        };
        state.rebuild_live(now);
        Ok(state)
    }

    /// A unit entry with its micro-grid resolved and checked.
    fn entry(regions: &RegionTree, unit: Unit) -> Result<UnitEntry, StateError> {
        let micro_grid = regions
            .find(&unit.micro_grid)
            .filter(|&i| regions.get(i).level == crate::domain::Level::MicroGrid)
            .ok_or_else(|| StateError::UnknownMicroGrid {
                unit: unit.id,
                micro_grid: unit.micro_grid.to_string(),
            })?;
        let cell = cell_of(unit.location.x(), unit.location.y())
            .ok_or(StateError::BadLocation(unit.id))?;
        Ok(UnitEntry {
            unit: UnitCore::from(&unit),
            micro_grid,
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

    /// The R-tree of unit locations.
    pub fn points(&self) -> &RTree<UnitPoint> {
        &self.points
    }

    /// The live aggregates (valid for `live().at()`).
    pub fn live(&self) -> &Live {
        &self.live
    }
}

impl UnitEntry {
    /// Whether the unit had been visited by `at` (a first inspection, or a hazard found,
    /// which only a visit can do). Independent of colour: a suspended unit may or may
    /// not have been inspected.
    pub fn visited_by(&self, at: DateTime<Utc>) -> bool {
        self.first_inspected_at.is_some_and(|t| t <= Stamp::of(at))
            || self.hazards.iter().any(|h| h.is_found(at))
    }
}
