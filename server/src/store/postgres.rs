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

use super::journal::{
    Assigned, Change, Event, EventQuery, Journal, Notice, Replay, Target, UnitRecord,
};
use super::rows::{
    self, AttachmentRow, EventRow, HazardRow, InspectionRow, NoticeRow, RegionRow, SuspensionRow,
    TargetRow, UnitRow,
};
use super::{
    Dataset, MapSink, MapUnit, NoticeOutcome, Result, Store, StoreError, UnitText, geometry,
};
use crate::domain::HazardFacts;
use crate::domain::time::Stamp;

const EVENT_COLUMNS: &str = "seq, at, kind, actor, unit_id, unit_name, hazard_id, region_id, colour_before, \
     colour_after, before::text AS before, after::text AS after";
use crate::domain::{Colour, Hazard, HazardId, Inspection, InspectionId, Unit, UnitId};

/// Every region, parents before children.
const REGIONS_SELECT: &str = "SELECT id, level, parent_id, code, name, ST_AsBinary(geom) AS geom FROM regions \
     ORDER BY CASE level WHEN 'province' THEN 0 WHEN 'county' THEN 1 WHEN 'town' THEN 2 \
     WHEN 'area' THEN 3 WHEN 'group' THEN 4 WHEN 'village' THEN 5 WHEN 'grid' THEN 6 ELSE 7 END, \
     id COLLATE \"C\"";

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

    /// Streams what the map needs at start into `sink`, in one read-only snapshot:
    /// regions, then units without their text, each unit's first inspection, hazards and
    /// suspensions. Rows are decoded in place (no per-row allocation) and logged every
    /// million, so a province's start-up shows its progress.
    pub async fn stream_map<S: MapSink>(
        &self,
        start: impl FnOnce(Vec<crate::domain::Region>) -> Result<S, S::Error>,
    ) -> Result<S, S::Error> {
        use sqlx::Row;
        use tokio_stream::StreamExt;
        let started = std::time::Instant::now();
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        let regions: Vec<RegionRow> = sqlx::query_as(REGIONS_SELECT)
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        let mut sink = start(rows::convert(regions)?)?;
        // The planner's row estimates: a hint for allocating and for the progress log.
        let estimate = |table: &'static str| {
            sqlx::query_scalar::<_, i64>(
                "SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE oid = $1::regclass",
            )
            .bind(table)
        };
        let expected = estimate("units")
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        let hazards_expected = estimate("hazards")
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        // A little over the estimate: it is approximate, and growing a vector of ten
        // million entries would copy it.
        let hint = |n: i64| usize::try_from(n).unwrap_or(0) / 100 * 101;
        sink.reserve(hint(expected), hint(hazards_expected));
        tracing::info!(regions_took = ?started.elapsed(), units_expected = expected, "loading the map");
        let corrupt = |column: &'static str, e: &dyn std::fmt::Display| StoreError::Corrupt {
            column,
            message: e.to_string(),
        };
        let mut stream = sqlx::query(
            "SELECT id, kind, ST_X(geom), ST_Y(geom), micro_grid_id, risk_level, batch, host_id, \
             registered_at FROM units",
        )
        .fetch(&mut *tx);
        let mut n: u64 = 0;
        while let Some(row) = stream.next().await {
            let row = row.map_err(StoreError::from)?;
            let get = |i: usize| -> Result<&str> { Ok(row.try_get::<&str, _>(i)?) };
            let id: i64 = row.try_get(0).map_err(StoreError::from)?;
            let host: Option<i64> = row.try_get(7).map_err(StoreError::from)?;
            let batch: Option<&str> = row.try_get(6).map_err(StoreError::from)?;
            sink.unit(MapUnit {
                id: rows::unit_id(id)?,
                kind: get(1)?.parse().map_err(|e| corrupt("units.kind", &e))?,
                lon: row.try_get(2).map_err(StoreError::from)?,
                lat: row.try_get(3).map_err(StoreError::from)?,
                micro_grid: get(4)?,
                risk: get(5)?
                    .parse()
                    .map_err(|e| corrupt("units.risk_level", &e))?,
                batch: batch
                    .map(str::parse)
                    .transpose()
                    .map_err(|e| corrupt("units.batch", &e))?,
                host: host.map(rows::unit_id).transpose()?,
                registered_at: row.try_get(8).map_err(StoreError::from)?,
            })?;
            n += 1;
            if n.is_multiple_of(1_000_000) {
                tracing::info!(units = n, of = expected, elapsed = ?started.elapsed(), "loading the map");
            }
        }
        drop(stream);
        sink.units_done();
        let mut stream =
            sqlx::query("SELECT unit_id, min(inspected_at) FROM inspections GROUP BY unit_id")
                .fetch(&mut *tx);
        while let Some(row) = stream.next().await {
            let row = row.map_err(StoreError::from)?;
            let unit: i64 = row.try_get(0).map_err(StoreError::from)?;
            sink.first_inspection(
                rows::unit_id(unit)?,
                row.try_get(1).map_err(StoreError::from)?,
            )?;
        }
        drop(stream);
        tracing::info!(units = n, elapsed = ?started.elapsed(), "loading the map: units and inspections read");
        let mut stream = sqlx::query(
            "SELECT id, unit_id, severity, stage, found_at, deadline, yellow_card_at, closed_at FROM hazards",
        )
        .fetch(&mut *tx);
        let mut hazards: u64 = 0;
        while let Some(row) = stream.next().await {
            let row = row.map_err(StoreError::from)?;
            let id: i64 = row.try_get(0).map_err(StoreError::from)?;
            let unit: i64 = row.try_get(1).map_err(StoreError::from)?;
            let severity: &str = row.try_get(2).map_err(StoreError::from)?;
            let stage: &str = row.try_get(3).map_err(StoreError::from)?;
            let stamp = |i: usize| -> Result<Option<Stamp>> {
                let t: Option<DateTime<Utc>> = row.try_get(i)?;
                Ok(t.map(Stamp::of))
            };
            let found: DateTime<Utc> = row.try_get(4).map_err(StoreError::from)?;
            sink.hazard(
                rows::unit_id(unit)?,
                HazardFacts {
                    id: new_id(id, "hazards.id")?,
                    found_at: Stamp::of(found),
                    deadline: stamp(5)?,
                    yellow_card_at: stamp(6)?,
                    closed_at: stamp(7)?,
                    severity: severity
                        .parse()
                        .map_err(|e| corrupt("hazards.severity", &e))?,
                    stage: stage.parse().map_err(|e| corrupt("hazards.stage", &e))?,
                },
            )?;
            hazards += 1;
        }
        drop(stream);
        let suspensions: Vec<SuspensionRow> =
            sqlx::query_as("SELECT unit_id, started_at, ended_at FROM suspensions")
                .fetch_all(&mut *tx)
                .await
                .map_err(StoreError::from)?;
        for s in rows::convert(suspensions)? {
            sink.suspension(s)?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        tracing::info!(units = n, hazards, elapsed = ?started.elapsed(), "loading the map: read");
        Ok(sink)
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

fn new_id<T: std::str::FromStr>(raw: i64, column: &'static str) -> Result<T> {
    raw.to_string().parse().map_err(|_| StoreError::Corrupt {
        column,
        message: format!("assigned id {raw} is not positive"),
    })
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
            "INSERT INTO inspections (id, unit_id, kind, inspector, inspected_at, signature, photos) \
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::timestamptz[], \
                                  $6::text[], $7::text[])",
        )
        .bind(chunk.iter().map(|i| i.id.get()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|i| i.unit.get()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|i| i.kind.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|i| i.inspector.as_str()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|i| i.at).collect::<Vec<_>>())
        .bind(chunk.iter().map(|i| i.signature.as_deref()).collect::<Vec<_>>())
        .bind(chunk.iter().map(|i| rows::photos_json(&i.photos)).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn import_hazards(tx: &mut Transaction<'_, Postgres>, all: &[Hazard]) -> Result<()> {
    for chunk in all.chunks(BATCH) {
        sqlx::query(
            "INSERT INTO hazards (id, unit_id, inspection_id, category, hazard_type, severity, stage, \
             found_at, deadline, yellow_card_at, closed_at, evidence) \
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], \
                                  $6::text[], $7::text[], $8::timestamptz[], $9::timestamptz[], \
                                  $10::timestamptz[], $11::timestamptz[], $12::text[])",
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
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Inserts hazards found by one new inspection, returning their ids.
async fn insert_hazards(
    tx: &mut Transaction<'_, Postgres>,
    hazards: &[Hazard],
    inspection: InspectionId,
) -> Result<Vec<HazardId>> {
    let mut ids = Vec::with_capacity(hazards.len());
    for h in hazards {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO hazards (unit_id, inspection_id, category, hazard_type, severity, stage, \
             found_at, deadline, yellow_card_at, closed_at, evidence) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(h.unit.get())
        .bind(inspection.get())
        .bind(h.category.as_str())
        .bind(&h.hazard_type)
        .bind(h.severity.as_str())
        .bind(h.stage.as_str())
        .bind(h.found_at)
        .bind(h.deadline)
        .bind(h.yellow_card_at)
        .bind(h.closed_at)
        .bind(&h.evidence)
        .fetch_one(&mut **tx)
        .await?;
        ids.push(new_id(id, "hazards.id")?);
    }
    Ok(ids)
}

async fn exists(tx: &mut Transaction<'_, Postgres>, table: &'static str, id: i64) -> Result<bool> {
    // `table` is one of our own constants, never user input.
    let sql = format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE id = $1)");
    Ok(sqlx::query_scalar(&sql)
        .bind(id)
        .fetch_one(&mut **tx)
        .await?)
}

impl Store for PgStore {
    async fn unit_texts(&self, ids: &[UnitId]) -> Result<HashMap<UnitId, UnitText>> {
        let raw: Vec<i64> = ids.iter().map(|i| i.get()).collect();
        let rows = sqlx::query_as::<_, (i64, String, String, String, String)>(
            "SELECT id, name, address, owner_name, owner_phone FROM units WHERE id = ANY($1)",
        )
        .bind(&raw)
        .fetch_all(&self.pool)
        .await?;
        let mut out = HashMap::with_capacity(rows.len());
        rows::unit_texts(rows, &mut out)?;
        Ok(out)
    }

    async fn is_empty(&self) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM regions) + (SELECT count(*) FROM units)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(n == 0)
    }

    async fn import(&self, data: &Dataset) -> Result<()> {
        let mut tx = self.pool.begin().await?;
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
            .bind(chunk.iter().map(|r| r.parent.as_ref().map(|p| p.as_str())).collect::<Vec<_>>())
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

    async fn load(&self) -> Result<Dataset> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await?;
        let regions: Vec<RegionRow> = sqlx::query_as(REGIONS_SELECT).fetch_all(&mut *tx).await?;
        let units: Vec<UnitRow> = sqlx::query_as(
            "SELECT id, kind, name, address, owner_name, owner_phone, ST_X(geom) AS lon, ST_Y(geom) AS lat, \
             micro_grid_id, risk_level, batch, host_id, registered_at FROM units ORDER BY id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let inspections: Vec<InspectionRow> = sqlx::query_as(
            "SELECT id, unit_id, kind, inspector, inspected_at, signature, photos FROM inspections ORDER BY id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let hazards: Vec<HazardRow> = sqlx::query_as(
            "SELECT id, unit_id, inspection_id, category, hazard_type, severity, stage, found_at, \
             deadline, yellow_card_at, closed_at, evidence FROM hazards ORDER BY id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let suspensions: Vec<SuspensionRow> =
            sqlx::query_as("SELECT unit_id, started_at, ended_at FROM suspensions ORDER BY id")
                .fetch_all(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(Dataset {
            regions: rows::convert(regions)?,
            units: rows::convert(units)?,
            inspections: rows::convert(inspections)?,
            hazards: rows::convert(hazards)?,
            suspensions: rows::convert(suspensions)?,
        })
    }

    async fn commit<F>(&self, change: Change<'_>, journal: F) -> Result<(Assigned, Vec<i64>)>
    where
        F: FnOnce(&Assigned) -> Journal + Send,
    {
        let mut tx = self.pool.begin().await?;
        let assigned = apply_change(&mut tx, change).await?;
        let journal = journal(&assigned);
        let mut seqs = Vec::with_capacity(journal.events.len());
        for Event { seq, event: e } in &journal.events {
            let seq: i64 = sqlx::query_scalar(
                "INSERT INTO events (seq, at, kind, actor, unit_id, unit_name, hazard_id, region_id, colour_before, \
                 colour_after, before, after) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12::jsonb) RETURNING seq",
            )
            .bind(seq)
            .bind(e.at)
            .bind(e.kind.as_str())
            .bind(&e.actor)
            .bind(e.unit.map(UnitId::get))
            .bind(e.unit_name.as_deref())
            .bind(e.hazard.map(HazardId::get))
            .bind(e.region.as_ref().map(|r| r.as_str()))
            .bind(e.colour_before.map(|c| c.as_str()))
            .bind(e.colour_after.map(|c| c.as_str()))
            .bind(e.before.to_string())
            .bind(e.after.to_string())
            .fetch_one(&mut *tx)
            .await?;
            seqs.push(seq);
        }
        for e in &journal.events {
            if let (Some(unit), Some(colour)) = (e.event.unit, e.event.colour_after) {
                sqlx::query("UPDATE units SET colour = $1 WHERE id = $2")
                    .bind(colour.as_str())
                    .bind(unit.get())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let now = Utc::now();
        for n in &journal.notices {
            sqlx::query(
                "INSERT INTO notices (event_seq, unit_id, recipient, phone, message, created_at, \
                 next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
            )
            .bind(seqs.first().copied())
            .bind(n.unit.get())
            .bind(&n.recipient)
            .bind(&n.phone)
            .bind(&n.message)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(r) = &journal.replay {
            sqlx::query(
                "INSERT INTO idempotency (key, fingerprint, status, response, created_at) \
                 VALUES ($1, $2, $3, $4::jsonb, $5)",
            )
            .bind(&r.key)
            .bind(&r.fingerprint)
            .bind(i32::from(r.status))
            .bind(r.response.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(w) = journal.watermark {
            set_watermark(&mut tx, w).await?;
        }
        tx.commit().await?;
        Ok((assigned, seqs))
    }

    async fn events(&self, q: EventQuery) -> Result<Vec<Event>> {
        let order = if q.newest_first { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE ($1::bigint IS NULL OR unit_id = $1) \
             AND seq > $2 ORDER BY seq {order} LIMIT $3"
        );
        let after = if q.newest_first {
            0
        } else {
            q.after.unwrap_or(0)
        };
        let rows: Vec<EventRow> = sqlx::query_as(&sql)
            .bind(q.unit.map(UnitId::get))
            .bind(after)
            .bind(i64::from(q.limit))
            .fetch_all(&self.pool)
            .await?;
        rows::convert(rows)
    }

    async fn last_event_seq(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar::<_, Option<i64>>("SELECT max(seq) FROM events")
                .fetch_one(&self.pool)
                .await?
                .unwrap_or(0),
        )
    }

    async fn replay(&self, key: &str) -> Result<Option<Replay>> {
        let row: Option<(String, String, i64, String)> = sqlx::query_as(
            "SELECT key, fingerprint, status::bigint, response::text FROM idempotency WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(key, fingerprint, status, response)| {
            rows::replay(key, fingerprint, status, &response)
        })
        .transpose()
    }

    async fn set_colours(&self, colours: &[(UnitId, Colour)]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
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

    async fn watermark(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(
            sqlx::query_scalar("SELECT watermark FROM clock WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn unit_record(&self, id: UnitId) -> Result<Option<UnitRecord>> {
        let mut tx = self.pool.begin().await?;
        let unit: Option<UnitRow> = sqlx::query_as(
            "SELECT id, kind, name, address, owner_name, owner_phone, ST_X(geom) AS lon, \
             ST_Y(geom) AS lat, micro_grid_id, risk_level, batch, host_id, registered_at \
             FROM units WHERE id = $1",
        )
        .bind(id.get())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(unit) = unit else { return Ok(None) };
        let inspections: Vec<InspectionRow> = sqlx::query_as(
            "SELECT id, unit_id, kind, inspector, inspected_at, signature, photos FROM inspections \
             WHERE unit_id = $1 ORDER BY id",
        )
        .bind(id.get())
        .fetch_all(&mut *tx)
        .await?;
        let hazards: Vec<HazardRow> = sqlx::query_as(
            "SELECT id, unit_id, inspection_id, category, hazard_type, severity, stage, found_at, \
             deadline, yellow_card_at, closed_at, evidence FROM hazards WHERE unit_id = $1 ORDER BY id",
        )
        .bind(id.get())
        .fetch_all(&mut *tx)
        .await?;
        let suspensions: Vec<SuspensionRow> = sqlx::query_as(
            "SELECT unit_id, started_at, ended_at FROM suspensions WHERE unit_id = $1 ORDER BY id",
        )
        .bind(id.get())
        .fetch_all(&mut *tx)
        .await?;
        let attachments: Vec<AttachmentRow> = sqlx::query_as(
            "SELECT a.hash, a.kind, b.content_type, b.size, a.created_at FROM attachments a \
             JOIN blobs b ON b.hash = a.hash WHERE a.unit_id = $1 ORDER BY a.id",
        )
        .bind(id.get())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(UnitRecord {
            unit: unit.try_into()?,
            inspections: rows::convert(inspections)?,
            hazards: rows::convert(hazards)?,
            suspensions: rows::convert(suspensions)?,
            attachments: attachments.into_iter().map(Into::into).collect(),
        }))
    }

    async fn blob(&self, hash: &str) -> Result<Option<(String, Vec<u8>)>> {
        Ok(
            sqlx::query_as("SELECT content_type, data FROM blobs WHERE hash = $1")
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn targets(&self, week: &str) -> Result<Vec<Target>> {
        let rows: Vec<TargetRow> = sqlx::query_as(
            "SELECT group_id, week, closures::bigint AS closures, set_by, set_at FROM targets \
             WHERE week = $1 ORDER BY group_id",
        )
        .bind(week)
        .fetch_all(&self.pool)
        .await?;
        rows::convert(rows)
    }

    async fn due_notices(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Notice>> {
        let rows: Vec<NoticeRow> = sqlx::query_as(
            "SELECT id, event_seq, unit_id, recipient, phone, message, attempts FROM notices \
             WHERE delivered_at IS NULL AND next_attempt_at <= $1 ORDER BY id LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows::convert(rows)
    }

    async fn notice_outcome(&self, id: i64, outcome: NoticeOutcome) -> Result<()> {
        let q = match outcome {
            NoticeOutcome::Delivered(at) => sqlx::query(
                "UPDATE notices SET delivered_at = $1, attempts = attempts + 1, last_error = NULL \
                 WHERE id = $2",
            )
            .bind(at),
            NoticeOutcome::Failed { error, retry_at } => sqlx::query(
                "UPDATE notices SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 \
                 WHERE id = $3",
            )
            .bind(error)
            .bind(retry_at),
        };
        q.bind(id).execute(&self.pool).await?;
        Ok(())
    }
}

/// Applies a change inside the write transaction.
async fn apply_change(tx: &mut Transaction<'_, Postgres>, change: Change<'_>) -> Result<Assigned> {
    let mut assigned = Assigned::default();
    match change {
        Change::Nothing => {}
        Change::RegisterUnit(unit) => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO units (kind, name, address, owner_name, owner_phone, geom, micro_grid_id, \
                 risk_level, batch, host_id, registered_at) \
                 VALUES ($1, $2, $3, $4, $5, ST_SetSRID(ST_MakePoint($6, $7), 4326), $8, $9, $10, $11, $12) \
                 RETURNING id",
            )
            .bind(unit.kind.as_str())
            .bind(&unit.name)
            .bind(&unit.address)
            .bind(&unit.owner_name)
            .bind(&unit.owner_phone)
            .bind(unit.location.x())
            .bind(unit.location.y())
            .bind(unit.micro_grid.as_str())
            .bind(unit.risk.as_str())
            .bind(unit.batch.map(|b| b.as_str()))
            .bind(unit.host.map(UnitId::get))
            .bind(unit.registered_at)
            .fetch_one(&mut **tx)
            .await?;
            assigned.unit = Some(new_id(id, "units.id")?);
        }
        Change::EditUnit(u) => {
            let done = sqlx::query(
                "UPDATE units SET kind = $1, name = $2, address = $3, owner_name = $4, owner_phone = $5, \
                 geom = ST_SetSRID(ST_MakePoint($6, $7), 4326), micro_grid_id = $8, risk_level = $9, \
                 batch = $10, host_id = $11 WHERE id = $12",
            )
            .bind(u.kind.as_str())
            .bind(&u.name)
            .bind(&u.address)
            .bind(&u.owner_name)
            .bind(&u.owner_phone)
            .bind(u.location.x())
            .bind(u.location.y())
            .bind(u.micro_grid.as_str())
            .bind(u.risk.as_str())
            .bind(u.batch.map(|b| b.as_str()))
            .bind(u.host.map(UnitId::get))
            .bind(u.id.get())
            .execute(&mut **tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(rows::missing_or_conflict(false, "unit", u.id.get(), ""));
            }
        }
        Change::Inspect {
            inspection,
            hazards,
        } => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO inspections (unit_id, kind, inspector, inspected_at, signature, photos) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(inspection.unit.get())
            .bind(inspection.kind.as_str())
            .bind(&inspection.inspector)
            .bind(inspection.at)
            .bind(&inspection.signature)
            .bind(rows::photos_json(&inspection.photos))
            .fetch_one(&mut **tx)
            .await?;
            let inspection_id: InspectionId = new_id(id, "inspections.id")?;
            assigned.inspection = Some(inspection_id);
            assigned.hazards = insert_hazards(tx, hazards, inspection_id).await?;
        }
        Change::YellowCard {
            hazard,
            at,
            deadline,
        } => {
            let done = sqlx::query(
                "UPDATE hazards SET yellow_card_at = $1, deadline = $2 WHERE id = $3 AND closed_at IS NULL",
            )
            .bind(at)
            .bind(deadline)
            .bind(hazard.get())
            .execute(&mut **tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(hazard_refused(tx, hazard).await);
            }
        }
        Change::Close {
            hazard,
            at,
            evidence,
        } => {
            let done = sqlx::query(
                "UPDATE hazards SET closed_at = $1, evidence = $2 WHERE id = $3 AND closed_at IS NULL",
            )
            .bind(at)
            .bind(evidence)
            .bind(hazard.get())
            .execute(&mut **tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(hazard_refused(tx, hazard).await);
            }
        }
        Change::Suspend { unit, at } => {
            // Lock the unit row so two concurrent orders cannot both pass the check.
            let found: Option<i64> =
                sqlx::query_scalar("SELECT id FROM units WHERE id = $1 FOR UPDATE")
                    .bind(unit.get())
                    .fetch_optional(&mut **tx)
                    .await?;
            if found.is_none() {
                return Err(rows::missing_or_conflict(false, "unit", unit.get(), ""));
            }
            let open: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM suspensions WHERE unit_id = $1 AND ended_at IS NULL)",
            )
            .bind(unit.get())
            .fetch_one(&mut **tx)
            .await?;
            if open {
                return Err(rows::missing_or_conflict(
                    true,
                    "unit",
                    unit.get(),
                    "unit is already suspended",
                ));
            }
            sqlx::query("INSERT INTO suspensions (unit_id, started_at) VALUES ($1, $2)")
                .bind(unit.get())
                .bind(at)
                .execute(&mut **tx)
                .await?;
        }
        Change::Resume { unit, at } => {
            let done = sqlx::query(
                "UPDATE suspensions SET ended_at = $1 WHERE unit_id = $2 AND ended_at IS NULL",
            )
            .bind(at)
            .bind(unit.get())
            .execute(&mut **tx)
            .await?;
            if done.rows_affected() == 0 {
                let found = exists(tx, "units", unit.get()).await?;
                return Err(rows::missing_or_conflict(
                    found,
                    "unit",
                    unit.get(),
                    "unit is not suspended",
                ));
            }
        }
        Change::SetTarget(t) => {
            sqlx::query(
                "INSERT INTO targets (group_id, week, closures, set_at, set_by) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (group_id, week) DO UPDATE SET closures = excluded.closures, \
                 set_at = excluded.set_at, set_by = excluded.set_by",
            )
            .bind(t.group.as_str())
            .bind(&t.week)
            .bind(i32::try_from(t.closures).unwrap_or(i32::MAX))
            .bind(t.set_at)
            .bind(&t.set_by)
            .execute(&mut **tx)
            .await?;
        }
        Change::Attach(a) => {
            sqlx::query(
                "INSERT INTO blobs (hash, content_type, size, data) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (hash) DO NOTHING",
            )
            .bind(&a.hash)
            .bind(a.content_type)
            .bind(a.data.len() as i64)
            .bind(a.data.as_ref())
            .execute(&mut **tx)
            .await?;
            sqlx::query(
                "INSERT INTO attachments (unit_id, hash, kind, created_at, actor) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(a.unit.get())
            .bind(&a.hash)
            .bind(a.kind)
            .bind(a.at)
            .bind(&a.actor)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(assigned)
}

/// Why an update of an open hazard touched nothing: it is unknown, or already closed.
async fn hazard_refused(tx: &mut Transaction<'_, Postgres>, hazard: HazardId) -> StoreError {
    match exists(tx, "hazards", hazard.get()).await {
        Ok(found) => {
            rows::missing_or_conflict(found, "hazard", hazard.get(), "hazard is already closed")
        }
        Err(e) => e,
    }
}
