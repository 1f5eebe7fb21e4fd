//! Importing the apps' records: one event per past visit (`inspection` or
//! `hazard_found`, by the importing user, so each unit's history shows what the app
//! recorded, with the colour before and after), then one for the file
//! (`records_imported`), which is what the live feed carries. The rows were checked
//! when the file was read (`app::import::records`); here the visits are previewed again
//! under the writer lock, in order, for their colours.

use serde_json::{Value, json};

use super::{Ctx, Draft, WriteError, records};
use crate::domain::{EventKind, RecordImport};

pub(super) async fn draft(import: &RecordImport, cx: &Ctx<'_>) -> Result<Draft, WriteError> {
    let mut units: Vec<_> = import.visits.iter().map(|v| v.unit).collect();
    units.sort_unstable();
    units.dedup();
    let texts = cx.store.unit_texts(&units).await?;
    let map = cx.map()?;
    let colours = map.preview_records(import)?;
    let mut parts = Vec::with_capacity(import.visits.len());
    let mut first_hazard = 0;
    for (i, (v, preview)) in import.visits.iter().zip(colours).enumerate() {
        let kind = if v.hazards.is_empty() {
            EventKind::Inspection
        } else {
            EventKind::HazardFound
        };
        let mut d = Draft::new(kind, cx);
        d.unit = Some(v.unit);
        d.unit_name = texts.get(&v.unit).map(|t| t.name.clone());
        d.region = map
            .unit(v.unit)
            .map(|e| map.regions.get(e.micro_grid).id.clone());
        d.colour_before = preview.before;
        d.colour_after = preview.after;
        let (visit, now, hazards) = (
            v.clone(),
            cx.now,
            first_hazard..first_hazard + v.hazards.len(),
        );
        first_hazard = hazards.end;
        d.after = Box::new(move |assigned| {
            let (Some(&id), Some(ids)) = (
                assigned.inspections.get(i),
                assigned.hazards.get(hazards.clone()),
            ) else {
                return Value::Null;
            };
            let hazards: Vec<Value> = visit
                .hazards(id, ids)
                .iter()
                .map(|h| records::hazard_json(h, now))
                .collect();
            json!({"inspection": records::inspection_json(&visit.inspection(id)), "hazards": hazards})
        });
        parts.push(d);
    }
    let mut d = Draft::new(EventKind::RecordsImported, cx);
    d.region = Some(map.regions.get(map.regions.root()).id.clone());
    let summary = json!({
        "source": import.source.as_str(),
        "visits": import.visits.len(),
        "hazards": import.hazards(),
        "closed": import.visits.iter().flat_map(|v| &v.hazards).filter(|h| h.closed_at.is_some()).count(),
        "units": units.len(),
        "unchanged": import.unchanged,
    });
    d.after = Box::new(move |_| summary.clone());
    d.parts = parts;
    Ok(d)
}
