//! Places: [province (省) → county (县区) →] town (镇) → [area (片区) → group (小组) →]
//! village (村社) → grid (网格) → micro-grid (微网格).
//!
//! A town's own map (the Guali pilot) has the town as its root, with areas and groups as
//! teams of villages; a province's map has the province as root, counties and towns
//! below it, and villages straight under their town. Every level but area and group
//! carries polygons (areas and groups are sets of villages). Every region but the root
//! has a parent at a higher level, one of those [`Level::parents`] allows.

use geo::MultiPolygon;

use super::{RegionId, vocabulary};

vocabulary! {
    /// A level of the place hierarchy, from the top down.
    Level, "region level" {
        /// 省, a province (the root of a province's map).
        Province = "province",
        /// 县/区, a county or city district.
        County = "county",
        /// 镇, a town or street (the root of a town's map).
        Town = "town",
        /// 片区, one of the town's three areas.
        Area = "area",
        /// 小组, a working group of villages.
        Group = "group",
        /// 村社, a village or community.
        Village = "village",
        /// 网格, a grid inside a village.
        Grid = "grid",
        /// 微网格, the smallest cell, looked after by grid workers.
        MicroGrid = "micro_grid",
    }
}

impl Level {
    /// The levels a region of this level may hang under, nearest first (empty for the
    /// province, which is always a root; a town is a root on a town's own map).
    pub const fn parents(self) -> &'static [Level] {
        match self {
            Level::Province => &[],
            Level::County => &[Level::Province],
            Level::Town => &[Level::County],
            Level::Area => &[Level::Town],
            Level::Group => &[Level::Area],
            Level::Village => &[Level::Group, Level::Town],
            Level::Grid => &[Level::Village],
            Level::MicroGrid => &[Level::Grid],
        }
    }

    /// Whether a region of this level may be the root of the hierarchy.
    pub const fn can_be_root(self) -> bool {
        matches!(self, Level::Province | Level::Town)
    }

    /// Whether regions of this level have their own polygon.
    pub const fn has_polygon(self) -> bool {
        !matches!(self, Level::Area | Level::Group)
    }

    /// The level a ranking under a region of this level orders: the counties of a
    /// province, the towns of a county, the villages of a town (and of its areas and
    /// groups), the grids of a village, the micro-grids of a grid; `None` for a
    /// micro-grid.
    pub const fn ranked_below(self) -> Option<Level> {
        match self {
            Level::Province => Some(Level::County),
            Level::County => Some(Level::Town),
            Level::Town | Level::Area | Level::Group => Some(Level::Village),
            Level::Village => Some(Level::Grid),
            Level::Grid => Some(Level::MicroGrid),
            Level::MicroGrid => None,
        }
    }

    /// Depth from the top (province, 0) down to the micro-grid (7): the index into
    /// per-level counts.
    pub const fn depth(self) -> usize {
        match self {
            Level::Province => 0,
            Level::County => 1,
            Level::Town => 2,
            Level::Area => 3,
            Level::Group => 4,
            Level::Village => 5,
            Level::Grid => 6,
            Level::MicroGrid => 7,
        }
    }
}

/// One place of the hierarchy.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// Stable id (official code where one exists).
    pub id: RegionId,
    /// Its level.
    pub level: Level,
    /// The region above; `None` only for the root.
    pub parent: Option<RegionId>,
    /// Official statistical division code, where there is one.
    pub code: Option<String>,
    /// Display name (Chinese).
    pub name: String,
    /// Boundary in WGS 84 lon/lat; `None` for areas and groups.
    pub boundary: Option<MultiPolygon<f64>>,
}
