//! Places: town → area (片区) → group (小组) → village (村社) → grid (网格) → micro-grid (微网格).
//!
//! Town, village, grid and micro-grid carry polygons; areas and groups are sets of
//! villages (teams), so they have none. Every region but the town has a parent one level up.

use geo::MultiPolygon;

use super::{RegionId, vocabulary};

vocabulary! {
    /// A level of the place hierarchy, from the top down.
    Level, "region level" {
        /// 镇, the whole town.
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
    /// The level one step up, `None` for the town.
    pub const fn parent(self) -> Option<Level> {
        match self {
            Level::Town => None,
            Level::Area => Some(Level::Town),
            Level::Group => Some(Level::Area),
            Level::Village => Some(Level::Group),
            Level::Grid => Some(Level::Village),
            Level::MicroGrid => Some(Level::Grid),
        }
    }

    /// Whether regions of this level have their own polygon.
    pub const fn has_polygon(self) -> bool {
        !matches!(self, Level::Area | Level::Group)
    }

    /// Depth from the town (0) down to the micro-grid (5).
    pub const fn depth(self) -> usize {
        match self {
            Level::Town => 0,
            Level::Area => 1,
            Level::Group => 2,
            Level::Village => 3,
            Level::Grid => 4,
            Level::MicroGrid => 5,
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
    /// The region one level up; `None` only for the town.
    pub parent: Option<RegionId>,
    /// Official statistical division code, where there is one.
    pub code: Option<String>,
    /// Display name (Chinese).
    pub name: String,
    /// Boundary in WGS 84 lon/lat; `None` for areas and groups.
    pub boundary: Option<MultiPolygon<f64>>,
}
