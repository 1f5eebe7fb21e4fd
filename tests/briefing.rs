//! The daily briefing (每日通报) on the Guali demo, on both stores: its figures agree
//! with the map's other answers (the villages' sums, the rankings, the weekly targets,
//! the overdue and major counts), a past date is that day, the leader's comment is kept
//! with its day (and through a restart), the workbook holds every part, a sub-region
//! and a scoped reader see their own, and bad requests name the parameter.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use calamine::{Reader, Xlsx};
use common::{Server, TestDb, client_with, token_for};
use onemap::auth::Role;
use onemap::demo::DEFAULT_SEED;
use serde_json::{Value, json};

const DATE: &str = "2022-07-20";

async fn get(client: &reqwest::Client, url: String) -> (u16, Value) {
    let resp = client.get(url).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn comment(server: &Server, role: Role, body: Value) -> (u16, Value) {
    let resp = server
        .client_as(role)
        .post(server.url("/api/briefing/comment"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

async fn check(db: TestDb) {
    onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap();
    let server = Server::start(&db.store).await;
    let (s, b) = server.get_json(&format!("/api/briefing?date={DATE}")).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["region"]["level"], "town");
    assert_eq!(
        b["at"], "2022-07-20T16:00:00Z",
        "the end of the day, local time"
    );
    assert_eq!(b["week"], "2022-W29");

    // The villages partition the town: their sums are the town's figures.
    let villages = b["villages"].as_array().unwrap();
    assert_eq!(villages.len(), 74);
    let t = &b["totals"];
    for key in ["units", "inspected", "found", "closed", "overdue"] {
        let sum: u64 = villages.iter().map(|v| u(&v[key])).sum();
        assert_eq!(sum, u(&t[key]), "{key}: the villages add up to the town");
    }
    let rate = u(&t["closed"]) as f64 / u(&t["found"]) as f64;
    assert!((t["closure_rate"].as_f64().unwrap() - rate).abs() < 1e-12);
    assert!(u(&t["closed_today"]) > 0 && u(&t["found"]) > 0);
    // Ranked as the rankings rank them, the day before included.
    let (s, r) = server
        .get_json(&format!(
            "/api/rankings?level=village&metric=closure_rate&at={DATE}"
        ))
        .await;
    assert_eq!(s, 200);
    for line in r["regions"].as_array().unwrap() {
        let v = villages.iter().find(|v| v["id"] == line["id"]).unwrap();
        assert_eq!(v["closure_rank"], line["rank"], "{}", line["id"]);
        assert_eq!(
            v["closure_rank_change"], line["rank_change"],
            "{}",
            line["id"]
        );
    }
    let order: Vec<(u64, u64)> = villages
        .iter()
        .map(|v| (u(&v["inspection_rank"]), u(&v["closure_rank"])))
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] <= w[1]),
        "by inspection rank, then closure rank"
    );

    // The overdue and major lists count what the aggregates count, most urgent first.
    assert_eq!(u(&b["overdue"]["total"]), u(&t["overdue"]));
    assert_eq!(u(&b["major"]["total"]), u(&t["major_open"]));
    let overdue = b["overdue"]["items"].as_array().unwrap();
    assert_eq!(overdue.len(), 100.min(u(&t["overdue"]) as usize));
    assert!(
        overdue
            .iter()
            .all(|h| h["days_overdue"].as_i64().unwrap() >= 0
                && !h["unit_name"].as_str().unwrap().is_empty()
                && !h["village"].as_str().unwrap().is_empty()
                && !h["hazard_type"].as_str().unwrap().is_empty())
    );
    let deadlines: Vec<&str> = overdue
        .iter()
        .map(|h| h["deadline"].as_str().unwrap())
        .collect();
    assert!(
        deadlines.windows(2).all(|w| w[0] <= w[1]),
        "longest overdue first"
    );
    assert!(
        b["major"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["severity"] == "major")
    );
    let most = b["most_open"].as_array().unwrap();
    assert_eq!(most.len(), 10);
    assert!(
        most.windows(2)
            .all(|w| u(&w[0]["open"]) >= u(&w[1]["open"]))
    );

    // Each group's week, as /api/targets has it, cut at the end of the day.
    let groups = b["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 12);
    assert!(
        groups
            .iter()
            .all(|g| g["target"].as_u64().is_some_and(|t| t >= 5)),
        "the demo sets every group's target"
    );
    let (s, week) = server.get_json("/api/targets?week=2022-W29").await;
    assert_eq!(s, 200);
    for g in groups {
        let w = week["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["group"] == g["group"])
            .unwrap();
        assert_eq!(g["target"], w["target"]);
        // Monday 18th to Wednesday 20th count; Thursday on is not yet.
        assert_eq!(g["closed"], w["by_day"][2]["cumulative"], "{}", g["name"]);
        assert!(g["by_day"][3]["closed"].is_null());
    }
    // With no week asked for, the targets are the latest week that has them.
    let (_, latest) = server.get_json("/api/targets").await;
    assert_eq!(latest["week"], "2022-W32");

    // A day earlier is another day.
    let (_, before) = server.get_json("/api/briefing?date=2022-07-19").await;
    assert_eq!(
        before["totals"]["closure_rate"],
        b["totals"]["previous_closure_rate"]
    );
    assert_eq!(
        before["totals"]["inspection_rate"],
        b["totals"]["previous_inspection_rate"]
    );
    assert_eq!(
        u(&b["totals"]["closed"]) - u(&before["totals"]["closed"]),
        u(&b["totals"]["closed_today"])
    );

    // The leader's comment: kept with its day, not another's; refused to an inspector.
    let town = b["region"]["id"].clone();
    let said = "各村要对逾期隐患逐户过堂，周五前全部销号。";
    let (s, w) = comment(
        &server,
        Role::Leader,
        json!({"region": town, "date": DATE, "text": said}),
    )
    .await;
    assert_eq!(s, 200, "{w}");
    let (s, _) = comment(
        &server,
        Role::Inspector,
        json!({"region": town, "date": DATE, "text": "x"}),
    )
    .await;
    assert_eq!(s, 403);
    let (s, e) = comment(
        &server,
        Role::Leader,
        json!({"region": town, "date": "2099-01-01", "text": "x"}),
    )
    .await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (400, Some("date")),
        "{e}"
    );
    let (s, e) = comment(
        &server,
        Role::Leader,
        json!({"region": "nowhere", "date": DATE, "text": "x"}),
    )
    .await;
    assert_eq!(s, 400, "{e}");
    let long = "长".repeat(2001);
    let (s, e) = comment(
        &server,
        Role::Leader,
        json!({"region": town, "date": DATE, "text": long}),
    )
    .await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (400, Some("text")),
        "{e}"
    );
    let (_, b2) = server.get_json(&format!("/api/briefing?date={DATE}")).await;
    assert_eq!(b2["comment"]["text"], said);
    assert_eq!(b2["comment"]["by"], "test-leader");
    let (_, other) = server.get_json("/api/briefing?date=2022-07-21").await;
    assert!(other["comment"].is_null());
    let (_, history) = server
        .get_json(&format!(
            "/api/events?region={}&limit=20",
            town.as_str().unwrap()
        ))
        .await;
    let ev = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "briefing_commented");
    assert!(
        ev.is_some_and(|e| e["by"] == "test-leader" && e.to_string().contains(said)),
        "the comment is an event: {history}"
    );

    // The workbook: every village, every overdue hazard (not only the first 100).
    let resp = server
        .client()
        .get(server.url(&format!("/api/briefing?date={DATE}&format=xlsx")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let bytes = resp.bytes().await.unwrap().to_vec();
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let ranks = book.worksheet_range("村社排名").unwrap();
    assert_eq!(ranks.height(), 75);
    assert_eq!(
        ranks.get((1, 2)).unwrap().to_string(),
        villages[0]["name"].as_str().unwrap()
    );
    let late = book.worksheet_range("逾期隐患").unwrap();
    assert_eq!(late.height() as u64, u(&t["overdue"]) + 1);
    let summary = book.worksheet_range("概况").unwrap();
    let cells: Vec<String> = summary
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    assert!(
        cells.iter().any(|c| c == said),
        "the comment is in the workbook"
    );
    assert!(cells.iter().any(|c| *c == format!("{:.1}%", rate * 100.0)));

    // A village's briefing: itself, its own group.
    let village = villages[3]["id"].as_str().unwrap().to_owned();
    let (s, vb) = server
        .get_json(&format!("/api/briefing?date={DATE}&region={village}"))
        .await;
    assert_eq!(s, 200, "{vb}");
    assert_eq!(vb["villages"].as_array().unwrap().len(), 1);
    assert_eq!(vb["groups"].as_array().unwrap().len(), 1);
    assert_eq!(vb["totals"]["closed"], villages[3]["closed"]);

    // A reader scoped to that village gets its briefing by default and not the town's.
    let scoped = client_with(
        &token_for(
            &db.store,
            "village-leader",
            Role::Leader,
            &[village.parse().unwrap()],
        )
        .await,
    );
    let (s, own) = get(&scoped, server.url(&format!("/api/briefing?date={DATE}"))).await;
    assert_eq!(
        (s, own["region"]["id"].as_str()),
        (200, Some(village.as_str()))
    );
    let (s, _) = get(
        &scoped,
        server.url(&format!(
            "/api/briefing?date={DATE}&region={}",
            town.as_str().unwrap()
        )),
    )
    .await;
    assert_eq!(s, 404);

    // Bad requests name the parameter.
    for (q, field) in [
        ("date=2022-13-01", "date"),
        ("date=2099-01-01", "date"),
        ("format=pdf", "format"),
        ("colour=red", "colour"),
    ] {
        let (s, e) = server.get_json(&format!("/api/briefing?{q}")).await;
        assert_eq!(
            (s, e["error"]["field"].as_str()),
            (400, Some(field)),
            "{q}: {e}"
        );
    }
    let (s, _) = server.get_json("/api/briefing?region=nowhere").await;
    assert_eq!(s, 404);
    server.stop().await;

    // Through a restart, the comment is still that day's.
    let server = Server::start(&db.store).await;
    let (_, again) = server.get_json(&format!("/api/briefing?date={DATE}")).await;
    assert_eq!(again["comment"]["text"], said);
    assert_eq!(again["totals"]["closed"], b["totals"]["closed"]);
    server.stop().await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_briefing_on_sqlite() {
    check(TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_briefing_on_postgis() {
    check(TestDb::postgis().await).await;
}

/// A group robot's webhook on loopback: records what each path is sent; the first
/// request to `/hook/flaky` fails (500), as a robot that is down for a moment.
async fn robots() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>,
) {
    use axum::extract::{Path, State};
    use std::sync::{Arc, Mutex};
    type Seen = Arc<Mutex<Vec<(String, Value)>>>;
    let seen: Seen = Arc::default();
    let failed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let app = axum::Router::new()
        .route(
            "/hook/{name}",
            axum::routing::post(
                move |State(seen): State<Seen>,
                      Path(name): Path<String>,
                      body: axum::Json<Value>| {
                    let failed = failed.clone();
                    async move {
                        if name == "flaky"
                            && !failed.swap(true, std::sync::atomic::Ordering::SeqCst)
                        {
                            return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
                        }
                        seen.lock().unwrap().push((name, body.0));
                        axum::http::StatusCode::OK
                    }
                },
            ),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), seen)
}

async fn sent(db: TestDb) {
    use std::os::unix::fs::PermissionsExt;
    onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap();
    let mut state = onemap::load_state(&db.store).await.unwrap();
    let mut groups: Vec<(String, String)> = {
        let map = state.map.read().unwrap();
        map.regions
            .at_level(onemap::domain::Level::Group)
            .map(|i| {
                (
                    map.regions.get(i).id.to_string(),
                    map.regions.get(i).name.clone(),
                )
            })
            .collect()
    };
    groups.sort();
    assert_eq!(groups.len(), 12);
    // Groups 1–6 through a program, 7–11 through webhooks (7 fails once), 12 has none.
    let dir = std::env::temp_dir().join(format!(
        "onemap_briefing_{}_{}",
        std::process::id(),
        db.store.backend()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("sent-{}.jsonl", db.store.backend()));
    let script = dir.join(format!("send-{}", db.store.backend()));
    std::fs::write(&script, format!("#!/bin/sh\ncat >> {}\n", out.display())).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (hooks, seen) = robots().await;
    let mut file = String::from("group,sink\n");
    for (k, (id, _)) in groups.iter().enumerate().take(11) {
        let sink = match k {
            0..=5 => format!("command:{}", script.display()),
            6 => format!("{hooks}/flaky"),
            _ => format!("{hooks}/{id}"),
        };
        file.push_str(&format!("{id},{sink}\n"));
    }
    state.channels = std::sync::Arc::new(onemap::app::briefings::read_channels(&file).unwrap());
    let server = Server::serve(state).await;
    let town = server.get_json("/api/regions/town").await.1["id"].clone();
    let send = |role| {
        let server = &server;
        let town = town.clone();
        async move {
            let resp = server
                .client_as(role)
                .post(server.url("/api/briefing/send"))
                .json(&json!({"region": town, "date": DATE}))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, _) = send(Role::Inspector).await;
    assert_eq!(s, 403);
    let (s, first) = send(Role::Leader).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(
        first["record"]["queued"].as_array().unwrap().len(),
        11,
        "{first}"
    );
    assert_eq!(first["record"]["without_channel"], json!([groups[11].0]));
    // Sent again (a second click, another leader): nothing is queued twice.
    let (s, again) = send(Role::Leader).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["record"]["queued"], json!([]));
    assert_eq!(again["record"]["already"].as_array().unwrap().len(), 11);

    // Delivered, each once: the program's lines and the robots' posts.
    let (_, b) = server.get_json(&format!("/api/briefing?date={DATE}")).await;
    let rate = format!(
        "{:.1}%",
        b["totals"]["closure_rate"].as_f64().unwrap() * 100.0
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
    loop {
        let lines = std::fs::read_to_string(&out)
            .unwrap_or_default()
            .lines()
            .count();
        let posts = seen.lock().unwrap().len();
        let queued = db
            .store
            .briefings_queued(DATE.parse().unwrap())
            .await
            .unwrap();
        if lines >= 6 && posts >= 5 && queued.iter().all(|q| q.delivered_at.is_some()) {
            assert_eq!(queued.len(), 11);
            assert!(
                queued.iter().any(|q| q.attempts == 2),
                "the flaky robot was tried again"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "delivered: {lines} lines, {posts} posts, {queued:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let lines: Vec<Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6, "each program's group once");
    for (k, (id, name)) in groups.iter().enumerate().take(6) {
        let line = lines
            .iter()
            .find(|l| l["group"] == id.as_str())
            .unwrap_or_else(|| panic!("{id}"));
        let text = line["message"].as_str().unwrap();
        assert!(
            text.starts_with("【瓜沥镇每日通报】2022-07-20（截至24时）"),
            "{text}"
        );
        assert!(
            text.contains(&format!("{name}：本周目标销号")),
            "{k}: {text}"
        );
        assert!(text.contains(&rate), "{text}");
    }
    let posts = seen.lock().unwrap().clone();
    assert_eq!(posts.len(), 5, "each robot's group once: {posts:?}");
    for (k, (id, name)) in groups.iter().enumerate().skip(6).take(5) {
        let path = if k == 6 { "flaky" } else { id.as_str() };
        let (_, body) = posts.iter().find(|(p, _)| p == path).unwrap();
        assert_eq!(body["msgtype"], "text");
        assert!(
            body["text"]["content"]
                .as_str()
                .unwrap()
                .contains(name.as_str())
        );
    }
    server.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_briefing_goes_to_each_group_once_on_sqlite() {
    sent(TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_briefing_goes_to_each_group_once_on_postgis() {
    sent(TestDb::postgis().await).await;
}
