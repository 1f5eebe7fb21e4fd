//! Owners' fix reports (整改反馈) over HTTP. For inspectors: make a link for a unit
//! (its token shown once, in the answer; the owner's notice carries the link), revoke
//! it, read a unit's links and reports, reject a report with a reason (a report is
//! accepted by closing a hazard with `report` set). For the owner, with no account:
//! `GET /api/fix/{token}` says what the link is for and `POST /api/fix/{token}` takes a
//! report — a note and photos of the fix, in one `multipart/form-data` request, so a
//! report lands whole or not at all.

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::answer::{path_id, written};
use super::body::{self, WriteBody};
use super::error::ApiError;
use crate::app::{AppState, Idempotency};
use crate::auth::access::Access;
use crate::domain::checklist::hazard_type;
use crate::domain::{
    Attachment, AttachmentKind, Change, ContentHash, FixLink, FixLinkId, FixRejection, FixReportId,
    FixStatus, FixToken, NewFixLink, NewFixReport, Severity, Text, UnitId,
};
use crate::store::fix::UnitFixes;

/// `POST /api/units/{id}/fix-links`: nothing to say but the unit.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = NewFixLink)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {}

/// Makes a link for the unit's owner to send fix reports through, for 14 days. The
/// answer's `token` is shown once (the page's link is `/fix/{token}`); the owner's
/// notice carries the link.
#[utoipa::path(post, path = "/api/units/{id}/fix-links", tag = "field work", description = crate::http::openapi::WRITE,
    request_body = LinkBody,
    params(("id" = i64, Path, minimum = 1), crate::http::openapi::IdempotencyKey),
    responses(
        (status = 201, description = "Made; `token` is in the answer only", body = crate::writes::WriteAnswer),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
    ),
    extensions(("x-onemap-action" = json!("rectify"))))]
pub async fn make_link(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    headers: HeaderMap,
    req: WriteBody<LinkBody>,
) -> Result<Response, ApiError> {
    let unit: UnitId = path_id("unit", &id)?;
    let change = Change::FixLink(NewFixLink {
        unit,
        token: FixToken::generate(),
        origin: super::base_url(&headers),
        at: Utc::now(),
        by: who.user.name.clone(),
    });
    Ok(written(app.write_as(&who, change, req.idempotency).await?))
}

/// `POST /api/fix-links/{id}/revoke`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = FixLinkRevocation)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {}

/// Revokes a link: it takes no more reports (those sent stay).
#[utoipa::path(post, path = "/api/fix-links/{id}/revoke", tag = "field work", description = crate::http::openapi::WRITE,
    request_body = RevokeBody,
    params(("id" = i64, Path, minimum = 1), crate::http::openapi::IdempotencyKey),
    responses(
        (status = 200, description = "Revoked", body = crate::writes::WriteAnswer),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
        crate::http::openapi::Conflict,
    ),
    extensions(("x-onemap-action" = json!("rectify"))))]
pub async fn revoke_link(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    req: WriteBody<RevokeBody>,
) -> Result<Response, ApiError> {
    let link: FixLinkId = path_id("fix link", &id)?;
    let found = app.store.fix_link(link.get()).await?;
    let l = seen(&app, &who, found.map(|l| (l.unit, l)), "fix link", &id)?;
    let change = Change::RevokeFixLink {
        link,
        unit: l.unit,
        at: Utc::now(),
    };
    Ok(written(app.write_as(&who, change, req.idempotency).await?))
}

/// A record the reader may see (its unit in their scope), else 404.
fn seen<T>(
    app: &AppState,
    who: &Access,
    found: Option<(UnitId, T)>,
    what: &'static str,
    id: &str,
) -> Result<T, ApiError> {
    let not_found = || ApiError::NotFound {
        what,
        id: id.to_owned(),
    };
    let (unit, t) = found.ok_or_else(not_found)?;
    let (map, _) = app.read_now()?;
    who.unit(&map, unit).map_err(|_| not_found())?;
    Ok(t)
}

/// A unit's fix links and the reports sent through them, newest first.
#[utoipa::path(get, path = "/api/units/{id}/fixes", tag = "field work",
    params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "Links and reports", body = UnitFixes),
        crate::http::openapi::NotFound,
    ))]
pub async fn unit_fixes(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
) -> Result<Json<UnitFixes>, ApiError> {
    let unit: UnitId = path_id("unit", &id)?;
    seen(&app, &who, Some((unit, ())), "unit", &id)?;
    Ok(Json(app.store.unit_fixes(unit).await?))
}

