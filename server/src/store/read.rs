//! What the store is asked back, written once for both backends: the event log, a
//! unit's whole record, idempotent answers, the watermark, files, targets and the
//! notice outbox.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::journal::{Event, EventQuery, Notice, Replay, UnitRecord};
use super::rows::{
    self, AttachmentRow, CommentRow, EventRow, HazardRow, InspectionRow, NoticeRow, ReplayRow,
    SuspensionRow, TargetRow, UnitRow,
};
use super::{AnyStore, NoticeOutcome, Result};
use crate::domain::time::Zone;
use crate::domain::{BriefingComment, ContentHash, HazardId, IsoWeek, RegionId, Target, UnitId};

/// The columns of an event as read.
const EVENT_COLUMNS: &str = "seq, at, kind, actor, unit_id, unit_name, hazard_id, region_id, \
     colour_before, colour_after, before, after";

/// The columns of a unit as read, its point in `{point}`.
pub(super) fn unit_select(point: &str, filter: &str) -> String {
    format!(
        "SELECT id, kind, name, address, owner_name, owner_phone, {point}, micro_grid_id, \
         risk_level, batch, host_id, registered_at FROM units {filter}"
    )
}

impl AnyStore {
    /// Whether the store holds no units and no regions.
    pub async fn is_empty(&self) -> Result<bool> {
        let n: i64 = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM regions) + (SELECT count(*) FROM units)"
        )
        .fetch_one(pool)
        .await?);
        Ok(n == 0)
    }

    /// Events of the log.
    pub async fn events(&self, q: EventQuery) -> Result<Vec<Event>> {
        let order = if q.newest_first { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE ($1 IS NULL OR unit_id = $1) AND seq > $2 \
             ORDER BY seq {order} LIMIT $3"
        );
        let after = if q.newest_first {
            0
        } else {
            q.after.unwrap_or(0)
        };
        let rows: Vec<EventRow> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(q.unit.map(UnitId::get))
            .bind(after)
            .bind(i64::from(q.limit))
            .fetch_all(pool)
            .await?);
        rows::convert(rows)
    }

    /// The last sequence number of the log (0 when empty).
    pub async fn last_event_seq(&self) -> Result<i64> {
        let last: Option<i64> = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT max(seq) FROM events"
        )
        .fetch_one(pool)
        .await?);
        Ok(last.unwrap_or(0))
    }

    /// The answer recorded for an idempotency key.
    pub async fn replay(&self, key: &str) -> Result<Option<Replay>> {
        let row: Option<ReplayRow> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT key, fingerprint, response FROM idempotency WHERE key = $1"
        )
        .bind(key)
        .fetch_optional(pool)
        .await?);
        Ok(row.map(Replay::from))
    }

    /// The clock watermark: every clock-driven change up to it is logged.
    pub async fn watermark(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT watermark FROM clock WHERE id = 1"
        )
        .fetch_optional(pool)
        .await?))
    }

    /// The town's time zone: the one it was set up with, else China's.
    pub async fn zone(&self) -> Result<Zone> {
        let value: Option<String> = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT value FROM settings WHERE name = 'time_zone'"
        )
        .fetch_optional(pool)
        .await?);
        value.map_or(Ok(Zone::default()), |v| {
            rows::parse("settings.time_zone", &v)
        })
    }

    /// Sets the town's time zone (read at start: a running server keeps its own).
    pub async fn put_zone(&self, zone: Zone) -> Result<()> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO settings (name, value) VALUES ('time_zone', $1) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )
            .bind(zone.to_string())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Units whose `colour` column is not filled yet (just imported, or stored before
    /// the column existed).
    pub async fn units_without_colour(&self) -> Result<Vec<UnitId>> {
        let ids: Vec<i64> = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT id FROM units WHERE colour IS NULL ORDER BY id"
        )
        .fetch_all(pool)
        .await?);
        ids.into_iter().map(rows::unit_id).collect()
    }

    /// A unit with every fact recorded about it, in one read snapshot.
    pub async fn unit_record(&self, id: UnitId) -> Result<Option<UnitRecord>> {
        let id = id.get();
        on_pool!(self, |pool, dialect| {
            let mut tx = pool.begin().await?;
            let unit: Option<UnitRow> =
                sqlx::query_as(&unit_select(dialect::POINT, "WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(unit) = unit else { return Ok(None) };
            let inspections: Vec<InspectionRow> = sqlx::query_as(
                "SELECT id, unit_id, kind, inspector, inspected_at, signature, photos, \
                 comprehensive, note \
                 FROM inspections WHERE unit_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            let hazards: Vec<HazardRow> = sqlx::query_as(
                "SELECT id, unit_id, inspection_id, category, hazard_type, severity, stage, \
                 found_at, deadline, yellow_card_at, closed_at, evidence, comprehensive \
                 FROM hazards \
                 WHERE unit_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            let suspensions: Vec<SuspensionRow> = sqlx::query_as(
                "SELECT unit_id, started_at, ended_at FROM suspensions WHERE unit_id = $1 \
                 ORDER BY id",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            let attachments: Vec<AttachmentRow> = sqlx::query_as(
                "SELECT a.hash, a.kind, b.content_type, b.size, a.created_at FROM attachments a \
                 JOIN blobs b ON b.hash = a.hash WHERE a.unit_id = $1 ORDER BY a.id",
            )
            .bind(id)
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
        })
    }

    /// A stored file's media type and bytes.
    pub async fn blob(&self, hash: &ContentHash) -> Result<Option<(String, Vec<u8>)>> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT content_type, data FROM blobs WHERE hash = $1"
        )
        .bind(hash.as_str())
        .fetch_optional(pool)
        .await?))
    }

    /// The units a stored file is attached to (a file's reader must see one of them).
    pub async fn attachment_units(&self, hash: &ContentHash) -> Result<Vec<UnitId>> {
        let ids: Vec<i64> = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT DISTINCT unit_id FROM attachments WHERE hash = $1"
        )
        .bind(hash.as_str())
        .fetch_all(pool)
        .await?);
        ids.into_iter().map(rows::unit_id).collect()
    }

    /// The targets set for an ISO week.
    pub async fn targets(&self, week: &IsoWeek) -> Result<Vec<Target>> {
        let rows: Vec<TargetRow> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT group_id, week, closures, set_by, set_at FROM targets WHERE week = $1 \
             ORDER BY group_id"
        )
        .bind(week.as_str())
        .fetch_all(pool)
        .await?);
        rows::convert(rows)
    }

    /// The leader's comment on `region`'s briefing of `date`, if one was written.
    pub async fn briefing_comment(
        &self,
        region: &RegionId,
        date: NaiveDate,
    ) -> Result<Option<BriefingComment>> {
        let row: Option<CommentRow> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT region_id, day, text, set_by, set_at FROM briefing_comments \
             WHERE region_id = $1 AND day = $2"
        )
        .bind(region.as_str())
        .bind(date.to_string())
        .fetch_optional(pool)
        .await?);
        row.map(BriefingComment::try_from).transpose()
    }

    /// The latest week up to `up_to` (ISO weeks sort as text) that has a target.
    pub async fn latest_target_week(&self, up_to: &IsoWeek) -> Result<Option<IsoWeek>> {
        let week: Option<String> = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT max(week) FROM targets WHERE week <= $1"
        )
        .bind(up_to.as_str())
        .fetch_one(pool)
        .await?);
        week.map(|w| rows::parse("targets.week", &w)).transpose()
    }

    /// Sets targets (each replacing the one for its group and week), in one transaction.
    pub async fn put_targets(&self, targets: &[Target]) -> Result<()> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            for t in targets {
                sqlx::query(super::commit::UPSERT_TARGET)
                    .bind(t.group.as_str())
                    .bind(t.week.as_str())
                    .bind(i32::try_from(t.closures).unwrap_or(i32::MAX))
                    .bind(t.set_at)
                    .bind(&t.set_by)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The hazard type of each of `ids` (for lists that name the hazards).
    pub async fn hazard_types(&self, ids: &[HazardId]) -> Result<HashMap<HazardId, String>> {
        let raw: Vec<i64> = ids.iter().map(|i| i.get()).collect();
        let sql = self.in_list("SELECT id, hazard_type FROM hazards WHERE id IN ({ids})");
        let rows: Vec<(i64, String)> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(sqlx::types::Json(&raw))
            .fetch_all(pool)
            .await?);
        rows.into_iter()
            .map(|(h, t)| Ok((rows::id("hazards.id", h)?, t)))
            .collect()
    }

    /// Undelivered notices whose next attempt is due.
    pub async fn due_notices(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Notice>> {
        let rows: Vec<NoticeRow> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT id, event_seq, unit_id, recipient, phone, message, attempts FROM notices \
             WHERE delivered_at IS NULL AND next_attempt_at <= $1 ORDER BY id LIMIT $2"
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?);
        rows::convert(rows)
    }

    /// Records a delivery attempt.
    pub async fn notice_outcome(&self, id: i64, outcome: NoticeOutcome) -> Result<()> {
        self.delivery_outcome("notices", id, outcome).await
    }

    /// Records a delivery attempt of a row of an outbox `table` (`notices`,
    /// `briefing_deliveries`).
    pub(super) async fn delivery_outcome(
        &self,
        table: &'static str,
        id: i64,
        outcome: NoticeOutcome,
    ) -> Result<()> {
        match outcome {
            NoticeOutcome::Delivered(at) => {
                let sql = format!(
                    "UPDATE {table} SET delivered_at = $1, attempts = attempts + 1, \
                     last_error = NULL WHERE id = $2"
                );
                on_pool!(self, |pool| sqlx::query(&sql)
                    .bind(at)
                    .bind(id)
                    .execute(pool)
                    .await
                    .map(drop)?)
            }
            NoticeOutcome::Failed { error, retry_at } => {
                let sql = format!(
                    "UPDATE {table} SET attempts = attempts + 1, last_error = $1, \
                     next_attempt_at = $2 WHERE id = $3"
                );
                on_pool!(self, |pool| sqlx::query(&sql)
                    .bind(&error)
                    .bind(retry_at)
                    .bind(id)
                    .execute(pool)
                    .await
                    .map(drop)?)
            }
        };
        Ok(())
    }
}
