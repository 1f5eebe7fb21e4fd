//! What the web page asks for beyond tiles and stats: a region with its path and its
//! children's figures (the click-through), a micro-grid's units by urgency (the grid
//! worker's list), one label point per region, and the closure progress day by day
//! (the wall's chart).

use chrono::{DateTime, NaiveDate, Utc};
use geo::{BoundingRect, InteriorPoint};
use geojson::{Feature, FeatureCollection, Geometry, JsonObject};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::domain::time::{Stamp, Zone};
use crate::domain::{Colour, Level, RegionId, UnitId, UnitKind};
use crate::state::aggregate::Agg;
use crate::state::scope::Scope;
use crate::state::{MapState, RegionIdx, UnitIdx};

/// A region's or a cell's figures: the same names as the tiles' properties.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Figures {
    /// Units counted.
    pub units: u32,
    /// Of which visited.
    pub inspected: u32,
    /// Visited ÷ units.
    pub inspection_rate: f64,
    /// Hazards found.
    pub found: u32,
    /// Of which closed.
    pub closed: u32,
    /// Open now.
    pub open: u32,
    /// Closed ÷ found.
    pub closure_rate: f64,
    /// Open past their deadline.
    pub overdue: u32,
    /// Units per colour.
    pub green: u32,
    /// Units per colour.
    pub yellow: u32,
    /// Units per colour.
    pub orange: u32,
    /// Units per colour.
    pub red: u32,
    /// Units per colour.
    pub black: u32,
    /// Units not yet inspected.
    pub uninspected: u32,
}

impl From<&Agg> for Figures {
    fn from(a: &Agg) -> Self {
        Figures {
            units: a.units,
            inspected: a.inspected,
            inspection_rate: a.inspection_rate(),
            found: a.found_total(),
            closed: a.closed_total(),
            open: a.open(),
            closure_rate: a.closure_rate(),
            overdue: a.overdue,
            green: a.colour(Colour::Green),
            yellow: a.colour(Colour::Yellow),
            orange: a.colour(Colour::Orange),
            red: a.colour(Colour::Red),
            black: a.colour(Colour::Black),
            uninspected: a.colour(Colour::Uninspected),
        }
    }
}

impl Figures {
    /// As GeoJSON properties (OGC features).
    pub fn properties(&self) -> JsonObject {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => JsonObject::new(),
        }
    }
}

/// A region named: its id, level and name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Place {
    /// Id.
    #[schema(value_type = String)]
    pub id: RegionId,
    /// Level.
    pub level: Level,
    /// Name.
    pub name: String,
}

impl Place {
    /// Region `idx` named.
    pub fn of(state: &MapState, idx: RegionIdx) -> Self {
        let r = state.regions.get(idx);
        Place {
            id: r.id.clone(),
            level: r.level,
            name: r.name.clone(),
        }
    }
}

/// A child of a region on the click-through.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Child {
    /// Which.
    #[serde(flatten)]
    pub place: Place,
    /// Its bounding box, `[west, south, east, north]`.
    pub bbox: Option<[f64; 4]>,
    /// Its figures.
    pub figures: Figures,
}

/// A region for the click-through.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionView {
    /// Which.
    #[serde(flatten)]
    pub place: Place,
    /// The regions above it, from the root down.
    pub path: Vec<Place>,
    /// Its bounding box.
    pub bbox: Option<[f64; 4]>,
    /// Its figures.
    pub figures: Figures,
    /// Its children (those the reader may see), with theirs.
    pub children: Vec<Child>,
}

/// One day of the closure progress.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgressDay {
    /// The day (Guali).
    pub date: NaiveDate,
    /// Hazards found that day.
    pub found: u64,
    /// Hazards closed that day.
    pub closed: u64,
    /// Found up to that day.
    pub found_total: u64,
    /// Closed up to that day.
    pub closed_total: u64,
    /// Closed ÷ found at the day's end.
    pub closure_rate: f64,
}

/// The closure progress of a region, day by day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Progress {
    /// The region.
    pub region: Place,
    /// The first day with activity.
    pub from: Option<NaiveDate>,
    /// The last.
    pub to: Option<NaiveDate>,
    /// Each day with activity.
    pub days: Vec<ProgressDay>,
}

/// A region's bounding box; for an area or a group (teams, no polygon), its villages'.
pub(crate) fn bbox(state: &MapState, idx: RegionIdx) -> Option<[f64; 4]> {
    if let Some(b) = &state.regions.get(idx).boundary {
        let r = b.bounding_rect()?;
        return Some([r.min().x, r.min().y, r.max().x, r.max().y]);
    }
    state
        .regions
        .children(idx)
        .iter()
        .filter_map(|&c| bbox(state, c))
        .reduce(|a, b| {
            [
                a[0].min(b[0]),
                a[1].min(b[1]),
                a[2].max(b[2]),
                a[3].max(b[3]),
            ]
        })
}