/// `POST /api/fix-reports/{id}/reject`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = FixReportRejection)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    reason: Text<500, 1>,
}

/// Rejects an owner's report with the reason they are told (by notice and on their
/// page); they may send another through the same link.
#[utoipa::path(post, path = "/api/fix-reports/{id}/reject", tag = "field work", description = crate::http::openapi::WRITE,
    request_body = RejectBody,
    params(("id" = i64, Path, minimum = 1), crate::http::openapi::IdempotencyKey),
    responses(
        (status = 200, description = "Rejected", body = crate::writes::WriteAnswer),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
        crate::http::openapi::Conflict,
    ),
    extensions(("x-onemap-action" = json!("rectify"))))]
pub async fn reject(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    req: WriteBody<RejectBody>,
) -> Result<Response, ApiError> {
    let report: FixReportId = path_id("fix report", &id)?;
    let found = app.store.fix_report(report.get()).await?;
    let r = seen(&app, &who, found.map(|r| (r.unit, r)), "fix report", &id)?;
    let change = Change::RejectFix(FixRejection {
        report,
        unit: r.unit,
        reason: req.body.reason,
        at: Utc::now(),
        by: who.user.name.clone(),
    });
    Ok(written(app.write_as(&who, change, req.idempotency).await?))
}

/// What the owner's page shows: the unit, what must be fixed, the link's life and the
/// reports sent so far.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OwnerView {
    /// The unit's name.
    unit_name: String,
    /// Its address.
    address: String,
    /// Whether the link still takes reports.
    works: bool,
    /// When it stops (or stopped) working.
    expires_at: DateTime<Utc>,
    /// When it was revoked.
    revoked_at: Option<DateTime<Utc>>,
    /// The open hazards, by their deadline.
    hazards: Vec<OwnerHazard>,
    /// The reports sent through any of the unit's links, newest first.
    reports: Vec<OwnerReport>,
    /// At most this many photos in a report.
    max_photos: usize,
}

/// An open hazard, as its owner is told it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OwnerHazard {
    /// Its name in Chinese (or the inspector's words).
    name_zh: String,
    /// In English.
    name_en: String,
    /// General or major.
    severity: Severity,
    /// By when it must be fixed.
    deadline: Option<DateTime<Utc>>,
}

/// A report sent, as its owner sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OwnerReport {
    /// When it was sent.
    at: DateTime<Utc>,
    /// Where it stands.
    status: FixStatus,
    /// Why it was rejected.
    reason: Option<String>,
    /// How many photos it had.
    photos: usize,
}

/// The link a token names, or 404 (a malformed token is never looked up).
async fn link_of(app: &AppState, token: &str) -> Result<FixLink, ApiError> {
    let not_found = || ApiError::NotFound {
        what: "fix link",
        id: "(the link in your message)".into(),
    };
    let token = FixToken::parse(token).ok_or_else(not_found)?;
    app.store
        .fix_link_by_token(&token.hash())
        .await?
        .ok_or_else(not_found)
}

/// What a fix link is for, for the owner who opens it (no account needed).
#[utoipa::path(get, path = "/api/fix/{token}", tag = "owners", security(()),
    params(("token" = String, Path, description = "The link's token, `fx_` and 64 hex digits")),
    responses(
        (status = 200, description = "The unit, its open hazards and the reports sent", body = OwnerView),
        crate::http::openapi::NotFound,
    ))]
pub async fn owner_view(
    State(app): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<OwnerView>, ApiError> {
    let link = link_of(&app, &token).await?;
    let record = app
        .store
        .unit_record(link.unit)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            what: "unit",
            id: link.unit.to_string(),
        })?;
    let mut hazards: Vec<_> = record
        .hazards
        .iter()
        .filter(|h| h.closed_at.is_none())
        .map(|h| {
            let t = hazard_type(&h.hazard_type);
            OwnerHazard {
                name_zh: t.map_or(h.hazard_type.clone(), |t| t.zh.to_owned()),
                name_en: t.map_or(h.hazard_type.clone(), |t| t.en.to_owned()),
                severity: h.severity,
                deadline: h.deadline,
            }
        })
        .collect();
    hazards.sort_by_key(|h| (h.deadline.is_none(), h.deadline));
    let reports = app
        .store
        .unit_fixes(link.unit)
        .await?
        .reports
        .into_iter()
        .map(|r| OwnerReport {
            at: r.at,
            status: r.status,
            reason: r.reason,
            photos: r.photos.len(),
        })
        .collect();
    Ok(Json(OwnerView {
        unit_name: record.unit.name,
        address: record.unit.address,
        works: link.works(Utc::now()),
        expires_at: link.expires_at,
        revoked_at: link.revoked_at,
        hazards,
        reports,
        max_photos: NewFixReport::MAX_PHOTOS,
    }))
}

