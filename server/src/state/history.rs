//! Daily checkpoints: the aggregate of each coarse region (the root down to the towns,
//! with a town's areas and groups) at the end of every past day, kept as the map
//! changes, so that a past day's figures for a province, a county or a town are read,
//! not folded over every unit. The split regions ([`is_split`]: the root, a province's
//! counties) also keep one aggregate per kind and colour of unit, so that a past day's
//! `kind=` and `colour=` figures are a sum of a few cells; a town's or a village's are
//! folded over its own units ([`fold_filtered`]).
//!
//! A unit's contribution ([`contribution`]) changes only at its own timestamps
//! ([`UnitEntry::moments`]: registration, first visit, a hazard found, its deadline, its
//! yellow card, its closing, a suspension's start and end). So a unit adds, to each
//! region above it, its contribution at the end of the first day it counts, and at the
//! end of each later day holding one of its moments the difference from the day before;
//! the checkpoints are the running sums of those differences. (In the cells, the day
//! before's contribution leaves the cell of its colour and the day's joins the cell of
//! its own.) Both the build and every later change use [`contribution`] itself, which is
//! why a checkpoint always equals the fold at that moment (`tests`, `tests/province.rs`
//! and `tests/demo_figures.rs` compare them day by day, filtered and not).
//!
//! The res-7 H3 cells ([`CHECKPOINT_RES`], ~5 km² each) are kept the same way, one
//! column per cell that ever held a unit: a past day's low-zoom clusters and hexes are
//! read from them instead of folding the tile's units (at zoom 8 a tile of a province
//! holds hundreds of thousands).
//!
//! Counters add with wrapping arithmetic: a difference may be negative, the sums never
//! are. Memory: days × (coarse regions + split regions × 24) × one [`Agg`] (a province
//! of 1,531 coarse and 91 split regions over a hundred days: 14 + 20 MB), and days ×
//! res-7 cells × one [`CellDay`] (40 bytes: 4 MB for each thousand cells over a
//! hundred days). The days held begin with the first visit, hazard or suspension of any
//! unit (registrations go back years).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use h3o::{CellIndex, Resolution};
use rstar::RTree;

use super::aggregate::{
    Agg, CELLS, UnitFilter, cell_index, columns, contribution, fold_filtered, is_split,
};
use super::live::{CellPoint, cell_point};
use super::{MapState, RegionIdx, RegionTree, UnitEntry};
use crate::domain::time::Zone;
use crate::domain::{Colour, Level};

/// What a past day's hexes and clusters show of a res-7 cell (the counters of a tile's
/// hexes): its units by colour, visited, and their hazards found, closed and overdue —
/// 40 bytes against an [`Agg`]'s 92, for each cell and day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CellDay {
    /// Units per colour ([`crate::state::aggregate::colour_index`]); every unit has
    /// one, so their sum is the units.
    pub by_colour: [u32; 6],
    inspected: u32,
    found: u32,
    closed: u32,
    overdue: u32,
}

impl CellDay {
    /// The counters of `a` a cell keeps.
    pub fn of(a: &Agg) -> Self {
        CellDay {
            by_colour: a.by_colour,
            inspected: a.inspected,
            found: a.found_total(),
            closed: a.closed_total(),
            overdue: a.overdue,
        }
    }

    /// An aggregate with these counters (kinds and stages not kept: the hazards count
    /// in the first stage).
    pub fn agg(&self) -> Agg {
        let mut a = Agg {
            units: self.by_colour.iter().copied().fold(0, u32::wrapping_add),
            by_colour: self.by_colour,
            inspected: self.inspected,
            overdue: self.overdue,
            ..Agg::default()
        };
        a.found[0] = self.found;
        a.closed[0] = self.closed;
        a
    }

    /// Whether no unit counts here.
    pub fn is_empty(&self) -> bool {
        self.by_colour.iter().all(|&n| n == 0)
    }

    /// Adds `o` counter by counter, wrapping (a difference may be negative).
    fn wrapping_add(&mut self, o: &CellDay) {
        self.zip(o, u32::wrapping_add);
    }

    /// Takes `o` away counter by counter, wrapping.
    fn wrapping_sub(&mut self, o: &CellDay) {
        self.zip(o, u32::wrapping_sub);
    }

