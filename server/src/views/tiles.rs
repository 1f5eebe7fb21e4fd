//! Where a tile is made: a pure function of the map state, a tile coordinate, the
//! layers asked for, a filter and a moment.
//!
//! Layers:
//! - `units`: one point per unit (`id`, `kind`, `colour`, `risk`, `micro_grid`) from
//!   zoom [`POINT_MIN_ZOOM`] when the tile holds at most [`MAX_FEATURES`] of them;
//!   otherwise clusters on a grid, each carrying `count` and one count per colour (and
//!   `colour`, the most urgent colour present), so every unit is counted and none is
//!   dropped. Clusters are at most `CLUSTER_CELLS²` (64) per tile below
//!   [`POINT_MIN_ZOOM`] and `DENSE_CELLS²` (4,096) above it.
//! - `regions`: the town and villages at every zoom, grids from zoom
//!   [`GRID_MIN_ZOOM`], micro-grids from [`MICRO_GRID_MIN_ZOOM`], each with its
//!   aggregates as properties.
//! - `hexes`: H3 cells with the same aggregates, resolution by zoom ([`hex_resolution`]).
//!
//! Bounds: at most [`MAX_FEATURES`] features per layer in any tile, checked before
//! encoding (a tile that would exceed it is clustered more coarsely, never truncated).

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use h3o::{CellIndex, Resolution};
use onemap_tiles::{
    BUFFER, CATEGORIES, Clusterer, EXTENT, LayerEncoder, LonLat, MvtError, Prop, TileCoord,
    TileEncoder,
};

use crate::domain::{Colour, Level};
use crate::state::aggregate::{Agg, UnitFilter, colour_at, colour_index, contribution};
use crate::state::history::{AggsAt, CHECKPOINT_RES};
use crate::state::{MapState, UnitIdx};

/// Units show as single points from this zoom (when the tile is not too dense).
pub const POINT_MIN_ZOOM: u8 = 14;
/// Grids join the regions layer from this zoom.
pub const GRID_MIN_ZOOM: u8 = 11;
/// Micro-grids join the regions layer from this zoom.
pub const MICRO_GRID_MIN_ZOOM: u8 = 14;
/// The most features any layer of a tile holds.
pub const MAX_FEATURES: usize = 4096;
/// Cluster cells across a tile below [`POINT_MIN_ZOOM`] (a cell is 32 px of a 256 px tile).
pub const CLUSTER_CELLS: u32 = 8;
/// Up to this zoom, unfiltered present-day clusters are made from res-9 H3 cell
/// aggregates (a cell, ~0.1 km², is small beside a cluster cell of 32 px here).
pub const CELL_CLUSTER_MAX_ZOOM: u8 = 12;
/// Cluster cells across a tile too dense for points at high zoom.
pub const DENSE_CELLS: u32 = 64;

/// A layer of the tile service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    /// Units and clusters of units.
    Units,
    /// Town, village, grid and micro-grid polygons with aggregates.
    Regions,
    /// H3 cells with aggregates.
    Hexes,
}

impl Layer {
    /// Every layer.
    pub const ALL: [Layer; 3] = [Layer::Units, Layer::Regions, Layer::Hexes];

    /// Its name in URLs and in the tiles.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Units => "units",
            Layer::Regions => "regions",
            Layer::Hexes => "hexes",
        }
    }
}

impl FromStr for Layer {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Layer::ALL
            .into_iter()
            .find(|l| l.name() == s)
            .ok_or_else(|| format!("no layer `{s}` (layers: units, regions, hexes)"))
    }
}

/// What a tile request asks for.
#[derive(Debug, Clone)]
pub struct TileRequest {
    /// Layers, each once, in the order asked.
    pub layers: Vec<Layer>,
    /// The tile.
    pub coord: TileCoord,
    /// Which units count.
    pub filter: UnitFilter,
    /// A past moment; `None` for the present.
    pub at: Option<DateTime<Utc>>,
}

/// The H3 resolution of the `hexes` layer at zoom `z`: about a grid (res 8) where grids
/// appear, about a micro-grid (res 9) where micro-grids appear.
pub fn hex_resolution(z: u8) -> Resolution {
    if z >= MICRO_GRID_MIN_ZOOM {
        Resolution::Nine
    } else if z >= GRID_MIN_ZOOM {
        Resolution::Eight
    } else {
        Resolution::Seven
    }
}

