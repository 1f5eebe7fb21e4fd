//! Figures for a region's subtree at a moment: a pure fold over the units in it.
//!
//! This is what `/api/stats` returns. Rates are fractions in 0..=1 and 0 when there is
//! nothing to divide by.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{MapState, RegionIdx};
use crate::domain::{Colour, Level, Stage, UnitKind, colour_of};

/// Units per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KindCounts {
    /// Enterprises (factory-in-factory included).
    pub enterprise: u64,
    /// Street shops.
    pub street_shop: u64,
    /// Rental rooms.
    pub rental: u64,
    /// High-rise buildings.
    pub high_rise: u64,
}

impl KindCounts {
    fn add(&mut self, kind: UnitKind) {
        *match kind {
            UnitKind::Enterprise => &mut self.enterprise,
            UnitKind::StreetShop => &mut self.street_shop,
            UnitKind::Rental => &mut self.rental,
            UnitKind::HighRise => &mut self.high_rise,
        } += 1;
    }
}

/// Units per colour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ColourCounts {
    /// Passed.
    pub green: u64,
    /// General hazard open.
    pub yellow: u64,
    /// Overdue after a yellow card.
    pub orange: u64,
    /// Major hazard open.
    pub red: u64,
    /// Suspended.
    pub black: u64,
    /// Not inspected yet.
    pub uninspected: u64,
}

impl ColourCounts {
    fn add(&mut self, colour: Colour) {
        *match colour {
            Colour::Green => &mut self.green,
            Colour::Yellow => &mut self.yellow,
            Colour::Orange => &mut self.orange,
            Colour::Red => &mut self.red,
            Colour::Black => &mut self.black,
            Colour::Uninspected => &mut self.uninspected,
        } += 1;
    }
}

/// Unit figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct UnitStats {
    /// Units registered by the moment.
    pub total: u64,
    /// Per kind.
    pub by_kind: KindCounts,
    /// Factory-in-factory enterprises (厂中厂).
    pub factory_in_factory: u64,
    /// Per colour at the moment.
    pub by_colour: ColourCounts,
}

/// Found and closed hazards of one stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct StageStats {
    /// Found by the moment.
    pub found: u64,
    /// Of those, closed by the moment.
    pub closed: u64,
    /// closed / found.
    pub closure_rate: f64,
}

/// Per rectification stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ByStage {
    /// Fixed on the spot.
    pub immediate: StageStats,
    /// The concentrated campaign.
    pub concentrated: StageStats,
    /// Rectification by a deadline.
    pub deadline: StageStats,
}

/// Hazard figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct HazardStats {
    /// Found by the moment.
    pub found: u64,
    /// Closed (销号) by the moment.
    pub closed: u64,
    /// Found and not closed.
    pub open: u64,
    /// Open past their deadline.
    pub overdue: u64,
    /// Open major hazards.
    pub major_open: u64,
    /// closed / found (销号率).
    pub closure_rate: f64,
    /// Per stage.
    pub by_stage: ByStage,
}

/// How many regions of each level the subtree holds (the region itself included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RegionCounts {
    /// Areas.
    pub area: u64,
    /// Groups.
    pub group: u64,
    /// Villages and communities.
    pub village: u64,
    /// Grids.
    pub grid: u64,
    /// Micro-grids.
    pub micro_grid: u64,
}

/// The figures of a region's subtree at a moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// Units.
    pub units: UnitStats,
    /// Units visited at least once by the moment.
    pub inspected: u64,
    /// inspected / total (排查率).
    pub inspection_rate: f64,
    /// Hazards.
    pub hazards: HazardStats,
    /// Regions in the subtree.
    pub regions: RegionCounts,
}

fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The figures of `region`'s subtree as of `at`.
pub fn stats(state: &MapState, region: RegionIdx, at: DateTime<Utc>) -> Stats {
    let tree = &state.regions;
    let mut units = UnitStats::default();
    let mut inspected = 0;
    let mut hz = HazardStats::default();
    for e in &state.units {
        if e.unit.registered_at > at || !tree.is_within(e.micro_grid, region) {
            continue;
        }
        units.total += 1;
        units.by_kind.add(e.unit.kind);
        if e.unit.is_factory_in_factory() {
            units.factory_in_factory += 1;
        }
        let colour = colour_of(&e.facts(), at);
        units.by_colour.add(colour);
        if e.visited_by(at) {
            inspected += 1;
        }
        for h in e.hazards.iter().filter(|h| h.is_found(at)) {
            let stage = match h.stage {
                Stage::Immediate => &mut hz.by_stage.immediate,
                Stage::Concentrated => &mut hz.by_stage.concentrated,
                Stage::Deadline => &mut hz.by_stage.deadline,
            };
            hz.found += 1;
            stage.found += 1;
            if h.is_closed(at) {
                hz.closed += 1;
                stage.closed += 1;
            } else {
                hz.open += 1;
                if h.is_overdue(at) {
                    hz.overdue += 1;
                }
                if h.severity == crate::domain::Severity::Major {
                    hz.major_open += 1;
                }
            }
        }
    }
    hz.closure_rate = rate(hz.closed, hz.found);
    for s in [
        &mut hz.by_stage.immediate,
        &mut hz.by_stage.concentrated,
        &mut hz.by_stage.deadline,
    ] {
        s.closure_rate = rate(s.closed, s.found);
    }
    let counts = tree.subtree_counts(region);
    let n = |l: Level| counts[l.depth()] as u64;
    Stats {
        inspection_rate: rate(inspected, units.total),
        units,
        inspected,
        hazards: hz,
        regions: RegionCounts {
            area: n(Level::Area),
            group: n(Level::Group),
            village: n(Level::Village),
            grid: n(Level::Grid),
            micro_grid: n(Level::MicroGrid),
        },
    }
}
