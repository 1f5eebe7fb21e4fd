//! HTTP: one file per resource; handlers parse, call the state and respond.

pub mod error;
mod health;
pub mod metrics;
mod ogc;
mod params;
mod rankings;
mod stats;
pub mod tiles;

use std::sync::{Arc, RwLock, RwLockReadGuard};

use axum::Router;
use axum::routing::get;
use chrono::{DateTime, Utc};
use tower_http::trace::TraceLayer;

use crate::state::MapState;
use crate::store::AnyStore;
use error::ApiError;

/// What every handler gets: cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The map state. Writers hold the lock briefly and never across an `.await`.
    pub map: Arc<RwLock<MapState>>,
    /// The store every write is committed to first.
    pub store: AnyStore,
    /// Which backend serves it (`sqlite` or `postgis`), for `/healthz`.
    pub backend: &'static str,
    /// Encoded tiles of the current state version.
    pub tiles: Arc<tiles::TileCache>,
}

impl AppState {
    /// The map state for a reader, with the live figures brought up to now first if the
    /// clock has passed a deadline or another dated fact (so nothing read is stale).
    pub fn read_now(&self) -> Result<(RwLockReadGuard<'_, MapState>, DateTime<Utc>), ApiError> {
        let now = Utc::now();
        fn poisoned<E>(_: E) -> ApiError {
            ApiError::Internal("map state lock poisoned".into())
        }
        {
            let map = self.map.read().map_err(poisoned)?;
            if !map.needs_advance(now) {
                return Ok((map, now));
            }
        }
        self.map.write().map_err(poisoned)?.advance(now);
        Ok((self.map.read().map_err(poisoned)?, now))
    }
}

/// The server's address as the client sees it, for absolute links (TileJSON, OGC API):
/// `X-Forwarded-Proto` and `X-Forwarded-Host` from a reverse proxy win over the request's
/// own `Host`, so links stay right behind a TLS proxy.
pub(crate) fn base_url(headers: &axum::http::HeaderMap) -> String {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let proto = get("x-forwarded-proto")
        .filter(|p| *p == "https" || *p == "http")
        .unwrap_or("http");
    let host = get("x-forwarded-host")
        .or_else(|| get("host"))
        .unwrap_or("localhost");
    format!("{proto}://{host}")
}

/// The application's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/api/stats", get(stats::get_stats))
        .route("/tiles/{layers}/{z}/{x}/{y}", get(tiles::get_tile))
        .route("/tiles/{name}", get(tiles::get_tilejson))
        .route("/ogc", get(ogc::landing))
        .route("/ogc/conformance", get(ogc::conformance))
        .route("/ogc/collections", get(ogc::collections))
        .route("/ogc/collections/{collection}", get(ogc::collection))
        .route("/ogc/collections/{collection}/items", get(ogc::items))
        .route("/ogc/collections/{collection}/items/{id}", get(ogc::item))
        .route("/api/rankings", get(rankings::get_rankings))
        .route("/metrics", get(metrics::get_metrics))
        .fallback(|uri: axum::http::Uri| async move {
            error::ApiError::NotFound {
                what: "endpoint",
                id: uri.path().to_owned(),
            }
        })
        .method_not_allowed_fallback(|| async { error::ApiError::MethodNotAllowed })
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
