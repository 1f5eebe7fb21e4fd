//! A unit's files: `POST /api/units/{id}/attachments?kind=photo|video|floor_plan` takes
//! the raw file as the body, its type read from its content (not from what the client
//! claims), stored once under its SHA-256; `GET /api/attachments/{sha256}` serves it to
//! whoever may see a unit it is attached to.

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::answer::{path_id, written};
use super::body;
use super::error::ApiError;
use super::params::Params;
use crate::app::{AppState, Idempotency};
use crate::auth::access::Access;
use crate::domain::{Attachment, AttachmentKind, Change, ContentHash};

/// The largest attachment (a video); photos and plans have lower limits.
pub const ATTACHMENT_LIMIT: usize = AttachmentKind::MAX_BYTES;

/// Attaches a file to a unit.
#[utoipa::path(post, path = "/api/units/{id}/attachments", tag = "field work", description = crate::http::openapi::WRITE,
    request_body(content = Vec<u8>, description = "The raw file: JPEG, PNG, WebP, HEIF, AVIF, PDF (floor plans), MP4, QuickTime, WebM (videos)", content_type = "application/octet-stream"),
    params(
        ("id" = i64, Path, minimum = 1),
        ("kind" = String, Query, description = "photo (≤ 10 MiB), video (≤ 50 MiB) or floor_plan (≤ 20 MiB)"),
        ("by" = Option<String>, Query),
        crate::http::openapi::IdempotencyKey,
    ),
    responses(
        (status = 201, description = "Stored, named by its SHA-256", body = crate::writes::WriteAnswer),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
        crate::http::openapi::TooLarge,
        crate::http::openapi::UnsupportedType,
    ),
    extensions(("x-onemap-action" = json!("attach"))))]
pub async fn attach(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    params: Params,
    req: Request,
) -> Result<Response, ApiError> {
    params.only(&["kind"])?;
    let unit = path_id("unit", &id)?;
    let kind: AttachmentKind = params
        .get::<String>("kind")?
        .and_then(|k| k.parse().ok())
        .ok_or_else(|| ApiError::bad("kind", "one of photo, video, floor_plan"))?;
    let key = body::idempotency_key(req.headers())?;
    let path = req.uri().path().to_owned();
    let data = body::read_limited(req, ATTACHMENT_LIMIT).await?;
    let mime = media_type(kind, "body", &data)?;
    let hash = ContentHash::of(&data);
    let idempotency = key.map(|key| Idempotency {
        fingerprint: body::fingerprint(&[
            b"POST",
            path.as_bytes(),
            kind.as_str().as_bytes(),
            hash.as_str().as_bytes(),
        ]),
        key,
    });
    let attachment = Attachment {
        unit,
        kind,
        hash,
        content_type: mime,
        data,
        actor: who.user.name.clone(),
        at: Utc::now(),
    };
    let w = app
        .write_as(&who, Change::Attach(attachment), idempotency)
        .await?;
    Ok(written(w))
}

/// The media type of a file of `kind` in `field`, read from its content (not from what
/// the client claims), if that kind may be of it and the file is within its limit.
pub(super) fn media_type(
    kind: AttachmentKind,
    field: &str,
    data: &[u8],
) -> Result<&'static str, ApiError> {
    if data.is_empty() {
        return Err(ApiError::bad(field, "the file is empty"));
    }
    let mime = infer::get(data)
        .map(|t| t.mime_type())
        .unwrap_or("application/octet-stream");
    let limit = kind
        .limit_for(mime)
        .ok_or_else(|| ApiError::UnsupportedType {
            field: field.into(),
            message: format!("a {kind} cannot be {mime}"),
        })?;
    if data.len() > limit {
        return Err(ApiError::TooLarge {
            field: field.into(),
            limit,
        });
    }
    Ok(mime)
}

/// `GET /api/attachments/{hash}`: the file, immutable (its name is its content).
#[utoipa::path(get, path = "/api/attachments/{hash}", tag = "field work",
    params(("hash" = String, Path, description = "SHA-256, hex")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 304, description = "Not modified"),
        crate::http::openapi::NotFound,
    ))]
pub async fn attachment(
    State(app): State<AppState>,
    Path(hash): Path<String>,
    who: Access,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound {
        what: "attachment",
        id: hash.clone(),
    };
    let content: ContentHash = hash.parse().map_err(|_| not_found())?;
    // A file is the reader's to see when it is attached to a unit in their scope.
    let units = app.store.attachment_units(&content).await?;
    {
        let (map, _) = app.read_now()?;
        if !units.iter().any(|&u| who.unit(&map, u).is_ok()) {
            return Err(not_found());
        }
    }
    let etag = format!("\"{hash}\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let (mime, data) = app.store.blob(&content).await?.ok_or_else(not_found)?;
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::ETAG, etag),
            (
                header::CACHE_CONTROL,
                "private, max-age=31536000, immutable".into(),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
        ],
        data,
    )
        .into_response())
}
