//! Owners' fix links and reports as read back: a link by its token's hash or id, a
//! report by id, a unit's links and reports, and the units whose reports wait for an
//! inspector (few: a report waits days at most).

use chrono::{DateTime, Utc};

use super::rows::{id, parse};
use super::{AnyStore, Result, StoreError};
use crate::domain::{FixLink, FixReport, UnitId};

const LINK_COLUMNS: &str = "id, unit_id, made_by, made_at, expires_at, revoked_at";
const REPORT_COLUMNS: &str =
    "id, unit_id, link_id, sent_at, note, photos, status, handled_by, handled_at, reason";

#[derive(sqlx::FromRow)]
struct LinkRow {
    id: i64,
    unit_id: i64,
    made_by: String,
    made_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<LinkRow> for FixLink {
    type Error = StoreError;
    fn try_from(r: LinkRow) -> Result<Self> {
        Ok(FixLink {
            id: id("fix_links.id", r.id)?,
            unit: id("fix_links.unit_id", r.unit_id)?,
            made_by: r.made_by,
            made_at: r.made_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ReportRow {
    id: i64,
    unit_id: i64,
    link_id: i64,
    sent_at: DateTime<Utc>,
    note: String,
    photos: String,
    status: String,
    handled_by: Option<String>,
    handled_at: Option<DateTime<Utc>>,
    reason: Option<String>,
}

impl TryFrom<ReportRow> for FixReport {
    type Error = StoreError;
    fn try_from(r: ReportRow) -> Result<Self> {
        Ok(FixReport {
            id: id("fix_reports.id", r.id)?,
            unit: id("fix_reports.unit_id", r.unit_id)?,
            link: id("fix_reports.link_id", r.link_id)?,
            at: r.sent_at,
            note: r.note,
            photos: serde_json::from_str(&r.photos).map_err(|e| StoreError::Corrupt {
                column: "fix_reports.photos",
                message: e.to_string(),
            })?,
            status: parse("fix_reports.status", &r.status)?,
            handled_by: r.handled_by,
            handled_at: r.handled_at,
            reason: r.reason,
        })
    }
}

/// A unit's links and reports, newest first.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct UnitFixes {
    /// Its links (their secrets are not kept).
    pub links: Vec<FixLink>,
    /// The reports sent through them.
    pub reports: Vec<FixReport>,
}

impl AnyStore {
    /// The link whose token hashes to `token_hash`.
    pub async fn fix_link_by_token(&self, token_hash: &str) -> Result<Option<FixLink>> {
        let row: Option<LinkRow> = on_pool!(self, |pool| sqlx::query_as(&format!(
            "SELECT {LINK_COLUMNS} FROM fix_links WHERE token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(pool)
        .await?);
        row.map(FixLink::try_from).transpose()
    }

    /// Link `link`.
    pub async fn fix_link(&self, link: i64) -> Result<Option<FixLink>> {
        let row: Option<LinkRow> = on_pool!(self, |pool| sqlx::query_as(&format!(
            "SELECT {LINK_COLUMNS} FROM fix_links WHERE id = $1"
        ))
        .bind(link)
        .fetch_optional(pool)
        .await?);
        row.map(FixLink::try_from).transpose()
    }

    /// Report `report`.
    pub async fn fix_report(&self, report: i64) -> Result<Option<FixReport>> {
        let row: Option<ReportRow> = on_pool!(self, |pool| sqlx::query_as(&format!(
            "SELECT {REPORT_COLUMNS} FROM fix_reports WHERE id = $1"
        ))
        .bind(report)
        .fetch_optional(pool)
        .await?);
        row.map(FixReport::try_from).transpose()
    }

    /// A unit's links and reports, newest first.
    pub async fn unit_fixes(&self, unit: UnitId) -> Result<UnitFixes> {
        let (links, reports): (Vec<LinkRow>, Vec<ReportRow>) = on_pool!(self, |pool| {
            let links = sqlx::query_as(&format!(
                "SELECT {LINK_COLUMNS} FROM fix_links WHERE unit_id = $1 ORDER BY id DESC"
            ))
            .bind(unit.get())
            .fetch_all(pool)
            .await?;
            let reports = sqlx::query_as(&format!(
                "SELECT {REPORT_COLUMNS} FROM fix_reports WHERE unit_id = $1 ORDER BY id DESC"
            ))
            .bind(unit.get())
            .fetch_all(pool)
            .await?;
            (links, reports)
        });
        Ok(UnitFixes {
            links: links
                .into_iter()
                .map(FixLink::try_from)
                .collect::<Result<_>>()?,
            reports: reports
                .into_iter()
                .map(FixReport::try_from)
                .collect::<Result<_>>()?,
        })
    }

    /// The units with reports waiting for an inspector.
    pub async fn waiting_fix_reports(&self) -> Result<Vec<UnitId>> {
        let rows: Vec<i64> = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT DISTINCT unit_id FROM fix_reports WHERE status = 'waiting'"
        )
        .fetch_all(pool)
        .await?);
        rows.into_iter()
            .map(|u| id("fix_reports.unit_id", u))
            .collect()
    }
}
