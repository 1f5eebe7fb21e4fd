//! Who may see and change what: users, their roles and area scope, passwords and tokens.
//!
//! - Passwords are hashed with Argon2id (the `argon2` crate, RustCrypto; PHC strings).
//! - A token is 32 random bytes shown once to its holder (`om_` + 64 hex digits); the
//!   store keeps only its SHA-256, so a stolen database yields no usable token.
//! - A user's scope is a set of regions, each covering its subtree; an empty scope is the
//!   whole town (for `command`, `leader` and `admin` only).
//! - What each role may do is [`Role::may`]; where is [`Scope`]. The HTTP layer applies
//!   both in one place: the HTTP gate resolves an [`access::Access`], the write path
//!   checks the role and every place a write touches.

pub mod access;
pub mod admin;
pub mod throttle;

pub use crate::domain::hash::hex;
pub use crate::domain::user::{Action, Role, SESSION_TTL, TokenKind, TokenRecord, User, WALL_TTL};
pub use crate::state::scope::Scope;
use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new token: what the holder is shown once, and its record.
pub fn new_token(user_id: i64, kind: TokenKind, now: DateTime<Utc>) -> (String, TokenRecord) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("om_{}", hex(&bytes));
    let record = TokenRecord {
        hash: token_hash(&token),
        user_id,
        kind,
        created_at: now,
        expires_at: now + kind.ttl(),
        revoked_at: None,
    };
    (token, record)
}

/// Whether `s` looks like one of our tokens (malformed ones are refused before any lookup).
pub fn is_well_formed(s: &str) -> bool {
    s.strip_prefix("om_")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The SHA-256 of a token, hex: what the store keys tokens by.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A random password of 16 letters and digits (no look-alikes), for new users.
pub fn new_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()] as char)
        .collect()
}

/// The Argon2id PHC string of `password` (with a fresh salt).
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A PHC string to verify against when the user does not exist, so that an unknown name
/// takes as long to refuse as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
}

/// What went wrong outside the client's control.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Argon2 failed (it does not, short of memory).
    #[error("password hashing failed: {0}")]
    Hash(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_shown_once_and_stored_as_its_hash() {
        let now = Utc::now();
        let (token, rec) = new_token(7, TokenKind::Session, now);
        assert!(is_well_formed(&token), "{token}");
        assert_eq!(rec.hash, token_hash(&token));
        assert!(!rec.hash.contains(&token[3..]));
        assert!(rec.is_live(now));
        assert!(!rec.is_live(now + SESSION_TTL));
        let (other, _) = new_token(7, TokenKind::Session, now);
        assert_ne!(token, other);
        for bad in [
            "",
            "om_",
            "om_xyz",
            "Bearer om_00",
            &format!("om_{}", "g".repeat(64)),
        ] {
            assert!(!is_well_formed(bad), "{bad}");
        }
    }

    #[test]
    fn passwords_verify_only_against_their_own_hash() -> Result<(), AuthError> {
        let h = hash_password("correct horse")?;
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct horsf", &h));
        assert!(!verify_password("correct horse", "not a phc string"));
        assert!(!verify_password("correct horse", decoy_hash()));
        let p = new_password();
        assert_eq!(p.len(), 16);
        assert_ne!(p, new_password());
        Ok(())
    }
}
