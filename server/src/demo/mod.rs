//! The Guali pilot as data: a deterministic generator of the demo dataset.
//!
//! Given a seed, [`generate`] builds the town, its 74 real villages (official codes
//! from `data/guali_villages.csv`, synthetic polygons), 160 grids and 2,283
//! micro-grids, 25,553 units placed plausibly, and the two-month campaign's
//! inspections, 49,106 hazards, yellow cards, closures and suspensions, matching the
//! figures of the reports (see `shared/DOMAIN.md` and [`figures`]).

mod names;
mod places;
mod places_data;
pub mod province;
pub mod targets;
mod timeline;
mod units;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::state::RegionError;
use crate::store::Dataset;

/// The figures from the reports that the demo reproduces exactly.
pub mod figures {
    /// Town area, km².
    pub const TOWN_AREA_KM2: f64 = 126.9;
    /// Areas (片区).
    pub const AREAS: usize = 3;
    /// Groups (小组).
    pub const GROUPS: usize = 12;
    /// Villages and communities (村社).
    pub const VILLAGES: usize = 74;
    /// Grids (网格).
    pub const GRIDS: usize = 160;
    /// Micro-grids (微网格).
    pub const MICRO_GRIDS: usize = 2_283;
    /// Enterprises, factory-in-factory included.
    pub const ENTERPRISES: usize = 2_906;
    /// Factory-in-factory enterprises (厂中厂).
    pub const FACTORY_IN_FACTORY: usize = 764;
    /// Street shops.
    pub const STREET_SHOPS: usize = 5_295;
    /// Rental rooms.
    pub const RENTALS: usize = 17_232;
    /// High-rise buildings ("listed as a target, no count": our choice).
    pub const HIGH_RISES: usize = 120;
    /// Enterprise batches: model, rectify, close (the remaining 4 are unsorted).
    pub const BATCHES: [usize; 3] = [266, 2_524, 112];
    /// Hazards found in the campaign.
    pub const HAZARDS: usize = 49_106;
    /// Of which in the concentrated stage.
    pub const CONCENTRATED: usize = 31_600;
    /// Of which by deadline (about 20% of the non-immediate ones).
    pub const DEADLINE: usize = 7_900;
    /// Hazards found by the comprehensive one-time inspections (综合查一次), over 80%
    /// of them closed by the end of 12 August 2022.
    pub const COMPREHENSIVE: usize = 3_468;
    /// Concentrated hazards closed by the end of 15 July 2022 (22%).
    pub const CONCENTRATED_CLOSED_BY_JUL_15: usize = 6_952;
    /// Rag-recycling workshops shut down, and the villages they were in.
    pub const RAG_WORKSHOPS: (usize, usize) = (107, 8);
}

/// The seed `onemap demo` uses.
pub const DEFAULT_SEED: u64 = 20_220_615;

