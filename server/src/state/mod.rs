//! The map state in memory: regions linked and indexed, every unit with the facts its
//! colour depends on, all units in an R-tree, and the live aggregates. Built from a
//! store's [`Dataset`] at start, then kept in step with every committed write
//! incrementally ([`apply`]); views (stats, tiles, OGC items) read only from here,
//! never from the store.
//!
//! Invariants: `units[i]` is the unit with handle `i` (handles never change); `by_id`,
//! `hazard_at` and the R-tree hold exactly the units and hazards in `units`; the live
//! aggregates equal a fold at `live.at` (checked by the tests in [`live`]).

pub mod aggregate;
pub mod apply;
pub mod live;
pub mod points;
pub mod regions;
pub mod scope;
pub mod stats;

#[cfg(test)]
pub(crate) mod fixture;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use h3o::{CellIndex, LatLng, Resolution};

use crate::domain::time::Stamp;
use crate::domain::{
    Batch, HazardFacts, HazardId, Location, RiskLevel, Suspension, Unit, UnitFacts, UnitId,
    UnitKind,
};
use crate::store::Dataset;
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
        // Ids are usually dense from the first: try the guess first.
        if let Some(first) = units.first() {
            let guess = id.get().wrapping_sub(first.unit.id.get());
            if let Ok(g) = usize::try_from(guess)
                && g < self.sorted
                && units[g].unit.id == id
            {
                return Some(g as UnitIdx);
            }
        }
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
        let mut b = MapBuilder::new(data.regions)?;
        for u in &data.units {
            b.unit_core(UnitCore::from(u), u.micro_grid.as_str())?;
        }
        for i in &data.inspections {
            b.inspected(i.unit, i.at);
        }
        for h in &data.hazards {
            b.hazards.push((h.unit, HazardFacts::from(h)));
        }
        b.suspensions = data.suspensions;
        b.finish(now)
    }

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
}

/// What the indexing thread of a [`MapBuilder`] makes: each unit's cell and the point
/// index, or the first unit whose location has no cell.
type Indexed = Result<(Vec<CellIndex>, PointIndex), UnitId>;

/// Builds a [`MapState`] record by record (from a [`Dataset`], or streamed from a
/// store by [`crate::store::MapSink`]), checking every reference, then indexes it.
#[derive(Debug)]
pub struct MapBuilder {
    regions: RegionTree,
    units: Vec<UnitEntry>,
    first_inspections: Vec<(UnitId, Stamp)>,
    hazards: Vec<(UnitId, HazardFacts)>,
    suspensions: Vec<Suspension>,
    /// Whether `units` is in id order so far.
    in_order: bool,
    /// Started by [`MapBuilder::units_done`]: each unit's H3 cell (by position) and the
    /// point index, built from a copy of the locations while the facts stream in.
    indexing: Option<std::thread::JoinHandle<Indexed>>,
    /// The cell entries hold until theirs is found.
    placeholder: CellIndex,
}

impl MapBuilder {
    /// Starts with the place hierarchy (checked).
    pub fn new(regions: Vec<crate::domain::Region>) -> Result<Self, StateError> {
        Ok(MapBuilder {
            regions: RegionTree::new(regions)?,
            units: Vec::new(),
            first_inspections: Vec::new(),
            hazards: Vec::new(),
            suspensions: Vec::new(),
            in_order: true,
            indexing: None,
            placeholder: cell_of(0.0, 0.0).ok_or(StateError::Regions(RegionError::Roots(0)))?,
        })
    }

    /// Makes room for `units` units and `hazards` hazards (a hint).
    pub fn reserve(&mut self, units: usize, hazards: usize) {
        self.units.reserve_exact(units);
        self.hazards.reserve_exact(hazards);
    }

    /// Every unit is in: finds their H3 cells and packs the point index on another
    /// thread, from a copy of the locations, while the facts are read. (Cells of units
    /// added after this are found by [`MapBuilder::finish`].)
    pub fn units_done(&mut self) {
        let units: Vec<(UnitId, [f64; 2])> = self
            .units
            .iter()
            .map(|e| (e.unit.id, [e.unit.location.x(), e.unit.location.y()]))
            .collect();
        self.indexing = Some(std::thread::spawn(move || {
            let cells = units
                .iter()
                .map(|&(id, [x, y])| cell_of(x, y).ok_or(id))
                .collect::<Result<Vec<_>, _>>()?;
            let locations: Vec<[f64; 2]> = units.into_iter().map(|(_, p)| p).collect();
            Ok((cells, PointIndex::from_locations(&locations)))
        }));
    }

    /// Adds a unit in the micro-grid with id `micro_grid`.
    pub fn unit_core(&mut self, unit: UnitCore, micro_grid: &str) -> Result<(), StateError> {
        let mut e = MapState::entry_of_deferred(&self.regions, unit, micro_grid, self.placeholder)?;
        if self.indexing.is_some() {
            e.cell = cell_of(e.unit.location.x(), e.unit.location.y())
                .ok_or(StateError::BadLocation(e.unit.id))?;
        }
        self.in_order &= self.units.last().is_none_or(|l| l.unit.id < e.unit.id);
        self.units.push(e);
        Ok(())
    }

