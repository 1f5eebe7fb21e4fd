//! Importing the records of the apps used before onemap: a table (CSV in UTF-8 or
//! GB18030, an XLSX workbook) with a row per hazard found, or per visit that found
//! none, made one [`RecordImport`] — or, when any row is wrong, every wrong row named
//! and nothing written. Rows of the same unit, moment, inspector and kind are one visit.
//! Units are matched by their external id (`单位编号`) or onemap's id (`系统编号`); a
//! visit already recorded (the same unit, moment and inspector) is not written again,
//! so a file can be imported twice. Colours then follow from the one rule.
//!
//! Moments are local time (China Standard Time) unless they carry an offset: `2022-07-05
//! 14:30`, `2022/7/5 14:30:00`, RFC 3339, or a date alone — the start of that day for
//! what happened, the end of it for a deadline.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;

use super::{ImportError, LineError, Table};
use crate::app::AppState;
use crate::domain::checklist::HAZARD_TYPES;
use crate::domain::time::Zone;
use crate::domain::{
    Category, InspectionKind, PastHazard, PastMoments, PastVisit, RecordImport, Severity, Stage,
    Text, UnitId,
};
use crate::writes::WriteError;

/// A column of the records table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordColumn {
    /// `unit`, 单位编号: the unit's external id.
    Unit,
    /// `unit_id`, 系统编号: onemap's id of the unit.
    UnitId,
    /// `at`, 检查时间.
    At,
    /// `inspector`, 检查人.
    Inspector,
    /// `kind`, 检查类型.
    Kind,
    /// `hazard_type`, 隐患类型 (empty: the visit passed).
    HazardType,
    /// `category`, 隐患类别.
    Category,
    /// `severity`, 隐患等级.
    Severity,
    /// `stage`, 整改方式.
    Stage,
    /// `deadline`, 整改期限.
    Deadline,
    /// `yellow_card_at`, 黄牌时间.
    YellowCardAt,
    /// `yellow_card_deadline`, 黄牌期限.
    YellowCardDeadline,
    /// `closed_at`, 销号时间.
    ClosedAt,
    /// `evidence`, 销号依据.
    Evidence,
}

/// Each column's English and Chinese names (the documented table).
pub const RECORD_COLUMNS: [(RecordColumn, &str, &str); 14] = [
    (RecordColumn::Unit, "unit", "单位编号"),
    (RecordColumn::UnitId, "unit_id", "系统编号"),
    (RecordColumn::At, "at", "检查时间"),
    (RecordColumn::Inspector, "inspector", "检查人"),
    (RecordColumn::Kind, "kind", "检查类型"),
    (RecordColumn::HazardType, "hazard_type", "隐患类型"),
    (RecordColumn::Category, "category", "隐患类别"),
    (RecordColumn::Severity, "severity", "隐患等级"),
    (RecordColumn::Stage, "stage", "整改方式"),
    (RecordColumn::Deadline, "deadline", "整改期限"),
    (RecordColumn::YellowCardAt, "yellow_card_at", "黄牌时间"),
    (
        RecordColumn::YellowCardDeadline,
        "yellow_card_deadline",
        "黄牌期限",
    ),
    (RecordColumn::ClosedAt, "closed_at", "销号时间"),
    (RecordColumn::Evidence, "evidence", "销号依据"),
];

/// The words a cell may hold for each vocabulary, Chinese beside the English.
const KINDS: [(InspectionKind, &str); 2] = [
    (InspectionKind::Inspection, "排查"),
    (InspectionKind::Reinspection, "复查"),
];
const SEVERITIES: [(Severity, &str); 2] = [(Severity::General, "一般"), (Severity::Major, "重大")];
const STAGES: [(Stage, &str); 3] = [
    (Stage::Immediate, "立即整改"),
    (Stage::Concentrated, "集中整改"),
    (Stage::Deadline, "限期整改"),
];
const CATEGORIES: [(Category, &str); 4] = [
    (Category::Fire, "消防安全"),
    (Category::Production, "生产安全"),
    (Category::Traffic, "交通安全"),
    (Category::Other, "其他"),
];

