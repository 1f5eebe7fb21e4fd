//! OGC API – Features (Part 1, Core + GeoJSON): the collections, which features match
//! a query, in which order, and how each one reads as GeoJSON. Pure functions of the
//! map state; `http::ogc` parses requests, adds links and responds.
//!
//! Collections: `units` (points), `villages`, `grids`, `micro_grids` (multipolygons
//! with their figures) and `hexes` (H3 cells at resolution 7, 8 or 9 with their
//! figures). Invariants the clients rely on:
//! - order is stable (units by id, regions by id, cells by index), so paging with
//!   `offset` visits every matching feature exactly once;
//! - `number_matched` counts every feature the query matches, not just the page;
//! - a feature matches a bbox when its geometry meets the box (boundary included);
//! - the figures are those of the present (the live aggregates), or a fold over the
//!   units the filter admits when it restricts kinds or colours.

use std::collections::HashMap;
use std::str::FromStr;

use geo::{BoundingRect, Intersects, Rect};
use geojson::feature::Id;
use geojson::{Feature, Geometry, JsonObject};
use h3o::{CellIndex, Resolution};
use serde_json::{Value, json};

use crate::domain::{Colour, Level, RegionId, UnitId};
use crate::state::aggregate::{Agg, UnitFilter, contribution, fold_regions};
use crate::state::live::HEX_RESOLUTIONS;
use crate::state::scope::Scope;
use crate::state::{MapState, RegionIdx, UnitIdx};
use crate::store::UnitText;
use crate::views::cell_polygon;

/// Features per page when the client gives no `limit`.
pub const DEFAULT_LIMIT: usize = 100;
/// The largest `limit` accepted.
pub const MAX_LIMIT: usize = 10_000;
/// The H3 resolution of `hexes` when the client gives none (about a grid).
pub const DEFAULT_HEX_RESOLUTION: Resolution = Resolution::Eight;
/// The CRS of every geometry and bbox (WGS 84, longitude first).
pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// A feature collection of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Collection {
    /// Every registered unit as a point.
    Units,
    /// Villages and communities (村社).
    Villages,
    /// Grids (网格).
    Grids,
    /// Micro-grids (微网格).
    MicroGrids,
    /// H3 cells with units in them.
    Hexes,
}

impl Collection {
    /// Every collection, in the order the service lists them.
    pub const ALL: [Collection; 5] = [
        Collection::Units,
        Collection::Villages,
        Collection::Grids,
        Collection::MicroGrids,
        Collection::Hexes,
    ];

    /// Its id in URLs.
    pub fn name(self) -> &'static str {
        match self {
            Collection::Units => "units",
            Collection::Villages => "villages",
            Collection::Grids => "grids",
            Collection::MicroGrids => "micro_grids",
            Collection::Hexes => "hexes",
        }
    }

    /// A short human title.
    pub fn title(self) -> &'static str {
        match self {
            Collection::Units => "Units",
            Collection::Villages => "Villages",
            Collection::Grids => "Grids",
            Collection::MicroGrids => "Micro-grids",
            Collection::Hexes => "H3 cells",
        }
    }

    /// What the collection holds, for its description.
    pub fn description(self) -> &'static str {
        match self {
            Collection::Units => {
                "Every registered unit (enterprise, street shop, rental room, high-rise) as a \
                 point with its colour now; filter with kind=, colour=, region="
            }
            Collection::Villages => {
                "Villages and communities (村社) with their figures now: units, inspection and \
                 closure rates, hazards, units per colour"
            }
            Collection::Grids => "Grids (网格) with their figures now",
            Collection::MicroGrids => "Micro-grids (微网格) with their figures now",
            Collection::Hexes => {
                "H3 cells holding units, with their figures now; resolution=7, 8 (default) or 9"
            }
        }
    }

    /// The region level a region collection holds.
    pub fn level(self) -> Option<Level> {
        match self {
            Collection::Villages => Some(Level::Village),
            Collection::Grids => Some(Level::Grid),
            Collection::MicroGrids => Some(Level::MicroGrid),
            Collection::Units | Collection::Hexes => None,
        }
    }
}

impl FromStr for Collection {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Collection::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| s.to_owned())
    }
}

/// A box in longitude/latitude (CRS84), corners included.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bbox {
    /// West, south.
    pub min: [f64; 2],
    /// East, north.
    pub max: [f64; 2],
}

