//! The briefings' outbox: a day's briefing queued for each group's channel (once per
//! group and day, by the write that sends it), read by the task that delivers them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::rows::parse;
use super::{AnyStore, NoticeOutcome, Result};
use crate::domain::RegionId;

/// A group's briefing of a day, as queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueuedBriefing {
    /// Its row.
    pub id: i64,
    /// The day.
    pub date: NaiveDate,
    /// The group.
    pub group: RegionId,
    /// Where it goes.
    pub sink: String,
    /// The message.
    pub message: String,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// When it was delivered, if it has been.
    pub delivered_at: Option<DateTime<Utc>>,
    /// The last attempt's error.
    pub last_error: Option<String>,
}

type Row = (
    i64,
    String,
    String,
    String,
    String,
    i32,
    Option<DateTime<Utc>>,
    Option<String>,
);

const COLUMNS: &str =
    "id, day, group_id, sink, message, attempts, delivered_at, last_error FROM briefing_deliveries";

fn convert(rows: Vec<Row>) -> Result<Vec<QueuedBriefing>> {
    rows.into_iter()
        .map(
            |(id, day, group, sink, message, attempts, delivered_at, last_error)| {
                Ok(QueuedBriefing {
                    id,
                    date: parse("briefing_deliveries.day", &day)?,
                    group: parse("briefing_deliveries.group_id", &group)?,
                    sink,
                    message,
                    attempts,
                    delivered_at,
                    last_error,
                })
            },
        )
        .collect()
}

impl AnyStore {
    /// The briefings of `date` queued so far, a group each, by group.
    pub async fn briefings_queued(&self, date: NaiveDate) -> Result<Vec<QueuedBriefing>> {
        let sql = format!("SELECT {COLUMNS} WHERE day = $1 ORDER BY group_id");
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(date.to_string())
            .fetch_all(pool)
            .await?);
        convert(rows)
    }

    /// Undelivered briefings whose next attempt is due.
    pub async fn due_briefings(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<QueuedBriefing>> {
        let sql = format!(
            "SELECT {COLUMNS} WHERE delivered_at IS NULL AND next_attempt_at <= $1 \
             ORDER BY id LIMIT $2"
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?);
        convert(rows)
    }

    /// Records a delivery attempt of a briefing.
    pub async fn briefing_outcome(&self, id: i64, outcome: NoticeOutcome) -> Result<()> {
        self.delivery_outcome("briefing_deliveries", id, outcome)
            .await
    }
}
