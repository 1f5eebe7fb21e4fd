//! Registering a unit: the colour it enters the map with and its record, whose id the
//! store assigns. Its micro-grid came with the change (where its location lies).

use serde_json::Value;

use super::{Ctx, Draft, WriteError, on_unit, records};
use crate::domain::{Change, EventKind, NewUnit};

pub(super) fn draft(change: &Change, u: &NewUnit, cx: &Ctx<'_>) -> Result<Draft, WriteError> {
    let mut d = Draft::new(EventKind::UnitRegistered, cx);
    on_unit(&mut d, change, &*cx.map()?)?;
    d.unit_name = Some(u.name.to_string());
    d.region = Some(u.micro_grid.clone());
    let unit = u.clone();
    d.after = Box::new(move |assigned| {
        assigned
            .unit
            .map_or(Value::Null, |id| records::unit_json(&unit.with_id(id)))
    });
    Ok(d)
}
