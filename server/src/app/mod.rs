//! The application: the state every request and background task shares ([`AppState`])
//! and what it does with it — reads brought up to now ([`AppState::read_now`]), the
//! write path ([`write`](mod@write)), the clock that logs the colours deadlines change
//! ([`clock`]), the notice outbox ([`outbox`]), the event feed ([`feed`]), the tile
//! cache and the sessions. It knows nothing of HTTP: `http` calls it and answers.

pub mod briefings;
pub mod clock;
pub mod import;

pub mod feed;
pub mod outbox;

pub mod sessions;
pub mod tile_cache;
pub mod write;

use std::sync::{Arc, RwLock, RwLockReadGuard};

use chrono::{DateTime, Utc};

use crate::domain::time::Zone;
use crate::state::MapState;
use crate::store::AnyStore;
pub use crate::writes::{SYSTEM, WriteError};
pub use feed::{Feed, Published};
use outbox::NoticeSender;
use sessions::Sessions;
use tile_cache::TileCache;
pub use write::{Idempotency, Written};

/// A panic elsewhere left the map state's lock poisoned: nothing can be trusted to read.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("map state lock poisoned")]
pub struct Poisoned;

/// What every handler gets: cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The map state. Writers hold the lock briefly and never across an `.await`.
    pub map: Arc<RwLock<MapState>>,
    /// The store every write is committed to first.
    pub store: AnyStore,
    /// Which backend serves it (`sqlite` or `postgis`), for `/healthz`.
    pub backend: &'static str,
    /// Encoded tiles of the current state version.
    pub tiles: Arc<TileCache>,
    /// The writer lock, the event feed and the background tasks' wake-ups.
    pub feed: Arc<Feed>,
    /// Where owners' notices go.
    pub notices: Arc<dyn NoticeSender>,
    /// Raster basemap tile URL templates for the page (empty: none, the default).
    pub basemap: Arc<[String]>,
    /// Tokens looked up recently and failed sign-ins.
    pub sessions: Arc<Sessions>,
    /// Origins allowed to call the API from a browser (CORS); empty: none.
    pub cors: Arc<[String]>,
    /// Each group's channel for the daily briefing (none: briefings are not sent).
    pub channels: Arc<briefings::Channels>,
    /// The town's time zone, read from the store at start: the calendar of its days.
    pub zone: Zone,
}

impl AppState {
    /// The map state for a reader, with the live figures brought up to now first if the
    /// clock has passed a deadline or another dated fact (so nothing read is stale).
    pub fn read_now(&self) -> Result<(RwLockReadGuard<'_, MapState>, DateTime<Utc>), Poisoned> {
        let now = Utc::now();
        {
            let map = self.map.read().map_err(|_| Poisoned)?;
            if !map.needs_advance(now) {
                return Ok((map, now));
            }
        }
        self.map.write().map_err(|_| Poisoned)?.advance(now);
        // The colours the clock changed wait in the map for the scheduler to log them.
        self.feed.clock.notify_one();
        Ok((self.map.read().map_err(|_| Poisoned)?, now))
    }
}
