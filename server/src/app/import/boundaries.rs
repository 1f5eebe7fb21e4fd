//! The geometry of a places import, checked: a feature's polygon made valid WGS 84
//! (converted, its rings oriented, the `geo` crate's validation), each place inside its
//! parent and each kept child inside its replaced parent, the places of a level apart,
//! and a bare root's boundary made from its villages. Pure: the map's places in, what
//! is wrong out, one [`LineError`] per finding on the feature's line.

use geo::{
    Area, BooleanOps, BoundingRect, Geometry, MapCoords, MultiPolygon, Validation,
    orient::{Direction, Orient},
};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, RTreeObject};

use super::LineError;
use super::features::Feature;
use crate::domain::{Crs, Level, Region, RegionId};
use crate::state::{RegionIdx, RegionTree};

/// A feature read into a region, with its line and the place it replaces.
pub(super) struct Candidate {
    pub(super) line: u64,
    pub(super) region: Region,
    pub(super) replaces: Option<RegionIdx>,
}

/// A feature's polygon in WGS 84, its rings oriented, checked valid.
pub(super) fn polygon(f: &Feature, crs: Crs) -> Result<MultiPolygon<f64>, String> {
    let mp = match &f.geometry {
        None => return Err("missing: the level has boundaries".into()),
        Some(Geometry::Polygon(p)) => MultiPolygon(vec![p.clone()]),
        Some(Geometry::MultiPolygon(mp)) => mp.clone(),
        Some(g) => {
            let kind = match g {
                Geometry::Point(_) | Geometry::MultiPoint(_) => "a point",
                Geometry::LineString(_) | Geometry::MultiLineString(_) | Geometry::Line(_) => {
                    "a line"
                }
                _ => "not a polygon",
            };
            return Err(format!("{kind}: a place's boundary is a polygon"));
        }
    };
    if mp.0.is_empty() {
        return Err("an empty polygon".into());
    }
    let lonlat = mp.0.iter().flat_map(|p| p.exterior().0.iter()).all(|c| {
        c.x.is_finite() && c.y.is_finite() && (-180.0..=180.0).contains(&c.x) && c.y.abs() <= 90.0
    });
    if !lonlat {
        return Err(
            "coordinates are not longitude/latitude (a projected system?): convert the file \
             with `ogr2ogr -t_srs EPSG:4326` first"
                .into(),
        );
    }
    let mp = mp
        .map_coords(|c| {
            let (x, y) = crs.to_wgs84(c.x, c.y);
            geo::Coord { x, y }
        })
        .orient(Direction::Default);
    if let Err(e) = mp.check_validation() {
        return Err(format!("not a valid polygon: {e}"));
    }
    if mp.unsigned_area() <= 0.0 {
        return Err("a polygon of no area".into());
    }
    Ok(mp)
}

/// The nearest place at or above `idx` with a boundary that is not empty.
pub(super) fn polygon_above(current: &RegionTree, idx: RegionIdx) -> Option<&MultiPolygon<f64>> {
    let mut at = Some(idx);
    while let Some(i) = at {
        if let Some(b) = current.get(i).boundary.as_ref().filter(|b| !b.0.is_empty()) {
            return Some(b);
        }
        at = current.parent(i);
    }
    None
}