/// Builds the whole demo dataset. Same seed, same data, on every machine.
pub fn generate(seed: u64) -> Result<Dataset, RegionError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let places = places::Places::generate(&mut rng)?;
    let units = units::place_units(&mut rng, &places);
    let campaign = timeline::run_campaign(&mut rng, &units);
    Ok(Dataset {
        regions: places.regions,
        units: units.units,
        inspections: campaign.inspections,
        hazards: campaign.hazards,
        suspensions: campaign.suspensions,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::OnceLock;

    use geo::{GeodesicArea, Intersects};

    use super::*;
    use crate::domain::time::Zone;
    use crate::domain::{Colour, Level, Stage, UnitKind};
    use crate::state::MapState;
    use crate::state::stats::stats;

    fn demo() -> &'static (Dataset, MapState) {
        static DEMO: OnceLock<(Dataset, MapState)> = OnceLock::new();
        DEMO.get_or_init(|| {
            let data = generate(DEFAULT_SEED).unwrap_or_default();
            let state = MapState::build(data.clone(), chrono::Utc::now())
                .unwrap_or_else(|e| panic!("demo state: {e}"));
            (data, state)
        })
    }

    fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
        Zone::CHINA.parse_moment(s).unwrap_or_default()
    }

    #[test]
    fn places_have_the_reported_counts_and_area() {
        let (data, _) = demo();
        let count = |l: Level| data.regions.iter().filter(|r| r.level == l).count();
        assert_eq!(count(Level::Town), 1);
        assert_eq!(count(Level::Area), figures::AREAS);
        assert_eq!(count(Level::Group), figures::GROUPS);
        assert_eq!(count(Level::Village), figures::VILLAGES);
        assert_eq!(count(Level::Grid), figures::GRIDS);
        assert_eq!(count(Level::MicroGrid), figures::MICRO_GRIDS);
        let area_km2 = |l: Level| -> f64 {
            data.regions
                .iter()
                .filter(|r| r.level == l)
                .filter_map(|r| r.boundary.as_ref())
                .map(|b| b.geodesic_area_unsigned() / 1e6)
                .sum()
        };
        let town = area_km2(Level::Town);
        assert!(
            (town - figures::TOWN_AREA_KM2).abs() < 0.05,
            "town is {town} km²"
        );
        // Children tile their parents exactly (up to rounding of vertices to 1 cm).
        for l in [Level::Village, Level::Grid, Level::MicroGrid] {
            let a = area_km2(l);
            assert!(
                (a - town).abs() < 0.01,
                "{l} polygons cover {a} km², town {town}"
            );
        }
    }

    #[test]
    fn units_match_the_register() {
        let (data, state) = demo();
        let kinds = |k: UnitKind| data.units.iter().filter(|u| u.kind == k).count();
        assert_eq!(kinds(UnitKind::Enterprise), figures::ENTERPRISES);
        assert_eq!(kinds(UnitKind::StreetShop), figures::STREET_SHOPS);
        assert_eq!(kinds(UnitKind::Rental), figures::RENTALS);
        assert_eq!(kinds(UnitKind::HighRise), figures::HIGH_RISES);
        assert_eq!(
            data.units
                .iter()
                .filter(|u| u.is_factory_in_factory())
                .count(),
            figures::FACTORY_IN_FACTORY
        );
        for (batch, n) in [Batch::Model, Batch::Rectify, Batch::Close]
            .into_iter()
            .zip(figures::BATCHES)
        {
            assert_eq!(
                data.units.iter().filter(|u| u.batch == Some(batch)).count(),
                n,
                "{batch}"
            );
        }
        // Every unit sits in the micro-grid it is registered to.
        for e in &state.units {
            let mg = state.regions.get(e.micro_grid);
            assert!(
                mg.boundary
                    .as_ref()
                    .is_some_and(|b| b.intersects(&e.unit.location.point())),
                "unit {}",
                e.unit.id
            );
        }
        // Hosts are enterprises that are not tenants themselves.
        for u in data.units.iter().filter(|u| u.is_factory_in_factory()) {
            let host = u.host.and_then(|h| data.units.get(h.get() as usize - 1));
            assert!(host.is_some_and(|h| h.kind == UnitKind::Enterprise && h.host.is_none()));
        }
        use crate::domain::Batch;
    }

    #[test]
    fn the_campaign_reproduces_the_reports() {
        let (data, state) = demo();
        assert_eq!(data.hazards.len(), figures::HAZARDS);
        assert_eq!(
            data.hazards
                .iter()
                .filter(|h| h.stage == Stage::Concentrated)
                .count(),
            figures::CONCENTRATED
        );
        // Every unit inspected between 15 and 30 June.
        let (from, to) = (at("2022-06-14"), at("2022-06-30"));
        assert!(state.units.iter().all(|e| {
            e.first_inspected_at
                .map(crate::domain::time::Stamp::time)
                .is_some_and(|t| t > from && t <= to)
        }));
        let town = state.regions.root();
        let jun30 = stats(state, town, to);
        assert_eq!(jun30.inspected, jun30.units.total);
        let jul15 = stats(state, town, at("2022-07-15"));
        let rate = jul15.hazards.by_stage.concentrated.closure_rate;
        assert!(
            (0.21..=0.23).contains(&rate),
            "concentrated closure on 15 July: {rate}"
        );
        assert_eq!(
            jul15.hazards.by_stage.concentrated.found,
            figures::CONCENTRATED as u64
        );
        let aug12 = stats(state, town, at("2022-08-12"));
        assert_eq!(aug12.hazards.found, figures::HAZARDS as u64);
        assert!(
            aug12.hazards.closure_rate > 0.80,
            "closure by 12 August: {}",
            aug12.hazards.closure_rate
        );
        let comprehensive = aug12.hazards.comprehensive;
        assert_eq!(comprehensive.found, figures::COMPREHENSIVE as u64);
        assert!(
            comprehensive.closure_rate > 0.80,
            "comprehensive closure by 12 August: {comprehensive:?}"
        );
        // Colours the wall should show at some point: every one of the five.
        let mid = stats(state, town, at("2022-08-05"));
        let c = mid.units.by_colour;
        assert!(
            c.green > 0 && c.yellow > 0 && c.orange > 0 && c.red > 0 && c.black > 0,
            "{c:?}"
        );
        assert!(aug12.hazards.overdue > 0);
    }

    #[test]
    fn rag_workshops_are_shut_and_cleared() {
        let (data, state) = demo();
        let rag: Vec<_> = data
            .units
            .iter()
            .filter(|u| u.name.contains("废布回收"))
            .filter_map(|u| state.unit(u.id))
            .collect();
        assert_eq!(rag.len(), figures::RAG_WORKSHOPS.0);
        let villages: BTreeSet<_> = rag
            .iter()
            .map(|e| {
                state
                    .regions
                    .parent(state.regions.parent(e.micro_grid).unwrap_or(0))
                    .unwrap_or(0)
            })
            .collect();
        assert_eq!(villages.len(), figures::RAG_WORKSHOPS.1);
        let end = at("2022-12-31");
        for e in rag {
            assert_eq!(crate::domain::colour_of(&e.facts(), end), Colour::Black);
            assert!(e.hazards.iter().all(|h| h.is_closed(end)));
        }
        assert!(!data.suspensions.is_empty());
    }

    #[test]
    fn the_same_seed_gives_the_same_data() {
        let again = generate(DEFAULT_SEED).unwrap_or_default();
        assert!(again == demo().0, "generation is not deterministic");
    }
}
