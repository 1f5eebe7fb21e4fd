//! A visit (排查 or 复查): a pass, or the hazards found, whose ids the store assigns; the
//! owner is told of the hazards and the deadline (the reports' SMS).

use serde_json::{Value, json};

use super::{Ctx, Draft, NoticeDraft, Notify, WriteError, on_unit, records};
use crate::domain::{Change, Deadline, EventKind, NewVisit, Severity};

pub(super) async fn draft(
    change: &Change,
    v: &NewVisit,
    cx: &Ctx<'_>,
) -> Result<Draft, WriteError> {
    let text = cx
        .store
        .unit_texts(&[v.unit])
        .await?
        .remove(&v.unit)
        .unwrap_or_default();
    let kind = if v.hazards.is_empty() {
        EventKind::Inspection
    } else {
        EventKind::HazardFound
    };
    let mut d = Draft::new(kind, cx);
    on_unit(&mut d, change, &*cx.map()?)?;
    if !v.hazards.is_empty() && !text.owner_phone.is_empty() {
        d.notices.push(NoticeDraft {
            unit: v.unit,
            unit_name: text.name.clone(),
            recipient: text.owner_name.clone(),
            phone: text.owner_phone.clone(),
            about: Notify::HazardsFound {
                hazard_types: v
                    .hazards
                    .iter()
                    .map(|h| h.hazard_type.to_string())
                    .collect(),
                major: v
                    .hazards
                    .iter()
                    .filter(|h| h.severity == Severity::Major)
                    .count(),
                deadline: v
                    .hazards
                    .iter()
                    .filter_map(|h| h.deadline)
                    .map(Deadline::get)
                    .min(),
            },
        });
    }
    d.unit_name = Some(text.name);
    let (visit, now) = (v.clone(), cx.now);
    d.after = Box::new(move |assigned| {
        let Some(id) = assigned.inspection else {
            return Value::Null;
        };
        let hazards: Vec<Value> = visit
            .hazards(id, &assigned.hazards)
            .iter()
            .map(|h| records::hazard_json(h, now))
            .collect();
        json!({"inspection": records::inspection_json(&visit.inspection(id)), "hazards": hazards})
    });
    Ok(d)
}
