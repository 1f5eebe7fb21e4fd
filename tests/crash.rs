//! Every acknowledged write survives a crash, and none is half applied: the real
//! `onemap` binary serves the demo, phones post inspections from several connections,
//! the server is killed with SIGKILL in the middle of the stream, restarted on the same
//! store, and every write it acknowledged is there — each with its event, its hazards,
//! all or nothing. On both stores.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, Utc};
use common::TestDb;
use onemap::auth::Role;
use onemap::demo::DEFAULT_SEED;
use onemap::store::AnyStore;
use serde_json::{Value, json};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn launch(db_url: &str, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_onemap"))
        .args([
            "serve",
            "--db",
            db_url,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start onemap")
}

async fn wait_ready(base: &str) {
    let start = Instant::now();
    loop {
        if let Ok(r) = reqwest::get(format!("{base}/healthz")).await
            && r.status() == 200
        {
            return;
        }
        assert!(
            start.elapsed() < StdDuration::from_secs(120),
            "server did not start"
        );
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
}

/// What an acknowledged write promised: its unit, inspection, hazards, inspector.
#[derive(Debug, Clone)]
struct Acked {
    unit: i64,
    inspection: i64,
    hazards: Vec<i64>,
    inspector: String,
}

/// Per inspection by a crash writer: (inspector, hazards stored, events logged).
async fn stored(store: &AnyStore) -> HashMap<i64, (String, i64, i64)> {
    let sql = "SELECT i.id, i.inspector, \
               (SELECT count(*) FROM hazards h WHERE h.inspection_id = i.id), \
               (SELECT count(*) FROM events e \
                WHERE CAST(e.after AS TEXT) LIKE '%\"' || i.inspector || '\"%') \
               FROM inspections i WHERE i.inspector LIKE 'crash-%'";
    let rows: Vec<(i64, String, i64, i64)> = match store {
        AnyStore::Sqlite(s) => sqlx::query_as(sql).fetch_all(s.pool()).await.unwrap(),
        AnyStore::Postgres(s) => sqlx::query_as(sql).fetch_all(s.pool()).await.unwrap(),
    };
    rows.into_iter()
        .map(|(i, who, h, e)| (i, (who, h, e)))
        .collect()
}

async fn crash_and_recover(db: TestDb) {
    onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let town = common::town_id(&db.store).await;
    let token = common::token_for(&db.store, "crash-inspector", Role::Inspector, &[town]).await;
    let mut child = launch(&db.url, port);
    wait_ready(&base).await;
    let (_, page): (u16, Value) = {
        let r = common::client_with(&token)
            .get(format!("{base}/ogc/collections/units/items?limit=400"))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    };
    let units: Vec<i64> = page["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    let acked = Arc::new(Mutex::new(Vec::<Acked>::new()));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (base, units, acked) = (base.clone(), units.clone(), acked.clone());
        let client = common::client_with(&token);
        writers.push(tokio::spawn(async move {
            for k in 0.. {
                let unit = units[(w * 97 + k * 13) % units.len()];
                let inspector = format!("crash-{w}-{k}");
                let n = 1 + k % 3;
                let hazards: Vec<Value> = (0..n)
                    .map(|j| {
                        json!({"category": "fire", "hazard_type": format!("t{j}"), "severity": "general",
                               "stage": "deadline", "deadline": (Utc::now() + Duration::days(7)).to_rfc3339()})
                    })
                    .collect();
                let sent = client
                    .post(format!("{base}/api/units/{unit}/inspections"))
                    .json(&json!({"inspector": inspector, "hazards": hazards}))
                    .send()
                    .await;
                let Ok(resp) = sent else { return };
                if resp.status() != 201 {
                    return;
                }
                let Ok(body) = resp.json::<Value>().await else {
                    return;
                };
                let rec = &body["record"];
                acked.lock().unwrap().push(Acked {
                    unit,
                    inspection: rec["inspection"]["id"].as_i64().unwrap(),
                    hazards: rec["hazards"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|h| h["id"].as_i64().unwrap())
                        .collect(),
                    inspector,
                });
            }
        }));
    }
    // Let the stream run, then pull the plug.
    let start = Instant::now();
    while acked.lock().unwrap().len() < 100 && start.elapsed() < StdDuration::from_secs(60) {
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    for w in writers {
        let _ = w.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 100,
        "only {} writes acknowledged",
        acked.len()
    );

    // The store as the crash left it: no inspection without its hazards and its event.
    let rows = stored(&db.store).await;
    for a in &acked {
        let (who, hazards, events) = rows
            .get(&a.inspection)
            .unwrap_or_else(|| panic!("acknowledged inspection {} lost", a.inspection));
        assert_eq!(who, &a.inspector);
        assert_eq!(*hazards as usize, a.hazards.len(), "{a:?}");
        assert_eq!(*events, 1, "{a:?}");
    }
    for (id, (who, hazards, events)) in &rows {
        let n: i64 = who.rsplit('-').next().unwrap().parse().unwrap();
        assert_eq!(*hazards, 1 + n % 3, "inspection {id} half written");
        assert_eq!(*events, 1, "inspection {id} without its event");
    }
    // At most one write in flight per connection committed without an answer.
    assert!(
        rows.len() <= acked.len() + 4,
        "{} rows, {} acked",
        rows.len(),
        acked.len()
    );

    // Restarted, the server shows every acknowledged write.
    let mut child = launch(&db.url, port);
    wait_ready(&base).await;
    let client = common::client_with(&token);
    for a in acked.iter().step_by(7) {
        let card: Value = client
            .get(format!("{base}/api/units/{}", a.unit))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: Vec<i64> = card["hazards"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_i64().unwrap())
            .collect();
        for h in &a.hazards {
            assert!(ids.contains(h), "hazard {h} of {a:?} missing after restart");
        }
        let c = card["colour"].as_str().unwrap();
        assert!(
            !["green", "uninspected"].contains(&c),
            "{a:?} is {c} with open hazards"
        );
    }
    let stats: Value = client
        .get(format!("{base}/api/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let total: i64 = rows.values().map(|r| r.1).sum();
    assert!(stats["hazards"]["found"].as_i64().unwrap() >= 49_106 + total);
    child.kill().unwrap();
    child.wait().unwrap();
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_acknowledged_writes_survive_sigkill() {
    crash_and_recover(TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgis_acknowledged_writes_survive_sigkill() {
    crash_and_recover(TestDb::postgis().await).await;
}
