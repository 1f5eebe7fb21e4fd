//! The write path: validate → commit the facts, their event, the notices they queue and
//! the idempotent replay in ONE store transaction → apply to the map state → broadcast.
//! The map changes only after the commit, so what the map shows has always been
//! acknowledged by the store; the response is sent only after both.
//!
//! Writes are serialised by one async lock ([`super::Feed`]): a commit on the
//! local PostgreSQL takes well under a millisecond, so one writer keeps up with the
//! field (see BENCHMARKS.md) and buys three guarantees for free — the colour previewed
//! before the commit is the colour after it, event numbers reach subscribers in commit
//! order with no gaps to wait for, and an idempotency key is checked and recorded
//! without a race.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::AppState;
use super::draft;
pub use super::draft::Op;
use crate::auth::access::Access;
use crate::domain::{Hazard, HazardId, Inspection, InspectionId, Unit, UnitId};
use crate::state::{MapState, StateError};
use crate::store::{Assigned, Attachment, Event, Journal, Replay, Store, StoreError, Target};

/// Who made a write, as the event log records it.
pub const SYSTEM: &str = "system";

/// Why a write did not happen (nothing was changed).
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The map state refused what the store took: a bug, logged loudly.
    #[error("the map state refused a committed write: {0}")]
    State(#[from] StateError),
    /// The state lock was poisoned by a panic elsewhere.
    #[error("map state lock poisoned")]
    Poisoned,
    /// A field of the request is wrong.
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// No such unit, hazard or region.
    #[error("no {what} `{id}`")]
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// The id.
        id: String,
    },
    /// The write contradicts what is recorded (closing a closed hazard…).
    #[error("{0}")]
    Conflict(String),
    /// An idempotency key reused for a different request.
    #[error("Idempotency-Key `{0}` was used for a different request")]
    KeyReused(String),
    /// The user may not make this write (their role, or a place outside their scope).
    #[error("{0}")]
    Forbidden(String),
}

impl WriteError {
    /// A bad field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        WriteError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

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
    /// 201 for a creation, 200 otherwise (as first answered, when replayed).
    pub status: u16,
    /// The response body.
    pub body: Value,
    /// Whether this is the replay of an earlier write with the same key.
    pub replayed: bool,
    /// Ids assigned (empty when replayed).
    pub assigned: Assigned,
}

