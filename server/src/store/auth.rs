//! Users and tokens in the store (`users`, `tokens`; migration 0003 of each backend).
//! The tables and queries are the same on both backends — ids and times are integers
//! (milliseconds since the epoch), scopes a space-separated list of region ids — so each
//! query is written once and run on whichever pool the store has (`on_pool!`).

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{AnyStore, Result, StoreError};
use crate::domain::RegionId;
use crate::domain::{Role, TokenKind, TokenRecord, User};

const USER_COLUMNS: &str = "id, name, role, scope, password_hash, created_at";
const TOKEN_COLUMNS: &str = "hash, user_id, kind, created_at, expires_at, revoked_at";

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn time(column: &'static str, ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::Corrupt {
        column,
        message: format!("{ms} is not a moment"),
    })
}

fn scope_text(scope: &[RegionId]) -> String {
    scope
        .iter()
        .map(RegionId::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

fn user_of<R: Row>(row: &R) -> Result<User>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let role: String = row.try_get("role")?;
    let scope: String = row.try_get("scope")?;
    Ok(User {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: role
            .parse()
            .map_err(|e: crate::domain::ParseEnumError| StoreError::Corrupt {
                column: "users.role",
                message: e.to_string(),
            })?,
        scope: scope
            .split_whitespace()
            .map(|s| {
                s.parse()
                    .map_err(|e: crate::domain::IdError| StoreError::Corrupt {
                        column: "users.scope",
                        message: e.to_string(),
                    })
            })
            .collect::<Result<_>>()?,
        password_hash: row.try_get("password_hash")?,
        created_at: time("users.created_at", row.try_get("created_at")?)?,
    })
}

fn token_of<R: Row>(row: &R) -> Result<TokenRecord>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let kind: String = row.try_get("kind")?;
    let revoked: Option<i64> = row.try_get("revoked_at")?;
    Ok(TokenRecord {
        hash: row.try_get("hash")?,
        user_id: row.try_get("user_id")?,
        kind: TokenKind::parse(&kind).ok_or_else(|| StoreError::Corrupt {
            column: "tokens.kind",
            message: kind.clone(),
        })?,
        created_at: time("tokens.created_at", row.try_get("created_at")?)?,
        expires_at: time("tokens.expires_at", row.try_get("expires_at")?)?,
        revoked_at: revoked.map(|t| time("tokens.revoked_at", t)).transpose()?,
    })
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

impl AnyStore {
    /// Creates a user; a conflict if the name is taken.
    pub async fn create_user(
        &self,
        name: &str,
        role: Role,
        scope: &[RegionId],
        password_hash: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<User> {
        let sql = format!(
            "INSERT INTO users (name, role, scope, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {USER_COLUMNS}"
        );
        let scope = scope_text(scope);
        on_pool!(self, |pool| sqlx::query(&sql)
            .bind(name)
            .bind(role.as_str())
            .bind(&scope)
            .bind(password_hash)
            .bind(ms(now))
            .fetch_one(pool)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(format!("a user named `{name}` exists"))
                } else {
                    StoreError::from(e)
                }
            })
            .and_then(|row| user_of(&row)))
    }

    /// The user named `name`.
    pub async fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE name = $1");
        on_pool!(self, |pool| sqlx::query(&sql)
            .bind(name)
            .fetch_optional(pool)
            .await?
            .map(|row| user_of(&row))
            .transpose())
    }

    /// Every user, by name, with their tokens that are live at `now`.
    pub async fn users(&self, now: DateTime<Utc>) -> Result<Vec<(User, Vec<TokenRecord>)>> {
        let users_sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY name");
        let tokens_sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE revoked_at IS NULL AND expires_at > $1 \
             ORDER BY created_at"
        );
        let (users, tokens) = on_pool!(self, |pool| {
            let users = sqlx::query(&users_sql)
                .fetch_all(pool)
                .await?
                .iter()
                .map(user_of)
                .collect::<Result<Vec<_>>>()?;
            let tokens = sqlx::query(&tokens_sql)
                .bind(ms(now))
                .fetch_all(pool)
                .await?
                .iter()
                .map(token_of)
                .collect::<Result<Vec<_>>>()?;
            (users, tokens)
        });
        Ok(users
            .into_iter()
            .map(|u| {
                let mine = tokens
                    .iter()
                    .filter(|t| t.user_id == u.id)
                    .cloned()
                    .collect();
                (u, mine)
            })
            .collect())
    }

    /// Stores a new token (its hash).
    pub async fn put_token(&self, t: &TokenRecord) -> Result<()> {
        let sql = format!("INSERT INTO tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)");
        on_pool!(self, |pool| sqlx::query(&sql)
            .bind(&t.hash)
            .bind(t.user_id)
            .bind(t.kind.as_str())
            .bind(ms(t.created_at))
            .bind(ms(t.expires_at))
            .bind(t.revoked_at.map(ms))
            .execute(pool)
            .await
            .map(|_| ())?);
        Ok(())
    }

    /// The token with this hash and its user.
    pub async fn token(&self, hash: &str) -> Result<Option<(TokenRecord, User)>> {
        let token_sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = $1");
        let user_sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        on_pool!(self, |pool| {
            let Some(row) = sqlx::query(&token_sql)
                .bind(hash)
                .fetch_optional(pool)
                .await?
            else {
                return Ok(None);
            };
            let token = token_of(&row)?;
            let user = sqlx::query(&user_sql)
                .bind(token.user_id)
                .fetch_one(pool)
                .await?;
            Ok(Some((token, user_of(&user)?)))
        })
    }

    /// Revokes one token; whether it was live.
    pub async fn revoke_token(&self, hash: &str, now: DateTime<Utc>) -> Result<bool> {
        let sql = "UPDATE tokens SET revoked_at = $1 WHERE hash = $2 AND revoked_at IS NULL";
        let n = on_pool!(self, |pool| sqlx::query(sql)
            .bind(ms(now))
            .bind(hash)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(n > 0)
    }

    /// Revokes every live token of a user (of `kind` only, if given); how many.
    pub async fn revoke_user_tokens(
        &self,
        user_id: i64,
        kind: Option<TokenKind>,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let sql = "UPDATE tokens SET revoked_at = $1 \
                   WHERE user_id = $2 AND revoked_at IS NULL AND ($3 = '' OR kind = $3)";
        let kind = kind.map(TokenKind::as_str).unwrap_or("");
        let n = on_pool!(self, |pool| sqlx::query(sql)
            .bind(ms(now))
            .bind(user_id)
            .bind(kind)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(n)
    }

    /// demo's users work there).
    pub async fn first_unit_places(&self) -> Result<Option<(RegionId, RegionId)>> {
        let first: Option<String> = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT micro_grid_id FROM units ORDER BY id LIMIT 1"
        )
        .fetch_optional(pool)
        .await?);
        let Some(micro_grid) = first else {
            return Ok(None);
        };
        let mut at = micro_grid.clone();
        loop {
            let row: Option<(String, Option<String>)> = on_pool!(self, |pool| sqlx::query_as(
                "SELECT level, parent_id FROM regions WHERE id = $1"
            )
            .bind(&at)
            .fetch_optional(pool)
            .await?);
            match row {
                Some((level, _)) if level == "village" => break,
                Some((_, Some(parent))) => at = parent,
                _ => return Ok(None),
            }
        }
        let parse = |s: &str| {
            s.parse::<RegionId>().map_err(|e| StoreError::Corrupt {
                column: "regions.id",
                message: e.to_string(),
            })
        };
        Ok(Some((parse(&micro_grid)?, parse(&at)?)))
    }

    /// Those of `ids` that name no region.
    pub async fn missing_regions(&self, ids: &[RegionId]) -> Result<Vec<RegionId>> {
        let mut missing = Vec::new();
        for id in ids {
            let found = on_pool!(self, |pool| sqlx::query(
                "SELECT 1 FROM regions WHERE id = $1"
            )
            .bind(id.as_str())
            .fetch_optional(pool)
            .await?
            .is_some());
            if !found {
                missing.push(id.clone());
            }
        }
        Ok(missing)
    }

    /// Sets a user's password hash.
    pub async fn set_password(&self, user_id: i64, password_hash: &str) -> Result<()> {
        let sql = "UPDATE users SET password_hash = $1 WHERE id = $2";
        let n = on_pool!(self, |pool| sqlx::query(sql)
            .bind(password_hash)
            .bind(user_id)
            .execute(pool)
            .await?
            .rows_affected());
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "user",
                id: user_id.to_string(),
            });
        }
        Ok(())
    }
}
