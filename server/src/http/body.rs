//! Request bodies of the write endpoints: size-limited, JSON parsed with the path of a
//! bad field in the error (`hazards[0].severity`), unknown fields refused, and the
//! `Idempotency-Key` header with a fingerprint of the request it keys.

use axum::extract::{FromRequest, Request};
use axum::http::HeaderMap;
use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::app::Idempotency;

/// The largest JSON body a write takes.
pub const JSON_LIMIT: usize = 64 * 1024;

/// The longest idempotency key.
const KEY_MAX: usize = 200;

/// A write's parsed body and its idempotency key, if the client sent one.
#[derive(Debug)]
pub struct WriteBody<T> {
    /// The body.
    pub body: T,
    /// `Idempotency-Key` with the request's fingerprint.
    pub idempotency: Option<Idempotency>,
}

pub use crate::domain::hash::fingerprint;

/// The `Idempotency-Key` header, checked.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= KEY_MAX)
        .ok_or_else(|| {
            ApiError::bad(
                "Idempotency-Key",
                format!("a key is 1 to {KEY_MAX} visible ASCII characters"),
            )
        })?;
    Ok(Some(key.to_owned()))
}

/// Reads a body of at most `limit` bytes.
pub async fn read_limited(req: Request, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| ApiError::TooLarge {
            field: "body".into(),
            limit,
        })
}

/// A file sent as a request's body (an import): its bytes, its declared type and the
/// idempotency key with the request's fingerprint (method, path, query and bytes).
#[derive(Debug)]
pub struct Upload {
    /// The bytes.
    pub data: Bytes,
    /// `Content-Type`, if sent.
    pub content_type: Option<String>,
    /// `Idempotency-Key` with the request's fingerprint.
    pub idempotency: Option<Idempotency>,
}

impl Upload {
    /// Reads `req`'s body of at most `limit` bytes with its type and key.
    pub async fn read(req: Request, limit: usize) -> Result<Self, ApiError> {
        let content_type = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let key = idempotency_key(req.headers())?;
        let method = req.method().as_str().to_owned();
        let path = req.uri().path().to_owned();
        let query = req.uri().query().unwrap_or("").to_owned();
        let data = read_limited(req, limit).await?;
        let idempotency = key.map(|key| Idempotency {
            fingerprint: fingerprint(&[
                method.as_bytes(),
                path.as_bytes(),
                query.as_bytes(),
                &data,
            ]),
            key,
        });
        Ok(Upload {
            data,
            content_type,
            idempotency,
        })
    }
}

/// Parses JSON, naming the field that is wrong.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text = if bytes.iter().all(u8::is_ascii_whitespace) {
        // An empty body is an empty object: `POST /suspend` needs no fields.
        &b"{}"[..]
    } else {
        bytes
    };
    let de = &mut serde_json::Deserializer::from_slice(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path.is_empty() {
            "body".to_owned()
        } else {
            path
        };
        let inner = e.into_inner();
        // serde's messages end with " at line 1 column 42": the field says where.
        let message = inner.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m)
            .to_owned();
        // An unknown field is named by the message, not the path.
        let unknown = message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(name, _)| name.to_owned());
        let field = match (unknown, field.as_str()) {
            (Some(name), "body") => name,
            (Some(name), path) if !path.ends_with(name.as_str()) => format!("{path}.{name}"),
            _ => field,
        };
        ApiError::bad(field, message)
    })
}

impl<S, T> FromRequest<S> for WriteBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let key = idempotency_key(req.headers())?;
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|ct| ct.starts_with("application/json"));
        if !json {
            return Err(ApiError::UnsupportedType {
                field: "Content-Type".into(),
                message: "send the body as application/json".into(),
            });
        }
        let method = req.method().as_str().to_owned();
        let path = req.uri().path().to_owned();
        let bytes = read_limited(req, JSON_LIMIT).await?;
        let body = parse_json(&bytes)?;
        let idempotency = key.map(|key| Idempotency {
            fingerprint: fingerprint(&[method.as_bytes(), path.as_bytes(), &bytes]),
            key,
        });
        Ok(WriteBody { body, idempotency })
    }
}