impl AppState {
    pub(super) fn read_map(&self) -> Result<std::sync::RwLockReadGuard<'_, MapState>, WriteError> {
        self.map.read().map_err(|_| WriteError::Poisoned)
    }

    pub(super) fn write_map(
        &self,
    ) -> Result<std::sync::RwLockWriteGuard<'_, MapState>, WriteError> {
        self.map.write().map_err(|_| WriteError::Poisoned)
    }

    /// Performs one write for a signed-in user: the role must allow it and every place it
    /// touches (the unit's micro-grid, before and after a move; a target's group) must be
    /// in their scope, else 403 and nothing happens. The event records the user; an
    /// idempotency key is the user's own (another user's retry with it is refused).
    pub async fn write_as(
        &self,
        who: &Access,
        op: Op,
        idempotency: Option<Idempotency>,
    ) -> Result<Written, WriteError> {
        let op = self.locate(op)?;
        let action = op.action();
        if !who.user.role.may(action) {
            return Err(WriteError::Forbidden(who.user.role.refusal(action)));
        }
        if !who.scope.is_all() {
            let map = self.read_map()?;
            for place in op.places(&map) {
                if !who.scope.covers(&map, place) {
                    return Err(WriteError::Forbidden(format!(
                        "`{}` is outside your scope",
                        map.regions.get(place).id
                    )));
                }
            }
        }
        let idempotency = idempotency.map(|i| Idempotency {
            fingerprint: crate::domain::hash::fingerprint(&[
                i.fingerprint.as_bytes(),
                who.user.name.as_bytes(),
            ]),
            key: i.key,
        });
        self.write_located(op, &who.user.name, idempotency).await
    }

    /// Performs one write for `actor`: the whole pipeline of this module. Trusted
    /// callers only (the clock, tools, tests): the API goes through [`Self::write_as`].
    pub async fn write(
        &self,
        op: Op,
        actor: &str,
        idempotency: Option<Idempotency>,
    ) -> Result<Written, WriteError> {
        let op = self.locate(op)?;
        self.write_located(op, actor, idempotency).await
    }

    /// [`Self::write`] for an op whose micro-grid is already derived.
    async fn write_located(
        &self,
        op: Op,
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
            return Ok(Written {
                status: first.status,
                body: first.response,
                replayed: true,
                assigned: Assigned::default(),
            });
        }
        let now = Utc::now();
        // Deadlines that passed are logged first, so the log stays in time order and
        // the colour this write starts from is the colour of now.
        self.log_clock_changes(now, false).await?;
        let draft = draft::prepare(self, &op, actor, now).await?;
        let status = draft.status;
        let seq = self.feed.last_seq() + 1;
        let (assigned, seqs) = self
            .store
            .commit(op.change(), |assigned| {
                let (event, response) = draft.finish(&op, assigned, seq);
                Journal {
                    events: vec![Event { seq, event }],
                    notices: draft.notices.clone(),
                    replay: idempotency.map(|i| Replay {
                        key: i.key,
                        fingerprint: i.fingerprint,
                        status,
                        response,
                    }),
                    watermark: Some(now),
                }
            })
            .await
            .map_err(|e| match e {
                StoreError::NotFound { what, id } => WriteError::NotFound { what, id },
                StoreError::Conflict(m) => WriteError::Conflict(m),
                e => WriteError::Store(e),
            })?;
        let (event, body) = draft.finish(&op, &assigned, seq);
        {
            let mut map = self.write_map()?;
            if let Err(e) = op.apply(&mut map, &assigned) {
                // The store has it; the map will have it after a restart. Say so loudly.
                tracing::error!(error = %e, "the map state refused a committed write");
            }
        }
        debug_assert_eq!(seqs, [seq]);
        self.feed.publish(Event { seq, event });
        if !draft.notices.is_empty() {
            self.feed.outbox.notify_one();
        }
        self.feed.clock.notify_one();
        Ok(Written {
            status,
            body,
            replayed: false,
            assigned,
        })
    }

    /// A unit's micro-grid is where its location lies (point in polygon); whatever
    /// micro-grid a request names is replaced.
    fn locate(&self, mut op: Op) -> Result<Op, WriteError> {
        if let Op::Register(u) | Op::Edit(u) = &mut op {
            let map = self.read_map()?;
            let valid = u.location.x().is_finite()
                && u.location.y().is_finite()
                && (-180.0..=180.0).contains(&u.location.x())
                && (-90.0..=90.0).contains(&u.location.y());
            let mg = valid
                .then(|| map.regions.micro_grid_at(u.location))
                .flatten()
                .ok_or_else(|| {
                    WriteError::invalid(
                        "location",
                        "the location lies outside every micro-grid of the town",
                    )
                })?;
            u.micro_grid = map.regions.get(mg).id.clone();
        }
        Ok(op)
    }

    /// Registers a unit; its micro-grid is derived from its location by
    /// point-in-polygon (the `micro_grid` field given is ignored).
    pub async fn register_unit(&self, unit: Unit) -> Result<UnitId, WriteError> {
        let w = self.write(Op::Register(unit), SYSTEM, None).await?;
        w.assigned.unit.ok_or(WriteError::Poisoned)
    }

    /// Records a visit and the hazards it found.
    pub async fn record_inspection(
        &self,
        inspection: Inspection,
        hazards: Vec<Hazard>,
    ) -> Result<(InspectionId, Vec<HazardId>), WriteError> {
        let w = self
            .write(
                Op::Inspect {
                    inspection,
                    hazards,
                },
                SYSTEM,
                None,
            )
            .await?;
        let id = w.assigned.inspection.ok_or(WriteError::Poisoned)?;
        Ok((id, w.assigned.hazards))
    }

    /// Issues a yellow card with a new deadline.
    pub async fn issue_yellow_card(
        &self,
        hazard: HazardId,
        at: DateTime<Utc>,
        deadline: DateTime<Utc>,
    ) -> Result<(), WriteError> {
        let op = Op::YellowCard {
            hazard,
            at,
            deadline,
        };
        self.write(op, SYSTEM, None).await.map(drop)
    }

    /// Closes a hazard with its evidence.
    pub async fn close_hazard(
        &self,
        hazard: HazardId,
        at: DateTime<Utc>,
        evidence: &str,
    ) -> Result<(), WriteError> {
        let op = Op::Close {
            hazard,
            at,
            evidence: evidence.to_owned(),
        };
        self.write(op, SYSTEM, None).await.map(drop)
    }

    /// Suspends a unit from `at`.
    pub async fn suspend(&self, unit: UnitId, at: DateTime<Utc>) -> Result<(), WriteError> {
        self.write(Op::Suspend { unit, at }, SYSTEM, None)
            .await
            .map(drop)
    }

    /// Lets a suspended unit resume at `at`.
    pub async fn resume(&self, unit: UnitId, at: DateTime<Utc>) -> Result<(), WriteError> {
        self.write(Op::Resume { unit, at }, SYSTEM, None)
            .await
            .map(drop)
    }

    /// Sets a group's weekly closure target.
    pub async fn set_target(&self, target: Target, actor: &str) -> Result<Written, WriteError> {
        self.write(Op::SetTarget(target), actor, None).await
    }

    /// Attaches a file to a unit.
    pub async fn attach(&self, attachment: Attachment) -> Result<Written, WriteError> {
        let actor = attachment.actor.clone();
        self.write(Op::Attach(attachment), &actor, None).await
    }
}
