//! Aggregates: the counters every figure of the map is made of, and the fold that makes
//! them from units.
//!
//! A unit contributes one [`Agg`] at a moment (its kind, its colour, whether it was
//! visited, its hazards by stage). A region's or an H3 cell's aggregate is the sum of
//! its units' contributions, so it can be kept up to date by subtracting a unit's old
//! contribution and adding its new one ([`super::live`]), or recomputed from scratch
//! for any past moment by a fold ([`fold_regions`]). Both paths use [`contribution`],
//! which is why they cannot disagree.
//!
//! A filtered figure (`kind=`, `colour=`) of a large region is a sum of cells: the root
//! and the regions above a town ([`is_split`]) keep, live and in the daily checkpoints,
//! one aggregate per kind and colour of unit ([`cell_index`]). Any other region's is
//! folded over its own units only ([`fold_filtered`]).

use std::ops::{AddAssign, SubAssign};

use chrono::{DateTime, Utc};

use super::scope::Scope;
use super::{MapState, RegionIdx, RegionTree, UnitEntry};
use crate::domain::{Colour, Level, Severity, Stage, UnitKind, colour_of};

/// Counters for a set of units at one moment. Integers only: they add and subtract
/// exactly, in any order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Agg {
    /// Registered units.
    pub units: u32,
    /// Units per kind, indexed by [`kind_index`].
    pub by_kind: [u32; 4],
    /// Factory-in-factory enterprises.
    pub factory_in_factory: u32,
    /// Units per colour, indexed by [`colour_index`].
    pub by_colour: [u32; 6],
    /// Units visited at least once.
    pub inspected: u32,
    /// Hazards found, per stage ([`stage_index`]).
    pub found: [u32; 3],
    /// Hazards closed, per stage.
    pub closed: [u32; 3],
    /// Open hazards past their deadline.
    pub overdue: u32,
    /// Open major hazards.
    pub major_open: u32,
    /// Hazards found on comprehensive one-time inspections.
    pub comprehensive_found: u32,
    /// Of those, closed.
    pub comprehensive_closed: u32,
}

/// Applies `$f` to each counter of `$a` and the same counter of `$b`, into `$a`: the
/// one list of the counters.
macro_rules! each_counter {
    ($a:ident, $b:ident, $f:expr) => {{
        let f = $f;
        $a.units = f($a.units, $b.units);
        for i in 0..4 {
            $a.by_kind[i] = f($a.by_kind[i], $b.by_kind[i]);
        }
        $a.factory_in_factory = f($a.factory_in_factory, $b.factory_in_factory);
        for i in 0..6 {
            $a.by_colour[i] = f($a.by_colour[i], $b.by_colour[i]);
        }
        $a.inspected = f($a.inspected, $b.inspected);
        for i in 0..3 {
            $a.found[i] = f($a.found[i], $b.found[i]);
            $a.closed[i] = f($a.closed[i], $b.closed[i]);
        }
        $a.overdue = f($a.overdue, $b.overdue);
        $a.major_open = f($a.major_open, $b.major_open);
        $a.comprehensive_found = f($a.comprehensive_found, $b.comprehensive_found);
        $a.comprehensive_closed = f($a.comprehensive_closed, $b.comprehensive_closed);
    }};
}

impl AddAssign<&Agg> for Agg {
    fn add_assign(&mut self, o: &Agg) {
        each_counter!(self, o, |x: u32, y: u32| x + y);
    }
}

impl SubAssign<&Agg> for Agg {
    fn sub_assign(&mut self, o: &Agg) {
        each_counter!(self, o, |x: u32, y: u32| x - y);
    }
}

impl Agg {
    /// Adds `o` counter by counter, wrapping: for sums of differences, some negative,
    /// whose totals are not ([`super::history`]).
    pub fn wrapping_add(&mut self, o: &Agg) {
        each_counter!(self, o, u32::wrapping_add);
    }

    /// Takes `o` away counter by counter, wrapping (see [`Agg::wrapping_add`]).
    pub fn wrapping_sub(&mut self, o: &Agg) {
        each_counter!(self, o, u32::wrapping_sub);
    }

    /// Hazards found, all stages.
    pub fn found_total(&self) -> u32 {
        self.found.iter().sum()
    }

    /// Hazards closed, all stages.
    pub fn closed_total(&self) -> u32 {
        self.closed.iter().sum()
    }

    /// Hazards found and not closed.
    pub fn open(&self) -> u32 {
        self.found_total() - self.closed_total()
    }

    /// inspected / units (排查率), 0 when there are no units.
    pub fn inspection_rate(&self) -> f64 {
        rate(self.inspected, self.units)
    }

