//! A [`Change`] on the map: where it touches (for the scope check), the colour of its
//! unit before and after (previewed before the store commits, so the event can say
//! both), and the change applied once the store has committed it, with the ids it
//! assigned.
//!
//! Applying touches only the unit concerned: its facts, its R-tree point and the
//! aggregates it counts in ([`MapState::update_unit`]). The checks here are the map's
//! own invariants (a known unit and hazard, a micro-grid, a host enterprise); a change
//! the preview took is one the apply takes.

use chrono::{DateTime, Utc};

use super::aggregate::contribution;
use std::collections::HashMap;

use super::{Live, MapState, RegionIdx, StateError, UnitEntry, UnitIdx};
use crate::domain::time::Stamp;
use crate::domain::{
    Change, Closure, Colour, FixRejection, HazardFacts, HazardId, Level, NewVisit, RecordImport,
    RegionId, RegionImport, Suspension, Unit, UnitId, YellowCard,
};
use crate::store::Assigned;

/// What a change would do to its unit's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preview {
    /// The unit concerned (`None` for a new unit and for a target).
    pub unit: Option<UnitIdx>,
    /// Its colour now.
    pub before: Option<Colour>,
    /// Its colour after the change.
    pub after: Option<Colour>,
}

/// The id the preview gives hazards not yet stored: the colour rule never reads ids,
/// and the store never assigns this one.
const UNSTORED: i64 = i64::MAX;

impl MapState {
    fn idx(&self, what: &'static str, unit: UnitId) -> Result<UnitIdx, StateError> {
        self.unit_idx(unit)
            .ok_or(StateError::UnknownUnit { what, unit })
    }

    /// The registered unit a change concerns, if it concerns one.
    fn subject(&self, change: &Change) -> Result<Option<UnitIdx>, StateError> {
        Ok(Some(match change {
            Change::Register(_)
            | Change::SetTarget(_)
            | Change::Comment(_)
            | Change::SendBriefing(_)
            | Change::Import(_)
            | Change::Regions(_)
            | Change::Records(_) => {
                return Ok(None);
            }
            Change::Edit(e) => self.idx("edit", e.id)?,
            Change::Inspect(v) => self.idx("inspection", v.unit)?,
            Change::YellowCard(YellowCard { hazard, .. })
            | Change::Close(Closure { hazard, .. }) => self.hazard_slot(*hazard)?.0,
            Change::Suspend { unit, .. } | Change::Resume { unit, .. } => {
                self.idx("suspension", *unit)?
            }
            Change::Attach(a) => self.idx("attachment", a.unit)?,
            Change::FixLink(l) => self.idx("fix link", l.unit)?,
            Change::FixReport(r) => self.idx("fix report", r.unit)?,
            Change::RevokeFixLink { unit, .. } | Change::RejectFix(FixRejection { unit, .. }) => {
                self.idx("fix link", *unit)?
            }
        }))
    }

    /// The places a change touches, for the scope check: the unit's micro-grid (both,
    /// for a move), a target's group. Ids the map does not know touch nothing (the write
    /// then fails as not found).
    pub fn places(&self, change: &Change) -> Vec<RegionIdx> {
        let own = self
            .subject(change)
            .ok()
            .flatten()
            .map(|u| self.units[u as usize].micro_grid);
        let named = match change {
            Change::Register(u) => self.regions.find(&u.micro_grid),
            Change::Edit(e) => self.regions.find(&e.unit.micro_grid),
            Change::SetTarget(t) => self.regions.find(&t.group),
            Change::Comment(c) => self.regions.find(&c.region),
            Change::SendBriefing(b) => self.regions.find(&b.region),
            Change::Import(import) => {
                // Every micro-grid a unit of the file goes to or comes from.
                let mut places: Vec<RegionIdx> = import
                    .units
                    .iter()
                    .flat_map(|row| {
                        let from = row
                            .existing
                            .and_then(|id| self.unit_idx(id))
                            .map(|u| self.units[u as usize].micro_grid);
                        from.into_iter()
                            .chain(self.regions.find(&row.unit.micro_grid))
                    })
                    .collect();
                places.sort_unstable();
                places.dedup();
                return places;
            }
            Change::Records(import) => {
                // Every visited unit's micro-grid.
                let mut places: Vec<RegionIdx> = import
                    .visits
                    .iter()
                    .filter_map(|v| self.unit_idx(v.unit))
                    .map(|u| self.units[u as usize].micro_grid)
                    .collect();
                places.sort_unstable();
                places.dedup();
                return places;
            }
            Change::Regions(import) => {
                // Every place replaced, and the parent of every place added.
                let mut places: Vec<RegionIdx> = import
                    .regions
                    .iter()
                    .filter_map(|r| {
                        self.regions
                            .find(&r.id)
                            .or_else(|| r.parent.as_ref().and_then(|p| self.regions.find(p)))
                    })
                    .collect();
                places.sort_unstable();
                places.dedup();
                return places;
            }
            _ => None,
        };
        own.into_iter().chain(named).collect()
    }