    /// Records a visit (the earliest per unit counts): at once when the units so far
    /// came in id order (a store's usual order), else kept for [`MapBuilder::finish`].
    pub fn inspected(&mut self, unit: UnitId, at: DateTime<Utc>) {
        let at = Stamp::of(at);
        if self.in_order {
            let index = UnitIndex {
                sorted: self.units.len(),
                out_of_order: HashMap::new(),
            };
            if let Some(u) = index.get(&self.units, unit) {
                let first = &mut self.units[u as usize].first_inspected_at;
                *first = Some(first.map_or(at, |f| f.min(at)));
                return;
            }
        }
        self.first_inspections.push((unit, at));
    }

    /// Links everything, builds the R-tree and the live aggregates as of `now`.
    pub fn finish(self, now: DateTime<Utc>) -> Result<MapState, StateError> {
        let MapBuilder {
            regions,
            mut units,
            first_inspections,
            hazards,
            suspensions,
            in_order: _,
            indexing,
            placeholder: _,
        } = self;
        units.shrink_to_fit();
        // Cells and point index: from the thread started when the units were in (units
        // added after it found their cells as they came), or now for all.
        let mut packed = None;
        if let Some(job) = indexing {
            let (cells, points) = job
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
                .map_err(StateError::BadLocation)?;
            for (e, c) in units.iter_mut().zip(cells) {
                e.cell = c;
            }
            packed = Some(points);
        } else {
            for e in &mut units {
                e.cell = cell_of(e.unit.location.x(), e.unit.location.y())
                    .ok_or(StateError::BadLocation(e.unit.id))?;
            }
        }
        let sorted_before = units.is_sorted_by_key(|e| e.unit.id);
        if !sorted_before {
            // Handles change with the order: the packed index no longer fits.
            packed = None;
        }
        if !sorted_before {
            units.sort_unstable_by_key(|e| e.unit.id);
        }
        if let Some(w) = units.windows(2).find(|w| w[0].unit.id == w[1].unit.id) {
            return Err(StateError::DuplicateUnit(w[0].unit.id));
        }
        let by_id = UnitIndex {
            sorted: units.len(),
            out_of_order: HashMap::new(),
        };
        for e in &units {
            MapState::check_host(&units, &by_id, e)?;
        }
        let find = |units: &[UnitEntry], what, unit: UnitId| {
            by_id
                .get(units, unit)
                .map(|i| i as usize)
                .ok_or(StateError::UnknownUnit { what, unit })
        };
        for (unit, at) in first_inspections {
            let u = find(&units, "inspection", unit)?;
            let first = &mut units[u].first_inspected_at;
            *first = Some(first.map_or(at, |f| f.min(at)));
        }
        // Gathered per unit (sorted by unit, then by id), then kept as exact-size slices.
        let mut hazards: Vec<(UnitIdx, HazardFacts)> = hazards
            .into_iter()
            .map(|(unit, h)| Ok((find(&units, "hazard", unit)? as UnitIdx, h)))
            .collect::<Result<_, StateError>>()?;
        hazards.sort_unstable_by_key(|(u, h)| (*u, h.id));
        let mut hazard_at = HazardIndex::default();
        for (u, h) in &hazards {
            if !hazard_at.insert(h.id, *u) {
                return Err(StateError::BadHazard(h.id));
            }
        }
        for group in hazards.chunk_by(|a, b| a.0 == b.0) {
            units[group[0].0 as usize].hazards = group.iter().map(|(_, h)| *h).collect();
        }
        drop(hazards);
        let mut per_unit: Vec<(UnitIdx, Suspension)> = suspensions
            .into_iter()
            .map(|s| Ok((find(&units, "suspension", s.unit)? as UnitIdx, s)))
            .collect::<Result<_, StateError>>()?;
        per_unit.sort_by_key(|(u, _)| *u);
        for group in per_unit.chunk_by(|a, b| a.0 == b.0) {
            units[group[0].0 as usize].suspensions = group.iter().map(|(_, s)| s.clone()).collect();
        }
        // The two big indexes at once, one per core (the points may be packed already,
        // but only for the units that were in when they were).
        let (points, live) = std::thread::scope(|s| {
            let points = s.spawn(|| match packed {
                Some(p) if p.size() == units.len() => p,
                _ => PointIndex::build(&units),
            });
            let live = Live::compute(&regions, &units, now);
            (points.join(), live)
        });
        let points = points.unwrap_or_else(|p| std::panic::resume_unwind(p));
        Ok(MapState {
            regions,
            units,
            by_id,
            hazard_at,
            points,
            live,
        })
    }
}

impl crate::store::MapSink for MapBuilder {
    type Error = StateError;
    fn units_done(&mut self) {
        MapBuilder::units_done(self);
    }
    fn reserve(&mut self, units: usize, hazards: usize) {
        MapBuilder::reserve(self, units, hazards);
    }
    fn unit(&mut self, u: crate::store::MapUnit<'_>) -> Result<(), Self::Error> {
        let core = UnitCore {
            id: u.id,
            kind: u.kind,
            location: u.location,
            risk: u.risk,
            batch: u.batch,
            host: u.host,
            registered_at: u.registered_at,
        };
        self.unit_core(core, u.micro_grid)
    }
    fn first_inspection(&mut self, unit: UnitId, at: DateTime<Utc>) -> Result<(), Self::Error> {
        self.inspected(unit, at);
        Ok(())
    }
    fn hazard(&mut self, unit: UnitId, facts: HazardFacts) -> Result<(), Self::Error> {
        self.hazards.push((unit, facts));
        Ok(())
    }
    fn suspension(&mut self, s: Suspension) -> Result<(), Self::Error> {
        self.suspensions.push(s);
        Ok(())
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