/// The tile's bounds widened by its buffer, as (min, max) lon/lat corners.
pub fn buffered_bounds(coord: TileCoord) -> ([f64; 2], [f64; 2]) {
    let [w, s, e, n] = coord.bounds();
    let f = f64::from(BUFFER) / f64::from(EXTENT);
    let (dx, dy) = ((e - w) * f, (n - s) * f);
    ([w - dx, s - dy], [e + dx, n + dy])
}

/// The most urgent colour with members ([`Colour::BY_URGENCY`]), for a cluster's
/// balloon.
fn most_urgent(by_colour: &[u32]) -> Colour {
    Colour::BY_URGENCY
        .into_iter()
        .find(|&c| by_colour[colour_index(c)] > 0)
        .unwrap_or(Colour::Green)
}

/// The units admitted by `filter` in the buffered tile, with their colour at the moment.
fn units_in(state: &MapState, req: &TileRequest) -> Vec<(UnitIdx, Colour)> {
    let (min, max) = buffered_bounds(req.coord);
    let env = rstar::AABB::from_corners(min, max);
    state
        .units_in_box(&env)
        .filter_map(|u| {
            let e = &state.units[u as usize];
            let colour = match req.at {
                None => state.live().colour(u)?,
                Some(at) => colour_at(e, at)?,
            };
            req.filter.admits(state, e, colour).then_some((u, colour))
        })
        .collect()
}

/// The H3 resolution whose cells make the clusters at zoom `z` (up to
/// [`CELL_CLUSTER_MAX_ZOOM`]): a cell stays well under a cluster cell (32 px), which
/// spans ~20 km at zoom 8, ~5 km at 10 and ~1.2 km at 12, against cells ~2.4 km (res
/// 7), ~0.9 km (res 8) and ~0.35 km (res 9) across.
pub fn cluster_resolution(z: u8) -> Resolution {
    match z {
        0..=9 => Resolution::Seven,
        10..=11 => Resolution::Eight,
        _ => Resolution::Nine,
    }
}

/// Up to this zoom a past day's clusters are made from the daily checkpoints of the
/// res-7 cells ([`CHECKPOINT_RES`]), read instead of folding the tile's units: where
/// the present's use res 7 (to zoom 9) the two are made alike, and at zoom 10 a res-7
/// cell (~2.4 km) still sits well inside a cluster cell (~5 km).
pub const PAST_CELL_CLUSTER_MAX_ZOOM: u8 = 10;

/// Clusters from H3 cell aggregates instead of single units: at low zoom a tile
/// covers up to millions of units but only thousands of cells, each already counted
/// per colour and found through an R-tree of the cells (`cells_in`: the cells whose
/// centre lies in a box, the live ones or a past day's checkpoints). A cell's units
/// join the cluster cell holding the cell's centre. Only the colours in the mask
/// `colours` count (a `colour=` filter).
fn clusters_from_cells<I>(
    coord: TileCoord,
    colours: u8,
    cells_in: impl FnOnce([f64; 2], [f64; 2]) -> I,
) -> Clusterer
where
    I: Iterator<Item = ([f64; 2], [u32; 6])>,
{
    let [w, s, e, n] = coord.bounds();
    let mut clusterer = Clusterer::new(coord, CLUSTER_CELLS);
    for ([lon, lat], by_colour) in cells_in([w, s], [e, n]) {
        // Centres on the east or south edge belong to the next tile.
        if lon >= e || lat <= s {
            continue;
        }
        let mut by = [0u32; CATEGORIES];
        for (k, n) in by_colour.iter().enumerate() {
            if colours & (1 << k) != 0 {
                by[k] = *n;
            }
        }
        clusterer.add_many(LonLat { lon, lat }, &by);
    }
    clusterer
}

/// A past day's clusters from the res-7 checkpoints, when `at` is a held day's end.
fn past_clusters(
    state: &MapState,
    coord: TileCoord,
    colours: u8,
    at: DateTime<Utc>,
) -> Option<Clusterer> {
    let h = state.history().filter(|h| h.holds(at))?;
    Some(clusters_from_cells(coord, colours, |min, max| {
        h.hexes_in(min, max, at)
            .into_iter()
            .flatten()
            .map(|(_, p, a)| (p, a.by_colour))
    }))
}

