//! A point on Earth, WGS 84 longitude and latitude: checked once when it is made, so
//! nothing that holds one checks it again.

use geo::Point;

/// Why a longitude/latitude pair is not a point on Earth. (Said as a client registering
/// a unit reads it: such a point lies in no micro-grid of the map either.)
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("the location lies outside every micro-grid of the town")]
pub struct BadLocation {
    /// The longitude given.
    pub lon: f64,
    /// The latitude given.
    pub lat: f64,
}

/// A WGS 84 longitude in [-180, 180] and latitude in [-90, 90], both finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Location(Point<f64>);

impl Location {
    /// The point at `lon`, `lat`, if it is one.
    pub fn new(lon: f64, lat: f64) -> Result<Self, BadLocation> {
        // The ranges also refuse NaN (no comparison with NaN holds).
        if (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat) {
            Ok(Location(Point::new(lon, lat)))
        } else {
            Err(BadLocation { lon, lat })
        }
    }

    /// Longitude.
    pub fn x(self) -> f64 {
        self.0.x()
    }

    /// Latitude.
    pub fn y(self) -> f64 {
        self.0.y()
    }

    /// As a `geo` point.
    pub fn point(self) -> Point<f64> {
        self.0
    }

    /// `[lon, lat]`.
    pub fn lon_lat(self) -> [f64; 2] {
        [self.0.x(), self.0.y()]
    }
}

impl From<Location> for Point<f64> {
    fn from(l: Location) -> Self {
        l.0
    }
}

impl serde::Serialize for Location {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.lon_lat().serialize(s)
    }
}

/// `[lon, lat]`, as GeoJSON writes a position.
impl<'de> serde::Deserialize<'de> for Location {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let [lon, lat] = <[f64; 2]>::deserialize(d)?;
        Location::new(lon, lat).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Location {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ArrayBuilder::new()
            .items(
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::Number)
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Double,
                    ))),
            )
            .min_items(Some(2))
            .max_items(Some(2))
            .description(Some("`[longitude, latitude]`, WGS 84"))
            .into()
    }
}

impl utoipa::ToSchema for Location {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_points_on_earth() {
        assert!(Location::new(120.41, 30.16).is_ok());
        assert!(Location::new(180.0, -90.0).is_ok());
        for (lon, lat) in [
            (180.1, 0.0),
            (0.0, 90.5),
            (f64::NAN, 0.0),
            (0.0, f64::INFINITY),
        ] {
            assert!(Location::new(lon, lat).is_err(), "{lon} {lat}");
        }
        let l: Location = serde_json::from_str("[120.5, 30.25]").unwrap();
        assert_eq!(l.lon_lat(), [120.5, 30.25]);
        assert_eq!(serde_json::to_string(&l).unwrap(), "[120.5,30.25]");
    }
}
