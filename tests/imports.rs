//! A town's register imported, on both stores: 10,000 units in a CSV written here in
//! GB18030 with Chinese headers and GCJ-02 positions (what Chinese Excel and AMap
//! give), the same register as an XLSX workbook and as GeoJSON, a re-import that
//! updates, a dry run, a file with five bad lines that writes nothing and names them
//! all, and the command line on the same store.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{EventStream, Server, TestDb};
use onemap::auth::Role;
use onemap::demo::DEFAULT_SEED;
use onemap::domain::Location;
use serde_json::Value;

/// WGS 84 to GCJ-02 by the published formula, written here so that the server's
/// conversion (a library's inverse) is checked against something independent of it.
fn gcj02(lon: f64, lat: f64) -> (f64, f64) {
    use std::f64::consts::PI;
    const A: f64 = 6_378_245.0;
    const EE: f64 = 0.006_693_421_622_965_943;
    let (x, y) = (lon - 105.0, lat - 35.0);
    let d_lat = -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * x.abs().sqrt()
        + (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0
        + (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0
        + (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    let d_lon = 300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * x.abs().sqrt()
        + (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0
        + (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0
        + (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    let rad = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad.sin() * rad.sin();
    let sqrt_magic = magic.sqrt();
    let d_lat = d_lat * 180.0 / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let d_lon = d_lon * 180.0 / (A / sqrt_magic * rad.cos() * PI);
    (lon + d_lon, lat + d_lat)
}

/// Metres between two points (haversine).
fn metres(a: Location, b: (f64, f64)) -> f64 {
    let r = 6_371_008.8_f64;
    let (p1, p2) = (a.y().to_radians(), b.1.to_radians());
    let dp = p2 - p1;
    let dl = (b.0 - a.x()).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().asin()
}

/// Points inside the town: where the demo's units stand.
fn town_points(server_state: &onemap::AppState, n: usize) -> Vec<(f64, f64)> {
    let map = server_state.map.read().unwrap();
    let step = (map.units.len() / n).max(1);
    map.units
        .iter()
        .step_by(step)
        .take(n)
        .map(|e| (e.unit.location.x(), e.unit.location.y()))
        .collect()
}

const KINDS_ZH: [&str; 4] = ["企业", "沿街店铺", "出租房", "高层建筑"];
const RISKS_ZH: [&str; 4] = ["红", "橙", "黄", "蓝"];

/// The register as CSV rows with Chinese headers, positions in GCJ-02.
fn register_csv(prefix: &str, points: &[(f64, f64)], rename: &[usize]) -> String {
    let mut s = String::from("编号,名称,地址,类型,经度,纬度,负责人,联系电话,风险等级,备注\n");
    for (i, &(lon, lat)) in points.iter().enumerate() {
        let (glon, glat) = gcj02(lon, lat);
        let name = if rename.contains(&i) {
            format!("更名单位{i}")
        } else {
            format!("导入单位{i}号")
        };
        s.push_str(&format!(
            "{prefix}{i:05},{name},瓜沥镇测试路{i}号,{},{glon:.7},{glat:.7},张{i},1380000{:04},{},\n",
            KINDS_ZH[i % 4],
            i % 10_000,
            RISKS_ZH[i % 4],
        ));
    }
    s
}

fn gb18030(s: &str) -> Vec<u8> {
    let (bytes, _, bad) = encoding_rs::GB18030.encode(s);
    assert!(!bad);
    bytes.into_owned()
}

async fn import(server: &Server, query: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let resp = server
        .client_as(Role::Admin)
        .post(server.url(&format!("/api/imports/units?{query}")))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

async fn export(server: &Server, role: Role, query: &str) -> Vec<u8> {
    let resp = server
        .client_as(role)
        .get(server.url(&format!("/api/exports/units?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{query}");
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    resp.bytes().await.unwrap().to_vec()
}

async fn total(server: &Server) -> u64 {
    let (s, stats) = server.get_json("/api/stats").await;
    assert_eq!(s, 200);
    stats["units"]["total"].as_u64().unwrap()
}

async fn check(db: TestDb) {
    onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap();
    let state = onemap::load_state(&db.store).await.unwrap();
    let points = town_points(&state, 10_000);
    assert_eq!(points.len(), 10_000);
    let server = Server::serve(state.clone()).await;
    let before = total(&server).await;

    // 1. The CSV in GB18030, GCJ-02: 10,000 new units, one event on the live feed.
    let csv = register_csv("GL-", &points, &[]);
    let mut stream = EventStream::connect(&server, "/api/events/stream", None).await;
    let (s, dry) = import(&server, "crs=gcj02&dry_run=true", "text/csv", gb18030(&csv)).await;
    assert_eq!(s, 200, "{dry}");
    assert_eq!(
        (dry["new"].as_u64(), dry["dry_run"].as_bool()),
        (Some(10_000), Some(true))
    );
    assert_eq!(total(&server).await, before, "a dry run writes nothing");
    let (s, done) = import(
        &server,
        "crs=gcj02&source=register.csv",
        "text/csv",
        gb18030(&csv),
    )
    .await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["new"], 10_000, "{done}");
    assert_eq!(
        done["ignored_columns"],
        serde_json::json!(["备注"]),
        "{done}"
    );
    assert_eq!(total(&server).await, before + 10_000);
    let live = stream.drain(Duration::from_millis(1500)).await;
    let kinds: Vec<String> = live
        .iter()
        .filter_map(|r| r.data["type"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        kinds,
        ["units_imported"],
        "one change on the live feed: {kinds:?}"
    );

    // Every stored position within 0.5 m of the point the GCJ-02 was made from.
    let keys: Vec<String> = (0..points.len()).map(|i| format!("GL-{i:05}")).collect();
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let ids = db.store.external_ids(&refs).await.unwrap();
    assert_eq!(ids.len(), 10_000);
    let worst = {
        let map = state.map.read().unwrap();
        keys.iter()
            .zip(&points)
            .map(|(k, &p)| {
                let u = map.unit_idx(ids[k]).unwrap();
                metres(map.units[u as usize].unit.location, p)
            })
            .fold(0.0_f64, f64::max)
    };
    assert!(
        worst < 0.5,
        "a stored position is {worst:.3} m from its point"
    );

    // The unit's history says who imported it; the log ends with the import.
    let unit = ids["GL-00007"];
    let (_, h) = server.get_json(&format!("/api/units/{unit}/history")).await;
    let first = &h["events"].as_array().unwrap()[0];
    assert_eq!(
        (first["type"].as_str(), first["by"].as_str()),
        (Some("unit_registered"), Some("test-admin")),
        "{h}"
    );
    let (_, log) = server.get_json("/api/events?limit=1").await;
    assert_eq!(log["events"][0]["type"], "units_imported", "{log}");
    assert_eq!(log["events"][0]["after"]["new"], 10_000, "{log}");

    // 2. Again with five names changed: five updates, nothing added.
    let changed = register_csv("GL-", &points, &[1, 2, 3, 500, 9_999]);
    let (s, again) = import(&server, "crs=gcj02", "text/csv", gb18030(&changed)).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(
        (
            again["new"].as_u64(),
            again["updated"].as_u64(),
            again["unchanged"].as_u64()
        ),
        (Some(0), Some(5), Some(9_995)),
        "{again}"
    );
    assert_eq!(total(&server).await, before + 10_000);
    let (_, card) = server
        .get_json(&format!("/api/units/{}", ids["GL-00500"]))
        .await;
    assert_eq!(card["name"], "更名单位500", "{card}");

    // 3. The same register as a workbook (written with a maintained library), in WGS 84.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["external_id", "name", "kind", "lon", "lat", "risk"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (i, &(lon, lat)) in points.iter().take(300).enumerate() {
        let r = i as u32 + 1;
        sheet.write_number(r, 0, 70_000.0 + i as f64).unwrap();
        sheet.write_string(r, 1, format!("表格单位{i}")).unwrap();
        sheet.write_string(r, 2, "street_shop").unwrap();
        sheet.write_number(r, 3, lon).unwrap();
        sheet.write_number(r, 4, lat).unwrap();
        sheet.write_string(r, 5, "yellow").unwrap();
    }
    let xlsx = book.save_to_buffer().unwrap();
    let (s, x) = import(
        &server,
        "",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        xlsx,
    )
    .await;
    assert_eq!((s, x["new"].as_u64()), (200, Some(300)), "{x}");
    let xids = db.store.external_ids(&["70000", "70299"]).await.unwrap();
    assert_eq!(xids.len(), 2, "numbers in cells are ids as typed: {xids:?}");

    // 4. And as GeoJSON points in BD-09.
    let features: Vec<Value> = points
        .iter()
        .skip(300)
        .take(100)
        .enumerate()
        .map(|(i, &(lon, lat))| {
            let (glon, glat) = gcj02(lon, lat);
            let (blon, blat) = coordtransform::gcj02_to_bd09(glon, glat);
            serde_json::json!({"type": "Feature",
                "geometry": {"type": "Point", "coordinates": [blon, blat]},
                "properties": {"external_id": format!("GJ-{i}"), "name": format!("点位{i}"), "kind": "rental"}})
        })
        .collect();
    let geo = serde_json::json!({"type": "FeatureCollection", "features": features});
    let (s, g) = import(
        &server,
        "crs=bd09",
        "application/geo+json",
        serde_json::to_vec(&geo).unwrap(),
    )
    .await;
    assert_eq!((s, g["new"].as_u64()), (200, Some(100)), "{g}");
    assert_eq!(total(&server).await, before + 10_400);

    // 5. Five bad lines among good ones: nothing written, all five named.
    let (lon, lat) = points[0];
    let bad = format!(
        "external_id,name,kind,lon,lat\n\
         OK-1,好单位,enterprise,{lon},{lat}\n\
         OK-2,,enterprise,{lon},{lat}\n\
         OK-3,远方单位,enterprise,121.9,31.2\n\
         OK-4,颠倒单位,enterprise,{lat},{lon}\n\
         OK-5,怪单位,castle,{lon},{lat}\n\
         OK-1,重复单位,rental,{lon},{lat}\n"
    );
    let (s, e) = import(&server, "", "text/csv", bad.into_bytes()).await;
    assert_eq!(s, 400, "{e}");
    let lines: Vec<u64> = e["error"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4, 5, 6, 7], "{e}");
    let by_line: HashMap<u64, &Value> = e["error"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["line"].as_u64().unwrap(), l))
        .collect();
    assert_eq!(by_line[&3]["column"], "name");
    assert!(
        by_line[&4]["message"].as_str().unwrap().contains("outside"),
        "{e}"
    );
    assert!(
        by_line[&5]["message"].as_str().unwrap().contains("swapped"),
        "{e}"
    );
    assert_eq!(by_line[&6]["column"], "kind");
    assert!(
        by_line[&7]["message"].as_str().unwrap().contains("line 2"),
        "{e}"
    );
    assert_eq!(
        total(&server).await,
        before + 10_400,
        "a bad file writes nothing"
    );
    assert!(db.store.external_ids(&["OK-1"]).await.unwrap().is_empty());

    // 6. Exports: CSV (UTF-8 with BOM, Chinese headers) of every unit, read back here;
    // GeoJSON opened by GDAL's ogrinfo; XLSX by a spreadsheet reader (calamine); a grid
    // worker's export holds only their micro-grid.
    let all = total(&server).await;
    let csv_out = export(&server, Role::Command, "format=csv").await;
    assert!(csv_out.starts_with(b"\xEF\xBB\xBF"), "a BOM for Excel");
    let text = String::from_utf8(csv_out[3..].to_vec()).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let head: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(&head[..4], ["系统编号", "编号", "名称", "地址"], "{head:?}");
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len() as u64, all);
    let seven = records.iter().find(|r| &r[1] == "GL-00007").unwrap();
    assert_eq!(
        (&seven[2], &seven[4]),
        ("导入单位7号", "高层建筑"),
        "{seven:?}"
    );
    let geo_out = export(&server, Role::Command, "format=geojson&kind=rental").await;
    let path = std::env::temp_dir().join(format!(
        "onemap-export-{}-{}.geojson",
        std::process::id(),
        db.store.backend()
    ));
    std::fs::write(&path, &geo_out).unwrap();
    let info = std::process::Command::new("ogrinfo")
        .args(["-so", "-al"])
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    let info = String::from_utf8_lossy(&info.stdout).into_owned();
    let (_, rentals) = server.get_json("/api/stats?kind=rental").await;
    let rentals = rentals["units"]["total"].as_u64().unwrap();
    assert!(
        info.contains(&format!("Feature Count: {rentals}")),
        "{info}"
    );
    let xlsx_out = export(&server, Role::Command, "format=xlsx&lang=en").await;
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(xlsx_out)).unwrap();
    use calamine::Reader;
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(sheet.rows().count() as u64, all + 1);
    assert_eq!(sheet.rows().next().unwrap()[1].to_string(), "external_id");
    let mg: onemap::domain::RegionId = seven[12].parse().unwrap();
    let token = common::token_for(
        &db.store,
        "export-grid",
        Role::GridWorker,
        std::slice::from_ref(&mg),
    )
    .await;
    let resp = common::client_with(&token)
        .get(server.url("/api/exports/units?format=csv&lang=en"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let mine = String::from_utf8(resp.bytes().await.unwrap()[3..].to_vec()).unwrap();
    let mut reader = csv::Reader::from_reader(mine.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(
        !rows.is_empty() && rows.iter().all(|r| r[12] == *mg.as_str()),
        "only the grid worker's micro-grid"
    );
    let (_, theirs) = server.get_json(&format!("/api/stats?region={mg}")).await;
    assert_eq!(
        rows.len() as u64,
        theirs["units"]["total"].as_u64().unwrap()
    );

    // Only an admin imports.
    let resp = server
        .client_as(Role::Inspector)
        .post(server.url("/api/imports/units"))
        .header("content-type", "text/csv")
        .body(csv.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    server.stop().await;

    // 7. The command line on the same store: the bad file exits 1 naming its lines;
    // a good one writes.
    let dir = std::env::temp_dir().join(format!(
        "onemap-import-{}-{}",
        std::process::id(),
        db.store.backend()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let bad_file = dir.join("bad.csv");
    std::fs::write(&bad_file, "name,kind,lon,lat\n,enterprise,1,1\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_onemap"))
        .args(["import", "units"])
        .arg(&bad_file)
        .args(["--db", &db.url])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("line 2, name: a unit needs a name"), "{err}");
    let good_file = dir.join("good.csv");
    std::fs::write(&good_file, register_csv("CLI-", &points[..50], &[])).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_onemap"))
        .args(["import", "units", "--crs", "gcj02"])
        .arg(&good_file)
        .args(["--db", &db.url])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("50 rows: 50 new"), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
    let reloaded = onemap::load_state(&db.store).await.unwrap();
    assert_eq!(
        reloaded.map.read().unwrap().units.len() as u64,
        before + 10_450
    );
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_register_imports_into_sqlite() {
    check(TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_register_imports_into_postgis() {
    check(TestDb::postgis().await).await;
}

/// The demo's whole register exported as CSV goes back in: into its own store it changes
/// nothing, and into a fresh store of the same places it makes every unit again, the
/// factories in factories with their hosts and the units that share a name and address
/// told apart by the export's own ids.
async fn round_trip(db: TestDb, fresh: TestDb) {
    onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap();
    let server = Server::start(&db.store).await;
    let csv = export(&server, Role::Admin, "format=csv").await;
    let units = total(&server).await;
    let (_, stats) = server.get_json("/api/stats").await;
    let hosted = stats["units"]["factory_in_factory"].as_u64().unwrap();
    assert!(hosted > 0, "the demo has factories in factories");

    let (status, back) = import(&server, "dry_run=true", "text/csv", csv.clone()).await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(
        (
            back["new"].as_u64(),
            back["updated"].as_u64(),
            back["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(units)),
        "{back}"
    );
    let places = db.store.load().await.unwrap().regions;
    server.stop().await;
    db.finish().await;

    fresh
        .store
        .import(&onemap::store::Dataset {
            regions: places,
            ..Default::default()
        })
        .await
        .unwrap();
    let server = Server::start(&fresh.store).await;
    let (status, report) = import(&server, "source=export.csv", "text/csv", csv).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["new"].as_u64(), Some(units), "{report}");
    let (_, stats) = server.get_json("/api/stats").await;
    assert_eq!(stats["units"]["total"].as_u64(), Some(units));
    assert_eq!(stats["units"]["factory_in_factory"].as_u64(), Some(hosted));
    server.stop().await;
    fresh.finish().await;
}

#[tokio::test]
async fn an_exported_register_goes_back_in_on_sqlite() {
    round_trip(TestDb::sqlite().await, TestDb::sqlite().await).await;
}

#[tokio::test]
async fn an_exported_register_goes_back_in_on_postgis() {
    round_trip(TestDb::postgis().await, TestDb::postgis().await).await;
}
