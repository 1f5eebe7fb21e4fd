//! Units as rows of an export: the import's columns (so that an exported register
//! imports again), with onemap's id before them and the micro-grid and colour after.
//! Pure: a unit, its text, its external id and its colour in, cells out.

use super::{Lang, word};
use crate::app::import::{BATCHES_ZH, COLUMNS, Column, KINDS_ZH, RISKS_ZH};
use crate::domain::{Colour, Unit};

/// The colours' Chinese names.
const COLOURS_ZH: [(Colour, &str); 6] = [
    (Colour::Green, "绿"),
    (Colour::Yellow, "黄"),
    (Colour::Orange, "橙"),
    (Colour::Red, "红"),
    (Colour::Black, "黑"),
    (Colour::Uninspected, "未排查"),
];

/// The header.
pub fn header(lang: Lang) -> Vec<&'static str> {
    let (mg, colour) = match lang {
        Lang::Zh => ("微网格", "状态"),
        Lang::En => ("micro_grid", "colour"),
    };
    let mut h: Vec<&'static str> = Vec::with_capacity(COLUMNS.len() + 2);
    h.extend(COLUMNS.iter().map(|(_, en, zh)| match lang {
        Lang::Zh => *zh,
        Lang::En => *en,
    }));
    h.extend([mg, colour]);
    h
}

/// What a row says of one unit.
pub struct UnitRow<'a> {
    /// The unit.
    pub unit: &'a Unit,
    /// Its external id.
    pub external_id: Option<&'a str>,
    /// Its host's external id (else its host's id).
    pub host: Option<String>,
    /// Its colour now.
    pub colour: Option<Colour>,
}

/// The row's cells, in the header's order; numbers as text.
pub fn cells(r: &UnitRow<'_>, lang: Lang) -> Vec<String> {
    let u = r.unit;
    let mut out = Vec::with_capacity(COLUMNS.len() + 2);
    for (c, _, _) in COLUMNS {
        out.push(match c {
            Column::Id => u.id.to_string(),
            Column::ExternalId => r.external_id.unwrap_or("").to_owned(),
            Column::Name => u.name.clone(),
            Column::Address => u.address.clone(),
            Column::Kind => word(&KINDS_ZH, u.kind, u.kind.as_str(), lang).to_owned(),
            Column::Lon => format!("{:.7}", u.location.x()),
            Column::Lat => format!("{:.7}", u.location.y()),
            Column::OwnerName => u.owner_name.clone(),
            Column::OwnerPhone => u.owner_phone.clone(),
            Column::Risk => word(&RISKS_ZH, u.risk, u.risk.as_str(), lang).to_owned(),
            Column::Batch => u
                .batch
                .map_or("", |b| word(&BATCHES_ZH, b, b.as_str(), lang))
                .to_owned(),
            Column::Host => r.host.clone().unwrap_or_default(),
        });
    }
    out.push(u.micro_grid.to_string());
    out.push(
        r.colour
            .map_or("", |c| word(&COLOURS_ZH, c, c.as_str(), lang))
            .to_owned(),
    );
    out
}

/// The unit as a GeoJSON feature (English keys and words), one line.
pub fn feature(r: &UnitRow<'_>) -> String {
    let u = r.unit;
    serde_json::json!({
        "type": "Feature",
        "id": u.id.get(),
        "geometry": {"type": "Point", "coordinates": [u.location.x(), u.location.y()]},
        "properties": {
            "id": u.id.get(),
            "external_id": r.external_id,
            "name": u.name,
            "address": u.address,
            "kind": u.kind,
            "owner_name": u.owner_name,
            "owner_phone": u.owner_phone,
            "risk": u.risk,
            "batch": u.batch,
            "host": r.host,
            "micro_grid": u.micro_grid,
            "colour": r.colour,
        }
    })
    .to_string()
}
