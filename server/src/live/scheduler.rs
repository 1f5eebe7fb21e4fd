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

use chrono::Utc;

use crate::http::AppState;

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
