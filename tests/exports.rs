//! Hazards and visits exported from the Guali demo, on both stores: the hazards CSV
//! (BOM, Chinese headers) holds exactly the hazards `/api/stats` counts as found for
//! the same region and moment, its open and overdue ones what the figures say — now and
//! at a past moment; the GeoJSON opens in GDAL's `ogrinfo`; the XLSX reads back with
//! calamine; the visits of some days are exactly those the store holds for those days
//! (counted here from the raw rows); a grid worker's files hold only their micro-grid;
//! bad parameters are refused naming the field.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, Utc};
use common::{Server, TestDb, client_with, on_own_runtime, token_for};
use onemap::auth::Role;
use onemap::demo::DEFAULT_SEED;
use onemap::domain::time::Zone;
use onemap::store::AnyStore;
use serde_json::Value;

/// The demo served from one store.
struct Demo {
    server: Server,
    /// The store's URL: a test opens its own connection.
    url: String,
}

/// The demo on SQLite and on PostGIS, seeded once for the tests of this binary.
fn demos() -> &'static [Demo; 2] {
    static DEMOS: OnceLock<[Demo; 2]> = OnceLock::new();
    DEMOS.get_or_init(|| {
        on_own_runtime(async {
            let mut out = Vec::new();
            for db in TestDb::both().await {
                onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap();
                let server = Server::start(&db.store).await.shared();
                let url = db.url.clone();
                // Kept for the process: the shared server serves from it.
                std::mem::forget(db);
                out.push(Demo { server, url });
            }
            let [sqlite, postgis]: [Demo; 2] = out.try_into().ok().unwrap();
            [sqlite, postgis]
        })
    })
}

impl Demo {
    async fn store(&self) -> AnyStore {
        AnyStore::open(&self.url).await.unwrap()
    }

    fn name(&self) -> &'static str {
        if self.url.starts_with("sqlite") {
            "sqlite"
        } else {
            "postgis"
        }
    }
}

/// GET an export as `client`: the bytes, after checking it is a 200 attachment.
async fn download(server: &Server, client: &reqwest::Client, path: &str) -> Vec<u8> {
    let resp = client.get(server.url(path)).send().await.unwrap();
    let status = resp.status().as_u16();
    let disposition = resp
        .headers()
        .get("content-disposition")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = resp.bytes().await.unwrap().to_vec();
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    body
}

/// The records of a CSV export, after checking its BOM; and its header.
fn csv_records(bytes: &[u8]) -> (Vec<String>, Vec<csv::StringRecord>) {
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a BOM for Excel");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let head = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let records = reader.records().map(Result::unwrap).collect();
    (head, records)
}

/// The figures of `query` as the command post reads them.
async fn stats(server: &Server, query: &str) -> Value {
    let (s, v) = server.get_json(&format!("/api/stats?{query}")).await;
    assert_eq!(s, 200, "{v}");
    v
}

fn count(v: &Value, path: &str) -> usize {
    common::json_u64(v, path) as usize
}

/// Column positions of the hazards export.
const H_MICRO_GRID: usize = 5;
const H_TYPE: usize = 7;
const H_FOUND_AT: usize = 10;
const H_STATE: usize = 14;
/// Column positions of the visits export.
const V_UNIT: usize = 1;
const V_MICRO_GRID: usize = 5;
const V_AT: usize = 8;

