//! Hazards as rows of an export: each with its unit, its place, its type named from the
//! checklist table, and its state at a moment `at` — open, closed or overdue, days open
//! and days overdue — decided by the same [`HazardFacts`] tests the figures count with,
//! so an export and `/api/stats` at the same moment cannot disagree.
//!
//! As of `at`, a yellow card or a closure recorded after `at` has not happened yet: its
//! time is left empty. The deadline is the one recorded now (the store keeps one; the
//! figures of a past moment read it the same way).

use chrono::{DateTime, Utc};

use super::{Cell, Lang, Place, header_of, local_time, local_time_or_empty, word, yes_no};
use crate::domain::checklist::hazard_type;
use crate::domain::time::{Days, Stamp, Zone};
use crate::domain::{Hazard, HazardFacts, HazardId, Severity, Stage, UnitId, colour_of};
use crate::state::MapState;
use crate::state::aggregate::UnitFilter;

/// The columns, in Chinese and English.
const COLUMNS: [(&str, &str); 18] = [
    ("隐患编号", "hazard_id"),
    ("单位系统编号", "unit_id"),
    ("单位编号", "external_id"),
    ("单位名称", "unit_name"),
    ("村社", "village"),
    ("微网格", "micro_grid"),
    ("类别", "category"),
    ("隐患类型", "hazard_type"),
    ("等级", "severity"),
    ("整改方式", "stage"),
    ("发现时间", "found_at"),
    ("整改期限", "deadline"),
    ("黄牌时间", "yellow_card_at"),
    ("销号时间", "closed_at"),
    ("状态", "state"),
    ("已开天数", "days_open"),
    ("逾期天数", "days_overdue"),
    ("综合查一次", "comprehensive"),
];

const SEVERITIES_ZH: [(Severity, &str); 2] =
    [(Severity::General, "一般"), (Severity::Major, "重大")];

const STAGES_ZH: [(Stage, &str); 3] = [
    (Stage::Immediate, "立即整改"),
    (Stage::Concentrated, "集中整改"),
    (Stage::Deadline, "限期整改"),
];

/// Where a hazard stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HazardState {
    /// Found, not closed, not past its deadline.
    Open,
    /// Found, not closed, past its deadline (still open: open ones are `Open` and
    /// `Overdue` together).
    Overdue,
    /// Closed (销号).
    Closed,
}

impl HazardState {
    /// Its word in `lang`.
    pub fn word(self, lang: Lang) -> &'static str {
        match self {
            HazardState::Open => lang.pick("未整改", "open"),
            HazardState::Overdue => lang.pick("逾期", "overdue"),
            HazardState::Closed => lang.pick("已销号", "closed"),
        }
    }
}

/// A hazard as of a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateAt {
    /// Open, overdue or closed.
    pub state: HazardState,
    /// Whole days from its finding to its closure, or to the moment if still open.
    pub days_open: i64,
    /// Whole days past its deadline at the moment, if overdue (else 0).
    pub days_overdue: i64,
    /// Its yellow card, if issued by the moment.
    pub yellow_card_at: Option<DateTime<Utc>>,
    /// Its closure, if by the moment.
    pub closed_at: Option<DateTime<Utc>>,
}

/// Whole days from `from` to `to` (0 if `to` is earlier).
fn days_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_days().max(0)
}

/// Where `h` stands at `at` (a hazard found by then).
pub fn state_at(h: &Hazard, at: DateTime<Utc>) -> StateAt {
    let facts = HazardFacts::from(h);
    let by = |t: Option<DateTime<Utc>>| t.filter(|&t| Stamp::of(t) <= Stamp::of(at));
    let closed_at = by(h.closed_at).filter(|_| facts.is_closed(at));
    let (state, days_overdue) = if closed_at.is_some() {
        (HazardState::Closed, 0)
    } else if facts.is_overdue(at) {
        let late = h.deadline.map_or(0, |d| days_between(d, at));
        (HazardState::Overdue, late)
    } else {
        (HazardState::Open, 0)
    };
    StateAt {
        state,
        days_open: days_between(h.found_at, closed_at.unwrap_or(at)),
        days_overdue,
        yellow_card_at: by(h.yellow_card_at),
        closed_at,
    }
}

/// The hazards an export at `at` lists: those found by `at` on `days`, at the units
/// `filter` admits with their colour at `at` and registered by then — the hazards
/// `/api/stats?at=` counts as found, narrowed to the days. In the map's order of units.
pub fn found(map: &MapState, filter: &UnitFilter, at: DateTime<Utc>, days: &Days) -> Vec<HazardId> {
    let mut out = Vec::new();
    for e in &map.units {
        if e.unit.registered_at > at {
            continue;
        }
        let listed = |h: &&HazardFacts| h.is_found(at) && days.contains(h.found_at.time());
        if !e.hazards.iter().any(|h| listed(&h)) {
            continue;
        }
        if filter.admits(map, e, colour_of(&e.facts(), at)) {
            out.extend(e.hazards.iter().filter(listed).map(|h| h.id));
        }
    }
    out
}

