//! The units of each micro-grid, so that a region's figures can be folded over its own
//! units, not every unit of a province: a village's past day or a town's units of one
//! kind cost what the village or the town holds. Four bytes a unit.

use super::{RegionIdx, RegionTree, UnitEntry, UnitIdx};

/// The handles of the units in each micro-grid, by the micro-grid's [`RegionIdx`]
/// (empty for other regions).
#[derive(Debug, Default)]
pub(super) struct Members {
    of: Vec<Vec<UnitIdx>>,
}

impl Members {
    /// Every unit put in its micro-grid.
    pub(super) fn build(regions: &RegionTree, units: &[UnitEntry]) -> Self {
        let mut counts = vec![0usize; regions.all().len()];
        for e in units {
            counts[e.micro_grid] += 1;
        }
        let mut of: Vec<Vec<UnitIdx>> = counts.into_iter().map(Vec::with_capacity).collect();
        for (u, e) in units.iter().enumerate() {
            of[e.micro_grid].push(u as UnitIdx);
        }
        Members { of }
    }

    /// Unit `u` joins `micro_grid`.
    pub(super) fn push(&mut self, micro_grid: RegionIdx, u: UnitIdx) {
        if self.of.len() <= micro_grid {
            self.of.resize_with(micro_grid + 1, Vec::new);
        }
        self.of[micro_grid].push(u);
    }

    /// Unit `u` moved from one micro-grid to another.
    pub(super) fn moved(&mut self, u: UnitIdx, from: RegionIdx, to: RegionIdx) {
        if from == to {
            return;
        }
        if let Some(list) = self.of.get_mut(from)
            && let Some(k) = list.iter().position(|&x| x == u)
        {
            list.swap_remove(k);
        }
        self.push(to, u);
    }

    /// The units of `region`'s subtree, micro-grid by micro-grid.
    pub(super) fn under<'a>(
        &'a self,
        regions: &'a RegionTree,
        region: RegionIdx,
    ) -> impl Iterator<Item = UnitIdx> + 'a {
        let mut stack = vec![region];
        std::iter::from_fn(move || {
            let r = stack.pop()?;
            stack.extend_from_slice(regions.children(r));
            Some(r)
        })
        .flat_map(move |r| self.of.get(r).into_iter().flatten().copied())
    }
}