/// The hazards CSV of `query` against the figures of the same region and moment: as
/// many rows as hazards found, as many open and overdue.
async fn hazards_match_stats(demo: &Demo, query: &str) -> usize {
    let server = &demo.server;
    let bytes = download(
        server,
        &server.client(),
        &format!("/api/exports/hazards?{query}"),
    )
    .await;
    let (head, rows) = csv_records(&bytes);
    assert_eq!(
        &head[..4],
        ["隐患编号", "单位系统编号", "单位编号", "单位名称"],
        "{head:?}"
    );
    assert_eq!(head[H_STATE], "状态");
    let figures = stats(server, query).await;
    let open = rows
        .iter()
        .filter(|r| &r[H_STATE] == "未整改" || &r[H_STATE] == "逾期")
        .count();
    let overdue = rows.iter().filter(|r| &r[H_STATE] == "逾期").count();
    let closed = rows.iter().filter(|r| &r[H_STATE] == "已销号").count();
    let who = demo.name();
    assert_eq!(
        rows.len(),
        count(&figures, "hazards.found"),
        "{who} {query}"
    );
    assert_eq!(open, count(&figures, "hazards.open"), "{who} {query}");
    assert_eq!(overdue, count(&figures, "hazards.overdue"), "{who} {query}");
    assert_eq!(closed, count(&figures, "hazards.closed"), "{who} {query}");
    // Types are named from the checklist table, not by their keys.
    assert!(
        rows.iter().all(|r| !r[H_TYPE].contains('_')),
        "{who}: a hazard type left as its key"
    );
    rows.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hazards_csv_holds_what_the_figures_count_now() {
    for demo in demos() {
        let n = hazards_match_stats(demo, "").await;
        assert!(n > 40_000, "{}: {n} hazards in the demo", demo.name());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_past_moment_gives_that_moments_hazards_and_states() {
    for demo in demos() {
        let now = hazards_match_stats(demo, "").await;
        // 15 July: 22% of the concentrated hazards closed; 12 August: yellow cards given,
        // some overdue.
        let jul15 = hazards_match_stats(demo, "at=2022-07-15").await;
        assert!(
            jul15 < now,
            "{}: hazards found later are left out",
            demo.name()
        );
        let aug12 = stats(&demo.server, "at=2022-08-12").await;
        assert!(
            count(&aug12, "hazards.overdue") > 0,
            "the demo has overdue hazards then"
        );
        hazards_match_stats(demo, "at=2022-08-12").await;
        hazards_match_stats(demo, "at=2022-08-12T09:30:00%2B08:00&kind=rental").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_narrows_the_hazards_as_it_narrows_the_figures() {
    for demo in demos() {
        let village = first_village(&demo.server).await;
        let n = hazards_match_stats(demo, &format!("region={village}&at=2022-08-12")).await;
        assert!(n > 0, "{village}");
    }
}

/// The town's id, as the figures name their region.
async fn town(server: &Server) -> String {
    let figures = stats(server, "").await;
    figures["region"]["id"].as_str().unwrap().to_owned()
}

/// A village of the demo: the first child down from the town until one is a village.
async fn first_village(server: &Server) -> String {
    let mut id = town(server).await;
    for _ in 0..4 {
        let (s, r) = server.get_json(&format!("/api/regions/{id}")).await;
        assert_eq!(s, 200, "{r}");
        let child = &r["children"][0];
        id = child["id"].as_str().unwrap().to_owned();
        if child["level"] == "village" {
            return id;
        }
    }
    panic!("no village under the town");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn found_days_narrow_the_hazards() {
    for demo in demos() {
        let server = &demo.server;
        let bytes = download(
            server,
            &server.client(),
            "/api/exports/hazards?from=2022-07-01&to=2022-07-10&lang=en",
        )
        .await;
        let (head, rows) = csv_records(&bytes);
        assert_eq!(head[0], "hazard_id");
        assert!(!rows.is_empty());
        for r in &rows {
            let day = &r[H_FOUND_AT][..10];
            assert!(("2022-07-01"..="2022-07-10").contains(&day), "{r:?}");
        }
        // Independently: the hazards the store holds found on those days (local time).
        let store = demo.store().await;
        let found: Vec<DateTime<Utc>> = raw_times(&store, "SELECT found_at FROM hazards").await;
        let (from, until) = range("2022-07-01", "2022-07-10");
        let want = found.iter().filter(|t| from <= **t && **t < until).count();
        assert_eq!(rows.len(), want, "{}", demo.name());
    }
}

/// Every time of a one-column query, read as the store gives it.
async fn raw_times(store: &AnyStore, sql: &str) -> Vec<DateTime<Utc>> {
    match store {
        AnyStore::Sqlite(s) => sqlx::query_scalar(sql).fetch_all(s.pool()).await,
        AnyStore::Postgres(s) => sqlx::query_scalar(sql).fetch_all(s.pool()).await,
    }
    .unwrap()
}

/// Every visit's time and its unit's micro-grid, as the store holds them.
async fn raw_visits(store: &AnyStore) -> Vec<(DateTime<Utc>, String)> {
    let sql = "SELECT i.inspected_at, u.micro_grid_id FROM inspections i \
               JOIN units u ON u.id = i.unit_id";
    match store {
        AnyStore::Sqlite(s) => sqlx::query_as(sql).fetch_all(s.pool()).await,
        AnyStore::Postgres(s) => sqlx::query_as(sql).fetch_all(s.pool()).await,
    }
    .unwrap()
}

/// The moments from the start of `from` to the start of the day after `to`, in Guali.
fn range(from: &str, to: &str) -> (DateTime<Utc>, DateTime<Utc>) {
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    (
        Zone::CHINA.start_of_day(day(from)),
        Zone::CHINA.start_of_day(day(to).succ_opt().unwrap()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_visits_of_some_days_are_those_recorded_on_them() {
    for demo in demos() {
        let server = &demo.server;
        let store = demo.store().await;
        let all = raw_visits(&store).await;
        for (from, to) in [("2022-06-20", "2022-06-22"), ("2022-07-15", "2022-07-15")] {
            let bytes = download(
                server,
                &server.client(),
                &format!("/api/exports/visits?from={from}&to={to}"),
            )
            .await;
            let (head, rows) = csv_records(&bytes);
            assert_eq!(&head[..2], ["检查编号", "单位系统编号"], "{head:?}");
            let (start, end) = range(from, to);
            let want = all.iter().filter(|(t, _)| start <= *t && *t < end).count();
            assert!(want > 0, "the demo has visits {from}..{to}");
            assert_eq!(rows.len(), want, "{} {from}..{to}", demo.name());
            for r in &rows {
                let day = &r[V_AT][..10];
                assert!((from..=to).contains(&day), "{r:?}");
            }
        }
        // Without days: every visit.
        let bytes = download(server, &server.client(), "/api/exports/visits").await;
        let (_, rows) = csv_records(&bytes);
        assert_eq!(rows.len(), all.len(), "{}", demo.name());
        // A pass says so; a visit that found hazards says how many.
        assert!(rows.iter().any(|r| &r[9] == "合格"));
        assert!(rows.iter().any(|r| r[9].starts_with("发现隐患")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_geojson_opens_in_ogrinfo_with_a_feature_per_row() {
    for demo in demos() {
        let server = &demo.server;
        let at = "at=2022-07-15";
        let figures = stats(server, &format!("{at}&kind=street_shop")).await;
        let hazards = count(&figures, "hazards.found");
        let geo = download(
            server,
            &server.client(),
            &format!("/api/exports/hazards?format=geojson&{at}&kind=street_shop"),
        )
        .await;
        assert_eq!(ogr_features(&geo, demo.name(), "hazards"), hazards);
        let store = demo.store().await;
        let (start, end) = range("2022-06-25", "2022-06-26");
        let visits = raw_visits(&store)
            .await
            .iter()
            .filter(|(t, _)| start <= *t && *t < end)
            .count();
        let geo = download(
            server,
            &server.client(),
            "/api/exports/visits?format=geojson&from=2022-06-25&to=2022-06-26",
        )
        .await;
        assert_eq!(ogr_features(&geo, demo.name(), "visits"), visits);
        let v: Value = serde_json::from_slice(&geo).unwrap();
        assert_eq!(v["features"][0]["geometry"]["type"], "Point");
    }
}

/// The feature count `ogrinfo` reads in a GeoJSON file.
fn ogr_features(bytes: &[u8], store: &str, what: &str) -> usize {
    let path = std::env::temp_dir().join(format!(
        "onemap-export-{}-{store}-{what}.geojson",
        std::process::id()
    ));
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("ogrinfo")
        .args(["-so", "-al"])
        .arg(&path)
        .output()
        .expect("ogrinfo (scripts/setup-tools installs GDAL)");
    let _ = std::fs::remove_file(&path);
    let info = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(info.contains("Geometry: Point"), "{info}");
    info.lines()
        .find_map(|l| l.strip_prefix("Feature Count: "))
        .unwrap_or_else(|| panic!("{info}"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_xlsx_reads_back_with_calamine() {
    use calamine::{Data, Reader};
    for demo in demos() {
        let server = &demo.server;
        let figures = stats(server, "at=2022-08-12").await;
        let bytes = download(
            server,
            &server.client(),
            "/api/exports/hazards?format=xlsx&lang=en&at=2022-08-12",
        )
        .await;
        let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let sheet = book.worksheet_range_at(0).unwrap().unwrap();
        let rows: Vec<&[Data]> = sheet.rows().collect();
        assert_eq!(rows.len(), count(&figures, "hazards.found") + 1);
        assert_eq!(rows[0][0].to_string(), "hazard_id");
        assert_eq!(rows[0][H_STATE].to_string(), "state");
        assert!(matches!(rows[1][0], Data::Float(_)), "ids are numbers");
        let overdue = rows[1..].iter().filter(|r| r[H_STATE] == "overdue").count();
        assert_eq!(overdue, count(&figures, "hazards.overdue"));

        let bytes = download(
            server,
            &server.client(),
            "/api/exports/visits?format=xlsx&from=2022-06-20&to=2022-06-20",
        )
        .await;
        let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let sheet = book.worksheet_range_at(0).unwrap().unwrap();
        let store = demo.store().await;
        let (start, end) = range("2022-06-20", "2022-06-20");
        let want = raw_visits(&store)
            .await
            .iter()
            .filter(|(t, _)| start <= *t && *t < end)
            .count();
        assert_eq!(sheet.rows().count(), want + 1, "{}", demo.name());
        assert_eq!(sheet.rows().next().unwrap()[0].to_string(), "检查编号");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grid_workers_files_hold_only_their_micro_grid() {
    for demo in demos() {
        let server = &demo.server;
        let store = demo.store().await;
        // A micro-grid with hazards: the one of the first hazard exported.
        let bytes = download(server, &server.client(), "/api/exports/hazards").await;
        let (_, all) = csv_records(&bytes);
        let mg = all[0][H_MICRO_GRID].to_owned();
        let token = token_for(
            &store,
            &format!("export-grid-{}", demo.name()),
            Role::GridWorker,
            &[mg.parse().unwrap()],
        )
        .await;
        let mine = client_with(&token);

        let bytes = download(server, &mine, "/api/exports/hazards?at=2022-08-12").await;
        let (_, rows) = csv_records(&bytes);
        let theirs = stats(server, &format!("region={mg}&at=2022-08-12")).await;
        assert!(!rows.is_empty());
        assert!(rows.iter().all(|r| r[H_MICRO_GRID] == *mg), "{mg}");
        assert_eq!(rows.len(), count(&theirs, "hazards.found"));
        assert!(rows.len() < all.len());

        let bytes = download(server, &mine, "/api/exports/visits").await;
        let (_, rows) = csv_records(&bytes);
        let want = raw_visits(&store)
            .await
            .iter()
            .filter(|(_, m)| *m == mg)
            .count();
        assert!(want > 0);
        assert!(rows.iter().all(|r| r[V_MICRO_GRID] == *mg), "{mg}");
        assert_eq!(rows.len(), want);
        assert!(rows.iter().all(|r| !r[V_UNIT].is_empty()));

        // Above their micro-grid, still only it; beside it, nothing (as if it did not exist).
        let town = town(server).await;
        let bytes = download(server, &mine, &format!("/api/exports/visits?region={town}")).await;
        assert_eq!(csv_records(&bytes).1.len(), want);
        let other = all
            .iter()
            .map(|r| r[H_MICRO_GRID].to_owned())
            .find(|m| *m != mg)
            .unwrap();
        for path in ["hazards", "visits"] {
            let resp = mine
                .get(server.url(&format!("/api/exports/{path}?region={other}")))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), 404, "{path}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_refused_naming_the_field() {
    let demo = &demos()[0];
    let server = &demo.server;
    let client = server.client();
    for (path, field) in [
        ("/api/exports/hazards?format=pdf", "format"),
        ("/api/exports/visits?format=pdf", "format"),
        ("/api/exports/hazards?lang=fr", "lang"),
        ("/api/exports/hazards?at=yesterday", "at"),
        ("/api/exports/hazards?from=2022-07-02&to=2022-07-01", "from"),
        ("/api/exports/visits?from=2022-07-02&to=2022-07-01", "from"),
        ("/api/exports/visits?from=2022-13-01", "from"),
        ("/api/exports/visits?to=15/07/2022", "to"),
        ("/api/exports/hazards?colour=purple", "colour"),
        ("/api/exports/visits?at=2022-07-01", "at"),
    ] {
        let resp = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 400, "{path}");
        let e: Value = resp.json().await.unwrap();
        assert_eq!(e["error"]["field"], field, "{path}: {e}");
    }
    let resp = client
        .get(server.url("/api/exports/hazards?region=nowhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
}
