//! The write path: validate → commit in the store (one transaction) → apply to the map
//! state. The map changes only after the commit, so what the map shows has always been
//! acknowledged by the store. The field-workflow HTTP endpoints call these.

use chrono::{DateTime, Utc};

use crate::domain::{Hazard, HazardId, Inspection, InspectionId, Unit, UnitId};
use crate::http::AppState;
use crate::state::StateError;
use crate::store::{Store, StoreError};

/// Why a write did not happen (nothing was changed).
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The map state refused what the store took: a bug, logged loudly.
    #[error("the map state refused a committed write: {0}")]
    State(#[from] StateError),
    /// The state lock was poisoned by a panic elsewhere.
    #[error("map state lock poisoned")]
    Poisoned,
    /// The unit's location lies in no micro-grid of the town.
    #[error("the location lies outside every micro-grid of the town")]
    OutsideTown,
}

impl AppState {
    fn apply<R>(
        &self,
        f: impl FnOnce(&mut crate::state::MapState) -> Result<R, StateError>,
    ) -> Result<R, WriteError> {
        let mut map = self.map.write().map_err(|_| WriteError::Poisoned)?;
        Ok(f(&mut map)?)
    }

    /// Registers a unit; its micro-grid is derived from its location by
    /// point-in-polygon (the `micro_grid` field given is ignored).
    pub async fn register_unit(&self, mut unit: Unit) -> Result<UnitId, WriteError> {
        {
            let map = self.map.read().map_err(|_| WriteError::Poisoned)?;
            let mg = map
                .regions
                .micro_grid_at(unit.location)
                .ok_or(WriteError::OutsideTown)?;
            unit.micro_grid = map.regions.get(mg).id.clone();
        }
        let id = self.store.insert_unit(&unit).await?;
        unit.id = id;
        self.apply(|m| m.insert_unit(unit))?;
        Ok(id)
    }

    /// Records a visit and the hazards it found.
    pub async fn record_inspection(
        &self,
        mut inspection: Inspection,
        mut hazards: Vec<Hazard>,
    ) -> Result<(InspectionId, Vec<HazardId>), WriteError> {
        let (iid, hids) = self.store.record_inspection(&inspection, &hazards).await?;
        inspection.id = iid;
        for (h, &id) in hazards.iter_mut().zip(&hids) {
            h.id = id;
            h.inspection = iid;
        }
        self.apply(|m| m.record_inspection(&inspection, &hazards))?;
        Ok((iid, hids))
    }

    /// Issues a yellow card with a new deadline.
    pub async fn issue_yellow_card(
        &self,
        hazard: HazardId,
        at: DateTime<Utc>,
        deadline: DateTime<Utc>,
    ) -> Result<(), WriteError> {
        self.store.issue_yellow_card(hazard, at, deadline).await?;
        self.apply(|m| m.issue_yellow_card(hazard, at, deadline))?;
        Ok(())
    }

    /// Closes a hazard with its evidence.
    pub async fn close_hazard(
        &self,
        hazard: HazardId,
        at: DateTime<Utc>,
        evidence: &str,
    ) -> Result<(), WriteError> {
        self.store.close_hazard(hazard, at, evidence).await?;
        self.apply(|m| m.close_hazard(hazard, at))?;
        Ok(())
    }

    /// Suspends a unit from `at`.
    pub async fn suspend(&self, unit: UnitId, at: DateTime<Utc>) -> Result<(), WriteError> {
        self.store.suspend(unit, at).await?;
        self.apply(|m| m.suspend(unit, at))?;
        Ok(())
    }

    /// Lets a suspended unit resume at `at`.
    pub async fn resume(&self, unit: UnitId, at: DateTime<Utc>) -> Result<(), WriteError> {
        self.store.resume(unit, at).await?;
        self.apply(|m| m.resume(unit, at))?;
        Ok(())
    }
}
