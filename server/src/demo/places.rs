//! Synthetic but plausible polygons for Guali's places, nested exactly.
//!
//! Work happens in a local plane in kilometres around Guali's real centre. The town is
//! a convex outline scaled to 126.9 km²; villages are the Voronoi cells of 74 spread-out
//! seeds restricted to the town; grids are Voronoi cells restricted to their village,
//! micro-grids to their grid. Restricting a Voronoi cell to a convex parent by clipping
//! with bisector half-planes keeps every cell convex, non-empty (it holds its seed) and
//! the children an exact partition of the parent.

use geo::{
    Contains, ConvexHull, Coord, GeodesicArea, LineString, MultiPoint, MultiPolygon, Point, Polygon,
};
use rand::Rng;
use rand::seq::SliceRandom;

use super::figures;
use crate::domain::{Level, Region, RegionId};
use crate::state::{RegionError, RegionTree};

/// Guali's centre, lon/lat (about 120.46 E, 30.18 N).
const CENTRE: (f64, f64) = (120.46, 30.18);
/// Kilometres per degree of latitude, and of longitude at Guali's latitude.
const KM_PER_DEG_LAT: f64 = 110.574;

/// The local plane: x east, y north, in km.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    km_per_deg_lon: f64,
}

impl Frame {
    fn new() -> Self {
        Frame {
            km_per_deg_lon: 111.320 * CENTRE.1.to_radians().cos(),
        }
    }

    /// WGS 84 lon/lat to the local plane.
    pub fn to_local(self, c: Coord) -> Coord {
        Coord {
            x: (c.x - CENTRE.0) * self.km_per_deg_lon,
            y: (c.y - CENTRE.1) * KM_PER_DEG_LAT,
        }
    }

    /// Local km to WGS 84 lon/lat, rounded to 1e-7° (about 1 cm): what GPS gives and
    /// what every store keeps exactly.
    pub fn to_lonlat(self, c: Coord) -> Coord {
        let round = |v: f64| (v * 1e7).round() / 1e7;
        Coord {
            x: round(CENTRE.0 + c.x / self.km_per_deg_lon),
            y: round(CENTRE.1 + c.y / KM_PER_DEG_LAT),
        }
    }
}

/// A village as the unit placement needs it.
#[derive(Debug, Clone)]
pub struct Village {
    /// Official code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// 社区 (urban community) rather than 村 (village).
    pub community: bool,
    /// Centre of the main settlement, then hamlets, in the local plane.
    pub settlements: Vec<Coord>,
}

/// The generated places.
pub struct Places {
    /// All regions, parents before children, ready for a store.
    pub regions: Vec<Region>,
    /// The villages with their local geometry.
    pub villages: Vec<Village>,
    /// The town outline in the local plane.
    pub town: Vec<Coord>,
    /// The same regions, indexed (for point-in-polygon).
    pub tree: RegionTree,
    /// The local plane.
    pub frame: Frame,
}

/// Keeps the part of convex `poly` on `keep`'s side of the bisector of `keep`–`other`
/// (one Sutherland–Hodgman step against a half-plane).
fn clip_to_bisector(poly: &[Coord], keep: Coord, other: Coord) -> Vec<Coord> {
    let mid = (keep + other) / 2.0;
    let dir = other - keep;
    let side = |p: Coord| (p - mid).x * dir.x + (p - mid).y * dir.y; // <= 0: keep
    let mut out = Vec::with_capacity(poly.len() + 1);
    for (i, &a) in poly.iter().enumerate() {
        let b = poly[(i + 1) % poly.len()];
        let (sa, sb) = (side(a), side(b));
        if sa <= 0.0 {
            out.push(a);
        }
        if (sa < 0.0 && sb > 0.0) || (sa > 0.0 && sb < 0.0) {
            let t = sa / (sa - sb);
            out.push(a + (b - a) * t);
        }
    }
    out
}

/// The Voronoi cells of `seeds` restricted to convex `parent`.
fn voronoi_in(parent: &[Coord], seeds: &[Coord]) -> Vec<Vec<Coord>> {
    seeds
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            seeds
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .fold(parent.to_vec(), |cell, (_, &o)| {
                    clip_to_bisector(&cell, s, o)
                })
        })
        .collect()
}

fn polygon(ring: &[Coord]) -> Polygon<f64> {
    Polygon::new(LineString::from(ring.to_vec()), vec![])
}

fn plane_area(ring: &[Coord]) -> f64 {
    use geo::Area;
    polygon(ring).unsigned_area()
}

/// A uniformly random point inside convex `ring`.
fn point_in<R: Rng>(rng: &mut R, ring: &[Coord]) -> Coord {
    let poly = polygon(ring);
    let (mut lo, mut hi) = (ring[0], ring[0]);
    for c in ring {
        lo = Coord {
            x: lo.x.min(c.x),
            y: lo.y.min(c.y),
        };
        hi = Coord {
            x: hi.x.max(c.x),
            y: hi.y.max(c.y),
        };
    }
    loop {
        let c = Coord {
            x: rng.random_range(lo.x..=hi.x),
            y: rng.random_range(lo.y..=hi.y),
        };
        if poly.contains(&Point::from(c)) {
            return c;
        }
    }
}

