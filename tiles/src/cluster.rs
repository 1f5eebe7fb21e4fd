//! Grid clustering of the points in one tile, keeping each cluster's category mix.
//!
//! The map draws a cluster as a "status balloon" saying how many green, yellow, red… units it
//! holds, so a cluster must account for every member, never show an arbitrary subset.
//!
//! Invariants:
//! - the tile is cut into `cells_per_side × cells_per_side` cells, equal in Web Mercator (so
//!   cells look square on the map); a point belongs to the cell it falls in, and a point outside
//!   the tile (west and north edges inclusive, east and south exclusive, as in
//!   `TileCoord::containing`) belongs to none and is ignored;
//! - every added point inside the tile is counted in exactly one cluster, and each cluster's
//!   `by_category` sums to its `count`;
//! - a cluster sits at the mean position of its members, which lies inside the tile;
//! - [`Clusterer::finish`] lists clusters by cell row (north first) then column (west first),
//!   so the same input always gives the same output.

use crate::coord::{LonLat, TileCoord, corner};

/// The number of categories a cluster counts (status colours and the like).
pub const CATEGORIES: usize = 8;

/// The finest grid allowed: 256 cells across is one pixel per cell at 256 px.
pub const MAX_CELLS_PER_SIDE: u32 = 256;

/// A group of points sharing a grid cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// The mean position of its members.
    pub position: LonLat,
    /// How many members it holds.
    pub count: u32,
    /// How many members fall in each category; sums to `count`.
    pub by_category: [u32; CATEGORIES],
}

/// What one cell has gathered so far.
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    /// Sum of (lon − west) over members, weighted by member count.
    sum_dlon: f64,
    /// Sum of (lat − south) over members, weighted by member count.
    sum_dlat: f64,
    count: u32,
    by_category: [u32; CATEGORIES],
}

/// Gathers points of one tile into grid clusters.
#[derive(Debug, Clone)]
pub struct Clusterer {
    side: u32,
    west: f64,
    south: f64,
    east: f64,
    north: f64,
    /// Columns per degree of longitude.
    cols_per_degree: f64,
    /// Latitudes of the boundaries between rows, north to south (`side − 1` of them).
    row_edges: Vec<f64>,
    cells: Vec<Cell>,
}

impl Clusterer {
    /// A clusterer with `cells_per_side` cells across the tile (e.g. 16 → at most 256
    /// clusters), clamped to `1..=MAX_CELLS_PER_SIDE`; members outside the tile are ignored.
    pub fn new(coord: TileCoord, cells_per_side: u32) -> Self {
        let side = cells_per_side.clamp(1, MAX_CELLS_PER_SIDE);
        let [west, south, east, north] = coord.bounds();
        let (x, y) = (f64::from(coord.x()), f64::from(coord.y()));
        let row_edges = (1..side)
            .map(|i| corner(coord.z(), x, y + f64::from(i) / f64::from(side)).lat)
            .collect();
        Clusterer {
            side,
            west,
            south,
            east,
            north,
            cols_per_degree: f64::from(side) / (east - west),
            row_edges,
            cells: vec![Cell::default(); (side * side) as usize],
        }
    }

    /// Adds one point of `category`; a category at or past [`CATEGORIES`] is counted in the
    /// last one, so that the count stays true.
    pub fn add(&mut self, p: LonLat, category: usize) {
        let mut by_category = [0; CATEGORIES];
        by_category[category.min(CATEGORIES - 1)] = 1;
        self.add_many(p, &by_category);
    }

    /// Adds a pre-aggregated group of points, all at `p`.
    pub fn add_many(&mut self, p: LonLat, by_category: &[u32; CATEGORIES]) {
        let Some(index) = self.cell_of(p) else {
            return;
        };
        let count = by_category.iter().fold(0u32, |a, &n| a.saturating_add(n));
        if count == 0 {
            return;
        }
        let cell = &mut self.cells[index];
        let weight = f64::from(count);
        cell.sum_dlon += (p.lon - self.west) * weight;
        cell.sum_dlat += (p.lat - self.south) * weight;
        cell.count = cell.count.saturating_add(count);
        for (total, &n) in cell.by_category.iter_mut().zip(by_category) {
            *total = total.saturating_add(n);
        }
    }

    /// The index of the cell holding `p`, or `None` when `p` is off the tile (or NaN).
    fn cell_of(&self, p: LonLat) -> Option<usize> {
        let inside =
            p.lon >= self.west && p.lon < self.east && p.lat > self.south && p.lat <= self.north;
        if !inside {
            return None;
        }
        // Rounding near the east edge could give `side`; the point still belongs to the tile.
        let col = (((p.lon - self.west) * self.cols_per_degree) as u32).min(self.side - 1);
        // Rows are north-inclusive: a point on an edge belongs to the row south of it.
        let row = self.row_edges.partition_point(|&edge| p.lat <= edge) as u32;
        Some((row * self.side + col) as usize)
    }

