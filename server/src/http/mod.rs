//! HTTP: one file per resource; handlers parse, call the state and respond.

pub mod error;
mod health;
mod params;
mod stats;

use std::sync::{Arc, RwLock};

use axum::Router;
use axum::routing::get;
use tower_http::trace::TraceLayer;

use crate::state::MapState;

/// What every handler gets: cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The map state. Writers hold the lock briefly and never across an `.await`.
    pub map: Arc<RwLock<MapState>>,
    /// Which backend serves it (`sqlite` or `postgis`), for `/healthz`.
    pub backend: &'static str,
}

/// The application's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/api/stats", get(stats::get_stats))
        .fallback(|uri: axum::http::Uri| async move {
            error::ApiError::NotFound {
                what: "endpoint",
                id: uri.path().to_owned(),
            }
        })
        .method_not_allowed_fallback(|| async { error::ApiError::MethodNotAllowed })
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
