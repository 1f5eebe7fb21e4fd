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

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use geo::{MultiPolygon, Point, polygon};

    use super::*;
    use crate::domain::{
        Category, Hazard, HazardId, Inspection, InspectionId, InspectionKind, Region, RiskLevel,
        Severity, Suspension, Unit, UnitId,
    };
    use crate::store::Dataset;

    fn t(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2022, 7, day, 12, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn sq(x0: f64, x1: f64) -> Option<MultiPolygon<f64>> {
        Some(MultiPolygon(vec![polygon![
            (x: x0, y: 0.0), (x: x1, y: 0.0), (x: x1, y: 1.0), (x: x0, y: 1.0), (x: x0, y: 0.0)
        ]]))
    }

    fn region(
        id: &str,
        level: Level,
        parent: Option<&str>,
        b: Option<MultiPolygon<f64>>,
    ) -> Region {
        Region {
            id: id.parse().unwrap_or_else(|_| unreachable!()),
            level,
            parent: parent.map(|p| p.parse().unwrap_or_else(|_| unreachable!())),
            code: None,
            name: id.into(),
            boundary: b,
        }
    }

    fn uid(n: i64) -> UnitId {
        UnitId::new(n).unwrap_or_else(|_| unreachable!())
    }

    /// Two villages; unit 1 (village A) is found with a general and a major hazard on
    /// the 2nd, closes the major on the 5th; unit 2 (village B) is inspected on the 3rd
    /// and suspended from the 4th; unit 3 (village B) is registered on the 6th.
    fn state() -> MapState {
        MapState::build(dataset()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn dataset() -> Dataset {
        let unit = |n: i64, mg: &str, x: f64, kind, registered| Unit {
            id: uid(n),
            kind,
            name: format!("u{n}"),
            address: String::new(),
            owner_name: String::new(),
            owner_phone: String::new(),
            location: Point::new(x, 0.5),
            micro_grid: mg.parse().unwrap_or_else(|_| unreachable!()),
            risk: RiskLevel::Blue,
            batch: None,
            host: None,
            registered_at: registered,
        };
        let visit = |n: i64, u: i64, day| Inspection {
            id: InspectionId::new(n).unwrap_or_else(|_| unreachable!()),
            unit: uid(u),
            kind: InspectionKind::Inspection,
            inspector: String::new(),
            at: t(day),
            signature: None,
            photos: vec![],
        };
        let hazard = |n: i64, severity, stage, closed: Option<DateTime<Utc>>| Hazard {
            id: HazardId::new(n).unwrap_or_else(|_| unreachable!()),
            unit: uid(1),
            inspection: InspectionId::new(1).unwrap_or_else(|_| unreachable!()),
            category: Category::Fire,
            hazard_type: "messy_wiring".into(),
            severity,
            stage,
            found_at: t(2),
            deadline: Some(t(4)),
            yellow_card_at: None,
            closed_at: closed,
            evidence: None,
        };
        Dataset {
            regions: vec![
                region("T", Level::Town, None, sq(0.0, 2.0)),
                region("A", Level::Area, Some("T"), None),
                region("G", Level::Group, Some("A"), None),
                region("VA", Level::Village, Some("G"), sq(0.0, 1.0)),
                region("VB", Level::Village, Some("G"), sq(1.0, 2.0)),
                region("VA-1", Level::Grid, Some("VA"), sq(0.0, 1.0)),
                region("VB-1", Level::Grid, Some("VB"), sq(1.0, 2.0)),
                region("VA-1-1", Level::MicroGrid, Some("VA-1"), sq(0.0, 1.0)),
                region("VB-1-1", Level::MicroGrid, Some("VB-1"), sq(1.0, 2.0)),
            ],
            units: vec![
                unit(1, "VA-1-1", 0.5, UnitKind::Enterprise, t(1)),
                unit(2, "VB-1-1", 1.5, UnitKind::Rental, t(1)),
                unit(3, "VB-1-1", 1.6, UnitKind::StreetShop, t(6)),
            ],
            inspections: vec![visit(1, 1, 2), visit(2, 2, 3)],
            hazards: vec![
                hazard(1, Severity::General, Stage::Concentrated, None),
                hazard(2, Severity::Major, Stage::Deadline, Some(t(5))),
            ],
            suspensions: vec![Suspension {
                unit: uid(2),
                started_at: t(4),
                ended_at: None,
            }],
        }
    }

    #[test]
    fn inconsistent_units_are_refused() {
        use crate::state::StateError;
        let mut d = dataset();
        d.units[2].host = Some(uid(2)); // a rental room cannot host a factory
        assert!(matches!(
            MapState::build(d),
            Err(StateError::BadHost { .. })
        ));
        let mut d = dataset();
        d.units[0].kind = UnitKind::Enterprise;
        d.units[2].kind = UnitKind::Enterprise;
        d.units[2].host = Some(uid(1));
        assert!(
            MapState::build(d).is_ok(),
            "an enterprise in an enterprise is fine"
        );
        let mut d = dataset();
        d.units[1].micro_grid = "VB-1".parse().unwrap_or_else(|_| unreachable!());
        assert!(matches!(
            MapState::build(d),
            Err(StateError::UnknownMicroGrid { .. })
        ));
        let mut d = dataset();
        d.hazards[0].unit = uid(99);
        assert!(matches!(
            MapState::build(d),
            Err(StateError::UnknownUnit { what: "hazard", .. })
        ));
    }

    #[test]
    fn figures_follow_the_facts_through_time() {
        let s = state();
        let town = s.regions.town();
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
        let vb = s
            .regions
            .find(&"VB".parse().unwrap_or_else(|_| unreachable!()));
        let vb = vb.unwrap_or_else(|| unreachable!());
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
        let town = stats(&s, s.regions.town(), t(9));
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
