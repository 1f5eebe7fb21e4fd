//! What the map is made from at start, read the same way from both backends in one
//! read snapshot: [`AnyStore::stream_map`] streams regions, units without their text,
//! each unit's first visit, hazards and suspensions straight into the map's builder
//! (ten million units never sit in memory twice), logging progress every million;
//! [`AnyStore::load`] reads everything back as a [`Dataset`] (tests and tools).

use chrono::{DateTime, Utc};
use sqlx::Row;
use tokio_stream::StreamExt;

use super::read::unit_select;
use super::rows::{
    self, HazardRow, InspectionRow, RegionRow, SuspensionRow, UnitRow, location, unit_id,
};
use super::{AnyStore, Dataset, MapSink, MapUnit, Result, StoreError};
use crate::domain::time::Stamp;
use crate::domain::{HazardFacts, Region};

/// The regions, parents before children (by level from the top, then by id).
fn ordered(regions: Vec<RegionRow>) -> Result<Vec<Region>> {
    let mut regions: Vec<Region> = rows::convert(regions)?;
    regions.sort_by(|a, b| (a.level.depth(), &a.id).cmp(&(b.level.depth(), &b.id)));
    Ok(regions)
}

fn corrupt(column: &'static str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        column,
        message: e.to_string(),
    }
}

impl AnyStore {
    /// Reads everything back, each table ordered by id.
    pub async fn load(&self) -> Result<Dataset> {
        on_pool!(self, |pool, dialect| {
            let mut tx = dialect::begin_snapshot(pool).await?;
            let regions: Vec<RegionRow> = sqlx::query_as(&dialect::regions_sql())
                .fetch_all(&mut *tx)
                .await?;
            let units: Vec<UnitRow> = sqlx::query_as(&unit_select(dialect::POINT, "ORDER BY id"))
                .fetch_all(&mut *tx)
                .await?;
            let inspections: Vec<InspectionRow> = sqlx::query_as(
                "SELECT id, unit_id, kind, inspector, inspected_at, signature, photos, \
                 comprehensive, note \
                 FROM inspections ORDER BY id",
            )
            .fetch_all(&mut *tx)
            .await?;
            let hazards: Vec<HazardRow> = sqlx::query_as(
                "SELECT id, unit_id, inspection_id, category, hazard_type, severity, stage, \
                 found_at, deadline, yellow_card_at, closed_at, evidence, comprehensive \
                 FROM hazards ORDER BY id",
            )
            .fetch_all(&mut *tx)
            .await?;
            let suspensions: Vec<SuspensionRow> =
                sqlx::query_as("SELECT unit_id, started_at, ended_at FROM suspensions ORDER BY id")
                    .fetch_all(&mut *tx)
                    .await?;
            tx.commit().await?;
            Ok(Dataset {
                regions: ordered(regions)?,
                units: rows::convert(units)?,
                inspections: rows::convert(inspections)?,
                hazards: rows::convert(hazards)?,
                suspensions: rows::convert(suspensions)?,
            })
        })
    }

    /// Streams what the map needs at start into the sink `start` makes from the regions.
    pub async fn stream_map<S: MapSink>(
        &self,
        start: impl FnOnce(Vec<Region>) -> Result<S, S::Error>,
    ) -> Result<S, S::Error> {
        let started = std::time::Instant::now();
        on_pool!(self, |pool, dialect| {
            let mut tx = dialect::begin_snapshot(pool).await?;
            let regions: Vec<RegionRow> = sqlx::query_as(&dialect::regions_sql())
                .fetch_all(&mut *tx)
                .await
                .map_err(StoreError::from)?;
            let mut sink = start(ordered(regions)?)?;
            let expected = dialect::estimate(&mut tx, "units").await?;
            let hazards_expected = dialect::estimate(&mut tx, "hazards").await?;
            // A little over the estimate: it is approximate, and growing a vector of ten
            // million entries would copy it.
            let hint = |n: i64| usize::try_from(n).unwrap_or(0) / 100 * 101;
            sink.reserve(hint(expected), hint(hazards_expected));
            tracing::info!(regions_took = ?started.elapsed(), units_expected = expected, "loading the map");
            let sql = format!(
                "SELECT id, kind, {}, micro_grid_id, risk_level, batch, host_id, registered_at \
                 FROM units",
                dialect::POINT
            );
            let mut stream = sqlx::query(&sql).fetch(&mut *tx);
            let mut n: u64 = 0;
            while let Some(row) = stream.next().await {
                let row = row.map_err(StoreError::from)?;
                let text = |i: usize| -> Result<&str> { Ok(row.try_get::<&str, _>(i)?) };
                let id: i64 = row.try_get(0).map_err(StoreError::from)?;
                let host: Option<i64> = row.try_get(7).map_err(StoreError::from)?;
                let batch: Option<&str> = row.try_get(6).map_err(StoreError::from)?;
                let lon: f64 = row.try_get(2).map_err(StoreError::from)?;
                let lat: f64 = row.try_get(3).map_err(StoreError::from)?;
                sink.unit(MapUnit {
                    id: unit_id(id)?,
                    kind: text(1)?.parse().map_err(|e| corrupt("units.kind", e))?,
                    location: location(lon, lat)?,
                    micro_grid: text(4)?,
                    risk: text(5)?
                        .parse()
                        .map_err(|e| corrupt("units.risk_level", e))?,
                    batch: batch
                        .map(str::parse)
                        .transpose()
                        .map_err(|e| corrupt("units.batch", e))?,
                    host: host.map(unit_id).transpose()?,
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
                let at: DateTime<Utc> = row.try_get(1).map_err(StoreError::from)?;
                sink.first_inspection(unit_id(unit)?, at)?;
            }
            drop(stream);
            tracing::info!(units = n, elapsed = ?started.elapsed(), "loading the map: units and inspections read");
            let mut stream = sqlx::query(
                "SELECT id, unit_id, severity, stage, found_at, deadline, yellow_card_at, \
                 closed_at, comprehensive FROM hazards",
            )
            .fetch(&mut *tx);
            let mut hazards: u64 = 0;
            while let Some(row) = stream.next().await {
                let row = row.map_err(StoreError::from)?;
                let stamp = |i: usize| -> Result<Option<Stamp>> {
                    let t: Option<DateTime<Utc>> = row.try_get(i)?;
                    Ok(t.map(Stamp::of))
                };
                let id: i64 = row.try_get(0).map_err(StoreError::from)?;
                let unit: i64 = row.try_get(1).map_err(StoreError::from)?;
                let severity: &str = row.try_get(2).map_err(StoreError::from)?;
                let stage: &str = row.try_get(3).map_err(StoreError::from)?;
                let found: DateTime<Utc> = row.try_get(4).map_err(StoreError::from)?;
                sink.hazard(
                    unit_id(unit)?,
                    HazardFacts {
                        id: rows::assigned_id(id, "hazards.id")?,
                        found_at: Stamp::of(found),
                        deadline: stamp(5)?,
                        yellow_card_at: stamp(6)?,
                        closed_at: stamp(7)?,
                        severity: severity
                            .parse()
                            .map_err(|e| corrupt("hazards.severity", e))?,
                        stage: stage.parse().map_err(|e| corrupt("hazards.stage", e))?,
                        comprehensive: row.try_get(8).map_err(StoreError::from)?,
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
        })
    }
}
