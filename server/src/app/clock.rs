//! The deadline scheduler: colours change when a deadline passes, not when someone
//! next asks. It sleeps until the map's next due moment (a yellow-card deadline, a
//! suspension's end, a fact dated ahead), wakes early when a write brings a sooner one,
//! and then advances the map and logs every colour the clock changed as an event —
//! which the event stream pushes to the wall at once.
//!
//! After a restart the map is built as of the clock watermark (the moment up to which
//! every clock change was logged) and the first tick advances it to now, so deadlines
//! that passed while the server was down are logged too, dated when they passed.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::AppState;
use crate::domain::UnitId;
use crate::store::{Event, EventKind, Journal, NewEvent};
use crate::writes::{SYSTEM, WriteError};

/// The longest sleep: the watermark moves at least this often.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// Runs until `shutdown` resolves.
pub async fn run(app: AppState, shutdown: impl std::future::Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        // Changes a reader already brought the map to (`AppState::read_now`) wait in
        // the map to be logged: due now, whatever the wheel says next.
        let next = app.map.read().ok().and_then(|m| {
            if m.has_clock_changes() {
                Some(Utc::now())
            } else {
                m.live().next_due()
            }
        });
        let sleep = next.map_or(MAX_SLEEP, |t| {
            (t - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(MAX_SLEEP)
        });
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(sleep) => {}
            () = app.feed.clock.notified() => continue,
        }
        let _writer = app.feed.lock.lock().await;
        if let Err(e) = app.log_clock_changes(Utc::now(), true).await {
            tracing::error!(error = %e, "scheduler: logging clock changes failed; retrying");
            drop(_writer);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

impl AppState {
    /// Brings the map to `now` and logs every colour the clock changed as a
    /// `colour_changed` event (dated at the deadline that changed it), with the clock
    /// watermark. Called with the writer lock held. With `always`, the watermark is
    /// recorded even when nothing changed (the scheduler's tick).
    pub(crate) async fn log_clock_changes(
        &self,
        now: DateTime<Utc>,
        always: bool,
    ) -> Result<(), WriteError> {
        // Always brought to `now` (cheap when nothing is due): a write's colour after is
        // previewed at the map's moment, which must be the write's own.
        let (changes, ids, regions) = {
            let mut map = self.map.write().map_err(|_| WriteError::Poisoned)?;
            map.advance(now);
            let changes = map.take_clock_changes();
            if changes.is_empty() && !always {
                return Ok(());
            }
            let ids: Vec<UnitId> = changes
                .iter()
                .map(|c| map.units[c.unit as usize].unit.id)
                .collect();
            let regions: Vec<_> = changes
                .iter()
                .map(|c| {
                    let mg = map.units[c.unit as usize].micro_grid;
                    map.regions.get(mg).id.clone()
                })
                .collect();
            (changes, ids, regions)
        };
        let names = if ids.is_empty() {
            Default::default()
        } else {
            self.store.unit_texts(&ids).await?
        };
        let first = self.feed.last_seq() + 1;
        let events: Vec<Event> = changes
            .iter()
            .zip(ids)
            .zip(regions)
            .zip(first..)
            .map(|(((c, id), region), seq)| Event {
                seq,
                event: NewEvent {
                    at: c.at,
                    kind: EventKind::ColourChanged,
                    actor: SYSTEM.into(),
                    unit: Some(id),
                    unit_name: names.get(&id).map(|t| t.name.clone()),
                    hazard: None,
                    region: Some(region),
                    colour_before: c.old,
                    colour_after: c.new,
                    before: json!({"colour": c.old}),
                    after: json!({"colour": c.new}),
                },
            })
            .collect();
        let journal = Journal {
            events: events.clone(),
            watermark: Some(now),
            ..Journal::default()
        };
        if let Err(e) = self.store.log(journal).await {
            // Not logged: they wait in the map for the next tick, not lost with it.
            self.map
                .write()
                .map_err(|_| WriteError::Poisoned)?
                .restore_clock_changes(changes);
            return Err(e.into());
        }
        for event in events {
            self.feed.publish(event);
        }
        Ok(())
    }
}
