//! Each write, checked against the map and the store before anything is committed, and
//! drafted into the event it appends: kind, unit, colour before and after, the record
//! before and after, and the notices it queues.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::AppState;
use super::WriteError;
use super::records;
use crate::auth::Action;
use crate::domain::{
    Colour, Hazard, HazardId, Inspection, Level, RegionId, Severity, Unit, UnitId,
};
use crate::state::writes::FactChange;
use crate::state::{MapState, RegionIdx, StateError};
use crate::store::{Assigned, Attachment, Change, EventKind, NewEvent, NewNotice, Store, Target};

/// A write, as the HTTP layer hands it over (parsed and typed; checked here).
#[derive(Debug, Clone)]
pub enum Op {
    /// Register a unit.
    Register(Unit),
    /// Replace a unit's standing facts.
    Edit(Unit),
    /// A visit and the hazards it found (none: a pass).
    Inspect {
        /// The visit.
        inspection: Inspection,
        /// What it found.
        hazards: Vec<Hazard>,
    },
    /// A yellow card with a new deadline.
    YellowCard {
        /// The hazard.
        hazard: HazardId,
        /// When issued.
        at: DateTime<Utc>,
        /// The new deadline.
        deadline: DateTime<Utc>,
    },
    /// A hazard closed with evidence.
    Close {
        /// The hazard.
        hazard: HazardId,
        /// When.
        at: DateTime<Utc>,
        /// Evidence of rectification.
        evidence: String,
    },
    /// A suspension order.
    Suspend {
        /// The unit.
        unit: UnitId,
        /// From when.
        at: DateTime<Utc>,
    },
    /// A suspension lifted.
    Resume {
        /// The unit.
        unit: UnitId,
        /// When.
        at: DateTime<Utc>,
    },
    /// A weekly closure target.
    SetTarget(Target),
    /// A file attached to a unit.
    Attach(Attachment),
}

impl Op {
    /// What the write is, as far as roles go.
    pub fn action(&self) -> Action {
        match self {
            Op::Register(_) | Op::Edit(_) => Action::ManageUnits,
            Op::Inspect { .. } => Action::Inspect,
            Op::YellowCard { .. } | Op::Close { .. } => Action::Rectify,
            Op::Suspend { .. } | Op::Resume { .. } => Action::Suspend,
            Op::SetTarget(_) => Action::SetTargets,
            Op::Attach(_) => Action::Attach,
        }
    }

    /// The places the write touches, for the scope check: the unit's micro-grid (both,
    /// for a move), a target's group. Ids the map does not know touch nothing (the write
    /// then fails as not found).
    pub fn places(&self, map: &MapState) -> Vec<RegionIdx> {
        let unit = |id: UnitId| map.unit(id).map(|e| e.micro_grid);
        let hazard = |id: HazardId| {
            map.hazard_slot(id)
                .ok()
                .map(|(u, _)| map.units[u as usize].micro_grid)
        };
        let places = match self {
            Op::Register(u) => vec![map.regions.find(&u.micro_grid)],
            Op::Edit(u) => vec![map.regions.find(&u.micro_grid), unit(u.id)],
            Op::Inspect { inspection, .. } => vec![unit(inspection.unit)],
            Op::YellowCard { hazard: h, .. } | Op::Close { hazard: h, .. } => vec![hazard(*h)],
            Op::Suspend { unit: u, .. } | Op::Resume { unit: u, .. } => vec![unit(*u)],
            Op::SetTarget(t) => vec![map.regions.find(&t.group)],
            Op::Attach(a) => vec![unit(a.unit)],
        };
        places.into_iter().flatten().collect()
    }

