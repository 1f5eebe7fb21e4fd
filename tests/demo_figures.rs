//! The Guali demo end to end: generated into a real SQLite file and a real PostGIS
//! database, served over HTTP on loopback, and checked against the reports' figures.
//! Both stores must give the same answers.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{Server, TestDb};
use onemap::demo::{DEFAULT_SEED, figures};
use serde_json::Value;

fn n(v: &Value, path: &str) -> f64 {
    path.split('.')
        .fold(v, |v, k| &v[k])
        .as_f64()
        .unwrap_or_else(|| panic!("{path} missing in {v}"))
}

/// The reports' figures, as `/api/stats` must give them for the town.
fn check_town_figures(all: &Value, jul15: &Value, aug12: &Value) {
    assert_eq!(
        n(all, "units.by_kind.enterprise"),
        figures::ENTERPRISES as f64
    );
    assert_eq!(
        n(all, "units.by_kind.street_shop"),
        figures::STREET_SHOPS as f64
    );
    assert_eq!(n(all, "units.by_kind.rental"), figures::RENTALS as f64);
    assert_eq!(
        n(all, "units.by_kind.high_rise"),
        figures::HIGH_RISES as f64
    );
    assert_eq!(n(all, "units.total"), 25_553.0);
    assert_eq!(n(all, "units.factory_in_factory"), 764.0);
    assert_eq!(n(all, "regions.area"), 3.0);
    assert_eq!(n(all, "regions.group"), 12.0);
    assert_eq!(n(all, "regions.village"), 74.0);
    assert_eq!(n(all, "regions.grid"), 160.0);
    assert_eq!(n(all, "regions.micro_grid"), 2_283.0);
    assert_eq!(n(all, "hazards.found"), 49_106.0);
    assert_eq!(n(all, "hazards.by_stage.concentrated.found"), 31_600.0);
    assert_eq!(n(all, "inspected"), 25_553.0);
    assert_eq!(n(all, "inspection_rate"), 1.0);
    let colours: f64 = ["green", "yellow", "orange", "red", "black", "uninspected"]
        .iter()
        .map(|c| n(all, &format!("units.by_colour.{c}")))
        .sum();
    assert_eq!(colours, 25_553.0, "every unit has exactly one colour");
    let r = n(jul15, "hazards.by_stage.concentrated.closure_rate");
    assert!(
        (0.21..=0.23).contains(&r),
        "22% ± 1 point of concentrated hazards closed on 15 July, got {r}"
    );
    let r = n(aug12, "hazards.closure_rate");
    assert!(
        r > 0.80,
        "over 80% of all hazards closed on 12 August, got {r}"
    );
}

#[tokio::test]
async fn both_stores_serve_the_reports_figures_identically() {
    let mut answers = Vec::new();
    for db in TestDb::both().await {
        assert!(onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap());
        assert!(
            !onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap(),
            "seeding twice writes nothing"
        );
        let server = Server::start(&db.store).await;
        let (status, health) = server.get_json("/healthz").await;
        assert_eq!((status, health["units"].as_u64()), (200, Some(25_553)));

        let mut bodies = Vec::new();
        for q in [
            "?at=2022-10-01",
            "?at=2022-07-15",
            "?at=2022-08-12",
            "?at=2022-06-20",
            "?region=330109113011&at=2022-07-15",
            "?region=330109113-group05&at=2022-08-12",
            "?at=2022-07-20T10:30:00%2B08:00",
        ] {
            let (status, body) = server.get_json(&format!("/api/stats{q}")).await;
            assert_eq!(status, 200, "{q}: {body}");
            bodies.push(body);
        }
        check_town_figures(&bodies[0], &bodies[1], &bodies[2]);
        // Mid-campaign, some units are not inspected yet.
        assert!(n(&bodies[3], "inspection_rate") < 1.0 && n(&bodies[3], "inspection_rate") > 0.0);
        // A village's subtree: itself, its grids and micro-grids.
        let v = &bodies[4];
        assert_eq!(v["region"]["level"], "village");
        assert_eq!(v["region"]["name"], "航坞社区");
        assert_eq!(n(v, "regions.village"), 1.0);
        assert!(n(v, "regions.grid") >= 2.0 && n(v, "units.total") > 0.0);
        assert!(n(v, "units.total") < 25_553.0);
        answers.push(bodies);

        // Without `at`: now, long after the campaign.
        let (status, now) = server.get_json("/api/stats").await;
        assert_eq!(status, 200);
        assert!(
            n(&now, "units.by_colour.black") >= 107.0,
            "the rag workshops stay shut: {now}"
        );
        server.stop().await;
        db.finish().await;
    }
    assert_eq!(answers[0], answers[1], "SQLite and PostGIS disagree");
}

