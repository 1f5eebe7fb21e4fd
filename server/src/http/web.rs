//! The web page — the leadership view `/`, the wall `/wall`, the grid worker's view
//! `/grid/{micro_grid_id}`, the worker's day `/day`, the daily briefing `/briefing`, the owner's fix report
//! `/fix/{token}` —
//! and the read endpoints made for it. Everything the page
//! loads comes from this server: our own HTML/JS/CSS (`web/static`, embedded with
//! `include_dir`) and MapLibre GL JS from npm (`web/node_modules`, pinned in
//! `web/package-lock.json`, installed by `server/build.rs`), so a command post on a
//! closed network needs nothing else. The one exception is opt-in: a raster basemap
//! named by `--basemap-url` (`ONEMAP_BASEMAP_URL`), whose origin alone is then let through the page's
//! Content-Security-Policy.

pub(crate) mod progress;
pub(crate) mod regions;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use include_dir::{Dir, include_dir};

use super::error::ApiError;
use super::params::Params;
use crate::app::AppState;

/// Our own files.
static STATIC: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../web/static");

/// MapLibre GL JS, as npm installed it.
static MAPLIBRE_JS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../web/node_modules/maplibre-gl/dist/maplibre-gl.js"
));
static MAPLIBRE_CSS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../web/node_modules/maplibre-gl/dist/maplibre-gl.css"
));
/// signature_pad (the party's signature drawn on the phone), as npm installed it.
static SIGNATURE_PAD_JS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../web/node_modules/signature_pad/dist/signature_pad.js"
));
/// idb-keyval (the phone's queue of writes in IndexedDB), as npm installed it.
static IDB_KEYVAL_JS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../web/node_modules/idb-keyval/dist/index.js"
));

/// Routes of the page and its helpers, merged into the application's router. Their
/// files go out compressed (gzip or Brotli, as the browser asks: MapLibre is 1 MB, a
/// quarter of that compressed, which is what a phone on 3G waits for).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(page_html))
        .route("/favicon.ico", get(favicon))
        .route("/wall", get(page_html))
        .route("/grid/{id}", get(page_html))
        .route("/day", get(page_html))
        .route("/briefing", get(page_html))
        .route("/fix/{token}", get(page_html))
        .route("/sw.js", get(service_worker))
        .route("/static/{*path}", get(asset))
        .layer(tower_http::compression::CompressionLayer::new())
}

/// The page's own routes, open to everyone (it signs in once loaded).
pub const PUBLIC: &[&str] = &[
    "/",
    "/favicon.ico",
    "/wall",
    "/grid/{id}",
    "/day",
    "/briefing",
    "/fix/{token}",
    "/sw.js",
    "/static/{*path}",
];

/// Checks one raster basemap template (`--basemap-url`): an `http(s)` URL with `{z}`,
/// `{x}` and `{y}`.
pub fn basemap_template(url: &str) -> Result<String, String> {
    if origin(url).is_none() {
        return Err("not an http:// or https:// URL".into());
    }
    match ["{z}", "{x}", "{y}"].iter().find(|p| !url.contains(**p)) {
        Some(p) => Err(format!("the template has no {p}")),
        None => Ok(url.to_owned()),
    }
}

/// `scheme://host[:port]` of an http(s) URL, for the Content-Security-Policy.
fn origin(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let host_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..host_len];
    let ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    ok.then(|| &url[..url.len() - rest.len() + host_len])
}

/// The page's security policy: scripts, styles, images and connections from this server
/// only (MapLibre needs `blob:` workers and `data:`/`blob:` images), plus the basemap's
/// origins for images and fetches when one is configured.
fn csp(basemap: &[String]) -> String {
    let mut extra = String::new();
    for o in basemap.iter().filter_map(|u| origin(u)) {
        if !extra.contains(o) {
            extra.push(' ');
            extra.push_str(o);
        }
    }
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; \
         img-src 'self' data: blob:{extra}; worker-src 'self' blob:; child-src blob:; \
         connect-src 'self'{extra}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
}

fn typed(mime: &'static str, body: Vec<u8>, cache: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (header::ETAG, build_tag()),
        ],
        body,
    )
        .into_response()
}

/// One tag for every file the binary embeds (the page's and MapLibre's), made once from
/// their contents: a revalidation costs a `304` until the server is replaced.
fn build_tag() -> HeaderValue {
    static TAG: std::sync::LazyLock<HeaderValue> = std::sync::LazyLock::new(|| {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        for part in [MAPLIBRE_JS, MAPLIBRE_CSS, SIGNATURE_PAD_JS, IDB_KEYVAL_JS] {
            h.update(part);
        }
        for f in STATIC.files() {
            h.update(f.path().to_string_lossy().as_bytes());
            h.update(f.contents());
        }
        let hex = crate::domain::hash::hex(&h.finalize());
        HeaderValue::from_str(&format!("\"{}\"", &hex[..20]))
            .unwrap_or(HeaderValue::from_static("\"onemap\""))
    });
    TAG.clone()
}

/// `304` when the browser holds this build's files already.
fn unchanged(headers: &HeaderMap) -> Option<Response> {
    let tag = build_tag();
    let tag = tag.to_str().ok()?;
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.split(',').any(|t| t.trim() == tag))
        .map(|_| (StatusCode::NOT_MODIFIED, [(header::ETAG, build_tag())]).into_response())
}

/// The one page for all three views: the script reads the path and shows the view.
async fn page_html(State(state): State<AppState>) -> Response {
    let Some(f) = STATIC.get_file("index.html") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut resp = typed(
        "text/html; charset=utf-8",
        f.contents().to_vec(),
        "no-cache",
    );
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&csp(&state.basemap)) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

