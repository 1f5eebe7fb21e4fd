//! The one error type of the HTTP layer: every failure becomes a status and a JSON body
//! `{"error": {"status", "code", "message", "field"?}}`. Causes of 5xx are logged, never
//! echoed to the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered to a client.
#[derive(Debug)]
pub enum ApiError {
    /// A query parameter or body field is wrong; names it.
    BadParameter {
        /// The parameter or field.
        field: String,
        /// What is wrong, in the client's terms.
        message: String,
    },
    /// Nothing at that id (or the client may not know it exists).
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The path exists but not for this method.
    MethodNotAllowed,
    /// Something broke on our side; the cause goes to the log only.
    Internal(String),
}

impl ApiError {
    /// A bad parameter.
    pub fn bad(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::BadParameter {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::BadParameter { field, message } => (
                StatusCode::BAD_REQUEST,
                json!({"status": 400, "code": "bad_parameter", "field": field, "message": message}),
            ),
            ApiError::NotFound { what, id } => (
                StatusCode::NOT_FOUND,
                json!({"status": 404, "code": "not_found", "message": format!("no {what} `{id}`")}),
            ),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"status": 405, "code": "method_not_allowed", "message": "this endpoint does not take that method"}),
            ),
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"status": 500, "code": "internal", "message": "internal error; see the server log"}),
                )
            }
        };
        (status, Json(json!({ "error": body }))).into_response()
    }
}
