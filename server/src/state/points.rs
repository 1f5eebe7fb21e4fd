//! Every unit's location, indexed for "which units lie in this box": an R-tree (rstar)
//! over buckets of [`BUCKET`] nearby units, packed once at start (sort-tile-recursive),
//! plus a small dynamic R-tree of single points for units registered or moved since.
//!
//! Why buckets: rstar keeps each leaf in a node enum of 64 bytes, so an R-tree of ten
//! million single points costs ~700 MB; buckets of 32 handles (4 bytes each) cost
//! ~9 bytes a unit. A query visits the buckets whose envelope meets the box and keeps
//! the units whose location lies in it, so answers are exact.
//!
//! Invariant: every unit handle is in exactly one bucket or in `recent`, at its
//! current location (a moved unit leaves its bucket; a bucket's envelope may then be
//! larger than its units need, which costs a few needless checks and nothing else).

use rstar::primitives::GeomWithData;
use rstar::{AABB, Envelope, RTree, RTreeObject};

use super::{UnitEntry, UnitIdx};

/// Units per bucket.
pub const BUCKET: usize = 32;

/// A unit in the dynamic part: its lon/lat and handle.
pub type UnitPoint = GeomWithData<[f64; 2], UnitIdx>;

/// Nearby units and the box around them.
#[derive(Debug, Clone)]
struct Bucket {
    envelope: AABB<[f64; 2]>,
    units: Vec<UnitIdx>,
}

impl RTreeObject for Bucket {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> AABB<[f64; 2]> {
        self.envelope
    }
}

/// The spatial index of unit locations.
#[derive(Debug, Default)]
pub struct PointIndex {
    packed: RTree<Bucket>,
    recent: RTree<UnitPoint>,
    len: usize,
}

impl PointIndex {
    /// Packs every unit of `units` (handle = position) into buckets.
    pub fn build(units: &[UnitEntry]) -> Self {
        Self::from_locations(
            &units
                .iter()
                .map(|e| [e.unit.location.x(), e.unit.location.y()])
                .collect::<Vec<_>>(),
        )
    }

    /// Packs the units whose locations are `units` (handle = position) into buckets.
    pub fn from_locations(units: &[[f64; 2]]) -> Self {
        let location = |units: &[[f64; 2]], u: UnitIdx| units[u as usize];
        let n = units.len();
        let mut handles: Vec<UnitIdx> = (0..n as UnitIdx).collect();
        // Sort-tile-recursive: vertical slabs by longitude, each sorted by latitude and
        // cut into buckets.
        let buckets_total = n.div_ceil(BUCKET).max(1);
        let slabs = (buckets_total as f64).sqrt().ceil() as usize;
        let per_slab = (slabs * BUCKET).max(1);
        handles.sort_unstable_by(|&a, &b| location(units, a)[0].total_cmp(&location(units, b)[0]));
        let mut buckets = Vec::with_capacity(buckets_total);
        for slab in handles.chunks_mut(per_slab) {
            slab.sort_unstable_by(|&a, &b| location(units, a)[1].total_cmp(&location(units, b)[1]));
            for chunk in slab.chunks(BUCKET) {
                let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
                for &u in chunk {
                    let [x, y] = location(units, u);
                    lo = [lo[0].min(x), lo[1].min(y)];
                    hi = [hi[0].max(x), hi[1].max(y)];
                }
                let envelope = AABB::from_corners(lo, hi);
                buckets.push(Bucket {
                    envelope,
                    units: chunk.to_vec(),
                });
            }
        }
        PointIndex {
            packed: RTree::bulk_load(buckets),
            recent: RTree::new(),
            len: n,
        }
    }

    /// How many units are indexed.
    pub fn size(&self) -> usize {
        self.len
    }

    /// The units whose location lies in `env` (boundary included).
    pub fn locate_in_envelope<'a>(
        &'a self,
        units: &'a [UnitEntry],
        env: &AABB<[f64; 2]>,
    ) -> impl Iterator<Item = UnitIdx> + 'a {
        let location = |units: &[UnitEntry], u: UnitIdx| {
            let p = units[u as usize].unit.location;
            [p.x(), p.y()]
        };
        let env = *env;
        self.packed
            .locate_in_envelope_intersecting(&env)
            .flat_map(|b| b.units.iter().copied())
            .filter(move |&u| env.contains_point(&location(units, u)))
            .chain(self.recent.locate_in_envelope(&env).map(|p| p.data))
    }

    /// Indexes unit `u`, at `p`.
    pub fn insert(&mut self, p: [f64; 2], u: UnitIdx) {
        self.recent.insert(UnitPoint::new(p, u));
        self.len += 1;
    }

    /// Moves unit `u` from `old` to `new`.
    pub fn relocate(&mut self, old: [f64; 2], new: [f64; 2], u: UnitIdx) {
        if self.recent.remove(&UnitPoint::new(old, u)).is_none() {
            for b in self
                .packed
                .locate_in_envelope_intersecting_mut(&AABB::from_point(old))
            {
                b.units.retain(|&x| x != u);
            }
        }
        self.recent.insert(UnitPoint::new(new, u));
    }
}
