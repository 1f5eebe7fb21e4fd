//! The embedded SQLite backend: one file, WAL journal, `synchronous=FULL` so that an
//! acknowledged write survives a crash.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};

use super::journal::{
    Assigned, Change, Event, EventQuery, Journal, Notice, Replay, Target, UnitRecord,
};
use super::rows::{
    self, AttachmentRow, EventRow, HazardRow, InspectionRow, NoticeRow, RegionRow, SuspensionRow,
    TargetRow, UnitRow,
};
use super::{Dataset, NoticeOutcome, Result, Store, UnitText, geometry};
use crate::domain::{Colour, Hazard, HazardId, Inspection, InspectionId, Unit, UnitId};

const EVENT_COLUMNS: &str = "seq, at, kind, actor, unit_id, unit_name, hazard_id, region_id, colour_before, \
     colour_after, before, after";

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

const INSERT_UNIT: &str = "INSERT INTO units (id, kind, name, address, owner_name, owner_phone, lon, lat, \
     micro_grid_id, risk_level, batch, host_id, registered_at) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";
const INSERT_INSPECTION: &str = "INSERT INTO inspections (id, unit_id, kind, inspector, inspected_at, signature, photos) \
     VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id";
const INSERT_HAZARD: &str = "INSERT INTO hazards (id, unit_id, inspection_id, category, hazard_type, severity, stage, \
     found_at, deadline, yellow_card_at, closed_at, evidence) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";

/// Binds a unit; `id` is `None` to let SQLite assign one.
fn unit_query(
    unit: &Unit,
    id: Option<i64>,
) -> sqlx::query::Query<'_, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'_>> {
    sqlx::query(INSERT_UNIT)
        .bind(id)
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
}

fn inspection_query(
    i: &Inspection,
    id: Option<i64>,
) -> sqlx::query::Query<'_, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'_>> {
    sqlx::query(INSERT_INSPECTION)
        .bind(id)
        .bind(i.unit.get())
        .bind(i.kind.as_str())
        .bind(&i.inspector)
        .bind(i.at)
        .bind(&i.signature)
        .bind(rows::photos_json(&i.photos))
}

fn hazard_query(
    h: &Hazard,
    id: Option<i64>,
    inspection: InspectionId,
) -> sqlx::query::Query<'_, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'_>> {
    sqlx::query(INSERT_HAZARD)
        .bind(id)
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
}

fn new_id<T: FromStr>(raw: i64, column: &'static str) -> Result<T> {
    raw.to_string()
        .parse()
        .map_err(|_| super::StoreError::Corrupt {
            column,
            message: format!("assigned id {raw} is not positive"),
        })
}

