//! `GET /healthz`: 200 once the state is loaded (the server only listens after that).

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::app::AppState;

/// Liveness and readiness in one: the backend and how many units are served.
pub async fn healthz(State(app): State<AppState>) -> Json<Value> {
    let units = app.map.read().map(|m| m.units.len()).unwrap_or(0);
    Json(json!({"status": "ok", "backend": app.backend, "units": units}))
}
