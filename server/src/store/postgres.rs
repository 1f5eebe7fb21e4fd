//! The PostgreSQL + PostGIS backend, for production.
//!
//! Bulk loads go through `UNNEST` of column arrays (thousands of rows per statement);
//! points and polygons are stored as PostGIS geometries in SRID 4326 and come back as
//! `lon`/`lat` or WKB, so decoding is shared with SQLite (`rows.rs`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};

use super::rows::{self, UnitTextRow, UnitValues, bind_unit};
use super::{Dataset, Result, UnitText, geometry};
use crate::domain::{Colour, Hazard, Inspection, NewUnit, Unit, UnitEdit, UnitId};

/// A PostgreSQL + PostGIS store.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Rows per bulk statement: large enough to amortise round trips, small enough to keep
/// each statement's arrays a few megabytes.
const BATCH: usize = 5_000;

impl PgStore {
    /// Connects to `postgres://…` and migrates (installing PostGIS in the database).
    pub async fn open(url: &str) -> Result<Self> {
        // Like the SQLite file, the database is created when missing, so that
        // `onemap demo --db postgres://…/onemap` works on a fresh server.
        if !Postgres::database_exists(url).await? {
            Postgres::create_database(url).await?;
        }
        let options: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(PgStore { pool })
    }

    /// The connection pool, for tests and tools that query PostGIS directly.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Moves the clock watermark to `w`.
pub(super) async fn set_watermark(
    tx: &mut Transaction<'_, Postgres>,
    w: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO clock (id, watermark) VALUES (1, $1) \
         ON CONFLICT (id) DO UPDATE SET watermark = excluded.watermark",
    )
    .bind(w)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A unit's point as read: PostGIS geometry as two numbers.
pub(super) const POINT: &str = "ST_X(geom) AS lon, ST_Y(geom) AS lat";

/// A region's polygon from its WKB, bound as `$6`: a PostGIS multipolygon in SRID 4326.
pub(super) const POLYGON: &str = "ST_Multi(ST_SetSRID(ST_GeomFromWKB($6), 4326))";

/// Every region, polygons as WKB.
pub(super) fn regions_sql() -> String {
    "SELECT id, level, parent_id, code, name, ST_AsBinary(geom) AS geom FROM regions".to_owned()
}

/// A write transaction.
pub(super) async fn begin_write(pool: &PgPool) -> Result<Transaction<'static, Postgres>> {
    Ok(pool.begin().await?)
}

/// A read-only transaction seeing one snapshot throughout.
pub(super) async fn begin_snapshot(pool: &PgPool) -> Result<Transaction<'static, Postgres>> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// The planner's row estimate for `table` (one of our own): a hint for allocating and
/// for the progress log, free where a count of ten million rows is not.
pub(super) async fn estimate(tx: &mut Transaction<'_, Postgres>, table: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE oid = $1::regclass",
    )
    .bind(table)
    .fetch_one(&mut **tx)
    .await?)
}

/// Registers a unit; returns the id PostgreSQL gave it.
pub(super) async fn insert_unit(tx: &mut Transaction<'_, Postgres>, u: &NewUnit) -> Result<i64> {
    let u = UnitValues::from(u);
    let q = sqlx::query_scalar(
        "INSERT INTO units (kind, name, address, owner_name, owner_phone, geom, micro_grid_id, \
         risk_level, batch, host_id, registered_at) \
         VALUES ($1, $2, $3, $4, $5, ST_SetSRID(ST_MakePoint($6, $7), 4326), $8, $9, $10, $11, \
         $12) RETURNING id",
    );
    Ok(bind_unit!(q, &u)
        .bind(u.registered_at)
        .fetch_one(&mut **tx)
        .await?)
}

