//! `GET /healthz`: 200 once the state is loaded (the server only listens after that).

use crate::app::AppState;
use axum::Json;
use axum::extract::State;

/// What `/healthz` answers.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok`: the map is loaded.
    status: &'static str,
    /// `sqlite` or `postgis`.
    backend: &'static str,
    /// Units served.
    units: usize,
}

/// Liveness and readiness in one: the backend and how many units are served.
#[utoipa::path(get, path = "/healthz", tag = "service", security(()),
    responses((status = 200, description = "Loaded and serving", body = Health)))]
pub async fn healthz(State(app): State<AppState>) -> Json<Health> {
    let units = app.map.read().map(|m| m.units.len()).unwrap_or(0);
    Json(Health {
        status: "ok",
        backend: app.backend,
        units,
    })
}