fn units_layer(state: &MapState, req: &TileRequest) -> LayerEncoder {
    let coord = req.coord;
    let mut layer = LayerEncoder::new(Layer::Units.name(), coord);
    if let Some(colours) = req.filter.colours_only() {
        let clusters = match req.at {
            None if coord.z() <= CELL_CLUSTER_MAX_ZOOM => {
                let res = cluster_resolution(coord.z());
                Some(clusters_from_cells(coord, colours, |min, max| {
                    state
                        .live()
                        .cells_in(res, min, max)
                        .map(|(_, p, a)| (p, a.by_colour))
                }))
            }
            Some(at) if coord.z() <= PAST_CELL_CLUSTER_MAX_ZOOM => {
                past_clusters(state, coord, colours, at)
            }
            _ => None,
        };
        if let Some(clusters) = clusters {
            add_clusters(&mut layer, clusters);
            return layer;
        }
    }
    let units = units_in(state, req);
    if coord.z() >= POINT_MIN_ZOOM && units.len() <= MAX_FEATURES {
        for (u, colour) in units {
            let e = &state.units[u as usize];
            let p = LonLat {
                lon: e.unit.location.x(),
                lat: e.unit.location.y(),
            };
            let id = e.unit.id.get();
            layer.add_point(
                p,
                u64::try_from(id).ok(),
                &[
                    ("id", Prop::Int(id)),
                    ("kind", Prop::Str(e.unit.kind.as_str())),
                    ("colour", Prop::Str(colour.as_str())),
                    ("risk", Prop::Str(e.unit.risk.as_str())),
                    (
                        "micro_grid",
                        Prop::Str(state.regions.get(e.micro_grid).id.as_str()),
                    ),
                ],
            );
        }
        return layer;
    }
    let cells = if coord.z() >= POINT_MIN_ZOOM {
        DENSE_CELLS
    } else {
        CLUSTER_CELLS
    };
    let mut clusterer = Clusterer::new(coord, cells);
    for (u, colour) in units {
        let loc = state.units[u as usize].unit.location;
        clusterer.add(
            LonLat {
                lon: loc.x(),
                lat: loc.y(),
            },
            colour_index(colour),
        );
    }
    add_clusters(&mut layer, clusterer);
    layer
}

fn add_clusters(layer: &mut LayerEncoder, clusterer: Clusterer) {
    for c in clusterer.finish() {
        let n = |col: Colour| Prop::UInt(u64::from(c.by_category[colour_index(col)]));
        let urgent = most_urgent(&c.by_category[..CATEGORIES]);
        layer.add_point(
            c.position,
            None,
            &[
                ("count", Prop::UInt(u64::from(c.count))),
                ("colour", Prop::Str(urgent.as_str())),
                ("green", n(Colour::Green)),
                ("yellow", n(Colour::Yellow)),
                ("orange", n(Colour::Orange)),
                ("red", n(Colour::Red)),
                ("black", n(Colour::Black)),
                ("uninspected", n(Colour::Uninspected)),
            ],
        );
    }
}

/// The aggregate properties shared by regions and hexes.
fn agg_props(a: &Agg) -> [(&'static str, Prop<'static>); 14] {
    let u = |v: u32| Prop::UInt(u64::from(v));
    [
        ("units", u(a.units)),
        ("inspected", u(a.inspected)),
        ("inspection_rate", Prop::Float(a.inspection_rate())),
        ("found", u(a.found_total())),
        ("closed", u(a.closed_total())),
        ("open", u(a.open())),
        ("closure_rate", Prop::Float(a.closure_rate())),
        ("overdue", u(a.overdue)),
        ("green", u(a.colour(Colour::Green))),
        ("yellow", u(a.colour(Colour::Yellow))),
        ("orange", u(a.colour(Colour::Orange))),
        ("red", u(a.colour(Colour::Red))),
        ("black", u(a.colour(Colour::Black))),
        ("uninspected", u(a.colour(Colour::Uninspected))),
    ]
}

/// Regions of one level a tile may show on average: a level with more per tile (the
/// villages of a province at zoom 8) waits for a closer zoom.
pub const REGIONS_PER_TILE: f64 = 256.0;