    fn zip(&mut self, o: &CellDay, f: fn(u32, u32) -> u32) {
        for (a, b) in self.by_colour.iter_mut().zip(o.by_colour) {
            *a = f(*a, b);
        }
        for (a, b) in [
            (&mut self.inspected, o.inspected),
            (&mut self.found, o.found),
            (&mut self.closed, o.closed),
            (&mut self.overdue, o.overdue),
        ] {
            *a = f(*a, b);
        }
    }
}

/// The H3 resolution of the cells with daily checkpoints.
pub const CHECKPOINT_RES: Resolution = Resolution::Seven;

/// Whether a region of this level has daily checkpoints.
pub fn is_kept(level: Level) -> bool {
    level.depth() < Level::Village.depth()
}

/// The checkpoints.
#[derive(Debug, Clone)]
pub struct History {
    zone: Zone,
    /// The first day held.
    first: NaiveDate,
    /// The end of each held day, from `first`: every day before the day the history was
    /// built on.
    ends: Vec<DateTime<Utc>>,
    /// Each region's column (`u32::MAX`: not kept).
    column: Vec<u32>,
    /// Kept regions.
    width: usize,
    /// `aggs[day * width + column]`: the column's aggregate at the end of the day.
    aggs: Vec<Agg>,
    /// Each region's column among the split ones ([`is_split`]; `u32::MAX`: not split).
    split_column: Vec<u32>,
    /// Split regions × [`CELLS`].
    split_width: usize,
    /// `cells[day * split_width + column * CELLS + cell_index(kind, colour)]`: a split
    /// region's units of one kind and colour at the end of the day.
    cells: Vec<Agg>,
    /// Each res-7 cell's column in `hexes`.
    hex_column: HashMap<CellIndex, u32>,
    /// The cells of `hex_column`, by centre.
    hex_points: RTree<CellPoint>,
    /// `hexes[column * days + day]`: the units of a res-7 cell at the end of the day
    /// (column by column, so a cell first met after the build adds one at the end).
    hexes: Vec<CellDay>,
}

/// What one unit adds to the checkpoints of one day, or their differences.
struct Tables<'a> {
    aggs: &'a mut [Agg],
    cells: &'a mut [Agg],
    /// The columns of res-7 cells from `first_hex` on.
    hexes: &'a mut [CellDay],
    first_hex: usize,
}