/// What a records import did, or would do on a dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RecordReport {
    /// Nothing was written: what would happen.
    pub dry_run: bool,
    /// Rows read.
    pub rows: usize,
    /// Visits written.
    pub visits: usize,
    /// Hazards written.
    pub hazards: usize,
    /// Visits of the file already recorded, left as they are.
    pub unchanged: usize,
    /// Columns of the file that are not in the table, left out.
    pub ignored_columns: Vec<String>,
    /// The number of the import's event in the log (none on a dry run).
    pub seq: Option<i64>,
}

impl RecordReport {
    /// The report of `import`, read from `rows` rows.
    pub fn of(import: &RecordImport, rows: usize, ignored_columns: Vec<String>) -> Self {
        RecordReport {
            dry_run: true,
            rows,
            visits: import.visits.len(),
            hazards: import.hazards(),
            unchanged: import.unchanged,
            ignored_columns,
            seq: None,
        }
    }
}

type Layout = super::table::Layout<RecordColumn>;

/// A word of a vocabulary, by its English key or its Chinese name (the Chinese may be
/// cut short: `消防` for `消防安全`).
fn word<T: Copy + std::str::FromStr>(table: &[(T, &str)], s: &str) -> Option<T> {
    s.parse().ok().or_else(|| {
        table
            .iter()
            .find(|(_, zh)| *zh == s || (s.chars().count() >= 2 && zh.starts_with(s)))
            .map(|(v, _)| *v)
    })
}

fn words<T: std::fmt::Display>(table: &[(T, &str)]) -> String {
    table
        .iter()
        .map(|(v, zh)| format!("{v} ({zh})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A moment as a person or an app writes it: the town's local time unless it carries
/// an offset; a date alone is the start of that day (`end`: its end, for a deadline).
pub fn parse_local(s: &str, end: bool, zone: Zone) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(zone.moment(t));
        }
    }
    for f in ["%Y-%m-%d", "%Y/%m/%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return Some(if end {
                zone.end_of_day(d)
            } else {
                zone.start_of_day(d)
            });
        }
    }
    None
}

/// A row read on its own.
struct Row {
    line: u64,
    unit: UnitId,
    kind: InspectionKind,
    inspector: Text<100, 1>,
    at: DateTime<Utc>,
    hazard: Option<PastHazard>,
}

