//! The place hierarchy in memory: parent/child links by index and an R-tree over the
//! bounding boxes of every region polygon (town, villages, grids, micro-grids), used for
//! point-in-polygon assignment of units and to find the regions a tile covers.
//!
//! Invariants (checked by [`RegionTree::new`]): ids are unique, there is one root (a
//! town, or a province), each region's parent is at a level [`Level::parents`] allows,
//! and every level that has polygons has one for each region.

use std::collections::HashMap;

use geo::{BoundingRect, Intersects, MultiPolygon, Point};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};

use crate::domain::{Level, Region, RegionId};

/// Index of a region in the tree (stable for the life of the tree).
pub type RegionIdx = usize;

/// A hierarchy that does not hold together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionError {
    /// Two regions share an id.
    #[error("region id {0} appears twice")]
    Duplicate(RegionId),
    /// A parent id names no region, or one at the wrong level.
    #[error("region {id} ({level}) has parent {parent:?}, which is not a region one level up")]
    BadParent {
        /// The child.
        id: RegionId,
        /// Its level.
        level: Level,
        /// The parent it names.
        parent: Option<RegionId>,
    },
    /// A region of a level with polygons has none.
    #[error("region {0} has no polygon")]
    MissingPolygon(RegionId),
    /// An id that does not parse (only generated data can produce this).
    #[error("`{0}` is not a valid region id")]
    BadId(String),
    /// Not exactly one root.
    #[error("the hierarchy needs exactly one root (a town or a province), found {0}")]
    Roots(usize),
}

/// A region polygon's bounding box in the R-tree.
pub type RegionBox = GeomWithData<Rectangle<[f64; 2]>, RegionIdx>;

/// All regions, linked and indexed.
#[derive(Debug)]
pub struct RegionTree {
    regions: Vec<Region>,
    by_id: HashMap<RegionId, RegionIdx>,
    parent: Vec<Option<RegionIdx>>,
    children: Vec<Vec<RegionIdx>>,
    polygons: RTree<RegionBox>,
    root: RegionIdx,
    /// Regions per level, by [`Level::depth`].
    per_level: [usize; 8],
    /// The root's bounding box, `[west, south, east, north]`.
    extent: Option<[f64; 4]>,
}

