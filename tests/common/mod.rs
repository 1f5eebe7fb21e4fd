//! Helpers shared by the integration tests: real stores (a SQLite file in a temp
//! directory, a fresh database on the local PostgreSQL + PostGIS) and the real server
//! on a loopback port.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use onemap::auth::Role;
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

/// Drops the test databases of test processes that are gone: a shared fixture's (which
/// lives as long as its process) and any a killed run left behind. Their names carry
/// the process id (`onemap_test_PID_…`).
async fn sweep_orphans(admin: &sqlx::PgPool) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    let mut first = false;
    ONCE.call_once(|| first = true);
    if !first {
        return;
    }
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'onemap_test_%'")
            .fetch_all(admin)
            .await
            .unwrap_or_default();
    for name in names {
        let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        let gone = pid.is_some_and(|p| !std::path::Path::new(&format!("/proc/{p}")).exists());
        if gone {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(admin)
                .await;
        }
    }
}

/// A store made for one test, removed by [`TestDb::finish`] — or, if the test panics
/// first, when it is dropped.
pub struct TestDb {
    /// The store.
    pub store: AnyStore,
    /// Its URL.
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Clone)]
enum Cleanup {
    File(PathBuf),
    Database(String),
    Done,
}

impl Cleanup {
    /// Removes the file or drops the database (the database by a fresh connection on
    /// the admin URL, `WITH (FORCE)`: the test's own pool may still be open).
    async fn run(self) {
        match self {
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
            Cleanup::Done => {}
        }
    }
}

/// A test that panicked never reached `finish`: clean up here, on a runtime of our own
/// (a panicking test's runtime may be gone or busy), so no database is left behind.
impl Drop for TestDb {
    fn drop(&mut self) {
        let cleanup = std::mem::replace(&mut self.cleanup, Cleanup::Done);
        if matches!(cleanup, Cleanup::Done) {
            return;
        }
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(cleanup.run());
            }
        })
        .join();
    }
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
        sweep_orphans(&pool).await;
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
    pub async fn finish(mut self) {
        match &self.store {
            AnyStore::Sqlite(s) => s.pool().close().await,
            AnyStore::Postgres(s) => s.pool().close().await,
        }
        std::mem::replace(&mut self.cleanup, Cleanup::Done)
            .run()
            .await;
    }
}

/// A user of `role` working in `scope` (get or create, by name) and a new session token
/// for them, made through the library as `onemap user add` would.
pub async fn token_for(
    store: &AnyStore,
    name: &str,
    role: Role,
    scope: &[onemap::domain::RegionId],
) -> String {
    let now = chrono::Utc::now();
    let user = match store.user_by_name(name).await.expect("read user") {
        Some(u) => u,
        None => store
            .create_user(name, role, scope, None, now)
            .await
            .expect("create user"),
    };
    let (token, record) = onemap::auth::new_token(user.id, onemap::auth::TokenKind::Session, now);
    store.put_token(&record).await.expect("store token");
    token
}

/// A decoded vector tile layer: each feature's id and properties.
pub type TileFeatures = Vec<(
    Option<u64>,
    std::collections::HashMap<String, mvt_reader::feature::Value>,
)>;

/// A vector tile's layers by name, decoded with `mvt-reader` (an independent decoder).
pub fn decode_tile(bytes: &[u8]) -> HashMap<String, TileFeatures> {
    let reader = mvt_reader::Reader::new(bytes.to_vec()).expect("a valid tile");
    let names = reader.get_layer_names().expect("layer names");
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let feats = reader
                .get_features(i)
                .expect("features")
                .into_iter()
                .map(|f| (f.id, f.properties.unwrap_or_default()))
                .collect();
            (name, feats)
        })
        .collect()
}

/// An unsigned property of a decoded tile feature (panics naming the key if absent).
pub fn prop_u64(props: &HashMap<String, mvt_reader::feature::Value>, key: &str) -> u64 {
    use mvt_reader::feature::Value as V;
    match props.get(key) {
        Some(V::UInt(v)) => *v,
        Some(V::Int(v)) => u64::try_from(*v).expect("not negative"),
        Some(V::SInt(v)) => u64::try_from(*v).expect("not negative"),
        other => panic!("{key}: {other:?}"),
    }
}

/// A text property of a decoded tile feature (panics naming the key if absent).
pub fn prop_str(props: &HashMap<String, mvt_reader::feature::Value>, key: &str) -> String {
    match props.get(key) {
        Some(mvt_reader::feature::Value::String(s)) => s.clone(),
        other => panic!("{key}: {other:?}"),
    }
}