/// The share of `inner`'s area that lies outside `outer`.
fn share_outside(inner: &MultiPolygon<f64>, outer: &MultiPolygon<f64>) -> f64 {
    let area = inner.unsigned_area();
    if area <= 0.0 {
        return 0.0;
    }
    inner.difference(outer).unsigned_area() / area
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// Each region inside the nearest place above it that has a boundary.
pub(super) fn inside_parents(
    current: &RegionTree,
    candidates: &[Candidate],
    tol: f64,
    errors: &mut Vec<LineError>,
) {
    for c in candidates {
        let (Some(b), Some(p)) = (&c.region.boundary, &c.region.parent) else {
            continue;
        };
        let Some(outer) = current.find(p).and_then(|i| polygon_above(current, i)) else {
            continue;
        };
        let out = share_outside(b, outer);
        if out > tol {
            errors.push(LineError::at(
                c.line,
                "geometry",
                format!(
                    "`{}`: {} of its area lies outside `{p}`, its parent (tolerance {})",
                    c.region.id,
                    percent(out),
                    percent(tol)
                ),
            ));
        }
    }
}

/// No two places of the level overlap by more than `tol` of the smaller's area: the
/// file's among themselves and against the places of the level it does not replace.
pub(super) fn apart(
    current: &RegionTree,
    candidates: &[Candidate],
    level: Level,
    tol: f64,
    errors: &mut Vec<LineError>,
) {
    if !level.has_polygon() || level == Level::Town {
        return;
    }
    // (polygon, id, the candidate's index when it is one of the file's)
    let replaced: std::collections::HashSet<&RegionId> =
        candidates.iter().map(|c| &c.region.id).collect();
    let mut all: Vec<(&MultiPolygon<f64>, &RegionId, Option<usize>)> = candidates
        .iter()
        .enumerate()
        .filter_map(|(k, c)| Some((c.region.boundary.as_ref()?, &c.region.id, Some(k))))
        .collect();
    for i in current.at_level(level) {
        let r = current.get(i);
        if let (Some(b), false) = (&r.boundary, replaced.contains(&r.id)) {
            all.push((b, &r.id, None));
        }
    }
    let boxes: Vec<GeomWithData<Rectangle<[f64; 2]>, usize>> = all
        .iter()
        .enumerate()
        .filter_map(|(k, (b, _, _))| {
            let r = b.bounding_rect()?;
            Some(GeomWithData::new(
                Rectangle::from_corners(r.min().into(), r.max().into()),
                k,
            ))
        })
        .collect();
    let tree = RTree::bulk_load(boxes.clone());
    for bx in &boxes {
        let a = bx.data;
        let (pa, ida, Some(ka)) = all[a] else {
            continue;
        };
        for other in tree.locate_in_envelope_intersecting(&bx.geom().envelope()) {
            let b = other.data;
            let (pb, idb, _) = all[b];
            // A pair of the file's places is named on both their lines.
            if b == a {
                continue;
            }
            let smaller = pa.unsigned_area().min(pb.unsigned_area());
            if smaller <= 0.0 {
                continue;
            }
            let shared = pa.intersection(pb).unsigned_area() / smaller;
            if shared > tol {
                errors.push(LineError::at(
                    candidates[ka].line,
                    "geometry",
                    format!(
                        "`{ida}` overlaps `{idb}` by {} of the smaller's area (tolerance {})",
                        percent(shared),
                        percent(tol)
                    ),
                ));
            }
        }
    }
}

/// The places under a replaced region, which the file keeps, stay inside it.
pub(super) fn children_kept_inside(
    current: &RegionTree,
    candidates: &[Candidate],
    tol: f64,
    errors: &mut Vec<LineError>,
) {
    for c in candidates {
        let (Some(i), Some(outer)) = (c.replaces, c.region.boundary.as_ref()) else {
            continue;
        };
        for &child in current.children(i) {
            let Some(inner) = current.get(child).boundary.as_ref() else {
                continue;
            };
            let out = share_outside(inner, outer);
            if out > tol {
                errors.push(LineError::at(
                    c.line,
                    "geometry",
                    format!(
                        "`{}` would leave {} of `{}`, a place under it, outside (tolerance {})",
                        c.region.id,
                        percent(out),
                        current.get(child).id,
                        percent(tol)
                    ),
                ));
            }
        }
    }
}

/// A root without a boundary (a fresh `onemap init`) takes the union of the places of
/// the first level with boundaries below it, once they come: the root with it, or none.
pub(super) fn root_from_children(
    current: &RegionTree,
    regions: &[Region],
    level: Level,
) -> Option<Region> {
    let root = current.get(current.root());
    if root.boundary.as_ref().is_some_and(|b| !b.0.is_empty()) || !level.has_polygon() {
        return None;
    }
    let under_root = |r: &Region| {
        r.parent.as_ref() == Some(&root.id) || {
            // A village under a group: the group hangs (through its area) under the root.
            r.parent
                .as_ref()
                .and_then(|p| current.find(p))
                .is_some_and(|p| polygon_above(current, p).is_none())
        }
    };
    let mut polygons: Vec<&MultiPolygon<f64>> = regions
        .iter()
        .filter(|r| r.level == level && under_root(r))
        .filter_map(|r| r.boundary.as_ref())
        .collect();
    let replaced: std::collections::HashSet<&RegionId> = regions.iter().map(|r| &r.id).collect();
    for i in current.at_level(level) {
        let r = current.get(i);
        if !replaced.contains(&r.id) {
            polygons.extend(r.boundary.as_ref());
        }
    }
    if polygons.is_empty() {
        return None;
    }
    let union = geo::unary_union(polygons);
    let mut root = root.clone();
    root.boundary = Some(union.orient(Direction::Default));
    Some(root)
}
