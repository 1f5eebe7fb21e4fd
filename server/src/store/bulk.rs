//! Bulk loading into an empty PostGIS store, the way PostgreSQL's manual advises for
//! populating a database: in one transaction, drop the secondary indexes and foreign
//! keys of the tables being filled, `COPY` the rows in, then recreate the indexes and
//! constraints exactly as they were (their definitions are read from the catalog, so
//! they follow the migrations) and `ANALYZE`. Ten million units take minutes, where
//! row-by-row inserts would take hours. Either everything lands or nothing does.
//!
//! Rows come from a [`BulkSource`] that formats `COPY … FROM STDIN` text in a blocking
//! thread, so generating and loading run on both cores at once.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, SecondsFormat, Utc};
use geo::MultiPolygon;

use super::postgres::PgStore;
use super::{Result, StoreError};
use crate::domain::{Colour, Hazard, Inspection, Region, Suspension, Unit};

/// A table the bulk loader fills, in the order it fills them (parents first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkTable {
    /// `units`.
    Units,
    /// `inspections`.
    Inspections,
    /// `hazards`.
    Hazards,
    /// `suspensions`.
    Suspensions,
}

impl BulkTable {
    /// Every table, in loading order.
    pub const ALL: [BulkTable; 4] = [
        BulkTable::Units,
        BulkTable::Inspections,
        BulkTable::Hazards,
        BulkTable::Suspensions,
    ];

    fn name(self) -> &'static str {
        match self {
            BulkTable::Units => "units",
            BulkTable::Inspections => "inspections",
            BulkTable::Hazards => "hazards",
            BulkTable::Suspensions => "suspensions",
        }
    }

    fn copy_statement(self) -> &'static str {
        match self {
            BulkTable::Units => {
                "COPY units (id, kind, name, address, owner_name, owner_phone, geom, micro_grid_id, \
                 risk_level, batch, host_id, registered_at, colour) FROM STDIN"
            }
            BulkTable::Inspections => {
                "COPY inspections (id, unit_id, kind, inspector, inspected_at, signature, photos, \
                 comprehensive, note) FROM STDIN"
            }
            BulkTable::Hazards => {
                "COPY hazards (id, unit_id, inspection_id, category, hazard_type, severity, stage, \
                 found_at, deadline, yellow_card_at, closed_at, evidence, comprehensive) FROM STDIN"
            }
            BulkTable::Suspensions => "COPY suspensions (unit_id, started_at, ended_at) FROM STDIN",
        }
    }
}

/// Where the rows come from: called once per table from a blocking thread, it hands
/// chunks of `COPY` text (whole lines, written with the `*_line` functions here) to
/// `send`, and stops early when `send` returns false (the load failed).
pub trait BulkSource: Send + Sync + 'static {
    /// Writes every row of `table`.
    fn rows(&self, table: BulkTable, send: &mut dyn FnMut(String) -> bool);
}

/// A chunk worth sending: about a megabyte of text.
pub const CHUNK_BYTES: usize = 1 << 20;

fn text(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

fn opt_text(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => text(out, s),
        None => out.push_str("\\N"),
    }
}

fn time(out: &mut String, t: DateTime<Utc>) {
    out.push_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
}

fn opt_time(out: &mut String, t: Option<DateTime<Utc>>) {
    match t {
        Some(t) => time(out, t),
        None => out.push_str("\\N"),
    }
}

/// One `units` line, with the unit's colour for the `colour` column.
pub fn unit_line(out: &mut String, u: &Unit, colour: Colour) {
    let _ = write!(out, "{}\t{}\t", u.id, u.kind.as_str());
    text(out, &u.name);
    out.push('\t');
    text(out, &u.address);
    out.push('\t');
    text(out, &u.owner_name);
    out.push('\t');
    text(out, &u.owner_phone);
    let _ = write!(
        out,
        "\tSRID=4326;POINT({} {})\t",
        u.location.x(),
        u.location.y()
    );
    text(out, u.micro_grid.as_str());
    let _ = write!(out, "\t{}\t", u.risk.as_str());
    opt_text(out, u.batch.map(|b| b.as_str()));
    out.push('\t');
    match u.host {
        Some(h) => {
            let _ = write!(out, "{h}");
        }
        None => out.push_str("\\N"),
    }
    out.push('\t');
    time(out, u.registered_at);
    let _ = writeln!(out, "\t{}", colour.as_str());
}

