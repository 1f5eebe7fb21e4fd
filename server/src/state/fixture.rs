//! A small hand-made dataset for the state's unit tests: a town of two villages, three
//! units whose facts change over a few days of July 2022.
#![allow(missing_docs)]

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use geo::{MultiPolygon, polygon};
use h3o::CellIndex;

use super::aggregate::{
    Agg, UnitFilter, cell_index, contribution, fold_filtered, fold_regions, is_split,
};
use super::history::{CHECKPOINT_RES, CellDay};
use super::live::HEX_RESOLUTIONS;
use super::{MapState, RegionIdx, UnitIdx};
use crate::domain::{
    Category, Change, Colour, Deadline, Hazard, HazardId, Inspection, InspectionId, InspectionKind,
    Level, Location, NewHazard, NewVisit, PastMoment, Region, RiskLevel, Severity, Stage,
    Suspension, Text, Unit, UnitId, UnitKind,
};
use crate::store::{Assigned, Dataset};

pub fn t(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 7, day, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

pub fn sq(x0: f64, x1: f64) -> Option<MultiPolygon<f64>> {
    Some(MultiPolygon(vec![polygon![
        (x: x0, y: 0.0), (x: x1, y: 0.0), (x: x1, y: 1.0), (x: x0, y: 1.0), (x: x0, y: 0.0)
    ]]))
}

pub fn region(
    id: &str,
    level: Level,
    parent: Option<&str>,
    b: Option<MultiPolygon<f64>>,
) -> Region {
    Region {
        id: id.parse().unwrap(),
        level,
        parent: parent.map(|p| p.parse().unwrap()),
        code: None,
        name: id.into(),
        boundary: b,
    }
}

pub fn uid(n: i64) -> UnitId {
    UnitId::new(n).unwrap()
}

/// Two villages; unit 1 (village A) is found with a general and a major hazard on
/// the 2nd, closes the major on the 5th; unit 2 (village B) is inspected on the 3rd
/// and suspended from the 4th; unit 3 (village B) is registered on the 6th.
pub fn state() -> MapState {
    MapState::build(dataset(), t(9)).unwrap()
}

pub fn dataset() -> Dataset {
    let unit = |n: i64, mg: &str, x: f64, kind, registered| Unit {
        id: uid(n),
        kind,
        name: format!("u{n}"),
        address: String::new(),
        owner_name: String::new(),
        owner_phone: String::new(),
        location: Location::new(x, 0.5).unwrap(),
        micro_grid: mg.parse().unwrap(),
        risk: RiskLevel::Blue,
        batch: None,
        host: None,
        registered_at: registered,
    };
    let visit = |n: i64, u: i64, day| Inspection {
        id: InspectionId::new(n).unwrap(),
        unit: uid(u),
        kind: InspectionKind::Inspection,
        inspector: String::new(),
        at: t(day),
        signature: None,
        photos: vec![],
        comprehensive: false,
        note: String::new(),
    };
    let hazard = |n: i64, severity, stage, closed: Option<DateTime<Utc>>| Hazard {
        id: HazardId::new(n).unwrap(),
        unit: uid(1),
        inspection: InspectionId::new(1).unwrap(),
        category: Category::Fire,
        hazard_type: "messy_wiring".into(),
        severity,
        stage,
        found_at: t(2),
        deadline: Some(t(4)),
        yellow_card_at: None,
        closed_at: closed,
        evidence: None,
        comprehensive: false,
    };
    Dataset {
        regions: vec![
            region("T", Level::Town, None, sq(0.0, 2.0)),
            region("A", Level::Area, Some("T"), None),
            region("G", Level::Group, Some("A"), None),
            region("VA", Level::Village, Some("G"), sq(0.0, 1.0)),
            region("VB", Level::Village, Some("G"), sq(1.0, 2.0)),
            region("VA-1", Level::Grid, Some("VA"), sq(0.0, 1.0)),
            region("VB-1", Level::Grid, Some("VB"), sq(1.0, 2.0)),
            region("VA-1-1", Level::MicroGrid, Some("VA-1"), sq(0.0, 1.0)),
            region("VB-1-1", Level::MicroGrid, Some("VB-1"), sq(1.0, 2.0)),
        ],
        units: vec![
            unit(1, "VA-1-1", 0.5, UnitKind::Enterprise, t(1)),
            unit(2, "VB-1-1", 1.5, UnitKind::Rental, t(1)),
            unit(3, "VB-1-1", 1.6, UnitKind::StreetShop, t(6)),
        ],
        inspections: vec![visit(1, 1, 2), visit(2, 2, 3)],
        hazards: vec![
            hazard(1, Severity::General, Stage::Concentrated, None),
            hazard(2, Severity::Major, Stage::Deadline, Some(t(5))),
        ],
        suspensions: vec![Suspension {
            unit: uid(2),
            started_at: t(4),
            ended_at: None,
        }],
    }
}

/// The live figures must equal a fold from scratch at the same moment: every
/// region, every cell, every colour.
pub fn assert_consistent(s: &MapState) {
    let at = s.live().at();
    let fold = fold_regions(s, at, &UnitFilter::default());
    assert_eq!(s.live().regions(), &fold[..], "regions at {at}");
    for (k, &res) in HEX_RESOLUTIONS.iter().enumerate() {
        let mut cells: HashMap<CellIndex, Agg> = HashMap::new();
        for e in &s.units {
            if let (Some(c), Some((_, a))) = (e.cell.parent(res), contribution(e, at)) {
                *cells.entry(c).or_default() += &a;
            }
        }
        assert_eq!(s.live().hexes[k], cells, "cells at {res} at {at}");
        let mut indexed: Vec<CellIndex> = s.live().hex_index[k].iter().map(|p| p.data).collect();
        let mut keys: Vec<CellIndex> = cells.keys().copied().collect();
        indexed.sort_unstable();
        keys.sort_unstable();
        assert_eq!(indexed, keys, "the R-tree of cells at {res} at {at}");
    }
    for (i, e) in s.units.iter().enumerate() {
        let c = contribution(e, at).map(|(c, _)| c);
        assert_eq!(s.live().colour(i as UnitIdx), c, "unit {i} at {at}");
    }
    assert_cells(s, at, |i| s.live().cells(i));
    assert_filters_fold(s, at);
    if let Some(h) = s.history() {
        for day in h.days() {
            let end = h.zone().end_of_day(day);
            let fold = fold_regions(s, end, &UnitFilter::default());
            for (i, a) in fold.iter().enumerate() {
                if let Some(c) = h.at(i, end) {
                    assert_eq!(c, a, "checkpoint of {} on {day}", s.regions.get(i).id);
                }
            }
            assert_cells(s, end, |i| h.cells_at(i, end));
            assert_filters_fold(s, end);
            let mut fold: HashMap<CellIndex, Agg> = HashMap::new();
            for e in &s.units {
                if let (Some(c), Some((_, a))) =
                    (e.cell.parent(CHECKPOINT_RES), contribution(e, end))
                {
                    *fold.entry(c).or_default() += &a;
                }
            }
            let kept: HashMap<CellIndex, CellDay> = h
                .hexes_in([-180.0, -90.0], [180.0, 90.0], end)
                .expect("a held day")
                .map(|(c, _, a)| (c, *a))
                .collect();
            let fold: HashMap<CellIndex, CellDay> =
                fold.iter().map(|(&c, a)| (c, CellDay::of(a))).collect();
            assert_eq!(kept, fold, "res-7 cells' checkpoints on {day}");
        }
    }
}

/// A filter for each kind and colour of unit, with its cell.
pub fn cell_filters() -> impl Iterator<Item = (usize, UnitFilter)> {
    UnitKind::ALL.iter().flat_map(|&k| {
        Colour::ALL.iter().map(move |&c| {
            (
                cell_index(k, c),
                UnitFilter::default().with_kinds(&[k]).with_colours(&[c]),
            )
        })
    })
}

/// Every split region's cells (from `cells`) equal a fold of its units of each kind
/// and colour at `at`.
pub fn assert_cells<'a>(
    s: &MapState,
    at: DateTime<Utc>,
    cells: impl Fn(RegionIdx) -> Option<&'a [Agg]>,
) {
    let folds: Vec<(usize, Vec<Agg>)> = cell_filters()
        .map(|(k, f)| (k, fold_regions(s, at, &f)))
        .collect();
    let mut split = 0;
    for i in 0..s.regions.all().len() {
        assert_eq!(cells(i).is_some(), is_split(&s.regions, i), "region {i}");
        let Some(cells) = cells(i) else { continue };
        split += 1;
        for (k, fold) in &folds {
            assert_eq!(
                cells[*k],
                fold[i],
                "cell {k} of {} at {at}",
                s.regions.get(i).id
            );
        }
    }
    assert!(split > 0, "the root is split");
}