    /// The colour of the unit `change` concerns, now and after it, without changing
    /// anything; refuses what the map would refuse to apply.
    pub fn preview(&self, change: &Change) -> Result<Preview, StateError> {
        let at = self.live.at();
        match change {
            Change::Register(u) => {
                let e = self.checked_entry(&u.with_id(unstored_unit()?))?;
                Ok(Preview {
                    unit: None,
                    before: None,
                    after: contribution(&e, at).map(|(c, _)| c),
                })
            }
            Change::SetTarget(_)
            | Change::Comment(_)
            | Change::SendBriefing(_)
            | Change::Import(_)
            | Change::Regions(_)
            | Change::Records(_) => Ok(Preview {
                unit: None,
                before: None,
                after: None,
            }),
            _ => {
                let u = self.subject(change)?.ok_or(StateError::BadChange)?;
                let before = self.live.colour(u);
                if let Change::Edit(edit) = change {
                    // A unit's colour does not depend on its standing facts.
                    self.checked_entry(&edit.unit())?;
                    return Ok(Preview {
                        unit: Some(u),
                        before,
                        after: before,
                    });
                }
                let mut e = self.units[u as usize].clone();
                let ids: Vec<HazardId> = match change {
                    Change::Inspect(v) => (0..v.hazards.len())
                        .map(|_| HazardId::new(UNSTORED))
                        .collect::<Result<_, _>>()
                        .map_err(|_| StateError::BadChange)?,
                    _ => Vec::new(),
                };
                facts_of(change, &mut e, &ids)?;
                Ok(Preview {
                    unit: Some(u),
                    before,
                    after: contribution(&e, at).map(|(c, _)| c),
                })
            }
        }
    }

    /// Applies a change the store has committed, with the ids it assigned.
    pub fn apply(&mut self, change: &Change, assigned: &Assigned) -> Result<(), StateError> {
        match change {
            Change::Register(u) => {
                let id = assigned.unit.ok_or(StateError::BadChange)?;
                self.insert_unit(u.with_id(id))
            }
            Change::Edit(e) => self.edit_unit(e.unit()),
            Change::Import(import) => {
                for (i, row) in import.units.iter().enumerate() {
                    let id = *assigned.units.get(i).ok_or(StateError::BadChange)?;
                    let unit = import.unit_at(i, &assigned.units).with_id(id);
                    if row.existing.is_some() {
                        self.edit_unit(unit)?;
                    } else {
                        self.insert_unit(unit)?;
                    }
                }
                Ok(())
            }
            Change::Regions(import) => self.take_regions(import),
            Change::Records(import) => self.take_records(import, assigned),
            // Files and fix reports are the store's: the map's colour does not move.
            Change::SetTarget(_)
            | Change::Comment(_)
            | Change::SendBriefing(_)
            | Change::Attach(_)
            | Change::FixLink(_)
            | Change::RevokeFixLink { .. }
            | Change::FixReport(_)
            | Change::RejectFix(_) => Ok(()),
            Change::Inspect(v) => self.record_visit(v, assigned),
            _ => {
                // A hazard's slot is looked up before anything changes: a refused change
                // leaves the unit as it was.
                let u = self.subject(change)?.ok_or(StateError::BadChange)?;
                let mut result = Ok(());
                self.update_unit(u, |e| result = facts_of(change, e, &[]));
                result
            }
        }
    }

