//! Helpers shared by the integration tests: real stores (a SQLite file in a temp
//! directory, a fresh database on the local PostgreSQL + PostGIS) and the real server
//! on a loopback port.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use onemap::store::AnyStore;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The server where tests create their PostgreSQL databases. Override with
/// `ONEMAP_TEST_PG` (a URL to a database the user may `CREATE DATABASE` from).
pub fn pg_admin_url() -> String {
    std::env::var("ONEMAP_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A store made for one test, removed by [`TestDb::finish`].
pub struct TestDb {
    /// The store.
    pub store: AnyStore,
    /// Its URL.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(PathBuf),
    Database(String),
}

impl TestDb {
    /// A new SQLite file in the temp directory.
    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(unique("onemap_test"));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite://{}", dir.join("onemap.sqlite").display());
        let store = AnyStore::open(&url).await.expect("open sqlite store");
        TestDb {
            store,
            url,
            cleanup: Cleanup::File(dir),
        }
    }

    /// A new database on the local PostgreSQL, with PostGIS installed by the migrations.
    /// Fails (does not skip) when PostgreSQL is not reachable: CI must provide it.
    pub async fn postgis() -> TestDb {
        let admin = pg_admin_url();
        let name = unique("onemap_test");
        let pool = sqlx::PgPool::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is needed for this test: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&pool)
            .await
            .expect("create test database");
        pool.close().await;
        let base = admin
            .rsplit_once('/')
            .map(|(b, _)| b.to_owned())
            .unwrap_or(admin.clone());
        let url = format!("{base}/{name}");
        let store = AnyStore::open(&url)
            .await
            .unwrap_or_else(|e| panic!("open PostGIS store: {e}"));
        TestDb {
            store,
            url,
            cleanup: Cleanup::Database(name),
        }
    }

    /// Both backends, SQLite first.
    pub async fn both() -> [TestDb; 2] {
        [TestDb::sqlite().await, TestDb::postgis().await]
    }

    /// Closes the store and removes its file or database.
    pub async fn finish(self) {
        match &self.store {
            AnyStore::Sqlite(s) => s.pool().close().await,
            AnyStore::Postgres(s) => s.pool().close().await,
        }
        match self.cleanup {
            Cleanup::File(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Database(name) => {
                if let Ok(pool) = sqlx::PgPool::connect(&pg_admin_url()).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&pool)
                        .await;
                    pool.close().await;
                }
            }
        }
    }
}

/// A server running on a loopback port, stopped by [`Server::stop`].
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Loads `store` and serves it on 127.0.0.1 with a free port.
    pub async fn start(store: &AnyStore) -> Server {
        let state = onemap::load_state(store).await.expect("load state");
        Server::serve(state).await
    }

    /// Serves an already loaded state (the test keeps a clone to write through).
    pub async fn serve(state: onemap::AppState) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(onemap::run(listener, state, async {
            let _ = stopped.await;
        }));
        Server { addr, stop, task }
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// GET `path`, returning the status and the JSON body.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let resp = reqwest::get(self.url(path)).await.expect("request");
        let status = resp.status().as_u16();
        let body = resp.json().await.expect("JSON body");
        (status, body)
    }

    /// Stops gracefully.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("server task").expect("server ran");
    }
}

/// A Server-Sent Events client: `GET` a stream and read its events one by one.
pub struct EventStream {
    resp: reqwest::Response,
    buf: String,
}

/// One event as received: its `id:` and its `data:` parsed as JSON.
#[derive(Debug, Clone)]
pub struct Received {
    /// The event id (the log's sequence number).
    pub id: i64,
    /// The data.
    pub data: serde_json::Value,
    /// When it arrived.
    pub at: std::time::Instant,
}

impl EventStream {
    /// Connects to `url`, resuming after `last_id` if given.
    pub async fn connect(url: &str, last_id: Option<i64>) -> EventStream {
        let mut req = reqwest::Client::new()
            .get(url)
            .header("Accept", "text/event-stream");
        if let Some(id) = last_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let resp = req.send().await.expect("connect to the event stream");
        assert_eq!(resp.status(), 200, "event stream status");
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(ct.starts_with("text/event-stream"), "content type {ct}");
        EventStream {
            resp,
            buf: String::new(),
        }
    }

    /// The next event with data, or `None` if none arrives within `wait`.
    pub async fn next(&mut self, wait: std::time::Duration) -> Option<Received> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut id = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse().ok();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if let (Some(id), false) = (id, data.is_empty()) {
                    let data = serde_json::from_str(&data).expect("event data is JSON");
                    return Some(Received {
                        id,
                        data,
                        at: std::time::Instant::now(),
                    });
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.resp.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }

    /// Every event that arrives until `quiet` passes with none.
    pub async fn drain(&mut self, quiet: std::time::Duration) -> Vec<Received> {
        let mut out = Vec::new();
        while let Some(e) = self.next(quiet).await {
            out.push(e);
        }
        out
    }
}
