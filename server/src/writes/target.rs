//! A group's weekly closure target, set or replaced: the group must be one of the map's.

use super::{Ctx, Draft, WriteError, records};
use crate::domain::{EventKind, Level, Target};

pub(super) async fn draft(t: &Target, cx: &Ctx<'_>) -> Result<Draft, WriteError> {
    {
        let map = cx.map()?;
        let group = map.regions.find(&t.group).map(|i| map.regions.get(i));
        if group.is_none_or(|g| g.level != Level::Group) {
            return Err(WriteError::invalid(
                "group",
                format!("`{}` is not a group of the town", t.group),
            ));
        }
    }
    let old = cx.store.targets(&t.week).await?;
    let mut d = Draft::new(EventKind::TargetSet, cx);
    d.region = Some(t.group.clone());
    d.before = old
        .iter()
        .find(|o| o.group == t.group)
        .map_or(serde_json::Value::Null, records::target_json);
    let after = records::target_json(t);
    d.after = Box::new(move |_| after.clone());
    Ok(d)
}