#[tokio::test]
async fn postgis_agrees_with_the_demo_geometry() {
    let db = TestDb::postgis().await;
    onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap();
    let onemap::store::AnyStore::Postgres(pg) = &db.store else {
        unreachable!()
    };
    let scalar = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(pg.pool())
            .await
            .unwrap()
    };
    assert_eq!(
        scalar("SELECT count(*) FROM regions WHERE geom IS NOT NULL AND NOT ST_IsValid(geom)")
            .await,
        0
    );
    assert_eq!(
        scalar("SELECT count(*) FROM units u JOIN regions r ON r.id = u.micro_grid_id WHERE NOT ST_Intersects(u.geom, r.geom)").await,
        0,
        "every unit lies in its micro-grid by PostGIS's own test"
    );
    assert_eq!(
        scalar("SELECT count(*) FROM regions c JOIN regions p ON p.id = c.parent_id \
                WHERE c.level IN ('grid', 'micro_grid') AND NOT ST_Covers(ST_Buffer(p.geom, 1e-6), c.geom)").await,
        0,
        "grids and micro-grids nest in their parents"
    );
    let km2: f64 = sqlx::query_scalar(
        "SELECT ST_Area(geom::geography) / 1e6 FROM regions WHERE level = 'town'",
    )
    .fetch_one(pg.pool())
    .await
    .unwrap();
    assert!(
        (km2 - figures::TOWN_AREA_KM2).abs() < 0.05,
        "PostGIS measures the town at {km2} km²"
    );
    let loaded = db.store.load().await.unwrap();
    assert_eq!(
        loaded,
        onemap::demo::generate(DEFAULT_SEED).unwrap(),
        "PostGIS gives back the generated data exactly"
    );
    db.finish().await;
}

