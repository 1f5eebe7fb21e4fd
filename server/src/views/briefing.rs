//! The daily briefing (每日通报) of a region for a date, as the command post's morning
//! meeting reads it: the region's figures, its villages ranked by inspection rate and
//! closure rate against the day before, each group's week against its target, the
//! overdue and major hazards, the hardest cases, and the leader's comment. Figures are
//! as of the end of the day (or now, for today). The map gives the figures and the ids;
//! the store names them ([`briefing`]).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::page::Place;
use super::rankings::{Metric, Ranked, ranked_regions, ranking};
use super::targets::GroupWeek;
use crate::domain::time::Zone;
use crate::domain::{
    BriefingComment, HazardFacts, HazardId, IsoWeek, Level, Severity, UnitId, time::Stamp,
};
use crate::state::aggregate::{Agg, UnitFilter, fold_regions};
use crate::state::history::AggsAt;
use crate::state::scope::Scope;
use crate::state::{MapState, RegionIdx};

/// How many hazards a list of the JSON briefing holds (its total is always given; the
/// workbook holds them all).
pub const LISTED: usize = 100;
/// How many hardest cases each list shows.
pub const HARDEST: usize = 10;

/// A region's figures at a moment and a day earlier.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Totals {
    /// Units registered.
    pub units: u32,
    /// Units visited at least once.
    pub inspected: u32,
    /// inspected ÷ units.
    pub inspection_rate: f64,
    /// The same a day earlier.
    pub previous_inspection_rate: f64,
    /// Hazards found.
    pub found: u32,
    /// Hazards closed (销号).
    pub closed: u32,
    /// closed ÷ found.
    pub closure_rate: f64,
    /// The same a day earlier.
    pub previous_closure_rate: f64,
    /// Hazards found that day.
    pub found_today: u32,
    /// Hazards closed that day.
    pub closed_today: u32,
    /// Open hazards past their deadline.
    pub overdue: u32,
    /// Open major hazards.
    pub major_open: u32,
}

impl Totals {
    fn of(now: &Agg, before: &Agg) -> Totals {
        Totals {
            units: now.units,
            inspected: now.inspected,
            inspection_rate: now.inspection_rate(),
            previous_inspection_rate: before.inspection_rate(),
            found: now.found_total(),
            closed: now.closed_total(),
            closure_rate: now.closure_rate(),
            previous_closure_rate: before.closure_rate(),
            found_today: now.found_total().saturating_sub(before.found_total()),
            closed_today: now.closed_total().saturating_sub(before.closed_total()),
            overdue: now.overdue,
            major_open: now.major_open,
        }
    }
}

/// A village's line: both rankings with their change since the day before.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VillageLine {
    /// The village.
    #[schema(value_type = String)]
    pub id: crate::domain::RegionId,
    /// Its name.
    pub name: String,
    /// Units.
    pub units: u32,
    /// Units inspected.
    pub inspected: u32,
    /// Its inspection rate.
    pub inspection_rate: f64,
    /// Its rank by inspection rate (1 is best).
    pub inspection_rank: u32,
    /// Places moved up since the day before (negative: down).
    pub inspection_rank_change: i64,
    /// Hazards found.
    pub found: u32,
    /// Hazards closed.
    pub closed: u32,
    /// Its closure rate.
    pub closure_rate: f64,
    /// Its rank by closure rate.
    pub closure_rank: u32,
    /// Places moved up since the day before.
    pub closure_rank_change: i64,
    /// Open hazards past their deadline.
    pub overdue: u32,
}

fn village_lines(by_inspection: Vec<Ranked>, by_closure: &[Ranked]) -> Vec<VillageLine> {
    let mut lines: Vec<VillageLine> = by_inspection
        .into_iter()
        .map(|i| {
            let c = by_closure.iter().find(|c| c.id == i.id);
            VillageLine {
                inspection_rate: i.value,
                inspection_rank: i.rank,
                inspection_rank_change: i.rank_change,
                closure_rate: c.map_or(0.0, |c| c.value),
                closure_rank: c.map_or(0, |c| c.rank),
                closure_rank_change: c.map_or(0, |c| c.rank_change),
                units: i.units,
                inspected: i.inspected,
                found: i.found,
                closed: i.closed,
                overdue: i.overdue,
                name: i.name,
                id: i.id,
            }
        })
        .collect();
    // Within a tie in inspection rate (every village at 100 %, late in a campaign), the
    // closure rate orders.
    lines.sort_by_key(|v| (v.inspection_rank, v.closure_rank));
    lines
}

