//! The write path: check who may → draft the event (`writes`) → commit the change, its
//! event, the notices it queues and the idempotent answer in ONE store transaction →
//! apply the same change to the map → publish. The map changes only after the commit,
//! so what the map shows has always been acknowledged by the store; the answer is
//! given only after both.
//!
//! Writes are serialised by one async lock ([`super::Feed`]): a commit on the local
//! PostgreSQL takes well under a millisecond, so one writer keeps up with the field
//! (see BENCHMARKS.md) and buys three guarantees for free — the colour previewed before
//! the commit is the colour after it, event numbers reach subscribers in commit order
//! with no gaps to wait for, and an idempotency key is checked and recorded without a
//! race.

use chrono::Utc;

use super::{AppState, outbox};
use crate::auth::access::Access;
use crate::domain::hash::fingerprint;
use crate::domain::{Change, FixLink, Location, RegionId};
use crate::store::{Assigned, Event, Journal, Replay, StoreError};
use crate::writes::{self, Ctx, WriteAnswer, WriteError};

/// A client's idempotency key and the fingerprint of its request.
#[derive(Debug, Clone)]
pub struct Idempotency {
    /// The `Idempotency-Key` header.
    pub key: String,
    /// Method, path and body hashed: the same key may only repeat the same request.
    pub fingerprint: String,
}

/// What a write answered.
#[derive(Debug, Clone)]
pub struct Written {
    /// The answer (as first given, when replayed).
    pub answer: WriteAnswer,
    /// Whether this is the replay of an earlier write with the same key.
    pub replayed: bool,
    /// Ids assigned (empty when replayed).
    pub assigned: Assigned,
}

impl AppState {
    /// The micro-grid a location lies in (point in polygon): where a unit registered or
    /// moved there belongs.
    pub fn locate(&self, location: Location) -> Result<RegionId, WriteError> {
        let map = self.map.read().map_err(|_| WriteError::Poisoned)?;
        map.regions
            .micro_grid_at(location.point())
            .map(|mg| map.regions.get(mg).id.clone())
            .ok_or_else(|| {
                WriteError::invalid(
                    "location",
                    "the location lies outside every micro-grid of the town",
                )
            })
    }

    /// Performs one write for a signed-in user: the role must allow it and every place it
    /// touches (the unit's micro-grid, before and after a move; a target's group) must be
    /// in their scope, else 403 and nothing happens. The event records the user; an
    /// idempotency key is the user's own (another user's retry with it is refused).
    pub async fn write_as(
        &self,
        who: &Access,
        change: Change,
        idempotency: Option<Idempotency>,
    ) -> Result<Written, WriteError> {
        let action = change.action();
        if !who.user.role.may(action) {
            return Err(WriteError::Forbidden(who.user.role.refusal(action)));
        }
        if !who.scope.is_all() {
            let map = self.map.read().map_err(|_| WriteError::Poisoned)?;
            if let Some(out) = map
                .places(&change)
                .into_iter()
                .find(|&p| !who.scope.covers(&map, p))
            {
                return Err(WriteError::Forbidden(format!(
                    "`{}` is outside your scope",
                    map.regions.get(out).id
                )));
            }
        }
        let idempotency = idempotency.map(|i| Idempotency {
            fingerprint: fingerprint(&[i.fingerprint.as_bytes(), who.user.name.as_bytes()]),
            key: i.key,
        });
        self.commit(change, &who.user.name, idempotency).await
    }

    /// Performs an owner's write through their fix link: only a report for the link's
    /// own unit, while the link works (the store checks it again in the transaction).
    /// The event records the owner as `owner/fix-link-N`; an idempotency key is the
    /// link's own.
    pub async fn write_by_link(
        &self,
        link: &FixLink,
        change: Change,
        idempotency: Option<Idempotency>,
    ) -> Result<Written, WriteError> {
        let Change::FixReport(r) = &change else {
            return Err(WriteError::Forbidden(
                "a fix link can only send a fix report".into(),
            ));
        };
        if r.link != link.id || r.unit != link.unit {
            return Err(WriteError::Forbidden(
                "a fix link can only report on its own unit".into(),
            ));
        }
        let actor = link.actor();
        let idempotency = idempotency.map(|i| Idempotency {
            fingerprint: fingerprint(&[i.fingerprint.as_bytes(), actor.as_bytes()]),
            key: i.key,
        });
        self.commit(change, &actor, idempotency).await
    }

