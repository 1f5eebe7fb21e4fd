//! Province scale, end to end on a small province: `onemap gen --scale province` bulk
//! loads PostGIS by COPY (regions, units with their colour column, inspections,
//! hazards, suspensions, the clock watermark); the server started on it streams the
//! map in, showing its progress; the figures match the table; low zooms come from
//! aggregates with every unit counted once, villages wait for a closer zoom; a second
//! `gen` on the filled store is refused and changes nothing; SQLite is refused by name.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::collections::HashMap;
use std::process::Command;

use common::{Server, TestDb, decode_tile, json_u64 as n, prop_str, prop_u64, tiles_in};
use onemap::store::AnyStore;

const UNITS: u64 = 30_000;

fn run_gen(url: &str, units: u64) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_onemap"))
        .args([
            "gen",
            "--scale",
            "province",
            "--units",
            &units.to_string(),
            "--db",
            url,
        ])
        .env("RUST_LOG", "info")
        .output()
        .expect("run onemap gen")
}

/// The fold over every unit `filter` admits at `at`, into `regions` only (a province
/// has 485,371 regions).
fn fold_into(
    map: &onemap::state::MapState,
    at: chrono::DateTime<chrono::Utc>,
    filter: &onemap::state::aggregate::UnitFilter,
    regions: &[usize],
) -> HashMap<usize, onemap::state::aggregate::Agg> {
    let mut fold: HashMap<usize, _> = regions.iter().map(|&i| (i, Default::default())).collect();
    for e in &map.units {
        let Some((colour, a)) = onemap::state::aggregate::contribution(e, at) else {
            continue;
        };
        if !filter.admits(map, e, colour) {
            continue;
        }
        let mut r = Some(e.micro_grid);
        while let Some(i) = r {
            if let Some(x) = fold.get_mut(&i) {
                *x += &a;
            }
            r = map.regions.parent(i);
        }
    }
    fold
}