/// A hazard in a list, named by the application.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HazardLine {
    /// The hazard.
    #[schema(value_type = i64)]
    pub hazard: HazardId,
    /// Its unit.
    #[schema(value_type = i64)]
    pub unit: UnitId,
    /// The unit's name.
    pub unit_name: String,
    /// The unit's village.
    pub village: String,
    /// What is wrong (its hazard type, in Chinese as the checklist names it).
    pub hazard_type: String,
    /// General or major.
    pub severity: Severity,
    /// When it was found.
    pub found_at: DateTime<Utc>,
    /// Its deadline.
    pub deadline: Option<DateTime<Utc>>,
    /// When a yellow card was issued.
    pub yellow_card_at: Option<DateTime<Utc>>,
    /// Whole days open at the moment.
    pub days_open: i64,
    /// Whole days past the deadline (0 when not overdue).
    pub days_overdue: i64,
}

/// A unit among the hardest cases.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnitLine {
    /// The unit.
    #[schema(value_type = i64)]
    pub unit: UnitId,
    /// Its name.
    pub unit_name: String,
    /// Its village.
    pub village: String,
    /// Hazards open at the moment.
    pub open: u32,
    /// Of those, past their deadline.
    pub overdue: u32,
    /// Whole days its oldest open hazard has been open.
    pub oldest_days: i64,
}

/// A list and how many it would hold without its limit.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Listed<T> {
    /// How many there are.
    pub total: usize,
    /// The first of them, most urgent first.
    pub items: Vec<T>,
}

/// The briefing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Briefing {
    /// The day.
    pub date: NaiveDate,
    /// The town's time zone, which the day and every time are in (`+08:00`).
    #[schema(value_type = String, example = "+08:00")]
    pub time_zone: Zone,
    /// The region it is of.
    pub region: Place,
    /// The moment its figures are of: the end of the day, or now for today.
    pub at: DateTime<Utc>,
    /// A day earlier (what changes are measured from).
    pub previous_at: DateTime<Utc>,
    /// The region's figures.
    pub totals: Totals,
    /// Its villages, by inspection rank, then closure rank.
    pub villages: Vec<VillageLine>,
    /// The ISO week of the day.
    #[schema(value_type = String)]
    pub week: IsoWeek,
    /// Each group of the region: the week's closures up to the moment against its target.
    pub groups: Vec<GroupWeek>,
    /// Open hazards past their deadline, longest overdue first.
    pub overdue: Listed<HazardLine>,
    /// Open major hazards, oldest first.
    pub major: Listed<HazardLine>,
    /// The units with the most open hazards.
    pub most_open: Vec<UnitLine>,
    /// The hazards open longest.
    pub oldest_open: Vec<HazardLine>,
    /// The leader's comment on the day, if written.
    #[schema(value_type = Option<Object>)]
    pub comment: Option<BriefingComment>,
}

/// A hazard picked for a list, by its place in the map.
#[derive(Debug, Clone, Copy)]
pub struct Picked {
    /// The unit's handle.
    pub unit: usize,
    /// Its id.
    pub id: UnitId,
    /// The hazard.
    pub facts: HazardFacts,
}

/// A unit picked for the hardest cases.
#[derive(Debug, Clone, Copy)]
pub struct PickedUnit {
    /// The unit's handle.
    pub unit: usize,
    /// Its id.
    pub id: UnitId,
    /// Open hazards.
    pub open: u32,
    /// Of those, overdue.
    pub overdue: u32,
    /// When its oldest open hazard was found.
    pub oldest: Stamp,
}