/// A region for the click-through: itself, the path from the town down to it, its
/// bounding box, its figures and each child's (from `aggs`, indexed by region).
pub fn region(
    state: &MapState,
    idx: RegionIdx,
    aggs: &dyn Fn(RegionIdx) -> Agg,
    shown: &dyn Fn(RegionIdx) -> bool,
) -> RegionView {
    let mut path = Vec::new();
    let mut r = state.regions.parent(idx);
    while let Some(p) = r {
        path.push(Place::of(state, p));
        r = state.regions.parent(p);
    }
    path.reverse();
    let children = state
        .regions
        .children(idx)
        .iter()
        .filter(|&&c| shown(c))
        .map(|&c| Child {
            place: Place::of(state, c),
            bbox: bbox(state, c),
            figures: Figures::from(&aggs(c)),
        })
        .collect();
    RegionView {
        place: Place::of(state, idx),
        path,
        bbox: bbox(state, idx),
        figures: Figures::from(&aggs(idx)),
        children,
    }
}

/// How urgent a unit is for its grid worker: overdue first, then by colour in
/// [`Colour::BY_URGENCY`] (lower is more urgent).
pub fn urgency(colour: Option<Colour>, overdue: u32) -> u8 {
    if overdue > 0 {
        return 0;
    }
    colour.map_or(Colour::BY_URGENCY.len() as u8 + 1, |c| c.urgency() + 1)
}

/// A unit in a worker's list (its name and address are added from the store).
#[derive(Debug, Clone)]
pub struct ListedUnit {
    /// Id.
    pub id: UnitId,
    /// Handle in the map.
    pub idx: UnitIdx,
    /// Enterprise, street shop, rental or high-rise.
    pub kind: UnitKind,
    /// Colour now.
    pub colour: Option<Colour>,
    /// Open hazards past their deadline now.
    pub overdue: u32,
    /// Open hazards now.
    pub open: u32,
    /// See [`urgency`].
    pub urgency: u8,
}

/// The units of a region's subtree, most urgent first (ties by id), at `now`.
pub fn units_by_urgency(state: &MapState, idx: RegionIdx, now: DateTime<Utc>) -> Vec<ListedUnit> {
    let mut out: Vec<ListedUnit> = state
        .units
        .iter()
        .enumerate()
        .filter(|(_, e)| state.regions.is_within(e.micro_grid, idx))
        .filter_map(|(u, e)| {
            let (colour, a) = crate::state::aggregate::contribution(e, now)?;
            Some(ListedUnit {
                id: e.unit.id,
                idx: u as UnitIdx,
                kind: e.unit.kind,
                colour: Some(colour),
                overdue: a.overdue,
                open: a.open(),
                urgency: urgency(Some(colour), a.overdue),
            })
        })
        .collect();
    out.sort_by_key(|l| (l.urgency, std::cmp::Reverse(l.overdue), l.id));
    out
}

/// A GeoJSON point inside each region of `level` (within `within`'s subtree if given),
/// where the map writes the region's name: one label per region, where labels taken
/// from tiled polygons would repeat in every tile the polygon spans.
pub fn labels(
    state: &MapState,
    level: Level,
    within: Option<RegionIdx>,
    scope: &Scope,
) -> FeatureCollection {
    let features: Vec<Feature> = state
        .regions
        .at_level(level)
        .filter(|&i| within.is_none_or(|w| state.regions.is_within(i, w)))
        .filter(|&i| scope.covers(state, i))
        .filter_map(|i| {
            let r = state.regions.get(i);
            let p = r.boundary.as_ref()?.interior_point()?;
            let mut properties = JsonObject::new();
            properties.insert("id".into(), json!(r.id));
            properties.insert("level".into(), json!(r.level));
            properties.insert("name".into(), json!(r.name));
            Some(Feature {
                bbox: None,
                geometry: Some(Geometry::from(&p)),
                id: None,
                properties: Some(properties),
                foreign_members: None,
            })
        })
        .collect();
    FeatureCollection {
        bbox: None,
        features,
        foreign_members: None,
    }
}

/// Hazards found and closed per day (the town's, at `zone`) in a region's subtree, on each day with any
/// such activity (a quiet stretch after the campaign, or a hazard found years later,
/// does not stretch the chart), with running totals and the closure rate at each day's
/// end.
pub fn progress(
    state: &MapState,
    idx: RegionIdx,
    (now, zone): (DateTime<Utc>, Zone),
    scope: &Scope,
) -> Progress {
    // A region with checkpoints, wholly in the reader's scope: its running totals
    // day by day; otherwise a pass over its units.
    let by_day = match state.history() {
        Some(h) if h.zone() == zone && h.keeps(idx) && scope.covers(state, idx) => {
            progress_from_checkpoints(state, h, idx)
        }
        _ => progress_by_scan(state, idx, (now, zone), scope),
    };
    let (mut total_found, mut total_closed) = (0u64, 0u64);
    let days = by_day
        .iter()
        .map(|(d, &(f, c))| {
            total_found += f;
            total_closed += c;
            let rate = if total_found == 0 {
                0.0
            } else {
                total_closed as f64 / total_found as f64
            };
            ProgressDay {
                date: *d,
                found: f,
                closed: c,
                found_total: total_found,
                closed_total: total_closed,
                closure_rate: rate,
            }
        })
        .collect();
    Progress {
        region: Place::of(state, idx),
        from: by_day.first_key_value().map(|(d, _)| *d),
        to: by_day.last_key_value().map(|(d, _)| *d),
        days,
    }
}