/// Levels drawn in the regions layer at zoom `z`, coarse first: the root always; each
/// level below it with polygons from its own minimum zoom (grids [`GRID_MIN_ZOOM`],
/// micro-grids [`MICRO_GRID_MIN_ZOOM`]) once its regions, spread over the tiles that
/// cover the root, average at most [`REGIONS_PER_TILE`] a tile. On a town's map that is
/// the town and its villages at every zoom; on a province's, counties first, then
/// towns, then villages as the map zooms in.
pub fn region_levels(state: &MapState, z: u8) -> Vec<Level> {
    let regions = &state.regions;
    let root = regions.get(regions.root()).level;
    let tiles = regions.extent().map_or(1.0, |[w, s, e, n]| {
        let at = |lon, lat| TileCoord::containing(LonLat { lon, lat }, z).ok();
        match (at(w, n), at(e, s)) {
            (Some(a), Some(b)) => {
                f64::from(b.x().abs_diff(a.x()) + 1) * f64::from(b.y().abs_diff(a.y()) + 1)
            }
            _ => 1.0,
        }
    });
    let mut levels = vec![root];
    for &level in Level::ALL {
        let min_zoom = match level {
            Level::Grid => GRID_MIN_ZOOM,
            Level::MicroGrid => MICRO_GRID_MIN_ZOOM,
            _ => 0,
        };
        let count = regions.count(level);
        if level.depth() > root.depth()
            && level.has_polygon()
            && count > 0
            && z >= min_zoom
            && count as f64 / tiles <= REGIONS_PER_TILE
        {
            levels.push(level);
        }
    }
    levels
}

fn regions_layer(state: &MapState, req: &TileRequest) -> LayerEncoder {
    let mut layer = LayerEncoder::new(Layer::Regions.name(), req.coord);
    let (min, max) = buffered_bounds(req.coord);
    let mut shown = Vec::new();
    for level in region_levels(state, req.coord.z()) {
        for i in state.regions.regions_in(min, max, level) {
            if shown.len() >= MAX_FEATURES {
                break;
            }
            let r = state.regions.get(i);
            if r.boundary.is_some() && req.filter.covers_region(state, i) {
                shown.push(i);
            }
        }
    }
    // A past day's counties and towns come from their checkpoints.
    let aggs = AggsAt::of(state, shown.iter().copied(), req.at, &req.filter);
    for i in shown {
        let r = state.regions.get(i);
        let Some(boundary) = &r.boundary else {
            continue;
        };
        let mut props = vec![
            ("id", Prop::Str(r.id.as_str())),
            ("level", Prop::Str(r.level.as_str())),
            ("name", Prop::Str(&r.name)),
        ];
        props.extend(agg_props(&aggs.get(i)));
        layer.add_polygon(boundary, None, &props);
    }
    layer
}

/// Edge length of a cell at `res`, in degrees of latitude, with a margin.
fn cell_reach_degrees(res: Resolution) -> f64 {
    res.edge_length_km() * 1.1 / 111.0
}

fn hexes_layer(state: &MapState, req: &TileRequest) -> LayerEncoder {
    let mut layer = LayerEncoder::new(Layer::Hexes.name(), req.coord);
    let res = hex_resolution(req.coord.z());
    let (min, max) = buffered_bounds(req.coord);
    // Any cell meeting the tile has its centre within one circumradius (= edge length)
    // of it; its units lie within two. Widen in longitude by 1/cos(latitude).
    let reach = cell_reach_degrees(res);
    let lat = (min[1] + max[1]) / 2.0;
    let reach_lon = reach / lat.to_radians().cos().max(0.01);
    // The box of the centres of the cells drawn: the tile widened by one circumradius.
    let lo = [min[0] - reach_lon, min[1] - reach];
    let hi = [max[0] + reach_lon, max[1] + reach];
    let near = |c: CellIndex| {
        let ll = h3o::LatLng::from(c);
        ll.lng() >= lo[0] && ll.lng() <= hi[0] && ll.lat() >= lo[1] && ll.lat() <= hi[1]
    };
    let env = rstar::AABB::from_corners(
        [min[0] - 2.0 * reach_lon, min[1] - 2.0 * reach],
        [max[0] + 2.0 * reach_lon, max[1] + 2.0 * reach],
    );
    let mut cells: Vec<(CellIndex, Agg)> = if req.at.is_none() && req.filter.is_all() {
        let live = state.live().hexes(res);
        if req.coord.z() >= MICRO_GRID_MIN_ZOOM {
            // A small tile: the cells of the units near it, looked up.
            let mut seen: Vec<CellIndex> = state
                .units_in_box(&env)
                .filter_map(|u| state.units[u as usize].cell.parent(res))
                .collect();
            seen.sort_unstable();
            seen.dedup();
            seen.into_iter()
                .filter(|&c| near(c))
                .filter_map(|c| live.and_then(|m| m.get(&c)).map(|a| (c, *a)))
                .collect()
        } else {
            // Cells whose centre is in that box, from the R-tree.
            state
                .live()
                .cells_in(res, lo, hi)
                .map(|(c, _, a)| (c, *a))
                .collect()
        }
    } else if let Some(cells) = req
        .at
        .filter(|_| res == CHECKPOINT_RES && req.filter.is_all())
        .and_then(|at| state.history()?.hexes_in(lo, hi, at))
    {
        // A past day's res-7 cells whose centre is in that box, from their checkpoints.
        cells.map(|(c, _, a)| (c, a.agg())).collect()
    } else {
        let at = req.at.unwrap_or(state.live().at());
        let mut m: HashMap<CellIndex, Agg> = HashMap::new();
        for u in state.units_in_box(&env) {
            let e = &state.units[u as usize];
            let Some((colour, a)) = contribution(e, at) else {
                continue;
            };
            if !req.filter.admits(state, e, colour) {
                continue;
            }
            if let Some(c) = e.cell.parent(res).filter(|&c| near(c)) {
                *m.entry(c).or_default() += &a;
            }
        }
        m.into_iter().collect()
    };
    cells.sort_by_key(|(c, _)| *c);
    for (cell, a) in cells.iter().take(MAX_FEATURES) {
        let poly = geo::MultiPolygon(vec![super::cell_polygon(*cell)]);
        let h3 = cell.to_string();
        let mut props = vec![
            ("h3", Prop::Str(&h3)),
            ("resolution", Prop::UInt(u64::from(u8::from(res)))),
        ];
        props.extend(agg_props(a));
        layer.add_polygon(&poly, Some(u64::from(*cell)), &props);
    }
    layer
}

