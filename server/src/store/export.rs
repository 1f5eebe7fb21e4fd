//! What an export reads from the store, a chunk of ids at a time, written once for both
//! backends: hazards by id, and the visits of some units in a time range with how many
//! hazards each recorded.

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::rows::{self, HazardRow, InspectionRow};
use super::{AnyStore, Result};
use crate::domain::{Hazard, HazardId, Inspection, UnitId};

/// A visit with how many hazards it recorded (none: a pass).
#[derive(Debug, Clone, PartialEq)]
pub struct VisitFindings {
    /// The visit.
    pub visit: Inspection,
    /// Hazards recorded on it.
    pub hazards_found: u32,
}

/// A visit as read, with its count of hazards.
#[derive(sqlx::FromRow)]
struct VisitRow {
    #[sqlx(flatten)]
    visit: InspectionRow,
    hazards_found: i64,
}

impl AnyStore {
    /// The hazards of `ids` that exist, in no particular order.
    pub async fn hazards_by_id(&self, ids: &[HazardId]) -> Result<Vec<Hazard>> {
        let raw: Vec<i64> = ids.iter().map(|i| i.get()).collect();
        let sql = self.in_list(
            "SELECT id, unit_id, inspection_id, category, hazard_type, severity, stage, \
             found_at, deadline, yellow_card_at, closed_at, evidence, comprehensive \
             FROM hazards WHERE id IN ({ids})",
        );
        let rows: Vec<HazardRow> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(Json(&raw))
            .fetch_all(pool)
            .await?);
        rows::convert(rows)
    }

    /// The visits to `units` at or after `from` and before `until` (either open), each
    /// with how many hazards it recorded; by unit, then in the order they were recorded.
    ///
    /// Both bounds are compared in SQL: PostgreSQL compares `timestamptz`; SQLite
    /// compares the RFC 3339 text sqlx writes in UTC, which orders as the moments do
    /// against a bound on a whole second (a half-open range keeps it so at the end:
    /// `T16:00:00+00:00` sorts after every moment of the second before it, with or
    /// without a fraction, with `Z` or `+00:00`).
    pub async fn visits_of(
        &self,
        units: &[UnitId],
        from: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<VisitFindings>> {
        let raw: Vec<i64> = units.iter().map(|i| i.get()).collect();
        // The hazards are counted from the units' (the index on `hazards.unit_id`),
        // not visit by visit.
        let sql = self.in_list(
            "SELECT i.id, i.unit_id, i.kind, i.inspector, i.inspected_at, i.signature, \
             i.photos, i.comprehensive, i.note, COALESCE(f.n, 0) AS hazards_found \
             FROM inspections i \
             LEFT JOIN (SELECT inspection_id, count(*) AS n FROM hazards \
                        WHERE unit_id IN ({ids}) GROUP BY inspection_id) f \
               ON f.inspection_id = i.id \
             WHERE i.unit_id IN ({ids}) \
               AND ($2 IS NULL OR i.inspected_at >= $2) \
               AND ($3 IS NULL OR i.inspected_at < $3) \
             ORDER BY i.unit_id, i.id",
        );
        let rows: Vec<VisitRow> = on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(Json(&raw))
            .bind(from)
            .bind(until)
            .fetch_all(pool)
            .await?);
        rows.into_iter()
            .map(|r| {
                Ok(VisitFindings {
                    visit: r.visit.try_into()?,
                    hazards_found: u32::try_from(r.hazards_found).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }
}