/// What the map says of a briefing, before the store names it.
#[derive(Debug)]
pub struct Figures {
    /// The region.
    pub region: Place,
    /// Totals.
    pub totals: Totals,
    /// Villages.
    pub villages: Vec<VillageLine>,
    /// Overdue hazards (all of them, sorted).
    pub overdue: Vec<Picked>,
    /// Open major hazards (all, sorted).
    pub major: Vec<Picked>,
    /// The units with most open hazards (the first [`HARDEST`]).
    pub most_open: Vec<PickedUnit>,
    /// The hazards open longest (the first [`HARDEST`]).
    pub oldest_open: Vec<Picked>,
    /// Each unit handle's village name is read from here.
    pub village_of: Vec<Option<RegionIdx>>,
}

/// The figures of region `idx` at `at` against a day earlier, for a reader whose scope
/// covers the region.
pub fn figures(map: &MapState, idx: RegionIdx, at: DateTime<Utc>, present: bool) -> Figures {
    let previous_at = at - chrono::Duration::days(1);
    let all = UnitFilter::default();
    let villages = ranked_regions(map, (Level::Village, idx), &Scope::All);
    let wanted = || villages.iter().copied().chain([idx]);
    let before = AggsAt::of(map, wanted(), Some(previous_at), &all);
    let now = AggsAt::of(map, wanted(), (!present).then_some(at), &all);
    let by_inspection = ranking(map, &villages, Metric::InspectionRate, &now, &before);
    let by_closure = ranking(map, &villages, Metric::ClosureRate, &now, &before);

    // Each region's village (itself, or the one above it), and whether it is in `idx`.
    let n = map.regions.all().len();
    let mut village_of: Vec<Option<RegionIdx>> = vec![None; n];
    let mut inside = vec![false; n];
    for r in 0..n {
        inside[r] = map.regions.is_within(r, idx);
        let mut at_r = Some(r);
        while let Some(x) = at_r {
            if map.regions.get(x).level == Level::Village {
                village_of[r] = Some(x);
                break;
            }
            at_r = map.regions.parent(x);
        }
    }
    let t = Stamp::of(at);
    let mut overdue = Vec::new();
    let mut major = Vec::new();
    let mut open_all = Vec::new();
    let mut units = Vec::new();
    for (u, e) in map.units.iter().enumerate() {
        if !inside[e.micro_grid] {
            continue;
        }
        let mut picked = PickedUnit {
            unit: u,
            id: e.unit.id,
            open: 0,
            overdue: 0,
            oldest: t,
        };
        for h in e.hazards.iter().filter(|h| h.is_open(at)) {
            let p = Picked {
                unit: u,
                id: e.unit.id,
                facts: *h,
            };
            picked.open += 1;
            picked.oldest = picked.oldest.min(h.found_at);
            if h.is_overdue(at) {
                picked.overdue += 1;
                overdue.push(p);
            }
            if h.severity == Severity::Major {
                major.push(p);
            }
            open_all.push(p);
        }
        if picked.open > 0 {
            units.push(picked);
        }
    }
    let id = |p: &Picked| p.facts.id;
    overdue.sort_by_key(|p| (p.facts.deadline, id(p)));
    major.sort_by_key(|p| (p.facts.found_at, id(p)));
    open_all.sort_by_key(|p| (p.facts.found_at, id(p)));
    open_all.truncate(HARDEST);
    units.sort_by_key(|p| (std::cmp::Reverse(p.open), p.oldest, p.unit));
    units.truncate(HARDEST);
    Figures {
        region: Place::of(map, idx),
        totals: Totals::of(&now.get(idx), &before.get(idx)),
        villages: village_lines(by_inspection, &by_closure),
        overdue,
        major,
        most_open: units,
        oldest_open: open_all,
        village_of,
    }
}

/// Whole days from `from` to `to` (0 when `to` is earlier).
pub fn days_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_days().max(0)
}

/// Why a briefing could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BriefingError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The map's lock was poisoned.
    #[error(transparent)]
    Poisoned(#[from] crate::app::Poisoned),
}

