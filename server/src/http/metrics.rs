//! `GET /metrics`: Prometheus text for the engineer who runs the server — requests and
//! their server-side time per route, tile time per zoom, tile-cache hits and misses,
//! units and the state version. Recorded with the `metrics` facade, exported by
//! `metrics-exporter-prometheus` (one recorder per process).

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::app::AppState;

/// Histogram buckets, seconds: 10 µs to 1 s.
const BUCKETS: [f64; 15] = [
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 1.0,
];

/// The process's recorder, installed on first use (`None` if another recorder was
/// installed first, in which case nothing is exported).
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)
                .ok()?
                .install_recorder()
                .ok()
        })
        .as_ref()
}

/// Middleware: counts every request by route and status, and times it.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    let labels = [("route", route), ("method", method)];
    metrics::histogram!("onemap_http_request_seconds", &labels).record(start.elapsed());
    let mut labels = labels.to_vec();
    labels.push(("status", status));
    metrics::counter!("onemap_http_requests_total", &labels).increment(1);
    resp
}

/// Handler of `/metrics`.
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "Prometheus text", content_type = "text/plain", body = String)))]
pub async fn get_metrics(State(app): State<AppState>) -> Response {
    if let Ok(map) = app.map.read() {
        metrics::gauge!("onemap_units").set(map.units.len() as f64);
        metrics::gauge!("onemap_state_version").set(map.live().version() as f64);
    }
    let (entries, bytes) = app.tiles.size();
    metrics::gauge!("onemap_tile_cache_entries").set(entries as f64);
    metrics::gauge!("onemap_tile_cache_bytes").set(bytes as f64);
    let body = handle().map(PrometheusHandle::render).unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        body,
    )
        .into_response()
}