/// A `bbox` value that is not a box on Earth.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BboxError {
    /// Not four values.
    #[error("takes exactly four numbers minLon,minLat,maxLon,maxLat, got {0}")]
    Count(usize),
    /// A value that is not a finite number.
    #[error("`{0}` is not a finite number")]
    NotANumber(String),
    /// West of east, or south of north, the wrong way round.
    #[error(
        "the minimum must not exceed the maximum (boxes across the antimeridian are not supported)"
    )]
    Order,
    /// A longitude outside −180..180 or a latitude outside −90..90.
    #[error("longitudes must lie within -180..180 and latitudes within -90..90")]
    OutOfRange,
}

impl FromStr for Bbox {
    type Err = BboxError;
    fn from_str(s: &str) -> Result<Self, BboxError> {
        let parts: Vec<&str> = s.split(',').collect();
        let [w, s, e, n] = parts[..] else {
            return Err(BboxError::Count(parts.len()));
        };
        let num = |v: &str| {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| BboxError::NotANumber(v.to_owned()))
        };
        let (w, s, e, n) = (num(w)?, num(s)?, num(e)?, num(n)?);
        if [w, e].iter().any(|x| x.abs() > 180.0) || [s, n].iter().any(|y| y.abs() > 90.0) {
            return Err(BboxError::OutOfRange);
        }
        if w > e || s > n {
            return Err(BboxError::Order);
        }
        Ok(Bbox {
            min: [w, s],
            max: [e, n],
        })
    }
}

impl Bbox {
    fn rect(&self) -> Rect<f64> {
        Rect::new(self.min, self.max)
    }

    fn envelope(&self) -> rstar::AABB<[f64; 2]> {
        rstar::AABB::from_corners(self.min, self.max)
    }
}

/// What an items request asks for, parsed and checked.
#[derive(Debug, Clone)]
pub struct ItemsQuery {
    /// Only features meeting this box.
    pub bbox: Option<Bbox>,
    /// Which units count: the units listed, or the units the figures sum.
    pub filter: UnitFilter,
    /// The H3 resolution of `hexes` (one of [`HEX_RESOLUTIONS`]).
    pub resolution: Resolution,
    /// Matching features to skip.
    pub offset: usize,
    /// The most features to return (1..=[`MAX_LIMIT`]).
    pub limit: usize,
}

impl Default for ItemsQuery {
    fn default() -> Self {
        ItemsQuery {
            bbox: None,
            filter: UnitFilter::default(),
            resolution: DEFAULT_HEX_RESOLUTION,
            offset: 0,
            limit: DEFAULT_LIMIT,
        }
    }
}

/// One page of matching features.
#[derive(Debug)]
pub struct Page {
    /// The features of the page, in the collection's order.
    pub features: Vec<Feature>,
    /// How many features match the query in all.
    pub number_matched: usize,
}

impl Page {
    /// The offset of the next page, if features remain after this one.
    pub fn next_offset(&self, q: &ItemsQuery) -> Option<usize> {
        let next = q.offset.saturating_add(self.features.len());
        (!self.features.is_empty() && next < self.number_matched).then_some(next)
    }

    /// The offset of the previous page, if this one does not start at the first.
    pub fn prev_offset(&self, q: &ItemsQuery) -> Option<usize> {
        (q.offset > 0).then(|| q.offset.saturating_sub(q.limit))
    }
}

/// The features of `collection` matching `q`, one page of them.
pub fn items(state: &MapState, collection: Collection, q: &ItemsQuery) -> Page {
    match collection {
        Collection::Units => {
            let units = matching_units(state, q);
            let features = page(&units, q)
                .iter()
                .map(|&(u, colour)| unit_feature(state, u, colour))
                .collect();
            Page {
                features,
                number_matched: units.len(),
            }
        }
        Collection::Villages | Collection::Grids | Collection::MicroGrids => {
            let level = collection.level().unwrap_or(Level::Village);
            let regions = matching_regions(state, level, q);
            let shown = page(&regions, q);
            let folded;
            let aggs: &[Agg] = if counts_every_unit(&q.filter) || shown.is_empty() {
                state.live().regions()
            } else {
                folded = fold_regions(state, state.live().at(), &q.filter);
                &folded
            };
            let features = shown
                .iter()
                .map(|&i| region_feature(state, i, &aggs[i]))
                .collect();
            Page {
                features,
                number_matched: regions.len(),
            }
        }
        Collection::Hexes => {
            let cells = matching_cells(state, q);
            let features = page(&cells, q)
                .iter()
                .map(|(c, a)| hex_feature(*c, a))
                .collect();
            Page {
                features,
                number_matched: cells.len(),
            }
        }
    }
}