impl AppState {
    /// Reads `table` into the import it makes: every row checked (its unit known, its
    /// moments in order and not ahead of now, its words known), rows grouped into
    /// visits, visits already recorded left out. Any wrong row: all the wrong rows.
    pub async fn plan_records(
        &self,
        table: &Table,
        source: &str,
    ) -> Result<(RecordImport, Vec<String>), ImportError> {
        let now = Utc::now();
        let layout = Layout::of(
            &table.header,
            &RECORD_COLUMNS,
            &[
                &[RecordColumn::Unit, RecordColumn::UnitId],
                &[RecordColumn::At],
                &[RecordColumn::Inspector],
            ],
        )
        .map_err(ImportError::Lines)?;
        let mut keys: Vec<&str> = table
            .rows
            .iter()
            .map(|r| layout.get(&r.cells, RecordColumn::Unit).0)
            .filter(|k| !k.is_empty())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let known = self
            .store
            .external_ids(&keys)
            .await
            .map_err(WriteError::from)?;
        let mut errors = Vec::new();
        let mut rows = Vec::with_capacity(table.rows.len());
        {
            let map = self.map.read().map_err(|_| WriteError::Poisoned)?;
            for r in &table.rows {
                let unit = |cells: &[String]| -> Result<UnitId, LineError> {
                    let (key, col) = layout.get(cells, RecordColumn::Unit);
                    let (raw, id_col) = layout.get(cells, RecordColumn::UnitId);
                    if !key.is_empty() {
                        return known.get(key).copied().ok_or_else(|| {
                            LineError::at(r.line, col, "no registered unit has this external id")
                        });
                    }
                    raw.parse::<UnitId>()
                        .ok()
                        .filter(|&u| map.unit(u).is_some())
                        .ok_or_else(|| {
                            LineError::at(r.line, id_col, "no registered unit has this id")
                        })
                };
                match read_row(&layout, r, unit(&r.cells), now, self.zone) {
                    Ok(row) => rows.push(row),
                    Err(mut e) => errors.append(&mut e),
                }
            }
        }
        // Rows into visits, in the order they first appear.
        let mut visits: Vec<PastVisit> = Vec::new();
        let mut passes: Vec<Option<u64>> = Vec::new();
        let mut by_key: HashMap<(UnitId, DateTime<Utc>, String, InspectionKind), usize> =
            HashMap::new();
        for r in rows {
            let key = (r.unit, r.at, r.inspector.to_string(), r.kind);
            let i = *by_key.entry(key).or_insert_with(|| {
                visits.push(PastVisit {
                    unit: r.unit,
                    kind: r.kind,
                    inspector: r.inspector.clone(),
                    at: r.at,
                    hazards: Vec::new(),
                });
                passes.push(None);
                visits.len() - 1
            });
            match r.hazard {
                Some(h) => visits[i].hazards.push(h),
                None => passes[i] = Some(r.line),
            }
        }
        for (v, pass) in visits.iter().zip(&passes) {
            if let (Some(line), false) = (pass, v.hazards.is_empty()) {
                errors.push(LineError::at(
                    *line,
                    layout.get(&[], RecordColumn::HazardType).1,
                    "a pass (no hazard type) for a visit whose other rows found hazards",
                ));
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.line);
            return Err(ImportError::Lines(errors));
        }
        // Visits already recorded are left as they are.
        let mut units: Vec<UnitId> = visits.iter().map(|v| v.unit).collect();
        units.sort_unstable();
        units.dedup();
        let recorded: HashSet<(UnitId, DateTime<Utc>, String)> = self
            .store
            .visits_recorded(&units)
            .await
            .map_err(WriteError::from)?
            .into_iter()
            .collect();
        let before = visits.len();
        visits.retain(|v| !recorded.contains(&(v.unit, v.at, v.inspector.to_string())));
        Ok((
            RecordImport {
                unchanged: before - visits.len(),
                visits,
                source: Text::new(source).unwrap_or_default(),
            },
            layout.ignored,
        ))
    }
}

