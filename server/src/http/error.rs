//! The one error type of the HTTP layer: every failure becomes a status and a JSON body
//! `{"error": {"status", "code", "message", "field"?}}`. Causes of 5xx are logged, never
//! echoed to the client.

use axum::Json;
use axum::http::{StatusCode, header};
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
    /// No valid token came with the request (401).
    Unauthorized(String),
    /// The user's role may not do this, or not there (403).
    Forbidden(String),
    /// Too many failed sign-ins for this name; try again after this many seconds (429).
    Locked(u64),
    /// The path exists but not for this method.
    MethodNotAllowed,
    /// The write contradicts what is recorded (409).
    Conflict(String),
    /// The body is over the size limit (413).
    TooLarge {
        /// What was too large.
        field: String,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body is not of a type this endpoint takes (415).
    UnsupportedType {
        /// What was wrong.
        field: String,
        /// Why.
        message: String,
    },
    /// The request is well-formed but cannot be taken as it is (422).
    Unprocessable {
        /// The field or header.
        field: String,
        /// Why.
        message: String,
    },
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
            ApiError::Unauthorized(message) => {
                let body = json!({"error": {"status": 401, "code": "unauthorized",
                    "field": "Authorization", "message": message}});
                return (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Bearer realm=\"onemap\"")],
                    Json(body),
                )
                    .into_response();
            }
            ApiError::Forbidden(message) => (
                StatusCode::FORBIDDEN,
                json!({"status": 403, "code": "forbidden", "message": message}),
            ),
            ApiError::Locked(secs) => {
                let body = json!({"error": {"status": 429, "code": "locked", "field": "name",
                    "message": format!("too many failed sign-ins; try again in {secs} s")}});
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, secs.to_string())],
                    Json(body),
                )
                    .into_response();
            }
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"status": 405, "code": "method_not_allowed", "message": "this endpoint does not take that method"}),
            ),
            ApiError::Conflict(message) => (
                StatusCode::CONFLICT,
                json!({"status": 409, "code": "conflict", "message": message}),
            ),
            ApiError::TooLarge { field, limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"status": 413, "code": "too_large", "field": field,
                       "message": format!("over the limit of {limit} bytes")}),
            ),
            ApiError::UnsupportedType { field, message } => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                json!({"status": 415, "code": "unsupported_type", "field": field, "message": message}),
            ),
            ApiError::Unprocessable { field, message } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"status": 422, "code": "unprocessable", "field": field, "message": message}),
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

impl From<crate::app::WriteError> for ApiError {
    fn from(e: crate::app::WriteError) -> Self {
        use crate::app::WriteError as W;
        use crate::store::StoreError;
        match e {
            W::Invalid { field, message } => ApiError::BadParameter { field, message },
            W::NotFound { what, id } | W::Store(StoreError::NotFound { what, id }) => {
                ApiError::NotFound { what, id }
            }
            W::Conflict(m) | W::Store(StoreError::Conflict(m)) => ApiError::Conflict(m),
            W::KeyReused(key) => ApiError::Unprocessable {
                field: "Idempotency-Key".into(),
                message: format!("the key `{key}` was already used for a different request"),
            },
            W::Store(StoreError::InvalidReference(m)) => ApiError::bad("body", m),
            W::Forbidden(m) => ApiError::Forbidden(m),
            e => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<crate::app::Poisoned> for ApiError {
    fn from(e: crate::app::Poisoned) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<crate::auth::access::Unseen> for ApiError {
    fn from(e: crate::auth::access::Unseen) -> Self {
        ApiError::NotFound {
            what: e.what,
            id: e.id,
        }
    }
}
