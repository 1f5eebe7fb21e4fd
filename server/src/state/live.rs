//! The present, kept up to date: every unit's colour now, the aggregate of every region
//! and of every H3 cell (resolutions 7, 8 and 9), maintained incrementally.
//!
//! A unit's contribution ([`contribution`]) only changes when one of its facts is
//! written, or when the clock passes one of its timestamps (a deadline, a suspension's
//! end, a fact recorded with a future time). Writes go through
//! [`MapState::update_unit`], which subtracts the old contribution from the unit's
//! micro-grid, every region above it and its three cells, and adds the new one. Clock
//! moments wait in a timer wheel (`BTreeSet` of `(time, unit)`); [`MapState::advance`]
//! re-evaluates just the units whose moment has come. Nothing is ever rebuilt on a
//! write, and the figures are never stale: a reader that finds a due moment advances
//! first.
//!
//! Each resolution's cells also sit in an R-tree by their centres, so a tile or a bbox
//! finds its cells without walking every cell of a province.
//!
//! `version` goes up whenever anything visible changes; tile caches and ETags key on it.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};

use rstar::RTree;
use rstar::primitives::GeomWithData;

use chrono::{DateTime, Utc};
use h3o::{CellIndex, Resolution};

use super::aggregate::{Agg, CELLS, cell_index, columns, contribution, is_split};
use super::history::History;
use super::{MapState, RegionIdx, RegionTree, UnitEntry, UnitIdx};
use crate::domain::Colour;
use crate::domain::time::Zone;

/// The H3 resolutions whose aggregates are kept, coarse to fine.
pub const HEX_RESOLUTIONS: [Resolution; 3] =
    [Resolution::Seven, Resolution::Eight, Resolution::Nine];

/// Aggregates and colours at one moment, `at`.
#[derive(Debug)]
pub struct Live {
    at: DateTime<Utc>,
    regions: Vec<Agg>,
    /// Each region's column in `split` (`u32::MAX`: not split, [`is_split`]).
    split_column: Vec<u32>,
    /// `split[column * CELLS + cell_index(kind, colour)]`: a split region's units of
    /// one kind and colour.
    split: Vec<Agg>,
    pub(super) hexes: [HashMap<CellIndex, Agg>; 3],
    /// The cells of `hexes`, by centre (kept equal to their keys once `indexed`).
    pub(super) hex_index: [RTree<CellPoint>; 3],
    indexed: bool,
    colours: Vec<Option<Colour>>,
    /// Moments to re-evaluate units at. An entry can be stale (the unit's facts changed
    /// since it was put in); re-evaluating a unit is exact at any time, so a stale
    /// entry costs one needless re-evaluation and nothing else — and saves keeping each
    /// unit's due time in memory.
    wheel: BTreeSet<(DateTime<Utc>, UnitIdx)>,
    version: u64,
    /// Colour changes made by the clock and not yet taken by the scheduler (which logs
    /// them as events); whoever advanced the figures, the changes wait here.
    pending: Vec<ClockChange>,
}

/// An H3 cell by its centre (lon, lat).
pub type CellPoint = GeomWithData<[f64; 2], CellIndex>;

pub(super) fn cell_point(c: CellIndex) -> CellPoint {
    let ll = h3o::LatLng::from(c);
    CellPoint::new([ll.lng(), ll.lat()], c)
}

/// A colour changed by the clock alone: a deadline passed, a dated fact took effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockChange {
    /// The unit.
    pub unit: UnitIdx,
    /// The moment it changed (the deadline, not when it was noticed).
    pub at: DateTime<Utc>,
    /// Colour before.
    pub old: Option<Colour>,
    /// Colour after.
    pub new: Option<Colour>,
}

