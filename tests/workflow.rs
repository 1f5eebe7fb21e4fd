//! The field workflow end to end, on both stores: the Guali demo served on loopback,
//! writes made over HTTP as a phone would, and their effects read back the way the wall
//! and the auditors read them — colour, figures, tiles' source (OGC items), history, the
//! live event stream — plus idempotent retries, the deadline scheduler, a restart with
//! a deadline that passed while the server was down, notices retried after a failing
//! sender, and bad input that must change nothing.
//!
//! Each behaviour is a test of its own, run on each store against one server per store
//! that the tests share (one at a time: `Fixture::turn`), each on units no other test
//! has touched. The restart has a server and a store of its own.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use common::{EventStream, Server, TestDb, Turn, json_u64 as n, on_own_runtime};
use onemap::app::outbox::NoticeSender;
use onemap::auth::Role;
use onemap::demo::DEFAULT_SEED;
use onemap::domain::{Colour, UnitId};
use onemap::store::{AnyStore, Notice};
use serde_json::{Value, json};

async fn post(server: &Server, path: &str, body: &Value, key: Option<&str>) -> (u16, Value, bool) {
    let mut req = server.writer(path).post(server.url(path)).json(body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let replayed = resp.headers().contains_key("idempotent-replayed");
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, body, replayed)
}

async fn colour(server: &Server, unit: UnitId) -> String {
    let (s, card) = server.get_json(&format!("/api/units/{unit}")).await;
    assert_eq!(s, 200, "{card}");
    // The OGC item (what GIS clients and the tiles read) agrees with the card.
    let (_, item) = server
        .get_json(&format!("/ogc/collections/units/items/{unit}"))
        .await;
    assert_eq!(item["properties"]["colour"], card["colour"], "{item}");
    card["colour"].as_str().unwrap().to_owned()
}

async fn history(server: &Server, unit: UnitId) -> Vec<Value> {
    let (s, h) = server.get_json(&format!("/api/units/{unit}/history")).await;
    assert_eq!(s, 200);
    h["events"].as_array().unwrap().clone()
}

async fn last_seq(server: &Server) -> i64 {
    server.get_json("/api/events?limit=1").await.1["last_seq"]
        .as_i64()
        .unwrap()
}

/// `t` floored to its second.
fn whole_second(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap()
}

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn found(hazard_type: &str, severity: &str, deadline: Option<DateTime<Utc>>) -> Value {
    json!({"category": "fire", "hazard_type": hazard_type, "severity": severity,
           "stage": "deadline", "deadline": deadline.map(rfc)})
}

/// A sender that fails its first attempt, then delivers.
#[derive(Debug, Default)]
struct Flaky {
    calls: AtomicUsize,
}

impl NoticeSender for Flaky {
    fn send(&self, _: &Notice) -> Result<(), String> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            Err("gateway down".into())
        } else {
            Ok(())
        }
    }
}

async fn notices_delivered(store: &AnyStore) -> Vec<(i64, i64, bool)> {
    let sql = "SELECT id, attempts, delivered_at IS NOT NULL FROM notices ORDER BY id";
    match store {
        AnyStore::Sqlite(s) => sqlx::query_as::<_, (i64, i64, bool)>(sql)
            .fetch_all(s.pool())
            .await
            .unwrap(),
        AnyStore::Postgres(s) => sqlx::query_as::<_, (i64, i32, bool)>(sql)
            .fetch_all(s.pool())
            .await
            .unwrap()
            .into_iter()
            .map(|(a, b, c)| (a, i64::from(b), c))
            .collect(),
    }
}

/// The units table's `colour` column (what a GIS desktop or another tile server reads):
/// units per colour, and one unit's.
async fn stored_colours(store: &AnyStore, unit: Option<UnitId>) -> Vec<(Option<String>, i64)> {
    let sql = match unit {
        None => "SELECT colour, count(*) FROM units GROUP BY colour ORDER BY colour".to_owned(),
        Some(u) => format!(
            "SELECT colour, count(*) FROM units WHERE id = {} GROUP BY colour",
            u.get()
        ),
    };
    match store {
        AnyStore::Sqlite(s) => sqlx::query_as(&sql).fetch_all(s.pool()).await.unwrap(),
        AnyStore::Postgres(s) => sqlx::query_as(&sql).fetch_all(s.pool()).await.unwrap(),
    }
}

/// The demo served on one store, shared by this binary's tests of that store.
struct Fixture {
    server: Server,
    app: onemap::AppState,
    /// The store's URL: each test opens its own connection on its own runtime.
    url: String,
    /// One test at a time.
    turn: Turn,
    /// Units a test has written to.
    taken: Mutex<HashSet<UnitId>>,
}

