//! The daily briefing's writes: the leader's comment, written or replaced, and the
//! briefing sent to the groups' channels. The region must be one of the map's.

use serde_json::json;

use super::{Ctx, Draft, WriteError};
use crate::domain::{BriefingComment, BriefingSend, EventKind};

/// A comment as the event log keeps it.
fn comment_json(c: &BriefingComment) -> serde_json::Value {
    json!({
        "region": c.region,
        "date": c.date,
        "text": c.text.as_str(),
        "by": c.by,
        "at": c.at,
    })
}

pub(super) async fn draft(c: &BriefingComment, cx: &Ctx<'_>) -> Result<Draft, WriteError> {
    if cx.map()?.regions.find(&c.region).is_none() {
        return Err(WriteError::invalid(
            "region",
            format!("`{}` is not a region of the map", c.region),
        ));
    }
    let old = cx.store.briefing_comment(&c.region, c.date).await?;
    let mut d = Draft::new(EventKind::BriefingCommented, cx);
    d.region = Some(c.region.clone());
    d.before = old.as_ref().map_or(serde_json::Value::Null, comment_json);
    let after = comment_json(c);
    d.after = Box::new(move |_| after.clone());
    Ok(d)
}

/// A day's briefing sent: the region must be the map's; the event says which groups it
/// was queued for now and which had it already (sent earlier that day).
pub(super) async fn send(b: &BriefingSend, cx: &Ctx<'_>) -> Result<Draft, WriteError> {
    if cx.map()?.regions.find(&b.region).is_none() {
        return Err(WriteError::invalid(
            "region",
            format!("`{}` is not a region of the map", b.region),
        ));
    }
    let before = cx.store.briefings_queued(b.date).await?;
    let had = |g: &crate::domain::RegionId| before.iter().any(|q| &q.group == g);
    let queued: Vec<&str> = b
        .deliveries
        .iter()
        .filter(|d| !had(&d.group))
        .map(|d| d.group.as_str())
        .collect();
    let already: Vec<&str> = b
        .deliveries
        .iter()
        .filter(|d| had(&d.group))
        .map(|d| d.group.as_str())
        .collect();
    let mut d = Draft::new(EventKind::BriefingSent, cx);
    d.region = Some(b.region.clone());
    let after = json!({
        "region": b.region,
        "date": b.date,
        "queued": queued,
        "already": already,
        "without_channel": b.without_channel,
    });
    d.after = Box::new(move |_| after.clone());
    Ok(d)
}
