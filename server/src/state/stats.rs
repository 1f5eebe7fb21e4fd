//! Figures for a region's subtree at a moment, as `/api/stats` returns them: the
//! presentation of an [`Agg`]. Rates are fractions in 0..=1 and 0 when there is
//! nothing to divide by.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::aggregate::{Agg, UnitFilter, fold_filtered, kind_index, rate, stage_index};
use super::{MapState, RegionIdx};
use crate::domain::{Colour, Level, Stage, UnitKind};

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
    /// Found on comprehensive one-time inspections (综合查一次).
    pub comprehensive: StageStats,
}

/// How many regions of each level the subtree holds (the region itself included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RegionCounts {
    /// Counties and districts (a province's map).
    pub county: u64,
    /// Towns and streets (one on a town's map).
    pub town: u64,
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

/// The figures of `region`'s subtree as of `at`, by a fold over its units (any moment).
pub fn stats(state: &MapState, region: RegionIdx, at: DateTime<Utc>) -> Stats {
    present(
        state,
        region,
        &fold_filtered(state, region, at, &UnitFilter::default()),
    )
}

/// The figures of `region`'s subtree from an aggregate already made for it (the live
/// aggregates for the present, a fold for the past).
pub fn present(state: &MapState, region: RegionIdx, a: &Agg) -> Stats {
    let n = u64::from;
    let stage = |s: Stage| {
        let i = stage_index(s);
        StageStats {
            found: n(a.found[i]),
            closed: n(a.closed[i]),
            closure_rate: rate(a.closed[i], a.found[i]),
        }
    };
    let colour = |c: Colour| n(a.colour(c));
    let kind = |k: UnitKind| n(a.by_kind[kind_index(k)]);
    let counts = state.regions.subtree_counts(region);
    let level = |l: Level| counts[l.depth()] as u64;
    Stats {
        units: UnitStats {
            total: n(a.units),
            by_kind: KindCounts {
                enterprise: kind(UnitKind::Enterprise),
                street_shop: kind(UnitKind::StreetShop),
                rental: kind(UnitKind::Rental),
                high_rise: kind(UnitKind::HighRise),
            },
            factory_in_factory: n(a.factory_in_factory),
            by_colour: ColourCounts {
                green: colour(Colour::Green),
                yellow: colour(Colour::Yellow),
                orange: colour(Colour::Orange),
                red: colour(Colour::Red),
                black: colour(Colour::Black),
                uninspected: colour(Colour::Uninspected),
            },
        },
        inspected: n(a.inspected),
        inspection_rate: a.inspection_rate(),
        hazards: HazardStats {
            found: n(a.found_total()),
            closed: n(a.closed_total()),
            open: n(a.open()),
            overdue: n(a.overdue),
            major_open: n(a.major_open),
            closure_rate: a.closure_rate(),
            by_stage: ByStage {
                immediate: stage(Stage::Immediate),
                concentrated: stage(Stage::Concentrated),
                deadline: stage(Stage::Deadline),
            },
            comprehensive: StageStats {
                found: n(a.comprehensive_found),
                closed: n(a.comprehensive_closed),
                closure_rate: rate(a.comprehensive_closed, a.comprehensive_found),
            },
        },
        regions: RegionCounts {
            county: level(Level::County),
            town: level(Level::Town),
            area: level(Level::Area),
            group: level(Level::Group),
            village: level(Level::Village),
            grid: level(Level::Grid),
            micro_grid: level(Level::MicroGrid),
        },
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use geo::Point;

    use super::*;
    use crate::domain::UnitKind;
    use crate::state::fixture::{dataset, state, t, uid};

    #[test]
    fn inconsistent_units_are_refused() {
        use crate::state::StateError;
        let mut d = dataset();
        d.units[2].host = Some(uid(2)); // a rental room cannot host a factory
        assert!(matches!(
            MapState::build(d, t(9)),
            Err(StateError::BadHost { .. })
        ));
        let mut d = dataset();
        d.units[0].kind = UnitKind::Enterprise;
        d.units[2].kind = UnitKind::Enterprise;
        d.units[2].host = Some(uid(1));
        assert!(
            MapState::build(d, t(9)).is_ok(),
            "an enterprise in an enterprise is fine"
        );
        let mut d = dataset();
        d.units[1].micro_grid = "VB-1".parse().unwrap();
        assert!(matches!(
            MapState::build(d, t(9)),
            Err(StateError::UnknownMicroGrid { .. })
        ));
        let mut d = dataset();
        d.hazards[0].unit = uid(99);
        assert!(matches!(
            MapState::build(d, t(9)),
            Err(StateError::UnknownUnit { what: "hazard", .. })
        ));
    }

    #[test]
    fn figures_follow_the_facts_through_time() {
        let s = state();
        let town = s.regions.root();
        let day1 = stats(&s, town, t(1));
        assert_eq!(
            (day1.units.total, day1.inspected, day1.hazards.found),
            (2, 0, 0)
        );
        assert_eq!(day1.units.by_colour.uninspected, 2);
        assert_eq!(day1.inspection_rate, 0.0);

        let day3 = stats(&s, town, t(3));
        assert_eq!(day3.inspected, 2);
        assert_eq!(day3.inspection_rate, 1.0);
        assert_eq!(
            (day3.units.by_colour.red, day3.units.by_colour.green),
            (1, 1)
        );
        assert_eq!(
            (day3.hazards.found, day3.hazards.open, day3.hazards.overdue),
            (2, 2, 0)
        );
        assert_eq!(day3.hazards.major_open, 1);

        // The 4th at noon: both deadlines reached; unit 2 suspended.
        let day4 = stats(&s, town, t(4));
        assert_eq!(day4.hazards.overdue, 2);
        assert_eq!(
            (day4.units.by_colour.red, day4.units.by_colour.black),
            (1, 1)
        );

        // After the major hazard closed and unit 3 registered.
        let day6 = stats(&s, town, t(6) + Duration::hours(1));
        assert_eq!(day6.units.total, 3);
        assert_eq!(day6.units.by_kind.street_shop, 1);
        assert_eq!(
            (day6.units.by_colour.yellow, day6.units.by_colour.black),
            (1, 1)
        );
        assert_eq!(day6.units.by_colour.uninspected, 1);
        assert_eq!((day6.hazards.closed, day6.hazards.closure_rate), (1, 0.5));
        assert_eq!(day6.hazards.by_stage.deadline.closure_rate, 1.0);
        assert_eq!(day6.hazards.by_stage.concentrated.closure_rate, 0.0);
        assert!((day6.inspection_rate - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn a_region_counts_only_its_subtree() {
        let s = state();
        let vb = s.regions.find(&"VB".parse().unwrap());
        let vb = vb.unwrap();
        let f = stats(&s, vb, t(9));
        assert_eq!((f.units.total, f.hazards.found), (2, 0));
        assert_eq!(
            (
                f.regions.village,
                f.regions.grid,
                f.regions.micro_grid,
                f.regions.group
            ),
            (1, 1, 1, 0)
        );
        let town = stats(&s, s.regions.root(), t(9));
        assert_eq!(
            (town.regions.area, town.regions.group, town.regions.village),
            (1, 1, 2)
        );
    }

    #[test]
    fn points_find_their_micro_grid() {
        let s = state();
        let at = |x: f64, y: f64| {
            s.regions
                .micro_grid_at(Point::new(x, y))
                .map(|i| s.regions.get(i).id.to_string())
        };
        assert_eq!(at(0.3, 0.3).as_deref(), Some("VA-1-1"));
        assert_eq!(at(1.7, 0.9).as_deref(), Some("VB-1-1"));
        // On the shared edge the smaller id wins, so the answer never flips.
        assert_eq!(at(1.0, 0.5).as_deref(), Some("VA-1-1"));
        assert_eq!(at(2.5, 0.5), None, "outside the town");
    }
}