impl History {
    /// The checkpoints of every day from the first moment of any unit up to the day
    /// before `today` (the zone's calendar). The units are split between the machine's
    /// cores, each summing its own differences.
    pub fn build(regions: &RegionTree, units: &[UnitEntry], zone: Zone, today: NaiveDate) -> Self {
        let (column, width) = columns(regions, |i| is_kept(regions.get(i).level));
        let (split_column, split) = columns(regions, |i| is_split(regions, i));
        // From the first day anything was done (a visit, a hazard, a suspension): units
        // registered years before count from that day on, and a day before it is
        // folded when asked for.
        let first = units
            .iter()
            .filter_map(|e| e.moments().filter(|&t| t != e.unit.registered_at).min())
            .min()
            .map_or(today, |t| zone.date_of(t).min(today));
        let days = u64::try_from((today - first).num_days()).unwrap_or(0);
        let ends = (0..days)
            .map(|d| zone.end_of_day(first + chrono::Days::new(d)))
            .collect();
        let mut h = History {
            zone,
            first,
            ends,
            column,
            width,
            aggs: Vec::new(),
            split_column,
            split_width: split * CELLS,
            cells: Vec::new(),
            hex_column: HashMap::new(),
            hex_points: RTree::new(),
            hexes: Vec::new(),
        };
        // Units grouped by their res-7 cell (a column of `hexes`), so that each thread
        // owns the columns of its own units: one table, no copy per thread.
        let ByCell {
            cells,
            start,
            order,
        } = ByCell::of(units);
        h.hex_column = (0u32..).zip(&cells).map(|(k, &c)| (c, k)).collect();
        h.hex_points = RTree::bulk_load(cells.iter().map(|&c| cell_point(c)).collect());
        let days = h.ends.len();
        let mut table = vec![CellDay::default(); days * cells.len()];
        // Threads take whole columns, about as many units each.
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let mut bounds = vec![0usize];
        for k in 1..threads {
            let want = units.len() * k / threads;
            let b = start.partition_point(|&s| s < want).min(cells.len());
            if b > *bounds.last().unwrap_or(&0) {
                bounds.push(b);
            }
        }
        bounds.push(cells.len());
        // Differences first (each unit touches only the days of its moments), then the
        // running sums.
        let parts: Vec<[Vec<Agg>; 2]> = std::thread::scope(|s| {
            let mut hexes: &mut [CellDay] = &mut table;
            let h = &h;
            let mut workers = Vec::new();
            for (n, pair) in bounds.windows(2).enumerate() {
                let (lo, hi) = (pair[0], pair[1]);
                let (mine, later) = std::mem::take(&mut hexes).split_at_mut((hi - lo) * days);
                hexes = later;
                let last = n + 2 == bounds.len();
                let (order, start) = (&order, &start);
                workers.push(s.spawn(move || {
                    let mut aggs = vec![Agg::default(); days * h.width];
                    let mut cells = vec![Agg::default(); days * h.split_width];
                    let mut t = Tables {
                        aggs: &mut aggs,
                        cells: &mut cells,
                        hexes: mine,
                        first_hex: lo,
                    };
                    for k in lo..hi {
                        for &u in &order[start[k]..start[k + 1]] {
                            h.differences(&mut t, regions, &units[u as usize], Some(k));
                        }
                    }
                    if last {
                        for &u in &order[start[hi]..] {
                            h.differences(&mut t, regions, &units[u as usize], None);
                        }
                    }
                    for column in t.hexes.chunks_mut(days.max(1)) {
                        for d in 1..column.len() {
                            let prev = column[d - 1];
                            column[d].wrapping_add(&prev);
                        }
                    }
                    [aggs, cells]
                }));
            }
            workers.into_iter().filter_map(|w| w.join().ok()).collect()
        });
        let [mut aggs, mut cells] = [Vec::new(), Vec::new()];
        for [a, c] in parts {
            aggs.push(a);
            cells.push(c);
        }
        h.aggs = running_sums(&aggs, days, h.width);
        h.cells = running_sums(&cells, days, h.split_width);
        h.hexes = table;
        h
    }

    /// The column of the unit's res-7 cell, a new one (empty every day) for a cell not
    /// met before.
    fn hex_or_new(&mut self, e: &UnitEntry) -> Option<usize> {
        let c = e.cell.parent(CHECKPOINT_RES)?;
        let next = self.hex_column.len() as u32;
        let k = *self.hex_column.entry(c).or_insert(next);
        if k == next {
            self.hex_points.insert(cell_point(c));
            self.hexes
                .resize(self.hexes.len() + self.ends.len(), CellDay::default());
        }
        Some(k as usize)
    }

