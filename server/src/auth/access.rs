//! Who is asking, with where they may look: the signed-in user and their [`Scope`]
//! resolved on the map. Everything a request reads or writes on the map goes through
//! one of these methods, so what lies out of scope reads as if it did not exist.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::domain::{RegionId, TokenKind, UnitId, User};
use crate::state::scope::Scope;
use crate::state::{MapState, RegionIdx, UnitEntry};

/// Out of the reader's sight, or not there at all: the two read the same (a 404).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no {what} `{id}`")]
pub struct Unseen {
    /// What was looked for.
    pub what: &'static str,
    /// The id asked for.
    pub id: String,
}

/// Who is asking, with where they may look.
#[derive(Debug, Clone)]
pub struct Access {
    /// The user.
    pub user: Arc<User>,
    /// Their scope on the map.
    pub scope: Scope,
    /// The SHA-256 of the token they came with.
    pub token_hash: Arc<str>,
    /// Session or wall.
    pub kind: TokenKind,
    /// When the token stops being accepted.
    pub expires_at: DateTime<Utc>,
}

impl Access {
    /// The region `id` (or `town`) if it is in scope; 404 otherwise, as for an unknown id.
    pub fn region(&self, map: &MapState, id: &str) -> Result<RegionIdx, Unseen> {
        let idx = self.region_any(map, id)?;
        if self.scope.covers(map, idx) {
            Ok(idx)
        } else {
            Err(Unseen {
                what: "region",
                id: id.to_owned(),
            })
        }
    }

    /// The region `id` (or `town`) if it is in scope or above it (its figures must then
    /// be counted with the scope: `Params::unit_filter` does); 404 otherwise.
    pub fn region_touching(&self, map: &MapState, id: &str) -> Result<RegionIdx, Unseen> {
        let idx = self.region_any(map, id)?;
        if self.scope.touches(map, idx) {
            Ok(idx)
        } else {
            Err(Unseen {
                what: "region",
                id: id.to_owned(),
            })
        }
    }

    fn region_any(&self, map: &MapState, id: &str) -> Result<RegionIdx, Unseen> {
        let not_found = || Unseen {
            what: "region",
            id: id.to_owned(),
        };
        if id == "town" {
            return Ok(map.regions.root());
        }
        let rid: RegionId = id.parse().map_err(|_| not_found())?;
        map.regions.find(&rid).ok_or_else(not_found)
    }

    /// The region a reader's views start from when they name none: the town, or their
    /// scope's region (the deepest region above all of it if they have several).
    pub fn home(&self, map: &MapState) -> RegionIdx {
        self.scope.home(map)
    }

    /// Whether the reader may see this unit.
    pub fn sees(&self, map: &MapState, e: &UnitEntry) -> bool {
        self.scope.covers(map, e.micro_grid)
    }

    /// The unit `id` if it is in scope; 404 otherwise.
    pub fn unit<'m>(&self, map: &'m MapState, id: UnitId) -> Result<&'m UnitEntry, Unseen> {
        map.unit(id)
            .filter(|e| self.sees(map, e))
            .ok_or_else(|| Unseen {
                what: "unit",
                id: id.to_string(),
            })
    }
}
