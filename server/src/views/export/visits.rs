//! Visits (inspections and re-inspections) as rows of an export: who came, when, to
//! which unit, and what they found — a pass, or how many hazards.

use super::{Cell, Lang, Place, header_of, local_time, word, yes_no};
use crate::domain::time::Zone;
use crate::domain::{Inspection, InspectionKind, UnitId};
use crate::state::MapState;
use crate::state::aggregate::UnitFilter;

/// The columns, in Chinese and English.
const COLUMNS: [(&str, &str); 13] = [
    ("检查编号", "visit_id"),
    ("单位系统编号", "unit_id"),
    ("单位编号", "external_id"),
    ("单位名称", "unit_name"),
    ("村社", "village"),
    ("微网格", "micro_grid"),
    ("检查类型", "kind"),
    ("检查人", "inspector"),
    ("检查时间", "at"),
    ("检查结果", "result"),
    ("综合查一次", "comprehensive"),
    ("备注", "note"),
    ("照片数", "photos"),
];

const KINDS_ZH: [(InspectionKind, &str); 2] = [
    (InspectionKind::Inspection, "排查"),
    (InspectionKind::Reinspection, "复查"),
];

/// The units whose visits an export lists: those in `filter`'s region and scope.
pub fn units(map: &MapState, filter: &UnitFilter) -> Vec<UnitId> {
    map.units
        .iter()
        .filter(|e| filter.covers_region(map, e.micro_grid))
        .map(|e| e.unit.id)
        .collect()
}

/// What a row says of one visit.
#[derive(Debug, Clone)]
pub struct VisitRow {
    /// The visit as stored.
    pub visit: Inspection,
    /// How many hazards it recorded.
    pub hazards_found: u32,
    /// Its unit's external id.
    pub external_id: Option<String>,
    /// Its unit's name.
    pub unit_name: String,
    /// Where its unit is.
    pub place: Place,
}

/// The header.
pub fn header(lang: Lang) -> Vec<&'static str> {
    header_of(&COLUMNS, lang)
}

/// A pass, or how many hazards were found, in `lang`.
pub fn result(hazards_found: u32, lang: Lang) -> String {
    match (hazards_found, lang) {
        (0, Lang::Zh) => "合格".into(),
        (0, Lang::En) => "pass".into(),
        (n, Lang::Zh) => format!("发现隐患{n}处"),
        (1, Lang::En) => "1 hazard found".into(),
        (n, Lang::En) => format!("{n} hazards found"),
    }
}

/// The row's cells, in the header's order.
pub fn cells(r: &VisitRow, lang: Lang, zone: Zone) -> Vec<Cell> {
    let v = &r.visit;
    vec![
        Cell::Int(v.id.get()),
        Cell::Int(v.unit.get()),
        r.external_id.as_deref().unwrap_or("").into(),
        r.unit_name.as_str().into(),
        r.place.village.as_str().into(),
        r.place.micro_grid.as_str().into(),
        word(&KINDS_ZH, v.kind, v.kind.as_str(), lang).into(),
        v.inspector.as_str().into(),
        local_time(zone, v.at).into(),
        result(r.hazards_found, lang).into(),
        yes_no(v.comprehensive, lang).into(),
        v.note.as_str().into(),
        Cell::Int(v.photos.len() as i64),
    ]
}

/// The visit at its unit's point as a GeoJSON feature (English keys and words, the time
/// in RFC 3339), one line.
pub fn feature(r: &VisitRow) -> String {
    let v = &r.visit;
    serde_json::json!({
        "type": "Feature",
        "id": v.id.get(),
        "geometry": {"type": "Point", "coordinates": [r.place.location.x(), r.place.location.y()]},
        "properties": {
            "visit_id": v.id.get(),
            "unit_id": v.unit.get(),
            "external_id": r.external_id,
            "unit_name": r.unit_name,
            "village": r.place.village,
            "micro_grid": r.place.micro_grid,
            "kind": v.kind,
            "inspector": v.inspector,
            "at": v.at,
            "result": result(r.hazards_found, Lang::En),
            "hazards_found": r.hazards_found,
            "comprehensive": v.comprehensive,
            "note": v.note,
            "photos": v.photos.len(),
        }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::{Zone, cst};
    use crate::domain::{InspectionId, Location};

    #[test]
    fn a_visit_is_a_pass_or_says_how_many_hazards() {
        let r = VisitRow {
            visit: Inspection {
                id: InspectionId::new(9).unwrap(),
                unit: UnitId::new(3).unwrap(),
                kind: InspectionKind::Reinspection,
                inspector: "王五（第3组）".into(),
                at: cst(2022, 7, 15, 9, 30),
                signature: None,
                photos: vec!["a".into(), "b".into()],
                comprehensive: true,
                note: "门口堆物".into(),
            },
            hazards_found: 2,
            external_id: None,
            unit_name: "某店".into(),
            place: Place {
                village: "长联村".into(),
                micro_grid: "MG-1".parse().unwrap(),
                location: Location::new(120.4, 30.2).unwrap(),
            },
        };
        let zh = cells(&r, Lang::Zh, Zone::CHINA);
        assert_eq!(zh.len(), header(Lang::Zh).len());
        assert_eq!((&zh[6], &zh[9]), (&"复查".into(), &"发现隐患2处".into()));
        assert_eq!(
            (&zh[8], &zh[12]),
            (&"2022-07-15 09:30:00".into(), &Cell::Int(2))
        );
        assert_eq!(result(0, Lang::En), "pass");
        assert_eq!(result(1, Lang::En), "1 hazard found");
        let f: serde_json::Value = serde_json::from_str(&feature(&r)).unwrap();
        assert_eq!(f["properties"]["hazards_found"], 2);
    }
}
