//! Encoded tiles of the current state version. Caching is exact: the cache holds tiles
//! of one state version only and empties itself when the version moves (any write, any
//! deadline passing), so the first request after a write renders afresh. Its memory is
//! bounded whatever the tiles asked for.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

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
    /// A strong ETag: a hash of the bytes and their length.
    pub etag: String,
}

/// Encoded tiles of the current state version.
#[derive(Debug, Default)]
pub struct TileCache {
    inner: Mutex<CacheInner>,
}

#[derive(Debug, Default)]
struct CacheInner {
    version: u64,
    bytes: usize,
    tiles: HashMap<String, Arc<EncodedTile>>,
}

impl TileCache {
    /// How many tiles and bytes the cache holds.
    pub fn size(&self) -> (usize, usize) {
        self.inner
            .lock()
            .map(|i| (i.tiles.len(), i.bytes))
            .unwrap_or_default()
    }

    /// The tile under `key`, if the cache holds it for this state version.
    pub fn get(&self, version: u64, key: &str) -> Option<Arc<EncodedTile>> {
        let inner = self.inner.lock().ok()?;
        (inner.version == version)
            .then(|| inner.tiles.get(key).cloned())
            .flatten()
    }

    /// Keeps `tile` under `key` for this state version (a new version, or a full cache,
    /// starts over).
    pub fn put(&self, version: u64, key: String, tile: Arc<EncodedTile>) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let size = tile.raw.len() + tile.gzip.len() + key.len();
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
    let etag = format!("\"{:016x}-{:x}\"", h.finish(), raw.len());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw)?;
    let gzip = gz.finish()?;
    Ok(EncodedTile {
        raw: raw.into(),
        gzip: gzip.into(),
        etag,
    })
}
