//! Creating users and wall tokens: one path for `onemap user add` and `POST /api/users`.

use chrono::{DateTime, Utc};

use super::{Role, TokenKind, User, hash_password, new_password, new_token};
use crate::domain::RegionId;
use crate::store::{AnyStore, StoreError};

/// What the new user's holder is shown once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// The first password (signing in gives session tokens).
    Password(String),
    /// A wall screen's long-lived read-only token.
    WallToken(String),
}

/// Why a user was not created.
#[derive(Debug, thiserror::Error)]
pub enum AddUserError {
    /// A field is wrong.
    #[error("{field}: {message}")]
    Invalid {
        /// Which.
        field: String,
        /// Why.
        message: String,
    },
    /// The store refused (a taken name is a `Conflict`).
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> AddUserError {
    AddUserError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// Checks a sign-in name: 1 to 64 letters (any script), digits, `.`, `_` or `-`.
pub fn check_name(name: &str) -> Result<(), AddUserError> {
    let ok = (1..=64).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(invalid("name", "1 to 64 letters, digits, `.`, `_` or `-`"))
    }
}

/// Creates a user of `role` working in `scope` (region ids that must exist). A wall
/// user (`wall`, role `command` only) gets a long-lived token and no password; anyone
/// else gets a random first password.
pub async fn add_user(
    store: &AnyStore,
    name: &str,
    role: Role,
    scope: &[RegionId],
    wall: bool,
    now: DateTime<Utc>,
) -> Result<(User, Secret), AddUserError> {
    check_name(name)?;
    if role.needs_scope() && scope.is_empty() {
        return Err(invalid(
            "scope",
            format!(
                "a {} works somewhere: give at least one region",
                role.as_str()
            ),
        ));
    }
    if wall && role != Role::Command {
        return Err(invalid(
            "role",
            "a wall screen's user is read-only: role `command`",
        ));
    }
    if scope.len() > 1000 {
        return Err(invalid("scope", "at most 1000 regions"));
    }
    let missing = store.missing_regions(scope).await?;
    if let Some(i) = scope.iter().position(|r| missing.contains(r)) {
        return Err(invalid(
            format!("scope[{i}]"),
            format!("no region `{}`", scope[i]),
        ));
    }
    if wall {
        let user = store.create_user(name, role, scope, None, now).await?;
        let (token, record) = new_token(user.id, TokenKind::Wall, now);
        store.put_token(&record).await?;
        Ok((user, Secret::WallToken(token)))
    } else {
        let password = new_password();
        let hash = hash_blocking(&password).await?;
        let user = store
            .create_user(name, role, scope, Some(&hash), now)
            .await?;
        Ok((user, Secret::Password(password)))
    }
}

/// Argon2 takes tens of milliseconds of CPU: off the async workers.
async fn hash_blocking(password: &str) -> Result<String, AddUserError> {
    let p = password.to_owned();
    tokio::task::spawn_blocking(move || hash_password(&p))
        .await
        .map_err(|e| invalid("password", e.to_string()))?
        .map_err(|e| invalid("password", e.to_string()))
}

/// Gives an existing user a new random password (returned) and revokes their sessions.
pub async fn reset_password(
    store: &AnyStore,
    name: &str,
    now: DateTime<Utc>,
) -> Result<String, AddUserError> {
    let user = store
        .user_by_name(name)
        .await?
        .ok_or_else(|| invalid("name", format!("no user `{name}`")))?;
    let password = new_password();
    let hash = hash_blocking(&password).await?;
    store.set_password(user.id, &hash).await?;
    store
        .revoke_user_tokens(user.id, Some(TokenKind::Session), now)
        .await?;
    Ok(password)
}