/// `n` well-spread points in `ring` (Mitchell's best-candidate sampling).
fn spread_points<R: Rng>(rng: &mut R, ring: &[Coord], n: usize) -> Vec<Coord> {
    let mut points: Vec<Coord> = Vec::with_capacity(n);
    while points.len() < n {
        let best = (0..24)
            .map(|_| point_in(rng, ring))
            .map(|c| {
                let d = points
                    .iter()
                    .map(|p| (*p - c).x.hypot((*p - c).y))
                    .fold(f64::INFINITY, f64::min);
                (c, d)
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(c, _)| c);
        points.extend(best);
    }
    points
}

/// The town outline: a slightly irregular convex shape, 126.9 km² on the ellipsoid.
fn town_outline<R: Rng>(rng: &mut R, frame: Frame) -> Vec<Coord> {
    let (a, b) = (7.4, 5.5);
    let points: MultiPoint<f64> = (0..48)
        .map(|i| {
            let t = i as f64 / 48.0 * std::f64::consts::TAU;
            let r = 1.0 + rng.random_range(-0.09..0.09);
            Point::new(a * r * t.cos(), b * r * t.sin())
        })
        .collect();
    let hull = points.convex_hull();
    let mut ring: Vec<Coord> = hull.exterior().coords().copied().collect();
    ring.pop(); // open ring for clipping
    for _ in 0..4 {
        let lonlat: Vec<Coord> = ring.iter().map(|&c| frame.to_lonlat(c)).collect();
        let area = polygon(&lonlat).geodesic_area_unsigned() / 1e6;
        let k = (figures::TOWN_AREA_KM2 / area).sqrt();
        ring.iter_mut().for_each(|c| *c = *c * k);
    }
    ring
}

fn region(
    id: &str,
    level: Level,
    parent: Option<&RegionId>,
    name: String,
    code: Option<String>,
) -> Result<Region, RegionError> {
    Ok(Region {
        id: id.parse().map_err(|_| RegionError::BadId(id.to_owned()))?,
        level,
        parent: parent.cloned(),
        code,
        name,
        boundary: None,
    })
}

fn with_boundary(mut r: Region, ring: &[Coord], frame: Frame) -> Region {
    let mut lonlat: Vec<Coord> = ring.iter().map(|&c| frame.to_lonlat(c)).collect();
    if let Some(&first) = lonlat.first() {
        lonlat.push(first);
    }
    r.boundary = Some(MultiPolygon(vec![polygon(&lonlat)]));
    r
}

/// Splits `total` into `parts` counts that differ by at most one, larger first.
fn split_evenly(total: usize, parts: usize) -> Vec<usize> {
    (0..parts)
        .map(|i| total / parts + usize::from(i < total % parts))
        .collect()
}

impl Places {
    /// Generates town, areas, groups, villages, grids and micro-grids.
    pub fn generate<R: Rng>(rng: &mut R) -> Result<Self, RegionError> {
        let frame = Frame::new();
        let town_ring = town_outline(rng, frame);
        let villages_csv = super::places_data::villages();
        let seeds = spread_points(rng, &town_ring, villages_csv.len());
        let cells = voronoi_in(&town_ring, &seeds);

        let town = with_boundary(
            region(
                super::places_data::TOWN_CODE,
                Level::Town,
                None,
                "瓜沥镇".into(),
                Some(super::places_data::TOWN_CODE.into()),
            )?,
            &town_ring,
            frame,
        );
        let mut regions = vec![town.clone()];

        // Areas west → east by seed longitude, groups north → south within an area.
        let mut order: Vec<usize> = (0..seeds.len()).collect();
        order.sort_by(|&a, &b| seeds[a].x.total_cmp(&seeds[b].x));
        let area_names = ["西片区", "中片区", "东片区"];
        let mut group_of = vec![0usize; seeds.len()];
        let mut next = 0;
        let mut group_no = 0;
        let mut groups = Vec::new();
        for (a, size) in split_evenly(seeds.len(), figures::AREAS)
            .into_iter()
            .enumerate()
        {
            let area = region(
                &format!("{}-area{}", super::places_data::TOWN_CODE, a + 1),
                Level::Area,
                Some(&town.id),
                area_names[a].into(),
                None,
            )?;
            let mut members: Vec<usize> = order[next..next + size].to_vec();
            next += size;
            members.sort_by(|&p, &q| seeds[q].y.total_cmp(&seeds[p].y));
            let mut taken = 0;
            for g_size in split_evenly(size, figures::GROUPS / figures::AREAS) {
                group_no += 1;
                let group = region(
                    &format!("{}-group{group_no:02}", super::places_data::TOWN_CODE),
                    Level::Group,
                    Some(&area.id),
                    format!("第{group_no}小组"),
                    None,
                )?;
                for &v in &members[taken..taken + g_size] {
                    group_of[v] = groups.len();
                }
                taken += g_size;
                groups.push(group);
            }
            regions.push(area);
        }
        regions.extend(groups.iter().cloned());

        // The largest villages get three grids, the rest two: 12 × 3 + 62 × 2 = 160.
        let extra_grids = figures::GRIDS - 2 * seeds.len();
        let mut by_area: Vec<usize> = (0..seeds.len()).collect();
        by_area.sort_by(|&a, &b| plane_area(&cells[b]).total_cmp(&plane_area(&cells[a])));
        let mut grid_count = vec![2usize; seeds.len()];
        for &v in &by_area[..extra_grids] {
            grid_count[v] = 3;
        }

        let mut villages = Vec::with_capacity(seeds.len());
        let mut village_regions = Vec::new();
        let mut grid_rings = Vec::new(); // (grid region, ring)
        for (v, (code, raw_name)) in villages_csv.iter().enumerate() {
            let community = raw_name.ends_with("社区");
            let name = raw_name
                .strip_suffix("村委会")
                .map_or_else(|| raw_name.clone(), |s| format!("{s}村"));
            let village = with_boundary(
                region(
                    code,
                    Level::Village,
                    Some(&groups[group_of[v]].id),
                    name.clone(),
                    Some(code.clone()),
                )?,
                &cells[v],
                frame,
            );
            let grid_seeds = spread_points(rng, &cells[v], grid_count[v]);
            for (g, ring) in voronoi_in(&cells[v], &grid_seeds).into_iter().enumerate() {
                let id = format!("{code}-{:02}", g + 1);
                let grid = with_boundary(
                    region(
                        &id,
                        Level::Grid,
                        Some(&village.id),
                        format!("{name}第{}网格", g + 1),
                        None,
                    )?,
                    &ring,
                    frame,
                );
                grid_rings.push((grid, ring));
            }
            let mut settlements = vec![seeds[v]];
            settlements.extend(spread_points(rng, &cells[v], 3).into_iter().skip(1));
            villages.push(Village {
                code: code.clone(),
                name,
                community,
                settlements,
            });
            village_regions.push(village);
        }
        regions.extend(village_regions);

        // Micro-grids: 14 per grid, 15 in the 43 largest: 160 × 14 + 43 = 2,283.
        let extra_micro = figures::MICRO_GRIDS - 14 * grid_rings.len();
        let mut by_size: Vec<usize> = (0..grid_rings.len()).collect();
        by_size.sort_by(|&a, &b| {
            plane_area(&grid_rings[b].1).total_cmp(&plane_area(&grid_rings[a].1))
        });
        let mut micro_count = vec![14usize; grid_rings.len()];
        for &g in &by_size[..extra_micro] {
            micro_count[g] = 15;
        }
        let mut micro = Vec::with_capacity(figures::MICRO_GRIDS);
        for (g, (grid, ring)) in grid_rings.iter().enumerate() {
            let mut m_seeds = spread_points(rng, ring, micro_count[g]);
            m_seeds.shuffle(rng);
            m_seeds.sort_by(|a, b| b.y.total_cmp(&a.y).then(a.x.total_cmp(&b.x)));
            for (m, cell) in voronoi_in(ring, &m_seeds).into_iter().enumerate() {
                let id = format!("{}-{:02}", grid.id, m + 1);
                micro.push(with_boundary(
                    region(
                        &id,
                        Level::MicroGrid,
                        Some(&grid.id),
                        format!("{}{}号微网格", grid.name, m + 1),
                        None,
                    )?,
                    &cell,
                    frame,
                ));
            }
        }
        regions.extend(grid_rings.into_iter().map(|(g, _)| g));
        regions.extend(micro);

        let tree = RegionTree::new(regions.clone())?;
        Ok(Places {
            regions,
            villages,
            town: town_ring,
            tree,
            frame,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_partitions_a_square() {
        let square = [
            Coord { x: 0.0, y: 0.0 },
            Coord { x: 2.0, y: 0.0 },
            Coord { x: 2.0, y: 2.0 },
            Coord { x: 0.0, y: 2.0 },
        ];
        let seeds = [
            Coord { x: 0.5, y: 1.0 },
            Coord { x: 1.5, y: 1.0 },
            Coord { x: 1.0, y: 1.8 },
        ];
        let cells = voronoi_in(&square, &seeds);
        let total: f64 = cells.iter().map(|c| plane_area(c)).sum();
        assert!(
            (total - 4.0).abs() < 1e-9,
            "cells cover the square: {total}"
        );
        for (cell, seed) in cells.iter().zip(seeds) {
            assert!(polygon(cell).contains(&Point::from(seed)));
        }
    }

    #[test]
    fn split_evenly_sums() {
        assert_eq!(split_evenly(74, 3), vec![25, 25, 24]);
        assert_eq!(split_evenly(25, 4), vec![7, 6, 6, 6]);
    }
}
