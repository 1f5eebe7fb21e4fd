//! Importing places: one event for the file (`regions_imported`, by the importing
//! user), which the live feed carries so every open page reloads its places. The file
//! was checked whole when it was read (`app::import::regions`); here the hierarchy it
//! makes is checked again under the writer lock, against the map as it is now.

use serde_json::json;

use super::{Ctx, Draft, WriteError};
use crate::domain::{EventKind, RegionImport};

pub(super) async fn draft(import: &RegionImport, cx: &Ctx<'_>) -> Result<Draft, WriteError> {
    let map = cx.map()?;
    map.regions
        .with(&import.regions)
        .map_err(|e| WriteError::invalid("file", e.to_string()))?;
    let mut d = Draft::new(EventKind::RegionsImported, cx);
    d.region = Some(map.regions.get(map.regions.root()).id.clone());
    let summary = json!({
        "source": import.source.as_str(),
        "level": import.level.as_str(),
        "new": import.new,
        "updated": import.regions.len() - import.new,
        "unchanged": import.unchanged,
        "units_moved": import.moved.len(),
        "regions": import.regions.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
    });
    d.after = Box::new(move |_| summary.clone());
    Ok(d)
}
