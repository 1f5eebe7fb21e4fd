//! What an OGC API – Features request asks: a collection, a bbox, a page, a filter.

use std::str::FromStr;

use geo::Rect;
use geojson::Feature;
use h3o::Resolution;

use crate::domain::Level;
use crate::state::aggregate::UnitFilter;

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
    pub(super) fn rect(&self) -> Rect<f64> {
        Rect::new(self.min, self.max)
    }

    pub(super) fn envelope(&self) -> rstar::AABB<[f64; 2]> {
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
    /// The H3 resolution of `hexes` (one of [`HEX_RESOLUTIONS`](crate::state::live::HEX_RESOLUTIONS)).
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
