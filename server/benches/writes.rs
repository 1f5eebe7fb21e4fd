//! The field workflow under load: sustained inspections per second over HTTP, on SQLite
//! and on PostGIS, with 100 clients connected to the event stream, and the time from a
//! write's response to its event reaching each of them.
//!
//! `cargo bench -p onemap --bench writes [-- sqlite|postgis]`; `BENCH_SECS` (default 10),
//! `BENCH_WRITERS` (concurrent writing connections, default 16), `BENCH_LISTENERS`
//! (default 100). PostGIS at `ONEMAP_TEST_PG` (default postgres://postgres@127.0.0.1:5432/postgres).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "a benchmark"
)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use onemap::auth::{Role, TokenKind};
use onemap::store::AnyStore;
use serde_json::{Value, json};
use tokio::sync::watch;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let k = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[k]
}

async fn open(backend: &str) -> (AnyStore, String) {
    let tag = format!("onemap_bench_{}", std::process::id());
    match backend {
        "sqlite" => {
            let dir = std::env::temp_dir().join(&tag);
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let url = format!("sqlite://{}", dir.join("bench.sqlite").display());
            (AnyStore::open(&url).await.unwrap(), url)
        }
        _ => {
            let admin = std::env::var("ONEMAP_TEST_PG")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let base = admin.rsplit_once('/').unwrap().0.to_owned();
            let url = format!("{base}/{tag}");
            (AnyStore::open(&url).await.unwrap(), url)
        }
    }
}

async fn cleanup(store: AnyStore, url: &str) {
    match store {
        AnyStore::Sqlite(s) => {
            s.pool().close().await;
            if let Some(path) = url.strip_prefix("sqlite://") {
                let _ = std::fs::remove_dir_all(std::path::Path::new(path).parent().unwrap());
            }
        }
        AnyStore::Postgres(s) => {
            s.pool().close().await;
            let name = url.rsplit_once('/').unwrap().1;
            let admin = format!("{}/postgres", url.rsplit_once('/').unwrap().0);
            let pool = sqlx::PgPool::connect(&admin).await.unwrap();
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&pool)
                .await;
        }
    }
}

/// One event-stream client: the arrival time of every event id it reads.
async fn listen(
    url: String,
    client: reqwest::Client,
    mut stop: watch::Receiver<bool>,
) -> HashMap<i64, Instant> {
    let mut seen = HashMap::new();
    let mut resp = client.get(url).send().await.unwrap();
    let mut buf = String::new();
    loop {
        tokio::select! {
            _ = stop.changed() => return seen,
            chunk = resp.chunk() => {
                let Ok(Some(bytes)) = chunk else { return seen };
                let now = Instant::now();
                buf.push_str(&String::from_utf8_lossy(&bytes));
                while let Some(end) = buf.find('\n') {
                    let line: String = buf.drain(..=end).collect();
                    if let Some(id) = line.strip_prefix("id:")
                        && let Ok(id) = id.trim().parse()
                    {
                        seen.insert(id, now);
                    }
                }
            }
        }
    }
}

struct Write {
    seq: i64,
    sent: Instant,
    answered: Instant,
}

