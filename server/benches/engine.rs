//! The map engine measured on the Guali demo, in process (no HTTP): the server-side
//! time to render every tile of the town at zooms 8–18 (no cache), the cost of one
//! incremental update, and the heap the state holds per unit.
//!
//! Run: `cargo bench -p onemap --bench engine` (figures go to BENCHMARKS.md).
//! Quantiles are over every tile of a zoom (up to a deterministic sample of 3,000).

use std::alloc::System;
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, Utc};
use onemap::demo::{DEFAULT_SEED, generate};
use onemap::domain::{
    Category, Change, Closure, Deadline, HazardId, InspectionId, InspectionKind, NewHazard,
    NewVisit, PastMoment, Severity, Stage, Text,
};
use onemap::state::MapState;
use onemap::store::Assigned;

/// A value the bench makes, which is valid by construction.
fn must<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}
use onemap::state::aggregate::UnitFilter;
use onemap::views::tiles::{Layer, TileRequest, render};
use onemap_tiles::{LonLat, TileCoord};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn quantile(sorted: &[StdDuration], q: f64) -> StdDuration {
    if sorted.is_empty() {
        return StdDuration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn us(d: StdDuration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

fn main() {
    let data = match generate(DEFAULT_SEED) {
        Ok(d) => d,
        Err(e) => panic!("demo: {e}"),
    };
    let now = Utc::now();
    let mut state = match MapState::build(data, now) {
        Ok(s) => s,
        Err(e) => panic!("state: {e}"),
    };
    let units = state.units.len();
    // Heap held by a state: what dropping one gives back (nothing else is freed then).
    let data2 = match generate(DEFAULT_SEED) {
        Ok(d) => d,
        Err(e) => panic!("demo: {e}"),
    };
    let regions_only = onemap::store::Dataset {
        regions: data2.regions.clone(),
        ..Default::default()
    };
    let s2 = MapState::build(data2, now);
    let region = Region::new(GLOBAL);
    drop(s2);
    let state_bytes = region.change().bytes_deallocated;
    // The same town without units: what the place hierarchy alone holds.
    let s3 = MapState::build(regions_only, now);
    let region = Region::new(GLOBAL);
    drop(s3);
    let places_bytes = region.change().bytes_deallocated;
    println!("units: {units}");
    let hazards: usize = state.units.iter().map(|e| e.hazards.len()).sum();
    println!(
        "sizes: UnitEntry {} B, HazardFacts {} B, Unit {} B; {hazards} hazards",
        std::mem::size_of::<onemap::state::UnitEntry>(),
        std::mem::size_of::<onemap::domain::HazardFacts>(),
        std::mem::size_of::<onemap::domain::Unit>(),
    );
    println!(
        "state heap: {state_bytes} bytes, of which places {places_bytes}; units: {:.0} bytes per unit",
        (state_bytes - places_bytes) as f64 / units as f64
    );

    // Tiles: every tile over the town, per zoom, all three layers, no cache.
    let town = state.regions.get(state.regions.root());
    let bbox = town
        .boundary
        .as_ref()
        .and_then(geo::BoundingRect::bounding_rect)
        .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
        .unwrap_or_default();
    println!("zoom | tiles | layer | p50 µs | p99 µs | max µs | max bytes");
    for z in 8..=18u8 {
        let tiles = town_tiles(bbox, z, 3000);
        for layers in [
            vec![Layer::Units],
            vec![Layer::Regions],
            vec![Layer::Hexes],
            Layer::ALL.to_vec(),
        ] {
            let mut times = Vec::with_capacity(tiles.len());
            let mut max_bytes = 0;
            for &coord in &tiles {
                let req = TileRequest {
                    layers: layers.clone(),
                    coord,
                    filter: UnitFilter::default(),
                    at: None,
                };
                let t0 = Instant::now();
                let bytes = render(&state, &req).unwrap_or_default();
                times.push(t0.elapsed());
                max_bytes = max_bytes.max(bytes.len());
            }
            times.sort();
            let name: Vec<&str> = layers.iter().map(|l| l.name()).collect();
            println!(
                "{z} | {} | {} | {} | {} | {} | {max_bytes}",
                tiles.len(),
                name.join(","),
                us(quantile(&times, 0.5)),
                us(quantile(&times, 0.99)),
                us(quantile(&times, 1.0)),
            );
        }
    }

    // Incremental updates: a hazard found, then closed, on units across the town.
    let n = 20_000;
    let mut times = Vec::with_capacity(n);
    let step = (units / 5000).max(1);
    for k in 0..n / 2 {
        let e = &state.units[(k * step) % units];
        let unit = e.unit.id;
        let at = now + Duration::seconds(k as i64);
        let hid = match HazardId::new(100_000 + k as i64) {
            Ok(h) => h,
            Err(e) => panic!("{e}"),
        };
        let iid = match InspectionId::new(100_000 + k as i64) {
            Ok(i) => i,
            Err(e) => panic!("{e}"),
        };
        let visit = Change::Inspect(NewVisit {
            unit,
            kind: InspectionKind::Reinspection,
            inspector: must(Text::new("bench")),
            at: must(PastMoment::new(Some(at), at)),
            signature: None,
            photos: vec![],
            hazards: vec![NewHazard {
                category: Category::Fire,
                hazard_type: must(Text::new("bench")),
                severity: if k % 3 == 0 {
                    Severity::Major
                } else {
                    Severity::General
                },
                stage: Stage::Deadline,
                deadline: Some(must(Deadline::new(at + Duration::days(3), at))),
            }],
            comprehensive: false,
            note: Default::default(),
        });
        let assigned = Assigned {
            unit: None,
            inspection: Some(iid),
            hazards: vec![hid],
            ..Assigned::default()
        };
        let close = Change::Close(Closure {
            hazard: hid,
            at: must(PastMoment::new(Some(at), at)),
            evidence: must(Text::new("fixed")),
            report: None,
            by: "inspector".into(),
        });
        let t0 = Instant::now();
        if let Err(e) = state.apply(&visit, &assigned) {
            panic!("{e}");
        }
        times.push(t0.elapsed());
        let t0 = Instant::now();
        if let Err(e) = state.apply(&close, &Assigned::default()) {
            panic!("{e}");
        }
        times.push(t0.elapsed());
    }
    times.sort();
    println!(
        "update (record a hazard / close it), {} updates: p50 {} µs, p99 {} µs, max {} µs",
        times.len(),
        us(quantile(&times, 0.5)),
        us(quantile(&times, 0.99)),
        us(quantile(&times, 1.0)),
    );
}

/// The tiles at `z` over `bbox`, at most `max` of them (an even sample, deterministic).
fn town_tiles(bbox: [f64; 4], z: u8, max: usize) -> Vec<TileCoord> {
    let corner = |lon, lat| TileCoord::containing(LonLat { lon, lat }, z).ok();
    let (Some(nw), Some(se)) = (corner(bbox[0], bbox[3]), corner(bbox[2], bbox[1])) else {
        return Vec::new();
    };
    let mut all = Vec::new();
    for x in nw.x()..=se.x() {
        for y in nw.y()..=se.y() {
            if let Ok(t) = TileCoord::new(z, x, y) {
                all.push(t);
            }
        }
    }
    let stride = all.len().div_ceil(max).max(1);
    all.into_iter().step_by(stride).collect()
}
