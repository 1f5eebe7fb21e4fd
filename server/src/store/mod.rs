//! Where writes are committed: one interface ([`Store`]), one module per backend.
//!
//! - [`sqlite`]: the embedded default, a single file; nothing to install.
//! - [`postgres`]: PostgreSQL + PostGIS for production; geometry columns in SRID 4326
//!   with GiST indexes, so QGIS or any PostGIS tool reads the tables directly.
//!
//! Both run their own migrations (`server/migrations/{sqlite,postgres}`) on open and
//! pass the same conformance suite (`tests/store_conformance.rs`). Every write method
//! is one transaction: it either lands whole or not at all.

/// Runs `$body` with `$pool` bound to the store's pool, whichever backend it is.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            AnyStore::Sqlite(s) => {
                let $pool = s.pool();
                $body
            }
            AnyStore::Postgres(s) => {
                let $pool = s.pool();
                $body
            }
        }
    };
}

pub mod auth;
pub mod bulk;
mod geometry;
pub mod journal;
pub mod postgres;
mod rows;
pub mod sqlite;

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::domain::{
    Batch, Colour, Hazard, HazardFacts, HazardId, Inspection, InspectionId, Region, RiskLevel,
    Suspension, Unit, UnitId, UnitKind,
};
pub use journal::{
    Assigned, Attachment, AttachmentInfo, Change, Event, EventKind, EventQuery, Journal, NewEvent,
    NewNotice, Notice, Replay, Target, UnitRecord,
};

/// How a notice's delivery went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeOutcome {
    /// Sent at this moment.
    Delivered(DateTime<Utc>),
    /// Not sent; try again at `retry_at`.
    Failed {
        /// What went wrong.
        error: String,
        /// When to try again.
        retry_at: DateTime<Utc>,
    },
}

/// Everything a store holds: what `import` writes and `load` reads back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    /// Places, parents before children.
    pub regions: Vec<Region>,
    /// Units, hosts before their factory-in-factory tenants.
    pub units: Vec<Unit>,
    /// Inspection visits.
    pub inspections: Vec<Inspection>,
    /// Hazards found.
    pub hazards: Vec<Hazard>,
    /// Suspension orders.
    pub suspensions: Vec<Suspension>,
}

/// A unit as the map reads it at start: everything but its text.
#[derive(Debug, Clone, Copy)]
pub struct MapUnit<'a> {
    /// Id.
    pub id: UnitId,
    /// Kind of premises.
    pub kind: UnitKind,
    /// Longitude.
    pub lon: f64,
    /// Latitude.
    pub lat: f64,
    /// The id of its micro-grid, as stored.
    pub micro_grid: &'a str,
    /// Provincial risk rating.
    pub risk: RiskLevel,
    /// Enterprise batch.
    pub batch: Option<Batch>,
    /// Host enterprise of a factory-in-factory.
    pub host: Option<UnitId>,
    /// When it entered the register.
    pub registered_at: DateTime<Utc>,
}

/// Where a streamed start-up read goes, record by record, so that ten million units
/// never sit in memory twice ([`postgres::PgStore::stream_map`], which makes the sink
/// from the regions). Units come first, then the facts, each table in no particular
/// order.
pub trait MapSink: Sized {
    /// What the sink refuses records with.
    type Error: From<StoreError>;
    /// About how many units and hazards will come (a hint, to allocate once).
    fn reserve(&mut self, _units: usize, _hazards: usize) {}
    /// Every unit has come (the facts follow).
    fn units_done(&mut self) {}
    /// One unit.
    fn unit(&mut self, unit: MapUnit<'_>) -> std::result::Result<(), Self::Error>;
    /// A unit's first inspection.
    fn first_inspection(
        &mut self,
        unit: UnitId,
        at: DateTime<Utc>,
    ) -> std::result::Result<(), Self::Error>;
    /// One hazard.
    fn hazard(&mut self, unit: UnitId, facts: HazardFacts) -> std::result::Result<(), Self::Error>;
    /// One suspension order.
    fn suspension(&mut self, s: Suspension) -> std::result::Result<(), Self::Error>;
}

/// A unit's text: what the map does not keep in memory (it is read from the store for
/// the few units a page or a card shows).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct UnitText {
    /// Name as registered.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Owner or person responsible.
    pub owner_name: String,
    /// Owner's phone.
    pub owner_phone: String,
}

