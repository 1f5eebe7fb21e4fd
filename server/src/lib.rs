//! onemap: one map of every registered unit's hazard state, for a safety command post.
//!
//! Data flows one way: `store` (SQLite | PostGIS) → `state` (indexes, colours,
//! figures) → views → `http` (axum). The colour of a unit is decided in
//! [`domain::colour`]; writes are committed in [`store`].

pub mod app;
pub mod auth;
pub mod config;
pub mod demo;
pub mod domain;
pub mod http;
pub mod state;
pub mod store;
pub mod views;
pub mod writes;

use std::future::Future;
use std::sync::{Arc, RwLock};

use axum::Router;
use tokio::net::TcpListener;

pub use app::AppState;
use store::AnyStore;

/// Errors while bringing the server up.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The stored data does not make a map.
    #[error(transparent)]
    State(#[from] state::StateError),
    /// The demo generator failed.
    #[error("demo generation failed: {0}")]
    Demo(#[from] state::RegionError),
    /// A blocking task panicked or was cancelled.
    #[error("background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// The application: every route, with its state.
pub fn app(state: AppState) -> Router {
    // The Prometheus recorder must be in place before the first metric is recorded.
    let _ = http::metrics::handle();
    http::router(state)
}

/// Loads everything from `store` into a fresh map state.
///
/// The map is built as of the clock watermark (the moment up to which every colour the
/// clock changed has been logged), so the scheduler's first tick logs what changed
/// while the server was down.
pub async fn load_state(store: &AnyStore) -> Result<AppState, StartError> {
    let watermark = store.watermark().await?;
    let last_seq = store.last_event_seq().await?;
    let now = chrono::Utc::now();
    let built_at = watermark.filter(|&w| w < now).unwrap_or(now);
    let started = std::time::Instant::now();
    // Streamed: a province's ten million units are read once, straight into the map.
    let builder = store.stream_map(state::MapBuilder::new).await?;
    let zone = store.zone().await?;
    let map = tokio::task::spawn_blocking(move || {
        let mut map = builder.finish(built_at)?;
        let started = std::time::Instant::now();
        map.keep_history(zone);
        let held = map.history();
        tracing::info!(
            elapsed = ?started.elapsed(),
            days = held.map_or(0, |h| h.days().count()),
            cells = held.map_or(0, |h| h.cells_kept()),
            "daily checkpoints built"
        );
        Ok::<_, StartError>(map)
    })
    .await??;
    tracing::info!(
        units = map.units.len(),
        regions = map.regions.all().len(),
        elapsed = ?started.elapsed(),
        "map built: index and aggregates ready"
    );
    // The table's colour column, for other readers of the database: filled where empty.
    let missing = store.units_without_colour().await?;
    if !missing.is_empty() {
        let colours: Vec<_> = missing
            .into_iter()
            .filter_map(|id| Some((id, map.live().colour(map.unit_idx(id)?)?)))
            .collect();
        store.set_colours(&colours).await?;
    }
    Ok(AppState {
        map: Arc::new(RwLock::new(map)),
        store: store.clone(),
        backend: store.backend(),
        tiles: Arc::default(),
        feed: Arc::new(app::Feed::new(last_seq)),
        notices: Arc::new(app::outbox::LogSender),
        basemap: Arc::new([]),
        sessions: Arc::default(),
        cors: Arc::new([]),
        channels: Arc::default(),
        zone,
    })
}

/// Starts a town's own store: an empty store takes its root, the town `id` named
/// `name`, with no boundary until its villages are imported, and its time `zone` (a
/// no-op on a store that holds data). Returns whether it wrote anything.
pub async fn init_town(
    store: &AnyStore,
    id: domain::RegionId,
    name: &str,
    code: Option<String>,
    zone: domain::time::Zone,
) -> Result<bool, StartError> {
    if !store.is_empty().await? {
        return Ok(false);
    }
    let town = domain::Region {
        id,
        level: domain::Level::Town,
        parent: None,
        code,
        name: name.to_owned(),
        boundary: Some(geo::MultiPolygon(Vec::new())),
    };
    store
        .import(&store::Dataset {
            regions: vec![town],
            ..store::Dataset::default()
        })
        .await?;
    store.put_zone(zone).await?;
    Ok(true)
}

/// Fills an empty store with the Guali demo (a no-op on a store that holds data).
/// Returns whether it wrote anything.
pub async fn seed_demo(store: &AnyStore, seed: u64) -> Result<bool, StartError> {
    if !store.is_empty().await? {
        return Ok(false);
    }
    let (data, targets) = tokio::task::spawn_blocking(move || {
        demo::generate(seed).map(|data| {
            let targets = demo::targets::targets(&data);
            (data, targets)
        })
    })
    .await??;
    store.import(&data).await?;
    // The command post's weekly targets for the groups, through the campaign.
    store.put_targets(&targets).await?;
    Ok(true)
}

/// Serves `state` on `listener` until `shutdown` resolves, then drains requests.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = move || {
        let mut rx = stopped.clone();
        async move {
            let _ = rx.wait_for(|&s| s).await;
        }
    };
    let scheduler = tokio::spawn(app::clock::run(state.clone(), until_stopped()));
    let briefings = tokio::spawn(app::briefings::run(state.clone(), until_stopped()));
    let outbox = tokio::spawn(app::outbox::run(
        state.clone(),
        state.notices.clone(),
        until_stopped(),
    ));
    let feed = state.feed.clone();
    let served = axum::serve(listener, app(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Event streams never end by themselves: close them so requests drain.
            feed.close();
            let _ = stop.send(true);
        })
        .await;
    let _ = scheduler.await;
    let _ = outbox.await;
    let _ = briefings.await;
    served
}
