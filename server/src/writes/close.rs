//! Closing a hazard (销号) with evidence of its rectification: not before it was found.

use serde_json::json;

use super::{Ctx, Draft, WriteError, on_hazard};
use crate::domain::{Change, Closure, EventKind};

pub(super) async fn draft(change: &Change, c: &Closure, cx: &Ctx<'_>) -> Result<Draft, WriteError> {
    let mut d = Draft::new(EventKind::HazardClosed, cx);
    let h = on_hazard(&mut d, change, c.hazard, cx).await?;
    if c.at.get() < h.found_at {
        return Err(WriteError::invalid(
            "at",
            "a hazard cannot be closed before it was found",
        ));
    }
    let mut after = d.before.clone();
    after["closed_at"] = json!(c.at);
    after["evidence"] = json!(c.evidence);
    after["open"] = json!(false);
    after["overdue"] = json!(false);
    after["overdue_days"] = json!(0);
    if let Some(r) = c.report {
        after["fix_report"] = json!(r);
    }
    d.after = Box::new(move |_| after.clone());
    Ok(d)
}
