//! The map state in memory: regions linked and indexed, every unit with the facts its
//! colour depends on. Built from a store's [`Dataset`]; views (stats now, tiles later)
//! read only from here, never from the store.

pub mod regions;
pub mod stats;

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::domain::{HazardFacts, Suspension, Unit, UnitFacts, UnitId, UnitKind};
use crate::store::Dataset;
pub use regions::{RegionError, RegionIdx, RegionTree};

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
    /// A record names a unit that does not exist.
    #[error("a {what} refers to unit {unit}, which does not exist")]
    UnknownUnit {
        /// Kind of record.
        what: &'static str,
        /// The unit it names.
        unit: UnitId,
    },
}

/// One unit and everything its colour depends on.
#[derive(Debug, Clone)]
pub struct UnitEntry {
    /// The unit as registered.
    pub unit: Unit,
    /// Index of its micro-grid in the region tree.
    pub micro_grid: RegionIdx,
    /// Its first visit, if any.
    pub first_inspected_at: Option<DateTime<Utc>>,
    /// Its hazards.
    pub hazards: Vec<HazardFacts>,
    /// Its suspension orders.
    pub suspensions: Vec<Suspension>,
}

impl UnitEntry {
    /// The facts the colour rule reads.
    pub fn facts(&self) -> UnitFacts<'_> {
        UnitFacts {
            first_inspected_at: self.first_inspected_at,
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
    /// Every unit, ordered by id.
    pub units: Vec<UnitEntry>,
}

impl MapState {
    /// Builds the state from everything a store holds.
    pub fn build(data: Dataset) -> Result<Self, StateError> {
        let regions = RegionTree::new(data.regions)?;
        let mut units = Vec::with_capacity(data.units.len());
        let mut by_id = HashMap::with_capacity(data.units.len());
        for unit in data.units {
            let micro_grid = regions
                .find(&unit.micro_grid)
                .filter(|&i| regions.get(i).level == crate::domain::Level::MicroGrid)
                .ok_or_else(|| StateError::UnknownMicroGrid {
                    unit: unit.id,
                    micro_grid: unit.micro_grid.to_string(),
                })?;
            by_id.insert(unit.id, units.len());
            units.push(UnitEntry {
                unit,
                micro_grid,
                first_inspected_at: None,
                hazards: Vec::new(),
                suspensions: Vec::new(),
            });
        }
        for e in &units {
            let Some(host) = e.unit.host else { continue };
            let ok = by_id.get(&host).is_some_and(|&h| {
                let h: &UnitEntry = &units[h];
                h.unit.kind == UnitKind::Enterprise && h.unit.host.is_none()
            });
            if !ok || e.unit.kind != UnitKind::Enterprise {
                return Err(StateError::BadHost {
                    unit: e.unit.id,
                    host,
                });
            }
        }
        let entry = |what, unit: UnitId| {
            by_id
                .get(&unit)
                .copied()
                .ok_or(StateError::UnknownUnit { what, unit })
        };
        let mut touched = Vec::new();
        for i in &data.inspections {
            let e = entry("inspection", i.unit)?;
            touched.push((e, i.at));
        }
        for h in &data.hazards {
            let e = entry("hazard", h.unit)?;
            units[e].hazards.push(HazardFacts::from(h));
        }
        for s in data.suspensions {
            let e = entry("suspension", s.unit)?;
            units[e].suspensions.push(s);
        }
        for (e, at) in touched {
            let first = &mut units[e].first_inspected_at;
            *first = Some(first.map_or(at, |f| f.min(at)));
        }
        units.sort_by_key(|u| u.unit.id);
        Ok(MapState { regions, units })
    }
}

impl UnitEntry {
    /// Whether the unit had been visited by `at` (a first inspection, or a hazard found,
    /// which only a visit can do). Independent of colour: a suspended unit may or may
    /// not have been inspected.
    pub fn visited_by(&self, at: DateTime<Utc>) -> bool {
        self.first_inspected_at.is_some_and(|t| t <= at)
            || self.hazards.iter().any(|h| h.is_found(at))
    }
}
