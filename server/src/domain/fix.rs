//! Owners' fix reports (整改反馈): an inspector makes a link for one unit — a token that
//! can do only this, for [`FixToken::LIFETIME`], revocable — which the owner's notice
//! carries; through it the owner sends photos of the fix and a note; the inspector then
//! closes a hazard citing the report, or rejects it with a reason.

use chrono::{DateTime, Duration, Utc};

use super::hash::hex;
use super::ids::{FixLinkId, FixReportId};
use super::text::Text;
use super::{Attachment, UnitId};

/// A fix link's secret: `fx_` and 64 hex digits, shown once (in the answer to the
/// write that made it and in the owner's notice); the store keeps only its SHA-256.
#[derive(Clone, PartialEq, Eq)]
pub struct FixToken(String);

impl FixToken {
    /// How long a link lasts.
    pub const LIFETIME: Duration = Duration::days(14);

    /// A new random token.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        FixToken(format!("fx_{}", hex(&bytes)))
    }

    /// `s` if it is shaped like a token (anything else is refused before a lookup).
    pub fn parse(s: &str) -> Option<Self> {
        s.strip_prefix("fx_")
            .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| FixToken(s.to_ascii_lowercase()))
    }

    /// What the store keys links by.
    pub fn hash(&self) -> String {
        hex(&<sha2::Sha256 as sha2::Digest>::digest(self.0.as_bytes()))
    }

    /// The token as the owner's link carries it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for FixToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FixToken(…)")
    }
}

/// A link to make for a unit's owner.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFixLink {
    /// The unit.
    pub unit: UnitId,
    /// Its secret.
    pub token: FixToken,
    /// Where the owner opens it: the page's origin, `https://host[:port]`.
    pub origin: String,
    /// When it was made.
    pub at: DateTime<Utc>,
    /// Who made it.
    pub by: String,
}

impl NewFixLink {
    /// When it stops working.
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.at + FixToken::LIFETIME
    }

    /// The owner's page.
    pub fn url(&self) -> String {
        format!("{}/fix/{}", self.origin, self.token.as_str())
    }
}

/// What an owner sends through a link: photos of the fix and a note.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFixReport {
    /// The link it came through (valid when the store commits it).
    pub link: FixLinkId,
    /// Its unit.
    pub unit: UnitId,
    /// The owner's words.
    pub note: Text<2000>,
    /// The photos, added to the unit's file.
    pub photos: Vec<Attachment>,
    /// When.
    pub at: DateTime<Utc>,
}

impl NewFixReport {
    /// At most this many photos in a report.
    pub const MAX_PHOTOS: usize = 6;
}

/// A report the inspector refuses, with the reason the owner is told.
#[derive(Debug, Clone, PartialEq)]
pub struct FixRejection {
    /// The report.
    pub report: FixReportId,
    /// Its unit.
    pub unit: UnitId,
    /// Why.
    pub reason: Text<500, 1>,
    /// When.
    pub at: DateTime<Utc>,
    /// Who refused it.
    pub by: String,
}

super::vocabulary! {
    /// Where an owner's report stands.
    FixStatus, "fix report status" {
        /// Sent, waiting for the inspector.
        Waiting = "waiting",
        /// A hazard was closed on its evidence.
        Accepted = "accepted",
        /// Refused, with a reason.
        Rejected = "rejected",
    }
}

/// A link as stored (its secret is not).
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct FixLink {
    /// Its id.
    #[schema(value_type = i64)]
    pub id: FixLinkId,
    /// The unit.
    #[schema(value_type = i64)]
    pub unit: UnitId,
    /// Who made it.
    pub made_by: String,
    /// When.
    pub made_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl FixLink {
    /// Who the log records for what comes through it: the owner, by the link.
    pub fn actor(&self) -> String {
        format!("owner/fix-link-{}", self.id)
    }

    /// Whether it still works at `now`.
    pub fn works(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// A report as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct FixReport {
    /// Its id.
    #[schema(value_type = i64)]
    pub id: FixReportId,
    /// The unit.
    #[schema(value_type = i64)]
    pub unit: UnitId,
    /// The link it came through.
    #[schema(value_type = i64)]
    pub link: FixLinkId,
    /// When it was sent.
    pub at: DateTime<Utc>,
    /// The owner's words.
    pub note: String,
    /// Its photos' SHA-256s (served by `/api/attachments/{hash}`).
    pub photos: Vec<String>,
    /// Where it stands.
    pub status: FixStatus,
    /// Who handled it.
    pub handled_by: Option<String>,
    /// When.
    pub handled_at: Option<DateTime<Utc>>,
    /// Why it was rejected.
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_shaped_and_hashed() {
        let a = FixToken::generate();
        let b = FixToken::generate();
        assert_ne!(a, b);
        assert_eq!(FixToken::parse(a.as_str()), Some(a.clone()));
        assert_eq!(a.hash().len(), 64);
        assert_ne!(a.hash(), b.hash());
        for bad in ["", "fx_", "om_00", &format!("fx_{}", "g".repeat(64))] {
            assert_eq!(FixToken::parse(bad), None, "{bad}");
        }
        assert!(!format!("{a:?}").contains(&a.as_str()[3..]));
    }
}
