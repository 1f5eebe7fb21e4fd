//! Where writes are committed: one interface ([`AnyStore`]), one module per backend.
//!
//! - [`sqlite`]: the embedded default, a single file; nothing to install.
//! - [`postgres`]: PostgreSQL + PostGIS for production; geometry columns in SRID 4326
//!   with GiST indexes, so QGIS or any PostGIS tool reads the tables directly.
//!
//! Both run their own migrations (`server/migrations/{sqlite,postgres}`) on open and
//! pass the same conformance suite (`tests/store_conformance.rs`). [`AnyStore`] is the
//! one interface; what both backends run alike is written once against it
//! ([`commit`]: a change and its journal in ONE transaction; [`read`]; [`load`]: the map
//! at start), and each backend's module holds only what differs — connection and
//! pragmas, `BEGIN IMMEDIATE`, PostGIS geometry, `UNNEST` against `json_each`, `COPY`.

/// Runs `$body` once per backend with `$pool` bound to that backend's pool (and
/// `$dialect`, when named, to its module, for the few lines that differ): the same
/// source text compiled for SQLite and for PostgreSQL, so a query that is the same on
/// both is written once (sqlx binds `$N` on SQLite too).
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        on_pool!($store, |$pool, _dialect| $body)
    };
    ($store:expr, |$pool:ident, $dialect:ident| $body:expr) => {
        match $store {
            $crate::store::AnyStore::Sqlite(s) => {
                #[allow(unused_imports)]
                use $crate::store::sqlite as $dialect;
                let $pool = s.pool();
                $body
            }
            $crate::store::AnyStore::Postgres(s) => {
                #[allow(unused_imports)]
                use $crate::store::postgres as $dialect;
                let $pool = s.pool();
                $body
            }
        }
    };
}

pub mod auth;
pub mod briefing;
pub mod bulk;
pub mod commit;
pub mod export;
pub mod fix;
mod geometry;
pub mod import;
pub mod journal;
pub mod load;
pub mod postgres;
pub mod read;
mod rows;
pub mod sqlite;

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::domain::{
    Batch, Colour, Hazard, HazardFacts, Inspection, Location, Region, RiskLevel, Suspension, Unit,
    UnitId, UnitKind,
};
pub use journal::{
    Assigned, AttachmentInfo, Event, EventKind, EventQuery, Journal, NewEvent, NewNotice, Notice,
    Replay, UnitRecord,
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
    /// Where it is.
    pub location: Location,
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
/// never sit in memory twice ([`AnyStore::stream_map`], which makes the sink from
/// the regions). Units come first, then the facts, each table in no particular
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

    /// Writes a whole dataset with its own ids, in one transaction (bulk load).
    pub async fn import(&self, data: &Dataset) -> Result<()> {
        on_pool!(self, |pool, dialect| dialect::import(pool, data).await)
    }

    /// The text of each of `ids` that exists (any number of ids; unknown ones are left
    /// out).
    pub async fn unit_texts(&self, ids: &[UnitId]) -> Result<HashMap<UnitId, UnitText>> {
        on_pool!(self, |pool, dialect| dialect::unit_texts(pool, ids).await)
    }

    /// Writes each unit's colour into its `colour` column.
    pub async fn set_colours(&self, colours: &[(UnitId, Colour)]) -> Result<()> {
        on_pool!(self, |pool, dialect| dialect::set_colours(pool, colours)
            .await)
    }
}
