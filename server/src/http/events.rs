//! The event log over HTTP: `GET /api/events` (a page of it) and
//! `GET /api/events/stream` (Server-Sent Events: every committed change as it happens).
//!
//! A stream resumes where it broke: a client reconnecting with `Last-Event-ID` (browsers'
//! `EventSource` does it by itself) first gets every event it missed, read from the
//! log, then the live ones — each exactly once, in order. A subscriber too slow to keep
//! up is disconnected, and resumes the same way.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use tokio_stream::wrappers::{BroadcastStream, WatchStream};
use tokio_stream::{Stream, StreamExt};

use super::error::ApiError;
use super::params::Params;
use crate::app::AppState;
use crate::app::Published;
use crate::auth::access::Access;
use crate::domain::{RegionId, UnitId};
use crate::state::RegionIdx;
use crate::state::scope::Scope;
use crate::store::{Event, EventQuery};

/// Most events replayed to a reconnecting client; one further behind reloads the page.
const BACKLOG: u32 = 10_000;

/// The region subtree a client asked for (in or above their scope).
fn region_filter(
    app: &AppState,
    who: &Access,
    params: &Params,
) -> Result<Option<RegionIdx>, ApiError> {
    let Some(id) = params.get::<RegionId>("region")? else {
        return Ok(None);
    };
    let (map, _) = app.read_now()?;
    Ok(Some(who.region_touching(&map, id.as_str())?))
}

/// Whether an event happened within the subtree of `region` and the reader's scope (an
/// event of no place is for readers of the whole town only).
fn within(app: &AppState, region: Option<RegionIdx>, scope: &Scope, e: &Event) -> bool {
    if region.is_none() && scope.is_all() {
        return true;
    }
    let Some(at) = &e.event.region else {
        return false;
    };
    app.map.read().is_ok_and(|m| {
        m.regions.find(at).is_some_and(|idx| {
            region.is_none_or(|root| m.regions.is_within(idx, root)) && scope.covers(&m, idx)
        })
    })
}

/// A page of the event log.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct EventPage {
    /// The last number in the log.
    last_seq: i64,
    /// The events.
    events: Vec<Event>,
}

/// `GET /api/events?after=SEQ&limit=N&region=ID&unit=ID`: with `after`, the events after
/// it, oldest first; without, the latest `limit` (default 50), newest first.
#[utoipa::path(get, path = "/api/events", tag = "events",
    params(
        ("after" = Option<i64>, Query, description = "Events after this number, oldest first"),
        ("limit" = Option<u32>, Query, description = "1–1000, default 50"),
        ("region" = Option<String>, Query), ("unit" = Option<i64>, Query),
    ),
    responses(
        (status = 200, description = "A page of the log", body = EventPage),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
    ))]
pub async fn list(
    State(app): State<AppState>,
    who: Access,
    params: Params,
) -> Result<Json<EventPage>, ApiError> {
    params.only(&["after", "limit", "region", "unit"])?;
    let after = params.get::<i64>("after")?;
    let limit = params.get::<u32>("limit")?.unwrap_or(50).clamp(1, 1000);
    let unit = params.get::<UnitId>("unit")?;
    let region = region_filter(&app, &who, &params)?;
    // With a region or a scope, read more and keep those within it.
    let read = if region.is_some() || !who.scope.is_all() {
        (limit * 20).min(20_000)
    } else {
        limit
    };
    let events = app
        .store
        .events(EventQuery {
            unit,
            after,
            newest_first: after.is_none(),
            limit: read,
        })
        .await?;
    let events: Vec<Event> = events
        .into_iter()
        .filter(|e| within(&app, region, &who.scope, e))
        .take(limit as usize)
        .collect();
    Ok(Json(EventPage {
        last_seq: app.feed.last_seq(),
        events,
    }))
}

fn last_event_id(headers: &HeaderMap, params: &Params) -> Result<Option<i64>, ApiError> {
    if let Some(v) = headers.get("last-event-id") {
        let seq = v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .filter(|&s| s >= 0)
            .ok_or_else(|| {
                ApiError::bad("Last-Event-ID", "an event id is a non-negative integer")
            })?;
        return Ok(Some(seq));
    }
    params.get::<i64>("after")
}

/// `GET /api/events/stream?region=ID[&after=SEQ]`: Server-Sent Events, one per
/// committed change, `id:` its sequence number, `data:` the event as JSON.
#[utoipa::path(get, path = "/api/events/stream", tag = "events",
    params(
        ("region" = Option<String>, Query), ("after" = Option<i64>, Query),
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event"),
    ),
    responses(
        (status = 200, description = "Server-Sent Events: `id:` the number, `data:` an event", content_type = "text/event-stream", body = String),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
    ))]
pub async fn stream(
    State(app): State<AppState>,
    who: Access,
    headers: HeaderMap,
    params: Params,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    params.only(&["region", "after"])?;
    let region = region_filter(&app, &who, &params)?;
    let scope = who.scope.clone();
    let resume = last_event_id(&headers, &params)?;
    // Read the end of the log before subscribing: a client that resumes nothing gets
    // what is committed from now on.
    let now_seq = app.feed.last_seq();
    let live = app.feed.subscribe();
    // Then what it missed: every event committed before the subscription is in the log,
    // every one after it arrives live; the sequence numbers drop the overlap.
    let backlog = match resume {
        Some(after) if after < now_seq || after < app.feed.last_seq() => {
            app.store
                .events(EventQuery {
                    after: Some(after),
                    limit: BACKLOG,
                    ..EventQuery::default()
                })
                .await?
        }
        _ => Vec::new(),
    };
    let closing = app.feed.closing();
    let mut sent = resume.unwrap_or(now_seq);
    let live = BroadcastStream::new(live)
        // A subscriber that lagged is dropped; it resumes from the log.
        .take_while(Result::is_ok)
        .filter_map(Result::ok);
    let events = tokio_stream::iter(backlog.into_iter().map(|e| Arc::new(Published::from(e))))
        .chain(live)
        .filter(move |p| {
            if p.event.seq <= sent {
                return false;
            }
            sent = p.event.seq;
            true
        })
        .filter(move |p| within(&app, region, &scope, &p.event))
        .map(|p| {
            Ok(SseEvent::default()
                .id(p.event.seq.to_string())
                .data(&p.json))
        });
    let hello = tokio_stream::once(Ok(SseEvent::default()
        .retry(Duration::from_secs(2))
        .comment("onemap events")));
    // At shutdown the stream ends (clients reconnect to the next server with their
    // Last-Event-ID), so that graceful shutdown is not held up by open streams.
    let closing = WatchStream::new(closing).filter(|&c| c).map(|_| None);
    let events = hello
        .chain(events)
        .map(Some)
        .merge(closing)
        .take_while(Option::is_some)
        .filter_map(|e| e);
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