/// Encodes the tile; an empty vector when no layer has a feature.
pub fn render(state: &MapState, req: &TileRequest) -> Result<Vec<u8>, MvtError> {
    let mut tile = TileEncoder::new(req.coord);
    for &layer in &req.layers {
        tile.add_layer(match layer {
            Layer::Units => units_layer(state, req),
            Layer::Regions => regions_layer(state, req),
            Layer::Hexes => hexes_layer(state, req),
        });
    }
    tile.encode()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::Zone;
    use crate::state::fixture::{dataset, state, t};

    fn request(layers: &[Layer], coord: TileCoord, at: Option<DateTime<Utc>>) -> TileRequest {
        TileRequest {
            layers: layers.to_vec(),
            coord,
            filter: UnitFilter::default(),
            at,
        }
    }

    /// A past day's low-zoom tile read from the res-7 checkpoints is the tile the
    /// present would draw at that day's end (to zoom 9, where both use res 7), and its
    /// hexes are those folded from the units (to zoom 10).
    #[test]
    fn past_day_tiles_from_checkpoints_equal_the_present_then_and_the_fold() {
        let zone = Zone::default();
        let mut kept = state();
        kept.keep_history(zone);
        let folded = state();
        let h = kept.history().expect("kept");
        let days: Vec<_> = h.days().collect();
        assert!(days.len() > 3, "{} days", days.len());
        let here = LonLat { lon: 0.5, lat: 0.5 };
        let mut drawn = 0;
        for day in days {
            let end = zone.end_of_day(day);
            let then = MapState::build(dataset(), end).expect("state");
            for z in [6, 8, 9] {
                let coord = TileCoord::containing(here, z).expect("tile");
                let all = [Layer::Units, Layer::Regions, Layer::Hexes];
                let past = render(&kept, &request(&all, coord, Some(end))).expect("tile");
                let present = render(&then, &request(&all, coord, None)).expect("tile");
                assert_eq!(past, present, "z{z} on {day}");
                drawn += usize::from(!past.is_empty());
            }
            let coord = TileCoord::containing(here, 10).expect("tile");
            let hexes = [Layer::Hexes];
            assert_eq!(
                render(&kept, &request(&hexes, coord, Some(end))).expect("tile"),
                render(&folded, &request(&hexes, coord, Some(end))).expect("tile"),
                "z10 hexes on {day}"
            );
        }
        assert!(drawn > 0);
        // Not a day's end: folded, and still what the present drew then.
        let coord = TileCoord::containing(here, 8).expect("tile");
        let then = MapState::build(dataset(), t(4)).expect("state");
        assert_eq!(
            render(&kept, &request(&[Layer::Hexes], coord, Some(t(4)))).expect("tile"),
            render(&then, &request(&[Layer::Hexes], coord, None)).expect("tile"),
        );
    }
}