impl Fixture {
    /// The shared demo on SQLite (`postgis: false`) or PostGIS.
    fn get(postgis: bool) -> &'static Fixture {
        static SQLITE: OnceLock<Fixture> = OnceLock::new();
        static POSTGIS: OnceLock<Fixture> = OnceLock::new();
        let cell = if postgis { &POSTGIS } else { &SQLITE };
        cell.get_or_init(|| {
            on_own_runtime(async move {
                let db = if postgis {
                    TestDb::postgis().await
                } else {
                    TestDb::sqlite().await
                };
                onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap();
                let mut app = onemap::load_state(&db.store).await.unwrap();
                app.notices = Arc::new(Flaky::default());
                let server = Server::serve(app.clone()).await.shared();
                let url = db.url.clone();
                // Kept for the process: the shared server serves from it.
                std::mem::forget(db);
                Fixture {
                    server,
                    app,
                    url,
                    turn: Turn::default(),
                    taken: Mutex::default(),
                }
            })
        })
    }

    /// `k` units of `colour` that no test has taken yet, taken now.
    fn take(&self, colour: Colour, k: usize) -> Vec<UnitId> {
        let map = self.app.map.read().unwrap();
        let mut taken = self.taken.lock().unwrap();
        let picked: Vec<UnitId> = (0..map.units.len())
            .filter(|&i| map.live().colour(i as u32) == Some(colour))
            .map(|i| map.units[i].unit.id)
            .filter(|u| !taken.contains(u))
            .take(k)
            .collect();
        assert_eq!(picked.len(), k, "{k} {colour} units left");
        taken.extend(&picked);
        picked
    }

    async fn store(&self) -> AnyStore {
        AnyStore::open(&self.url).await.unwrap()
    }
}

/// Each behaviour, once on each store.
macro_rules! on_both_stores {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let fx = super::Fixture::get(false);
                    let _turn = fx.turn.lock().await;
                    super::$name(fx).await;
                }
            )+
        }
        mod postgis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let fx = super::Fixture::get(true);
                    let _turn = fx.turn.lock().await;
                    super::$name(fx).await;
                }
            )+
        }
    };
}

on_both_stores!(
    the_colour_column_holds_the_maps_colours,
    a_major_hazard_turns_a_unit_red_and_a_retry_changes_nothing,
    a_yellow_cards_deadline_turns_the_unit_orange_by_the_clock_alone,
    closing_turns_a_unit_green_and_closing_twice_writes_nothing,
    a_suspension_turns_a_unit_black_and_its_lifting_back,
    a_registered_unit_is_placed_where_it_stands_and_follows_a_move,
    bad_input_gets_an_error_naming_the_field_and_writes_nothing,
    an_attachment_is_served_back_byte_for_byte,
    a_weekly_target_counts_the_days_closures,
    yesterday_reads_as_it_was_whatever_is_written_today,
    the_event_stream_resumes_after_last_event_id,
    a_notice_the_sender_failed_is_retried_and_delivered,
    a_comprehensive_visit_tags_its_hazards_and_the_figures_count_them,
    the_workers_day_lists_a_deadline_due_and_the_nearest_first,
    an_owners_fix_report_is_rejected_with_a_reason_or_closes_the_hazard,
);

async fn the_colour_column_holds_the_maps_colours(fx: &Fixture) {
    let (_, stats) = fx.server.get_json("/api/stats").await;
    let stored = stored_colours(&fx.store().await, None).await;
    for (c, count) in &stored {
        let c = c.as_deref().expect("every unit has its colour stored");
        assert_eq!(stats["units"]["by_colour"][c].as_i64(), Some(*count), "{c}");
    }
    assert_eq!(
        stored.iter().map(|r| r.1).sum::<i64>(),
        stats["units"]["total"].as_i64().unwrap()
    );
}

async fn a_major_hazard_turns_a_unit_red_and_a_retry_changes_nothing(fx: &Fixture) {
    let server = &fx.server;
    let u = fx.take(Colour::Green, 1)[0];
    let mut live = EventStream::connect(server, "/api/events/stream", None).await;
    let (_, stats0) = server.get_json("/api/stats").await;
    assert_eq!(colour(server, u).await, "green");
    let body = json!({"inspector": "李强（第3检查组）",
                      "hazards": [found("blocked_escape_route", "major", Some(Utc::now() + Duration::days(7)))]});
    let path = format!("/api/units/{u}/inspections");
    let (s1, r1, replay1) = post(server, &path, &body, Some("visit-u-1")).await;
    assert_eq!((s1, replay1), (201, false), "{r1}");
    assert_eq!(r1["colour_before"], "green");
    assert_eq!(r1["colour_after"], "red");
    let (s2, r2, replay2) = post(server, &path, &body, Some("visit-u-1")).await;
    assert_eq!((s2, replay2), (201, true));
    assert_eq!(r1, r2, "a replay answers what the first write answered");
    let other = json!({"inspector": "someone else", "result": "pass"});
    let (s3, e3, _) = post(server, &path, &other, Some("visit-u-1")).await;
    assert_eq!(s3, 422, "same key, another request: {e3}");
    assert_eq!(e3["error"]["field"], "Idempotency-Key");
    assert_eq!(colour(server, u).await, "red");
    assert_eq!(
        stored_colours(&fx.store().await, Some(u)).await,
        [(Some("red".to_owned()), 1)]
    );
    let (_, stats1) = server.get_json("/api/stats").await;
    assert_eq!(n(&stats1, "hazards.found"), n(&stats0, "hazards.found") + 1);
    assert_eq!(
        n(&stats1, "units.by_colour.red"),
        n(&stats0, "units.by_colour.red") + 1
    );
    let h = history(server, u).await;
    assert_eq!(h.len(), 1, "one event despite the retry: {h:?}");
    assert_eq!(h[0]["type"], "hazard_found");
    // The event records the signed-in user; the body's inspector is in the record.
    assert_eq!(h[0]["by"], "test-inspector");
    assert_eq!(
        h[0]["after"]["inspection"]["inspector"], "李强（第3检查组）",
        "{}",
        h[0]
    );
    assert_eq!(h[0]["colour_after"], "red");
    let e = live
        .next(StdDuration::from_secs(5))
        .await
        .expect("live event");
    assert_eq!(e.data["type"], "hazard_found");
    assert_eq!(e.data["unit"], u.get());
    assert_eq!(e.id, h[0]["seq"].as_i64().unwrap());
}