impl Live {
    /// Nothing counted yet.
    pub fn empty(regions: &RegionTree, at: DateTime<Utc>) -> Self {
        let (split_column, split) = columns(regions, |i| is_split(regions, i));
        Live {
            at,
            regions: vec![Agg::default(); regions.all().len()],
            split_column,
            split: vec![Agg::default(); split * CELLS],
            hexes: Default::default(),
            hex_index: Default::default(),
            indexed: false,
            colours: Vec::new(),
            wheel: BTreeSet::new(),
            version: 0,
            pending: Vec::new(),
        }
    }

    /// Every figure from scratch at `now`, for `units` (handle = position).
    pub fn compute(regions: &RegionTree, units: &[UnitEntry], now: DateTime<Utc>) -> Self {
        let mut live = Live::empty(regions, now);
        live.colours = vec![None; units.len()];
        for (u, e) in units.iter().enumerate() {
            live.apply(regions, e, u as UnitIdx, 1);
            live.schedule(e, u as UnitIdx);
        }
        for k in 0..HEX_RESOLUTIONS.len() {
            let points = live.hexes[k].keys().map(|&c| cell_point(c)).collect();
            live.hex_index[k] = RTree::bulk_load(points);
        }
        live.indexed = true;
        live.version = 1;
        live
    }

    /// Adds (`sign` 1) or removes (`sign` -1) the contribution of unit `u` (entry `e`).
    fn apply(&mut self, regions: &RegionTree, e: &UnitEntry, u: UnitIdx, sign: i8) {
        let contrib = contribution(e, self.at);
        if sign > 0 {
            self.colours[u as usize] = contrib.map(|(c, _)| c);
        }
        let Some((colour, a)) = contrib else { return };
        let cell = cell_index(e.unit.kind, colour);
        let mut r = Some(e.micro_grid);
        while let Some(i) = r {
            let column = self.split_column[i];
            let split = (column != u32::MAX).then(|| column as usize * CELLS + cell);
            if sign > 0 {
                self.regions[i] += &a;
                if let Some(k) = split {
                    self.split[k] += &a;
                }
            } else {
                self.regions[i] -= &a;
                if let Some(k) = split {
                    self.split[k] -= &a;
                }
            }
            r = regions.parent(i);
        }
        for (k, &res) in HEX_RESOLUTIONS.iter().enumerate() {
            let Some(c) = e.cell.parent(res) else {
                continue;
            };
            let map = &mut self.hexes[k];
            let index = &mut self.hex_index[k];
            if sign > 0 {
                match map.entry(c) {
                    Entry::Occupied(o) => *o.into_mut() += &a,
                    Entry::Vacant(v) => {
                        v.insert(a);
                        if self.indexed {
                            index.insert(cell_point(c));
                        }
                    }
                }
            } else if let Some(h) = map.get_mut(&c) {
                *h -= &a;
                if h.is_empty() {
                    map.remove(&c);
                    if self.indexed {
                        index.remove(&cell_point(c));
                    }
                }
            }
        }
    }

    /// Puts unit `u`'s next moment into the wheel.
    fn schedule(&mut self, e: &UnitEntry, u: UnitIdx) {
        if let Some(t) = next_moment(e, self.at) {
            self.wheel.insert((t, u));
        }
    }

    /// The moment these figures are for.
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    /// Goes up with every visible change.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Figures counted anew that replace those of `version`: numbered after them, so a
    /// cache keyed on the version never takes one for the other.
    pub fn follow(&mut self, version: u64) {
        self.version = self.version.max(version + 1);
    }

    /// The aggregate of a region's subtree.
    pub fn region(&self, idx: RegionIdx) -> &Agg {
        &self.regions[idx]
    }

    /// A split region's aggregate by kind and colour (`cell_index`); `None` for a region
    /// that is not split.
    pub fn cells(&self, idx: RegionIdx) -> Option<&[Agg]> {
        let c = *self.split_column.get(idx)?;
        (c != u32::MAX).then(|| &self.split[c as usize * CELLS..][..CELLS])
    }

    /// Every region's aggregate, by index.
    pub fn regions(&self) -> &[Agg] {
        &self.regions
    }