/// The raster basemap's tile templates.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Basemap {
    /// XYZ templates, `{z}`, `{x}`, `{y}`.
    tiles: Vec<String>,
}

/// What the page needs to know of the server's settings.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PageConfig {
    /// The basemap set by `--basemap-url` (`null`: none).
    basemap: Option<Basemap>,
    /// The store's root region's name (the town's, or the province's): the page's titles.
    town: String,
    /// The root region's level (`town` or `province`): which levels the map draws and
    /// names.
    #[schema(value_type = String, example = "town")]
    level: crate::domain::Level,
    /// The town's time zone (`+08:00`), which the page's clocks and dates are in.
    #[schema(value_type = String, example = "+08:00")]
    time_zone: crate::domain::time::Zone,
}

/// `GET /api/config`: what the page needs to know of the server's settings.
#[utoipa::path(get, path = "/api/config", tag = "page", security(()),
    responses((status = 200, description = "`{\"basemap\": null | {\"tiles\": [template…]}, \"town\": NAME, \"level\": \"town\", \"time_zone\": \"+08:00\"}`: the raster basemap set by `--basemap-url`, the store's town (or province) name and level, its time zone", body = PageConfig)))]
pub async fn config(
    State(state): State<AppState>,
    params: Params,
) -> Result<Json<PageConfig>, ApiError> {
    params.only(&[])?;
    let tiles = &state.basemap;
    let (town, level) = {
        let map = state.map.read().map_err(|_| crate::app::Poisoned)?;
        let root = map.regions.get(map.regions.root());
        (root.name.clone(), root.level)
    };
    Ok(Json(PageConfig {
        basemap: (!tiles.is_empty()).then(|| Basemap {
            tiles: tiles.to_vec(),
        }),
        town,
        level,
        time_zone: state.zone,
    }))
}

fn mime_of(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("html") => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The service worker, served from the root so that it may keep the whole page working
/// offline (a worker's scope is the folder it is served from).
async fn service_worker(headers: HeaderMap) -> Result<Response, ApiError> {
    asset(Path("sw.js".to_owned()), headers).await
}

/// Browsers ask for it whatever the page says.
async fn favicon(headers: HeaderMap) -> Result<Response, ApiError> {
    asset(Path("favicon.svg".to_owned()), headers).await
}

/// `/static/…`: our files and MapLibre's. `no-cache` with the build's tag: a new server
/// version is picked up at once, and until then a revalidation is a `304`.
async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    let cache = "no-cache";
    if let Some(not_modified) = unchanged(&headers) {
        return Ok(not_modified);
    }
    match path.as_str() {
        "maplibre-gl.js" => return Ok(typed(mime_of(&path), MAPLIBRE_JS.to_vec(), cache)),
        "maplibre-gl.css" => return Ok(typed(mime_of(&path), MAPLIBRE_CSS.to_vec(), cache)),
        "vendor/signature_pad.js" => {
            return Ok(typed(mime_of(&path), SIGNATURE_PAD_JS.to_vec(), cache));
        }
        "vendor/idb-keyval.js" => return Ok(typed(mime_of(&path), IDB_KEYVAL_JS.to_vec(), cache)),
        _ => {}
    }
    let f = STATIC.get_file(&path).ok_or(ApiError::NotFound {
        what: "file",
        id: path.clone(),
    })?;
    Ok(typed(mime_of(&path), f.contents().to_vec(), cache))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Colour;

    #[test]
    fn origin_takes_scheme_host_and_port_only() {
        assert_eq!(
            origin("http://t0.tianditu.gov.cn/vec_w/wmts?tk=K&x={x}"),
            Some("http://t0.tianditu.gov.cn")
        );
        assert_eq!(
            origin("https://10.0.0.5:8443/{z}/{x}/{y}.png"),
            Some("https://10.0.0.5:8443")
        );
        assert_eq!(origin("javascript:alert(1)"), None);
        assert_eq!(origin("https://a b/{z}"), None);
        assert_eq!(origin("https:///x"), None);
    }

    #[test]
    fn the_policy_lets_through_only_the_basemap_origin() {
        let none = csp(&[]);
        assert!(none.contains("connect-src 'self';"), "{none}");
        let one = csp(&["https://tiles.example/{z}/{x}/{y}.png".to_owned()]);
        assert!(
            one.contains("connect-src 'self' https://tiles.example;"),
            "{one}"
        );
        assert!(
            one.contains("img-src 'self' data: blob: https://tiles.example;"),
            "{one}"
        );
    }

    #[test]
    fn a_basemap_template_needs_a_web_origin_and_all_three_placeholders() {
        let t = "http://t0.tianditu.gov.cn/vec_w/wmts?tk=K&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}";
        assert_eq!(basemap_template(t).as_deref(), Ok(t));
        assert!(basemap_template("file:///tiles/{z}/{x}/{y}.png").is_err());
        assert_eq!(
            basemap_template("https://tiles.example/{z}/{x}.png"),
            Err("the template has no {y}".to_owned())
        );
    }

    #[test]
    fn the_page_orders_colours_by_the_servers_urgency() {
        let js = include_str!("../../../web/static/common.js");
        let listed: Vec<&str> = Colour::BY_URGENCY.iter().map(|c| c.as_str()).collect();
        let line = format!("export const ORDER = ['{}'];", listed.join("', '"));
        assert!(js.contains(&line), "common.js should say {line}");
    }

    #[test]
    fn every_page_file_is_embedded() {
        for f in ["index.html", "app.js", "i18n.js", "style.css"] {
            assert!(STATIC.get_file(f).is_some(), "{f}");
        }
        assert!(MAPLIBRE_JS.len() > 100_000);
    }
}