    /// closed / found (销号率), 0 when nothing was found.
    pub fn closure_rate(&self) -> f64 {
        rate(self.closed_total(), self.found_total())
    }

    /// The number of units of `colour`.
    pub fn colour(&self, colour: Colour) -> u32 {
        self.by_colour[colour_index(colour)]
    }

    /// Whether no unit counts here.
    pub fn is_empty(&self) -> bool {
        self.units == 0
    }
}

/// `part / whole`, 0 when `whole` is 0.
pub fn rate(part: u32, whole: u32) -> f64 {
    if whole == 0 {
        0.0
    } else {
        f64::from(part) / f64::from(whole)
    }
}

/// Position of a kind in [`Agg::by_kind`].
pub fn kind_index(kind: UnitKind) -> usize {
    match kind {
        UnitKind::Enterprise => 0,
        UnitKind::StreetShop => 1,
        UnitKind::Rental => 2,
        UnitKind::HighRise => 3,
    }
}

/// Position of a colour in [`Agg::by_colour`] (also the cluster category in tiles).
pub fn colour_index(colour: Colour) -> usize {
    match colour {
        Colour::Green => 0,
        Colour::Yellow => 1,
        Colour::Orange => 2,
        Colour::Red => 3,
        Colour::Black => 4,
        Colour::Uninspected => 5,
    }
}

/// The colours a unit can have ([`colour_index`]).
const COLOURS: usize = 6;

/// The cells a split aggregate has: one per kind and colour of unit.
pub const CELLS: usize = 4 * COLOURS;

/// Position of the units of a kind and a colour among a split aggregate's [`CELLS`].
pub fn cell_index(kind: UnitKind, colour: Colour) -> usize {
    kind_index(kind) * COLOURS + colour_index(colour)
}

/// The kind index and the colour index of a cell: [`cell_index`] undone.
fn cell_parts(cell: usize) -> (usize, usize) {
    (cell / COLOURS, cell % COLOURS)
}

/// Whether region `i` keeps its aggregate split by kind and colour as well as whole: the
/// root and every region above a town. Their subtrees are too large to fold per request
/// (a province, a county); a town's own units are folded instead.
pub fn is_split(regions: &RegionTree, i: RegionIdx) -> bool {
    i == regions.root() || regions.get(i).level.depth() < Level::Town.depth()
}

/// A column for each region `keep` picks, numbered from 0 in region order (`u32::MAX`:
/// none), and how many there are: how the live figures and the checkpoints lay out the
/// regions they keep something for.
pub fn columns(regions: &RegionTree, keep: impl Fn(RegionIdx) -> bool) -> (Vec<u32>, usize) {
    let mut n = 0usize;
    let column = (0..regions.all().len())
        .map(|i| {
            if keep(i) {
                n += 1;
                (n - 1) as u32
            } else {
                u32::MAX
            }
        })
        .collect();
    (column, n)
}

/// Position of a stage in [`Agg::found`] and [`Agg::closed`].
pub fn stage_index(stage: Stage) -> usize {
    match stage {
        Stage::Immediate => 0,
        Stage::Concentrated => 1,
        Stage::Deadline => 2,
    }
}

/// Which units count: a set of kinds, a set of colours, a region's subtree, the reader's
/// scope. The default lets every unit through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitFilter {
    /// Bit `kind_index(k)` set for each admitted kind.
    pub kinds: u8,
    /// Bit `colour_index(c)` set for each admitted colour.
    pub colours: u8,
    /// Only units in this region's subtree.
    pub region: Option<RegionIdx>,
    /// Only units the reader may see.
    pub scope: Scope,
}

impl Default for UnitFilter {
    fn default() -> Self {
        UnitFilter {
            kinds: 0b1111,
            colours: 0b11_1111,
            region: None,
            scope: Scope::All,
        }
    }
}

impl UnitFilter {
    /// Whether the filter lets every unit through.
    pub fn is_all(&self) -> bool {
        *self == UnitFilter::default()
    }

    /// Admits only `kinds`.
    pub fn with_kinds(mut self, kinds: &[UnitKind]) -> Self {
        self.kinds = kinds.iter().fold(0, |m, &k| m | 1 << kind_index(k));
        self
    }

    /// Admits only `colours`.
    pub fn with_colours(mut self, colours: &[Colour]) -> Self {
        self.colours = colours.iter().fold(0, |m, &c| m | 1 << colour_index(c));
        self
    }

    /// The sum of the cells of a split aggregate ([`cell_index`]) that the filter's kinds
    /// and colours admit.
    pub fn sum_cells(&self, cells: &[Agg]) -> Agg {
        let mut out = Agg::default();
        for (k, a) in cells.iter().enumerate() {
            let (kind, colour) = cell_parts(k);
            if self.kinds & (1 << kind) != 0 && self.colours & (1 << colour) != 0 {
                out += a;
            }
        }
        out
    }

