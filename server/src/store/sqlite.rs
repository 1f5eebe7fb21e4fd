//! The embedded SQLite backend: one file, WAL journal, `synchronous=FULL` so that an
//! acknowledged write survives a crash. What only SQLite does is here: its pragmas,
//! `BEGIN IMMEDIATE`, points as two columns, lists as `json_each`, row-by-row import.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};

use super::rows::{self, UnitTextRow, UnitValues, bind_unit};
use super::{Dataset, Result, UnitText, geometry};
use crate::domain::{Colour, NewUnit, UnitEdit, UnitId};

/// A SQLite file store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

impl SqliteStore {
    /// Opens `sqlite://PATH`, creating the file if needed, and migrates it.
    pub async fn open(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteStore { pool })
    }

    /// The connection pool, for tests and tools that inspect the file.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// A unit's point as read: two columns.
pub(super) const POINT: &str = "lon, lat";

/// A region's polygon from its WKB, bound as `$6`: SQLite keeps the WKB itself.
pub(super) const POLYGON: &str = "$6";

/// Every region, polygons as WKB.
pub(super) fn regions_sql() -> String {
    "SELECT id, level, parent_id, code, name, geom FROM regions".to_owned()
}

/// A write transaction. IMMEDIATE takes the write lock at once, so a transaction that
/// reads before it writes cannot fail on a snapshot another writer moved on.
pub(super) async fn begin_write(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

/// A read transaction: in WAL mode, one snapshot from its first read.
pub(super) async fn begin_snapshot(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>> {
    Ok(pool.begin().await?)
}

/// How many rows `table` (one of our own) holds: SQLite keeps no estimate, and counts
/// fast enough for what it holds.
pub(super) async fn estimate(tx: &mut Transaction<'_, Sqlite>, table: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&mut **tx)
        .await?)
}

const INSERT_UNIT: &str = "INSERT INTO units (kind, name, address, owner_name, owner_phone, \
     lon, lat, micro_grid_id, risk_level, batch, host_id, registered_at, id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id";

/// A unit's row; `id` is `None` to let SQLite choose it.
fn unit_query<'a>(
    u: &UnitValues<'a>,
    id: Option<i64>,
) -> sqlx::query::Query<'a, Sqlite, sqlx::sqlite::SqliteArguments<'a>> {
    bind_unit!(sqlx::query(INSERT_UNIT), u)
        .bind(u.registered_at)
        .bind(id)
}

/// Registers a unit; returns the id SQLite gave it.
pub(super) async fn insert_unit(tx: &mut Transaction<'_, Sqlite>, u: &NewUnit) -> Result<i64> {
    let row = unit_query(&u.into(), None).fetch_one(&mut **tx).await?;
    Ok(row.try_get(0)?)
}

/// Replaces a unit's standing facts; returns how many rows changed (0: no such unit).
pub(super) async fn update_unit(tx: &mut Transaction<'_, Sqlite>, e: &UnitEdit) -> Result<u64> {
    let q = sqlx::query(
        "UPDATE units SET kind = $1, name = $2, address = $3, owner_name = $4, \
         owner_phone = $5, lon = $6, lat = $7, micro_grid_id = $8, risk_level = $9, \
         batch = $10, host_id = $11 WHERE id = $12",
    );
    let done = bind_unit!(q, &UnitValues::from(&e.unit))
        .bind(e.id.get())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

/// `[a, b, …]` as JSON: how a list of numbers or words goes into one bind parameter
/// (`json_each`); the values are ids and words of a fixed vocabulary, nothing to escape.
fn json_list<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    let items: Vec<String> = items.map(|v| v.to_string()).collect();
    format!("[{}]", items.join(","))
}

/// The text of each unit of `ids` that exists.
pub(super) async fn unit_texts(
    pool: &SqlitePool,
    ids: &[UnitId],
) -> Result<HashMap<UnitId, UnitText>> {
    let rows: Vec<UnitTextRow> = sqlx::query_as(
        "SELECT id, name, address, owner_name, owner_phone FROM units \
         WHERE id IN (SELECT value FROM json_each($1))",
    )
    .bind(json_list(ids.iter().map(|i| i.get())))
    .fetch_all(pool)
    .await?;
    let mut out = HashMap::with_capacity(rows.len());
    rows::unit_texts(rows, &mut out)?;
    Ok(out)
}

/// Writes each unit's colour into its `colour` column: a few statements, not one a unit.
pub(super) async fn set_colours(pool: &SqlitePool, colours: &[(UnitId, Colour)]) -> Result<()> {
    let mut tx = pool.begin().await?;
    for chunk in colours.chunks(5_000) {
        let pairs = json_list(
            chunk
                .iter()
                .map(|(u, c)| format!("[{},\"{}\"]", u.get(), c.as_str())),
        );
        sqlx::query(
            "UPDATE units SET colour = t.colour FROM (SELECT value ->> 0 AS id, \
             value ->> 1 AS colour FROM json_each($1)) AS t WHERE units.id = t.id",
        )
        .bind(pairs)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Writes a whole dataset with its own ids, in one transaction, a row at a time (SQLite
/// has no round trip to save).
pub(super) async fn import(pool: &SqlitePool, data: &Dataset) -> Result<()> {
    let mut tx = pool.begin().await?;
    for r in &data.regions {
        let geom = r.boundary.as_ref().map(geometry::to_wkb).transpose()?;
        sqlx::query(
            "INSERT INTO regions (id, level, parent_id, code, name, geom) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(r.id.as_str())
        .bind(r.level.as_str())
        .bind(r.parent.as_ref().map(|p| p.as_str()))
        .bind(&r.code)
        .bind(&r.name)
        .bind(geom)
        .execute(&mut *tx)
        .await?;
    }
    for u in &data.units {
        unit_query(&u.into(), Some(u.id.get()))
            .execute(&mut *tx)
            .await?;
    }
    for i in &data.inspections {
        sqlx::query(
            "INSERT INTO inspections (id, unit_id, kind, inspector, inspected_at, signature, \
             photos, comprehensive, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(i.id.get())
        .bind(i.unit.get())
        .bind(i.kind.as_str())
        .bind(&i.inspector)
        .bind(i.at)
        .bind(&i.signature)
        .bind(rows::photos_json(&i.photos))
        .bind(i.comprehensive)
        .bind(&i.note)
        .execute(&mut *tx)
        .await?;
    }
    for h in &data.hazards {
        sqlx::query(
            "INSERT INTO hazards (id, unit_id, inspection_id, category, hazard_type, severity, \
             stage, found_at, deadline, yellow_card_at, closed_at, evidence, comprehensive) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(h.id.get())
        .bind(h.unit.get())
        .bind(h.inspection.get())
        .bind(h.category.as_str())
        .bind(&h.hazard_type)
        .bind(h.severity.as_str())
        .bind(h.stage.as_str())
        .bind(h.found_at)
        .bind(h.deadline)
        .bind(h.yellow_card_at)
        .bind(h.closed_at)
        .bind(&h.evidence)
        .bind(h.comprehensive)
        .execute(&mut *tx)
        .await?;
    }
    for s in &data.suspensions {
        sqlx::query("INSERT INTO suspensions (unit_id, started_at, ended_at) VALUES ($1, $2, $3)")
            .bind(s.unit.get())
            .bind(s.started_at)
            .bind(s.ended_at)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