/// What went wrong in a store, in the caller's terms.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no backend we have.
    #[error("unsupported database URL `{0}` (use sqlite://PATH or postgres://…)")]
    UnsupportedUrl(String),
    /// No such record.
    #[error("{what} {id} does not exist")]
    NotFound {
        /// Kind of record.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// The write contradicts what is recorded (e.g. closing a closed hazard).
    #[error("{0}")]
    Conflict(String),
    /// The write refers to a record that does not exist (a foreign key).
    #[error("a referenced record does not exist: {0}")]
    InvalidReference(String),
    /// A stored value that the domain does not accept (a corrupted or foreign row).
    #[error("bad stored value in {column}: {message}")]
    Corrupt {
        /// Table and column.
        column: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database itself failed.
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.is_foreign_key_violation()
        {
            return StoreError::InvalidReference(db.message().to_owned());
        }
        StoreError::Database(e)
    }
}

/// Result of a store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The interface both backends implement. Ids of new records are assigned by the store;
/// the `id` fields of records passed to `insert_unit` and `record_inspection` are ignored.
pub trait Store: Send + Sync {
    /// Whether the store holds no units and no regions.
    fn is_empty(&self) -> impl Future<Output = Result<bool>> + Send;

    /// Writes a whole dataset with its own ids, in one transaction (bulk load).
    fn import(&self, data: &Dataset) -> impl Future<Output = Result<()>> + Send;

    /// Reads everything back, each table ordered by id.
    fn load(&self) -> impl Future<Output = Result<Dataset>> + Send;

    /// The text of each of `ids` that exists (any number of ids; unknown ones are left out).
    fn unit_texts(
        &self,
        ids: &[UnitId],
    ) -> impl Future<Output = Result<std::collections::HashMap<UnitId, UnitText>>> + Send;

    /// Commits a change of facts and what `journal` makes of the ids assigned (events,
    /// notices, the idempotent replay, the clock watermark) in ONE transaction. Returns
    /// the ids and the events' sequence numbers.
    fn commit<F>(
        &self,
        change: Change<'_>,
        journal: F,
    ) -> impl Future<Output = Result<(Assigned, Vec<i64>)>> + Send
    where
        F: FnOnce(&Assigned) -> Journal + Send;

    /// Events of the log.
    fn events(&self, query: EventQuery) -> impl Future<Output = Result<Vec<Event>>> + Send;

    /// The last sequence number of the log (0 when empty).
    fn last_event_seq(&self) -> impl Future<Output = Result<i64>> + Send;

    /// The response recorded for an idempotency key.
    fn replay(&self, key: &str) -> impl Future<Output = Result<Option<Replay>>> + Send;

    /// The clock watermark: every clock-driven change up to it is logged.
    fn watermark(&self) -> impl Future<Output = Result<Option<DateTime<Utc>>>> + Send;

    /// Writes each unit's colour into its `colour` column.
    fn set_colours(&self, colours: &[(UnitId, Colour)]) -> impl Future<Output = Result<()>> + Send;

    /// A unit with every fact recorded about it.
    fn unit_record(&self, id: UnitId) -> impl Future<Output = Result<Option<UnitRecord>>> + Send;

    /// An attachment's media type and bytes.
    fn blob(&self, hash: &str) -> impl Future<Output = Result<Option<(String, Vec<u8>)>>> + Send;

    /// The targets set for an ISO week (`YYYY-Www`).
    fn targets(&self, week: &str) -> impl Future<Output = Result<Vec<Target>>> + Send;

