//! Building the map at start: [`MapBuilder`] takes the regions, then the units and
//! their facts record by record (from a [`Dataset`], or streamed from the store), checks
//! every reference, and indexes it all, the point index and the cells on other threads
//! while the facts still stream in.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use h3o::CellIndex;

use super::index::{HazardIndex, UnitIndex};
use super::members;
use super::{
    Live, MapState, PointIndex, RegionError, RegionTree, StateError, UnitCore, UnitEntry, UnitIdx,
    cell_of,
};
use crate::domain::time::Stamp;
use crate::domain::{HazardFacts, Suspension, UnitId};
use crate::store::Dataset;

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
        let members = members::Members::build(&regions, &units);
        Ok(MapState {
            regions,
            units,
            by_id,
            hazard_at,
            points,
            live,
            history: None,
            members,
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