    /// The change the store commits.
    pub(super) fn change(&self) -> Change<'_> {
        match self {
            Op::Register(u) => Change::RegisterUnit(u),
            Op::Edit(u) => Change::EditUnit(u),
            Op::Inspect {
                inspection,
                hazards,
            } => Change::Inspect {
                inspection,
                hazards,
            },
            &Op::YellowCard {
                hazard,
                at,
                deadline,
            } => Change::YellowCard {
                hazard,
                at,
                deadline,
            },
            Op::Close {
                hazard,
                at,
                evidence,
            } => Change::Close {
                hazard: *hazard,
                at: *at,
                evidence,
            },
            &Op::Suspend { unit, at } => Change::Suspend { unit, at },
            &Op::Resume { unit, at } => Change::Resume { unit, at },
            Op::SetTarget(t) => Change::SetTarget(t),
            Op::Attach(a) => Change::Attach(a),
        }
    }

    /// The committed write, with the ids the store assigned, as the map takes it.
    fn with_ids(&self, assigned: &Assigned) -> Op {
        let mut op = self.clone();
        match &mut op {
            Op::Register(u) => {
                if let Some(id) = assigned.unit {
                    u.id = id;
                }
            }
            Op::Inspect {
                inspection,
                hazards,
            } => {
                if let Some(id) = assigned.inspection {
                    inspection.id = id;
                }
                for (h, &id) in hazards.iter_mut().zip(&assigned.hazards) {
                    h.id = id;
                    h.inspection = inspection.id;
                }
            }
            _ => {}
        }
        op
    }

    /// The map's side of the change, for the ones that change a unit's facts.
    fn fact_change(&self) -> Option<FactChange<'_>> {
        Some(match self {
            Op::Inspect {
                inspection,
                hazards,
            } => FactChange::Inspect(inspection, hazards),
            &Op::YellowCard {
                hazard,
                at,
                deadline,
            } => FactChange::YellowCard(hazard, at, deadline),
            &Op::Close { hazard, at, .. } => FactChange::Close(hazard, at),
            &Op::Suspend { unit, at } => FactChange::Suspend(unit, at),
            &Op::Resume { unit, at } => FactChange::Resume(unit, at),
            _ => return None,
        })
    }

    /// Applies the committed write to the map.
    pub(super) fn apply(&self, map: &mut MapState, assigned: &Assigned) -> Result<(), StateError> {
        let op = self.with_ids(assigned);
        match op {
            Op::Register(u) => map.insert_unit(u).map(drop),
            Op::Edit(u) => map.edit_unit(u).map(drop),
            Op::SetTarget(_) | Op::Attach(_) => Ok(()),
            ref other => match other.fact_change() {
                Some(change) => map.apply_change(change).map(drop),
                None => Ok(()),
            },
        }
    }
}

/// A write checked and drafted, waiting for the ids the store assigns.
#[derive(Debug, Clone)]
pub(super) struct Draft {
    pub status: u16,
    kind: EventKind,
    actor: String,
    at: DateTime<Utc>,
    unit: Option<UnitId>,
    unit_name: Option<String>,
    hazard: Option<HazardId>,
    region: Option<RegionId>,
    colour_before: Option<Colour>,
    colour_after: Option<Colour>,
    before: Value,
    /// The record after, when known before the commit.
    after: Option<Value>,
    pub notices: Vec<NewNotice>,
}

impl Draft {
    /// The event and the response, given the ids assigned.
    pub fn finish(&self, op: &Op, assigned: &Assigned, seq: i64) -> (NewEvent, Value) {
        let op = op.with_ids(assigned);
        let after = self.after.clone().unwrap_or_else(|| match &op {
            Op::Register(u) => records::unit_json(u),
            Op::Inspect {
                inspection,
                hazards,
            } => json!({
                "inspection": records::inspection_json(inspection),
                "hazards": hazards.iter().map(|h| records::hazard_json(h, self.at)).collect::<Vec<_>>(),
            }),
            _ => Value::Null,
        });
        let unit = self.unit.or(assigned.unit);
        let response = json!({
            "seq": seq,
            "type": self.kind,
            "unit": unit,
            "hazard": self.hazard,
            "colour_before": self.colour_before,
            "colour_after": self.colour_after,
            "record": after,
        });
        let event = NewEvent {
            at: self.at,
            kind: self.kind,
            actor: self.actor.clone(),
            unit,
            unit_name: self.unit_name.clone(),
            hazard: self.hazard,
            region: self.region.clone(),
            colour_before: self.colour_before,
            colour_after: self.colour_after,
            before: self.before.clone(),
            after,
        };
        (event, response)
    }
}

