//! Signing in and out, and the users: `POST /api/session` (name and password, or a wall
//! token to put in the page's cookie), `GET /api/session` (who am I), `DELETE
//! /api/session` (revoke this token), and for admins `GET/POST /api/users` and
//! `POST /api/users/{name}/revoke`.

use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::access::{COOKIE, authenticate};
use super::body::{parse_json, read_limited};
use super::error::ApiError;
use super::params::Params;
use super::{AppState, base_url};
use crate::auth::access::Access;
use crate::auth::admin::{AddUserError, Secret, add_user};
use crate::auth::throttle::Gate;
use crate::auth::{Role, TokenKind, User, decoy_hash, new_token, verify_password};
use crate::domain::RegionId;
use crate::state::MapState;

/// `POST /api/session`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// Sign-in name.
    name: Option<String>,
    /// Password.
    password: Option<String>,
    /// Instead of a name and password: a token (a wall screen's) to hold in the page's
    /// cookie.
    token: Option<String>,
}

/// The largest sign-in body.
const SIGN_IN_LIMIT: usize = 4096;

fn user_json(map: &MapState, u: &User) -> Value {
    let scope: Vec<Value> = u
        .scope
        .iter()
        .map(|id| match map.regions.find(id) {
            Some(i) => {
                let r = map.regions.get(i);
                json!({"id": id, "level": r.level, "name": r.name})
            }
            None => json!({"id": id, "level": null, "name": null}),
        })
        .collect();
    json!({"name": u.name, "role": u.role, "scope": scope})
}

fn cookie(headers: &HeaderMap, token: &str, expires_at: DateTime<Utc>) -> HeaderValue {
    let secure = if base_url(headers).starts_with("https:") {
        "; Secure"
    } else {
        ""
    };
    let age = (expires_at - Utc::now()).num_seconds().max(0);
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={age}{secure}"
    ))
    .unwrap_or(HeaderValue::from_static(""))
}

/// Signs in. With `name` and `password`: a new session token (12 h), in the answer and
/// in the page's cookie. With `token`: the token checked and put in the cookie.
/// Repeated failures for a name slow down, then lock it for a while (429).
pub async fn sign_in(
    State(app): State<AppState>,
    headers: HeaderMap,
    req: axum::extract::Request,
) -> Result<Response, ApiError> {
    let bytes = read_limited(req, SIGN_IN_LIMIT).await?;
    let b: SignIn = parse_json(&bytes)?;
    let now = Utc::now();
    let (token, expires_at, user) = match (b.name, b.password, b.token) {
        (None, None, Some(token)) => {
            let (t, user) = authenticate(&app, &token, now).await?;
            (token, t.expires_at, user)
        }
        (Some(name), Some(password), None) => {
            let user = check_password(&app, &name, &password).await?;
            let (token, record) = new_token(user.id, TokenKind::Session, now);
            app.store.put_token(&record).await?;
            tracing::info!(user = %user.name, "signed in");
            (token, record.expires_at, std::sync::Arc::new(user))
        }
        _ => {
            return Err(ApiError::bad(
                "body",
                "give `name` and `password`, or `token`",
            ));
        }
    };
    let body = {
        let (map, _) = app.read_now()?;
        json!({
            "token": token,
            "token_type": "Bearer",
            "expires_at": expires_at,
            "user": user_json(&map, &user),
        })
    };
    let mut resp = (StatusCode::CREATED, Json(body)).into_response();
    let h = resp.headers_mut();
    h.insert(header::SET_COOKIE, cookie(&headers, &token, expires_at));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// The user whose password this is, through the throttle.
async fn check_password(app: &AppState, name: &str, password: &str) -> Result<User, ApiError> {
    if name.chars().count() > 64 || password.len() > 1024 {
        return Err(ApiError::Unauthorized("wrong name or password".into()));
    }
    match app.sessions.throttle.gate(name, Instant::now()) {
        Gate::Locked(left) => return Err(ApiError::Locked(left.as_secs().max(1))),
        Gate::Proceed(wait) if !wait.is_zero() => tokio::time::sleep(wait).await,
        Gate::Proceed(_) => {}
    }
    let user = app.store.user_by_name(name).await?;
    // An unknown name costs the same hashing as a wrong password.
    let hash = user
        .as_ref()
        .and_then(|u| u.password_hash.clone())
        .unwrap_or_else(|| decoy_hash().to_owned());
    let password = password.to_owned();
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(format!("password check: {e}")))?;
    match user {
        Some(u) if matches && u.password_hash.is_some() => {
            app.sessions.throttle.succeeded(name);
            Ok(u)
        }
        _ => {
            tracing::warn!(name, "failed sign-in");
            if app.sessions.throttle.failed(name, Instant::now()) {
                tracing::warn!(name, "sign-in locked after repeated failures");
            }
            Err(ApiError::Unauthorized("wrong name or password".into()))
        }
    }
}