    /// The held days on which the unit's contribution may differ from the day before,
    /// in order. A moment counts from its own day (facts compare at whole seconds,
    /// floored, and a day ends at its last instant, so a moment is in by the end of its
    /// day and not before); one before the first day held (a unit written later with
    /// an old date) counts from that first day.
    fn change_days(&self, e: &UnitEntry) -> Vec<usize> {
        let mut out: Vec<usize> = e
            .moments()
            .map(|t| (self.zone.date_of(t) - self.first).num_days().max(0) as usize)
            .filter(|&d| d < self.ends.len())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The columns of the kept regions a unit counts in: its micro-grid's kept
    /// ancestors.
    fn columns<'r>(
        &'r self,
        regions: &'r RegionTree,
        e: &UnitEntry,
    ) -> impl Iterator<Item = usize> + Clone + 'r {
        ancestor_columns(&self.column, regions, e.micro_grid)
    }

    /// The positions in a day's cells of the split regions a unit counts in, for its
    /// kind and `colour`.
    fn cell_slots<'r>(
        &'r self,
        regions: &'r RegionTree,
        e: &UnitEntry,
        colour: Colour,
    ) -> impl Iterator<Item = usize> + Clone + 'r {
        let cell = cell_index(e.unit.kind, colour);
        ancestor_columns(&self.split_column, regions, e.micro_grid).map(move |c| c * CELLS + cell)
    }

    /// Adds the unit's day-to-day differences into the tables (before the running
    /// sums): to the whole aggregates and to column `hex` of the res-7 cells (the
    /// unit's, when it has one) the difference, to the split regions' cells the day's
    /// contribution in its colour's cell and the day before's out of its own.
    fn differences(&self, t: &mut Tables, regions: &RegionTree, e: &UnitEntry, hex: Option<usize>) {
        let columns = self.columns(regions, e);
        let mut prev: Option<(Colour, Agg)> = None;
        for d in self.change_days(e) {
            let now = contribution(e, self.ends[d]);
            let mut diff = now.map(|(_, a)| a).unwrap_or_default();
            diff.wrapping_sub(&prev.map(|(_, a)| a).unwrap_or_default());
            for c in columns.clone() {
                t.aggs[d * self.width + c].wrapping_add(&diff);
            }
            if let Some(k) = hex {
                t.hexes[(k - t.first_hex) * self.ends.len() + d].wrapping_add(&CellDay::of(&diff));
            }
            let day = &mut t.cells[d * self.split_width..][..self.split_width];
            if let Some((colour, a)) = prev {
                for k in self.cell_slots(regions, e, colour) {
                    day[k].wrapping_sub(&a);
                }
            }
            if let Some((colour, a)) = now {
                for k in self.cell_slots(regions, e, colour) {
                    day[k].wrapping_add(&a);
                }
            }
            prev = now;
        }
    }

    /// Counts a unit in (`sign` 1) or out (-1) of every held day: what keeps the
    /// checkpoints equal to the fold when a unit's facts change (the old facts out, the
    /// new in).
    pub fn count(&mut self, regions: &RegionTree, e: &UnitEntry, sign: i8) {
        let columns: Vec<usize> = self.columns(regions, e).collect();
        let hex = self.hex_or_new(e);
        let days = self.change_days(e);
        let held = self.ends.len();
        let add = |slot: &mut Agg, a: &Agg| {
            if sign > 0 {
                slot.wrapping_add(a);
            } else {
                slot.wrapping_sub(a);
            }
        };
        // Each stretch of days between two change days holds one contribution.
        for (k, &d) in days.iter().enumerate() {
            let until = days.get(k + 1).copied().unwrap_or(self.ends.len());
            let Some((colour, a)) = contribution(e, self.ends[d]) else {
                continue;
            };
            let slots: Vec<usize> = self.cell_slots(regions, e, colour).collect();
            let cell_day = CellDay::of(&a);
            for day in d..until {
                for &c in &columns {
                    add(&mut self.aggs[day * self.width + c], &a);
                }
                for &k in &slots {
                    add(&mut self.cells[day * self.split_width + k], &a);
                }
                if let Some(k) = hex {
                    let slot = &mut self.hexes[k * held + day];
                    if sign > 0 {
                        slot.wrapping_add(&cell_day);
                    } else {
                        slot.wrapping_sub(&cell_day);
                    }
                }
            }
        }
    }

    /// Whether `region` has checkpoints.
    pub fn keeps(&self, region: RegionIdx) -> bool {
        self.column.get(region).is_some_and(|&c| c != u32::MAX)
    }

    /// The checkpoint of `region` at `at`, when `at` is the end of a held day and the
    /// region is kept.
    pub fn at(&self, region: RegionIdx, at: DateTime<Utc>) -> Option<&Agg> {
        let c = *self.column.get(region)?;
        if c == u32::MAX {
            return None;
        }
        let d = self.day(at)?;
        Some(&self.aggs[d * self.width + c as usize])
    }

    /// A split region's checkpoint by kind and colour (`cell_index`) at `at`, when `at`
    /// is the end of a held day.
    pub fn cells_at(&self, region: RegionIdx, at: DateTime<Utc>) -> Option<&[Agg]> {
        let c = *self.split_column.get(region)?;
        if c == u32::MAX {
            return None;
        }
        let d = self.day(at)?;
        Some(&self.cells[d * self.split_width + c as usize * CELLS..][..CELLS])
    }

    /// The res-7 cells ([`CHECKPOINT_RES`]) holding units at `at`, when `at` is the end
    /// of a held day, whose centre lies in the box `min`–`max` (lon/lat): their centres
    /// and checkpoints.
    pub fn hexes_in(
        &self,
        min: [f64; 2],
        max: [f64; 2],
        at: DateTime<Utc>,
    ) -> Option<impl Iterator<Item = (CellIndex, [f64; 2], &CellDay)> + '_> {
        let d = self.day(at)?;
        let days = self.ends.len();
        let env = rstar::AABB::from_corners(min, max);
        Some(
            self.hex_points
                .locate_in_envelope(&env)
                .filter_map(move |p| {
                    let k = *self.hex_column.get(&p.data)? as usize;
                    Some((p.data, *p.geom(), &self.hexes[k * days + d]))
                })
                .filter(|(_, _, a)| !a.is_empty()),
        )
    }

    /// The res-7 cells kept.
    pub fn cells_kept(&self) -> usize {
        self.hex_column.len()
    }

    /// Whether `at` is the end of a held day.
    pub fn holds(&self, at: DateTime<Utc>) -> bool {
        self.day(at).is_some()
    }

    /// The held day `at` ends.
    fn day(&self, at: DateTime<Utc>) -> Option<usize> {
        let day = self.zone.date_of(at);
        if self.zone.end_of_day(day) != at {
            return None;
        }
        let d = usize::try_from((day - self.first).num_days()).ok()?;
        (d < self.ends.len()).then_some(d)
    }

    /// The day after the last one held: the day the history was built on.
    pub fn today(&self) -> NaiveDate {
        self.first + chrono::Days::new(self.ends.len() as u64)
    }

    /// The days held, oldest first.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        (0..self.ends.len() as u64).map(|d| self.first + chrono::Days::new(d))
    }

    /// The zone its days are in.
    pub fn zone(&self) -> Zone {
        self.zone
    }
}