    /// The non-empty cells of one of [`HEX_RESOLUTIONS`] and their aggregates.
    pub fn hexes(&self, res: Resolution) -> Option<&HashMap<CellIndex, Agg>> {
        HEX_RESOLUTIONS
            .iter()
            .position(|&r| r == res)
            .map(|i| &self.hexes[i])
    }

    /// The non-empty cells of one of [`HEX_RESOLUTIONS`] whose centre lies in the box
    /// `min`–`max` (lon/lat), with their centres and aggregates.
    pub fn cells_in(
        &self,
        res: Resolution,
        min: [f64; 2],
        max: [f64; 2],
    ) -> impl Iterator<Item = (CellIndex, [f64; 2], &Agg)> + '_ {
        let k = HEX_RESOLUTIONS.iter().position(|&r| r == res);
        let env = rstar::AABB::from_corners(min, max);
        k.into_iter().flat_map(move |k| {
            self.hex_index[k]
                .locate_in_envelope(&env)
                .filter_map(move |p| Some((p.data, *p.geom(), self.hexes[k].get(&p.data)?)))
        })
    }

    /// A unit's colour now; `None` if it is not registered yet.
    pub fn colour(&self, unit: UnitIdx) -> Option<Colour> {
        self.colours.get(unit as usize).copied().flatten()
    }

    /// The next moment at which some unit's contribution changes by itself.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.wheel.first().map(|&(t, _)| t)
    }
}

/// The earliest timestamp among a unit's facts that lies after `t`: the next moment its
/// contribution may change without a write.
fn next_moment(e: &UnitEntry, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    e.moments().filter(|&m| m > t).min()
}

impl MapState {
    /// Adds (`sign` 1) or removes (`sign` -1) a unit's contribution at `live.at`.
    fn count(&mut self, u: UnitIdx, sign: i8) {
        self.live
            .apply(&self.regions, &self.units[u as usize], u, sign);
    }

    /// Puts the unit's next moment into the wheel.
    fn schedule(&mut self, u: UnitIdx) {
        self.live.schedule(&self.units[u as usize], u);
    }

    /// Changes one unit's facts with `change` and updates every aggregate it counts in.
    /// Only this unit is re-evaluated.
    pub fn update_unit<R>(&mut self, u: UnitIdx, change: impl FnOnce(&mut UnitEntry) -> R) -> R {
        self.count(u, -1);
        if let Some(h) = &mut self.history {
            h.count(&self.regions, &self.units[u as usize], -1);
        }
        let before = self.units[u as usize].micro_grid;
        let out = change(&mut self.units[u as usize]);
        self.members
            .moved(u, before, self.units[u as usize].micro_grid);
        if let Some(h) = &mut self.history {
            h.count(&self.regions, &self.units[u as usize], 1);
        }
        self.count(u, 1);
        self.schedule(u);
        self.live.version += 1;
        out
    }

    /// Registers a new unit's slot in the live figures (the entry is already pushed).
    pub(super) fn live_push(&mut self) -> UnitIdx {
        let u = (self.units.len() - 1) as UnitIdx;
        self.members.push(self.units[u as usize].micro_grid, u);
        self.live.colours.push(None);
        if let Some(h) = &mut self.history {
            h.count(&self.regions, &self.units[u as usize], 1);
        }
        self.count(u, 1);
        self.schedule(u);
        self.live.version += 1;
        u
    }

    /// Keeps daily checkpoints of the coarse regions ([`super::history`]) in `zone`'s
    /// days, from now on: built here (one pass over the units), then kept by every
    /// write and rolled over to each new day.
    pub fn keep_history(&mut self, zone: Zone) {
        let today = zone.date_of(self.live.at);
        self.history = Some(History::build(&self.regions, &self.units, zone, today));
    }

    /// The checkpoints, when kept.
    pub fn history(&self) -> Option<&History> {
        self.history.as_ref()
    }