    /// The colours admitted, when colour is all the filter looks at (every kind, every
    /// region, every unit in scope): what a per-colour count can answer alone.
    pub fn colours_only(&self) -> Option<u8> {
        (self.kinds == 0b1111 && self.region.is_none() && self.scope == Scope::All)
            .then_some(self.colours)
    }

    /// Whether a unit of this kind, colour and micro-grid passes.
    pub fn admits(&self, state: &MapState, e: &UnitEntry, colour: Colour) -> bool {
        self.kinds & (1 << kind_index(e.unit.kind)) != 0
            && self.colours & (1 << colour_index(colour)) != 0
            && self.covers_region(state, e.micro_grid)
    }

    /// Whether every unit of region `i`'s subtree passes, whatever its kind and colour.
    pub fn admits_all_of(&self, state: &MapState, i: RegionIdx) -> bool {
        self.kinds == 0b1111 && self.colours == 0b11_1111 && self.covers_region(state, i)
    }

    /// Whether region `i` is within the filter's region and the reader's scope (its
    /// figures are then the reader's to see, once the kinds and colours are applied).
    pub fn covers_region(&self, state: &MapState, i: RegionIdx) -> bool {
        self.region.is_none_or(|r| state.regions.is_within(i, r)) && self.scope.covers(state, i)
    }
}

/// A unit's colour at `at`; `None` before it was registered.
pub fn colour_at(e: &UnitEntry, at: DateTime<Utc>) -> Option<Colour> {
    (e.unit.registered_at <= at).then(|| colour_of(&e.facts(), at))
}

/// One unit's share of every aggregate at `at`, with its colour then; `None` before it
/// was registered.
pub fn contribution(e: &UnitEntry, at: DateTime<Utc>) -> Option<(Colour, Agg)> {
    let colour = colour_at(e, at)?;
    let mut a = Agg {
        units: 1,
        ..Agg::default()
    };
    a.by_kind[kind_index(e.unit.kind)] = 1;
    a.factory_in_factory = u32::from(e.unit.is_factory_in_factory());
    a.by_colour[colour_index(colour)] = 1;
    a.inspected = u32::from(e.visited_by(at));
    for h in e.hazards.iter().filter(|h| h.is_found(at)) {
        let s = stage_index(h.stage);
        a.found[s] += 1;
        a.comprehensive_found += u32::from(h.comprehensive);
        if h.is_closed(at) {
            a.closed[s] += 1;
            a.comprehensive_closed += u32::from(h.comprehensive);
        } else {
            a.overdue += u32::from(h.is_overdue(at));
            a.major_open += u32::from(h.severity == Severity::Major);
        }
    }
    Some((colour, a))
}

/// The aggregate of every region (indexed by [`RegionIdx`]) at `at`, counting only the
/// units `filter` admits: one pass over the units, each added to its micro-grid and
/// every region above it.
pub fn fold_regions(state: &MapState, at: DateTime<Utc>, filter: &UnitFilter) -> Vec<Agg> {
    let mut out = vec![Agg::default(); state.regions.all().len()];
    for e in &state.units {
        let Some((colour, a)) = contribution(e, at) else {
            continue;
        };
        if !filter.admits(state, e, colour) {
            continue;
        }
        let mut r = Some(e.micro_grid);
        while let Some(i) = r {
            out[i] += &a;
            r = state.regions.parent(i);
        }
    }
    out
}

/// The aggregate of the units in `region`'s subtree that `filter` admits, at `at`, from
/// wherever it is cheapest: the live figures for the present and the daily checkpoints
/// for the end of a past day ([`super::history`]), whole when the filter lets all of the
/// region through, else from the kind-and-colour cells of a split region
/// ([`is_split`]); otherwise a fold over the region's own units.
pub fn fold_filtered(
    state: &MapState,
    region: RegionIdx,
    at: DateTime<Utc>,
    filter: &UnitFilter,
) -> Agg {
    let present = state.is_present(at);
    let history = state.history();
    if filter.admits_all_of(state, region) {
        if present {
            return *state.live().region(region);
        }
        if let Some(a) = history.and_then(|h| h.at(region, at)) {
            return *a;
        }
    } else if filter.covers_region(state, region) {
        let cells = if present {
            state.live().cells(region)
        } else {
            history.and_then(|h| h.cells_at(region, at))
        };
        if let Some(cells) = cells {
            return filter.sum_cells(cells);
        }
    }
    let mut out = Agg::default();
    for e in state.units_under(region) {
        if let Some((colour, a)) = contribution(e, at)
            && filter.admits(state, e, colour)
        {
            out += &a;
        }
    }
    out
}
