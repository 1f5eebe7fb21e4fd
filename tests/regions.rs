//! A town's own places imported, on both stores: a store started with `init_town`
//! takes its villages, grids and micro-grids from boundary files (GeoJSON written here,
//! the micro-grids as a Shapefile converted by GDAL's `ogr2ogr` and zipped), parents
//! found by containment, the town's boundary made from its villages; the running
//! server's map takes each level at once (stats, labels, tiles, the event stream),
//! units registered and imported land in the new micro-grids, a redrawn border moves a
//! unit (and a restart keeps it there); files that are wrong — a bow-tie polygon, a
//! place outside its parent, two that overlap, a redraw that would leave a unit outside
//! every micro-grid — write nothing and name what is wrong. The command line (`onemap
//! init`, `onemap import regions` of a `.shp`) on a SQLite file of its own.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use common::{EventStream, Server, TestDb};
use onemap::auth::Role;
use serde_json::{Value, json};

/// The test town: 120.40–120.48 E, 30.10–30.16 N, two villages side by side, two grids
/// in each (south, north), two micro-grids in each grid (west, east).
const WEST: f64 = 120.40;
const EAST: f64 = 120.48;
const SOUTH: f64 = 30.10;
const NORTH: f64 = 30.16;

/// A rectangle as a GeoJSON polygon (counter-clockwise, closed).
fn rect(w: f64, s: f64, e: f64, n: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]})
}

fn feature(props: Value, geometry: Value) -> Value {
    json!({"type": "Feature", "properties": props, "geometry": geometry})
}

fn collection(features: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({"type": "FeatureCollection", "features": features})).unwrap()
}

/// The villages: V1 west, V2 east.
fn villages() -> Vec<u8> {
    let mid = (WEST + EAST) / 2.0;
    collection(vec![
        feature(
            json!({"id": "330109999001", "名称": "西村"}),
            rect(WEST, SOUTH, mid, NORTH),
        ),
        feature(
            json!({"id": "330109999002", "名称": "东村"}),
            rect(mid, SOUTH, EAST, NORTH),
        ),
    ])
}

/// The village boxes, west to east.
fn village_boxes() -> [(f64, f64, f64, f64); 2] {
    let mid = (WEST + EAST) / 2.0;
    [(WEST, SOUTH, mid, NORTH), (mid, SOUTH, EAST, NORTH)]
}

/// The grids: each village cut in a south and a north half (parents by containment).
fn grids() -> Vec<u8> {
    let mut f = Vec::new();
    for (v, (w, s, e, n)) in village_boxes().into_iter().enumerate() {
        let mid = (s + n) / 2.0;
        for (g, (gs, gn)) in [(s, mid), (mid, n)].into_iter().enumerate() {
            f.push(feature(
                json!({"id": format!("V{}-G{}", v + 1, g + 1), "name": format!("{}村{}网格", v + 1, g + 1)}),
                rect(w, gs, e, gn),
            ));
        }
    }
    collection(f)
}

/// The grid boxes with their ids.
fn grid_boxes() -> Vec<(String, (f64, f64, f64, f64))> {
    let mut out = Vec::new();
    for (v, (w, s, e, n)) in village_boxes().into_iter().enumerate() {
        let mid = (s + n) / 2.0;
        for (g, (gs, gn)) in [(s, mid), (mid, n)].into_iter().enumerate() {
            out.push((format!("V{}-G{}", v + 1, g + 1), (w, gs, e, gn)));
        }
    }
    out
}

/// The micro-grids: each grid cut west and east at `split` of its width (0.5: halves).
fn micro_grids(split: f64) -> Vec<Value> {
    let mut f = Vec::new();
    for (gid, (w, s, e, n)) in grid_boxes() {
        let cut = w + (e - w) * split;
        for (m, (mw, me)) in [(w, cut), (cut, e)].into_iter().enumerate() {
            f.push(feature(
                json!({"id": format!("{gid}-M{}", m + 1), "name": format!("{gid} 微网格{}", m + 1)}),
                rect(mw, s, me, n),
            ));
        }
    }
    f
}