impl Store for SqliteStore {
    async fn unit_texts(&self, ids: &[UnitId]) -> Result<HashMap<UnitId, UnitText>> {
        let mut out = HashMap::with_capacity(ids.len());
        // SQLite takes a bounded number of bind parameters: ask in chunks.
        for chunk in ids.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(",");
            let sql = format!(
                "SELECT id, name, address, owner_name, owner_phone FROM units WHERE id IN ({marks})"
            );
            let mut q = sqlx::query_as::<_, (i64, String, String, String, String)>(&sql);
            for id in chunk {
                q = q.bind(id.get());
            }
            rows::unit_texts(q.fetch_all(&self.pool).await?, &mut out)?;
        }
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
        for r in &data.regions {
            let geom = r.boundary.as_ref().map(geometry::to_wkb).transpose()?;
            sqlx::query("INSERT INTO regions (id, level, parent_id, code, name, geom) VALUES (?, ?, ?, ?, ?, ?)")
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
            unit_query(u, Some(u.id.get())).fetch_one(&mut *tx).await?;
        }
        for i in &data.inspections {
            inspection_query(i, Some(i.id.get()))
                .fetch_one(&mut *tx)
                .await?;
        }
        for h in &data.hazards {
            hazard_query(h, Some(h.id.get()), h.inspection)
                .fetch_one(&mut *tx)
                .await?;
        }
        for s in &data.suspensions {
            sqlx::query("INSERT INTO suspensions (unit_id, started_at, ended_at) VALUES (?, ?, ?)")
                .bind(s.unit.get())
                .bind(s.started_at)
                .bind(s.ended_at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn load(&self) -> Result<Dataset> {
        // One read transaction: a consistent snapshot even while writers commit.
        let mut tx = self.pool.begin().await?;
        let regions: Vec<RegionRow> = sqlx::query_as(
            "SELECT id, level, parent_id, code, name, geom FROM regions \
             ORDER BY CASE level WHEN 'province' THEN 0 WHEN 'county' THEN 1 WHEN 'town' THEN 2 \
             WHEN 'area' THEN 3 WHEN 'group' THEN 4 WHEN 'village' THEN 5 WHEN 'grid' THEN 6 ELSE 7 END, id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let units: Vec<UnitRow> = sqlx::query_as(
            "SELECT id, kind, name, address, owner_name, owner_phone, lon, lat, micro_grid_id, \
             risk_level, batch, host_id, registered_at FROM units ORDER BY id",
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
        // IMMEDIATE: take the write lock at once, so a transaction that reads before it
        // writes cannot fail on a snapshot another writer moved on.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let assigned = apply_change(&mut tx, change).await?;
        let journal = journal(&assigned);
        let mut seqs = Vec::with_capacity(journal.events.len());
        for Event { seq, event: e } in &journal.events {
            let seq: i64 = sqlx::query_scalar(
                "INSERT INTO events (seq, at, kind, actor, unit_id, unit_name, hazard_id, region_id, colour_before, \
                 colour_after, before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
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
                sqlx::query("UPDATE units SET colour = ? WHERE id = ?")
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
                 next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(seqs.first().copied())
            .bind(n.unit.get())
            .bind(&n.recipient)
            .bind(&n.phone)
            .bind(&n.message)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(r) = &journal.replay {
            sqlx::query(
                "INSERT INTO idempotency (key, fingerprint, status, response, created_at) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(&r.key)
            .bind(&r.fingerprint)
            .bind(i64::from(r.status))
            .bind(r.response.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(w) = journal.watermark {
            sqlx::query(
                "INSERT INTO clock (id, watermark) VALUES (1, ?) \
                 ON CONFLICT (id) DO UPDATE SET watermark = excluded.watermark",
            )
            .bind(w)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok((assigned, seqs))
    }

    async fn events(&self, q: EventQuery) -> Result<Vec<Event>> {
        let order = if q.newest_first { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE (? IS NULL OR unit_id = ?) AND seq > ? \
             ORDER BY seq {order} LIMIT ?"
        );
        let unit = q.unit.map(UnitId::get);
        let after = if q.newest_first {
            0
        } else {
            q.after.unwrap_or(0)
        };
        let rows: Vec<EventRow> = sqlx::query_as(&sql)
            .bind(unit)
            .bind(unit)
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
            "SELECT key, fingerprint, status, response FROM idempotency WHERE key = ?",
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
        // A few statements, not one a unit: `[[id, "colour"], …]` as JSON per chunk (the
        // colours are words of a fixed vocabulary, nothing to escape).
        let mut tx = self.pool.begin().await?;
        for chunk in colours.chunks(5_000) {
            let pairs: Vec<String> = chunk
                .iter()
                .map(|(u, c)| format!("[{},\"{}\"]", u.get(), c.as_str()))
                .collect();
            sqlx::query(
                "UPDATE units SET colour = t.colour FROM (SELECT value ->> 0 AS id, value ->> 1 AS colour \
                 FROM json_each(?)) AS t WHERE units.id = t.id",
            )
            .bind(format!("[{}]", pairs.join(",")))
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
            "SELECT id, kind, name, address, owner_name, owner_phone, lon, lat, micro_grid_id, \
             risk_level, batch, host_id, registered_at FROM units WHERE id = ?",
        )
        .bind(id.get())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(unit) = unit else { return Ok(None) };
        let inspections: Vec<InspectionRow> = sqlx::query_as(
            "SELECT id, unit_id, kind, inspector, inspected_at, signature, photos FROM inspections \
             WHERE unit_id = ? ORDER BY id",
        )
        .bind(id.get())
        .fetch_all(&mut *tx)
        .await?;
        let hazards: Vec<HazardRow> = sqlx::query_as(
            "SELECT id, unit_id, inspection_id, category, hazard_type, severity, stage, found_at, \
             deadline, yellow_card_at, closed_at, evidence FROM hazards WHERE unit_id = ? ORDER BY id",
        )
        .bind(id.get())
        .fetch_all(&mut *tx)
        .await?;
        let suspensions: Vec<SuspensionRow> = sqlx::query_as(
            "SELECT unit_id, started_at, ended_at FROM suspensions WHERE unit_id = ? ORDER BY id",
        )
        .bind(id.get())
        .fetch_all(&mut *tx)
        .await?;
        let attachments: Vec<AttachmentRow> = sqlx::query_as(
            "SELECT a.hash, a.kind, b.content_type, b.size, a.created_at FROM attachments a \
             JOIN blobs b ON b.hash = a.hash WHERE a.unit_id = ? ORDER BY a.id",
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
            sqlx::query_as("SELECT content_type, data FROM blobs WHERE hash = ?")
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn targets(&self, week: &str) -> Result<Vec<Target>> {
        let rows: Vec<TargetRow> = sqlx::query_as(
            "SELECT group_id, week, closures, set_by, set_at FROM targets WHERE week = ? ORDER BY group_id",
        )
        .bind(week)
        .fetch_all(&self.pool)
        .await?;
        rows::convert(rows)
    }

    async fn due_notices(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Notice>> {
        let rows: Vec<NoticeRow> = sqlx::query_as(
            "SELECT id, event_seq, unit_id, recipient, phone, message, attempts FROM notices \
             WHERE delivered_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?",
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
                "UPDATE notices SET delivered_at = ?, attempts = attempts + 1, last_error = NULL \
                 WHERE id = ?",
            )
            .bind(at),
            NoticeOutcome::Failed { error, retry_at } => sqlx::query(
                "UPDATE notices SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? \
                 WHERE id = ?",
            )
            .bind(error)
            .bind(retry_at),
        };
        q.bind(id).execute(&self.pool).await?;
        Ok(())
    }
}

/// Applies a change inside the write transaction.
async fn apply_change(tx: &mut Transaction<'_, Sqlite>, change: Change<'_>) -> Result<Assigned> {
    let mut assigned = Assigned::default();
    match change {
        Change::Nothing => {}
        Change::RegisterUnit(unit) => {
            let row = unit_query(unit, None).fetch_one(&mut **tx).await?;
            assigned.unit = Some(new_id(row.try_get(0)?, "units.id")?);
        }
        Change::EditUnit(u) => {
            let done = sqlx::query(
                "UPDATE units SET kind = ?, name = ?, address = ?, owner_name = ?, owner_phone = ?, \
                 lon = ?, lat = ?, micro_grid_id = ?, risk_level = ?, batch = ?, host_id = ? WHERE id = ?",
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
            let row = inspection_query(inspection, None)
                .fetch_one(&mut **tx)
                .await?;
            let inspection_id: InspectionId = new_id(row.try_get(0)?, "inspections.id")?;
            assigned.inspection = Some(inspection_id);
            for h in hazards {
                let row = hazard_query(h, None, inspection_id)
                    .fetch_one(&mut **tx)
                    .await?;
                assigned
                    .hazards
                    .push(new_id(row.try_get(0)?, "hazards.id")?);
            }
        }
        Change::YellowCard {
            hazard,
            at,
            deadline,
        } => {
            let done = sqlx::query(
                "UPDATE hazards SET yellow_card_at = ?, deadline = ? WHERE id = ? AND closed_at IS NULL",
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
                "UPDATE hazards SET closed_at = ?, evidence = ? WHERE id = ? AND closed_at IS NULL",
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
            let state: Option<(i64,)> = sqlx::query_as(
                "SELECT (SELECT count(*) FROM suspensions WHERE unit_id = u.id AND ended_at IS NULL) \
                 FROM units u WHERE u.id = ?",
            )
            .bind(unit.get())
            .fetch_optional(&mut **tx)
            .await?;
            match state {
                None => return Err(rows::missing_or_conflict(false, "unit", unit.get(), "")),
                Some((open,)) if open > 0 => {
                    return Err(rows::missing_or_conflict(
                        true,
                        "unit",
                        unit.get(),
                        "unit is already suspended",
                    ));
                }
                Some(_) => {}
            }
            sqlx::query("INSERT INTO suspensions (unit_id, started_at) VALUES (?, ?)")
                .bind(unit.get())
                .bind(at)
                .execute(&mut **tx)
                .await?;
        }
        Change::Resume { unit, at } => {
            let done = sqlx::query(
                "UPDATE suspensions SET ended_at = ? WHERE unit_id = ? AND ended_at IS NULL",
            )
            .bind(at)
            .bind(unit.get())
            .execute(&mut **tx)
            .await?;
            if done.rows_affected() == 0 {
                let exists = sqlx::query("SELECT 1 FROM units WHERE id = ?")
                    .bind(unit.get())
                    .fetch_optional(&mut **tx)
                    .await?
                    .is_some();
                return Err(rows::missing_or_conflict(
                    exists,
                    "unit",
                    unit.get(),
                    "unit is not suspended",
                ));
            }
        }
        Change::SetTarget(t) => {
            sqlx::query(
                "INSERT INTO targets (group_id, week, closures, set_at, set_by) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT (group_id, week) DO UPDATE SET closures = excluded.closures, \
                 set_at = excluded.set_at, set_by = excluded.set_by",
            )
            .bind(t.group.as_str())
            .bind(&t.week)
            .bind(i64::from(t.closures))
            .bind(t.set_at)
            .bind(&t.set_by)
            .execute(&mut **tx)
            .await?;
        }
        Change::Attach(a) => {
            sqlx::query(
                "INSERT INTO blobs (hash, content_type, size, data) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (hash) DO NOTHING",
            )
            .bind(&a.hash)
            .bind(a.content_type)
            .bind(a.data.len() as i64)
            .bind(a.data.as_ref())
            .execute(&mut **tx)
            .await?;
            sqlx::query(
                "INSERT INTO attachments (unit_id, hash, kind, created_at, actor) VALUES (?, ?, ?, ?, ?)",
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
async fn hazard_refused(tx: &mut Transaction<'_, Sqlite>, hazard: HazardId) -> super::StoreError {
    let exists = sqlx::query("SELECT 1 FROM hazards WHERE id = ?")
        .bind(hazard.get())
        .fetch_optional(&mut **tx)
        .await;
    match exists {
        Ok(row) => rows::missing_or_conflict(
            row.is_some(),
            "hazard",
            hazard.get(),
            "hazard is already closed",
        ),
        Err(e) => e.into(),
    }
}