/// The unsigned number at a dotted `path` of a JSON answer (panics naming it if absent).
pub fn json_u64(v: &serde_json::Value, path: &str) -> u64 {
    path.split('.')
        .fold(v, |v, k| &v[k])
        .as_u64()
        .unwrap_or_else(|| panic!("{path} missing in {v}"))
}

/// Every tile at zoom `z` that `[west, south, east, north]` touches.
pub fn tiles_in(bounds: [f64; 4], z: u8) -> Vec<onemap_tiles::TileCoord> {
    use onemap_tiles::{LonLat, TileCoord};
    let corner = |lon, lat| TileCoord::containing(LonLat { lon, lat }, z).expect("a tile");
    let (nw, se) = (corner(bounds[0], bounds[3]), corner(bounds[2], bounds[1]));
    let mut out = Vec::new();
    for x in nw.x()..=se.x() {
        for y in nw.y()..=se.y() {
            out.push(TileCoord::new(z, x, y).expect("a tile"));
        }
    }
    out
}

/// The id of the store's town (the region without a parent).
pub async fn town_id(store: &AnyStore) -> onemap::domain::RegionId {
    let sql = "SELECT id FROM regions WHERE parent_id IS NULL";
    let id: String = match store {
        AnyStore::Sqlite(s) => sqlx::query_scalar(sql).fetch_one(s.pool()).await,
        AnyStore::Postgres(s) => sqlx::query_scalar(sql).fetch_one(s.pool()).await,
    }
    .expect("a town");
    id.parse().expect("a region id")
}

/// A client that sends `token` with every request.
pub fn client_with(token: &str) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header"),
    );
    reqwest::Client::builder()
        .default_headers(h)
        .build()
        .expect("client")
}

/// The role the tests write `method path` as: the one whose job it is.
pub fn writer_of(path: &str) -> Role {
    if path == "/api/targets" || path.starts_with("/api/briefing/") {
        Role::Leader
    } else if path == "/api/units"
        || (path.starts_with("/api/units/") && path.matches('/').count() == 3)
    {
        Role::Admin
    } else {
        Role::Inspector
    }
}

/// A server running on a loopback port, stopped by [`Server::stop`], with a signed-in
/// user of each role over the whole town.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    /// A session token per role.
    pub tokens: HashMap<Role, String>,
    /// How to stop it: `None` for a server shared by the tests of a binary
    /// ([`shared_demo`]), which lives as long as the process.
    control: Option<(
        oneshot::Sender<()>,
        tokio::task::JoinHandle<std::io::Result<()>>,
    )>,
}

impl Server {
    /// Loads `store` and serves it on 127.0.0.1 with a free port.
    pub async fn start(store: &AnyStore) -> Server {
        let state = onemap::load_state(store).await.expect("load state");
        Server::serve(state).await
    }

    /// Serves an already loaded state (the test keeps a clone to write through).
    pub async fn serve(state: onemap::AppState) -> Server {
        let town = {
            let map = state.map.read().expect("map");
            map.regions.get(map.regions.root()).id.clone()
        };
        let mut tokens = HashMap::new();
        for role in [
            Role::Command,
            Role::Leader,
            Role::Inspector,
            Role::GridWorker,
            Role::Admin,
        ] {
            let name = format!("test-{}", role.as_str());
            let scope = if role.needs_scope() {
                vec![town.clone()]
            } else {
                vec![]
            };
            tokens.insert(role, token_for(&state.store, &name, role, &scope).await);
        }
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(onemap::run(listener, state, async {
            let _ = stopped.await;
        }));
        Server {
            addr,
            tokens,
            control: Some((stop, task)),
        }
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The token of the test user of `role`.
    pub fn token(&self, role: Role) -> &str {
        &self.tokens[&role]
    }

    /// A client signed in as the command post (reads everything).
    pub fn client(&self) -> reqwest::Client {
        self.client_as(Role::Command)
    }

    /// A client signed in as the test user of `role`.
    pub fn client_as(&self, role: Role) -> reqwest::Client {
        client_with(self.token(role))
    }

    /// A client signed in as whoever writes to `path` ([`writer_of`]).
    pub fn writer(&self, path: &str) -> reqwest::Client {
        self.client_as(writer_of(path))
    }

    /// GET the tile at `path` as the command post (200, or 204 for an empty one), its
    /// layers decoded.
    pub async fn get_tile(&self, path: &str) -> HashMap<String, TileFeatures> {
        let resp = self
            .client()
            .get(self.url(path))
            .send()
            .await
            .expect("tile");
        assert!(matches!(resp.status().as_u16(), 200 | 204), "{path}");
        decode_tile(&resp.bytes().await.expect("body"))
    }

    /// GET `path` as the command post, returning the status and the JSON body.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let resp = self
            .client()
            .get(self.url(path))
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        let body = resp.json().await.expect("JSON body");
        (status, body)
    }