#[tokio::test]
async fn bad_parameters_get_a_400_naming_them() {
    let db = TestDb::sqlite().await;
    onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap();
    let server = Server::start(&db.store).await;
    for (q, field) in [
        ("?at=yesterday", "at"),
        ("?at=2022-02-30", "at"),
        ("?region=a%20b", "region"),
        ("?region=<script>", "region"),
        ("?colour=purple", "colour"),
        ("?kind=castle", "kind"),
        ("?hue=red", "hue"),
        ("?at=2022-07-01&at=2022-07-02", "at"),
    ] {
        let (status, body) = server.get_json(&format!("/api/stats{q}")).await;
        assert_eq!(status, 400, "{q}: {body}");
        assert_eq!(body["error"]["field"], field, "{q}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let (status, body) = server.get_json("/api/stats?region=330109113999").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "not_found");
    let (status, body) = server.get_json("/api/nothing-here").await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &Value::from("not_found"))
    );
    let resp = server
        .client()
        .post(server.url("/api/stats"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
    server.stop().await;
    db.finish().await;
}

/// The README's demo command, as a user runs it: the real binary, a fresh data
/// directory, a signal to stop, and `serve` on the same file afterwards.
#[tokio::test]
async fn the_onemap_binary_runs_the_demo_and_serves_it_again() {
    let dir = std::env::temp_dir().join(format!("onemap_bin_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = |args: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_onemap"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .split(" at ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in the first line: {line:?}"))
            .trim_end_matches('/')
            .to_owned();
        (child, base)
    };
    let data_dir = dir.to_str().unwrap();
    let (mut demo, base) = run(&["demo", "--listen", "127.0.0.1:0", "--data-dir", data_dir]);
    // The demo prints its users; the wall screen's token reads.
    let users = std::fs::read_to_string(dir.join("demo-users.txt")).unwrap();
    let token = users
        .split("#token=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no wall token in {users}"))
        .to_owned();
    for role in ["command", "leader", "inspector", "grid", "admin", "wall"] {
        assert!(users.contains(&format!("  {role} ")), "{users}");
    }
    let client = common::client_with(&token);
    let anonymous = reqwest::get(format!("{base}/api/stats")).await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    let first: Value = client
        .get(format!("{base}/api/stats?at=2022-08-12"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(n(&first, "hazards.found"), 49_106.0);
    // SIGTERM: a graceful stop with exit code 0.
    let pid = demo.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(demo.wait().unwrap().success());
    assert!(dir.join("onemap.sqlite").exists());

    let url = format!("sqlite://{}", dir.join("onemap.sqlite").display());
    let (mut serve, base) = run(&["serve", "--listen", "127.0.0.1:0", "--db", &url]);
    let again: Value = client
        .get(format!("{base}/api/stats?at=2022-08-12"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        first, again,
        "the stored demo serves the same figures after a restart"
    );
    serve.kill().unwrap();
    let _ = serve.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Past days' figures for the town, its areas and its groups are read from daily
/// checkpoints kept as the map changes: on every day of the campaign (and the week
/// after) each checkpoint equals the fold over every unit at that day's end, and
/// `/api/stats` and `/api/regions` answer a past day with those figures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_days_come_from_checkpoints_equal_to_the_fold() {
    use onemap::state::aggregate::{UnitFilter, fold_regions};
    use onemap::state::history::is_kept;
    let db = TestDb::sqlite().await;
    onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap();
    let state = onemap::load_state(&db.store).await.unwrap();
    let zone = state.zone;
    let (days, last_day) = {
        let map = state.map.read().unwrap();
        let h = map.history().expect("the server keeps daily checkpoints");
        let last = map
            .units
            .iter()
            .flat_map(onemap::state::UnitEntry::moments)
            .max()
            .map(|t| zone.date_of(t))
            .unwrap();
        let days: Vec<_> = h
            .days()
            .take_while(|&d| d <= last + chrono::Days::new(7))
            .collect();
        let mut compared = 0;
        for &d in &days {
            let end = zone.end_of_day(d);
            let fold = fold_regions(&map, end, &UnitFilter::default());
            for (i, r) in map.regions.all().iter().enumerate() {
                if is_kept(r.level) {
                    assert_eq!(h.at(i, end), Some(&fold[i]), "{d} {}", r.id);
                    compared += 1;
                }
            }
        }
        assert!(days.len() > 100, "the campaign's days: {}", days.len());
        assert_eq!(compared, days.len() * (1 + 3 + 12), "town, areas, groups");
        // Filtered, and regions without checkpoints: from the town's cells by kind and
        // colour or each region's own units, equal to the fold over every unit, every
        // seventh day of the campaign and now.
        use onemap::domain::{Colour, UnitKind};
        use onemap::state::aggregate::fold_filtered;
        let filters = [
            UnitFilter::default(),
            UnitFilter::default().with_kinds(&[UnitKind::StreetShop, UnitKind::HighRise]),
            UnitFilter::default().with_colours(&[Colour::Orange, Colour::Black]),
            UnitFilter::default()
                .with_kinds(&[UnitKind::Rental])
                .with_colours(&[Colour::Green, Colour::Uninspected]),
        ];
        let moments = days
            .iter()
            .step_by(7)
            .map(|&d| zone.end_of_day(d))
            .chain([map.live().at()]);
        let mut compared = 0;
        for end in moments {
            for f in &filters {
                let fold = fold_regions(&map, end, f);
                for (i, a) in fold.iter().enumerate() {
                    assert_eq!(&fold_filtered(&map, i, end, f), a, "{end} {f:?} {i}");
                    compared += 1;
                }
            }
        }
        assert!(compared > 15 * 4 * 74, "{compared}");
        (days, last)
    };
    assert!(days.last().unwrap() > &last_day);
    // The progress chart's days, from the checkpoints, are the hazards' own days.
    let scanned = {
        let map = state.map.read().unwrap();
        common::progress_by_scan(&map, zone, chrono::Utc::now())
    };
    // Over HTTP: a past day's figures are the checkpoint's.
    let server = Server::serve(state).await;
    let (_, progress) = server.get_json("/api/progress").await;
    assert_eq!(common::progress_days(&progress), scanned);
    let (_, jul15) = server.get_json("/api/stats?at=2022-07-15").await;
    assert_eq!(n(&jul15, "units.total"), 25_553.0);
    let (_, area) = server.get_json("/api/regions/town").await;
    let area = area["children"][0]["id"].as_str().unwrap().to_owned();
    let (_, view) = server
        .get_json(&format!("/api/regions/{area}?at=2022-07-15"))
        .await;
    let (_, stats) = server
        .get_json(&format!("/api/stats?region={area}&at=2022-07-15"))
        .await;
    assert_eq!(view["figures"]["units"], stats["units"]["total"]);
    assert_eq!(view["figures"]["found"], stats["hazards"]["found"]);
    server.stop().await;
    db.finish().await;
}