async fn table_counts(db: &TestDb) -> Vec<i64> {
    let AnyStore::Postgres(pg) = &db.store else {
        unreachable!()
    };
    let mut out = Vec::new();
    for t in ["regions", "units", "inspections", "hazards", "suspensions"] {
        let c: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {t}"))
            .fetch_one(pg.pool())
            .await
            .expect("count");
        out.push(c);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_province_loads_serves_and_counts_every_unit() {
    let db = TestDb::postgis().await;

    // SQLite is refused, naming the flag; nothing is written anywhere.
    let dir = std::env::temp_dir().join(format!("onemap_province_{}", std::process::id()));
    let sqlite = format!("sqlite://{}/x.sqlite", dir.display());
    let out = run_gen(&sqlite, 10);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--db") && err.contains("COPY"), "{err}");
    assert!(!dir.join("x.sqlite").exists());

    let out = run_gen(&db.url, UNITS);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "gen failed: {stdout}\n{stderr}");
    assert!(
        stderr.contains("bulk load: copied"),
        "progress is logged: {stderr}"
    );
    let counts = table_counts(&db).await;
    // 1 province, 90 counties, 1,440 towns, 23,040 villages, 92,160 grids, 368,640
    // micro-grids.
    assert_eq!(counts[0], 1 + 90 + 1_440 + 23_040 + 92_160 + 368_640);
    assert_eq!(counts[1], UNITS as i64);
    assert!(stdout.contains(&format!("{UNITS} units")), "{stdout}");
    assert!(
        counts[2] > 0 && counts[3] > 0 && counts[4] > 0,
        "{counts:?}"
    );

    // Indexes and foreign keys are back after the load.
    let AnyStore::Postgres(pg) = &db.store else {
        unreachable!()
    };
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes WHERE tablename = 'units' ORDER BY 1",
    )
    .fetch_all(pg.pool())
    .await
    .expect("indexes");
    for want in ["units_geom", "units_micro_grid", "units_colour_missing"] {
        assert!(indexes.iter().any(|i| i == want), "{want} in {indexes:?}");
    }
    let bad = sqlx::query("INSERT INTO hazards (unit_id, inspection_id, category, hazard_type, severity, stage, found_at) VALUES (999999999, 1, 'fire', 'x', 'general', 'immediate', now())")
        .execute(pg.pool())
        .await;
    assert!(bad.is_err(), "the foreign keys hold again");
    // The colour column is filled for every unit, the watermark set.
    let colours: Vec<(String, i64)> =
        sqlx::query_as("SELECT colour, count(*) FROM units GROUP BY colour ORDER BY colour")
            .fetch_all(pg.pool())
            .await
            .expect("colours");
    let colours: HashMap<String, i64> = colours.into_iter().collect();
    assert_eq!(colours.values().sum::<i64>(), UNITS as i64);
    assert!(!colours.contains_key(""), "no unit without colour");
    for c in ["green", "yellow", "orange", "red", "black", "uninspected"] {
        assert!(
            colours.get(c).copied().unwrap_or(0) > 0,
            "some {c}: {colours:?}"
        );
    }
    let watermark: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT watermark FROM clock")
            .fetch_optional(pg.pool())
            .await
            .expect("clock");
    assert!(watermark.is_some());

    // A second gen on the filled store is refused and changes nothing.
    let again = run_gen(&db.url, 100);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds data"));
    assert_eq!(table_counts(&db).await, counts);

    // Past days: each county's and town's daily checkpoint equals the fold over every
    // unit at that day's end, on every day of the campaign.
    {
        use onemap::state::aggregate::UnitFilter;
        use onemap::state::history::is_kept;
        let state = onemap::load_state(&db.store).await.unwrap();
        let map = state.map.read().unwrap();
        let h = map.history().expect("daily checkpoints");
        let days: Vec<_> = h.days().collect();
        assert!(
            days.len() >= 30,
            "days since the campaign began: {}",
            days.len()
        );
        let kept: Vec<usize> = (0..map.regions.all().len())
            .filter(|&i| is_kept(map.regions.get(i).level))
            .collect();
        let mut compared = 0;
        for d in days {
            let end = state.zone.end_of_day(d);
            // The fold, into the kept regions only (a province has 485,371 regions).
            let fold = fold_into(&map, end, &UnitFilter::default(), &kept);
            for &i in &kept {
                assert_eq!(
                    h.at(i, end),
                    Some(&fold[&i]),
                    "{d} {}",
                    map.regions.get(i).id
                );
                compared += 1;
            }
        }
        assert!(compared >= 30 * (1 + 90 + 1_440), "{compared}");
        // Filtered and finer: a kind, two colours, both at once, and none (for the
        // villages, which have no checkpoints) — from the province's and the counties'
        // cells by kind and colour, the towns' and villages' own units — equal the fold
        // over every unit, every fifth day and now.
        use onemap::domain::{Colour, Level, UnitKind};
        use onemap::state::aggregate::fold_filtered;
        let filters = [
            UnitFilter::default().with_kinds(&[UnitKind::Rental]),
            UnitFilter::default().with_colours(&[Colour::Red, Colour::Yellow]),
            UnitFilter::default()
                .with_kinds(&[UnitKind::Enterprise, UnitKind::StreetShop])
                .with_colours(&[Colour::Green]),
            UnitFilter::default(),
        ];
        let asked: Vec<usize> = (0..map.regions.all().len())
            .filter(|&i| map.regions.get(i).level.depth() <= Level::Village.depth())
            .collect();
        let moments = h
            .days()
            .step_by(5)
            .map(|d| state.zone.end_of_day(d))
            .chain([map.live().at()]);
        let mut compared = 0;
        for end in moments {
            for f in &filters {
                let fold = fold_into(&map, end, f, &asked);
                for &i in &asked {
                    assert_eq!(
                        fold_filtered(&map, i, end, f),
                        fold[&i],
                        "{end} {f:?} {}",
                        map.regions.get(i).id
                    );
                    compared += 1;
                }
            }
        }
        assert!(compared > 8 * 4 * 23_040, "{compared}");
        // The progress chart from the checkpoints: the hazards' own days.
        let got = onemap::views::page::progress(
            &map,
            map.regions.root(),
            (chrono::Utc::now(), state.zone),
            &onemap::state::scope::Scope::All,
        );
        let got: Vec<(String, u64, u64)> = got
            .days
            .iter()
            .map(|d| (d.date.to_string(), d.found, d.closed))
            .collect();
        assert_eq!(
            got,
            common::progress_by_scan(&map, state.zone, chrono::Utc::now())
        );
    }

    // Served: the figures equal the table's colours.
    let server = Server::start(&db.store).await;
    let (status, stats) = server.get_json("/api/stats").await;
    assert_eq!(status, 200);
    assert_eq!(stats["region"]["level"], "province");
    assert_eq!(n(&stats, "units.total"), UNITS);
    for (c, k) in &colours {
        assert_eq!(n(&stats, &format!("units.by_colour.{c}")), *k as u64, "{c}");
    }
    assert_eq!(n(&stats, "regions.county"), 90);
    assert_eq!(n(&stats, "regions.town"), 1_440);
    assert_eq!(n(&stats, "regions.micro_grid"), 368_640);

    // Low zooms: clusters from the cells' aggregates count every unit once, and a past
    // day's (from the res-7 cells' checkpoints) every unit in its colour of that day.
    let bounds = [118.0, 27.0, 123.0, 31.2];
    let (_, progress) = server.get_json("/api/progress").await;
    let days = progress["days"].as_array().expect("days");
    let day = days[days.len() / 2]["date"]
        .as_str()
        .expect("date")
        .to_owned();
    let (_, then) = server.get_json(&format!("/api/stats?at={day}")).await;
    let colour_names = ["green", "yellow", "orange", "red", "black", "uninspected"];
    for z in [8u8, 10] {
        let mut by_colour = [0u64; 6];
        for t in tiles_in(bounds, z) {
            let layers = server
                .get_tile(&format!("/tiles/units/{t}.mvt?at={day}"))
                .await;
            for (_, props) in layers.get("units").into_iter().flatten() {
                for (k, c) in colour_names.iter().enumerate() {
                    by_colour[k] += prop_u64(props, c);
                }
            }
        }
        for (k, c) in colour_names.iter().enumerate() {
            assert_eq!(
                by_colour[k],
                n(&then, &format!("units.by_colour.{c}")),
                "{c} on {day} at z{z}"
            );
        }
        assert_eq!(by_colour.iter().sum::<u64>(), UNITS);
    }
    for z in [8u8, 10] {
        let mut total = 0;
        for t in tiles_in(bounds, z) {
            let layers = server
                .get_tile(&format!("/tiles/units,regions/{t}.mvt"))
                .await;
            for (_, props) in layers.get("units").into_iter().flatten() {
                total += prop_u64(props, "count");
            }
            // Villages (23,040) wait until they average at most 256 a tile: not at z8.
            let allowed: &[&str] = if z == 8 {
                &["province", "county", "town"]
            } else {
                &["province", "county", "town", "village"]
            };
            for (_, props) in layers.get("regions").into_iter().flatten() {
                let level = prop_str(props, "level");
                assert!(allowed.contains(&level.as_str()), "z{z}: not {level}");
            }
        }
        assert_eq!(total, UNITS, "clusters at z{z} count every unit once");
    }
    // Villages appear once they are few enough per tile.
    let t = onemap_tiles::TileCoord::containing(
        onemap_tiles::LonLat {
            lon: 120.5,
            lat: 29.1,
        },
        10,
    )
    .expect("tile");
    let resp = server
        .client()
        .get(server.url(&format!("/tiles/regions/{t}.mvt")))
        .send()
        .await
        .expect("tile");
    let layers = decode_tile(&resp.bytes().await.expect("body"));
    let levels: Vec<String> = layers["regions"]
        .iter()
        .map(|(_, p)| prop_str(p, "level"))
        .collect();
    assert!(levels.iter().any(|l| l == "village"), "{levels:?}");

    // Rankings: the level under a region (counties of the province, villages of a
    // town), a page at a time.
    let (status, r) = server.get_json("/api/rankings?metric=closure_rate").await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["region"]["level"], "province");
    assert_eq!(r["level"], "county");
    assert_eq!(n(&r, "total"), 90);
    assert_eq!(r["regions"].as_array().unwrap().len(), 90);
    let (_, first) = server
        .get_json("/api/rankings?metric=closure_rate&level=village&limit=1000")
        .await;
    assert_eq!(n(&first, "total"), 23_040);
    assert_eq!(first["regions"].as_array().unwrap().len(), 1000);
    let (_, page) = server
        .get_json("/api/rankings?metric=closure_rate&level=village&offset=100&limit=50")
        .await;
    assert_eq!(
        page["regions"].as_array().unwrap()[..],
        first["regions"].as_array().unwrap()[100..150],
        "a page is that part of the whole ranking"
    );
    let (_, last) = server
        .get_json("/api/rankings?metric=closure_rate&level=village&offset=23037&limit=10")
        .await;
    assert_eq!(
        last["regions"].as_array().unwrap().len(),
        3,
        "the last page is short"
    );
    let county = r["regions"][0]["id"].as_str().unwrap().to_owned();
    let (_, c) = server.get_json(&format!("/api/regions/{county}")).await;
    let town = c["children"][0]["id"].as_str().unwrap().to_owned();
    let (status, t) = server
        .get_json(&format!(
            "/api/rankings?metric=inspection_rate&region={town}"
        ))
        .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["level"], "village");
    assert_eq!(n(&t, "total"), 16, "a town's 4 × 4 villages");
    for bad in [
        format!("/api/rankings?metric=inspection_rate&region={town}&level=county"),
        "/api/rankings?metric=inspection_rate&limit=0".to_owned(),
        "/api/rankings?metric=inspection_rate&limit=1001".to_owned(),
        "/api/rankings?metric=inspection_rate&offset=-1".to_owned(),
    ] {
        let (status, e) = server.get_json(&bad).await;
        assert_eq!(status, 400, "{bad}: {e}");
        let field = e["error"]["field"].as_str().unwrap();
        assert!(bad.contains(&format!("{field}=")), "{bad} names {field}");
    }
    server.stop().await;
    db.finish().await;
}