async fn a_yellow_cards_deadline_turns_the_unit_orange_by_the_clock_alone(fx: &Fixture) {
    let server = &fx.server;
    let v = fx.take(Colour::Green, 1)[0];
    let mut live = EventStream::connect(server, "/api/events/stream", None).await;
    let (s, r, _) = post(
        server,
        &format!("/api/units/{v}/inspections"),
        &json!({"inspector": "王芳", "hazards": [found("extinguisher_expired", "general", None)]}),
        None,
    )
    .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["colour_after"], "yellow");
    let hazard_v = r["record"]["hazards"][0]["id"].as_i64().unwrap();
    let deadline = Utc::now() + Duration::milliseconds(1500);
    let (s, r, _) = post(
        server,
        &format!("/api/hazards/{hazard_v}/yellow-card"),
        &json!({"deadline": rfc(deadline)}),
        None,
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["colour_after"], "yellow");
    // Orange by the scheduler alone — no request in between — within a second of the
    // deadline.
    let mut turned = None;
    while let Some(e) = live.next(StdDuration::from_secs(5)).await {
        if e.data["type"] == "colour_changed" && e.data["unit"] == v.get() {
            turned = Some((e, Utc::now()));
            break;
        }
    }
    let (e, seen) = turned.expect("the deadline passing is pushed as an event");
    assert_eq!(e.data["colour_before"], "yellow");
    assert_eq!(e.data["colour_after"], "orange");
    assert_eq!(e.data["by"], "system");
    let lag = seen - deadline;
    assert!(
        lag < Duration::seconds(1),
        "orange {lag} after the deadline"
    );
    assert_eq!(colour(server, v).await, "orange");
    let h = history(server, v).await;
    let kinds: Vec<_> = h.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["hazard_found", "yellow_card", "colour_changed"]);
}

/// A unit made red by a major hazard found now; the hazard's id.
async fn with_major_hazard(fx: &Fixture, u: UnitId) -> i64 {
    let body = json!({"inspector": "李强", "hazards": [found("messy_wiring", "major", None)]});
    let (s, r, _) = post(
        &fx.server,
        &format!("/api/units/{u}/inspections"),
        &body,
        None,
    )
    .await;
    assert_eq!((s, r["colour_after"].as_str()), (201, Some("red")), "{r}");
    r["record"]["hazards"][0]["id"].as_i64().unwrap()
}

async fn closing_turns_a_unit_green_and_closing_twice_writes_nothing(fx: &Fixture) {
    let server = &fx.server;
    let u = fx.take(Colour::Green, 1)[0];
    let hazard = with_major_hazard(fx, u).await;
    let close = format!("/api/hazards/{hazard}/close");
    let (s, r, _) = post(server, &close, &json!({"evidence": "疏散通道已清理"}), None).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["colour_after"], "green");
    let seq = last_seq(server).await;
    let (s, r, _) = post(server, &close, &json!({"evidence": "again"}), None).await;
    assert_eq!(s, 409, "{r}");
    assert_eq!(last_seq(server).await, seq);
}

async fn a_suspension_turns_a_unit_black_and_its_lifting_back(fx: &Fixture) {
    let server = &fx.server;
    let u = fx.take(Colour::Green, 1)[0];
    let suspend = format!("/api/units/{u}/suspend");
    let (s, r, _) = post(server, &suspend, &json!({}), None).await;
    assert_eq!((s, r["colour_after"].as_str()), (200, Some("black")), "{r}");
    let (s, _, _) = post(server, &suspend, &json!({}), None).await;
    assert_eq!(s, 409);
    let (s, r, _) = post(server, &format!("/api/units/{u}/resume"), &json!({}), None).await;
    assert_eq!((s, r["colour_after"].as_str()), (200, Some("green")), "{r}");
}

/// Two locations far apart on the map: the first unit's and a middle one's.
fn two_places(fx: &Fixture) -> ([f64; 2], [f64; 2]) {
    let map = fx.app.map.read().unwrap();
    let a = &map.units[0].unit.location;
    let b = &map.units[map.units.len() / 2].unit.location;
    ([a.x(), a.y()], [b.x(), b.y()])
}

