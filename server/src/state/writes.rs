//! Committed writes applied to the map state, one unit at a time.
//!
//! Each method is called after the store has committed the same change (so ids are
//! known) and touches only the unit concerned: its facts, its R-tree point and the
//! aggregates it counts in ([`MapState::update_unit`]). The checks here mirror the
//! store's, so a state that refuses a change never diverges from a store that took it.

use chrono::{DateTime, Utc};

use super::{MapState, StateError, UnitIdx, UnitPoint};
use crate::domain::time::Stamp;
use crate::domain::{Hazard, HazardFacts, HazardId, Inspection, Suspension, Unit, UnitId};

impl MapState {
    fn idx(&self, what: &'static str, unit: UnitId) -> Result<UnitIdx, StateError> {
        self.unit_idx(unit)
            .ok_or(StateError::UnknownUnit { what, unit })
    }

    /// Adds a newly registered unit (its id assigned by the store).
    pub fn insert_unit(&mut self, unit: Unit) -> Result<UnitIdx, StateError> {
        if self.unit_idx(unit.id).is_some() {
            return Err(StateError::DuplicateUnit(unit.id));
        }
        let entry = Self::entry(&self.regions, unit)?;
        Self::check_host(&self.units, &self.by_id, &entry)?;
        let p = [entry.unit.location.x(), entry.unit.location.y()];
        self.units.push(entry);
        self.by_id.push(&self.units);
        let u = self.live_push();
        self.points.insert(UnitPoint::new(p, u));
        Ok(u)
    }

    /// Records a visit and the hazards it found (with their store-assigned ids).
    pub fn record_inspection(
        &mut self,
        inspection: &Inspection,
        hazards: &[Hazard],
    ) -> Result<(), StateError> {
        let u = self.idx("inspection", inspection.unit)?;
        for h in hazards {
            if h.unit != inspection.unit || self.hazard_at.get(h.id).is_some() {
                return Err(StateError::BadHazard(h.id));
            }
        }
        for h in hazards {
            self.hazard_at.insert(h.id, u);
        }
        self.update_unit(u, |e| {
            let at = Stamp::of(inspection.at);
            e.first_inspected_at = Some(e.first_inspected_at.map_or(at, |f| f.min(at)));
            let mut all = std::mem::take(&mut e.hazards).into_vec();
            all.extend(hazards.iter().map(HazardFacts::from));
            e.hazards = all.into_boxed_slice();
        });
        Ok(())
    }

    fn hazard_mut(
        &mut self,
        hazard: HazardId,
        change: impl FnOnce(&mut HazardFacts),
    ) -> Result<UnitIdx, StateError> {
        let u = self
            .hazard_at
            .get(hazard)
            .ok_or(StateError::BadHazard(hazard))?;
        let k = self.units[u as usize]
            .hazards
            .iter()
            .position(|h| h.id == hazard)
            .ok_or(StateError::BadHazard(hazard))?;
        self.update_unit(u, |e| change(&mut e.hazards[k]));
        Ok(u)
    }

    /// A yellow card for a hazard, with its new deadline.
    pub fn issue_yellow_card(
        &mut self,
        hazard: HazardId,
        at: DateTime<Utc>,
        deadline: DateTime<Utc>,
    ) -> Result<UnitIdx, StateError> {
        self.hazard_mut(hazard, |h| {
            h.yellow_card_at = Some(at.into());
            h.deadline = Some(deadline.into());
        })
    }

    /// A hazard closed (销号).
    pub fn close_hazard(
        &mut self,
        hazard: HazardId,
        at: DateTime<Utc>,
    ) -> Result<UnitIdx, StateError> {
        self.hazard_mut(hazard, |h| h.closed_at = Some(at.into()))
    }

    /// A suspension order from `at`.
    pub fn suspend(&mut self, unit: UnitId, at: DateTime<Utc>) -> Result<UnitIdx, StateError> {
        let u = self.idx("suspension", unit)?;
        self.update_unit(u, |e| {
            let mut all = std::mem::take(&mut e.suspensions).into_vec();
            all.push(Suspension {
                unit,
                started_at: at,
                ended_at: None,
            });
            e.suspensions = all.into_boxed_slice();
        });
        Ok(u)
    }

    /// The open suspension order ends at `at`.
    pub fn resume(&mut self, unit: UnitId, at: DateTime<Utc>) -> Result<UnitIdx, StateError> {
        let u = self.idx("suspension", unit)?;
        self.update_unit(u, |e| {
            // The order in force at `at`; an order dated later stays as it is.
            if let Some(s) = e.suspensions.iter_mut().find(|s| s.in_force(at)) {
                s.ended_at = Some(at);
            }
        });
        Ok(u)
    }
}
