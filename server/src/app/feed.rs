//! The writer lock and the event feed that subscribers (the event stream) listen to;
//! the wake-ups of the clock and the outbox.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use tokio::sync::{Mutex, Notify, broadcast, watch};

use crate::store::Event;

/// Events held for slow subscribers; one that falls further behind is disconnected and
/// resumes from the log with `Last-Event-ID`.
const CHANNEL: usize = 4096;

/// An event with its JSON, serialised once for every subscriber.
#[derive(Debug)]
pub struct Published {
    /// The event.
    pub event: Event,
    /// Its JSON.
    pub json: String,
}

impl From<Event> for Published {
    fn from(event: Event) -> Self {
        let json = serde_json::to_string(&event).unwrap_or_else(|_| "{}".into());
        Published { event, json }
    }
}

/// The write side's shared parts.
#[derive(Debug)]
pub struct Feed {
    /// Held for the whole of each write (see [`super::write`]).
    pub lock: Mutex<()>,
    events: broadcast::Sender<Arc<Published>>,
    last_seq: AtomicI64,
    /// Wakes the scheduler: a new deadline may be due sooner than it planned.
    pub clock: Notify,
    /// Wakes the outbox: a notice was queued.
    pub outbox: Notify,
    /// Set when the server shuts down: event streams end so that it can drain.
    closing: watch::Sender<bool>,
}

impl Feed {
    /// A feed whose log ends at `last_seq`.
    pub fn new(last_seq: i64) -> Self {
        Feed {
            lock: Mutex::new(()),
            events: broadcast::channel(CHANNEL).0,
            last_seq: AtomicI64::new(last_seq),
            clock: Notify::new(),
            outbox: Notify::new(),
            closing: watch::channel(false).0,
        }
    }

    /// Sends a committed event to every subscriber (called in commit order).
    pub fn publish(&self, event: Event) {
        self.last_seq.fetch_max(event.seq, Ordering::AcqRel);
        // No subscriber is not an error.
        let _ = self.events.send(Arc::new(Published::from(event)));
    }

    /// Subscribes to events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.events.subscribe()
    }

    /// The last sequence number published (or in the log at start).
    pub fn last_seq(&self) -> i64 {
        self.last_seq.load(Ordering::Acquire)
    }

    /// Ends every event stream (at shutdown).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Whether the server is shutting down, watched.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// How many clients listen.
    pub fn subscribers(&self) -> usize {
        self.events.receiver_count()
    }
}
