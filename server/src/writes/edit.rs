//! Editing a unit's standing facts: the record before (from the store) and after; the
//! colour does not change with them, the micro-grid does when it moves.

use super::{Ctx, Draft, WriteError, on_unit, records};
use crate::domain::{Change, EventKind, UnitEdit};

pub(super) async fn draft(
    change: &Change,
    e: &UnitEdit,
    cx: &Ctx<'_>,
) -> Result<Draft, WriteError> {
    let old = cx
        .store
        .unit_record(e.id)
        .await?
        .ok_or_else(|| WriteError::not_found("unit", e.id))?;
    let mut d = Draft::new(EventKind::UnitEdited, cx);
    on_unit(&mut d, change, &*cx.map()?)?;
    d.unit_name = Some(e.unit.name.to_string());
    d.region = Some(e.unit.micro_grid.clone());
    d.before = records::unit_json(&old.unit);
    let after = records::unit_json(&e.unit());
    d.after = Box::new(move |_| after.clone());
    Ok(d)
}
