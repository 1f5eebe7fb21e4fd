//! Signing in and out, and the users: `POST /api/session` (name and password, or a wall
//! token to put in the page's cookie), `GET /api/session` (who am I), `DELETE
//! /api/session` (revoke this token), and for admins `GET/POST /api/users` and
//! `POST /api/users/{name}/revoke`.

use crate::app::sessions::Known;
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::body::{parse_json, read_limited};
use super::error::ApiError;
use super::params::Params;
use super::{AppState, base_url};
use crate::auth::access::Access;
use crate::auth::admin::{AddUserError, Secret, add_user};
use crate::auth::throttle::Gate;
use crate::auth::{
    Role, TokenKind, User, decoy_hash, is_well_formed, new_token, token_hash, verify_password,
};
use crate::domain::{Level, RegionId};
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

/// The page's cookie holding the token (HttpOnly, SameSite=Strict).
pub const COOKIE: &str = "onemap_token";

/// The user a token names, if it is live at `now`.
pub async fn authenticate(
    app: &AppState,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Arc<Known>, ApiError> {
    if !is_well_formed(token) {
        return Err(ApiError::Unauthorized("not a onemap token".into()));
    }
    let hash = token_hash(token);
    match app
        .sessions
        .lookup(&app.store, &hash)
        .await
        .map_err(ApiError::from)?
    {
        Some(k) if k.token.is_live(now) => Ok(k),
        Some(k) if k.token.revoked_at.is_some() => Err(ApiError::Unauthorized(
            "the token was revoked; sign in again".into(),
        )),
        Some(_) => Err(ApiError::Unauthorized(
            "the token has expired; sign in again".into(),
        )),
        None => Err(ApiError::Unauthorized("unknown token; sign in".into())),
    }
}

/// The largest sign-in body.
const SIGN_IN_LIMIT: usize = 4096;

/// A region as the session names it (`null`s for a region the map no longer has).
#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceView {
    /// Its id.
    #[schema(value_type = String)]
    id: RegionId,
    /// Its level.
    level: Option<Level>,
    /// Its name.
    name: Option<String>,
}

impl PlaceView {
    fn of(map: &MapState, id: &RegionId) -> Self {
        let r = map.regions.find(id).map(|i| map.regions.get(i));
        PlaceView {
            id: id.clone(),
            level: r.map(|r| r.level),
            name: r.map(|r| r.name.clone()),
        }
    }
}

/// A user as answers show them.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Sign-in name.
    name: String,
    /// Role.
    role: Role,
    /// Where they work (empty: everywhere).
    scope: Vec<PlaceView>,
}

impl UserView {
    fn of(map: &MapState, u: &User) -> Self {
        UserView {
            name: u.name.clone(),
            role: u.role,
            scope: u.scope.iter().map(|id| PlaceView::of(map, id)).collect(),
        }
    }
}

/// The answer to signing in.
#[derive(Debug, Serialize, ToSchema)]
pub struct Signed {
    /// The Bearer token (shown once).
    token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// When it stops being accepted.
    expires_at: DateTime<Utc>,
    /// Whose it is.
    user: UserView,
}

/// Who a token is.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    /// The user.
    user: UserView,
    /// `session` or `wall`.
    kind: &'static str,
    /// When the token stops being accepted.
    expires_at: DateTime<Utc>,
    /// Where their views start.
    home: PlaceView,
}

/// A live token as the users' list shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// `session` or `wall`.
    kind: &'static str,
    /// Issued.
    created_at: DateTime<Utc>,
    /// Refused from.
    expires_at: DateTime<Utc>,
}

/// A user in the users' list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListedUser {
    /// Who.
    #[serde(flatten)]
    user: UserView,
    /// When created.
    created_at: DateTime<Utc>,
    /// Whether they have a password (a wall screen has none).
    password: bool,
    /// Whether this is a wall screen.
    wall: bool,
    /// Their live tokens.
    tokens: Vec<TokenView>,
}

/// Every user.
#[derive(Debug, Serialize, ToSchema)]
pub struct Users {
    /// In name order.
    users: Vec<ListedUser>,
}

/// A user created, with what they are shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    /// The user.
    user: UserView,
    /// Their first password.
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
    /// A wall screen's token.
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