/// One `inspections` line.
pub fn inspection_line(out: &mut String, i: &Inspection) {
    let _ = write!(out, "{}\t{}\t{}\t", i.id, i.unit, i.kind.as_str());
    text(out, &i.inspector);
    out.push('\t');
    time(out, i.at);
    out.push('\t');
    opt_text(out, i.signature.as_deref());
    out.push('\t');
    text(out, &super::rows::photos_json(&i.photos));
    out.push_str(if i.comprehensive { "\tt\t" } else { "\tf\t" });
    text(out, &i.note);
    out.push('\n');
}

/// One `hazards` line.
pub fn hazard_line(out: &mut String, h: &Hazard) {
    let _ = write!(
        out,
        "{}\t{}\t{}\t{}\t",
        h.id,
        h.unit,
        h.inspection,
        h.category.as_str()
    );
    text(out, &h.hazard_type);
    let _ = write!(out, "\t{}\t{}\t", h.severity.as_str(), h.stage.as_str());
    time(out, h.found_at);
    out.push('\t');
    opt_time(out, h.deadline);
    out.push('\t');
    opt_time(out, h.yellow_card_at);
    out.push('\t');
    opt_time(out, h.closed_at);
    out.push('\t');
    opt_text(out, h.evidence.as_deref());
    out.push_str(if h.comprehensive { "\tt\n" } else { "\tf\n" });
}

/// One `suspensions` line.
pub fn suspension_line(out: &mut String, s: &Suspension) {
    let _ = write!(out, "{}\t", s.unit);
    time(out, s.started_at);
    out.push('\t');
    opt_time(out, s.ended_at);
    out.push('\n');
}

/// A region polygon as EWKT in SRID 4326.
fn ewkt(out: &mut String, m: &MultiPolygon<f64>) {
    out.push_str("SRID=4326;MULTIPOLYGON(");
    for (i, p) in m.0.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('(');
        for (j, ring) in std::iter::once(p.exterior())
            .chain(p.interiors())
            .enumerate()
        {
            if j > 0 {
                out.push(',');
            }
            out.push('(');
            for (k, c) in ring.coords().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{} {}", c.x, c.y);
            }
            out.push(')');
        }
        out.push(')');
    }
    out.push(')');
}

fn region_line(out: &mut String, r: &Region) {
    text(out, r.id.as_str());
    let _ = write!(out, "\t{}\t", r.level.as_str());
    opt_text(out, r.parent.as_ref().map(|p| p.as_str()));
    out.push('\t');
    opt_text(out, r.code.as_deref());
    out.push('\t');
    text(out, &r.name);
    out.push('\t');
    match &r.boundary {
        Some(b) => ewkt(out, b),
        None => out.push_str("\\N"),
    }
    out.push('\n');
}

/// What a bulk load wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkCounts {
    /// Regions.
    pub regions: u64,
    /// Rows per table, in [`BulkTable::ALL`] order.
    pub rows: [u64; 4],
}

/// The tables whose secondary indexes and foreign keys are dropped for the load.
const TABLES: [&str; 5] = ["regions", "units", "inspections", "hazards", "suspensions"];

