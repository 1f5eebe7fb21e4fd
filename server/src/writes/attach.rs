//! A photo, video or floor plan added to a unit's record (一企一档); the file is kept once
//! per content hash.

use serde_json::json;

use super::{Ctx, Draft, WriteError, on_unit, records};
use crate::domain::{Attachment, Change, EventKind};

pub(super) async fn draft(
    change: &Change,
    a: &Attachment,
    cx: &Ctx<'_>,
) -> Result<Draft, WriteError> {
    let text = cx
        .store
        .unit_texts(&[a.unit])
        .await?
        .remove(&a.unit)
        .ok_or_else(|| WriteError::not_found("unit", a.unit))?;
    let mut d = Draft::new(EventKind::AttachmentAdded, cx);
    on_unit(&mut d, change, &*cx.map()?)?;
    d.unit = Some(a.unit);
    d.unit_name = Some(text.name);
    let after = json!({
        "hash": a.hash,
        "url": records::attachment_url(a.hash.as_str()),
        "kind": a.kind,
        "content_type": a.content_type,
        "size": a.data.len(),
    });
    d.after = Box::new(move |_| after.clone());
    Ok(d)
}