/// Filtered figures of every region ([`fold_filtered`], from cells, checkpoints or the
/// region's own units) equal the fold over every unit, for several filters.
pub fn assert_filters_fold(s: &MapState, at: DateTime<Utc>) {
    let filters = [
        UnitFilter::default(),
        UnitFilter::default().with_kinds(&[UnitKind::Rental, UnitKind::Enterprise]),
        UnitFilter::default().with_colours(&[Colour::Red, Colour::Yellow]),
        UnitFilter::default()
            .with_kinds(&[UnitKind::Enterprise])
            .with_colours(&[Colour::Green, Colour::Red]),
    ];
    for f in &filters {
        let fold = fold_regions(s, at, f);
        for (i, a) in fold.iter().enumerate() {
            assert_eq!(
                &fold_filtered(s, i, at, f),
                a,
                "{} with {f:?} at {at}",
                s.regions.get(i).id
            );
        }
    }
}

/// `at`, as a write takes it.
pub fn past(at: DateTime<Utc>) -> PastMoment {
    PastMoment::new(Some(at), at).unwrap()
}

/// A deadline at `at`, set just before it.
pub fn deadline(at: DateTime<Utc>) -> Deadline {
    Deadline::new(at, at - chrono::Duration::seconds(1)).unwrap()
}

/// A hazard found, of `severity`, with a deadline maybe.
pub fn found(severity: Severity, deadline: Option<Deadline>) -> NewHazard {
    NewHazard {
        category: Category::Fire,
        hazard_type: Text::new("blocked_escape_route").unwrap(),
        severity,
        stage: Stage::Deadline,
        deadline,
    }
}

/// A re-inspection of `unit` at `at` finding `hazards`.
pub fn revisit(unit: UnitId, at: DateTime<Utc>, hazards: Vec<NewHazard>) -> Change {
    Change::Inspect(NewVisit {
        unit,
        kind: InspectionKind::Reinspection,
        inspector: Text::new("w").unwrap(),
        at: past(at),
        signature: None,
        photos: vec![],
        hazards,
        comprehensive: false,
        note: Default::default(),
    })
}

/// The ids a store would have assigned a visit `inspection` and its `hazards`.
pub fn ids(inspection: i64, hazards: &[i64]) -> Assigned {
    Assigned {
        unit: None,
        inspection: Some(InspectionId::new(inspection).unwrap()),
        hazards: hazards.iter().map(|&h| HazardId::new(h).unwrap()).collect(),
        ..Assigned::default()
    }
}