    /// Performs one write for `actor`, trusted: the clock, tools and tests (the API goes
    /// through [`Self::write_as`]).
    pub async fn write(&self, change: Change, actor: &str) -> Result<Written, WriteError> {
        self.commit(change, actor, None).await
    }

    async fn commit(
        &self,
        change: Change,
        actor: &str,
        idempotency: Option<Idempotency>,
    ) -> Result<Written, WriteError> {
        let _writer = self.feed.lock.lock().await;
        if let Some(idem) = &idempotency
            && let Some(first) = self.store.replay(&idem.key).await?
        {
            if first.fingerprint != idem.fingerprint {
                return Err(WriteError::KeyReused(idem.key.clone()));
            }
            let answer = serde_json::from_value(first.response).map_err(|e| {
                WriteError::Store(StoreError::Corrupt {
                    column: "idempotency.response",
                    message: e.to_string(),
                })
            })?;
            return Ok(Written {
                answer,
                replayed: true,
                assigned: Assigned::default(),
            });
        }
        let now = Utc::now();
        // Deadlines that passed are logged first, so the log stays in time order and
        // the colour this write starts from is the colour of now.
        self.log_clock_changes(now, false).await?;
        let cx = Ctx {
            map: &self.map,
            store: &self.store,
            now,
            actor,
        };
        let draft = writes::draft(&change, &cx).await?;
        // The parts (an import's units) take the numbers before the write's own.
        let first = self.feed.last_seq() + 1;
        let seq = first + draft.parts.len() as i64;
        let town = self.town_name()?;
        let notices = draft
            .notices
            .iter()
            .map(|n| outbox::notice(&town, self.zone, n))
            .collect();
        // The event and the answer are made once, when the store has assigned the ids.
        let mut made = None;
        let assigned = self
            .store
            .commit(&change, |assigned| {
                let event = draft.event(assigned);
                let mut answer = WriteAnswer::of(seq, &event);
                answer.token = change.secret().map(str::to_owned);
                let mut events: Vec<Event> = (first..)
                    .zip(&draft.parts)
                    .map(|(seq, part)| Event {
                        seq,
                        event: part.event(assigned),
                    })
                    .collect();
                events.push(Event {
                    seq,
                    event: event.clone(),
                });
                let journal = Journal {
                    events,
                    notices,
                    replay: idempotency.map(|i| Replay {
                        key: i.key,
                        fingerprint: i.fingerprint,
                        response: serde_json::to_value(&answer).unwrap_or_default(),
                    }),
                    watermark: Some(now),
                };
                made = Some((event, answer));
                journal
            })
            .await
            .map_err(|e| match e {
                StoreError::NotFound { what, id } => WriteError::NotFound { what, id },
                StoreError::Conflict(m) => WriteError::Conflict(m),
                e => WriteError::Store(e),
            })?;
        // The store makes the journal inside every commit it acknowledges.
        let (event, answer) = made.ok_or_else(|| {
            WriteError::Store(StoreError::Corrupt {
                column: "events",
                message: "a commit acknowledged without its journal".into(),
            })
        })?;
        {
            let mut map = self.map.write().map_err(|_| WriteError::Poisoned)?;
            if let Err(e) = map.apply(&change, &assigned) {
                // The store has it; the map will have it after a restart. Say so loudly.
                tracing::error!(error = %e, "the map state refused a committed write");
            }
        }
        self.feed.publish(Event { seq, event });
        if !draft.notices.is_empty() {
            self.feed.outbox.notify_one();
        }
        self.feed.clock.notify_one();
        Ok(Written {
            answer,
            replayed: false,
            assigned,
        })
    }

    /// The root region's name (the town's, or the province's), for notices.
    fn town_name(&self) -> Result<String, WriteError> {
        let map = self.map.read().map_err(|_| WriteError::Poisoned)?;
        Ok(map.regions.get(map.regions.root()).name.clone())
    }
}
