//! Where a reader may look: a set of regions, each covering its subtree.

use std::sync::Arc;

use super::{MapState, RegionIdx};
use crate::domain::RegionId;

/// Where a user may look and act, resolved against the map: the region indexes of the
/// scope, sorted. `All` for an empty scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The whole town.
    All,
    /// These regions' subtrees.
    Within(Arc<[RegionIdx]>),
}

impl Scope {
    /// The scope of `regions` on `map` (regions the map does not have are left out, so a
    /// scope whose regions are all gone covers nothing).
    pub fn resolve(map: &MapState, regions: &[RegionId]) -> Scope {
        if regions.is_empty() {
            return Scope::All;
        }
        let mut idx: Vec<RegionIdx> = regions.iter().filter_map(|r| map.regions.find(r)).collect();
        idx.sort_unstable();
        idx.dedup();
        Scope::Within(idx.into())
    }

    /// Whether the scope is the whole town.
    pub fn is_all(&self) -> bool {
        matches!(self, Scope::All)
    }

    /// Whether region `i` (and so its whole subtree) is in scope.
    pub fn covers(&self, map: &MapState, i: RegionIdx) -> bool {
        match self {
            Scope::All => true,
            Scope::Within(roots) => {
                let mut at = Some(i);
                while let Some(r) = at {
                    if roots.binary_search(&r).is_ok() {
                        return true;
                    }
                    at = map.regions.parent(r);
                }
                false
            }
        }
    }

    /// Whether region `i` holds units in scope: it is in scope, or above a region that
    /// is. (Its figures are then shown counting only the units in scope.)
    pub fn touches(&self, map: &MapState, i: RegionIdx) -> bool {
        match self {
            Scope::All => true,
            Scope::Within(roots) => {
                self.covers(map, i) || roots.iter().any(|&r| map.regions.is_within(r, i))
            }
        }
    }

    /// The region a scoped reader starts from: the town for the whole town, the scope's
    /// region when it has one, else the deepest region above all of them (whose figures
    /// are then not the reader's to see: callers check [`Scope::covers`]).
    pub fn home(&self, map: &MapState) -> RegionIdx {
        match self {
            Scope::All => map.regions.root(),
            Scope::Within(roots) => match roots.as_ref() {
                [one] => *one,
                many => many
                    .iter()
                    .copied()
                    .reduce(|a, b| map.regions.common_ancestor(a, b))
                    .unwrap_or(map.regions.root()),
            },
        }
    }
}