async fn run(backend: &str) {
    let secs = env("BENCH_SECS", 10);
    let writers = env("BENCH_WRITERS", 16) as usize;
    let listeners = env("BENCH_LISTENERS", 100) as usize;
    let (store, url) = open(backend).await;
    onemap::seed_demo(&store, onemap::demo::DEFAULT_SEED)
        .await
        .unwrap();
    let app = onemap::load_state(&store).await.unwrap();
    // Signed-in users, made as `onemap user add` makes them.
    let now = chrono::Utc::now();
    let town = {
        let map = app.map.read().unwrap();
        map.regions.get(map.regions.root()).id.clone()
    };
    let mut tokens = Vec::new();
    for (name, role, scope) in [
        ("bench-command", Role::Command, vec![]),
        ("bench-inspector", Role::Inspector, vec![town]),
    ] {
        let user = store
            .create_user(name, role, &scope, None, now)
            .await
            .unwrap();
        let (token, record) = onemap::auth::new_token(user.id, TokenKind::Session, now);
        store.put_token(&record).await.unwrap();
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("authorization", format!("Bearer {token}").parse().unwrap());
        tokens.push(
            reqwest::Client::builder()
                .default_headers(h)
                .build()
                .unwrap(),
        );
    }
    let (reader, writer) = (tokens[0].clone(), tokens[1].clone());
    let units: Vec<i64> = {
        let map = app.map.read().unwrap();
        map.units.iter().map(|e| e.unit.id.get()).collect()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(onemap::run(listener, app.clone(), async {
        let _ = server_stopped.await;
    }));
    let base = format!("http://{addr}");

    let (stop, stopped) = watch::channel(false);
    let clients: Vec<_> = (0..listeners)
        .map(|_| {
            tokio::spawn(listen(
                format!("{base}/api/events/stream"),
                reader.clone(),
                stopped.clone(),
            ))
        })
        .collect();
    while app.feed.subscribers() < listeners {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let until = Instant::now() + Duration::from_secs(secs);
    let units = Arc::new(units);
    let started = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let (base, units, client) = (base.clone(), units.clone(), writer.clone());
            tokio::spawn(async move {
                let mut done = Vec::new();
                let mut k = 0usize;
                while Instant::now() < until {
                    let unit = units[(w * 7919 + k * 104_729) % units.len()];
                    let body = if k.is_multiple_of(2) {
                        json!({"inspector": format!("bench-{w}"), "result": "pass"})
                    } else {
                        json!({"inspector": format!("bench-{w}"), "hazards": [{
                            "category": "fire", "hazard_type": "extinguisher_expired",
                            "severity": "general", "stage": "immediate"}]})
                    };
                    k += 1;
                    let sent = Instant::now();
                    let resp = client
                        .post(format!("{base}/api/units/{unit}/reinspections"))
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(resp.status(), 201);
                    let v: Value = resp.json().await.unwrap();
                    done.push(Write {
                        seq: v["seq"].as_i64().unwrap(),
                        sent,
                        answered: Instant::now(),
                    });
                }
                done
            })
        })
        .collect();
    let mut writes = Vec::new();
    for t in tasks {
        writes.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.send(true).unwrap();
    let mut seen = Vec::new();
    for c in clients {
        seen.push(c.await.unwrap());
    }
    let _ = stop_server.send(());
    let _ = server.await;

    let mut latency: Vec<f64> = writes
        .iter()
        .map(|w| (w.answered - w.sent).as_secs_f64() * 1e3)
        .collect();
    latency.sort_by(f64::total_cmp);
    let mut delivery = Vec::with_capacity(writes.len() * listeners);
    let mut missing = 0usize;
    for w in &writes {
        for s in &seen {
            match s.get(&w.seq) {
                Some(&at) => {
                    delivery.push(at.saturating_duration_since(w.answered).as_secs_f64() * 1e3)
                }
                None => missing += 1,
            }
        }
    }
    delivery.sort_by(f64::total_cmp);
    println!(
        "{backend:8} writes {:>6}  {:>7.0} writes/s  write p50 {:>6.2} ms p99 {:>6.2} ms  \
         delivery to {listeners} clients after the response p50 {:>6.2} ms p99 {:>6.2} ms  missing {missing}",
        writes.len(),
        writes.len() as f64 / elapsed,
        pct(&latency, 0.5),
        pct(&latency, 0.99),
        pct(&delivery, 0.5),
        pct(&delivery, 0.99),
    );
    cleanup(store, &url).await;
}

fn main() {
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a == "sqlite" || a == "postgis")
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "writers {} listeners {} seconds {}",
        env("BENCH_WRITERS", 16),
        env("BENCH_LISTENERS", 100),
        env("BENCH_SECS", 10)
    );
    for backend in ["sqlite", "postgis"] {
        if only.is_empty() || only.iter().any(|o| o == backend) {
            rt.block_on(run(backend));
        }
    }
}