/// What a row says of one hazard.
#[derive(Debug, Clone)]
pub struct HazardRow {
    /// The hazard as stored.
    pub hazard: Hazard,
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

/// The hazard type's name in `lang` from the checklist, else the inspector's words.
fn type_name(key: &str, lang: Lang) -> &str {
    hazard_type(key).map_or(key, |t| lang.pick(t.zh, t.en))
}

/// The row's cells at `at`, in the header's order.
pub fn cells(r: &HazardRow, at: DateTime<Utc>, lang: Lang, zone: Zone) -> Vec<Cell> {
    let h = &r.hazard;
    let s = state_at(h, at);
    let (category_zh, category_en) = h.category.names();
    vec![
        Cell::Int(h.id.get()),
        Cell::Int(h.unit.get()),
        r.external_id.as_deref().unwrap_or("").into(),
        r.unit_name.as_str().into(),
        r.place.village.as_str().into(),
        r.place.micro_grid.as_str().into(),
        lang.pick(category_zh, category_en).into(),
        type_name(&h.hazard_type, lang).into(),
        word(&SEVERITIES_ZH, h.severity, h.severity.as_str(), lang).into(),
        word(&STAGES_ZH, h.stage, h.stage.as_str(), lang).into(),
        local_time(zone, h.found_at).into(),
        local_time_or_empty(zone, h.deadline).into(),
        local_time_or_empty(zone, s.yellow_card_at).into(),
        local_time_or_empty(zone, s.closed_at).into(),
        s.state.word(lang).into(),
        Cell::Int(s.days_open),
        Cell::Int(s.days_overdue),
        yes_no(h.comprehensive, lang).into(),
    ]
}

/// The hazard at its unit's point as a GeoJSON feature (English keys and words, times
/// in RFC 3339), one line.
pub fn feature(r: &HazardRow, at: DateTime<Utc>) -> String {
    let h = &r.hazard;
    let s = state_at(h, at);
    let unit: UnitId = h.unit;
    serde_json::json!({
        "type": "Feature",
        "id": h.id.get(),
        "geometry": {"type": "Point", "coordinates": [r.place.location.x(), r.place.location.y()]},
        "properties": {
            "hazard_id": h.id.get(),
            "unit_id": unit.get(),
            "external_id": r.external_id,
            "unit_name": r.unit_name,
            "village": r.place.village,
            "micro_grid": r.place.micro_grid,
            "category": h.category,
            "hazard_type": h.hazard_type,
            "hazard_type_name": type_name(&h.hazard_type, Lang::En),
            "severity": h.severity,
            "stage": h.stage,
            "found_at": h.found_at,
            "deadline": h.deadline,
            "yellow_card_at": s.yellow_card_at,
            "closed_at": s.closed_at,
            "state": s.state.word(Lang::En),
            "days_open": s.days_open,
            "days_overdue": s.days_overdue,
            "comprehensive": h.comprehensive,
            "as_of": at,
        }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::cst;
    use crate::domain::{Category, InspectionId, Location};

    fn hazard() -> Hazard {
        Hazard {
            id: HazardId::new(7).unwrap(),
            unit: UnitId::new(3).unwrap(),
            inspection: InspectionId::new(5).unwrap(),
            category: Category::Fire,
            hazard_type: "blocked_escape_route".into(),
            severity: Severity::General,
            stage: Stage::Deadline,
            found_at: cst(2022, 7, 1, 9, 0),
            deadline: Some(cst(2022, 7, 10, 18, 0)),
            yellow_card_at: Some(cst(2022, 7, 12, 9, 0)),
            closed_at: Some(cst(2022, 7, 20, 9, 0)),
            evidence: None,
            comprehensive: false,
        }
    }

    #[test]
    fn a_hazard_is_open_then_overdue_then_closed() {
        let h = hazard();
        let s = state_at(&h, cst(2022, 7, 5, 9, 0));
        assert_eq!(
            (s.state, s.days_open, s.days_overdue),
            (HazardState::Open, 4, 0)
        );
        assert_eq!((s.yellow_card_at, s.closed_at), (None, None));
        let s = state_at(&h, cst(2022, 7, 10, 18, 0));
        assert_eq!(
            s.state,
            HazardState::Overdue,
            "overdue at the deadline itself"
        );
        let s = state_at(&h, cst(2022, 7, 15, 18, 0));
        assert_eq!(
            (s.state, s.days_open, s.days_overdue),
            (HazardState::Overdue, 14, 5)
        );
        assert_eq!(s.yellow_card_at, h.yellow_card_at);
        let s = state_at(&h, cst(2022, 8, 1, 0, 0));
        assert_eq!(
            (s.state, s.days_open, s.days_overdue),
            (HazardState::Closed, 19, 0)
        );
        assert_eq!(s.closed_at, h.closed_at);
    }

    #[test]
    fn cells_follow_the_header_in_both_languages() {
        let r = HazardRow {
            hazard: hazard(),
            external_id: Some("GL-1".into()),
            unit_name: "某厂".into(),
            place: Place {
                village: "长联村".into(),
                micro_grid: "MG-1".parse().unwrap(),
                location: Location::new(120.4, 30.2).unwrap(),
            },
        };
        let at = cst(2022, 7, 15, 18, 0);
        for lang in [Lang::Zh, Lang::En] {
            assert_eq!(cells(&r, at, lang, Zone::CHINA).len(), header(lang).len());
        }
        let zh = cells(&r, at, Lang::Zh, Zone::CHINA);
        assert_eq!(zh[7], Cell::from("疏散通道堵塞"));
        assert_eq!(
            (&zh[8], &zh[9], &zh[14]),
            (&"一般".into(), &"限期整改".into(), &"逾期".into())
        );
        assert_eq!(zh[13], Cell::from(""), "closed after the moment");
        let en = cells(&r, at, Lang::En, Zone::CHINA);
        assert_eq!(
            (&en[6], &en[14], &en[16]),
            (&"fire safety".into(), &"overdue".into(), &Cell::Int(5))
        );
        let f: serde_json::Value = serde_json::from_str(&feature(&r, at)).unwrap();
        assert_eq!(f["properties"]["state"], "overdue");
        assert_eq!(f["geometry"]["coordinates"][0], 120.4);
    }
}