/// The briefing of region `idx` for `date`, named from the store: as of the end of the
/// day, or now when the day has not ended; its hazard lists hold `listed` at most.
pub async fn briefing(
    app: &crate::app::AppState,
    idx: RegionIdx,
    date: NaiveDate,
    listed: usize,
) -> Result<Briefing, BriefingError> {
    let end = app.zone.start_of_day(date + chrono::Duration::days(1));
    let week = IsoWeek::of(date);
    let targets = app.store.targets(&week).await?;
    let (figures, groups, at, villages) = {
        let (map, now) = app.read_now()?;
        let present = end >= now;
        let at = if present { now } else { end };
        let f = figures(&map, idx, at, present);
        let groups = super::targets::group_weeks(&map, &week, &targets, (at, app.zone), |g| {
            map.regions.is_within(g, idx) || map.regions.is_within(idx, g)
        });
        // The units the lists name, with their villages' names.
        let villages: HashMap<UnitId, String> = f
            .overdue
            .iter()
            .take(listed)
            .chain(f.major.iter().take(listed))
            .chain(&f.oldest_open)
            .map(|p| (p.unit, p.id))
            .chain(f.most_open.iter().map(|p| (p.unit, p.id)))
            .map(|(u, id)| {
                let village = f.village_of[map.units[u].micro_grid]
                    .map(|v| map.regions.get(v).name.clone())
                    .unwrap_or_default();
                (id, village)
            })
            .collect();
        (f, groups, at, villages)
    };
    let named: Vec<UnitId> = villages.keys().copied().collect();
    let hazard_ids: Vec<HazardId> = figures
        .overdue
        .iter()
        .take(listed)
        .chain(figures.major.iter().take(listed))
        .chain(&figures.oldest_open)
        .map(|p| p.facts.id)
        .collect();
    let texts = app.store.unit_texts(&named).await?;
    let types = app.store.hazard_types(&hazard_ids).await?;
    let comment = app.store.briefing_comment(&figures.region.id, date).await?;
    let unit_name = |u: UnitId| {
        texts
            .get(&u)
            .map(|t| t.name.to_string())
            .unwrap_or_default()
    };
    let hazard = |p: &Picked| {
        let unit = p.id;
        let h = &p.facts;
        let kind = types.get(&h.id).map(String::as_str).unwrap_or_default();
        HazardLine {
            hazard: h.id,
            unit,
            unit_name: unit_name(unit),
            village: villages.get(&unit).cloned().unwrap_or_default(),
            hazard_type: crate::domain::checklist::name_zh(kind).to_owned(),
            severity: h.severity,
            found_at: h.found_at.time(),
            deadline: h.deadline.map(Stamp::time),
            yellow_card_at: h.yellow_card_at.map(Stamp::time),
            days_open: days_between(h.found_at.time(), at),
            days_overdue: h.deadline.map_or(0, |d| days_between(d.time(), at)),
        }
    };
    let list = |all: &[Picked]| Listed {
        total: all.len(),
        items: all.iter().take(listed).map(hazard).collect(),
    };
    Ok(Briefing {
        date,
        time_zone: app.zone,
        at,
        previous_at: at - chrono::Duration::days(1),
        totals: figures.totals.clone(),
        villages: figures.villages.clone(),
        week,
        groups,
        overdue: list(&figures.overdue),
        major: list(&figures.major),
        most_open: figures
            .most_open
            .iter()
            .map(|p| {
                let unit = p.id;
                UnitLine {
                    unit,
                    unit_name: unit_name(unit),
                    village: villages.get(&unit).cloned().unwrap_or_default(),
                    open: p.open,
                    overdue: p.overdue,
                    oldest_days: days_between(p.oldest.time(), at),
                }
            })
            .collect(),
        oldest_open: figures.oldest_open.iter().map(hazard).collect(),
        comment: comment.filter(|c| !c.text.as_str().is_empty()),
        region: figures.region,
    })
}

/// A day and a minute on the town's clocks, as the sheets write them.
fn local(zone: Zone, t: DateTime<Utc>) -> String {
    zone.local(t).format("%Y-%m-%d %H:%M").to_string()
}

/// A rate as a percentage with one decimal.
pub fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

