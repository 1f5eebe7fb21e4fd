//! What every write handler shares: its answer's status (the one place HTTP statuses of
//! writes are picked: a new record is a 201) and the moments a body carries, checked
//! against the clock with the field they came in.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::error::ApiError;
use crate::app::Written;
use crate::domain::{Deadline, PastMoment};

/// A write's answer: 201 for a new record, 200 otherwise; `Idempotent-Replayed: true`
/// when it is the first answer again.
pub fn written(w: Written) -> Response {
    let status = if w.answer.created() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut resp = (status, Json(w.answer)).into_response();
    if w.replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

/// When the body says something happened (default now), named by `field` if refused.
pub fn happened(
    field: &str,
    at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<PastMoment, ApiError> {
    PastMoment::new(at, now).map_err(|e| ApiError::bad(field, e.to_string()))
}

/// A deadline the body gives, named by `field` if refused.
pub fn deadline(field: &str, t: DateTime<Utc>, now: DateTime<Utc>) -> Result<Deadline, ApiError> {
    Deadline::new(t, now).map_err(|e| ApiError::bad(field, e.to_string()))
}

/// The id in a path, or a 404 naming what was looked for.
pub fn path_id<T: std::str::FromStr>(what: &'static str, raw: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound {
        what,
        id: raw.to_owned(),
    })
}