/// Units grouped by their res-7 cell ([`CHECKPOINT_RES`]).
struct ByCell {
    /// The cells, in order.
    cells: Vec<CellIndex>,
    /// `order[start[k]..start[k + 1]]`: the units of `cells[k]`; after
    /// `start[cells.len()]`, the units of no cell.
    start: Vec<usize>,
    /// Unit positions.
    order: Vec<u32>,
}

impl ByCell {
    /// One hash per unit: each cell numbered as first met, then renumbered in cell
    /// order.
    fn of(units: &[UnitEntry]) -> Self {
        let mut met: rustc_hash::FxHashMap<CellIndex, u32> = Default::default();
        let mut cells: Vec<CellIndex> = Vec::new();
        let mut count: Vec<usize> = Vec::new();
        let unit_cell: Vec<u32> = units
            .iter()
            .map(|e| {
                let Some(c) = e.cell.parent(CHECKPOINT_RES) else {
                    return u32::MAX;
                };
                let k = *met.entry(c).or_insert_with(|| {
                    cells.push(c);
                    count.push(0);
                    (cells.len() - 1) as u32
                });
                count[k as usize] += 1;
                k
            })
            .collect();
        drop(met);
        let mut by_cell: Vec<u32> = (0..cells.len() as u32).collect();
        by_cell.sort_unstable_by_key(|&k| cells[k as usize]);
        let mut rank = vec![0u32; cells.len()];
        for (r, &k) in by_cell.iter().enumerate() {
            rank[k as usize] = r as u32;
        }
        let cells: Vec<CellIndex> = by_cell.iter().map(|&k| cells[k as usize]).collect();
        let mut start = Vec::with_capacity(cells.len() + 1);
        let mut at = 0usize;
        for &k in &by_cell {
            start.push(at);
            at += count[k as usize];
        }
        start.push(at);
        // `order`: unit positions by column; the units of no cell last.
        let mut order = vec![0u32; units.len()];
        let mut next = start.clone();
        let mut rest = at;
        for (u, &k) in unit_cell.iter().enumerate() {
            let slot = match rank.get(k as usize) {
                Some(&r) => &mut next[r as usize],
                None => &mut rest,
            };
            order[*slot] = u as u32;
            *slot += 1;
        }
        ByCell {
            cells,
            start,
            order,
        }
    }
}