/// The briefing as an XLSX workbook, a sheet per part, headed in Chinese (the sheets go
/// to the village cadres).
pub fn xlsx(b: &Briefing) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook, Worksheet};
    let bold = Format::new().set_bold();
    let mut book = Workbook::new();
    let head = |sheet: &mut Worksheet, cols: &[&str]| -> Result<(), rust_xlsxwriter::XlsxError> {
        for (c, h) in cols.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        Ok(())
    };

    let sheet = book.add_worksheet().set_name("概况")?;
    let t = &b.totals;
    let rows: [(&str, String); 12] = [
        ("地区", b.region.name.clone()),
        ("日期", b.date.to_string()),
        ("统计截至", local(b.time_zone, b.at)),
        ("主体数", t.units.to_string()),
        ("已排查", t.inspected.to_string()),
        ("排查率", percent(t.inspection_rate)),
        ("发现隐患", t.found.to_string()),
        ("已销号", t.closed.to_string()),
        ("销号率", percent(t.closure_rate)),
        (
            "当日新增/销号",
            format!("{}/{}", t.found_today, t.closed_today),
        ),
        ("逾期未整改", t.overdue.to_string()),
        ("重大隐患未销号", t.major_open.to_string()),
    ];
    for (r, (k, v)) in rows.iter().enumerate() {
        sheet.write_string_with_format(r as u32, 0, *k, &bold)?;
        sheet.write_string(r as u32, 1, v)?;
    }
    let at = rows.len() as u32 + 1;
    sheet.write_string_with_format(at, 0, "领导点评", &bold)?;
    if let Some(c) = &b.comment {
        sheet.write_string(at, 1, c.text.as_str())?;
        sheet.write_string(at + 1, 1, format!("{} {}", c.by, local(b.time_zone, c.at)))?;
    }
    sheet.set_column_width(0, 16)?;
    sheet.set_column_width(1, 60)?;

    let sheet = book.add_worksheet().set_name("村社排名")?;
    head(
        sheet,
        &[
            "排查率排名",
            "名次变化",
            "村社",
            "主体数",
            "已排查",
            "排查率",
            "发现隐患",
            "已销号",
            "销号率",
            "销号率排名",
            "名次变化",
            "逾期",
        ],
    )?;
    for (r, v) in b.villages.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_number(r, 0, v.inspection_rank)?;
        sheet.write_number(r, 1, v.inspection_rank_change as f64)?;
        sheet.write_string(r, 2, &v.name)?;
        sheet.write_number(r, 3, v.units)?;
        sheet.write_number(r, 4, v.inspected)?;
        sheet.write_string(r, 5, percent(v.inspection_rate))?;
        sheet.write_number(r, 6, v.found)?;
        sheet.write_number(r, 7, v.closed)?;
        sheet.write_string(r, 8, percent(v.closure_rate))?;
        sheet.write_number(r, 9, v.closure_rank)?;
        sheet.write_number(r, 10, v.closure_rank_change as f64)?;
        sheet.write_number(r, 11, v.overdue)?;
    }

    let sheet = book.add_worksheet().set_name("小组周目标")?;
    head(sheet, &["小组", "本周目标", "已销号", "完成率"])?;
    for (r, g) in b.groups.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, &g.name)?;
        if let Some(target) = g.target {
            sheet.write_number(r, 1, target)?;
        }
        sheet.write_number(r, 2, g.closed as f64)?;
        if let Some(p) = g.progress {
            sheet.write_string(r, 3, percent(p))?;
        }
    }

    let hazards =
        |sheet: &mut Worksheet, list: &[HazardLine]| -> Result<(), rust_xlsxwriter::XlsxError> {
            head(
                sheet,
                &[
                    "主体",
                    "村社",
                    "隐患",
                    "等级",
                    "发现时间",
                    "整改期限",
                    "黄牌",
                    "已开天数",
                    "逾期天数",
                ],
            )?;
            for (r, h) in list.iter().enumerate() {
                let r = r as u32 + 1;
                sheet.write_string(r, 0, &h.unit_name)?;
                sheet.write_string(r, 1, &h.village)?;
                sheet.write_string(r, 2, &h.hazard_type)?;
                let severity = if h.severity == Severity::Major {
                    "重大"
                } else {
                    "一般"
                };
                sheet.write_string(r, 3, severity)?;
                sheet.write_string(r, 4, local(b.time_zone, h.found_at))?;
                if let Some(d) = h.deadline {
                    sheet.write_string(r, 5, local(b.time_zone, d))?;
                }
                if let Some(y) = h.yellow_card_at {
                    sheet.write_string(r, 6, local(b.time_zone, y))?;
                }
                sheet.write_number(r, 7, h.days_open as f64)?;
                sheet.write_number(r, 8, h.days_overdue as f64)?;
            }
            sheet.set_column_width(0, 28)?;
            sheet.set_column_width(2, 24)?;
            Ok(())
        };
    hazards(book.add_worksheet().set_name("逾期隐患")?, &b.overdue.items)?;
    hazards(book.add_worksheet().set_name("重大隐患")?, &b.major.items)?;
    hazards(book.add_worksheet().set_name("久拖未改")?, &b.oldest_open)?;

    let sheet = book.add_worksheet().set_name("隐患最多")?;
    head(
        sheet,
        &["主体", "村社", "未销号隐患", "其中逾期", "最久天数"],
    )?;
    for (r, u) in b.most_open.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, &u.unit_name)?;
        sheet.write_string(r, 1, &u.village)?;
        sheet.write_number(r, 2, u.open)?;
        sheet.write_number(r, 3, u.overdue)?;
        sheet.write_number(r, 4, u.oldest_days as f64)?;
    }
    book.save_to_buffer()
}