    /// Undelivered notices whose next attempt is due.
    fn due_notices(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Notice>>> + Send;

    /// Records a delivery attempt.
    fn notice_outcome(
        &self,
        id: i64,
        outcome: NoticeOutcome,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Registers a unit (no event: bulk tools and tests; the API goes through `commit`).
    fn insert_unit(&self, unit: &Unit) -> impl Future<Output = Result<UnitId>> + Send {
        async move {
            let (assigned, _) = self
                .commit(Change::RegisterUnit(unit), |_| Journal::default())
                .await?;
            assigned.unit.ok_or_else(|| StoreError::Corrupt {
                column: "units.id",
                message: "no id assigned".into(),
            })
        }
    }

    /// Records a visit and the hazards it found (their `inspection` field is ignored).
    fn record_inspection(
        &self,
        inspection: &Inspection,
        hazards: &[Hazard],
    ) -> impl Future<Output = Result<(InspectionId, Vec<HazardId>)>> + Send {
        async move {
            let (assigned, _) = self
                .commit(
                    Change::Inspect {
                        inspection,
                        hazards,
                    },
                    |_| Journal::default(),
                )
                .await?;
            let id = assigned.inspection.ok_or_else(|| StoreError::Corrupt {
                column: "inspections.id",
                message: "no id assigned".into(),
            })?;
            Ok((id, assigned.hazards))
        }
    }

    /// Issues a yellow card for an open hazard with a new deadline.
    fn issue_yellow_card(
        &self,
        hazard: HazardId,
        at: DateTime<Utc>,
        deadline: DateTime<Utc>,
    ) -> impl Future<Output = Result<()>> + Send {
        self.commit_plain(Change::YellowCard {
            hazard,
            at,
            deadline,
        })
    }

    /// Closes (销号) an open hazard with its evidence.
    fn close_hazard(
        &self,
        hazard: HazardId,
        at: DateTime<Utc>,
        evidence: &str,
    ) -> impl Future<Output = Result<()>> + Send {
        self.commit_plain(Change::Close {
            hazard,
            at,
            evidence,
        })
    }

    /// Orders a unit to suspend business from `at`; a conflict if already suspended.
    fn suspend(&self, unit: UnitId, at: DateTime<Utc>) -> impl Future<Output = Result<()>> + Send {
        self.commit_plain(Change::Suspend { unit, at })
    }

    /// Lets a suspended unit resume at `at`; a conflict if not suspended.
    fn resume(&self, unit: UnitId, at: DateTime<Utc>) -> impl Future<Output = Result<()>> + Send {
        self.commit_plain(Change::Resume { unit, at })
    }

    /// Commits a change with no journal.
    fn commit_plain(&self, change: Change<'_>) -> impl Future<Output = Result<()>> + Send {
        async move {
            self.commit(change, |_| Journal::default()).await?;
            Ok(())
        }
    }
}

/// Either backend, chosen by URL at run time.
#[derive(Debug, Clone)]
pub enum AnyStore {
    /// The embedded SQLite file.
    Sqlite(sqlite::SqliteStore),
    /// PostgreSQL + PostGIS.
    Postgres(postgres::PgStore),
}

impl AnyStore {
    /// Opens (creating if needed) and migrates the store at `url`:
    /// `sqlite://PATH` or `postgres://…` / `postgresql://…`.
    pub async fn open(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(AnyStore::Sqlite(sqlite::SqliteStore::open(url).await?))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(AnyStore::Postgres(postgres::PgStore::open(url).await?))
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    /// A short name of the backend, for logs and `/healthz`.
    pub fn backend(&self) -> &'static str {
        match self {
            AnyStore::Sqlite(_) => "sqlite",
            AnyStore::Postgres(_) => "postgis",
        }
    }

    /// Units whose `colour` column is not filled yet (just imported, or stored before
    /// the column existed). The same query on both backends.
    pub async fn units_without_colour(&self) -> Result<Vec<UnitId>> {
        let ids: Vec<i64> = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT id FROM units WHERE colour IS NULL ORDER BY id"
        )
        .fetch_all(pool)
        .await?);
        ids.into_iter().map(rows::unit_id).collect()
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $call.await,
            AnyStore::Postgres($s) => $call.await,
        }
    };
}

impl Store for AnyStore {
    async fn is_empty(&self) -> Result<bool> {
        delegate!(self, s => s.is_empty())
    }
    async fn import(&self, data: &Dataset) -> Result<()> {
        delegate!(self, s => s.import(data))
    }
    async fn load(&self) -> Result<Dataset> {
        delegate!(self, s => s.load())
    }
    async fn unit_texts(
        &self,
        ids: &[UnitId],
    ) -> Result<std::collections::HashMap<UnitId, UnitText>> {
        delegate!(self, s => s.unit_texts(ids))
    }
    async fn commit<F>(&self, change: Change<'_>, journal: F) -> Result<(Assigned, Vec<i64>)>
    where
        F: FnOnce(&Assigned) -> Journal + Send,
    {
        delegate!(self, s => s.commit(change, journal))
    }
    async fn events(&self, query: EventQuery) -> Result<Vec<Event>> {
        delegate!(self, s => s.events(query))
    }
    async fn last_event_seq(&self) -> Result<i64> {
        delegate!(self, s => s.last_event_seq())
    }
    async fn replay(&self, key: &str) -> Result<Option<Replay>> {
        delegate!(self, s => s.replay(key))
    }
    async fn watermark(&self) -> Result<Option<DateTime<Utc>>> {
        delegate!(self, s => s.watermark())
    }
    async fn set_colours(&self, colours: &[(UnitId, Colour)]) -> Result<()> {
        delegate!(self, s => s.set_colours(colours))
    }
    async fn unit_record(&self, id: UnitId) -> Result<Option<UnitRecord>> {
        delegate!(self, s => s.unit_record(id))
    }
    async fn blob(&self, hash: &str) -> Result<Option<(String, Vec<u8>)>> {
        delegate!(self, s => s.blob(hash))
    }
    async fn targets(&self, week: &str) -> Result<Vec<Target>> {
        delegate!(self, s => s.targets(week))
    }
    async fn due_notices(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Notice>> {
        delegate!(self, s => s.due_notices(now, limit))
    }
    async fn notice_outcome(&self, id: i64, outcome: NoticeOutcome) -> Result<()> {
        delegate!(self, s => s.notice_outcome(id, outcome))
    }
}