/// The columns (in `table`, by region; `u32::MAX`: none) of `micro_grid` and the regions
/// above it.
fn ancestor_columns<'r>(
    table: &'r [u32],
    regions: &'r RegionTree,
    micro_grid: RegionIdx,
) -> impl Iterator<Item = usize> + Clone + 'r {
    std::iter::successors(Some(micro_grid), |&i| regions.parent(i)).filter_map(|i| {
        table
            .get(i)
            .filter(|&&c| c != u32::MAX)
            .map(|&c| c as usize)
    })
}

/// The element-wise sum of the threads' tables of `len`.
fn sum_parts(parts: &[Vec<Agg>], len: usize) -> Vec<Agg> {
    let mut out = vec![Agg::default(); len];
    for part in parts {
        for (a, p) in out.iter_mut().zip(part) {
            a.wrapping_add(p);
        }
    }
    out
}

/// The sum of the threads' day-by-day differences (`days` rows of `width`), then each
/// day's running sum: the checkpoints.
fn running_sums(parts: &[Vec<Agg>], days: usize, width: usize) -> Vec<Agg> {
    let mut out = sum_parts(parts, days * width);
    for d in 1..days {
        let (before, now) = out.split_at_mut(d * width);
        let prev = &before[(d - 1) * width..];
        for (a, p) in now[..width].iter_mut().zip(prev) {
            a.wrapping_add(p);
        }
    }
    out
}

/// Regions' aggregates at a moment, from wherever they are cheapest: the live figures
/// for the present, the daily checkpoints for the end of a past day, else each region
/// on its own ([`fold_filtered`]).
#[derive(Debug)]
pub enum AggsAt<'a> {
    /// The present, every unit.
    Live(&'a MapState),
    /// A past day's end, every unit, regions with checkpoints.
    Checkpoints(&'a History, DateTime<Utc>),
    /// Anything else, region by region.
    Each(HashMap<RegionIdx, Agg>),
}

impl<'a> AggsAt<'a> {
    /// The aggregates of `regions` (those that will be asked for) at `at` (`None`: the
    /// present) counting the units `filter` admits.
    pub fn of(
        map: &'a MapState,
        regions: impl Iterator<Item = RegionIdx> + Clone,
        at: Option<DateTime<Utc>>,
        filter: &UnitFilter,
    ) -> Self {
        let all = filter.is_all();
        match (at, map.history()) {
            (None, _) if all => return AggsAt::Live(map),
            (Some(t), Some(h)) if all && regions.clone().all(|i| h.at(i, t).is_some()) => {
                return AggsAt::Checkpoints(h, t);
            }
            _ => {}
        }
        let t = at.unwrap_or(map.live().at());
        AggsAt::Each(
            regions
                .map(|i| (i, fold_filtered(map, i, t, filter)))
                .collect(),
        )
    }

    /// Region `i`'s aggregate (empty for a region not asked for).
    pub fn get(&self, i: RegionIdx) -> Agg {
        match self {
            AggsAt::Live(map) => *map.live().region(i),
            AggsAt::Checkpoints(h, t) => h.at(i, *t).copied().unwrap_or_default(),
            AggsAt::Each(m) => m.get(&i).copied().unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::aggregate::{UnitFilter, fold_regions};
    use crate::state::fixture::state;

    #[test]
    fn checkpoints_equal_the_fold_on_every_day() {
        let s = state();
        let zone = Zone::default();
        let last = s
            .units
            .iter()
            .flat_map(UnitEntry::moments)
            .max()
            .map(|t| zone.date_of(t))
            .unwrap_or_default();
        let h = History::build(&s.regions, &s.units, zone, last + chrono::Days::new(3));
        assert!(h.ends.len() > 3, "{} days", h.ends.len());
        for d in 0..h.ends.len() {
            let end = zone.end_of_day(h.first + chrono::Days::new(d as u64));
            let fold = fold_regions(&s, end, &UnitFilter::default());
            for (i, r) in s.regions.all().iter().enumerate() {
                if is_kept(r.level) {
                    assert_eq!(h.at(i, end), Some(&fold[i]), "day {d}, {}", r.id);
                } else {
                    assert_eq!(h.at(i, end), None);
                }
            }
        }
        // Not a day's end: no checkpoint.
        let end = zone.end_of_day(h.first);
        assert_eq!(
            h.at(s.regions.root(), end - chrono::Duration::hours(1)),
            None
        );
    }
}
