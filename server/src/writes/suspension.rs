//! An order to suspend business (停业整改), and its lifting: a unit turns black while the
//! order is in force. Whether the unit already is (or is not) suspended is the store's
//! to refuse, in the same transaction as the write.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Ctx, Draft, WriteError, on_unit, records};
use crate::domain::{Change, EventKind, UnitId};

pub(super) async fn draft(
    change: &Change,
    unit: UnitId,
    at: DateTime<Utc>,
    cx: &Ctx<'_>,
) -> Result<Draft, WriteError> {
    let suspend = matches!(change, Change::Suspend { .. });
    let name = cx
        .store
        .unit_texts(&[unit])
        .await?
        .remove(&unit)
        .map(|t| t.name);
    let kind = if suspend {
        EventKind::Suspended
    } else {
        EventKind::Resumed
    };
    let mut d = Draft::new(kind, cx);
    let in_force = {
        let map = cx.map()?;
        on_unit(&mut d, change, &map)?;
        map.unit(unit)
            .and_then(|e| e.suspensions.iter().find(|s| s.ended_at.is_none()).cloned())
    };
    if !suspend && in_force.as_ref().is_some_and(|s| at < s.started_at) {
        return Err(WriteError::invalid(
            "at",
            "a suspension cannot end before it started",
        ));
    }
    d.unit_name = name;
    d.before = in_force
        .as_ref()
        .map_or(Value::Null, records::suspension_json);
    let after = if suspend {
        json!({"started_at": at, "ended_at": null})
    } else {
        json!({"started_at": in_force.map(|s| s.started_at), "ended_at": at})
    };
    d.after = Box::new(move |_| after.clone());
    Ok(d)
}