/// A signed change in percentage points, as a message says it.
fn points(now: f64, before: f64) -> String {
    let d = (now - before) * 100.0;
    format!("{}{:.1}", if d >= 0.0 { "+" } else { "−" }, d.abs())
}

/// The message of briefing `b` for each of its groups: the group's week against its
/// target and its overdue and major hazards, the region's figures, the first and last
/// villages by closure rate, and the leader's comment — signed by `town`.
pub fn group_messages(
    map: &MapState,
    b: &Briefing,
    town: &str,
) -> Vec<(crate::domain::RegionId, String)> {
    let aggs = fold_regions(map, b.at, &UnitFilter::default());
    let t = &b.totals;
    let end = b.time_zone.start_of_day(b.date + chrono::Duration::days(1));
    let as_of = if b.at == end {
        "24时".to_owned()
    } else {
        b.time_zone.local(b.at).format("%H:%M").to_string()
    };
    let mut by_closure: Vec<&VillageLine> = b.villages.iter().collect();
    by_closure.sort_by_key(|v| (v.closure_rank, v.id.clone()));
    let names = |vs: &[&VillageLine]| {
        vs.iter()
            .map(|v| v.name.as_str())
            .collect::<Vec<_>>()
            .join("、")
    };
    let k = by_closure.len().min(3);
    let villages = if by_closure.len() > 3 {
        format!(
            "销号率前三：{}；末三：{}。\n",
            names(&by_closure[..k]),
            names(&by_closure[by_closure.len() - k..])
        )
    } else {
        String::new()
    };
    let comment = b
        .comment
        .as_ref()
        .map(|c| format!("领导点评：{}\n", c.text))
        .unwrap_or_default();
    b.groups
        .iter()
        .map(|g| {
            let a = map.regions.find(&g.group).map(|i| &aggs[i]);
            let target = match (g.target, g.progress) {
                (Some(target), Some(p)) => format!("本周目标销号{target}处，已销号{}处，完成{}", g.closed, percent(p)),
                _ => format!("本周已销号{}处（未设目标）", g.closed),
            };
            let msg = format!(
                "【{town}每日通报】{date}（截至{as_of}）\n{group}：{target}；逾期未整改{overdue}处，重大隐患未销号{major}处。\n{region}：排查率{ir}，销号率{cr}（较前日{cc}个百分点），当日销号{ct}处；逾期未整改{o}处，重大隐患未销号{m}处。\n{villages}{comment}",
                date = b.date,
                group = g.name,
                overdue = a.map_or(0, |a| a.overdue),
                major = a.map_or(0, |a| a.major_open),
                region = b.region.name,
                ir = percent(t.inspection_rate),
                cr = percent(t.closure_rate),
                cc = points(t.closure_rate, t.previous_closure_rate),
                ct = t.closed_today,
                o = t.overdue,
                m = t.major_open,
            );
            (g.group.clone(), msg.trim_end().to_owned())
        })
        .collect()
}
