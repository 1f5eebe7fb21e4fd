//! Where a write is committed: its [`Change`] and its [`Journal`] — the event it
//! appends, the unit's colour column, the notices it queues, the answer an
//! `Idempotency-Key` replays, the clock watermark — in ONE transaction, so none exists
//! without the others. The SQL is the same on both backends but for a unit's point
//! (PostGIS geometry or two columns), which each backend writes itself.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use super::journal::{Assigned, Event, Journal};
use super::rows::{assigned_id, missing_or_conflict};
use super::{AnyStore, Result, StoreError};
use crate::domain::{
    Change, Closure, Colour, FixRejection, HazardId, InspectionId, UnitEdit, UnitId, YellowCard,
};

/// Whether the record `id` exists in `table` (one of our own table names), inside the
/// write's transaction.
macro_rules! exists {
    ($tx:ident, $table:literal, $id:expr) => {
        sqlx::query_scalar::<_, bool>(concat!(
            "SELECT EXISTS (SELECT 1 FROM ",
            $table,
            " WHERE id = $1)"
        ))
        .bind($id)
        .fetch_one(&mut *$tx)
        .await?
    };
}

/// A file stored once by its hash and added to a unit's record, inside the write's
/// transaction.
macro_rules! attach {
    ($tx:ident, $a:expr) => {{
        let a = $a;
        sqlx::query(
            "INSERT INTO blobs (hash, content_type, size, data) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (hash) DO NOTHING",
        )
        .bind(a.hash.as_str())
        .bind(a.content_type)
        .bind(a.data.len() as i64)
        .bind(a.data.as_ref())
        .execute(&mut *$tx)
        .await?;
        sqlx::query(
            "INSERT INTO attachments (unit_id, hash, kind, created_at, actor) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(a.unit.get())
        .bind(a.hash.as_str())
        .bind(a.kind.as_str())
        .bind(a.at)
        .bind(&a.actor)
        .execute(&mut *$tx)
        .await?;
    }};
}

/// Rows a multi-row INSERT takes (12 columns × 400 stays under both backends' limits
/// on bound parameters).
const ROWS_PER_INSERT: usize = 400;

impl AnyStore {
    /// Commits `change` and what `journal` makes of the ids it was given, in one
    /// transaction. Returns the ids the store assigned (a new unit's, a visit's and its
    /// hazards').
    pub async fn commit<F>(&self, change: &Change, journal: F) -> Result<Assigned>
    where
        F: FnOnce(&Assigned) -> Journal + Send,
    {
        self.transact(Some(change), journal).await
    }

    /// Commits a journal of no change (the colours the clock changed, the watermark).
    pub async fn log(&self, journal: Journal) -> Result<()> {
        self.transact(None, move |_| journal).await.map(drop)
    }

    async fn transact<F>(&self, change: Option<&Change>, journal: F) -> Result<Assigned>
    where
        F: FnOnce(&Assigned) -> Journal + Send,
    {
        on_pool!(self, |pool, dialect| {
            let mut tx = dialect::begin_write(pool).await?;
            let mut assigned = Assigned::default();
            match change {
                None => {}
                Some(Change::Register(u)) => {
                    let id = dialect::insert_unit(&mut tx, u).await?;
                    assigned.unit = Some(assigned_id(id, "units.id")?);
                }
                Some(Change::Import(import)) => {
                    let mut keys: Vec<(&str, i64)> = Vec::new();
                    for (i, row) in import.units.iter().enumerate() {
                        let unit = import.unit_at(i, &assigned.units);
                        let id = match row.existing {
                            None => assigned_id(
                                dialect::insert_unit(&mut tx, &unit).await?,
                                "units.id",
                            )?,
                            Some(id) => {
                                let edit = UnitEdit {
                                    id,
                                    unit: unit.into_owned(),
                                };
                                if dialect::update_unit(&mut tx, &edit).await? == 0 {
                                    return Err(missing_or_conflict(false, "unit", id.get(), ""));
                                }
                                id
                            }
                        };
                        if let Some(key) = &row.external_id {
                            keys.push((key.as_str(), id.get()));
                        }
                        assigned.units.push(id);
                    }
                    // A key moves with its unit; one already on another unit is refused
                    // by the table's UNIQUE (the import matched it first).
                    for chunk in keys.chunks(ROWS_PER_INSERT) {
                        let mut q = sqlx::QueryBuilder::new(
                            "INSERT INTO unit_external_ids (external_id, unit_id) ",
                        );
                        q.push_values(chunk, |mut row, (key, id)| {
                            row.push_bind(*key).push_bind(*id);
                        });
                        q.push(" ON CONFLICT (external_id) DO NOTHING");
                        q.build().execute(&mut *tx).await?;
                    }
                }
                Some(Change::Records(import)) => {
                    for v in &import.visits {
                        let id: i64 = sqlx::query_scalar(
                            "INSERT INTO inspections (unit_id, kind, inspector, inspected_at, \
                             signature, photos, comprehensive, note) \
                             VALUES ($1, $2, $3, $4, NULL, $5, FALSE, '') RETURNING id",
                        )
                        .bind(v.unit.get())
                        .bind(v.kind.as_str())
                        .bind(v.inspector.as_str())
                        .bind(v.at)
                        .bind(super::rows::photos_json(&[]))
                        .fetch_one(&mut *tx)
                        .await?;
                        let inspection: InspectionId = assigned_id(id, "inspections.id")?;
                        assigned.inspections.push(inspection);
                        for h in &v.hazards {
                            let id: i64 = sqlx::query_scalar(
                                "INSERT INTO hazards (unit_id, inspection_id, category, \
                                 hazard_type, severity, stage, found_at, deadline, \
                                 yellow_card_at, closed_at, evidence, comprehensive) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, FALSE) \
                                 RETURNING id",
                            )
                            .bind(v.unit.get())
                            .bind(inspection.get())
                            .bind(h.category.as_str())
                            .bind(h.hazard_type.as_str())
                            .bind(h.severity.as_str())
                            .bind(h.stage.as_str())
                            .bind(v.at)
                            .bind(h.deadline)
                            .bind(h.yellow_card_at)
                            .bind(h.closed_at)
                            .bind(h.evidence.as_ref().map(|e| e.as_str()))
                            .fetch_one(&mut *tx)
                            .await?;
                            assigned.hazards.push(assigned_id(id, "hazards.id")?);
                        }
                    }
                }
                Some(Change::Regions(import)) => {
                    // A region of a known id is replaced whole (parents come first).
                    let sql = format!(
                        "INSERT INTO regions (id, level, parent_id, code, name, geom) \
                         VALUES ($1, $2, $3, $4, $5, {}) \
                         ON CONFLICT (id) DO UPDATE SET level = excluded.level, \
                         parent_id = excluded.parent_id, code = excluded.code, \
                         name = excluded.name, geom = excluded.geom",
                        dialect::POLYGON
                    );
                    for r in &import.regions {
                        let geom = r
                            .boundary
                            .as_ref()
                            .map(super::geometry::to_wkb)
                            .transpose()?;
                        sqlx::query(&sql)
                            .bind(r.id.as_str())
                            .bind(r.level.as_str())
                            .bind(r.parent.as_ref().map(|p| p.as_str()))
                            .bind(r.code.as_deref())
                            .bind(r.name.as_str())
                            .bind(geom)
                            .execute(&mut *tx)
                            .await?;
                    }
                    for (unit, micro_grid) in &import.moved {
                        let moved =
                            sqlx::query("UPDATE units SET micro_grid_id = $2 WHERE id = $1")
                                .bind(unit.get())
                                .bind(micro_grid.as_str())
                                .execute(&mut *tx)
                                .await?
                                .rows_affected();
                        if moved == 0 {
                            return Err(missing_or_conflict(false, "unit", unit.get(), ""));
                        }
                    }
                }
                Some(Change::Edit(e)) => {
                    let changed = dialect::update_unit(&mut tx, e).await?;
                    if changed == 0 {
                        return Err(missing_or_conflict(false, "unit", e.id.get(), ""));
                    }
                }
                Some(Change::Inspect(v)) => {
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO inspections (unit_id, kind, inspector, inspected_at, \
                         signature, photos, comprehensive, note) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                    )
                    .bind(v.unit.get())
                    .bind(v.kind.as_str())
                    .bind(v.inspector.as_str())
                    .bind(v.at.get())
                    .bind(v.signature.as_ref().map(|s| s.as_str()))
                    .bind(super::rows::photos_json(
                        &v.photos.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                    ))
                    .bind(v.comprehensive)
                    .bind(v.note.as_str())
                    .fetch_one(&mut *tx)
                    .await?;
                    let inspection: InspectionId = assigned_id(id, "inspections.id")?;
                    assigned.inspection = Some(inspection);
                    for h in &v.hazards {
                        let id: i64 = sqlx::query_scalar(
                            "INSERT INTO hazards (unit_id, inspection_id, category, hazard_type, \
                             severity, stage, found_at, deadline, comprehensive) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                        )
                        .bind(v.unit.get())
                        .bind(inspection.get())
                        .bind(h.category.as_str())
                        .bind(h.hazard_type.as_str())
                        .bind(h.severity.as_str())
                        .bind(h.stage.as_str())
                        .bind(v.at.get())
                        .bind(h.deadline.map(|d| d.get()))
                        .bind(v.comprehensive)
                        .fetch_one(&mut *tx)
                        .await?;
                        assigned.hazards.push(assigned_id(id, "hazards.id")?);
                    }
                }
                Some(Change::YellowCard(YellowCard {
                    hazard,
                    at,
                    deadline,
                })) => {
                    let done = sqlx::query(
                        "UPDATE hazards SET yellow_card_at = $1, deadline = $2 \
                         WHERE id = $3 AND closed_at IS NULL",
                    )
                    .bind(at.get())
                    .bind(deadline.get())
                    .bind(hazard.get())
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Err(hazard_refused(
                            exists!(tx, "hazards", hazard.get()),
                            *hazard,
                        ));
                    }
                }
                Some(Change::Close(Closure {
                    hazard,
                    at,
                    evidence,
                    report,
                    by,
                })) => {
                    let done = sqlx::query(
                        "UPDATE hazards SET closed_at = $1, evidence = $2 \
                         WHERE id = $3 AND closed_at IS NULL",
                    )
                    .bind(at.get())
                    .bind(evidence.as_str())
                    .bind(hazard.get())
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Err(hazard_refused(
                            exists!(tx, "hazards", hazard.get()),
                            *hazard,
                        ));
                    }
                    if let Some(report) = report {
                        // A report may rest several closures; the first accepts it.
                        let done = sqlx::query(
                            "UPDATE fix_reports SET status = 'accepted', \
                             handled_by = COALESCE(handled_by, $1), \
                             handled_at = COALESCE(handled_at, $2) \
                             WHERE id = $3 AND status IN ('waiting', 'accepted') \
                             AND unit_id = (SELECT unit_id FROM hazards WHERE id = $4)",
                        )
                        .bind(by)
                        .bind(at.get())
                        .bind(report.get())
                        .bind(hazard.get())
                        .execute(&mut *tx)
                        .await?;
                        if done.rows_affected() == 0 {
                            let found = exists!(tx, "fix_reports", report.get());
                            let why =
                                format!("fix report {report} was rejected or is another unit's");
                            return Err(missing_or_conflict(
                                found,
                                "fix report",
                                report.get(),
                                &why,
                            ));
                        }
                    }
                }
                Some(Change::Suspend { unit, at }) => {
                    let open: Option<i64> = sqlx::query_scalar(
                        "SELECT (SELECT count(*) FROM suspensions \
                         WHERE unit_id = u.id AND ended_at IS NULL) FROM units u WHERE u.id = $1",
                    )
                    .bind(unit.get())
                    .fetch_optional(&mut *tx)
                    .await?;
                    match open {
                        None => return Err(missing_or_conflict(false, "unit", unit.get(), "")),
                        Some(n) if n > 0 => return Err(already_suspended(*unit)),
                        Some(_) => {}
                    }
                    // The one-open-order index settles a race with another server.
                    sqlx::query("INSERT INTO suspensions (unit_id, started_at) VALUES ($1, $2)")
                        .bind(unit.get())
                        .bind(at.get())
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| match &e {
                            sqlx::Error::Database(db) if db.is_unique_violation() => {
                                already_suspended(*unit)
                            }
                            _ => e.into(),
                        })?;
                }
                Some(Change::Resume { unit, at }) => {
                    let done = sqlx::query(
                        "UPDATE suspensions SET ended_at = $1 \
                         WHERE unit_id = $2 AND ended_at IS NULL",
                    )
                    .bind(at.get())
                    .bind(unit.get())
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        let found = exists!(tx, "units", unit.get());
                        return Err(missing_or_conflict(
                            found,
                            "unit",
                            unit.get(),
                            "unit is not suspended",
                        ));
                    }
                }
                Some(Change::SetTarget(t)) => {
                    sqlx::query(UPSERT_TARGET)
                        .bind(t.group.as_str())
                        .bind(t.week.as_str())
                        .bind(i32::try_from(t.closures).unwrap_or(i32::MAX))
                        .bind(t.set_at)
                        .bind(&t.set_by)
                        .execute(&mut *tx)
                        .await?;
                }
                Some(Change::Comment(c)) => {
                    sqlx::query(
                        "INSERT INTO briefing_comments (region_id, day, text, set_by, set_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (region_id, day) DO UPDATE \
                         SET text = excluded.text, set_by = excluded.set_by, \
                         set_at = excluded.set_at",
                    )
                    .bind(c.region.as_str())
                    .bind(c.date.to_string())
                    .bind(c.text.as_str())
                    .bind(&c.by)
                    .bind(c.at)
                    .execute(&mut *tx)
                    .await?;
                }
                Some(Change::SendBriefing(b)) => {
                    // Once per group and day: a second send queues nothing again.
                    for d in &b.deliveries {
                        sqlx::query(
                            "INSERT INTO briefing_deliveries (day, group_id, region_id, sink, \
                             message, sent_by, created_at, next_attempt_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
                             ON CONFLICT (day, group_id) DO NOTHING",
                        )
                        .bind(b.date.to_string())
                        .bind(d.group.as_str())
                        .bind(b.region.as_str())
                        .bind(&d.sink)
                        .bind(&d.message)
                        .bind(&b.by)
                        .bind(b.at)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                Some(Change::Attach(a)) => attach!(tx, a),
                Some(Change::FixLink(l)) => {
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO fix_links (unit_id, token_hash, made_by, made_at, expires_at) \
                         SELECT id, $2, $3, $4, $5 FROM units WHERE id = $1 RETURNING id",
                    )
                    .bind(l.unit.get())
                    .bind(l.token.hash())
                    .bind(&l.by)
                    .bind(l.at)
                    .bind(l.expires_at())
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| missing_or_conflict(false, "unit", l.unit.get(), ""))?;
                    assigned.fix_link = Some(assigned_id(id, "fix_links.id")?);
                }
                Some(Change::RevokeFixLink { link, unit, at }) => {
                    let done = sqlx::query(
                        "UPDATE fix_links SET revoked_at = $1 \
                         WHERE id = $2 AND unit_id = $3 AND revoked_at IS NULL",
                    )
                    .bind(at)
                    .bind(link.get())
                    .bind(unit.get())
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        let found = exists!(tx, "fix_links", link.get());
                        let why = format!("fix link {link} is already revoked");
                        return Err(missing_or_conflict(found, "fix link", link.get(), &why));
                    }
                }
                Some(Change::FixReport(r)) => {
                    // The link is checked in the transaction that uses it: a link revoked
                    // a moment before takes nothing.
                    let link: Option<(i64, DateTime<Utc>, Option<DateTime<Utc>>)> = sqlx::query_as(
                        "SELECT unit_id, expires_at, revoked_at FROM fix_links WHERE id = $1",
                    )
                    .bind(r.link.get())
                    .fetch_optional(&mut *tx)
                    .await?;
                    match link {
                        Some((unit, _, _)) if unit != r.unit.get() => {
                            return Err(missing_or_conflict(false, "fix link", r.link.get(), ""));
                        }
                        None => {
                            return Err(missing_or_conflict(false, "fix link", r.link.get(), ""));
                        }
                        Some((_, _, Some(_))) => {
                            return Err(StoreError::Conflict(
                                "this link was revoked; ask the inspector for a new one".into(),
                            ));
                        }
                        Some((_, expires, None)) if expires <= r.at => {
                            return Err(StoreError::Conflict(
                                "this link has expired; ask the inspector for a new one".into(),
                            ));
                        }
                        Some(_) => {}
                    }
                    for a in &r.photos {
                        attach!(tx, a);
                    }
                    let photos: Vec<String> = r.photos.iter().map(|a| a.hash.to_string()).collect();
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO fix_reports (unit_id, link_id, sent_at, note, photos, status) \
                         VALUES ($1, $2, $3, $4, $5, 'waiting') RETURNING id",
                    )
                    .bind(r.unit.get())
                    .bind(r.link.get())
                    .bind(r.at)
                    .bind(r.note.as_str())
                    .bind(super::rows::photos_json(&photos))
                    .fetch_one(&mut *tx)
                    .await?;
                    assigned.fix_report = Some(assigned_id(id, "fix_reports.id")?);
                }
                Some(Change::RejectFix(FixRejection {
                    report,
                    unit,
                    reason,
                    at,
                    by,
                })) => {
                    let done = sqlx::query(
                        "UPDATE fix_reports SET status = 'rejected', handled_by = $1, \
                         handled_at = $2, reason = $3 \
                         WHERE id = $4 AND unit_id = $5 AND status = 'waiting'",
                    )
                    .bind(by)
                    .bind(at)
                    .bind(reason.as_str())
                    .bind(report.get())
                    .bind(unit.get())
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        let found = exists!(tx, "fix_reports", report.get());
                        let why = format!("fix report {report} was already handled");
                        return Err(missing_or_conflict(found, "fix report", report.get(), &why));
                    }
                }
            }
            let journal = journal(&assigned);
            // Many rows a statement: an import logs an event per unit.
            for chunk in journal.events.chunks(ROWS_PER_INSERT) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO events (seq, at, kind, actor, unit_id, unit_name, hazard_id, \
                     region_id, colour_before, colour_after, before, after) ",
                );
                q.push_values(chunk, |mut row, Event { seq, event: e }| {
                    row.push_bind(*seq)
                        .push_bind(e.at)
                        .push_bind(e.kind.as_str())
                        .push_bind(&e.actor)
                        .push_bind(e.unit.map(UnitId::get))
                        .push_bind(e.unit_name.as_deref())
                        .push_bind(e.hazard.map(HazardId::get))
                        .push_bind(e.region.as_ref().map(|r| r.as_str()))
                        .push_bind(e.colour_before.map(|c| c.as_str()))
                        .push_bind(e.colour_after.map(|c| c.as_str()))
                        .push_bind(Json(&e.before))
                        .push_bind(Json(&e.after));
                });
                q.build().execute(&mut *tx).await?;
            }
            // The table's colour column follows, for other readers of the database: each
            // unit's last colour, one statement per colour.
            let mut last: HashMap<UnitId, Colour> = HashMap::new();
            for Event { event: e, .. } in &journal.events {
                if let (Some(unit), Some(colour)) = (e.unit, e.colour_after) {
                    last.insert(unit, colour);
                }
            }
            for colour in Colour::ALL {
                let ids: Vec<i64> = last
                    .iter()
                    .filter(|(_, c)| *c == colour)
                    .map(|(u, _)| u.get())
                    .collect();
                if ids.is_empty() {
                    continue;
                }
                let sql = self.in_list("UPDATE units SET colour = $2 WHERE id IN ({ids})");
                sqlx::query(&sql)
                    .bind(Json(&ids))
                    .bind(colour.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            let now = Utc::now();
            for n in &journal.notices {
                sqlx::query(
                    "INSERT INTO notices (event_seq, unit_id, recipient, phone, message, \
                     created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
                )
                .bind(journal.events.first().map(|e| e.seq))
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
                    "INSERT INTO idempotency (key, fingerprint, response, created_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(&r.key)
                .bind(&r.fingerprint)
                .bind(Json(&r.response))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            if let Some(w) = journal.watermark {
                sqlx::query(
                    "INSERT INTO clock (id, watermark) VALUES (1, $1) \
                     ON CONFLICT (id) DO UPDATE SET watermark = excluded.watermark",
                )
                .bind(w)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(assigned)
        })
    }
}

/// A group's target for a week, set or replaced (`$1`–`$5`: group, week, closures,
/// set at, set by).
pub(super) const UPSERT_TARGET: &str = "INSERT INTO targets (group_id, week, closures, set_at, set_by) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (group_id, week) DO UPDATE \
     SET closures = excluded.closures, set_at = excluded.set_at, set_by = excluded.set_by";

/// Why an update of an open hazard touched nothing: it is unknown, or already closed.
fn hazard_refused(exists: bool, hazard: HazardId) -> StoreError {
    missing_or_conflict(
        exists,
        "hazard",
        hazard.get(),
        &format!("hazard {hazard} is already closed"),
    )
}

fn already_suspended(unit: UnitId) -> StoreError {
    missing_or_conflict(true, "unit", unit.get(), "unit is already suspended")
}
