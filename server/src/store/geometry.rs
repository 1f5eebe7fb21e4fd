//! Geometry on the wire to the stores: WKB, written and read with geozero.
//!
//! SQLite keeps polygons as WKB blobs; PostGIS takes WKB through `ST_GeomFromWKB` and
//! gives it back with `ST_AsBinary`, so both backends share this one codec.

use geo::{Geometry, MultiPolygon};
use geozero::{CoordDimensions, ToGeo, ToWkb, wkb::Wkb};

use super::StoreError;

/// A multipolygon as 2D WKB.
pub fn to_wkb(mp: &MultiPolygon<f64>) -> Result<Vec<u8>, StoreError> {
    Geometry::MultiPolygon(mp.clone())
        .to_wkb(CoordDimensions::xy())
        .map_err(|e| StoreError::Corrupt {
            column: "regions.geom",
            message: e.to_string(),
        })
}

/// WKB back to a multipolygon; a single polygon is accepted and wrapped.
pub fn from_wkb(bytes: Vec<u8>) -> Result<MultiPolygon<f64>, StoreError> {
    let corrupt = |message: String| StoreError::Corrupt {
        column: "regions.geom",
        message,
    };
    match Wkb(bytes).to_geo().map_err(|e| corrupt(e.to_string()))? {
        Geometry::MultiPolygon(mp) => Ok(mp),
        Geometry::Polygon(p) => Ok(MultiPolygon(vec![p])),
        other => Err(corrupt(format!("expected a (multi)polygon, got {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn round_trips_exactly() {
        let mp = MultiPolygon(vec![polygon![
            (x: 120.41, y: 30.15), (x: 120.52, y: 30.15), (x: 120.5, y: 30.21), (x: 120.41, y: 30.15)
        ]]);
        let back = to_wkb(&mp).and_then(from_wkb).map_err(|e| e.to_string());
        assert_eq!(back, Ok(mp));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(from_wkb(vec![1, 2, 3]).is_err());
        assert!(from_wkb(Vec::new()).is_err());
    }
}
