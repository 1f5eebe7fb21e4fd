//! How a unit, a region and an H3 cell read as a GeoJSON feature.

use std::collections::HashMap;

use geojson::feature::Id;
use geojson::{Feature, Geometry, JsonObject};
use h3o::CellIndex;
use serde_json::{Value, json};

use crate::domain::{Colour, UnitId};
use crate::state::aggregate::Agg;
use crate::state::{MapState, RegionIdx, UnitIdx};
use crate::store::UnitText;
use crate::views::cell_polygon;
use crate::views::page::Figures;

fn feature(id: Id, geometry: Option<Geometry>, properties: JsonObject) -> Feature {
    Feature {
        bbox: None,
        geometry,
        id: Some(id),
        properties: Some(properties),
        foreign_members: None,
    }
}

pub(super) fn object(v: Value) -> JsonObject {
    match v {
        Value::Object(m) => m,
        _ => JsonObject::new(),
    }
}

/// A unit as a point feature, its id the unit id. Its `name` and `address` are not in
/// memory: the HTTP layer adds them from the store ([`add_unit_texts`]).
pub(super) fn unit_feature(state: &MapState, u: UnitIdx, colour: Colour) -> Feature {
    let e = &state.units[u as usize];
    let unit = &e.unit;
    let props = json!({
        "id": unit.id.get(),
        "kind": unit.kind,
        "colour": colour,
        "risk": unit.risk,
        "batch": unit.batch,
        "factory_in_factory": unit.is_factory_in_factory(),
        "host": unit.host.map(UnitId::get),
        "micro_grid": state.regions.get(e.micro_grid).id,
        "registered_at": unit.registered_at,
    });
    feature(
        Id::Number(unit.id.get().into()),
        Some(Geometry::from(&unit.location.point())),
        object(props),
    )
}

/// The ids of the unit features in `features`.
pub fn unit_ids(features: &[Feature]) -> Vec<UnitId> {
    features
        .iter()
        .filter_map(|f| f.property("id")?.as_i64())
        .filter_map(|id| UnitId::new(id).ok())
        .collect()
}

/// Puts each unit's `name` and `address` (read from the store) into its feature.
pub fn add_unit_texts(features: &mut [Feature], texts: &HashMap<UnitId, UnitText>) {
    for f in features {
        let Some(id) = f.property("id").and_then(Value::as_i64) else {
            continue;
        };
        let text = UnitId::new(id).ok().and_then(|id| texts.get(&id));
        f.set_property("name", text.map(|t| t.name.clone()));
        f.set_property("address", text.map(|t| t.address.clone()));
    }
}

/// The figures shared by regions and cells (the same names as the tiles' properties).
pub fn agg_properties(props: &mut JsonObject, a: &Agg) {
    props.extend(Figures::from(a).properties());
}

/// A region as a multipolygon feature, its id the region id.
pub(super) fn region_feature(state: &MapState, i: RegionIdx, a: &Agg) -> Feature {
    let r = state.regions.get(i);
    let mut props = object(json!({
        "id": r.id,
        "name": r.name,
        "level": r.level,
        "code": r.code,
        "parent": r.parent,
    }));
    agg_properties(&mut props, a);
    let geometry = r.boundary.as_ref().map(Geometry::from);
    feature(Id::String(r.id.to_string()), geometry, props)
}

/// An H3 cell as a polygon feature, its id the cell index in hex.
pub(super) fn hex_feature(cell: CellIndex, a: &Agg) -> Feature {
    let h3 = cell.to_string();
    let mut props = object(json!({
        "h3": h3,
        "resolution": u8::from(cell.resolution()),
    }));
    agg_properties(&mut props, a);
    feature(
        Id::String(h3),
        Some(Geometry::from(&cell_polygon(cell))),
        props,
    )
}