fn state_error(e: StateError) -> WriteError {
    match e {
        StateError::UnknownUnit { unit, .. } => WriteError::NotFound {
            what: "unit",
            id: unit.to_string(),
        },
        StateError::BadHazard(h) => WriteError::NotFound {
            what: "hazard",
            id: h.to_string(),
        },
        StateError::BadHost { .. } => WriteError::invalid(
            "host",
            "the host must be a registered enterprise that is not itself a tenant, and only an enterprise can be hosted",
        ),
        StateError::BadLocation(_) | StateError::UnknownMicroGrid { .. } => WriteError::invalid(
            "location",
            "the location lies outside every micro-grid of the town",
        ),
        e => WriteError::State(e),
    }
}

/// A deadline must lie ahead of the moment it is set.
fn check_deadline(
    field: &str,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), WriteError> {
    if deadline <= now {
        return Err(WriteError::invalid(field, "the deadline is in the past"));
    }
    Ok(())
}

/// The notice text for an owner (the reports' SMS), from the town's name.
fn notice(town: &str, name: &str, body: String) -> String {
    format!("【{town}安全生产】{name}：{body}")
}

fn local_date(t: DateTime<Utc>) -> String {
    t.with_timezone(&crate::domain::time::china_standard_time())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Checks `op` against the map and the store and drafts its event. Runs with the writer
/// lock held, so nothing it read changes before the commit.
pub(super) async fn prepare(
    app: &AppState,
    op: &Op,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Draft, WriteError> {
    let mut d = Draft {
        status: 200,
        kind: EventKind::UnitEdited,
        actor: actor.to_owned(),
        at: now,
        unit: None,
        unit_name: None,
        hazard: None,
        region: None,
        colour_before: None,
        colour_after: None,
        before: Value::Null,
        after: None,
        notices: Vec::new(),
    };
    match op {
        Op::Register(u) => {
            let map = app.read_map()?;
            d.kind = EventKind::UnitRegistered;
            d.status = 201;
            d.unit_name = Some(u.name.clone());
            d.region = Some(u.micro_grid.clone());
            d.colour_after = map.preview_new(u).map_err(state_error)?;
        }
        Op::Edit(u) => {
            let Some(old) = app.store.unit_record(u.id).await? else {
                return Err(WriteError::NotFound {
                    what: "unit",
                    id: u.id.to_string(),
                });
            };
            let map = app.read_map()?;
            let idx = map.unit_idx(u.id).ok_or_else(|| WriteError::NotFound {
                what: "unit",
                id: u.id.to_string(),
            })?;
            map.preview_new(u).map_err(state_error)?;
            d.unit = Some(u.id);
            d.unit_name = Some(u.name.clone());
            d.region = Some(u.micro_grid.clone());
            d.colour_before = map.live().colour(idx);
            d.colour_after = d.colour_before;
            d.before = records::unit_json(&old.unit);
            d.after = Some(records::unit_json(u));
        }
        Op::Inspect {
            inspection,
            hazards,
        } => {
            let texts = app.store.unit_texts(&[inspection.unit]).await?;
            let map = app.read_map()?;
            for (k, h) in hazards.iter().enumerate() {
                if let Some(deadline) = h.deadline {
                    check_deadline(&format!("hazards[{k}].deadline"), deadline, now)?;
                }
            }
            let (idx, before, after) = map
                .preview(FactChange::Inspect(inspection, hazards))
                .map_err(state_error)?;
            let text = texts.get(&inspection.unit).cloned().unwrap_or_default();
            d.kind = if hazards.is_empty() {
                EventKind::Inspection
            } else {
                EventKind::HazardFound
            };
            d.status = 201;
            d.unit = Some(inspection.unit);
            d.region = Some(
                map.regions
                    .get(map.units[idx as usize].micro_grid)
                    .id
                    .clone(),
            );
            d.colour_before = before;
            d.colour_after = after;
            if !hazards.is_empty() && !text.owner_phone.is_empty() {
                let major = hazards
                    .iter()
                    .filter(|h| h.severity == Severity::Major)
                    .count();
                let deadline = hazards.iter().filter_map(|h| h.deadline).min();
                let mut body = format!("本次检查发现隐患{}处", hazards.len());
                if major > 0 {
                    body.push_str(&format!("（其中重大隐患{major}处）"));
                }
                match deadline {
                    Some(t) => body.push_str(&format!("，请于{}前完成整改。", local_date(t))),
                    None => body.push_str("，请立即整改。"),
                }
                d.notices.push(NewNotice {
                    unit: inspection.unit,
                    recipient: text.owner_name.clone(),
                    phone: text.owner_phone.clone(),
                    message: notice(&map.regions.get(map.regions.root()).name, &text.name, body),
                });
            }
            d.unit_name = Some(text.name);
        }
        Op::YellowCard {
            hazard,
            deadline,
            at,
        } => {
            check_deadline("deadline", *deadline, now)?;
            hazard_draft(app, &mut d, *hazard, op).await?;
            d.kind = EventKind::YellowCard;
            if let Some(after) = &mut d.after {
                after["yellow_card_at"] = json!(at);
                after["deadline"] = json!(deadline);
            }
            let town = {
                let map = app.read_map()?;
                map.regions.get(map.regions.root()).name.clone()
            };
            if let Some(u) = d.unit {
                let texts = app.store.unit_texts(&[u]).await?;
                if let Some(t) = texts.get(&u).filter(|t| !t.owner_phone.is_empty()) {
                    let what = d.before["hazard_type"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    d.notices.push(NewNotice {
                        unit: u,
                        recipient: t.owner_name.clone(),
                        phone: t.owner_phone.clone(),
                        message: notice(
                            &town,
                            &t.name,
                            format!(
                                "隐患“{what}”逾期未整改，现发出黄牌警告，请于{}前整改到位。",
                                local_date(*deadline)
                            ),
                        ),
                    });
                }
            }
        }
        Op::Close {
            at,
            hazard,
            evidence,
        } => {
            if evidence.trim().is_empty() {
                return Err(WriteError::invalid(
                    "evidence",
                    "closing a hazard needs evidence of rectification",
                ));
            }
            hazard_draft(app, &mut d, *hazard, op).await?;
            d.kind = EventKind::HazardClosed;
            if let Some(found) = d.before["found_at"].as_str()
                && let Ok(found) = DateTime::parse_from_rfc3339(found)
                && *at < found
            {
                return Err(WriteError::invalid(
                    "at",
                    "a hazard cannot be closed before it was found",
                ));
            }
            if let Some(after) = &mut d.after {
                after["closed_at"] = json!(at);
                after["evidence"] = json!(evidence);
                after["open"] = json!(false);
                after["overdue"] = json!(false);
                after["overdue_days"] = json!(0);
            }
        }
        Op::Suspend { unit, at } | Op::Resume { unit, at } => {
            let suspend = matches!(op, Op::Suspend { .. });
            let texts = app.store.unit_texts(&[*unit]).await?;
            let map = app.read_map()?;
            let change = if suspend {
                FactChange::Suspend(*unit, *at)
            } else {
                FactChange::Resume(*unit, *at)
            };
            let (idx, before, after) = map.preview(change).map_err(state_error)?;
            let e = &map.units[idx as usize];
            let in_force = e.suspensions.iter().find(|s| s.ended_at.is_none());
            match (suspend, in_force) {
                (true, Some(_)) => {
                    return Err(WriteError::Conflict("unit is already suspended".into()));
                }
                (false, None) => return Err(WriteError::Conflict("unit is not suspended".into())),
                (false, Some(s)) if *at < s.started_at => {
                    return Err(WriteError::invalid(
                        "at",
                        "a suspension cannot end before it started",
                    ));
                }
                _ => {}
            }
            d.kind = if suspend {
                EventKind::Suspended
            } else {
                EventKind::Resumed
            };
            d.unit = Some(*unit);
            d.unit_name = texts.get(unit).map(|t| t.name.clone());
            d.region = Some(map.regions.get(e.micro_grid).id.clone());
            d.colour_before = before;
            d.colour_after = after;
            d.before = in_force.map_or(Value::Null, records::suspension_json);
            d.after = Some(if suspend {
                json!({"started_at": at, "ended_at": null})
            } else {
                json!({"started_at": in_force.map(|s| s.started_at), "ended_at": at})
            });
        }
        Op::SetTarget(t) => {
            {
                let map = app.read_map()?;
                let group = map.regions.find(&t.group).map(|i| map.regions.get(i));
                if group.is_none_or(|g| g.level != Level::Group) {
                    return Err(WriteError::invalid(
                        "group",
                        format!("`{}` is not a group of the town", t.group),
                    ));
                }
            }
            let old = app.store.targets(&t.week).await?;
            d.kind = EventKind::TargetSet;
            d.region = Some(t.group.clone());
            d.before = old
                .iter()
                .find(|o| o.group == t.group)
                .map_or(Value::Null, records::target_json);
            d.after = Some(records::target_json(t));
        }
        Op::Attach(a) => {
            let texts = app.store.unit_texts(&[a.unit]).await?;
            let Some(text) = texts.get(&a.unit) else {
                return Err(WriteError::NotFound {
                    what: "unit",
                    id: a.unit.to_string(),
                });
            };
            let map = app.read_map()?;
            if let Some(idx) = map.unit_idx(a.unit) {
                d.region = Some(
                    map.regions
                        .get(map.units[idx as usize].micro_grid)
                        .id
                        .clone(),
                );
                d.colour_before = map.live().colour(idx);
                d.colour_after = d.colour_before;
            }
            d.kind = EventKind::AttachmentAdded;
            d.status = 201;
            d.unit = Some(a.unit);
            d.unit_name = Some(text.name.clone());
            d.after = Some(json!({
                "hash": a.hash,
                "url": records::attachment_url(&a.hash),
                "kind": a.kind,
                "content_type": a.content_type,
                "size": a.data.len(),
            }));
        }
    }
    Ok(d)
}

/// Drafts a change of one open hazard: its record before and after, its unit, colours.
async fn hazard_draft(
    app: &AppState,
    d: &mut Draft,
    hazard: HazardId,
    op: &Op,
) -> Result<(), WriteError> {
    let not_found = || WriteError::NotFound {
        what: "hazard",
        id: hazard.to_string(),
    };
    let unit = {
        let map = app.read_map()?;
        let (u, _) = map.hazard_slot(hazard).map_err(|_| not_found())?;
        map.units[u as usize].unit.id
    };
    let record = app.store.unit_record(unit).await?.ok_or_else(not_found)?;
    let h = record
        .hazards
        .iter()
        .find(|h| h.id == hazard)
        .ok_or_else(not_found)?;
    if h.closed_at.is_some() {
        return Err(WriteError::Conflict(format!(
            "hazard {hazard} is already closed"
        )));
    }
    let map = app.read_map()?;
    let change = op.fact_change().ok_or_else(not_found)?;
    let (idx, before, after) = map.preview(change).map_err(state_error)?;
    d.unit = Some(unit);
    d.unit_name = Some(record.unit.name.clone());
    d.hazard = Some(hazard);
    d.region = Some(
        map.regions
            .get(map.units[idx as usize].micro_grid)
            .id
            .clone(),
    );
    d.colour_before = before;
    d.colour_after = after;
    d.before = records::hazard_json(h, d.at);
    d.after = Some(d.before.clone());
    Ok(())
}