impl RegionTree {
    /// Links and indexes `regions` (in any order), checking the invariants.
    pub fn new(regions: Vec<Region>) -> Result<Self, RegionError> {
        let mut by_id = HashMap::with_capacity(regions.len());
        for (i, r) in regions.iter().enumerate() {
            if by_id.insert(r.id.clone(), i).is_some() {
                return Err(RegionError::Duplicate(r.id.clone()));
            }
        }
        let mut parent = vec![None; regions.len()];
        let mut children = vec![Vec::new(); regions.len()];
        let mut roots = Vec::new();
        let mut per_level = [0; 8];
        for (i, r) in regions.iter().enumerate() {
            per_level[r.level.depth()] += 1;
            let bad = || RegionError::BadParent {
                id: r.id.clone(),
                level: r.level,
                parent: r.parent.clone(),
            };
            match &r.parent {
                None if r.level.can_be_root() => roots.push(i),
                None => return Err(bad()),
                Some(p) => {
                    let &pi = by_id.get(p).ok_or_else(bad)?;
                    if !r.level.parents().contains(&regions[pi].level) {
                        return Err(bad());
                    }
                    parent[i] = Some(pi);
                    children[pi].push(i);
                }
            }
            if r.level.has_polygon() && r.boundary.is_none() {
                return Err(RegionError::MissingPolygon(r.id.clone()));
            }
        }
        let [root] = roots[..] else {
            return Err(RegionError::Roots(roots.len()));
        };
        let entries = regions
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let rect = r.boundary.as_ref()?.bounding_rect()?;
                Some(GeomWithData::new(
                    Rectangle::from_corners(rect.min().into(), rect.max().into()),
                    i,
                ))
            })
            .collect();
        let extent = regions[root]
            .boundary
            .as_ref()
            .and_then(|b| b.bounding_rect())
            .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]);
        Ok(RegionTree {
            regions,
            by_id,
            parent,
            children,
            extent,
            polygons: RTree::bulk_load(entries),
            root,
            per_level,
        })
    }

    /// This hierarchy with `changed` in it: each replaces the region of its id, or is
    /// added; checked as [`RegionTree::new`] checks (what a region import makes).
    pub fn with(&self, changed: &[Region]) -> Result<RegionTree, RegionError> {
        let mut regions = self.regions.clone();
        for r in changed {
            match self.by_id.get(&r.id) {
                Some(&i) => regions[i] = r.clone(),
                None => regions.push(r.clone()),
            }
        }
        RegionTree::new(regions)
    }

    /// The root: the town of a town's map, the province of a province's.
    pub fn root(&self) -> RegionIdx {
        self.root
    }

    /// The root's bounding box, `[west, south, east, north]` (none without a polygon).
    pub fn extent(&self) -> Option<[f64; 4]> {
        self.extent
    }

    /// How many regions the level has.
    pub fn count(&self, level: Level) -> usize {
        self.per_level[level.depth()]
    }

    /// The region at `idx`.
    pub fn get(&self, idx: RegionIdx) -> &Region {
        &self.regions[idx]
    }

    /// All regions, in the order given.
    pub fn all(&self) -> &[Region] {
        &self.regions
    }

    /// Looks a region up by id.
    pub fn find(&self, id: &RegionId) -> Option<RegionIdx> {
        self.by_id.get(id).copied()
    }

    /// Looks a region up by the text of its id (no allocation).
    pub fn find_str(&self, id: &str) -> Option<RegionIdx> {
        self.by_id.get(id).copied()
    }

    /// The parent of `idx`.
    pub fn parent(&self, idx: RegionIdx) -> Option<RegionIdx> {
        self.parent[idx]
    }

    /// The children of `idx`.
    pub fn children(&self, idx: RegionIdx) -> &[RegionIdx] {
        &self.children[idx]
    }

    /// Whether `idx` is `ancestor` or lies below it.
    pub fn is_within(&self, mut idx: RegionIdx, ancestor: RegionIdx) -> bool {
        loop {
            if idx == ancestor {
                return true;
            }
            match self.parent[idx] {
                Some(p) => idx = p,
                None => return false,
            }
        }
    }

    /// The deepest region both `a` and `b` are within.
    pub fn common_ancestor(&self, a: RegionIdx, b: RegionIdx) -> RegionIdx {
        let mut at = Some(a);
        while let Some(r) = at {
            if self.is_within(b, r) {
                return r;
            }
            at = self.parent[r];
        }
        self.root()
    }

    /// The micro-grid whose polygon contains `point` (boundary included; where two
    /// touch, the one with the smaller id wins, so the answer is stable).
    pub fn micro_grid_at(&self, point: Point<f64>) -> Option<RegionIdx> {
        let p = [point.x(), point.y()];
        self.polygons
            .locate_all_at_point(&p)
            .map(|e| e.data)
            .filter(|&i| {
                self.regions[i].level == Level::MicroGrid
                    && self.regions[i]
                        .boundary
                        .as_ref()
                        .is_some_and(|b: &MultiPolygon<f64>| b.intersects(&point))
            })
            .min_by(|&a, &b| self.regions[a].id.cmp(&self.regions[b].id))
    }

    /// The regions of `level` whose polygon's bounding box meets the box
    /// `min`–`max` (lon/lat).
    pub fn regions_in(
        &self,
        min: [f64; 2],
        max: [f64; 2],
        level: Level,
    ) -> impl Iterator<Item = RegionIdx> + '_ {
        let env = rstar::AABB::from_corners(min, max);
        self.polygons
            .locate_in_envelope_intersecting(&env)
            .map(|e| e.data)
            .filter(move |&i| self.regions[i].level == level)
    }

    /// The regions at `level`.
    pub fn at_level(&self, level: Level) -> impl Iterator<Item = RegionIdx> + '_ {
        (0..self.regions.len()).filter(move |&i| self.regions[i].level == level)
    }

    /// How many regions of each level lie in the subtree of `idx` (itself included),
    /// indexed by [`Level::depth`].
    pub fn subtree_counts(&self, idx: RegionIdx) -> [usize; 8] {
        let mut counts = [0; 8];
        let mut stack = vec![idx];
        while let Some(i) = stack.pop() {
            counts[self.regions[i].level.depth()] += 1;
            stack.extend_from_slice(&self.children[i]);
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(id: &str, level: Level, parent: Option<&str>) -> Region {
        Region {
            id: id.parse().unwrap(),
            level,
            parent: parent.map(|p| p.parse().unwrap()),
            code: None,
            name: id.into(),
            boundary: level.has_polygon().then(|| MultiPolygon(vec![])),
        }
    }

    #[test]
    fn inconsistent_hierarchies_are_refused() {
        let town = r("T", Level::Town, None);
        assert_eq!(RegionTree::new(vec![]).err(), Some(RegionError::Roots(0)));
        assert!(
            RegionTree::new(vec![town.clone(), r("V", Level::Village, Some("T"))]).is_ok(),
            "a village may hang straight under its town (a province's towns have no teams)"
        );
        assert!(matches!(
            RegionTree::new(vec![town.clone(), r("g", Level::Grid, Some("T"))]),
            Err(RegionError::BadParent { .. })
        ));
        assert!(matches!(
            RegionTree::new(vec![town.clone(), r("A", Level::Area, Some("X"))]),
            Err(RegionError::BadParent { .. })
        ));
        assert!(matches!(
            RegionTree::new(vec![town.clone(), town.clone()]),
            Err(RegionError::Duplicate(_))
        ));
        let mut bare = r("T2", Level::Town, None);
        bare.boundary = None;
        assert!(matches!(
            RegionTree::new(vec![bare]),
            Err(RegionError::MissingPolygon(_))
        ));
        let ok = RegionTree::new(vec![r("A", Level::Area, Some("T")), town.clone()]);
        assert!(ok.is_ok(), "children may come before parents");
        assert!(
            matches!(
                RegionTree::new(vec![r("P", Level::Province, None), town.clone()]),
                Err(RegionError::Roots(2))
            ),
            "one root only"
        );
        assert!(matches!(
            RegionTree::new(vec![r("G", Level::Grid, None)]),
            Err(RegionError::BadParent { .. })
        ));
        // A province: counties, towns, villages straight under their town.
        let province = RegionTree::new(vec![
            r("P", Level::Province, None),
            r("C", Level::County, Some("P")),
            r("T", Level::Town, Some("C")),
            r("V", Level::Village, Some("T")),
            r("g", Level::Grid, Some("V")),
        ]);
        let province = province.unwrap();
        assert_eq!(province.get(province.root()).level, Level::Province);
        assert_eq!(province.count(Level::Town), 1);
        assert!(matches!(
            RegionTree::new(vec![
                r("P", Level::Province, None),
                r("V", Level::Village, Some("P"))
            ]),
            Err(RegionError::BadParent { .. })
        ));
    }
}