/// The largest report: its photos at their limit and the note.
pub const REPORT_LIMIT: usize = NewFixReport::MAX_PHOTOS * 10 * 1024 * 1024 + 64 * 1024;

/// An owner's report, as the form sends it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ReportForm {
    /// What was done (up to 2,000 characters).
    note: Option<String>,
    /// Photos of the fix (JPEG, PNG, WebP, HEIF or AVIF, ≤ 10 MiB each, 1 to 6).
    #[schema(value_type = Vec<String>, format = Binary)]
    photo: Vec<Vec<u8>>,
}

/// Sends a fix report through the link: photos of the fix and a note. They join the
/// unit's file; the inspector sees the report in their day and closes a hazard on it or
/// rejects it with a reason.
#[utoipa::path(post, path = "/api/fix/{token}", tag = "owners", security(()), description = crate::http::openapi::WRITE,
    request_body(content = ReportForm, content_type = "multipart/form-data"),
    params(("token" = String, Path), crate::http::openapi::IdempotencyKey),
    responses(
        (status = 201, description = "Received", body = crate::writes::WriteAnswer),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
        crate::http::openapi::Conflict,
        crate::http::openapi::TooLarge,
        crate::http::openapi::UnsupportedType,
    ))]
pub async fn owner_report(
    State(app): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, ApiError> {
    let link = link_of(&app, &token).await?;
    let now = Utc::now();
    if !link.works(now) {
        return Err(ApiError::Conflict(if link.revoked_at.is_some() {
            "this link was revoked; ask the inspector for a new one".into()
        } else {
            "this link has expired; ask the inspector for a new one".into()
        }));
    }
    let key = body::idempotency_key(&headers)?;
    let mut form = form.map_err(|_| ApiError::UnsupportedType {
        field: "Content-Type".into(),
        message: "send the report as multipart/form-data".into(),
    })?;
    let actor = link.actor();
    let mut note = String::new();
    let mut photos: Vec<Attachment> = Vec::new();
    let bad_form = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge {
                field: "body".into(),
                limit: REPORT_LIMIT,
            }
        } else {
            ApiError::bad("body", e.body_text())
        }
    };
    while let Some(field) = form.next_field().await.map_err(bad_form)? {
        match field.name().unwrap_or("") {
            "note" => note = field.text().await.map_err(bad_form)?,
            "photo" => {
                let n = photos.len() + 1;
                let name = format!("photo[{}]", n - 1);
                let data = field.bytes().await.map_err(bad_form)?;
                if n > NewFixReport::MAX_PHOTOS {
                    return Err(ApiError::bad(
                        "photo",
                        format!("at most {} photos", NewFixReport::MAX_PHOTOS),
                    ));
                }
                photos.push(photo(&name, data, &actor, link.unit, now)?);
            }
            other => {
                return Err(ApiError::bad(
                    other.to_owned(),
                    "unknown field (the form takes note and photo)",
                ));
            }
        }
    }
    if photos.is_empty() {
        return Err(ApiError::bad("photo", "add at least one photo of the fix"));
    }
    let note: Text<2000> = note
        .trim()
        .parse()
        .map_err(|e: crate::domain::text::TextError| ApiError::bad("note", e.to_string()))?;
    let idempotency = key.map(|key| {
        let mut parts: Vec<&[u8]> = vec![b"POST /api/fix", note.as_str().as_bytes()];
        parts.extend(photos.iter().map(|p| p.hash.as_str().as_bytes()));
        Idempotency {
            fingerprint: body::fingerprint(&parts),
            key,
        }
    });
    let change = Change::FixReport(NewFixReport {
        link: link.id,
        unit: link.unit,
        note,
        photos,
        at: now,
    });
    Ok(written(
        app.write_by_link(&link, change, idempotency).await?,
    ))
}

/// One photo of a report, its type read from its content.
fn photo(
    field: &str,
    data: bytes::Bytes,
    actor: &str,
    unit: UnitId,
    at: DateTime<Utc>,
) -> Result<Attachment, ApiError> {
    let mime = super::attachments::media_type(AttachmentKind::Photo, field, &data)?;
    Ok(Attachment {
        unit,
        kind: AttachmentKind::Photo,
        hash: ContentHash::of(&data),
        content_type: mime,
        data,
        actor: actor.to_owned(),
        at,
    })
}