impl PgStore {
    /// Fills an EMPTY store with `regions` and the rows of `source`, sets the clock
    /// watermark to `watermark` (the moment the source's colours were computed for),
    /// in one transaction. Logs its progress. Refuses a store that holds data.
    pub async fn bulk_load(
        &self,
        regions: &[Region],
        source: Arc<dyn BulkSource>,
        watermark: DateTime<Utc>,
    ) -> Result<BulkCounts> {
        let held: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM regions) + (SELECT count(*) FROM units)",
        )
        .fetch_one(self.pool())
        .await?;
        if held > 0 {
            return Err(StoreError::Conflict(
                "the store already holds data; bulk loading needs an empty database".into(),
            ));
        }
        let started = Instant::now();
        let mut tx = self.pool().begin().await?;
        sqlx::query("SET LOCAL maintenance_work_mem = '1GB'")
            .execute(&mut *tx)
            .await?;
        let tables: Vec<String> = TABLES.iter().map(|t| (*t).to_owned()).collect();
        // What to recreate afterwards, from the catalog: secondary indexes (not the
        // primary keys, not unique ones) and foreign keys of the tables being filled.
        let indexes: Vec<(String, String)> = sqlx::query_as(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i \
             WHERE i.indrelid = ANY (SELECT unnest($1::text[])::regclass) \
               AND NOT i.indisprimary AND NOT i.indisunique",
        )
        .bind(&tables)
        .fetch_all(&mut *tx)
        .await?;
        let foreign: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT conrelid::regclass::text, conname::text, pg_get_constraintdef(oid) \
             FROM pg_constraint WHERE contype = 'f' \
               AND conrelid = ANY (SELECT unnest($1::text[])::regclass)",
        )
        .bind(&tables)
        .fetch_all(&mut *tx)
        .await?;
        for (table, name, _) in &foreign {
            sqlx::query(&format!("ALTER TABLE {table} DROP CONSTRAINT {name}"))
                .execute(&mut *tx)
                .await?;
        }
        for (name, _) in &indexes {
            sqlx::query(&format!("DROP INDEX {name}"))
                .execute(&mut *tx)
                .await?;
        }

        let mut counts = BulkCounts::default();
        {
            let mut copy = tx
                .copy_in_raw("COPY regions (id, level, parent_id, code, name, geom) FROM STDIN")
                .await?;
            let mut chunk = String::new();
            for r in regions {
                region_line(&mut chunk, r);
                if chunk.len() >= CHUNK_BYTES {
                    copy.send(std::mem::take(&mut chunk).into_bytes()).await?;
                }
            }
            copy.send(chunk.into_bytes()).await?;
            counts.regions = copy.finish().await?;
            tracing::info!(rows = counts.regions, elapsed = ?started.elapsed(), "bulk load: regions");
        }
        for (k, table) in BulkTable::ALL.into_iter().enumerate() {
            let (tx_chunks, mut rx) = tokio::sync::mpsc::channel::<String>(4);
            let src = source.clone();
            let producer = tokio::task::spawn_blocking(move || {
                src.rows(table, &mut |chunk| tx_chunks.blocking_send(chunk).is_ok());
            });
            let mut copy = tx.copy_in_raw(table.copy_statement()).await?;
            let mut sent = 0usize;
            while let Some(chunk) = rx.recv().await {
                sent += chunk.len();
                copy.send(chunk.into_bytes()).await?;
            }
            producer
                .await
                .map_err(|e| StoreError::Conflict(format!("the row source failed: {e}")))?;
            counts.rows[k] = copy.finish().await?;
            tracing::info!(
                table = table.name(),
                rows = counts.rows[k],
                megabytes = sent >> 20,
                elapsed = ?started.elapsed(),
                "bulk load: copied"
            );
        }
        for table in ["units", "inspections", "hazards", "suspensions"] {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 GREATEST((SELECT max(id) FROM {table}), 1))"
            ))
            .execute(&mut *tx)
            .await?;
        }
        for (name, def) in &indexes {
            let t = Instant::now();
            sqlx::query(def).execute(&mut *tx).await?;
            tracing::info!(index = %name, took = ?t.elapsed(), "bulk load: index rebuilt");
        }
        for (table, name, def) in &foreign {
            let t = Instant::now();
            sqlx::query(&format!("ALTER TABLE {table} ADD CONSTRAINT {name} {def}"))
                .execute(&mut *tx)
                .await?;
            tracing::info!(constraint = %name, took = ?t.elapsed(), "bulk load: foreign key checked");
        }
        super::postgres::set_watermark(&mut tx, watermark).await?;
        tx.commit().await?;
        for table in TABLES {
            sqlx::query(&format!("ANALYZE {table}"))
                .execute(self.pool())
                .await?;
        }
        tracing::info!(elapsed = ?started.elapsed(), "bulk load: committed and analysed");
        Ok(counts)
    }
}