    /// The clusters, by cell row (north first) then column (west first); empty cells give none.
    pub fn finish(self) -> Vec<Cluster> {
        let (west, south, east, north) = (self.west, self.south, self.east, self.north);
        self.cells
            .into_iter()
            .filter(|cell| cell.count > 0)
            .map(|cell| {
                let n = f64::from(cell.count);
                // Clamped because summing can round a hair past the edge.
                let lon = (west + cell.sum_dlon / n).clamp(west, east);
                let lat = (south + cell.sum_dlat / n).clamp(south, north);
                Cluster {
                    position: LonLat { lon, lat },
                    count: cell.count,
                    by_category: cell.by_category,
                }
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn guali() -> TileCoord {
        TileCoord::new(12, 3418, 1687).unwrap()
    }

    #[test]
    fn points_in_one_cell_form_one_cluster_at_their_mean() {
        let [w, s, e, n] = guali().bounds();
        let (dx, dy) = ((e - w) / 100.0, (n - s) / 100.0);
        let mut c = Clusterer::new(guali(), 4);
        c.add(
            LonLat {
                lon: w + dx,
                lat: n - dy,
            },
            0,
        );
        c.add(
            LonLat {
                lon: w + 3.0 * dx,
                lat: n - 3.0 * dy,
            },
            2,
        );
        c.add_many(
            LonLat {
                lon: w + 2.0 * dx,
                lat: n - 2.0 * dy,
            },
            &[1, 0, 1, 0, 0, 0, 0, 0],
        );
        let clusters = c.finish();
        assert_eq!(clusters.len(), 1);
        let k = &clusters[0];
        assert_eq!(k.count, 4);
        assert_eq!(k.by_category, [2, 0, 2, 0, 0, 0, 0, 0]);
        assert!((k.position.lon - (w + 2.0 * dx)).abs() < 1e-9);
        assert!((k.position.lat - (n - 2.0 * dy)).abs() < 1e-9);
    }

    #[test]
    fn order_is_row_then_column_and_strays_are_ignored() {
        let [w, s, e, n] = guali().bounds();
        let at = |fx: f64, fy: f64| LonLat {
            lon: w + (e - w) * fx,
            lat: n - (n - s) * fy,
        };
        let mut c = Clusterer::new(guali(), 2);
        c.add(at(0.9, 0.9), 1); // south-east
        c.add(at(0.1, 0.9), 1); // south-west
        c.add(at(0.9, 0.1), 1); // north-east
        c.add(at(0.1, 0.1), 99); // north-west, category clamped
        c.add(at(1.5, 0.5), 0); // east of the tile
        c.add(
            LonLat {
                lon: f64::NAN,
                lat: 0.0,
            },
            0,
        );
        let clusters = c.finish();
        let lons: Vec<bool> = clusters
            .iter()
            .map(|k| k.position.lon < (w + e) / 2.0)
            .collect();
        let lats: Vec<bool> = clusters
            .iter()
            .map(|k| k.position.lat > (n + s) / 2.0)
            .collect();
        assert_eq!(lons, [true, false, true, false]);
        assert_eq!(lats, [true, true, false, false]);
        assert_eq!(clusters[0].by_category[CATEGORIES - 1], 1);
    }

    #[test]
    fn rows_follow_mercator_not_degrees() {
        // At zoom 1 the northern tile spans 0..85° but its middle row edge is at 66.5°.
        let t = TileCoord::new(1, 0, 0).unwrap();
        let mut c = Clusterer::new(t, 2);
        c.add(
            LonLat {
                lon: -90.0,
                lat: 60.0,
            },
            0,
        );
        c.add(
            LonLat {
                lon: -90.0,
                lat: 70.0,
            },
            0,
        );
        assert_eq!(c.finish().len(), 2);
    }

    proptest! {
        #[test]
        fn clusters_account_for_every_point_in_the_tile(
            z in 0u8..=18,
            fx in 0.0f64..1.0,
            fy in 0.0f64..1.0,
            side in 1u32..=32,
            points in prop::collection::vec((-0.5f64..1.5, -0.5f64..1.5, 0usize..12), 0..300),
        ) {
            let n = f64::from(1u32 << z);
            let coord = TileCoord::new(z, (fx * n) as u32, (fy * n) as u32).unwrap();
            let [w, s, e, nn] = coord.bounds();
            let mut c = Clusterer::new(coord, side);
            let mut inside = 0u32;
            for &(px, py, cat) in &points {
                // Kept within the world: `containing`, the oracle here, clamps points beyond it
                // into the edge tiles, which the clusterer rightly does not.
                let p = LonLat {
                    lon: (w + (e - w) * px).clamp(-180.0, 179.999_999),
                    lat: (nn - (nn - s) * py).clamp(-85.0, 85.0),
                };
                if TileCoord::containing(p, z) == Ok(coord) {
                    inside += 1;
                }
                c.add(p, cat);
            }
            let clusters = c.finish();
            prop_assert!(clusters.len() <= (side * side) as usize);
            prop_assert_eq!(clusters.iter().map(|k| k.count).sum::<u32>(), inside);
            for k in &clusters {
                prop_assert_eq!(k.by_category.iter().sum::<u32>(), k.count);
                prop_assert!(k.count > 0);
                prop_assert!(w <= k.position.lon && k.position.lon <= e, "{} {:?}", coord, k);
                prop_assert!(s <= k.position.lat && k.position.lat <= nn, "{} {:?}", coord, k);
            }
        }
    }
}
