//! SHA-256 as the program uses it: a stored file's name (its content hash) and the
//! fingerprint an idempotency key is held to.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// Lower-case hex of bytes (by the `hex` crate's table into one buffer: formatting each
/// byte cost a served tile 8,000 instructions in its token's hash).
pub fn hex(bytes: &[u8]) -> String {
    let mut out = vec![0u8; bytes.len() * 2];
    // The buffer is exactly twice the input's length, and hex digits are ASCII.
    let _ = hex::encode_to_slice(bytes, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// SHA-256 of `parts`, each length-prefixed (so `["ab", "c"]` and `["a", "bc"]` differ),
/// in hex.
pub fn fingerprint(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex(&h.finalize())
}

/// The SHA-256 of a file's content, 64 lower-case hex digits: the name it is stored and
/// served under, so the same file is kept once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct ContentHash(String);

/// Not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a content hash is 64 hex digits")]
pub struct BadHash;

impl ContentHash {
    /// The hash of `data`.
    pub fn of(data: &[u8]) -> Self {
        ContentHash(hex(&Sha256::digest(data)))
    }

    /// The hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ContentHash {
    type Err = BadHash;
    fn from_str(s: &str) -> Result<Self, BadHash> {
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(ContentHash(s.to_owned()))
        } else {
            Err(BadHash)
        }
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_name_content_and_parse_back() {
        let h = ContentHash::of(b"abc");
        assert_eq!(
            h.as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(h.as_str().parse::<ContentHash>(), Ok(h.clone()));
        assert!("xyz".parse::<ContentHash>().is_err());
        assert_ne!(fingerprint(&[b"ab", b"c"]), fingerprint(&[b"a", b"bc"]));
    }
}