/// Hazards found and closed per day in a region's subtree, from the daily checkpoints:
/// the day-to-day differences of the region's running totals, then today's from the
/// live figures.
fn progress_from_checkpoints(
    state: &MapState,
    h: &crate::state::history::History,
    idx: RegionIdx,
) -> std::collections::BTreeMap<NaiveDate, (u64, u64)> {
    let mut by_day = std::collections::BTreeMap::new();
    let mut prev = (0u64, 0u64);
    let mut step = |day: NaiveDate, a: &crate::state::aggregate::Agg| {
        let now = (u64::from(a.found_total()), u64::from(a.closed_total()));
        if now != prev {
            by_day.insert(
                day,
                (now.0.saturating_sub(prev.0), now.1.saturating_sub(prev.1)),
            );
        }
        prev = now;
    };
    for day in h.days() {
        if let Some(a) = h.at(idx, h.zone().end_of_day(day)) {
            step(day, a);
        }
    }
    step(
        h.zone().date_of(state.live().at()),
        state.live().region(idx),
    );
    by_day
}

/// Hazards found and closed per day in a region's subtree, by a pass over its units.
fn progress_by_scan(
    state: &MapState,
    idx: RegionIdx,
    (now, zone): (DateTime<Utc>, Zone),
    scope: &Scope,
) -> std::collections::BTreeMap<NaiveDate, (u64, u64)> {
    let mut by_day: std::collections::BTreeMap<NaiveDate, (u64, u64)> = Default::default();
    for e in state.units_under(idx) {
        if !scope.covers(state, e.micro_grid) {
            continue;
        }
        for h in e.hazards.iter() {
            let f = h.found_at.time();
            if f <= now {
                by_day.entry(zone.date_of(f)).or_default().0 += 1;
            }
            if let Some(c) = h.closed_at.map(Stamp::time).filter(|&c| c <= now) {
                by_day.entry(zone.date_of(c)).or_default().1 += 1;
            }
        }
    }
    by_day
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::fixture::{dataset, t};

    #[test]
    fn urgency_orders_overdue_then_red_black_orange_yellow_uninspected_green() {
        let order = [
            urgency(Some(Colour::Green), 1),
            urgency(Some(Colour::Red), 0),
            urgency(Some(Colour::Black), 0),
            urgency(Some(Colour::Orange), 0),
            urgency(Some(Colour::Yellow), 0),
            urgency(Some(Colour::Uninspected), 0),
            urgency(Some(Colour::Green), 0),
        ];
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    }

    #[test]
    fn progress_counts_each_hazard_once_found_and_once_closed() {
        let s = MapState::build(dataset(), t(9)).unwrap();
        let p = serde_json::to_value(progress(
            &s,
            s.regions.root(),
            (t(9), Zone::CHINA),
            &Scope::All,
        ))
        .unwrap();
        let days = p["days"].as_array().cloned().unwrap_or_default();
        let last = days.last().cloned().unwrap_or_default();
        let found: usize = s.units.iter().map(|e| e.hazards.len()).sum();
        assert_eq!(last["found_total"], found);
        let sum: u64 = days.iter().filter_map(|d| d["found"].as_u64()).sum();
        assert_eq!(sum as usize, found);
        let list = units_by_urgency(&s, s.regions.root(), t(9));
        assert_eq!(list.len(), 3);
        assert!(list.windows(2).all(|w| w[0].urgency <= w[1].urgency));
    }

    #[test]
    fn each_region_of_a_level_gets_one_label_inside_it() {
        use geo::Contains;
        let s = MapState::build(dataset(), t(9)).unwrap();
        for level in [Level::Village, Level::Grid, Level::MicroGrid] {
            let v = serde_json::to_value(labels(&s, level, None, &Scope::All)).unwrap();
            let fs = v["features"].as_array().cloned().unwrap_or_default();
            assert_eq!(fs.len(), s.regions.at_level(level).count(), "{level:?}");
            for (f, i) in fs.iter().zip(s.regions.at_level(level)) {
                let c = &f["geometry"]["coordinates"];
                let p = geo::Point::new(c[0].as_f64().unwrap_or(0.0), c[1].as_f64().unwrap_or(0.0));
                let b = s
                    .regions
                    .get(i)
                    .boundary
                    .clone()
                    .unwrap_or_else(|| panic!("{level:?}"));
                assert!(b.contains(&p), "{level:?} label outside its region");
            }
        }
    }
}