/// Tokens revoked.
#[derive(Debug, Serialize, ToSchema)]
pub struct Revoked {
    /// The user.
    user: String,
    /// How many tokens.
    revoked: u64,
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
#[utoipa::path(post, path = "/api/session", tag = "session", security(()),
    request_body = SignIn,
    responses(
        (status = 201, description = "Signed in: `token` (Bearer, 12 h), `expires_at`, `user`; also set as the page's HttpOnly cookie", body = Signed),
        crate::http::openapi::BadRequest,
        crate::http::openapi::Unauthorized,
        crate::http::openapi::Locked,
    ))]
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
            let k = authenticate(&app, &token, now).await?;
            (token, k.token.expires_at, k.user.clone())
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
        Signed {
            token: token.clone(),
            token_type: "Bearer",
            expires_at,
            user: UserView::of(&map, &user),
        }
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
#[utoipa::path(get, path = "/api/session", tag = "session",
    responses(
        (status = 200, description = "Who the token is: `user` (name, role, scope), `kind`, `expires_at`, `home` (where their views start)", body = WhoAmI),
        crate::http::openapi::Unauthorized,
    ))]
pub async fn whoami(
    State(app): State<AppState>,
    who: Access,
    params: Params,
) -> Result<Json<WhoAmI>, ApiError> {
    params.only(&[])?;
    let (map, _) = app.read_now()?;
    let home = map.regions.get(who.home(&map));
    Ok(Json(WhoAmI {
        user: UserView::of(&map, &who.user),
        kind: who.kind.as_str(),
        expires_at: who.expires_at,
        home: PlaceView::of(&map, &home.id),
    }))
}

/// `DELETE /api/session`: revokes the token the request came with, clears the cookie.
#[utoipa::path(delete, path = "/api/session", tag = "session",
    responses(
        (status = 204, description = "The token is revoked and the cookie cleared"),
        crate::http::openapi::Unauthorized,
    ))]
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
#[utoipa::path(get, path = "/api/users", tag = "users", description = "Admins only.",
    responses(
        (status = 200, description = "Every user: role, scope, live tokens; a wall screen's user is `wall: true`", body = Users),
        crate::http::openapi::Forbidden,
    ),
    extensions(("x-onemap-action" = json!("manage_users"))))]
pub async fn list_users(
    State(app): State<AppState>,
    params: Params,
) -> Result<Json<Users>, ApiError> {
    params.only(&[])?;
    let now = Utc::now();
    let users = app.store.users(now).await?;
    let (map, _) = app.read_now()?;
    let users = users
        .iter()
        .map(|(u, tokens)| ListedUser {
            user: UserView::of(&map, u),
            created_at: u.created_at,
            password: u.password_hash.is_some(),
            wall: tokens.iter().any(|t| t.kind == TokenKind::Wall),
            tokens: tokens
                .iter()
                .map(|t| TokenView {
                    kind: t.kind.as_str(),
                    created_at: t.created_at,
                    expires_at: t.expires_at,
                })
                .collect(),
        })
        .collect();
    Ok(Json(Users { users }))
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
#[utoipa::path(post, path = "/api/users", tag = "users", description = "Admins only.",
    request_body = NewUser,
    responses(
        (status = 201, description = "Created: `user` and, shown once, `password` (or `token` for a wall screen)", body = Created),
        crate::http::openapi::BadRequest,
        crate::http::openapi::Forbidden,
        crate::http::openapi::Conflict,
    ),
    extensions(("x-onemap-action" = json!("manage_users"))))]
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
    let (password, token) = match secret {
        Secret::Password(p) => (Some(p), None),
        Secret::WallToken(t) => (None, Some(t)),
    };
    let body = Created {
        user: UserView::of(&map, &user),
        password,
        token,
    };
    let mut resp = (StatusCode::CREATED, Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// `POST /api/users/{name}/revoke`: revokes every token of the user (a lost phone, a
/// wall screen taken down); answers how many.
#[utoipa::path(post, path = "/api/users/{name}/revoke", tag = "users", description = "Admins only.",
    params(("name" = String, Path)),
    responses(
        (status = 200, description = "`revoked`: how many tokens", body = Revoked),
        crate::http::openapi::Forbidden,
        crate::http::openapi::NotFound,
    ),
    extensions(("x-onemap-action" = json!("manage_users"))))]
pub async fn revoke_user(
    State(app): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Revoked>, ApiError> {
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
    Ok(Json(Revoked {
        user: user.name,
        revoked: n,
    }))
}