/// One feature of `collection` by its id (a unit id, a region id, an H3 index) as the
/// reader with `scope` sees it; `None` when the id does not parse, names nothing in the
/// collection or nothing in scope (a cell's figures count only the units in scope).
pub fn item(state: &MapState, collection: Collection, id: &str, scope: &Scope) -> Option<Feature> {
    match collection {
        Collection::Units => {
            let u = state.unit_idx(id.parse::<UnitId>().ok()?)?;
            let colour = state.live().colour(u)?;
            scope
                .covers(state, state.units[u as usize].micro_grid)
                .then(|| unit_feature(state, u, colour))
        }
        Collection::Villages | Collection::Grids | Collection::MicroGrids => {
            let i = state.regions.find(&id.parse::<RegionId>().ok()?)?;
            (Some(state.regions.get(i).level) == collection.level() && scope.covers(state, i))
                .then(|| region_feature(state, i, state.live().region(i)))
        }
        Collection::Hexes if scope.is_all() => {
            let cell = id.parse::<CellIndex>().ok()?;
            let agg = state.live().hexes(cell.resolution())?.get(&cell)?;
            Some(hex_feature(cell, agg))
        }
        Collection::Hexes => {
            let cell = id.parse::<CellIndex>().ok()?;
            let at = state.live().at();
            let mut agg: Option<Agg> = None;
            for e in &state.units {
                if e.cell.parent(cell.resolution()) == Some(cell)
                    && scope.covers(state, e.micro_grid)
                    && let Some((_, a)) = contribution(e, at)
                {
                    *agg.get_or_insert_with(Agg::default) += &a;
                }
            }
            agg.map(|a| hex_feature(cell, &a))
        }
    }
}

/// The spatial extent of a collection as `[west, south, east, north]`: the town's, and
/// for `hexes` widened to the cells that stick out of it.
pub fn extent(state: &MapState, collection: Collection) -> [f64; 4] {
    let town = state
        .regions
        .get(state.regions.root())
        .boundary
        .as_ref()
        .and_then(BoundingRect::bounding_rect);
    let mut rect = town.map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]);
    if collection == Collection::Hexes {
        for res in HEX_RESOLUTIONS {
            for cell in state.live().hexes(res).into_iter().flat_map(|m| m.keys()) {
                for ll in cell.boundary().iter() {
                    let [w, s, e, n] = rect.get_or_insert([ll.lng(), ll.lat(), ll.lng(), ll.lat()]);
                    *w = w.min(ll.lng());
                    *s = s.min(ll.lat());
                    *e = e.max(ll.lng());
                    *n = n.max(ll.lat());
                }
            }
        }
    }
    rect.unwrap_or([-180.0, -90.0, 180.0, 90.0])
}

/// Whether `filter` admits every kind and colour for a reader who sees everything, so
/// the figures are the live ones (a `region` alone does not change a region's or a
/// cell's own figures; a scope changes a cell's, which may straddle it).
fn counts_every_unit(filter: &UnitFilter) -> bool {
    UnitFilter {
        region: None,
        ..filter.clone()
    }
    .is_all()
}

/// The slice of `all` the page shows.
fn page<'a, T>(all: &'a [T], q: &ItemsQuery) -> &'a [T] {
    let start = q.offset.min(all.len());
    let end = start.saturating_add(q.limit).min(all.len());
    &all[start..end]
}

/// Units registered now, admitted by the filter, in the bbox; by id.
fn matching_units(state: &MapState, q: &ItemsQuery) -> Vec<(UnitIdx, Colour)> {
    let admitted = |u: UnitIdx| {
        let colour = state.live().colour(u)?;
        q.filter
            .admits(state, &state.units[u as usize], colour)
            .then_some((u, colour))
    };
    let mut units: Vec<(UnitIdx, Colour)> = match q.bbox {
        Some(b) => state
            .units_in_box(&b.envelope())
            .filter_map(admitted)
            .collect(),
        None => (0..state.units.len() as UnitIdx)
            .filter_map(admitted)
            .collect(),
    };
    units.sort_unstable_by_key(|&(u, _)| state.units[u as usize].unit.id);
    units
}

