//! Tokens looked up recently, and failed sign-ins: what every request's gate reads
//! before it goes to the store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::auth::throttle::Throttle;
use crate::domain::{TokenRecord, User};
use crate::store::{AnyStore, StoreError};

/// How long a looked-up token is trusted before it is read from the store again: a
/// token revoked through the API is dropped at once; one revoked from the command line
/// (another process) within this.
const CACHE_FOR: Duration = Duration::from_secs(10);
/// Cached lookups at most.
const CACHE_MAX: usize = 50_000;

/// A token found in the store, with its user, shared by every request that carries it
/// (a hit costs a reference count, not a copy of the record).
#[derive(Debug)]
pub struct Known {
    /// The token's record.
    pub token: TokenRecord,
    /// Its user.
    pub user: Arc<User>,
    /// The record's hash, as requests pass it on.
    pub hash: Arc<str>,
}

/// A lookup's answer (none: no such token) and when it was made.
type Lookup = (Option<Arc<Known>>, Instant);

/// Tokens looked up recently, and failed sign-ins.
#[derive(Debug, Default)]
pub struct Sessions {
    cache: Mutex<HashMap<String, Lookup>>,
    /// Failed sign-ins per name.
    pub throttle: Throttle,
}

impl Sessions {
    /// The token with this hash and its user, from the cache or the store.
    pub async fn lookup(
        &self,
        store: &AnyStore,
        hash: &str,
    ) -> Result<Option<Arc<Known>>, StoreError> {
        {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((hit, at)) = cache.get(hash)
                && at.elapsed() < CACHE_FOR
            {
                return Ok(hit.clone());
            }
        }
        let found = store.token(hash).await?.map(|(token, user)| {
            Arc::new(Known {
                hash: token.hash.as_str().into(),
                token,
                user: Arc::new(user),
            })
        });
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHE_MAX {
            cache.retain(|_, (_, at)| at.elapsed() < CACHE_FOR);
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
        }
        cache.insert(hash.to_owned(), (found.clone(), Instant::now()));
        Ok(found)
    }

    /// Drops cached lookups of a user's tokens (after a revocation).
    pub fn forget_user(&self, user_id: i64) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|_, (hit, _)| hit.as_ref().is_none_or(|k| k.token.user_id != user_id));
    }

    /// Drops a cached lookup.
    pub fn forget(&self, hash: &str) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.remove(hash);
    }
}