/// `geojson` as a zipped ESRI Shapefile, converted by GDAL's `ogr2ogr` (its `.dbf` in
/// UTF-8, said so by a `.cpg`).
fn zipped_shapefile(geojson: &[u8], dir: &std::path::Path) -> Vec<u8> {
    std::fs::create_dir_all(dir).unwrap();
    let src = dir.join("in.geojson");
    std::fs::write(&src, geojson).unwrap();
    let shp = dir.join("micro_grids.shp");
    let out = Command::new("ogr2ogr")
        .args(["-f", "ESRI Shapefile", "-lco", "ENCODING=UTF-8"])
        .arg(&shp)
        .arg(&src)
        .output()
        .expect("ogr2ogr (GDAL) is installed by scripts/setup-tools");
    assert!(
        out.status.success(),
        "ogr2ogr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for ext in ["shp", "shx", "dbf", "cpg", "prj"] {
        let part = shp.with_extension(ext);
        let read = std::fs::read(&part);
        if matches!(ext, "shp" | "shx" | "dbf") {
            // The parts a Shapefile cannot do without: a zip without one fails here.
            assert!(read.is_ok(), "{}: {read:?}", part.display());
        }
        if let Ok(data) = read {
            zip.start_file(
                format!("micro_grids.{ext}"),
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
            zip.write_all(&data).unwrap();
        }
    }
    zip.finish().unwrap().into_inner()
}

async fn import(
    server: &Server,
    role: Role,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let path = format!("/api/imports/regions?{query}");
    post(server, role, &path, content_type, body).await
}

/// A file `POST`ed to `path` as `role`: the status and the JSON answer.
async fn post(
    server: &Server,
    role: Role,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let resp = server
        .client_as(role)
        .post(server.url(path))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON"))
}

async fn admin_import(server: &Server, query: &str, body: Vec<u8>) -> (u16, Value) {
    import(server, Role::Admin, query, "application/geo+json", body).await
}

/// The regions of each level the town's stats count.
async fn counts(server: &Server) -> Value {
    let (status, stats) = server.get_json("/api/stats").await;
    assert_eq!(status, 200, "{stats}");
    stats["regions"].clone()
}

/// Registers a unit at a point over HTTP; its micro-grid as the answer records it.
async fn register(server: &Server, name: &str, lon: f64, lat: f64) -> (i64, String) {
    let resp = server
        .client_as(Role::Admin)
        .post(server.url("/api/units"))
        .json(
            &json!({"kind": "street_shop", "name": name, "address": "测试路1号",
                      "owner_name": "王", "owner_phone": "13800000000",
                      "location": [lon, lat], "risk": "blue"}),
        )
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    (
        body["unit"].as_i64().unwrap(),
        body["record"]["micro_grid"].as_str().unwrap().to_owned(),
    )
}

async fn micro_grid_of(server: &Server, unit: i64) -> String {
    let (status, card) = server.get_json(&format!("/api/units/{unit}")).await;
    assert_eq!(status, 200, "{card}");
    card["micro_grid"].as_str().unwrap().to_owned()
}

fn line_messages(body: &Value) -> Vec<(u64, String)> {
    body["error"]["lines"]
        .as_array()
        .unwrap_or_else(|| panic!("no lines in {body}"))
        .iter()
        .map(|l| {
            (
                l["line"].as_u64().unwrap(),
                l["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn a_fresh_town_from_its_own_boundaries(db: TestDb) {
    let town: onemap::domain::RegionId = "330109999".parse().unwrap();
    // A town on another calendar than China's, so that a day counted at UTC+8 anywhere
    // shows below.
    let zone: onemap::domain::time::Zone = "-05:00".parse().unwrap();
    assert!(
        onemap::init_town(&db.store, town.clone(), "测试镇", None, zone)
            .await
            .unwrap()
    );
    assert!(
        !onemap::init_town(&db.store, town.clone(), "又一镇", None, Default::default())
            .await
            .unwrap(),
        "init only starts an empty store"
    );
    let state = onemap::load_state(&db.store)
        .await
        .expect("an empty town loads");
    let server = Server::serve(state.clone()).await;
    let (_, config) = server.get_json("/api/config").await;
    assert_eq!(
        config["town"], "测试镇",
        "titles carry the store's own town"
    );
    let mut stream = EventStream::connect(&server, "/api/events/stream", None).await;

    // Only an admin imports places.
    let (status, _) = import(
        &server,
        Role::Inspector,
        "level=village",
        "application/geo+json",
        villages(),
    )
    .await;
    assert_eq!(status, 403);

    // Villages: under the town (it has no boundary yet), which takes their union.
    let (status, dry) = admin_import(&server, "level=village&dry_run=true", villages()).await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(
        (dry["new"].as_u64(), dry["dry_run"].as_bool()),
        (Some(2), Some(true))
    );
    assert_eq!(
        counts(&server).await["village"],
        0,
        "a dry run writes nothing"
    );
    let (status, report) =
        admin_import(&server, "level=village&source=villages.geojson", villages()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["new"], 2);
    let (_, town_region) = server.get_json("/api/regions/town").await;
    assert_eq!(town_region["name"], "测试镇");
    let bbox: Vec<f64> = serde_json::from_value(town_region["bbox"].clone()).unwrap();
    for (got, want) in bbox.iter().zip([WEST, SOUTH, EAST, NORTH]) {
        assert!((got - want).abs() < 1e-9, "the town's box {bbox:?}");
    }
    let ev = stream
        .next(Duration::from_secs(5))
        .await
        .expect("the import on the stream");
    assert_eq!(ev.data["type"], "regions_imported");
    assert_eq!(ev.data["after"]["new"], 2);
    assert_eq!(ev.data["after"]["source"], "villages.geojson");

    // Grids: parents by containment. The same file again changes nothing.
    let (status, report) = admin_import(&server, "level=grid", grids()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["new"], 4);
    let (status, again) = admin_import(&server, "level=grid", grids()).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        (again["new"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(4))
    );
    let (_, v1) = server.get_json("/api/regions/330109999001").await;
    let children: Vec<&str> = v1["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(children.len(), 2, "{v1}");
    assert!(children.contains(&"V1-G1") && children.contains(&"V1-G2"));

    // Micro-grids as a Shapefile converted by ogr2ogr, zipped.
    // A folder of this store's own: the other store's run removes its folder when done.
    let dir = std::env::temp_dir().join(format!(
        "onemap-regions-{}-{}",
        std::process::id(),
        db.store.backend()
    ));
    let shp = zipped_shapefile(&collection(micro_grids(0.5)), &dir);
    let (status, report) = import(
        &server,
        Role::Admin,
        "level=micro_grid&source=micro_grids.zip",
        "application/zip",
        shp,
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["new"], 8);
    let regions = counts(&server).await;
    assert_eq!(
        (
            regions["village"].as_u64(),
            regions["grid"].as_u64(),
            regions["micro_grid"].as_u64()
        ),
        (Some(2), Some(4), Some(8)),
        "the running map took every level: {regions}"
    );
    let (_, labels) = server.get_json("/api/labels?level=micro_grid").await;
    assert_eq!(labels["features"].as_array().unwrap().len(), 8);
    let (_, mg) = server.get_json("/api/regions/V2-G1-M2").await;
    assert_eq!(
        mg["name"], "V2-G1 微网格2",
        "names read from the .dbf in UTF-8"
    );
    assert_eq!(
        mg["path"].as_array().unwrap().len(),
        3,
        "town → village → grid above it: {mg}"
    );

    // Units land in the new micro-grids: over HTTP and by a register import.
    let (a, a_mg) = register(&server, "甲店", 120.41, 30.11).await;
    assert_eq!(a_mg, "V1-G1-M1");
    let (b, b_mg) = register(&server, "乙店", 120.435, 30.145).await;
    assert_eq!(b_mg, "V1-G2-M2");
    let csv = "名称,类型,经度,纬度\n丙厂,企业,120.478,30.155\n丁房,出租房,120.45,30.105\n";
    let (status, report) = post(
        &server,
        Role::Admin,
        "/api/imports/units",
        "text/csv",
        csv.into(),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    let (_, stats) = server.get_json("/api/stats?region=V2-G2-M2").await;
    assert_eq!(
        stats["units"]["total"], 1,
        "丙厂 in the north-east micro-grid"
    );
    let before = counts(&server).await;

    // Wrong files write nothing and name every wrong feature.
    let mut bad = micro_grids(0.5);
    bad[0]["properties"]["id"] = json!("V1-G1-M1"); // replaced whole, fine
    // Feature 2: a bow tie (its ring crosses itself).
    bad[1]["geometry"] = json!({"type": "Polygon", "coordinates": [[
        [120.42, 30.10], [120.44, 30.13], [120.44, 30.10], [120.42, 30.13], [120.42, 30.10]]]});
    // Feature 3: reaches far out of its grid (and its village, and the town).
    bad[2]["geometry"] = rect(120.40, 30.13, 120.42, 30.20);
    // Feature 9: a new micro-grid over V2-G2-M1.
    bad.push(feature(
        json!({"id": "V2-G2-M3", "name": "重叠"}),
        rect(120.44, 30.13, 120.46, 30.16),
    ));
    let (status, err) = admin_import(&server, "level=micro_grid", collection(bad)).await;
    assert_eq!(status, 400, "{err}");
    let lines = line_messages(&err);
    assert!(
        lines.iter().any(|(l, m)| *l == 2 && m.contains("valid")),
        "the bow tie: {lines:?}"
    );
    assert!(
        lines.iter().any(|(l, m)| *l == 3 && m.contains("outside")),
        "outside its parent: {lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|(l, m)| *l == 9 && m.contains("overlaps") && m.contains("V2-G2-M1")),
        "the overlap: {lines:?}"
    );
    assert_eq!(counts(&server).await, before, "nothing written");

    // A redraw that leaves 甲店 outside every micro-grid is refused, naming it.
    let mut hole = micro_grids(0.5);
    hole[0]["geometry"] = rect(120.415, 30.10, 120.42, 30.13);
    let (status, err) = admin_import(&server, "level=micro_grid", collection(hole)).await;
    assert_eq!(status, 400, "{err}");
    assert!(
        line_messages(&err)
            .iter()
            .any(|(_, m)| m.contains(&format!("unit {a} ")) && m.contains("outside every")),
        "{err}"
    );
    assert_eq!(micro_grid_of(&server, a).await, "V1-G1-M1");

    // Moving the border between V1-G2's micro-grids west of 乙店 moves it, and only it.
    let (status, moved) =
        admin_import(&server, "level=micro_grid", collection(micro_grids(0.9))).await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["updated"], 8);
    assert_eq!(moved["units_moved"], 1, "{moved}");
    assert_eq!(micro_grid_of(&server, b).await, "V1-G2-M1");
    assert_eq!(micro_grid_of(&server, a).await, "V1-G1-M1");
    let (_, m1) = server.get_json("/api/stats?region=V1-G2-M1").await;
    assert_eq!(m1["units"]["total"], 1, "the figures follow the unit");
    let events: Vec<Value> = stream
        .drain(Duration::from_millis(500))
        .await
        .into_iter()
        .map(|r| r.data)
        .collect();
    assert!(
        events.iter().any(|e| e["type"] == "regions_imported"
            && e["after"]["level"] == "micro_grid"
            && e["after"]["units_moved"] == 1),
        "{events:?}"
    );

    // After a restart the store gives the same map.
    server.stop().await;
    let again = onemap::load_state(&db.store).await.unwrap();
    let server = Server::serve(again).await;
    assert_eq!(counts(&server).await["micro_grid"], 8);
    assert_eq!(micro_grid_of(&server, b).await, "V1-G2-M1");
    let (_, t) = server.get_json("/api/stats").await;
    assert_eq!(t["units"]["total"], 4);

    // The town's own calendar, set at init and read back at start: a visit recorded at
    // 22:30 on 15 July is 03:30 UTC on the 16th, and falls on the 15th.
    let (_, config) = server.get_json("/api/config").await;
    assert_eq!(config["time_zone"], "-05:00", "{config}");
    let record = format!("系统编号,检查时间,检查人\n{a},2022-07-15 22:30,张三\n");
    let path = "/api/imports/records";
    let (status, report) = post(&server, Role::Admin, path, "text/csv", record.into()).await;
    assert_eq!(status, 200, "{report}");
    let (_, card) = server.get_json(&format!("/api/units/{a}/history")).await;
    assert!(
        card.to_string().contains("2022-07-16T03:30:00"),
        "stored in UTC: {card}"
    );
    let visits_on = |day: &'static str| {
        let req = server.client_as(Role::Admin).get(server.url(&format!(
            "/api/exports/visits?format=csv&from={day}&to={day}"
        )));
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    let on_15 = visits_on("2022-07-15").await;
    assert!(
        on_15.contains("2022-07-15 22:30:00") && on_15.contains("张三"),
        "on the town's 15th, at its own clock: {on_15}"
    );
    let on_16 = visits_on("2022-07-16").await;
    assert!(!on_16.contains("张三"), "not on the 16th: {on_16}");
    let (status, brief) = server.get_json("/api/briefing?date=2022-07-15").await;
    assert_eq!(
        (status, &brief["time_zone"]),
        (200, &json!("-05:00")),
        "{brief}"
    );
    server.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    db.finish().await;
}

#[tokio::test]
async fn a_fresh_town_takes_its_own_places_on_sqlite() {
    a_fresh_town_from_its_own_boundaries(TestDb::sqlite().await).await;
}

#[tokio::test]
async fn a_fresh_town_takes_its_own_places_on_postgis() {
    a_fresh_town_from_its_own_boundaries(TestDb::postgis().await).await;
}

fn onemap(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_onemap"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run onemap")
}

#[test]
fn the_command_line_starts_a_town_and_imports_a_shapefile() {
    let dir = std::env::temp_dir().join(format!("onemap-regions-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("town.sqlite").display());
    let out = onemap(&[
        "init",
        "--town-name",
        "测试镇",
        "--town-id",
        "330109999",
        "--db",
        &db,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = onemap(&["init", "--town-name", "测试镇", "--db", &db]);
    assert!(
        !again.status.success(),
        "a store with data is not started again"
    );

    let villages_file = dir.join("villages.geojson");
    std::fs::write(&villages_file, villages()).unwrap();
    let out = onemap(&[
        "import",
        "regions",
        villages_file.to_str().unwrap(),
        "--level",
        "village",
        "--db",
        &db,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("2 new"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // A grid file with one grid reaching out of the town: exit 1, the feature named.
    let mut bad: Value = serde_json::from_slice(&grids()).unwrap();
    bad["features"][3]["geometry"] = rect(120.44, 30.13, 120.50, 30.16);
    let grids_file = dir.join("grids.geojson");
    std::fs::write(&grids_file, serde_json::to_vec(&bad).unwrap()).unwrap();
    let args = [
        "import",
        "regions",
        grids_file.to_str().unwrap(),
        "--level",
        "grid",
        "--db",
        &db,
    ];
    let out = onemap(&args);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 4") && err.contains("outside"), "{err}");

    // The good grids, then the micro-grids as the .shp ogr2ogr wrote.
    std::fs::write(&grids_file, grids()).unwrap();
    let out = onemap(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    zipped_shapefile(&collection(micro_grids(0.5)), &dir.join("shp"));
    let shp = dir.join("shp").join("micro_grids.shp");
    let out = onemap(&[
        "import",
        "regions",
        shp.to_str().unwrap(),
        "--level",
        "micro_grid",
        "--db",
        &db,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("8 new"));

    let rt = tokio::runtime::Runtime::new().unwrap();
    let data = rt.block_on(async {
        let store = onemap::store::AnyStore::open(&db).await.unwrap();
        store.load().await.unwrap()
    });
    let level = |l: onemap::domain::Level| data.regions.iter().filter(|r| r.level == l).count();
    use onemap::domain::Level;
    assert_eq!(
        (
            level(Level::Town),
            level(Level::Village),
            level(Level::Grid),
            level(Level::MicroGrid)
        ),
        (1, 2, 4, 8)
    );
    let town = data
        .regions
        .iter()
        .find(|r| r.level == Level::Town)
        .unwrap();
    assert_eq!(town.name, "测试镇");
    assert!(town.boundary.as_ref().is_some_and(|b| !b.0.is_empty()));
    let _ = std::fs::remove_dir_all(&dir);
}