/// Regions of `level` whose polygon meets the bbox, within the filter's region; by id.
fn matching_regions(state: &MapState, level: Level, q: &ItemsQuery) -> Vec<RegionIdx> {
    let within = |i: RegionIdx| q.filter.covers_region(state, i);
    let mut regions: Vec<RegionIdx> = match q.bbox {
        Some(b) => {
            let rect = b.rect();
            state
                .regions
                .regions_in(b.min, b.max, level)
                .filter(|&i| {
                    state
                        .regions
                        .get(i)
                        .boundary
                        .as_ref()
                        .is_some_and(|p| p.intersects(&rect))
                })
                .filter(|&i| within(i))
                .collect()
        }
        None => state
            .regions
            .at_level(level)
            .filter(|&i| within(i))
            .collect(),
    };
    regions.sort_unstable_by(|&a, &b| state.regions.get(a).id.cmp(&state.regions.get(b).id));
    regions
}

/// Cells at the query's resolution holding admitted units, meeting the bbox; by index.
fn matching_cells(state: &MapState, q: &ItemsQuery) -> Vec<(CellIndex, Agg)> {
    let res = q.resolution;
    let mut cells: Vec<(CellIndex, Agg)> = if q.filter.is_all() {
        state
            .live()
            .hexes(res)
            .map(|m| m.iter().map(|(c, a)| (*c, *a)).collect())
            .unwrap_or_default()
    } else {
        let at = state.live().at();
        let mut m: HashMap<CellIndex, Agg> = HashMap::new();
        for e in &state.units {
            let Some((colour, a)) = contribution(e, at) else {
                continue;
            };
            if let Some(c) = e
                .cell
                .parent(res)
                .filter(|_| q.filter.admits(state, e, colour))
            {
                *m.entry(c).or_default() += &a;
            }
        }
        m.into_iter().collect()
    };
    if let Some(b) = q.bbox {
        let rect = b.rect();
        cells.retain(|(c, _)| cell_polygon(*c).intersects(&rect));
    }
    cells.sort_unstable_by_key(|(c, _)| *c);
    cells
}

fn feature(id: Id, geometry: Option<Geometry>, properties: JsonObject) -> Feature {
    Feature {
        bbox: None,
        geometry,
        id: Some(id),
        properties: Some(properties),
        foreign_members: None,
    }
}

fn object(v: Value) -> JsonObject {
    match v {
        Value::Object(m) => m,
        _ => JsonObject::new(),
    }
}