    /// A new day: yesterday joins the checkpoints (built again, one pass over the
    /// units, once a day).
    fn roll_history(&mut self, now: DateTime<Utc>) {
        if let Some(h) = &self.history
            && h.zone().date_of(now) > h.today()
        {
            let zone = h.zone();
            self.history = Some(History::build(
                &self.regions,
                &self.units,
                zone,
                zone.date_of(now),
            ));
        }
    }

    /// Whether clock-driven colour changes wait to be logged.
    pub fn has_clock_changes(&self) -> bool {
        !self.live.pending.is_empty()
    }

    /// Takes the clock-driven colour changes not yet logged, oldest first.
    pub fn take_clock_changes(&mut self) -> Vec<ClockChange> {
        let mut out = std::mem::take(&mut self.live.pending);
        out.sort_by_key(|c| (c.at, c.unit));
        out
    }

    /// Puts back changes taken by [`Self::take_clock_changes`] that could not be logged.
    pub fn restore_clock_changes(&mut self, mut changes: Vec<ClockChange>) {
        changes.append(&mut self.live.pending);
        self.live.pending = changes;
    }

    /// Whether the live figures hold at `at`: it is not before them and no unit's
    /// moment falls between.
    pub fn is_present(&self, at: DateTime<Utc>) -> bool {
        at >= self.live.at && !self.needs_advance(at)
    }

    /// Whether the clock has passed a moment the live figures have not taken in yet.
    pub fn needs_advance(&self, now: DateTime<Utc>) -> bool {
        self.live.next_due().is_some_and(|t| t <= now)
    }

    /// Moves the live figures to `now`, re-evaluating only the units with a moment due.
    /// Returns the units whose colour changed, with old and new colour.
    pub fn advance(
        &mut self,
        now: DateTime<Utc>,
    ) -> Vec<(UnitIdx, Option<Colour>, Option<Colour>)> {
        if now <= self.live.at {
            return Vec::new();
        }
        self.roll_history(now);
        let mut due = Vec::new();
        while let Some(&(t, u)) = self.live.wheel.first() {
            if t > now {
                break;
            }
            self.live.wheel.pop_first();
            due.push((u, t));
        }
        // One re-evaluation per unit, dated by its latest moment that came.
        due.sort_unstable();
        due.reverse();
        due.dedup_by_key(|&mut (u, _)| u);
        due.reverse();
        for &(u, _) in &due {
            self.count(u, -1);
        }
        let before: Vec<_> = due.iter().map(|&(u, _)| self.live.colour(u)).collect();
        self.live.at = now;
        let mut changed = Vec::new();
        for (&(u, at), old) in due.iter().zip(before) {
            self.count(u, 1);
            self.schedule(u);
            let new = self.live.colour(u);
            if new != old {
                changed.push((u, old, new));
                self.live.pending.push(ClockChange {
                    unit: u,
                    at,
                    old,
                    new,
                });
            }
        }
        if !due.is_empty() {
            self.live.version += 1;
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::state::fixture::{assert_consistent, dataset, t};

    #[test]
    fn the_clock_alone_moves_the_figures_exactly() {
        let mut s = MapState::build(dataset(), t(1)).unwrap();
        assert_consistent(&s);
        let mut now = t(1);
        let mut changes = 0;
        while now < t(8) {
            now += Duration::minutes(90);
            if s.needs_advance(now) {
                changes += s.advance(now).len();
            } else {
                s.advance(now);
            }
            assert_consistent(&s);
        }
        // Unit 1 red on the 2nd, yellow on the 5th; unit 2 green on the 3rd, black on
        // the 4th; unit 3 appears on the 6th.
        assert!(changes >= 5, "only {changes} colour changes seen");
        // The exact moment a deadline passes: overdue at the deadline, not before.
        let mut s = MapState::build(dataset(), t(4) - Duration::seconds(1)).unwrap();
        let town = s.regions.root();
        assert_eq!(s.live().region(town).overdue, 0);
        s.advance(t(4));
        assert_eq!(s.live().region(town).overdue, 2);
        assert_consistent(&s);
    }
}
