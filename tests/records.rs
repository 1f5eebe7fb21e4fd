//! The apps' records imported into the Guali demo, on both stores: six units registered
//! with external ids, then a CSV in GB18030 with Chinese headers of their past visits —
//! a pass, open hazards general and major, a yellow card whose deadline passed, a
//! closure, a visit with two hazards — whose colours then follow from the one rule; the
//! figures grow by exactly what the file holds; the unit's history shows the importer's
//! visit; the stream carries one event; a second import changes nothing; a file with
//! five wrong rows writes nothing and names them all; the command line imports an XLSX
//! with Excel moments.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{EventStream, Server, TestDb};
use onemap::auth::Role;
use onemap::demo::DEFAULT_SEED;
use onemap::domain::UnitId;
use serde_json::Value;

fn gb18030(s: &str) -> Vec<u8> {
    let (bytes, _, bad) = encoding_rs::GB18030.encode(s);
    assert!(!bad);
    bytes.into_owned()
}

async fn post(server: &Server, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let resp = server
        .client_as(Role::Admin)
        .post(server.url(path))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON"))
}

async fn stats(server: &Server) -> Value {
    let (status, s) = server.get_json("/api/stats").await;
    assert_eq!(status, 200);
    s["hazards"].clone()
}

fn n(v: &Value, key: &str) -> i64 {
    v[key].as_i64().unwrap_or_else(|| panic!("no {key} in {v}"))
}

/// The six units the records are about, registered with external ids R0001…R0006 at
/// the points of the demo's first units.
async fn register(server: &Server, state: &onemap::AppState) -> HashMap<String, UnitId> {
    let points: Vec<(f64, f64)> = {
        let map = state.map.read().unwrap();
        map.units
            .iter()
            .step_by(1000)
            .take(6)
            .map(|e| (e.unit.location.x(), e.unit.location.y()))
            .collect()
    };
    let mut csv = String::from("编号,名称,类型,经度,纬度\n");
    for (i, (lon, lat)) in points.iter().enumerate() {
        csv.push_str(&format!("R000{},记录单位{i},沿街店铺,{lon},{lat}\n", i + 1));
    }
    let (status, body) = post(server, "/api/imports/units", "text/csv", csv.into_bytes()).await;
    assert_eq!(status, 200, "{body}");
    let keys: Vec<String> = (1..=6).map(|i| format!("R000{i}")).collect();
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    state.store.external_ids(&refs).await.unwrap()
}

const HEADER: &str = "单位编号,检查时间,检查人,检查类型,隐患类型,隐患等级,整改方式,整改期限,黄牌时间,黄牌期限,销号时间,销号依据,备注\n";

/// The apps' records: six visits, six hazards (two closed).
fn records() -> String {
    let t = onemap::domain::checklist::HAZARD_TYPES[0].zh;
    let u = onemap::domain::checklist::HAZARD_TYPES[1].key;
    [
        HEADER.to_owned(),
        "R0001,2022-07-05 09:00,张三（第1检查组）,排查,,,,,,,,,合格\n".into(),
        format!("R0002,2022-07-05 09:30,张三（第1检查组）,排查,{t},一般,限期整改,2099-12-31,,,,,\n"),
        format!("R0003,2022-07-05 10:00,张三（第1检查组）,排查,{t},重大,集中整改,,,,,,\n"),
        format!(
            "R0004,2022/7/6 14:00,李四,排查,{u},一般,限期整改,2022-07-10,2022-07-11 09:00,2022-07-20,,,\n"
        ),
        format!("R0005,2022-07-06T15:00:00+08:00,李四,排查,{t},一般,立即整改,,,,2022-07-06 16:00,现场整改,\n"),
        format!("R0006,2022-07-07 08:00,王五,排查,{t},一般,立即整改,,,,2022-07-08,照片,\n"),
        format!("R0006,2022-07-07 08:00,王五,排查,{u},一般,限期整改,2099-01-01,,,,,\n"),
    ]
    .concat()
}

async fn colour(server: &Server, unit: UnitId) -> String {
    let (status, card) = server.get_json(&format!("/api/units/{unit}")).await;
    assert_eq!(status, 200, "{card}");
    card["colour"].as_str().unwrap_or("none").to_owned()
}

