//! Committed writes applied to the map state, one unit at a time.
//!
//! Each method is called after the store has committed the same change (so ids are
//! known) and touches only the unit concerned: its facts, its R-tree point and the
//! aggregates it counts in ([`MapState::update_unit`]). The checks here mirror the
//! store's, so a state that refuses a change never diverges from a store that took it.

use chrono::{DateTime, Utc};

use super::aggregate::contribution;
use super::{MapState, StateError, UnitEntry, UnitIdx};
use crate::domain::time::Stamp;
use crate::domain::{Colour, Hazard, HazardFacts, HazardId, Inspection, Suspension, Unit, UnitId};

/// Adds a visit and its hazards to a unit's facts.
fn add_visit(e: &mut UnitEntry, inspection: &Inspection, hazards: &[Hazard]) {
    let at = Stamp::of(inspection.at);
    e.first_inspected_at = Some(e.first_inspected_at.map_or(at, |f| f.min(at)));
    let mut all = std::mem::take(&mut e.hazards).into_vec();
    all.extend(hazards.iter().map(HazardFacts::from));
    e.hazards = all.into_boxed_slice();
}

/// Adds an open suspension order from `at`.
fn add_suspension(e: &mut UnitEntry, at: DateTime<Utc>) {
    let mut all = std::mem::take(&mut e.suspensions).into_vec();
    all.push(Suspension {
        unit: e.unit.id,
        started_at: at,
        ended_at: None,
    });
    e.suspensions = all.into_boxed_slice();
}

/// Ends the order in force at `at` (an order dated later stays as it is).
fn end_suspension(e: &mut UnitEntry, at: DateTime<Utc>) {
    if let Some(s) = e.suspensions.iter_mut().find(|s| s.in_force(at)) {
        s.ended_at = Some(at);
    }
}

/// A change of one unit's facts that the write path previews (colour after, before
/// the store commits) and then applies (after it committed).
#[derive(Debug, Clone, Copy)]
pub enum FactChange<'a> {
    /// A visit and what it found.
    Inspect(&'a Inspection, &'a [Hazard]),
    /// A yellow card with its deadline.
    YellowCard(HazardId, DateTime<Utc>, DateTime<Utc>),
    /// A hazard closed.
    Close(HazardId, DateTime<Utc>),
    /// A suspension from `at`.
    Suspend(UnitId, DateTime<Utc>),
    /// The suspension in force ends at `at`.
    Resume(UnitId, DateTime<Utc>),
}

impl FactChange<'_> {
    fn unit_idx(&self, m: &MapState) -> Result<UnitIdx, StateError> {
        match *self {
            FactChange::Inspect(i, _) => m.idx("inspection", i.unit),
            FactChange::YellowCard(h, ..) | FactChange::Close(h, _) => {
                m.hazard_slot(h).map(|(u, _)| u)
            }
            FactChange::Suspend(u, _) | FactChange::Resume(u, _) => m.idx("suspension", u),
        }
    }

    fn mutate(&self, m: &MapState, e: &mut UnitEntry) -> Result<(), StateError> {
        match *self {
            FactChange::Inspect(i, hazards) => add_visit(e, i, hazards),
            FactChange::YellowCard(h, at, deadline) => {
                let k = m.hazard_slot(h)?.1;
                e.hazards[k].yellow_card_at = Some(at.into());
                e.hazards[k].deadline = Some(deadline.into());
            }
            FactChange::Close(h, at) => {
                let k = m.hazard_slot(h)?.1;
                e.hazards[k].closed_at = Some(at.into());
            }
            FactChange::Suspend(_, at) => add_suspension(e, at),
            FactChange::Resume(_, at) => end_suspension(e, at),
        }
        Ok(())
    }
}

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
        self.points.insert(p, u);
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
        self.update_unit(u, |e| add_visit(e, inspection, hazards));
        Ok(())
    }

    /// Where a hazard's facts are: its unit and its position among the unit's hazards.
    pub fn hazard_slot(&self, hazard: HazardId) -> Result<(UnitIdx, usize), StateError> {
        let u = self
            .hazard_at
            .get(hazard)
            .ok_or(StateError::BadHazard(hazard))?;
        let k = self.units[u as usize]
            .hazards
            .iter()
            .position(|h| h.id == hazard)
            .ok_or(StateError::BadHazard(hazard))?;
        Ok((u, k))
    }

    fn hazard_mut(
        &mut self,
        hazard: HazardId,
        change: impl FnOnce(&mut HazardFacts),
    ) -> Result<UnitIdx, StateError> {
        let (u, k) = self.hazard_slot(hazard)?;
        self.update_unit(u, |e| change(&mut e.hazards[k]));
        Ok(u)
    }

    /// The unit a change concerns and its colour now and after the change, without
    /// changing anything (the write path logs both before the store commits).
    pub fn preview(
        &self,
        change: FactChange<'_>,
    ) -> Result<(UnitIdx, Option<Colour>, Option<Colour>), StateError> {
        let u = change.unit_idx(self)?;
        let mut e = self.units[u as usize].clone();
        change.mutate(self, &mut e)?;
        let after = contribution(&e, self.live.at()).map(|(c, _)| c);
        Ok((u, self.live.colour(u), after))
    }

    /// The colour a unit about to be registered will have now.
    pub fn preview_new(&self, unit: &Unit) -> Result<Option<Colour>, StateError> {
        let e = Self::entry(&self.regions, unit.clone())?;
        Self::check_host(&self.units, &self.by_id, &e)?;
        Ok(contribution(&e, self.live.at()).map(|(c, _)| c))
    }

    /// Applies a previewed change after the store committed it.
    pub fn apply_change(&mut self, change: FactChange<'_>) -> Result<UnitIdx, StateError> {
        match change {
            FactChange::Inspect(i, hazards) => {
                self.record_inspection(i, hazards)?;
                self.idx("inspection", i.unit)
            }
            FactChange::YellowCard(h, at, deadline) => self.issue_yellow_card(h, at, deadline),
            FactChange::Close(h, at) => self.close_hazard(h, at),
            FactChange::Suspend(u, at) => self.suspend(u, at),
            FactChange::Resume(u, at) => self.resume(u, at),
        }
    }

    /// Replaces a unit's standing facts (a move re-derives its micro-grid and cell).
    pub fn edit_unit(&mut self, unit: Unit) -> Result<UnitIdx, StateError> {
        let u = self.idx("edit", unit.id)?;
        let new = Self::entry(&self.regions, unit)?;
        Self::check_host(&self.units, &self.by_id, &new)?;
        let old = &self.units[u as usize].unit.location;
        let old_p = [old.x(), old.y()];
        let new_p = [new.unit.location.x(), new.unit.location.y()];
        self.update_unit(u, |e| {
            e.unit = new.unit;
            e.micro_grid = new.micro_grid;
            e.cell = new.cell;
        });
        if old_p != new_p {
            self.points.relocate(old_p, new_p, u);
        }
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
        self.update_unit(u, |e| add_suspension(e, at));
        Ok(u)
    }

    /// The open suspension order ends at `at`.
    pub fn resume(&mut self, unit: UnitId, at: DateTime<Utc>) -> Result<UnitIdx, StateError> {
        let u = self.idx("suspension", unit)?;
        self.update_unit(u, |e| end_suspension(e, at));
        Ok(u)
    }
}