    /// Stops gracefully (a shared server goes on for the other tests).
    pub async fn stop(self) {
        if let Some((stop, task)) = self.control {
            let _ = stop.send(());
            task.await.expect("server task").expect("server ran");
        }
    }
}

/// Makes `T` on a runtime of its own, kept running for the rest of the process: what a
/// fixture shared by the tests of a binary is made on (each `#[tokio::test]` has its own
/// runtime, which ends with the test and would take a server's tasks with it).
pub fn on_own_runtime<T, F>(make: F) -> T
where
    T: Send + 'static,
    F: std::future::Future<Output = T> + Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for the shared fixture");
        rt.block_on(async move {
            let _ = tx.send(make.await);
            // Serves until the process exits.
            std::future::pending::<()>().await;
        });
    });
    rx.recv().expect("the shared fixture was made")
}

/// One test at a time on a shared fixture: tests that write would otherwise see each
/// other's writes. Hold the guard for the whole test.
pub type Turn = tokio::sync::Mutex<()>;

/// The Guali demo (default seed) served from a SQLite file for every test of a binary
/// that reads it: started once ([`on_own_runtime`]) and kept until the process exits
/// (its temp directory goes with the machine's). Tests that write get a server of
/// their own.
pub fn shared_demo() -> &'static Server {
    static DEMO: std::sync::OnceLock<Server> = std::sync::OnceLock::new();
    DEMO.get_or_init(|| {
        on_own_runtime(async {
            let db = TestDb::sqlite().await;
            onemap::seed_demo(&db.store, onemap::demo::DEFAULT_SEED)
                .await
                .expect("seed the demo");
            let server = Server::start(&db.store).await;
            // The store lives as long as the server: not dropped, not removed.
            std::mem::forget(db);
            server.shared()
        })
    })
}

impl Server {
    /// This server as the tests of a binary share it: it goes on until the process exits.
    pub fn shared(mut self) -> Server {
        if let Some(control) = self.control.take() {
            std::mem::forget(control);
        }
        self
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
    /// Connects to `path` on `server` as the command post, resuming after `last_id`.
    pub async fn connect(server: &Server, path: &str, last_id: Option<i64>) -> EventStream {
        EventStream::connect_with(&server.url(path), server.token(Role::Command), last_id).await
    }

    /// Connects to `url` with `token`, resuming after `last_id` if given.
    pub async fn connect_with(url: &str, token: &str, last_id: Option<i64>) -> EventStream {
        let mut req = client_with(token)
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

/// Hazards found and closed per day over every unit of `map` (the zone's days), as
/// `/api/progress` must list them for the root: `(date, found, closed)` for each day
/// with any, by a pass over the units' hazards — what the daily checkpoints are
/// compared with.
pub fn progress_by_scan(
    map: &onemap::state::MapState,
    zone: onemap::domain::time::Zone,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<(String, u64, u64)> {
    let mut by_day: std::collections::BTreeMap<chrono::NaiveDate, (u64, u64)> = Default::default();
    for e in &map.units {
        for h in e.hazards.iter() {
            let f = h.found_at.time();
            if f <= now {
                by_day.entry(zone.date_of(f)).or_default().0 += 1;
            }
            if let Some(c) = h.closed_at.map(|c| c.time()).filter(|&c| c <= now) {
                by_day.entry(zone.date_of(c)).or_default().1 += 1;
            }
        }
    }
    by_day
        .into_iter()
        .map(|(d, (f, c))| (d.to_string(), f, c))
        .collect()
}

/// `/api/progress`'s days as `(date, found, closed)`.
pub fn progress_days(body: &serde_json::Value) -> Vec<(String, u64, u64)> {
    body["days"]
        .as_array()
        .expect("days")
        .iter()
        .map(|d| {
            (
                d["date"].as_str().expect("date").to_owned(),
                d["found"].as_u64().expect("found"),
                d["closed"].as_u64().expect("closed"),
            )
        })
        .collect()
}