/// Replaces a unit's standing facts; returns how many rows changed (0: no such unit).
pub(super) async fn update_unit(tx: &mut Transaction<'_, Postgres>, e: &UnitEdit) -> Result<u64> {
    let q = sqlx::query(
        "UPDATE units SET kind = $1, name = $2, address = $3, owner_name = $4, \
         owner_phone = $5, geom = ST_SetSRID(ST_MakePoint($6, $7), 4326), micro_grid_id = $8, \
         risk_level = $9, batch = $10, host_id = $11 WHERE id = $12",
    );
    let done = bind_unit!(q, &UnitValues::from(&e.unit))
        .bind(e.id.get())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

/// The text of each unit of `ids` that exists.
pub(super) async fn unit_texts(pool: &PgPool, ids: &[UnitId]) -> Result<HashMap<UnitId, UnitText>> {
    let raw: Vec<i64> = ids.iter().map(|i| i.get()).collect();
    let rows: Vec<UnitTextRow> = sqlx::query_as(
        "SELECT id, name, address, owner_name, owner_phone FROM units WHERE id = ANY($1)",
    )
    .bind(&raw)
    .fetch_all(pool)
    .await?;
    let mut out = HashMap::with_capacity(rows.len());
    rows::unit_texts(rows, &mut out)?;
    Ok(out)
}

/// Writes each unit's colour into its `colour` column, thousands a statement.
pub(super) async fn set_colours(pool: &PgPool, colours: &[(UnitId, Colour)]) -> Result<()> {
    let mut tx = pool.begin().await?;
    for chunk in colours.chunks(BATCH) {
        sqlx::query(
            "UPDATE units SET colour = t.colour \
             FROM UNNEST($1::bigint[], $2::text[]) AS t(id, colour) WHERE units.id = t.id",
        )
        .bind(chunk.iter().map(|(u, _)| u.get()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|(_, c)| c.as_str()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Writes a whole dataset with its own ids, in one transaction, thousands of rows a
/// statement (`UNNEST` of column arrays).
pub(super) async fn import(pool: &PgPool, data: &Dataset) -> Result<()> {
    let mut tx = pool.begin().await?;
    for chunk in data.regions.chunks(BATCH) {
        let geoms = chunk
            .iter()
            .map(|r| r.boundary.as_ref().map(geometry::to_wkb).transpose())
            .collect::<Result<Vec<_>>>()?;
        sqlx::query(
            "INSERT INTO regions (id, level, parent_id, code, name, geom) \
             SELECT id, level, parent_id, code, name, ST_SetSRID(ST_GeomFromWKB(wkb), 4326) \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[]) \
               AS t(id, level, parent_id, code, name, wkb)",
        )
        .bind(chunk.iter().map(|r| r.id.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.level.as_str()).collect::<Vec<_>>())
        .bind(
            chunk
                .iter()
                .map(|r| r.parent.as_ref().map(|p| p.as_str()))
                .collect::<Vec<_>>(),
        )
        .bind(chunk.iter().map(|r| r.code.as_deref()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|r| r.name.as_str()).collect::<Vec<_>>())
        .bind(geoms)
        .execute(&mut *tx)
        .await?;
    }
    import_units(&mut tx, &data.units).await?;
    import_inspections(&mut tx, &data.inspections).await?;
    import_hazards(&mut tx, &data.hazards).await?;
    for chunk in data.suspensions.chunks(BATCH) {
        sqlx::query(
            "INSERT INTO suspensions (unit_id, started_at, ended_at) \
             SELECT * FROM UNNEST($1::bigint[], $2::timestamptz[], $3::timestamptz[])",
        )
        .bind(chunk.iter().map(|s| s.unit.get()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|s| s.started_at).collect::<Vec<_>>())
        .bind(chunk.iter().map(|s| s.ended_at).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    }
    // Explicit ids were written: move each identity past them.
    for table in ["units", "inspections", "hazards", "suspensions"] {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
             COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
        );
        sqlx::query(&sql).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn import_units(tx: &mut Transaction<'_, Postgres>, units: &[Unit]) -> Result<()> {
    for chunk in units.chunks(BATCH) {
        sqlx::query(
            "INSERT INTO units (id, kind, name, address, owner_name, owner_phone, geom, micro_grid_id, \
             risk_level, batch, host_id, registered_at) \
             SELECT id, kind, name, address, owner_name, owner_phone, \
                    ST_SetSRID(ST_MakePoint(lon, lat), 4326), micro_grid_id, risk_level, batch, host_id, registered_at \
             FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
                         $7::float8[], $8::float8[], $9::text[], $10::text[], $11::text[], $12::bigint[], \
                         $13::timestamptz[]) \
               AS t(id, kind, name, address, owner_name, owner_phone, lon, lat, micro_grid_id, risk_level, \
                    batch, host_id, registered_at)",
        )
        .bind(chunk.iter().map(|u| u.id.get()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|u| u.kind.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|u| u.name.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|u| u.address.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|u| u.owner_name.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|u| u.owner_phone.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|u| u.location.x()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|u| u.location.y()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|u| u.micro_grid.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|u| u.risk.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|u| u.batch.map(|b| b.as_str())).collect::<Vec<_>>())
        .bind(chunk.iter().map(|u| u.host.map(UnitId::get)).collect::<Vec<_>>())
        .bind(chunk.iter().map(|u| u.registered_at).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn import_inspections(tx: &mut Transaction<'_, Postgres>, all: &[Inspection]) -> Result<()> {
    for chunk in all.chunks(BATCH) {
        sqlx::query(
            "INSERT INTO inspections (id, unit_id, kind, inspector, inspected_at, signature, photos, \
             comprehensive, note) \
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::timestamptz[], \
                                  $6::text[], $7::text[], $8::boolean[], $9::text[])",
        )
        .bind(chunk.iter().map(|i| i.id.get()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|i| i.unit.get()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|i| i.kind.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|i| i.inspector.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|i| i.at).collect::<Vec<_>>())
        .bind(chunk.iter().map(|i| i.signature.as_deref()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|i| rows::photos_json(&i.photos)).collect::<Vec<_>>())
        .bind(chunk.iter().map(|i| i.comprehensive).collect::<Vec<_>>())
        .bind(chunk.iter().map(|i| i.note.as_str()).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn import_hazards(tx: &mut Transaction<'_, Postgres>, all: &[Hazard]) -> Result<()> {
    for chunk in all.chunks(BATCH) {
        sqlx::query(
            "INSERT INTO hazards (id, unit_id, inspection_id, category, hazard_type, severity, stage, \
             found_at, deadline, yellow_card_at, closed_at, evidence, comprehensive) \
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], \
                                  $6::text[], $7::text[], $8::timestamptz[], $9::timestamptz[], \
                                  $10::timestamptz[], $11::timestamptz[], $12::text[], \
                                  $13::boolean[])",
        )
        .bind(chunk.iter().map(|h| h.id.get()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|h| h.unit.get()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|h| h.inspection.get()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|h| h.category.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|h| h.hazard_type.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|h| h.severity.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|h| h.stage.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|h| h.found_at).collect::<Vec<_>>())
        .bind(chunk.iter().map(|h| h.deadline).collect::<Vec<_>>())
        .bind(chunk.iter().map(|h| h.yellow_card_at).collect::<Vec<_>>())
        .bind(chunk.iter().map(|h| h.closed_at).collect::<Vec<_>>())
        .bind(chunk.iter().map(|h| h.evidence.as_deref()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|h| h.comprehensive).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