/// One row checked on its own; every wrong value of it named.
fn read_row(
    layout: &Layout,
    row: &super::table::Row,
    unit: Result<UnitId, LineError>,
    now: DateTime<Utc>,
    zone: Zone,
) -> Result<Row, Vec<LineError>> {
    let line = row.line;
    let mut errors = Vec::new();
    let cell = |c: RecordColumn| layout.get(&row.cells, c);
    let mut bad = |c: RecordColumn, m: String| errors.push(LineError::at(line, cell(c).1, m));
    let unit = unit.map_err(|e| vec![e]);
    let moment = |c: RecordColumn, end: bool| -> Result<Option<DateTime<Utc>>, String> {
        let v = cell(c).0;
        if v.is_empty() {
            return Ok(None);
        }
        let t = parse_local(v, end, zone).ok_or_else(|| {
            format!("`{v}` is not a moment (2022-07-05 14:30, or a date 2022-07-05)")
        })?;
        if t.timestamp() < 946_684_800 {
            return Err("before 2000".into());
        }
        Ok(Some(t))
    };
    let take = |c: RecordColumn, end: bool, bad: &mut dyn FnMut(RecordColumn, String)| {
        moment(c, end).unwrap_or_else(|m| {
            bad(c, m);
            None
        })
    };
    let at = take(RecordColumn::At, false, &mut bad);
    let deadline = take(RecordColumn::Deadline, true, &mut bad);
    let yellow_at = take(RecordColumn::YellowCardAt, false, &mut bad);
    let yellow_deadline = take(RecordColumn::YellowCardDeadline, true, &mut bad);
    let closed_at = take(RecordColumn::ClosedAt, false, &mut bad);
    match at {
        None if cell(RecordColumn::At).0.is_empty() => bad(RecordColumn::At, "missing".into()),
        Some(t) if t > now => bad(RecordColumn::At, "ahead of now".into()),
        _ => {}
    }
    let inspector = Text::<100, 1>::new(cell(RecordColumn::Inspector).0)
        .map_err(|e| bad(RecordColumn::Inspector, e.to_string()))
        .ok();
    let kind = match cell(RecordColumn::Kind).0 {
        "" => Some(InspectionKind::Inspection),
        v => word(&KINDS, v).or_else(|| {
            bad(RecordColumn::Kind, format!("one of {}", words(&KINDS)));
            None
        }),
    };
    let hazard_type = cell(RecordColumn::HazardType).0;
    let mut hazard = None;
    if hazard_type.is_empty() {
        for c in [
            RecordColumn::Stage,
            RecordColumn::Deadline,
            RecordColumn::YellowCardAt,
            RecordColumn::ClosedAt,
        ] {
            if !cell(c).0.is_empty() {
                bad(c, "given for a row without a hazard type (a pass)".into());
            }
        }
    } else {
        let known = HAZARD_TYPES
            .iter()
            .find(|t| t.key == hazard_type || t.zh == hazard_type);
        let category = match (cell(RecordColumn::Category).0, known) {
            ("", Some(t)) => Some(t.category),
            ("", None) => {
                bad(
                    RecordColumn::Category,
                    "needed for a hazard type the checklist does not have".into(),
                );
                None
            }
            (v, _) => word(&CATEGORIES, v).or_else(|| {
                bad(
                    RecordColumn::Category,
                    format!("one of {}", words(&CATEGORIES)),
                );
                None
            }),
        };
        let severity = match cell(RecordColumn::Severity).0 {
            "" => Some(Severity::General),
            v => word(&SEVERITIES, v).or_else(|| {
                bad(
                    RecordColumn::Severity,
                    format!("one of {}", words(&SEVERITIES)),
                );
                None
            }),
        };
        let stage = match cell(RecordColumn::Stage).0 {
            "" => {
                bad(RecordColumn::Stage, "missing for a hazard".into());
                None
            }
            v => word(&STAGES, v).or_else(|| {
                bad(RecordColumn::Stage, format!("one of {}", words(&STAGES)));
                None
            }),
        };
        let yellow_card = match (yellow_at, yellow_deadline) {
            (Some(a), Some(d)) => Some((a, d)),
            (None, None) => None,
            (Some(_), None) => {
                bad(
                    RecordColumn::YellowCardDeadline,
                    "a yellow card needs its new deadline".into(),
                );
                None
            }
            (None, Some(_)) => {
                bad(
                    RecordColumn::YellowCardAt,
                    "a new deadline without a yellow card".into(),
                );
                None
            }
        };
        let evidence = match cell(RecordColumn::Evidence).0 {
            "" => None,
            v => Text::<2000>::new(v)
                .map_err(|e| bad(RecordColumn::Evidence, e.to_string()))
                .ok(),
        };
        let key = known.map_or(hazard_type, |t| t.key);
        let hazard_type = Text::<100, 1>::new(key)
            .map_err(|e| bad(RecordColumn::HazardType, e.to_string()))
            .ok();
        if let (Some(category), Some(severity), Some(stage), Some(hazard_type), Some(_)) =
            (category, severity, stage, hazard_type, at)
        {
            let moments = PastMoments {
                found_at: at,
                deadline,
                yellow_card,
                closed_at,
            };
            match PastHazard::new(
                category,
                hazard_type,
                severity,
                stage,
                moments,
                evidence,
                now,
            ) {
                Ok(h) => hazard = Some(h),
                Err((field, m)) => {
                    let c = RECORD_COLUMNS
                        .iter()
                        .find(|(_, en, _)| *en == field)
                        .map_or(RecordColumn::At, |(c, _, _)| *c);
                    bad(c, m.to_owned());
                }
            }
        }
    }
    let unit = match unit {
        Ok(u) => Some(u),
        Err(mut e) => {
            errors.append(&mut e);
            None
        }
    };
    match (unit, kind, inspector, at) {
        (Some(unit), Some(kind), Some(inspector), Some(at)) if errors.is_empty() => Ok(Row {
            line,
            unit,
            kind,
            inspector,
            at,
            hazard,
        }),
        _ => Err(errors),
    }
}