    /// Takes a region import: the hierarchy rebuilt with the file's places, each unit
    /// re-linked to its micro-grid (the import's new one for a unit that moved), and the
    /// live figures counted again over the new tree. Region handles change, so nothing
    /// is kept of the old figures but the colour changes the clock left for the log.
    fn take_regions(&mut self, import: &RegionImport) -> Result<(), StateError> {
        let tree = self.regions.with(&import.regions)?;
        let moved: HashMap<UnitId, &RegionId> = import.moved.iter().map(|(u, m)| (*u, m)).collect();
        let mut links = Vec::with_capacity(self.units.len());
        for e in &self.units {
            let id = moved
                .get(&e.unit.id)
                .copied()
                .unwrap_or(&self.regions.get(e.micro_grid).id);
            let mg = tree
                .find(id)
                .filter(|&i| tree.get(i).level == Level::MicroGrid)
                .ok_or_else(|| StateError::UnknownMicroGrid {
                    unit: e.unit.id,
                    micro_grid: id.to_string(),
                })?;
            links.push(mg);
        }
        for (e, mg) in self.units.iter_mut().zip(links) {
            e.micro_grid = mg;
        }
        let pending = self.take_clock_changes();
        let version = self.live.version();
        self.live = Live::compute(&tree, &self.units, self.live.at());
        self.live.follow(version);
        self.regions = tree;
        self.members = super::members::Members::build(&self.regions, &self.units);
        if let Some(zone) = self.history().map(|h| h.zone()) {
            self.keep_history(zone);
        }
        self.restore_clock_changes(pending);
        Ok(())
    }

    /// Takes the apps' past visits with their hazards' whole lives, with the ids the
    /// store gave them (visits in order, hazards visit by visit).
    fn take_records(
        &mut self,
        import: &RecordImport,
        assigned: &Assigned,
    ) -> Result<(), StateError> {
        if assigned.inspections.len() != import.visits.len()
            || assigned.hazards.len() != import.hazards()
        {
            return Err(StateError::BadChange);
        }
        let mut ids = assigned.hazards.iter();
        for v in &import.visits {
            let u = self.idx("inspection", v.unit)?;
            let facts: Vec<HazardFacts> = v
                .hazards
                .iter()
                .zip(ids.by_ref())
                .map(|(h, &id)| h.facts(id, v.at))
                .collect();
            for f in &facts {
                if !self.hazard_at.insert(f.id, u) {
                    return Err(StateError::BadHazard(f.id));
                }
            }
            self.update_unit(u, |e| add_past_visit(e, v.at, facts));
        }
        Ok(())
    }

    /// The colour of each visit's unit before and after it, as the visits of `import`
    /// are taken in order (what each visit's event says).
    pub fn preview_records(&self, import: &RecordImport) -> Result<Vec<Preview>, StateError> {
        let at = self.live.at();
        let mut entries: HashMap<UnitIdx, UnitEntry> = HashMap::new();
        let mut out = Vec::with_capacity(import.visits.len());
        let unstored = HazardId::new(UNSTORED).map_err(|_| StateError::BadChange)?;
        for v in &import.visits {
            let u = self.idx("inspection", v.unit)?;
            let e = entries
                .entry(u)
                .or_insert_with(|| self.units[u as usize].clone());
            let before = contribution(e, at).map(|(c, _)| c);
            let facts = v.hazards.iter().map(|h| h.facts(unstored, v.at)).collect();
            add_past_visit(e, v.at, facts);
            out.push(Preview {
                unit: Some(u),
                before,
                after: contribution(e, at).map(|(c, _)| c),
            });
        }
        Ok(out)
    }

    /// A unit entry for `unit`, its micro-grid resolved and its host checked.
    fn checked_entry(&self, unit: &Unit) -> Result<UnitEntry, StateError> {
        let e = Self::entry(&self.regions, unit.clone())?;
        Self::check_host(&self.units, &self.by_id, &e)?;
        Ok(e)
    }

