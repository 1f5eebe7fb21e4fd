//! HTTP: one file per resource; handlers parse, call the application and respond.

pub mod access;
mod answer;
mod attachments;
mod body;
mod briefing;
mod checklists;
mod day;
pub mod error;
mod events;
mod exports;
mod fix;
mod hazards;
mod health;
mod imports;
pub mod metrics;
mod ogc;
pub mod openapi;
mod params;
mod rankings;
mod routes;
mod session;
mod stats;
mod targets;
pub mod tiles;
mod units;
mod visits;
pub mod web;

use axum::Router;
use axum::routing::get;
use tower_http::trace::TraceLayer;

pub use crate::app::AppState;

/// The longest any request but an event stream may take; a slow phone uploading a
/// 50 MB video has this long.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

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
    let (api, _) = routes::api().split_for_parts();
    let timeout = tower_http::timeout::TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        REQUEST_TIMEOUT,
    );
    // The tiles' operations are in the document (`openapi::ApiDoc`); their routes match
    // `/tiles/…` by segments, the `.mvt` and `.json` endings checked by the handlers.
    let tiles = Router::new()
        .route("/tiles/{layers}/{z}/{x}/{y}", get(tiles::get_tile))
        .route("/tiles/{name}", get(tiles::get_tilejson))
        .merge(web::routes())
        .layer(timeout);
    api.merge(tiles)
        .fallback(|uri: axum::http::Uri| async move {
            error::ApiError::NotFound {
                what: "endpoint",
                id: uri.path().to_owned(),
            }
        })
        .method_not_allowed_fallback(|| async { error::ApiError::MethodNotAllowed })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::guard,
        ))
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(cors(&state.cors))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// CORS: off (no headers: browsers refuse other sites) unless origins are configured;
/// then those origins may send a Bearer token, never the page's cookie.
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderName, HeaderValue, Method, header};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    if list.is_empty() {
        return CorsLayer::new();
    }
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(list))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([HeaderName::from_static("idempotent-replayed")])
        .max_age(std::time::Duration::from_secs(600))
}