/// A unit as a point feature, its id the unit id. Its `name` and `address` are not in
/// memory: the HTTP layer adds them from the store ([`add_unit_texts`]).
fn unit_feature(state: &MapState, u: UnitIdx, colour: Colour) -> Feature {
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
pub(crate) fn agg_properties(props: &mut JsonObject, a: &Agg) {
    props.extend(object(json!({
        "units": a.units,
        "inspected": a.inspected,
        "inspection_rate": a.inspection_rate(),
        "found": a.found_total(),
        "closed": a.closed_total(),
        "open": a.open(),
        "closure_rate": a.closure_rate(),
        "overdue": a.overdue,
    })));
    for &c in Colour::ALL {
        props.insert(c.as_str().to_owned(), a.colour(c).into());
    }
}

/// A region as a multipolygon feature, its id the region id.
fn region_feature(state: &MapState, i: RegionIdx, a: &Agg) -> Feature {
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
fn hex_feature(cell: CellIndex, a: &Agg) -> Feature {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::fixture;

    fn ids(page: &Page) -> Vec<String> {
        page.features
            .iter()
            .filter_map(|f| f.id.as_ref())
            .map(|id| match id {
                Id::String(s) => s.clone(),
                Id::Number(n) => n.to_string(),
            })
            .collect()
    }

    #[test]
    fn bboxes_are_checked() {
        let ok: Bbox = "0,0.5, 1 ,1".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            ok,
            Bbox {
                min: [0.0, 0.5],
                max: [1.0, 1.0]
            }
        );
        for (s, err) in [
            ("1,2,3", BboxError::Count(3)),
            ("1,2,3,4,5,6", BboxError::Count(6)),
            ("", BboxError::Count(1)),
            ("a,0,1,1", BboxError::NotANumber("a".into())),
            ("NaN,0,1,1", BboxError::NotANumber("NaN".into())),
            ("0,0,inf,1", BboxError::NotANumber("inf".into())),
            ("0,0,1,", BboxError::NotANumber("".into())),
            ("0,1,1,0", BboxError::Order),
            ("2,0,1,1", BboxError::Order),
            ("0,0,1,95", BboxError::OutOfRange),
            ("0,-91,1,1", BboxError::OutOfRange),
            ("-181,0,1,1", BboxError::OutOfRange),
        ] {
            assert_eq!(s.parse::<Bbox>(), Err(err), "{s}");
        }
    }

    #[test]
    fn units_page_in_id_order_and_count_every_match() {
        let s = fixture::state();
        let q = |offset, limit| ItemsQuery {
            offset,
            limit,
            ..ItemsQuery::default()
        };
        let all = items(&s, Collection::Units, &q(0, 10));
        assert_eq!(ids(&all), ["1", "2", "3"]);
        assert_eq!(all.number_matched, 3);
        assert_eq!(all.next_offset(&q(0, 10)), None);
        let first = items(&s, Collection::Units, &q(0, 2));
        assert_eq!(
            (ids(&first), first.next_offset(&q(0, 2))),
            (vec!["1".into(), "2".into()], Some(2))
        );
        let last = items(&s, Collection::Units, &q(2, 2));
        assert_eq!(ids(&last), ["3"]);
        assert_eq!(
            (last.next_offset(&q(2, 2)), last.prev_offset(&q(2, 2))),
            (None, Some(0))
        );
        let beyond = items(&s, Collection::Units, &q(9, 2));
        assert!(beyond.features.is_empty());
        assert_eq!(beyond.number_matched, 3);
        // Unit 2 is suspended: black.
        let two = item(&s, Collection::Units, "2", &Scope::All).unwrap_or_else(|| unreachable!());
        assert_eq!(two.property("colour"), Some(&json!("black")));
        assert_eq!(two.property("micro_grid"), Some(&json!("VB-1-1")));
        assert!(item(&s, Collection::Units, "99", &Scope::All).is_none());
        assert!(item(&s, Collection::Units, "x", &Scope::All).is_none());
    }

    #[test]
    fn bbox_and_filters_select_units() {
        let s = fixture::state();
        let mut q = ItemsQuery {
            bbox: Some(Bbox {
                min: [1.0, 0.0],
                max: [1.55, 1.0],
            }),
            ..ItemsQuery::default()
        };
        assert_eq!(ids(&items(&s, Collection::Units, &q)), ["2"]);
        q.bbox = None;
        q.filter = UnitFilter::default().with_colours(&[Colour::Black]);
        assert_eq!(ids(&items(&s, Collection::Units, &q)), ["2"]);
        q.filter = UnitFilter {
            region: s
                .regions
                .find(&"VB".parse().unwrap_or_else(|_| unreachable!())),
            ..UnitFilter::default()
        };
        assert_eq!(ids(&items(&s, Collection::Units, &q)), ["2", "3"]);
    }

    #[test]
    fn regions_carry_live_or_filtered_figures() {
        let s = fixture::state();
        let mut q = ItemsQuery::default();
        let villages = items(&s, Collection::Villages, &q);
        assert_eq!(ids(&villages), ["VA", "VB"]);
        let units = |p: &Page| -> Vec<Value> {
            p.features
                .iter()
                .filter_map(|f| f.property("units").cloned())
                .collect()
        };
        assert_eq!(units(&villages), [json!(1), json!(2)]);
        q.filter = UnitFilter::default().with_colours(&[Colour::Black]);
        assert_eq!(
            units(&items(&s, Collection::Villages, &q)),
            [json!(0), json!(1)]
        );
        // The polygon itself must meet the box: VB starts at x = 1.
        q.filter = UnitFilter::default();
        q.bbox = Some(Bbox {
            min: [0.2, 0.2],
            max: [0.4, 0.4],
        });
        assert_eq!(ids(&items(&s, Collection::MicroGrids, &q)), ["VA-1-1"]);
        assert!(item(&s, Collection::Grids, "VA-1", &Scope::All).is_some());
        assert!(
            item(&s, Collection::Grids, "VA", &Scope::All).is_none(),
            "a village is not a grid"
        );
    }

    #[test]
    fn hexes_sum_to_the_town() {
        let s = fixture::state();
        for res in HEX_RESOLUTIONS {
            let q = ItemsQuery {
                resolution: res,
                limit: MAX_LIMIT,
                ..ItemsQuery::default()
            };
            let page = items(&s, Collection::Hexes, &q);
            let total: u64 = page
                .features
                .iter()
                .filter_map(|f| f.property("units").and_then(Value::as_u64))
                .sum();
            assert_eq!(total, 3, "{res}");
            for id in ids(&page) {
                assert!(item(&s, Collection::Hexes, &id, &Scope::All).is_some());
            }
        }
        assert!(item(&s, Collection::Hexes, "zz", &Scope::All).is_none());
    }
}
