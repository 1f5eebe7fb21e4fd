//! Encoded tiles of the current state version. Caching is exact: the cache holds tiles
//! of one state version only and empties itself when the version moves (any write, any
//! deadline passing), so the first request after a write renders afresh. Its memory is
//! bounded whatever the tiles asked for.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use onemap_tiles::TileCoord;

use crate::state::RegionIdx;
use crate::state::aggregate::UnitFilter;

/// Bytes of tiles (plain and gzipped) kept per state version before the cache starts
/// over: the cache's memory is bounded whatever the tiles asked for.
const CACHE_BYTES: usize = 64 << 20;

/// One encoded tile, ready to send.
#[derive(Debug)]
pub struct EncodedTile {
    /// The tile.
    pub raw: Bytes,
    /// The same, gzipped.
    pub gzip: Bytes,
    /// A strong ETag: a hash of the bytes and their length, ready to send.
    pub etag: axum::http::HeaderValue,
}

/// What makes one tile differ from another: everything of its request. Typed, so that
/// a cache hit costs a hash of a few integers, not a formatted string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TileKey {
    /// The layers asked for, in their order, as the tile service numbers them.
    layers: u32,
    coord: TileCoord,
    kinds: u8,
    colours: u8,
    region: Option<RegionIdx>,
    at: Option<DateTime<Utc>>,
    scope: crate::state::scope::Scope,
}

impl TileKey {
    /// The key of a tile of `layers` (their numbers in the order asked, each below 256)
    /// at `coord`, with `filter`, at `at`.
    pub fn new(
        layers: impl IntoIterator<Item = u8>,
        coord: TileCoord,
        filter: &UnitFilter,
        at: Option<DateTime<Utc>>,
    ) -> TileKey {
        TileKey {
            layers: layers
                .into_iter()
                .fold(0, |code, l| code << 8 | (u32::from(l) + 1)),
            coord,
            kinds: filter.kinds,
            colours: filter.colours,
            region: filter.region,
            at,
            scope: filter.scope.clone(),
        }
    }

    fn bytes(&self) -> usize {
        std::mem::size_of::<TileKey>()
    }
}

/// Encoded tiles of the current state version. Readers share the lock: a cached tile
/// waits for no other request.
#[derive(Debug, Default)]
pub struct TileCache {
    inner: RwLock<CacheInner>,
}

#[derive(Debug, Default)]
struct CacheInner {
    version: u64,
    bytes: usize,
    tiles: HashMap<TileKey, Arc<EncodedTile>>,
}

impl TileCache {
    /// How many tiles and bytes the cache holds.
    pub fn size(&self) -> (usize, usize) {
        self.inner
            .read()
            .map(|i| (i.tiles.len(), i.bytes))
            .unwrap_or_default()
    }

    /// The tile under `key`, if the cache holds it for this state version.
    pub fn get(&self, version: u64, key: &TileKey) -> Option<Arc<EncodedTile>> {
        let inner = self.inner.read().ok()?;
        (inner.version == version)
            .then(|| inner.tiles.get(key).cloned())
            .flatten()
    }

    /// Keeps `tile` under `key` for this state version (a new version, or a full cache,
    /// starts over).
    pub fn put(&self, version: u64, key: TileKey, tile: Arc<EncodedTile>) {
        let Ok(mut inner) = self.inner.write() else {
            return;
        };
        let size = tile.raw.len() + tile.gzip.len() + key.bytes();
        if inner.version != version || inner.bytes + size > CACHE_BYTES {
            inner.version = version;
            inner.bytes = 0;
            inner.tiles.clear();
        }
        inner.bytes += size;
        inner.tiles.insert(key, tile);
    }
}

/// A rendered tile, gzipped and tagged, ready to send.
pub fn encode(raw: Vec<u8>) -> std::io::Result<EncodedTile> {
    let mut h = std::hash::DefaultHasher::new();
    raw.hash(&mut h);
    let etag =
        axum::http::HeaderValue::try_from(format!("\"{:016x}-{:x}\"", h.finish(), raw.len()))
            .map_err(std::io::Error::other)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw)?;
    let gzip = gz.finish()?;
    Ok(EncodedTile {
        raw: raw.into(),
        gzip: gzip.into(),
        etag,
    })
}