async fn a_registered_unit_is_placed_where_it_stands_and_follows_a_move(fx: &Fixture) {
    let server = &fx.server;
    let (p, q) = two_places(fx);
    let (s, r, _) = post(
        server,
        "/api/units",
        &json!({"kind": "street_shop", "name": "<img src=x onerror=alert(1)>", "address": "航坞路1号",
                "owner_name": "周", "owner_phone": "138****0000", "location": p, "risk": "blue"}),
        None,
    )
    .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["colour_after"], "uninspected");
    let new_id = r["unit"].as_i64().unwrap();
    let (_, card) = server.get_json(&format!("/api/units/{new_id}")).await;
    assert_eq!(
        card["name"], "<img src=x onerror=alert(1)>",
        "names are kept as text"
    );
    let mg0 = card["micro_grid"].as_str().unwrap().to_owned();
    let resp = server
        .client_as(Role::Admin)
        .patch(server.url(&format!("/api/units/{new_id}")))
        .json(&json!({"location": q}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (_, card) = server.get_json(&format!("/api/units/{new_id}")).await;
    assert_ne!(
        card["micro_grid"].as_str().unwrap(),
        mg0,
        "moved to another micro-grid"
    );
    let (_, st) = server
        .get_json(&format!(
            "/api/stats?region={}",
            card["micro_grid"].as_str().unwrap()
        ))
        .await;
    assert!(n(&st, "units.by_colour.uninspected") >= 1);
}

async fn bad_input_gets_an_error_naming_the_field_and_writes_nothing(fx: &Fixture) {
    let server = &fx.server;
    let [u, w] = fx.take(Colour::Green, 2)[..] else {
        unreachable!()
    };
    let (p, _) = two_places(fx);
    // A closed hazard and an open one to be refused on.
    let closed = with_major_hazard(fx, u).await;
    let (s, _, _) = post(
        server,
        &format!("/api/hazards/{closed}/close"),
        &json!({"evidence": "已整改"}),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let open = with_major_hazard(fx, u).await;
    let seq = last_seq(server).await;
    let (_, mut before) = server.get_json("/api/stats").await;
    let past = Utc::now() - Duration::hours(1);
    let bad: Vec<(String, Value, u16, &str)> = vec![
        (
            format!("/api/units/{w}/inspections"),
            json!({"inspector": "x", "hazards": [{"category": "fire", "hazard_type": "a", "severity": "huge", "stage": "deadline"}]}),
            400,
            "hazards[0].severity",
        ),
        (
            format!("/api/units/{w}/inspections"),
            json!({"inspector": "x", "hazards": [found("a", "general", Some(past))]}),
            400,
            "hazards[0].deadline",
        ),
        (
            format!("/api/units/{w}/inspections"),
            json!({"inspector": "x"}),
            400,
            "hazards",
        ),
        (
            format!("/api/units/{w}/inspections"),
            json!({"inspector": "x", "result": "pass", "colour": "green"}),
            400,
            "colour",
        ),
        (
            format!("/api/units/{w}/inspections"),
            json!({"inspector": "x", "result": "pass", "at": rfc(Utc::now() + Duration::days(1))}),
            400,
            "at",
        ),
        (
            "/api/units/99999999/inspections".into(),
            json!({"inspector": "x", "result": "pass"}),
            404,
            "",
        ),
        (
            "/api/hazards/99999999/close".into(),
            json!({"evidence": "x"}),
            404,
            "",
        ),
        (
            format!("/api/hazards/{closed}/close"),
            json!({"evidence": "x"}),
            409,
            "",
        ),
        (
            format!("/api/hazards/{open}/yellow-card"),
            json!({"deadline": rfc(past)}),
            400,
            "deadline",
        ),
        (
            format!("/api/hazards/{open}/close"),
            json!({"evidence": "  "}),
            400,
            "evidence",
        ),
        (
            "/api/units".into(),
            json!({"kind": "rental", "name": "far", "location": [100.0, 30.0], "risk": "blue"}),
            400,
            "location",
        ),
        (
            "/api/units".into(),
            json!({"kind": "palace", "name": "x", "location": p, "risk": "blue"}),
            400,
            "kind",
        ),
        (
            "/api/targets".into(),
            json!({"group": "nowhere", "week": "2022-W28", "closures": 5}),
            400,
            "group",
        ),
        (
            "/api/targets".into(),
            json!({"group": "x", "week": "2022-28", "closures": 5}),
            400,
            "week",
        ),
    ];
    for (path, body, status, field) in &bad {
        let (s, r, _) = post(server, path, body, None).await;
        assert_eq!(s, *status, "{path} {body}: {r}");
        assert_eq!(r["error"]["status"], *status);
        if !field.is_empty() {
            assert_eq!(r["error"]["field"], *field, "{path} {body}: {r}");
        }
    }
    let huge = "x".repeat(100 * 1024);
    let resp = server
        .client_as(Role::Inspector)
        .post(server.url(&format!("/api/hazards/{open}/close")))
        .header("content-type", "application/json")
        .body(format!("{{\"evidence\": \"{huge}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let resp = server
        .client_as(Role::Inspector)
        .post(server.url(&format!("/api/units/{w}/attachments?kind=photo")))
        .body("this is not an image")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    assert_eq!(last_seq(server).await, seq, "bad input wrote no event");
    let (_, mut after) = server.get_json("/api/stats").await;
    before["at"] = Value::Null;
    after["at"] = Value::Null;
    assert_eq!(before, after, "bad input changed no figure");
}

async fn an_attachment_is_served_back_byte_for_byte(fx: &Fixture) {
    let server = &fx.server;
    let w = fx.take(Colour::Green, 1)[0];
    let png: Vec<u8> = [
        &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a][..],
        &[
            0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0,
        ],
        &[0x90, 0x77, 0x53, 0xde],
    ]
    .concat();
    let resp = server
        .client_as(Role::GridWorker)
        .post(server.url(&format!("/api/units/{w}/attachments?kind=photo")))
        .header("content-type", "image/png")
        .body(png.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let r: Value = resp.json().await.unwrap();
    let url = r["record"]["url"].as_str().unwrap().to_owned();
    let got = server.client().get(server.url(&url)).send().await.unwrap();
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.bytes().await.unwrap().to_vec(), png);
    let (_, card) = server.get_json(&format!("/api/units/{w}")).await;
    assert_eq!(card["attachments"][0]["url"], url.as_str());
}

async fn a_weekly_target_counts_the_days_closures(fx: &Fixture) {
    let server = &fx.server;
    let u = fx.take(Colour::Green, 1)[0];
    let hazard = with_major_hazard(fx, u).await;
    let (s, _, _) = post(
        server,
        &format!("/api/hazards/{hazard}/close"),
        &json!({"evidence": "已整改"}),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let group = {
        let map = fx.app.map.read().unwrap();
        let mut r = map.units[map.unit_idx(u).unwrap() as usize].micro_grid;
        while map.regions.get(r).level != onemap::domain::Level::Group {
            r = map.regions.parent(r).unwrap();
        }
        map.regions.get(r).id.to_string()
    };
    let today = onemap::domain::time::Zone::CHINA.date_of(Utc::now());
    let iso = {
        use chrono::Datelike;
        let w = today.iso_week();
        format!("{}-W{:02}", w.year(), w.week())
    };
    let (s, r, _) = post(
        server,
        "/api/targets",
        &json!({"group": group, "week": iso, "closures": 40}),
        None,
    )
    .await;
    assert_eq!(s, 200, "{r}");
    let (s, t) = server.get_json(&format!("/api/targets?week={iso}")).await;
    assert_eq!(s, 200, "{t}");
    let g = t["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == group.as_str())
        .unwrap()
        .clone();
    assert_eq!(g["target"], 40);
    assert!(n(&g, "closed") >= 1, "the closure made today counts: {g}");
    assert_eq!(t["groups"].as_array().unwrap().len(), 12);
}

async fn yesterday_reads_as_it_was_whatever_is_written_today(fx: &Fixture) {
    let server = &fx.server;
    let yesterday = format!("/api/stats?at={}", rfc(Utc::now() - Duration::days(1)));
    let (_, before) = server.get_json(&yesterday).await;
    let u = fx.take(Colour::Green, 1)[0];
    with_major_hazard(fx, u).await;
    let (_, after) = server.get_json(&yesterday).await;
    assert_eq!(before["hazards"], after["hazards"]);
    assert_eq!(before["units"]["by_colour"], after["units"]["by_colour"]);
}

async fn the_event_stream_resumes_after_last_event_id(fx: &Fixture) {
    let server = &fx.server;
    let first = last_seq(server).await;
    let units = fx.take(Colour::Green, 8);
    for &u in &units {
        with_major_hazard(fx, u).await;
    }
    let mut resumed = EventStream::connect(server, "/api/events/stream", Some(first)).await;
    let got = resumed.drain(StdDuration::from_millis(700)).await;
    let (_, log) = server
        .get_json(&format!("/api/events?after={first}&limit=1000"))
        .await;
    let want: Vec<i64> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    let ids: Vec<i64> = got.iter().map(|e| e.id).collect();
    assert_eq!(ids, want, "resumed stream = the log after Last-Event-ID");
    assert!(ids.len() >= 8);
    // And ?region= keeps only that region's events.
    let (_, card) = server.get_json(&format!("/api/units/{}", units[0])).await;
    let mg = card["micro_grid"].as_str().unwrap().to_owned();
    let mut regional =
        EventStream::connect(server, &format!("/api/events/stream?region={mg}"), Some(0)).await;
    let got = regional.drain(StdDuration::from_millis(700)).await;
    assert!(!got.is_empty());
    assert!(
        got.iter().all(|e| e.data["region"] == mg.as_str()),
        "{got:?}"
    );
}

async fn a_notice_the_sender_failed_is_retried_and_delivered(fx: &Fixture) {
    // A hazard found queues a notice to the owner (the demo's owners have phones).
    let u = fx.take(Colour::Green, 1)[0];
    with_major_hazard(fx, u).await;
    let store = fx.store().await;
    let start = Instant::now();
    loop {
        let rows = notices_delivered(&store).await;
        assert!(!rows.is_empty(), "the hazard queued a notice");
        if rows.iter().all(|r| r.2) {
            // The server's sender failed its first attempt: the first notice took two.
            assert!(
                rows[0].1 >= 2,
                "first attempt failed, a retry delivered: {rows:?}"
            );
            break;
        }
        assert!(
            start.elapsed() < StdDuration::from_secs(15),
            "notices stuck: {rows:?}"
        );
        tokio::time::sleep(StdDuration::from_millis(300)).await;
    }
}

/// A deadline that passes while the server is down: logged at restart, dated when it
/// passed, and the unit is orange (a server and a store of its own: it stops).
async fn a_deadline_passing_while_down_is_logged_at_restart(db: TestDb) {
    onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap();
    let app = onemap::load_state(&db.store).await.unwrap();
    let w = {
        let map = app.map.read().unwrap();
        let i = (0..map.units.len())
            .find(|&i| map.live().colour(i as u32) == Some(Colour::Green))
            .unwrap();
        map.units[i].unit.id
    };
    let server = Server::serve(app.clone()).await;
    let (s, r, _) = post(
        &server,
        &format!("/api/units/{w}/inspections"),
        &json!({"inspector": "王芳", "hazards": [found("wiring", "general", None)]}),
        None,
    )
    .await;
    assert_eq!(s, 201, "{r}");
    let hazard_w = r["record"]["hazards"][0]["id"].as_i64().unwrap();
    // Whole seconds: the map keeps moments to the second, so a deadline within the
    // current second would already have passed.
    let deadline = whole_second(Utc::now() + Duration::milliseconds(1800));
    let (s, _, _) = post(
        &server,
        &format!("/api/hazards/{hazard_w}/yellow-card"),
        &json!({"deadline": rfc(deadline)}),
        None,
    )
    .await;
    assert_eq!(s, 200);
    server.stop().await;
    let stopped_at = Utc::now();
    drop(app);
    tokio::time::sleep(StdDuration::from_millis(2500)).await;
    let app = onemap::load_state(&db.store).await.unwrap();
    // A reader gets there before the scheduler's first tick: the map is brought to now
    // and the change waits in it to be logged (once, a 60 s wait: a bug seen under load).
    drop(app.read_now().unwrap());
    let server = Server::serve(app.clone()).await;
    let start = Instant::now();
    let changed = loop {
        let h = history(&server, w).await;
        if let Some(e) = h.iter().find(|e| e["type"] == "colour_changed") {
            break e.clone();
        }
        if start.elapsed() >= StdDuration::from_secs(5) {
            let w_mark = db.store.watermark().await.unwrap();
            let due = app.map.read().unwrap().live().next_due();
            let live_at = app.map.read().unwrap().live().at();
            panic!(
                "not logged in 5 s: deadline {deadline}, stopped at {stopped_at}, watermark \
                 {w_mark:?}, map at {live_at}, next due {due:?}; history {h:?}"
            );
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    };
    assert_eq!(changed["colour_after"], "orange");
    let at: DateTime<Utc> = changed["at"].as_str().unwrap().parse().unwrap();
    assert!(
        (at - deadline).num_milliseconds().abs() <= 1000,
        "dated at the deadline {deadline}, not the restart: {at}"
    );
    assert_eq!(colour(&server, w).await, "orange");
    // The clock's change reached the table's colour column with the event.
    assert_eq!(
        stored_colours(&db.store, Some(w)).await,
        [(Some("orange".to_owned()), 1)]
    );
    server.stop().await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_deadline_passing_while_down_is_logged_at_restart() {
    a_deadline_passing_while_down_is_logged_at_restart(TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgis_a_deadline_passing_while_down_is_logged_at_restart() {
    a_deadline_passing_while_down_is_logged_at_restart(TestDb::postgis().await).await;
}

async fn a_comprehensive_visit_tags_its_hazards_and_the_figures_count_them(fx: &Fixture) {
    let server = &fx.server;
    let u = fx.take(Colour::Green, 1)[0];
    let (_, stats0) = server.get_json("/api/stats").await;
    let (_, lists) = server.get_json("/api/checklists").await;
    let comprehensive = lists["checklists"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["comprehensive"] == true)
        .unwrap();
    // An item only the comprehensive list has: another department's.
    let routine: Vec<&Value> = lists["checklists"][0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    let other = comprehensive["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| !routine.contains(k))
        .and_then(Value::as_str)
        .unwrap();
    let body = json!({"inspector": "联合检查组", "comprehensive": true, "hazards": [
        found("messy_wiring", "general", Some(Utc::now() + Duration::days(10))),
        {"category": "other", "hazard_type": other, "severity": "general", "stage": "immediate"},
    ]});
    let (s, r, _) = post(server, &format!("/api/units/{u}/inspections"), &body, None).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["record"]["inspection"]["comprehensive"], true, "{r}");
    let (_, card) = server.get_json(&format!("/api/units/{u}")).await;
    let visit = card["inspections"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(visit["comprehensive"], true, "{card}");
    let tagged: Vec<&Value> = card["hazards"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["inspection"] == visit["id"])
        .collect();
    assert_eq!(tagged.len(), 2);
    assert!(
        tagged.iter().all(|h| h["comprehensive"] == true),
        "{tagged:?}"
    );
    let (_, stats1) = server.get_json("/api/stats").await;
    assert_eq!(
        n(&stats1, "hazards.comprehensive.found"),
        n(&stats0, "hazards.comprehensive.found") + 2
    );
    // A routine visit's hazards are not counted there.
    let v = fx.take(Colour::Green, 1)[0];
    let routine_visit =
        json!({"inspector": "王芳", "hazards": [found("messy_wiring", "general", None)]});
    let (s, r, _) = post(
        server,
        &format!("/api/units/{v}/inspections"),
        &routine_visit,
        None,
    )
    .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["record"]["inspection"]["comprehensive"], false, "{r}");
    let (_, stats2) = server.get_json("/api/stats").await;
    assert_eq!(
        n(&stats2, "hazards.comprehensive.found"),
        n(&stats1, "hazards.comprehensive.found")
    );
    assert_eq!(n(&stats2, "hazards.found"), n(&stats1, "hazards.found") + 1);
}

async fn the_workers_day_lists_a_deadline_due_and_the_nearest_first(fx: &Fixture) {
    let server = &fx.server;
    let picked = fx.take(Colour::Green, 2);
    let due = Utc::now() + Duration::days(2);
    for &u in &picked {
        let body =
            json!({"inspector": "李强", "hazards": [found("missing_exit", "general", Some(due))]});
        let (s, r, _) = post(server, &format!("/api/units/{u}/inspections"), &body, None).await;
        assert_eq!(s, 201, "{r}");
    }
    let grid = server.client_as(Role::GridWorker);
    let day = |near: Option<Value>| {
        let grid = grid.clone();
        let url = match &near {
            Some(p) => server.url(&format!("/api/day?limit=1000&near={},{}", p[0], p[1])),
            None => server.url("/api/day?limit=1000"),
        };
        async move {
            let resp = grid.get(url).send().await.unwrap();
            assert_eq!(resp.status(), 200);
            resp.json::<Value>().await.unwrap()
        }
    };
    let (_, card) = server.get_json(&format!("/api/units/{}", picked[1])).await;
    let listed = day(Some(card["location"].clone())).await;
    assert!(n(&listed, "counts.due_soon") >= 2, "{}", listed["counts"]);
    let units = listed["units"].as_array().unwrap();
    let due_soon: Vec<&Value> = units
        .iter()
        .filter(|e| e["reasons"][0] == "due_soon")
        .collect();
    // The unit the phone stands at comes first among the units due soon.
    assert_eq!(due_soon[0]["id"], picked[1].get(), "{due_soon:?}");
    assert_eq!(due_soon[0]["distance_m"], 0.0);
    assert!(due_soon.iter().any(|e| e["id"] == picked[0].get()));
    assert!(due_soon.iter().all(|e| e["name"].is_string()));
    // Everything more urgent comes before them.
    let first_due = units
        .iter()
        .position(|e| e["reasons"][0] == "due_soon")
        .unwrap();
    assert!(
        units[..first_due].iter().all(|e| {
            e["reasons"][0] == "overdue_yellow_card" || e["reasons"][0] == "reinspect"
        })
    );
    // A position that is not one is refused, naming the field.
    let resp = grid
        .get(server.url("/api/day?near=120.5"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e["error"]["field"], "near", "{e}");
}

/// A one-pixel PNG.
fn png() -> Vec<u8> {
    [
        &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a][..],
        &[
            0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0,
        ],
        &[0x90, 0x77, 0x53, 0xde],
    ]
    .concat()
}

/// The owner's report through `token`, with no account: `photos` as the form's files.
async fn report(server: &Server, token: &str, note: &str, photos: &[Vec<u8>]) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new().text("note", note.to_owned());
    for p in photos {
        form = form.part(
            "photo",
            reqwest::multipart::Part::bytes(p.clone()).file_name("fix.png"),
        );
    }
    let resp = reqwest::Client::new()
        .post(server.url(&format!("/api/fix/{token}")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn owner_view(server: &Server, token: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .get(server.url(&format!("/api/fix/{token}")))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn queued_messages(store: &AnyStore, unit: UnitId) -> Vec<String> {
    let sql = "SELECT message FROM notices WHERE unit_id = $1 ORDER BY id";
    match store {
        AnyStore::Sqlite(s) => sqlx::query_scalar(sql)
            .bind(unit.get())
            .fetch_all(s.pool())
            .await
            .unwrap(),
        AnyStore::Postgres(s) => sqlx::query_scalar(sql)
            .bind(unit.get())
            .fetch_all(s.pool())
            .await
            .unwrap(),
    }
}

async fn an_owners_fix_report_is_rejected_with_a_reason_or_closes_the_hazard(fx: &Fixture) {
    let server = &fx.server;
    let u = fx.take(Colour::Green, 1)[0];
    let due = Utc::now() + Duration::days(5);
    let body = json!({"inspector": "李强", "hazards": [found("blocked_escape_route", "general", Some(due))]});
    let (s, r, _) = post(server, &format!("/api/units/{u}/inspections"), &body, None).await;
    assert_eq!(s, 201, "{r}");
    let hazard = r["record"]["hazards"][0]["id"].as_i64().unwrap();

    // The inspector makes a link: its token is in the answer only, and a retry with the
    // same key answers the same token.
    let links = format!("/api/units/{u}/fix-links");
    let (s, made, _) = post(server, &links, &json!({}), Some("fix-link-1")).await;
    assert_eq!(s, 201, "{made}");
    let token = made["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("fx_") && token.len() == 67, "{token}");
    let (_, again, replayed) = post(server, &links, &json!({}), Some("fix-link-1")).await;
    assert!(replayed);
    assert_eq!(again["token"], token.as_str());
    let link_id = made["record"]["id"].as_i64().unwrap();
    let logged = history(server, u).await;
    let made_event = logged
        .iter()
        .find(|e| e["type"] == "fix_link_made")
        .unwrap();
    assert!(
        !made_event.to_string().contains(&token[3..]),
        "{made_event}"
    );
    // The owner's notice carries the link.
    let store = fx.store().await;
    let messages = queued_messages(&store, u).await;
    assert!(
        messages.last().unwrap().contains(&format!("/fix/{token}")),
        "{messages:?}"
    );

    // The owner opens it with no account and sees what must be fixed.
    let (s, view) = owner_view(server, &token).await;
    assert_eq!(s, 200, "{view}");
    assert_eq!(view["works"], true);
    assert_eq!(view["hazards"].as_array().unwrap().len(), 1, "{view}");
    assert_eq!(view["hazards"][0]["name_zh"], "疏散通道堵塞");
    for bad in ["fx_nope", &format!("fx_{}", "0".repeat(64))] {
        assert_eq!(owner_view(server, bad).await.0, 404);
    }

    // Bad reports are refused, naming the field; nothing is written.
    let seq = last_seq(server).await;
    let (s, e) = report(server, &token, "已整改", &[]).await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (400, Some("photo")),
        "{e}"
    );
    let (s, e) = report(server, &token, "已整改", &[png(), b"not an image".to_vec()]).await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (415, Some("photo[1]")),
        "{e}"
    );
    let (s, e) = report(server, &token, &"长".repeat(2001), &[png()]).await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (400, Some("note")),
        "{e}"
    );
    let mut huge = png();
    huge.resize(10 * 1024 * 1024 + 1, 0);
    let (s, e) = report(server, &token, "已整改", &[huge]).await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (413, Some("photo[0]")),
        "{e}"
    );
    assert_eq!(last_seq(server).await, seq);

    // A report lands whole; the inspector's day puts it first, the grid worker's not.
    let (s, first) = report(server, &token, "通道已清理", &[png()]).await;
    assert_eq!(s, 201, "{first}");
    assert_eq!(first["type"], "fix_reported");
    let first_id = first["record"]["id"].as_i64().unwrap();
    let photo = first["record"]["photos"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let got = server
        .client()
        .get(server.url(&photo))
        .send()
        .await
        .unwrap();
    assert_eq!(got.bytes().await.unwrap().to_vec(), png());
    let day: Value = server
        .client_as(Role::Inspector)
        .get(server.url("/api/day?limit=1000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = day["units"].as_array().unwrap();
    let mine = listed.iter().find(|e| e["id"] == u.get()).unwrap();
    assert_eq!(mine["reasons"][0], "fix_reported", "{mine}");
    assert!(n(&day, "counts.fix_reported") >= 1);
    let grid = server.client_as(Role::GridWorker);
    let theirs: Value = grid
        .get(server.url("/api/day?limit=1000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(n(&theirs, "counts.fix_reported"), 0);

    // A grid worker may not reject it; the inspector does, with a reason the owner reads.
    let reject = format!("/api/fix-reports/{first_id}/reject");
    let resp = grid
        .post(server.url(&reject))
        .json(&json!({"reason": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let (s, e, _) = post(server, &reject, &json!({"reason": ""}), None).await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (400, Some("reason")),
        "{e}"
    );
    let (s, r, _) = post(server, &reject, &json!({"reason": "照片看不清通道"}), None).await;
    assert_eq!(s, 200, "{r}");
    let (s, _, _) = post(server, &reject, &json!({"reason": "again"}), None).await;
    assert_eq!(s, 409);
    let (_, view) = owner_view(server, &token).await;
    assert_eq!(view["reports"][0]["status"], "rejected");
    assert_eq!(view["reports"][0]["reason"], "照片看不清通道");
    let messages = queued_messages(&store, u).await;
    assert!(
        messages.last().unwrap().contains("照片看不清通道"),
        "{messages:?}"
    );

    // A second report; the inspector closes the hazard on it and the unit turns green.
    let (s, second) = report(server, &token, "重新拍照", &[png(), png()]).await;
    assert_eq!(s, 201, "{second}");
    let second_id = second["record"]["id"].as_i64().unwrap();
    let close = format!("/api/hazards/{hazard}/close");
    let body = json!({"evidence": "业主整改反馈照片核实", "report": first_id});
    let (s, e, _) = post(server, &close, &body, None).await;
    assert_eq!(s, 409, "a rejected report rests no closure: {e}");
    let body = json!({"evidence": "业主整改反馈照片核实", "report": second_id});
    let (s, r, _) = post(server, &close, &body, None).await;
    assert_eq!((s, r["colour_after"].as_str()), (200, Some("green")), "{r}");
    assert_eq!(r["record"]["fix_report"], second_id);
    let (_, fixes) = server.get_json(&format!("/api/units/{u}/fixes")).await;
    let statuses: Vec<&str> = fixes["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["accepted", "rejected"], "{fixes}");
    assert_eq!(fixes["links"][0]["id"], link_id);

    // Revoked, the link takes nothing more; its page says so.
    let revoke = format!("/api/fix-links/{link_id}/revoke");
    let (s, r, _) = post(server, &revoke, &json!({}), None).await;
    assert_eq!(s, 200, "{r}");
    let (s, _, _) = post(server, &revoke, &json!({}), None).await;
    assert_eq!(s, 409);
    let (s, e) = report(server, &token, "再来", &[png()]).await;
    assert_eq!(s, 409, "{e}");
    assert_eq!(owner_view(server, &token).await.1["works"], false);
    let kinds: Vec<String> = history(server, u)
        .await
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .filter(|k| k.starts_with("fix_") || k == "hazard_closed")
        .collect();
    assert_eq!(
        kinds,
        [
            "fix_link_made",
            "fix_reported",
            "fix_rejected",
            "fix_reported",
            "hazard_closed",
            "fix_link_revoked"
        ]
    );
}
