//! Who may see and change what: users, their roles and area scope, passwords and tokens.
//!
//! - Passwords are hashed with Argon2id (the `argon2` crate, RustCrypto; PHC strings).
//! - A token is 32 random bytes shown once to its holder (`om_` + 64 hex digits); the
//!   store keeps only its SHA-256, so a stolen database yields no usable token.
//! - A user's scope is a set of regions, each covering its subtree; an empty scope is the
//!   whole town (for `command`, `leader` and `admin` only).
//! - What each role may do is [`Role::may`]; where is [`Scope`]. The HTTP layer applies
//!   both in one place (`http::access`).

pub mod admin;
pub mod throttle;

use std::fmt;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::{RegionId, vocabulary};
pub use crate::state::scope::Scope;

vocabulary! {
    /// What a user is for.
    Role, "role" {
        /// The command post: reads everything.
        Command = "command",
        /// Town leadership: reads everything, sets weekly targets.
        Leader = "leader",
        /// Field inspector: inspections, hazards, yellow cards, closures and suspensions
        /// within the assigned groups or villages.
        Inspector = "inspector",
        /// Grid worker: inspections, re-inspections and attachments within the assigned
        /// micro-grids or grids.
        GridWorker = "grid_worker",
        /// Users, units and imports.
        Admin = "admin",
    }
}

vocabulary! {
    /// What a request does, as far as roles go.
    Action, "action" {
        /// Any read.
        Read = "read",
        /// Record an inspection or a re-inspection.
        Inspect = "inspect",
        /// Add a photo, video or floor plan to a unit's file.
        Attach = "attach",
        /// Issue a yellow card or close a hazard.
        Rectify = "rectify",
        /// Suspend a unit or let it resume.
        Suspend = "suspend",
        /// Register or edit a unit.
        ManageUnits = "manage_units",
        /// Set weekly targets.
        SetTargets = "set_targets",
        /// Create users and tokens, list and revoke them.
        ManageUsers = "manage_users",
    }
}

impl Role {
    /// Whether this role may do `action` (within its scope).
    pub fn may(self, action: Action) -> bool {
        use Action as A;
        match self {
            Role::Command => matches!(action, A::Read),
            Role::Leader => matches!(action, A::Read | A::SetTargets),
            Role::Inspector => matches!(
                action,
                A::Read | A::Inspect | A::Attach | A::Rectify | A::Suspend
            ),
            Role::GridWorker => matches!(action, A::Read | A::Inspect | A::Attach),
            Role::Admin => matches!(action, A::Read | A::ManageUnits | A::ManageUsers),
        }
    }

    /// Why this role is refused `action`, in the client's terms.
    pub fn refusal(self, action: Action) -> String {
        let who = match self {
            Role::GridWorker => "grid worker",
            r => r.as_str(),
        };
        format!("a {who} may not {}", action.as_str().replace('_', " "))
    }

    /// Whether a user of this role must have a scope (field roles work somewhere).
    pub fn needs_scope(self) -> bool {
        matches!(self, Role::Inspector | Role::GridWorker)
    }
}

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Store id.
    pub id: i64,
    /// Sign-in name, unique.
    pub name: String,
    /// What they are for.
    pub role: Role,
    /// Regions they work in (each covers its subtree); empty: everywhere.
    pub scope: Vec<RegionId>,
    /// Argon2 PHC string; `None` for a wall screen's user (token only).
    pub password_hash: Option<String>,
    /// When created.
    pub created_at: DateTime<Utc>,
}

/// What kind of token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// From signing in; expires after [`SESSION_TTL`].
    Session,
    /// A wall screen's long-lived read-only token; lives [`WALL_TTL`] unless revoked.
    Wall,
}

impl TokenKind {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Session => "session",
            TokenKind::Wall => "wall",
        }
    }

    /// From the store.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "session" => Some(TokenKind::Session),
            "wall" => Some(TokenKind::Wall),
            _ => None,
        }
    }

    /// How long a new token of this kind lives.
    pub fn ttl(self) -> Duration {
        match self {
            TokenKind::Session => SESSION_TTL,
            TokenKind::Wall => WALL_TTL,
        }
    }
}

/// A signed-in session lives 12 hours (a shift and then some).
pub const SESSION_TTL: Duration = Duration::hours(12);
/// A wall token lives a year unless revoked.
pub const WALL_TTL: Duration = Duration::days(365);

/// A token as stored: its hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// SHA-256 of the token, hex.
    pub hash: String,
    /// Whose.
    pub user_id: i64,
    /// Session or wall.
    pub kind: TokenKind,
    /// Issued.
    pub created_at: DateTime<Utc>,
    /// Refused from this moment.
    pub expires_at: DateTime<Utc>,
    /// Refused from this moment, if revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TokenRecord {
    /// Whether the token is accepted at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

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

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
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
    fn roles_may_do_what_the_issue_says_and_nothing_more() {
        use Action as A;
        let all = [
            A::Read,
            A::Inspect,
            A::Attach,
            A::Rectify,
            A::Suspend,
            A::ManageUnits,
            A::SetTargets,
            A::ManageUsers,
        ];
        let allowed = |r: Role| all.iter().filter(|&&a| r.may(a)).count();
        assert_eq!(allowed(Role::Command), 1);
        assert_eq!(allowed(Role::Leader), 2);
        assert!(Role::Leader.may(A::SetTargets));
        assert!(!Role::Inspector.may(A::SetTargets));
        assert!(Role::Inspector.may(A::Rectify));
        assert!(!Role::GridWorker.may(A::Rectify));
        assert!(Role::GridWorker.may(A::Inspect));
        assert!(Role::Admin.may(A::ManageUsers) && !Role::Admin.may(A::Inspect));
        assert!(all.iter().all(|&a| Role::Command.may(a) == (a == A::Read)));
        assert_eq!(
            Role::GridWorker.refusal(A::ManageUnits),
            "a grid worker may not manage units"
        );
    }

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
