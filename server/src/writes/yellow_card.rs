//! A yellow card (黄牌) for an open hazard: its new deadline, and a notice telling the
//! owner what must be fixed by when.

use serde_json::json;

use super::{Ctx, Draft, NoticeDraft, Notify, WriteError, on_hazard};
use crate::domain::{Change, EventKind, YellowCard};

pub(super) async fn draft(
    change: &Change,
    y: &YellowCard,
    cx: &Ctx<'_>,
) -> Result<Draft, WriteError> {
    let mut d = Draft::new(EventKind::YellowCard, cx);
    let h = on_hazard(&mut d, change, y.hazard, cx).await?;
    let mut after = d.before.clone();
    after["yellow_card_at"] = json!(y.at);
    after["deadline"] = json!(y.deadline);
    d.after = Box::new(move |_| after.clone());
    let text = cx.store.unit_texts(&[h.unit]).await?.remove(&h.unit);
    if let Some(t) = text.filter(|t| !t.owner_phone.is_empty()) {
        d.notices.push(NoticeDraft {
            unit: h.unit,
            unit_name: t.name,
            recipient: t.owner_name,
            phone: t.owner_phone,
            about: Notify::YellowCard {
                hazard_type: h.hazard_type,
                deadline: y.deadline.get(),
            },
        });
    }
    Ok(d)
}
