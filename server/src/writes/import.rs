//! Importing a register: one event per unit written (registered or edited, by the
//! importing user, so each unit's history shows it), then one for the file, which is
//! what the live feed carries: a large import is one change on the wall, not a ticker
//! line per unit. The rows were checked against the map when the file was read
//! (`app::import`); here each is previewed again under the writer lock.

use serde_json::json;

use super::{Ctx, Draft, WriteError, records};
use crate::domain::{Change, EventKind, UnitEdit, UnitImport};

pub(super) async fn draft(import: &UnitImport, cx: &Ctx<'_>) -> Result<Draft, WriteError> {
    let updated: Vec<_> = import.units.iter().filter_map(|r| r.existing).collect();
    let mut texts = cx.store.unit_texts(&updated).await?;
    let map = cx.map()?;
    let mut parts = Vec::with_capacity(import.units.len());
    for (i, row) in import.units.iter().enumerate() {
        // A host that is a new unit of the file is not on the map yet: the row is
        // previewed without it (a unit's colour does not depend on its host).
        let unit = row.unit.clone();
        let (kind, preview) = match row.existing {
            None => (
                EventKind::UnitRegistered,
                map.preview(&Change::Register(unit))?,
            ),
            Some(id) => (
                EventKind::UnitEdited,
                map.preview(&Change::Edit(UnitEdit { id, unit }))?,
            ),
        };
        let mut d = Draft::new(kind, cx);
        d.unit = row.existing;
        d.row = Some(i);
        d.unit_name = Some(row.unit.name.to_string());
        d.region = Some(row.unit.micro_grid.clone());
        d.colour_before = preview.before;
        d.colour_after = preview.after;
        if let Some(u) = preview.unit {
            let e = &map.units[u as usize];
            let text = texts.remove(&e.unit.id).unwrap_or_default();
            let micro_grid = map.regions.get(e.micro_grid).id.clone();
            d.before = records::unit_json(&e.unit.with_text(micro_grid, text));
        }
        let row = row.clone();
        d.after = Box::new(move |assigned| match assigned.units.get(i) {
            Some(&id) => records::unit_json(&row.resolved(&assigned.units).with_id(id)),
            None => serde_json::Value::Null,
        });
        parts.push(d);
    }
    let (new, updated) = import.counts();
    let mut d = Draft::new(EventKind::UnitsImported, cx);
    d.region = Some(map.regions.get(map.regions.root()).id.clone());
    let summary = json!({
        "source": import.source.as_str(),
        "new": new,
        "updated": updated,
        "unchanged": import.unchanged,
    });
    d.after = Box::new(move |_| summary.clone());
    d.parts = parts;
    Ok(d)
}