/// `GET /api/session`: who the token is, their scope, where their views start.
pub async fn whoami(
    State(app): State<AppState>,
    who: Access,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    params.only(&[])?;
    let (map, _) = app.read_now()?;
    let home = map.regions.get(who.home(&map));
    Ok(Json(json!({
        "user": user_json(&map, &who.user),
        "kind": who.kind.as_str(),
        "expires_at": who.expires_at,
        "home": {"id": home.id, "level": home.level, "name": home.name},
    })))
}

/// `DELETE /api/session`: revokes the token the request came with, clears the cookie.
pub async fn sign_out(State(app): State<AppState>, who: Access) -> Result<Response, ApiError> {
    app.store.revoke_token(&who.token_hash, Utc::now()).await?;
    app.sessions.forget(&who.token_hash);
    tracing::info!(user = %who.user.name, "signed out");
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("onemap_token=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(resp)
}

/// `GET /api/users` (admin): every user with their role, scope and live tokens; a wall
/// screen's user is marked `wall`.
pub async fn list_users(
    State(app): State<AppState>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    params.only(&[])?;
    let now = Utc::now();
    let users = app.store.users(now).await?;
    let (map, _) = app.read_now()?;
    let list: Vec<Value> = users
        .iter()
        .map(|(u, tokens)| {
            let mut v = user_json(&map, u);
            v["created_at"] = json!(u.created_at);
            v["password"] = json!(u.password_hash.is_some());
            v["wall"] = json!(tokens.iter().any(|t| t.kind == TokenKind::Wall));
            v["tokens"] = tokens
                .iter()
                .map(|t| json!({"kind": t.kind.as_str(), "created_at": t.created_at, "expires_at": t.expires_at}))
                .collect();
            v
        })
        .collect();
    Ok(Json(json!({ "users": list })))
}

/// `POST /api/users`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Sign-in name.
    name: String,
    /// Role.
    role: Role,
    /// Region ids the user works in (each covers its subtree); empty or absent: the town.
    #[schema(value_type = Option<Vec<String>>)]
    #[serde(default)]
    scope: Vec<RegionId>,
    /// A wall screen (role `command`): a long-lived token instead of a password.
    #[serde(default)]
    wall: bool,
}

/// Creates a user; answers their first password, or a wall screen's token, once.
pub async fn create_user(
    State(app): State<AppState>,
    req: axum::extract::Request,
) -> Result<Response, ApiError> {
    let bytes = read_limited(req, super::body::JSON_LIMIT).await?;
    let b: NewUser = parse_json(&bytes)?;
    let (user, secret) = add_user(&app.store, &b.name, b.role, &b.scope, b.wall, Utc::now())
        .await
        .map_err(|e| match e {
            AddUserError::Invalid { field, message } => ApiError::bad(field, message),
            AddUserError::Store(crate::store::StoreError::Conflict(m)) => ApiError::Conflict(m),
            AddUserError::Store(e) => e.into(),
        })?;
    let (map, _) = app.read_now()?;
    let mut body = json!({"user": user_json(&map, &user)});
    match secret {
        Secret::Password(p) => body["password"] = json!(p),
        Secret::WallToken(t) => body["token"] = json!(t),
    }
    let mut resp = (StatusCode::CREATED, Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// `POST /api/users/{name}/revoke`: revokes every token of the user (a lost phone, a
/// wall screen taken down); answers how many.
pub async fn revoke_user(
    State(app): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = app
        .store
        .user_by_name(&name)
        .await?
        .ok_or(ApiError::NotFound {
            what: "user",
            id: name,
        })?;
    let n = app
        .store
        .revoke_user_tokens(user.id, None, Utc::now())
        .await?;
    app.sessions.forget_user(user.id);
    Ok(Json(json!({"user": user.name, "revoked": n})))
}
