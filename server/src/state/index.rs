//! Finding a unit by id and a hazard's unit, in a few bytes each: ids come from the
//! store in growing order, so sorted vectors do what hash maps would at a tenth of the
//! memory.

use std::collections::HashMap;

use super::{UnitEntry, UnitIdx};
use crate::domain::{HazardId, UnitId};

/// The handle of each unit id. Units are loaded in id order and the store assigns
/// growing ids, so a binary search over `units` finds nearly every unit; the few added
/// out of order sit in a map. (A hash map of every id would cost ~30 bytes a unit.)
#[derive(Debug, Default)]
pub(crate) struct UnitIndex {
    /// `units[..sorted]` is ordered by id.
    pub(super) sorted: usize,
    pub(super) out_of_order: HashMap<UnitId, UnitIdx>,
}

impl UnitIndex {
    pub(super) fn get(&self, units: &[UnitEntry], id: UnitId) -> Option<UnitIdx> {
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
    pub(super) fn push(&mut self, units: &[UnitEntry]) {
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
pub(super) struct HazardIndex {
    dense: Vec<UnitIdx>,
    sparse: HashMap<HazardId, UnitIdx>,
}

impl HazardIndex {
    const DENSE_LIMIT: i64 = 1 << 26;
    const NONE: UnitIdx = UnitIdx::MAX;

    pub(super) fn get(&self, id: HazardId) -> Option<UnitIdx> {
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
    pub(super) fn insert(&mut self, id: HazardId, unit: UnitIdx) -> bool {
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
