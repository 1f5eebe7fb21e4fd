//! `TileCoord`: a z/x/y that is valid by construction, and the Web-Mercator projection
//! between lon/lat and tile space that the rest of the crate shares.

use std::f64::consts::PI;
use std::fmt;

/// The deepest zoom served (a tile about 2.4 m across at the equator).
pub const MAX_ZOOM: u8 = 24;

/// The latitude limit of Web Mercator, degrees.
const MAX_LAT: f64 = 85.051_128_779_806_59;

/// Why a tile coordinate was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    /// Zoom above [`MAX_ZOOM`].
    #[error("zoom {0} is above the maximum {MAX_ZOOM}")]
    Zoom(u8),
    /// x or y outside `0..2^z`.
    #[error("tile {x}/{y} is outside zoom {z} (0..{})", 1u64 << z)]
    OutOfRange {
        /// Zoom.
        z: u8,
        /// Column.
        x: u32,
        /// Row.
        y: u32,
    },
}

/// A longitude/latitude pair in degrees (WGS 84).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LonLat {
    /// Degrees east.
    pub lon: f64,
    /// Degrees north.
    pub lat: f64,
}

/// A tile of the XYZ (Google/OSM) scheme: `y` counts down from the north.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileCoord {
    z: u8,
    x: u32,
    y: u32,
}

impl TileCoord {
    /// A checked tile coordinate.
    pub fn new(z: u8, x: u32, y: u32) -> Result<Self, TileError> {
        if z > MAX_ZOOM {
            return Err(TileError::Zoom(z));
        }
        let n = 1u64 << z;
        if u64::from(x) >= n || u64::from(y) >= n {
            return Err(TileError::OutOfRange { z, x, y });
        }
        Ok(TileCoord { z, x, y })
    }

    /// Zoom.
    pub fn z(self) -> u8 {
        self.z
    }

    /// Column.
    pub fn x(self) -> u32 {
        self.x
    }

    /// Row, from the north.
    pub fn y(self) -> u32 {
        self.y
    }

    /// The tile at zoom `z` holding `p` (latitudes clamped to the Mercator limit).
    pub fn containing(p: LonLat, z: u8) -> Result<Self, TileError> {
        if z > MAX_ZOOM {
            return Err(TileError::Zoom(z));
        }
        let (fx, fy) = world_xy(p, z);
        let clamp = |f: f64| (f.floor().max(0.0) as u64).min((1u64 << z) - 1) as u32;
        TileCoord::new(z, clamp(fx), clamp(fy))
    }

    /// The north-west corner of the tile.
    pub fn north_west(self) -> LonLat {
        corner(self.z, f64::from(self.x), f64::from(self.y))
    }

    /// The tile's bounds as (west, south, east, north) degrees.
    pub fn bounds(self) -> [f64; 4] {
        let nw = self.north_west();
        let se = corner(self.z, f64::from(self.x) + 1.0, f64::from(self.y) + 1.0);
        [nw.lon, se.lat, se.lon, nw.lat]
    }
}

/// Fractional tile coordinates of `p` at zoom `z` (x east, y south, both `0..2^z` inside the
/// world), latitude clamped to the Mercator limit. The one place the forward projection lives:
/// `containing` and the MVT projection go through it; clustering uses its inverse, [`corner`].
pub(crate) fn world_xy(p: LonLat, z: u8) -> (f64, f64) {
    let n = (1u64 << z) as f64;
    let lat = p.lat.clamp(-MAX_LAT, MAX_LAT).to_radians();
    let fx = (p.lon + 180.0) / 360.0 * n;
    let fy = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / PI) / 2.0 * n;
    (fx, fy)
}

/// The point at fractional tile coordinates `x`, `y` of zoom `z` (the inverse of [`world_xy`]).
pub(crate) fn corner(z: u8, x: f64, y: f64) -> LonLat {
    let n = (1u64 << z) as f64;
    let lon = x / n * 360.0 - 180.0;
    let lat = (PI * (1.0 - 2.0 * y / n)).sinh().atan().to_degrees();
    LonLat { lon, lat }
}

impl fmt::Display for TileCoord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn range_is_checked() {
        assert!(TileCoord::new(0, 0, 0).is_ok());
        assert_eq!(
            TileCoord::new(0, 1, 0),
            Err(TileError::OutOfRange { z: 0, x: 1, y: 0 })
        );
        assert_eq!(TileCoord::new(25, 0, 0), Err(TileError::Zoom(25)));
        assert!(TileCoord::new(24, (1 << 24) - 1, (1 << 24) - 1).is_ok());
    }

    #[test]
    fn guali_at_zoom_12() {
        // 120.46 E, 30.18 N: x = 300.46 / 360 × 4096 = 3418.6;
        // y = (1 − ln(tan φ + sec φ) / π) / 2 × 4096 = (1 − 0.55286 / π) / 2 × 4096 = 1687.6.
        let t = TileCoord::containing(
            LonLat {
                lon: 120.46,
                lat: 30.18,
            },
            12,
        )
        .map(|t| t.to_string());
        assert_eq!(t, Ok("12/3418/1687".to_owned()));
    }

    proptest! {
        #[test]
        fn a_point_lies_in_the_tile_that_contains_it(lon in -179.99f64..179.99, lat in -85.0f64..85.0, z in 0u8..=MAX_ZOOM) {
            let t = TileCoord::containing(LonLat { lon, lat }, z);
            prop_assert!(t.is_ok());
            let [w, s, e, n] = t.map(TileCoord::bounds).unwrap_or_default();
            prop_assert!(w <= lon + 1e-9 && lon <= e + 1e-9, "{w} {lon} {e}");
            prop_assert!(s <= lat + 1e-9 && lat <= n + 1e-9, "{s} {lat} {n}");
        }

        #[test]
        fn neighbours_share_edges(z in 1u8..=20, x in 0u32..1_000_000, y in 0u32..1_000_000) {
            let max = (1u32 << z) - 1;
            let (x, y) = (x % max, y % max);
            let a = TileCoord::new(z, x, y).map(TileCoord::bounds);
            let b = TileCoord::new(z, x + 1, y + 1).map(TileCoord::bounds);
            prop_assert!(matches!((a, b), (Ok(a), Ok(b)) if a[2] == b[0] && a[1] == b[3]));
        }
    }
}
