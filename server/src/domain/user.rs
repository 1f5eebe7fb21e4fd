//! Users, their roles and what each role may do: plain data, read from the store and
//! checked by the access gate (`auth`) and the write path.

use chrono::{DateTime, Duration, Utc};

use super::{RegionId, vocabulary};

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
        /// Register or edit a unit; import a register or the apps' records.
        ManageUnits = "manage_units",
        /// Import the town's places (villages, grids, micro-grids and their boundaries).
        ManagePlaces = "manage_places",
        /// Set weekly targets.
        SetTargets = "set_targets",
        /// Comment on the daily briefing and send it to the groups.
        Brief = "brief",
        /// Create users and tokens, list and revoke them.
        ManageUsers = "manage_users",
        /// Send a fix report: only through an owner's link, never by a role.
        ReportFix = "report_fix",
    }
}

impl Role {
    /// Whether this role may do `action` (within its scope).
    pub fn may(self, action: Action) -> bool {
        use Action as A;
        match self {
            Role::Command => matches!(action, A::Read),
            Role::Leader => matches!(action, A::Read | A::SetTargets | A::Brief),
            Role::Inspector => matches!(
                action,
                A::Read | A::Inspect | A::Attach | A::Rectify | A::Suspend
            ),
            Role::GridWorker => matches!(action, A::Read | A::Inspect | A::Attach),
            Role::Admin => matches!(
                action,
                A::Read | A::ManageUnits | A::ManagePlaces | A::ManageUsers
            ),
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
            A::ManagePlaces,
            A::SetTargets,
            A::Brief,
            A::ManageUsers,
        ];
        let allowed = |r: Role| all.iter().filter(|&&a| r.may(a)).count();
        assert_eq!(allowed(Role::Command), 1);
        assert_eq!(allowed(Role::Leader), 3);
        assert!(Role::Leader.may(A::Brief) && !Role::Inspector.may(A::Brief));
        assert!(Role::Leader.may(A::SetTargets));
        assert!(!Role::Inspector.may(A::SetTargets));
        assert!(Role::Inspector.may(A::Rectify));
        assert!(!Role::GridWorker.may(A::Rectify));
        assert!(Role::GridWorker.may(A::Inspect));
        assert!(Role::Admin.may(A::ManageUsers) && !Role::Admin.may(A::Inspect));
        assert!(Role::Admin.may(A::ManagePlaces) && !Role::Leader.may(A::ManagePlaces));
        assert!(all.iter().all(|&a| Role::Command.may(a) == (a == A::Read)));
        assert_eq!(
            Role::GridWorker.refusal(A::ManageUnits),
            "a grid worker may not manage units"
        );
    }
}
