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

use geo::{BoundingRect, Intersects};
use geojson::Feature;
use h3o::CellIndex;

use crate::domain::{Colour, Level, RegionId, UnitId};
use crate::state::aggregate::{Agg, UnitFilter, contribution, fold_filtered};
use crate::state::live::HEX_RESOLUTIONS;
use crate::state::scope::Scope;
use crate::state::{MapState, RegionIdx, UnitIdx};
use crate::views::cell_polygon;

mod features;
mod query;

pub use features::{add_unit_texts, agg_properties, unit_ids};
use features::{hex_feature, region_feature, unit_feature};
pub use query::{
    Bbox, BboxError, CRS84, Collection, DEFAULT_HEX_RESOLUTION, DEFAULT_LIMIT, ItemsQuery,
    MAX_LIMIT, Page,
};

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
            // A filter counts each shown region's own units (or its cells).
            let at = state.live().at();
            let features = shown
                .iter()
                .map(|&i| {
                    let a = if counts_every_unit(&q.filter) {
                        *state.live().region(i)
                    } else {
                        fold_filtered(state, i, at, &q.filter)
                    };
                    region_feature(state, i, &a)
                })
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

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
