//! HTTP: one file per resource; handlers parse, call the application and respond.

pub mod access;
mod answer;
mod attachments;
mod body;
pub mod error;
mod events;
mod hazards;
mod health;
pub mod metrics;
mod ogc;
mod openapi;
mod params;
mod rankings;
mod session;
mod stats;
mod targets;
pub mod tiles;
mod units;
mod visits;
pub mod web;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
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
        .route("/api/units", post(units::register))
        .route("/api/units/{id}", get(units::card).patch(units::edit))
        .route("/api/units/{id}/history", get(units::history))
        .route("/api/units/{id}/inspections", post(visits::inspect))
        .route("/api/units/{id}/reinspections", post(visits::reinspect))
        .route("/api/units/{id}/suspend", post(visits::suspend))
        .route("/api/units/{id}/resume", post(visits::resume))
        .route(
            "/api/units/{id}/attachments",
            post(attachments::attach).layer(DefaultBodyLimit::max(attachments::ATTACHMENT_LIMIT)),
        )
        .route("/api/attachments/{hash}", get(attachments::attachment))
        .route("/api/hazards/{id}/yellow-card", post(hazards::yellow_card))
        .route("/api/hazards/{id}/close", post(hazards::close))
        .route("/api/events", get(events::list))
        .route("/api/targets", get(targets::get).post(targets::set))
        .route("/api/openapi.json", get(openapi::document))
        .route(
            "/api/session",
            post(session::sign_in)
                .get(session::whoami)
                .delete(session::sign_out),
        )
        .route(
            "/api/users",
            get(session::list_users).post(session::create_user),
        )
        .route("/api/users/{name}/revoke", post(session::revoke_user))
        .merge(web::routes())
        // Every request but the event stream (which lasts) is cut off after a while.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .route("/api/events/stream", get(events::stream))
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
