//! Who is asking, and may they: the one gate every request passes.
//!
//! [`guard`] runs before every handler. It finds the route's [`Action`] in one table
//! ([`action_of`]: a handful of routes are public — the page's files, `/healthz`, the
//! OpenAPI document, signing in — and every other route needs a signed-in user, reads
//! included, so a new route is closed until listed otherwise), reads the token (an
//! `Authorization: Bearer` header; for reads, also the page's `onemap_token` cookie),
//! refuses expired, revoked, malformed and unknown tokens with 401 and roles that may
//! not do the action with 403, and hands the handler an [`Access`]: the user and their
//! [`Scope`] resolved on the map.
//!
//! Handlers then see the map only through `Access`: regions and units out of scope read
//! as 404 ([`Access::region`], [`Access::sees`]), filters carry the scope into tiles,
//! figures and lists (`Params::unit_filter`), and writes out of scope are 403
//! (`AppState::write_as`).

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::error::ApiError;
use super::session::{COOKIE, authenticate};
use crate::app::AppState;
use crate::auth::access::Access;
use crate::auth::{Action, Scope};

/// What each documented operation needs, from the OpenAPI document: `None` for the
/// public ones (`security(())`: the health check, the document, the page's config,
/// signing in), else the action in its `x-onemap-action` (a read when it names none).
fn gates() -> &'static HashMap<String, HashMap<Method, Option<Action>>> {
    // By path, then method: a request's route is looked up without allocating.
    static GATES: LazyLock<HashMap<String, HashMap<Method, Option<Action>>>> =
        LazyLock::new(|| {
            let doc = serde_json::to_value(super::routes::doc()).unwrap_or_default();
            let mut gates: HashMap<String, HashMap<Method, Option<Action>>> = HashMap::new();
            for (path, item) in doc["paths"].as_object().into_iter().flatten() {
                for (method, op) in item.as_object().into_iter().flatten() {
                    let Ok(method) = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                    else {
                        continue;
                    };
                    let gate = if op["security"] == serde_json::json!([{}]) {
                        None
                    } else {
                        let named = op["extensions"]["x-onemap-action"]
                            .as_str()
                            .or(op["x-onemap-action"].as_str());
                        Some(named.and_then(|a| a.parse().ok()).unwrap_or(Action::Read))
                    };
                    gates.entry(path.clone()).or_default().insert(method, gate);
                }
            }
            gates
        });
    &GATES
}

/// The action a route needs; `None` for the public routes: the page's files
/// ([`super::web::PUBLIC`]) and the operations the document marks public. A route the
/// document does not name needs a signed-in user, so a new route is closed until it
/// says otherwise (a method the route does not take: a signed-in user learns it is a
/// 405).
pub fn action_of(method: &Method, path: &str) -> Option<Action> {
    if super::web::PUBLIC.contains(&path) {
        return None;
    }
    gates()
        .get(path)
        .and_then(|by_method| by_method.get(method))
        .copied()
        .unwrap_or(Some(Action::Read))
}

impl<S: Send + Sync> FromRequestParts<S> for Access {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Access>()
            .cloned()
            .ok_or_else(|| ApiError::Unauthorized("sign in first".into()))
    }
}

/// The token a request carries: the `Authorization: Bearer` header, or for reads and
/// signing out, the page's cookie. `Ok(None)` when there is none.
fn token_of<'h>(
    headers: &'h HeaderMap,
    method: &Method,
    path: &str,
) -> Result<Option<&'h str>, ApiError> {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let v = v.to_str().unwrap_or("");
        let token = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or_else(|| ApiError::Unauthorized("Authorization: Bearer TOKEN".into()))?;
        return Ok(Some(token));
    }
    let cookie_ok = method == Method::GET || method == Method::HEAD || path == "/api/session";
    if !cookie_ok {
        return Ok(None);
    }
    Ok(headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v))
}

/// The gate (see the module's description).
pub async fn guard(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(path) = req.extensions().get::<MatchedPath>().cloned() else {
        return next.run(req).await;
    };
    let path = path.as_str();
    let method = req.method().clone();
    let Some(action) = action_of(&method, path) else {
        return next.run(req).await;
    };
    match admit(&app, req.headers(), &method, path, action).await {
        Ok(access) => {
            req.extensions_mut().insert(access);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

async fn admit(
    app: &AppState,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
    action: Action,
) -> Result<Access, ApiError> {
    let token = token_of(headers, method, path)?
        .ok_or_else(|| ApiError::Unauthorized("sign in first".into()))?;
    let known = authenticate(app, token, Utc::now()).await?;
    let user = known.user.clone();
    if !user.role.may(action) {
        return Err(ApiError::Forbidden(user.role.refusal(action)));
    }
    // A user of the whole town (most requests: the wall, the command post) needs no map.
    let scope = if user.scope.is_empty() {
        Scope::All
    } else {
        let map = app
            .map
            .read()
            .map_err(|_| ApiError::Internal("map state lock poisoned".into()))?;
        Scope::resolve(&map, &user.scope)
    };
    Ok(Access {
        user,
        scope,
        token_hash: known.hash.clone(),
        kind: known.token.kind,
        expires_at: known.token.expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_listed_routes_are_public() {
        for (m, p) in [
            (Method::GET, "/"),
            (Method::GET, "/wall"),
            (Method::GET, "/static/{*path}"),
            (Method::GET, "/healthz"),
            (Method::GET, "/api/openapi.json"),
            (Method::POST, "/api/session"),
            (Method::GET, "/fix/{token}"),
            (Method::GET, "/api/fix/{token}"),
            (Method::POST, "/api/fix/{token}"),
        ] {
            assert_eq!(action_of(&m, p), None, "{m} {p}");
        }
        assert_eq!(action_of(&Method::GET, "/api/stats"), Some(Action::Read));
        assert_eq!(action_of(&Method::GET, "/metrics"), Some(Action::Read));
        assert_eq!(
            action_of(&Method::GET, "/api/something-new"),
            Some(Action::Read)
        );
        assert_eq!(
            action_of(&Method::DELETE, "/api/session"),
            Some(Action::Read)
        );
        assert_eq!(
            action_of(&Method::GET, "/api/users"),
            Some(Action::ManageUsers)
        );
        assert_eq!(
            action_of(&Method::POST, "/api/hazards/{id}/close"),
            Some(Action::Rectify)
        );
        assert_eq!(
            action_of(&Method::POST, "/api/fix-reports/{id}/reject"),
            Some(Action::Rectify)
        );
        assert_eq!(action_of(&Method::POST, "/api/stats"), Some(Action::Read));
    }

    #[test]
    fn the_cookie_serves_reads_only() -> Result<(), Box<dyn std::error::Error>> {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=b; onemap_token=om_x".parse()?);
        let got = token_of(&h, &Method::GET, "/api/stats").map_err(|e| format!("{e:?}"))?;
        assert_eq!(got, Some("om_x"));
        let got = token_of(&h, &Method::POST, "/api/units").map_err(|e| format!("{e:?}"))?;
        assert_eq!(got, None);
        h.insert(header::AUTHORIZATION, "Basic abc".parse()?);
        assert!(token_of(&h, &Method::GET, "/api/stats").is_err());
        h.insert(header::AUTHORIZATION, "Bearer om_y".parse()?);
        let got = token_of(&h, &Method::POST, "/api/units").map_err(|e| format!("{e:?}"))?;
        assert_eq!(got, Some("om_y"));
        Ok(())
    }
}