    /// A visit and its hazards, with their store-assigned ids.
    fn record_visit(&mut self, v: &NewVisit, assigned: &Assigned) -> Result<(), StateError> {
        let u = self.idx("inspection", v.unit)?;
        if assigned.hazards.len() != v.hazards.len() {
            return Err(StateError::BadChange);
        }
        for &h in &assigned.hazards {
            if self.hazard_at.get(h).is_some() {
                return Err(StateError::BadHazard(h));
            }
        }
        for &h in &assigned.hazards {
            self.hazard_at.insert(h, u);
        }
        self.update_unit(u, |e| add_visit(e, v, &assigned.hazards));
        Ok(())
    }

    /// Adds a newly registered unit (its id assigned by the store).
    fn insert_unit(&mut self, unit: Unit) -> Result<(), StateError> {
        if self.unit_idx(unit.id).is_some() {
            return Err(StateError::DuplicateUnit(unit.id));
        }
        let entry = self.checked_entry(&unit)?;
        let p = [entry.unit.location.x(), entry.unit.location.y()];
        self.units.push(entry);
        self.by_id.push(&self.units);
        let u = self.live_push();
        self.points.insert(p, u);
        Ok(())
    }

    /// Replaces a unit's standing facts (a move re-derives its micro-grid and cell).
    fn edit_unit(&mut self, unit: Unit) -> Result<(), StateError> {
        let u = self.idx("edit", unit.id)?;
        let new = self.checked_entry(&unit)?;
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
}

/// What `change` does to its unit's facts (`ids`: the new hazards' ids).
fn facts_of(change: &Change, e: &mut UnitEntry, ids: &[HazardId]) -> Result<(), StateError> {
    let slot = |e: &UnitEntry, h: HazardId| {
        e.hazards
            .iter()
            .position(|f| f.id == h)
            .ok_or(StateError::BadHazard(h))
    };
    match change {
        Change::Inspect(v) => add_visit(e, v, ids),
        Change::YellowCard(y) => {
            let k = slot(e, y.hazard)?;
            e.hazards[k].yellow_card_at = Some(y.at.get().into());
            e.hazards[k].deadline = Some(y.deadline.get().into());
        }
        Change::Close(c) => {
            let k = slot(e, c.hazard)?;
            e.hazards[k].closed_at = Some(c.at.get().into());
        }
        Change::Suspend { at, .. } => add_suspension(e, at.get()),
        Change::Resume { at, .. } => end_suspension(e, at.get()),
        _ => {}
    }
    Ok(())
}

/// The id a unit not yet stored is previewed with (never one the store assigns).
fn unstored_unit() -> Result<UnitId, StateError> {
    UnitId::new(UNSTORED).map_err(|_| StateError::BadChange)
}

/// Adds a visit and its hazards (with `ids`) to a unit's facts.
fn add_visit(e: &mut UnitEntry, v: &NewVisit, ids: &[HazardId]) {
    let at = Stamp::of(v.at.get());
    e.first_inspected_at = Some(e.first_inspected_at.map_or(at, |f| f.min(at)));
    let mut all = std::mem::take(&mut e.hazards).into_vec();
    all.extend(v.hazards.iter().zip(ids).map(|(h, &id)| HazardFacts {
        id,
        found_at: at,
        deadline: h.deadline.map(|d| d.get().into()),
        yellow_card_at: None,
        closed_at: None,
        severity: h.severity,
        stage: h.stage,
        comprehensive: v.comprehensive,
    }));
    e.hazards = all.into_boxed_slice();
}

/// Adds a past visit at `at` and the hazards it found (their whole lives).
fn add_past_visit(e: &mut UnitEntry, at: DateTime<Utc>, facts: Vec<HazardFacts>) {
    let at = Stamp::of(at);
    e.first_inspected_at = Some(e.first_inspected_at.map_or(at, |f| f.min(at)));
    let mut all = std::mem::take(&mut e.hazards).into_vec();
    all.extend(facts);
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

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
