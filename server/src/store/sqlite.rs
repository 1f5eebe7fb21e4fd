//! The embedded SQLite backend: one file, WAL journal, `synchronous=FULL` so that an
//! acknowledged write survives a crash.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use super::rows::{self, HazardRow, InspectionRow, RegionRow, SuspensionRow, UnitRow};
use super::{Dataset, Result, Store, UnitText, geometry};
use crate::domain::{Hazard, HazardId, Inspection, InspectionId, Unit, UnitId};

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
             ORDER BY CASE level WHEN 'town' THEN 0 WHEN 'area' THEN 1 WHEN 'group' THEN 2 \
             WHEN 'village' THEN 3 WHEN 'grid' THEN 4 ELSE 5 END, id",
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

    async fn insert_unit(&self, unit: &Unit) -> Result<UnitId> {
        let row = unit_query(unit, None).fetch_one(&self.pool).await?;
        new_id(row.try_get(0)?, "units.id")
    }

    async fn record_inspection(
        &self,
        inspection: &Inspection,
        hazards: &[Hazard],
    ) -> Result<(InspectionId, Vec<HazardId>)> {
        let mut tx = self.pool.begin().await?;
        let row = inspection_query(inspection, None)
            .fetch_one(&mut *tx)
            .await?;
        let inspection_id: InspectionId = new_id(row.try_get(0)?, "inspections.id")?;
        let mut ids = Vec::with_capacity(hazards.len());
        for h in hazards {
            let row = hazard_query(h, None, inspection_id)
                .fetch_one(&mut *tx)
                .await?;
            ids.push(new_id(row.try_get(0)?, "hazards.id")?);
        }
        tx.commit().await?;
        Ok((inspection_id, ids))
    }

    async fn issue_yellow_card(
        &self,
        hazard: HazardId,
        at: DateTime<Utc>,
        deadline: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE hazards SET yellow_card_at = ?, deadline = ? WHERE id = ? AND closed_at IS NULL",
        )
        .bind(at)
        .bind(deadline)
        .bind(hazard.get())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            let exists = sqlx::query("SELECT 1 FROM hazards WHERE id = ?")
                .bind(hazard.get())
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            return Err(rows::missing_or_conflict(
                exists,
                "hazard",
                hazard.get(),
                "hazard is already closed",
            ));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn close_hazard(
        &self,
        hazard: HazardId,
        at: DateTime<Utc>,
        evidence: &str,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE hazards SET closed_at = ?, evidence = ? WHERE id = ? AND closed_at IS NULL",
        )
        .bind(at)
        .bind(evidence)
        .bind(hazard.get())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            let exists = sqlx::query("SELECT 1 FROM hazards WHERE id = ?")
                .bind(hazard.get())
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            return Err(rows::missing_or_conflict(
                exists,
                "hazard",
                hazard.get(),
                "hazard is already closed",
            ));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn suspend(&self, unit: UnitId, at: DateTime<Utc>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let state: Option<(i64,)> = sqlx::query_as(
            "SELECT (SELECT count(*) FROM suspensions WHERE unit_id = u.id AND ended_at IS NULL) \
             FROM units u WHERE u.id = ?",
        )
        .bind(unit.get())
        .fetch_optional(&mut *tx)
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
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn resume(&self, unit: UnitId, at: DateTime<Utc>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE suspensions SET ended_at = ? WHERE unit_id = ? AND ended_at IS NULL",
        )
        .bind(at)
        .bind(unit.get())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            let exists = sqlx::query("SELECT 1 FROM units WHERE id = ?")
                .bind(unit.get())
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            return Err(rows::missing_or_conflict(
                exists,
                "unit",
                unit.get(),
                "unit is not suspended",
            ));
        }
        tx.commit().await?;
        Ok(())
    }
}
