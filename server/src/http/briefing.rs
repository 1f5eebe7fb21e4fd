//! The daily briefing (每日通报): `GET /api/briefing?date=&region=&format=json|xlsx`, the
//! leader's comment on it, `POST /api/briefing/comment`, and `POST /api/briefing/send`
//! to the groups' channels.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;

use super::answer::written;
use super::body::WriteBody;
use super::error::ApiError;
use super::params::Params;
use crate::app::AppState;
use crate::auth::access::Access;
use crate::domain::text::Text;
use crate::domain::time::Zone;
use crate::domain::{BriefingComment, BriefingDelivery, BriefingSend, Change, RegionId};
use crate::views::briefing::{Briefing, BriefingError, LISTED, briefing, group_messages, xlsx};

/// Refuses a day ahead of today (the town's) or before 1970.
fn check_date(field: &str, date: NaiveDate, zone: Zone) -> Result<(), ApiError> {
    if date > zone.date_of(Utc::now()) {
        return Err(ApiError::bad(field, format!("{date} has not come yet")));
    }
    if date < NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default() {
        return Err(ApiError::bad(field, format!("{date} is before 1970")));
    }
    Ok(())
}

impl From<BriefingError> for ApiError {
    fn from(e: BriefingError) -> Self {
        match e {
            BriefingError::Store(e) => e.into(),
            BriefingError::Poisoned(e) => e.into(),
        }
    }
}

/// The briefing of a region (default: the reader's own) for a day (default: today,
/// local time): as of the end of that day, or now for today. `format=xlsx` gives it as
/// a workbook, a sheet per part.
#[utoipa::path(get, path = "/api/briefing", tag = "figures",
    params(
        ("date" = Option<String>, Query, description = "YYYY-MM-DD (local); default today"),
        ("region" = Option<String>, Query, description = "A region in the reader's scope; default the reader's own"),
        ("format" = Option<String>, Query, description = "json (default) or xlsx"),
    ),
    responses(
        (status = 200, description = "The briefing", content(
            (Briefing = "application/json"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
    ))]
pub async fn get_briefing(
    State(app): State<AppState>,
    who: Access,
    params: Params,
) -> Result<Response, ApiError> {
    params.only(&["date", "region", "format"])?;
    let date = params
        .get::<NaiveDate>("date")?
        .unwrap_or_else(|| app.zone.date_of(Utc::now()));
    check_date("date", date, app.zone)?;
    let format = params
        .get::<String>("format")?
        .unwrap_or_else(|| "json".into());
    if !matches!(format.as_str(), "json" | "xlsx") {
        return Err(ApiError::bad("format", "json or xlsx"));
    }
    let region = params.get::<String>("region")?;
    let idx = {
        let (map, _) = app.read_now()?;
        match region {
            Some(id) => who.region(&map, &id)?,
            None => who.home(&map),
        }
    };
    let listed = if format == "json" { LISTED } else { usize::MAX };
    let b = briefing(&app, idx, date, listed).await?;
    if format == "json" {
        return Ok(Json(b).into_response());
    }
    let bytes = xlsx(&b).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut resp = Body::from(bytes).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    );
    let name = format!(
        "attachment; filename=\"briefing-{}-{date}.xlsx\"",
        b.region.id
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// `POST /api/briefing/comment`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = NewBriefingComment)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    /// The briefing's region.
    #[schema(value_type = String)]
    region: RegionId,
    /// Its day.
    date: NaiveDate,
    /// The comment; empty takes it back.
    #[schema(value_type = String)]
    text: Text<2000>,
}

/// Writes (or replaces) the leader's comment on a region's briefing of a day; it is kept
/// with that day's briefing.
#[utoipa::path(post, path = "/api/briefing/comment", tag = "figures", description = crate::http::openapi::WRITE,
    request_body = CommentBody,
    params(crate::http::openapi::IdempotencyKey),
    responses(
        (status = 200, description = "Written", body = crate::writes::WriteAnswer),
        crate::http::openapi::BadRequest,
    ),
    extensions(("x-onemap-action" = json!("brief"))))]
pub async fn comment(
    State(app): State<AppState>,
    who: Access,
    req: WriteBody<CommentBody>,
) -> Result<Response, ApiError> {
    let b = req.body;
    check_date("date", b.date, app.zone)?;
    let change = Change::Comment(BriefingComment {
        region: b.region,
        date: b.date,
        text: b.text,
        by: who.user.name.clone(),
        at: Utc::now(),
    });
    Ok(written(app.write_as(&who, change, req.idempotency).await?))
}

/// `POST /api/briefing/send`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = BriefingToSend)]
#[serde(deny_unknown_fields)]
pub struct SendBody {
    /// The briefing's region.
    #[schema(value_type = String)]
    region: RegionId,
    /// Its day.
    date: NaiveDate,
}

/// Sends a region's briefing of a day to each of its groups' channels (as the server is
/// configured with `--briefing-channels`): a message per group — its week against its
/// target, its overdue and major hazards, the region's figures, the first and last
/// villages, the leader's comment — queued once per group and day however often it is
/// sent, and delivered (retried until the channel takes it). The answer's record says
/// which groups it was `queued` for now, which had it `already`, and which have no channel.
#[utoipa::path(post, path = "/api/briefing/send", tag = "figures", description = crate::http::openapi::WRITE,
    request_body = SendBody,
    params(crate::http::openapi::IdempotencyKey),
    responses(
        (status = 200, description = "Queued", body = crate::writes::WriteAnswer),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
    ),
    extensions(("x-onemap-action" = json!("brief"))))]
pub async fn send(
    State(app): State<AppState>,
    who: Access,
    req: WriteBody<SendBody>,
) -> Result<Response, ApiError> {
    let b = req.body;
    check_date("date", b.date, app.zone)?;
    let idx = {
        let (map, _) = app.read_now()?;
        who.region(&map, b.region.as_str())?
    };
    let brief = briefing(&app, idx, b.date, 0).await?;
    let messages = {
        let map = app.map.read().map_err(|_| crate::app::Poisoned)?;
        let town = map.regions.get(map.regions.root()).name.clone();
        group_messages(&map, &brief, &town)
    };
    let (with, without): (Vec<_>, Vec<_>) = messages
        .into_iter()
        .partition(|(g, _)| app.channels.contains_key(g));
    let deliveries = with
        .into_iter()
        .filter_map(|(group, message)| {
            let sink = app.channels.get(&group)?.to_string();
            Some(BriefingDelivery {
                group,
                sink,
                message,
            })
        })
        .collect();
    let change = Change::SendBriefing(BriefingSend {
        region: brief.region.id.clone(),
        date: b.date,
        deliveries,
        without_channel: without.into_iter().map(|(g, _)| g).collect(),
        by: who.user.name.clone(),
        at: Utc::now(),
    });
    Ok(written(app.write_as(&who, change, req.idempotency).await?))
}
