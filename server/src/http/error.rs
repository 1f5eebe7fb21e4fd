//! The one error type of the HTTP layer: every failure becomes a status and a JSON body
//! `{"error": {"status", "code", "message", "field"?}}`. Causes of 5xx are logged, never
//! echoed to the client.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

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
    /// Lines of an imported file are wrong; all of them (400).
    BadLines(Vec<crate::app::import::LineError>),
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

/// The body of every error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// The HTTP status, again.
    status: u16,
    /// `bad_parameter`, `bad_lines`, `not_found`, `method_not_allowed`, `conflict`, `too_large`,
    /// `unsupported_type`, `unprocessable` or `internal`.
    code: &'static str,
    /// In the client's terms.
    message: String,
    /// The parameter, body field (`hazards[0].severity`) or header at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    /// For an imported file, every wrong line.
    #[serde(skip_serializing_if = "Option::is_none")]
    lines: Option<Vec<crate::app::import::LineError>>,
}

impl ApiError {
    /// Its status, code, message and field.
    fn detail(self) -> (StatusCode, ErrorDetail) {
        let mut lines = None;
        let (status, code, message, field) = match self {
            ApiError::BadLines(l) => {
                let message = format!(
                    "{} line(s) of the file are wrong; nothing was written",
                    l.len()
                );
                lines = Some(l);
                (
                    StatusCode::BAD_REQUEST,
                    "bad_lines",
                    message,
                    Some("body".to_owned()),
                )
            }
            ApiError::BadParameter { field, message } => (
                StatusCode::BAD_REQUEST,
                "bad_parameter",
                message,
                Some(field),
            ),
            ApiError::NotFound { what, id } => (
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no {what} `{id}`"),
                None,
            ),
            ApiError::Unauthorized(message) => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                message,
                Some("Authorization".to_owned()),
            ),
            ApiError::Forbidden(message) => (StatusCode::FORBIDDEN, "forbidden", message, None),
            ApiError::Locked(secs) => (
                StatusCode::TOO_MANY_REQUESTS,
                "locked",
                format!("too many failed sign-ins; try again in {secs} s"),
                Some("name".to_owned()),
            ),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method".to_owned(),
                None,
            ),
            ApiError::Conflict(message) => (StatusCode::CONFLICT, "conflict", message, None),
            ApiError::TooLarge { field, limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("over the limit of {limit} bytes"),
                Some(field),
            ),
            ApiError::UnsupportedType { field, message } => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_type",
                message,
                Some(field),
            ),
            ApiError::Unprocessable { field, message } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
                message,
                Some(field),
            ),
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; see the server log".to_owned(),
                    None,
                )
            }
        };
        let detail = ErrorDetail {
            status: status.as_u16(),
            code,
            message,
            field,
            lines,
        };
        (status, detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let extra = match &self {
            ApiError::Unauthorized(_) => Some((
                header::WWW_AUTHENTICATE,
                "Bearer realm=\"onemap\"".to_owned(),
            )),
            ApiError::Locked(secs) => Some((header::RETRY_AFTER, secs.to_string())),
            _ => None,
        };
        let (status, error) = self.detail();
        let mut resp = (status, Json(ErrorBody { error })).into_response();
        if let Some((name, value)) = extra
            && let Ok(value) = axum::http::HeaderValue::from_str(&value)
        {
            resp.headers_mut().insert(name, value);
        }
        resp
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