async fn the_apps_records_come_in(db: TestDb) {
    assert!(onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap());
    let state = onemap::load_state(&db.store).await.unwrap();
    let server = Server::serve(state.clone()).await;
    let ids = register(&server, &state).await;
    let before = stats(&server).await;
    let mut stream = EventStream::connect(&server, "/api/events/stream", None).await;

    let (status, dry) = post(
        &server,
        "/api/imports/records?dry_run=true",
        "text/csv",
        gb18030(&records()),
    )
    .await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!((n(&dry, "visits"), n(&dry, "hazards")), (6, 6));
    assert_eq!(dry["ignored_columns"], serde_json::json!(["备注"]));
    assert_eq!(stats(&server).await, before, "a dry run writes nothing");

    let (status, report) = post(
        &server,
        "/api/imports/records?source=app.csv",
        "text/csv",
        gb18030(&records()),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!((n(&report, "visits"), n(&report, "hazards")), (6, 6));
    let after = stats(&server).await;
    assert_eq!(n(&after, "found") - n(&before, "found"), 6);
    assert_eq!(n(&after, "closed") - n(&before, "closed"), 2);
    assert_eq!(n(&after, "major_open") - n(&before, "major_open"), 1);
    assert_eq!(
        n(&after, "overdue") - n(&before, "overdue"),
        1,
        "R0004's card"
    );
    let want = [
        ("R0001", "green"),
        ("R0002", "yellow"),
        ("R0003", "red"),
        ("R0004", "orange"),
        ("R0005", "green"),
        ("R0006", "yellow"),
    ];
    for (key, c) in want {
        assert_eq!(colour(&server, ids[key]).await, c, "{key}");
    }
    let (_, history) = server
        .get_json(&format!("/api/units/{}/history", ids["R0004"]))
        .await;
    let found = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "hazard_found")
        .unwrap_or_else(|| panic!("{history}"))
        .clone();
    assert_eq!(found["by"], "test-admin");
    assert_eq!(found["colour_after"], "orange");
    let events: Vec<Value> = stream
        .drain(Duration::from_millis(800))
        .await
        .into_iter()
        .map(|r| r.data)
        .collect();
    let imports: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "records_imported")
        .collect();
    assert_eq!(imports.len(), 1, "{events:?}");
    assert_eq!(imports[0]["after"]["hazards"], 6);
    assert!(
        !events.iter().any(|e| e["type"] == "hazard_found"),
        "the visits stay in their histories, off the wall's ticker"
    );

    // The same file again: every visit is there already.
    let (status, again) = post(
        &server,
        "/api/imports/records",
        "text/csv",
        gb18030(&records()),
    )
    .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!((n(&again, "visits"), n(&again, "unchanged")), (0, 6));
    assert_eq!(stats(&server).await, after);

    // Five wrong rows: all named, nothing written.
    let t = onemap::domain::checklist::HAZARD_TYPES[0].zh;
    let bad = [
        HEADER.to_owned(),
        "X9999,2022-07-05 09:00,张三,排查,,,,,,,,,\n".into(),
        "R0001,2099-07-05 09:00,张三,排查,,,,,,,,,\n".into(),
        format!("R0002,2022-07-09 09:00,张三,排查,{t},一般,限期整改,,,,,,\n"),
        format!("R0003,2022-07-09 09:00,张三,排查,{t},一般,立即整改,,,,2022-07-01,,\n"),
        format!("R0005,2022-07-09 09:00,张三,排查,{t},一般,马上改,,,,,,\n"),
    ]
    .concat();
    let (status, err) = post(&server, "/api/imports/records", "text/csv", gb18030(&bad)).await;
    assert_eq!(status, 400, "{err}");
    let lines: Vec<(u64, String)> = err["error"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["line"].as_u64().unwrap(),
                l["column"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            (2, "单位编号".to_owned()),
            (3, "检查时间".to_owned()),
            (4, "整改期限".to_owned()),
            (5, "销号时间".to_owned()),
            (6, "整改方式".to_owned()),
        ],
        "{err}"
    );
    assert_eq!(stats(&server).await, after, "nothing written");
    let (status, _) = post(
        &server,
        "/api/imports/records",
        "application/geo+json",
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(status, 400);
    let resp = server
        .client_as(Role::Inspector)
        .post(server.url("/api/imports/records"))
        .header("content-type", "text/csv")
        .body(records())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    server.stop().await;

    // The command line, with a workbook whose moments are Excel's own.
    let dir = std::env::temp_dir().join(format!("onemap-records-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{}.xlsx", db.store.backend()));
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["单位编号", "检查时间", "检查人", "检查类型"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let when = rust_xlsxwriter::ExcelDateTime::parse_from_str("2022-07-21 10:30:00").unwrap();
    let format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd hh:mm");
    sheet.write_string(1, 0, "R0002").unwrap();
    sheet
        .write_datetime_with_format(1, 1, &when, &format)
        .unwrap();
    sheet.write_string(1, 2, "张三").unwrap();
    sheet.write_string(1, 3, "复查").unwrap();
    book.save(&file).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_onemap"))
        .args(["import", "records", file.to_str().unwrap(), "--db", &db.url])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 visits"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let record = db.store.unit_record(ids["R0002"]).await.unwrap().unwrap();
    let re = record
        .inspections
        .iter()
        .find(|i| i.kind == onemap::domain::InspectionKind::Reinspection)
        .expect("the re-inspection");
    assert_eq!(
        re.at.to_rfc3339(),
        "2022-07-21T02:30:00+00:00",
        "Excel's 10:30 is Guali's"
    );
    let _ = std::fs::remove_dir_all(&dir);
    db.finish().await;
}

#[tokio::test]
async fn the_apps_records_come_in_on_sqlite() {
    the_apps_records_come_in(TestDb::sqlite().await).await;
}

#[tokio::test]
async fn the_apps_records_come_in_on_postgis() {
    the_apps_records_come_in(TestDb::postgis().await).await;
}
