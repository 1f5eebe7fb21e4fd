//! `GET /tiles/{layers}/{z}/{x}/{y}.mvt` and `GET /tiles/{layer}.json` (TileJSON 3.0).
//!
//! `layers` is one of `units`, `regions`, `hexes` or a comma list of them (a composite
//! tile). Filters: `kind=`, `colour=` (comma lists), `region=`, and `at=` for a past
//! moment. A tile with no feature is a 204. Tiles are gzipped when the client accepts
//! it and carry a strong ETag (a hash of the bytes); `If-None-Match` gets a 304.
//!
//! Tiles are cached per state version (`app::tile_cache`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawPathParams, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use onemap_tiles::{MAX_ZOOM, TileCoord};
use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;
use super::params::Params;
use crate::app::AppState;
use crate::app::tile_cache::{EncodedTile, TileKey, encode};
use crate::auth::access::Access;
use crate::views::tiles::{Layer, TileRequest, render};

/// The MVT media type.
pub const MVT_TYPE: &str = "application/vnd.mapbox-vector-tile";
/// The deepest zoom the TileJSON advertises (tiles exist to [`MAX_ZOOM`]).
pub const TILEJSON_MAX_ZOOM: u8 = 20;
/// Parses `layers`: one name or a comma list, each once.
fn parse_layers(s: &str) -> Result<Vec<Layer>, ApiError> {
    let mut layers = Vec::new();
    for name in s.split(',') {
        let l: Layer = name
            .parse()
            .map_err(|e: String| ApiError::bad("layer", e))?;
        if layers.contains(&l) {
            return Err(ApiError::bad(
                "layer",
                format!("layer `{name}` given twice"),
            ));
        }
        layers.push(l);
    }
    Ok(layers)
}

fn parse_coord(z: &str, x: &str, y: &str) -> Result<TileCoord, ApiError> {
    let y = y.strip_suffix(".mvt").ok_or_else(|| {
        ApiError::bad(
            "y",
            "tile URLs end in `.mvt`: /tiles/{layer}/{z}/{x}/{y}.mvt",
        )
    })?;
    let num = |name: &'static str, v: &str| {
        v.parse::<u32>()
            .map_err(|_| ApiError::bad(name, format!("`{v}` is not a non-negative integer")))
    };
    let (z, x, y) = (num("z", z)?, num("x", x)?, num("y", y)?);
    let z = u8::try_from(z)
        .ok()
        .filter(|&z| z <= MAX_ZOOM)
        .ok_or_else(|| ApiError::bad("z", format!("zoom {z} is above the maximum {MAX_ZOOM}")))?;
    TileCoord::new(z, x, y).map_err(|e| {
        let field = if u64::from(x) >= 1u64 << z { "x" } else { "y" };
        ApiError::bad(field, e.to_string())
    })
}

/// Handler of `/tiles/{layers}/{z}/{x}/{y}.mvt`.
#[utoipa::path(get, path = "/tiles/{layers}/{z}/{x}/{y}.mvt", tag = "tiles",
    params(
        ("layers" = String, Path, description = "units, regions, hexes or a comma list"),
        ("z" = u8, Path), ("x" = u32, Path), ("y" = u32, Path),
        ("kind" = Option<String>, Query), ("colour" = Option<String>, Query),
        ("region" = Option<String>, Query), ("at" = Option<String>, Query),
    ),
    responses(
        (status = 200, description = "A Mapbox Vector Tile (gzip when accepted)", content_type = "application/vnd.mapbox-vector-tile", body = Vec<u8>),
        (status = 204, description = "Nothing in this tile"),
        (status = 304, description = "Not modified (If-None-Match)"),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
    ))]
pub async fn get_tile(
    State(app): State<AppState>,
    path: RawPathParams,
    who: Access,
    params: Params,
    req: Request,
) -> Result<Response, ApiError> {
    let started = std::time::Instant::now();
    params.only(&["kind", "colour", "region", "at"])?;
    // The path's segments, decoded (borrowed unless escaped: nothing copied per request).
    let segment = |name: &str| {
        let raw = path.iter().find(|(k, _)| *k == name).map_or("", |(_, v)| v);
        percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| ApiError::bad(name.to_owned(), "not UTF-8"))
    };
    let layers = parse_layers(&segment("layers")?)?;
    let coord = parse_coord(&segment("z")?, &segment("x")?, &segment("y")?)?;
    let headers = req.headers();
    let at = params.moment("at", app.zone)?;
    let (key, version, filter) = {
        let (map, _) = app.read_now()?;
        let filter = params.unit_filter(&who, &map)?;
        let key = TileKey::new(layers.iter().map(|&l| l as u8), coord, &filter, at);
        (key, map.live().version(), filter)
    };
    let m = tile_metrics();
    let tile = match app.tiles.get(version, &key) {
        Some(t) => {
            m.hit.increment(1);
            t
        }
        // Rendering a dense tile takes milliseconds: off the async workers.
        None => tokio::task::spawn_blocking(move || {
            m.miss.increment(1);
            let (map, _) = app.read_now()?;
            let version = map.live().version();
            let req = TileRequest {
                layers,
                coord,
                filter,
                at,
            };
            let raw = render(&map, &req).map_err(|e| ApiError::Internal(e.to_string()))?;
            drop(map);
            let t = Arc::new(encode(raw).map_err(|e| ApiError::Internal(format!("gzip: {e}")))?);
            app.tiles.put(version, key, t.clone());
            Ok::<_, ApiError>(t)
        })
        .await
        .map_err(|e| ApiError::Internal(format!("tile task: {e}")))??,
    };
    let response = respond(&tile, headers);
    if let Some(h) = m.seconds.get(usize::from(coord.z())) {
        h.record(started.elapsed());
    }
    Ok(response)
}

/// The tile service's metrics, registered once: a served tile looks nothing up by name.
struct TileMetrics {
    hit: metrics::Counter,
    miss: metrics::Counter,
    /// `onemap_tile_seconds` by zoom, 0 to [`MAX_ZOOM`].
    seconds: Vec<metrics::Histogram>,
}

fn tile_metrics() -> &'static TileMetrics {
    static METRICS: std::sync::OnceLock<TileMetrics> = std::sync::OnceLock::new();
    METRICS.get_or_init(|| TileMetrics {
        hit: metrics::counter!("onemap_tile_cache_total", "result" => "hit"),
        miss: metrics::counter!("onemap_tile_cache_total", "result" => "miss"),
        seconds: (0..=MAX_ZOOM)
            .map(|z| metrics::histogram!("onemap_tile_seconds", "zoom" => z.to_string()))
            .collect(),
    })
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|enc| {
            let mut parts = enc.trim().split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (name == "gzip" || name == "*") && !refused
        })
}

fn respond(tile: &EncodedTile, headers: &HeaderMap) -> Response {
    let etag = tile.etag.to_str().unwrap_or_default();
    let common = [
        (header::ETAG, tile.etag.clone()),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::VARY, HeaderValue::from_static("Accept-Encoding")),
    ];
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    if tile.raw.is_empty() {
        return (StatusCode::NO_CONTENT, common).into_response();
    }
    let mvt = [(header::CONTENT_TYPE, HeaderValue::from_static(MVT_TYPE))];
    if accepts_gzip(headers) {
        let gz = [(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))];
        (common, mvt, gz, tile.gzip.clone()).into_response()
    } else {
        (common, mvt, tile.raw.clone()).into_response()
    }
}

/// The fields of each layer, for TileJSON's `vector_layers`: name and type.
fn fields(layer: Layer) -> BTreeMap<&'static str, &'static str> {
    const COLOURS: [&str; 6] = ["green", "yellow", "orange", "red", "black", "uninspected"];
    const FIGURES: [&str; 8] = [
        "units",
        "inspected",
        "inspection_rate",
        "found",
        "closed",
        "open",
        "closure_rate",
        "overdue",
    ];
    let (own, figures): (&[(&str, &str)], bool) = match layer {
        Layer::Units => (
            &[
                ("id", "Number"),
                ("kind", "String"),
                ("colour", "String"),
                ("risk", "String"),
                ("micro_grid", "String"),
                ("count", "Number"),
            ],
            false,
        ),
        Layer::Regions => (
            &[("id", "String"), ("level", "String"), ("name", "String")],
            true,
        ),
        Layer::Hexes => (&[("h3", "String"), ("resolution", "Number")], true),
    };
    let mut f: BTreeMap<_, _> = own.iter().copied().collect();
    f.extend(COLOURS.iter().map(|&c| (c, "Number")));
    if figures {
        f.extend(FIGURES.iter().map(|&c| (c, "Number")));
    }
    f
}

/// A layer as TileJSON lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct VectorLayer {
    id: &'static str,
    fields: BTreeMap<&'static str, &'static str>,
    description: &'static str,
    minzoom: u8,
    maxzoom: u8,
}

/// TileJSON 3.0.
#[derive(Debug, Serialize, ToSchema)]
pub struct TileJson {
    tilejson: &'static str,
    name: String,
    description: String,
    scheme: &'static str,
    tiles: [String; 1],
    minzoom: u8,
    maxzoom: u8,
    bounds: [f64; 4],
    /// Longitude, latitude, zoom.
    #[schema(value_type = Vec<f64>)]
    center: (f64, f64, u8),
    vector_layers: Vec<VectorLayer>,
}

fn description(layer: Layer) -> &'static str {
    match layer {
        Layer::Units => {
            "Every unit as a point coloured by hazard state (z14+), or clusters with their colour mix"
        }
        Layer::Regions => "Town, villages, grids (z11+) and micro-grids (z14+) with their figures",
        Layer::Hexes => "H3 cells (res 7, 8 from z11, 9 from z14) with their figures",
    }
}

/// Handler of `/tiles/{layers}.json`: TileJSON 3.0 for a layer or a composite.
#[utoipa::path(get, path = "/tiles/{layers}.json", tag = "tiles",
    params(("layers" = String, Path, description = "units, regions, hexes or a comma list")),
    responses(
        (status = 200, description = "TileJSON 3.0", body = TileJson),
        crate::http::openapi::NotFound,
    ))]
pub async fn get_tilejson(
    State(app): State<AppState>,
    Path(name): Path<String>,
    who: Access,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<TileJson>, ApiError> {
    params.only(&["kind", "colour", "region", "at"])?;
    let Some(layers) = name.strip_suffix(".json") else {
        return Err(ApiError::NotFound {
            what: "endpoint",
            id: format!("/tiles/{name}"),
        });
    };
    let list = parse_layers(layers)?;
    let (map, _) = app.read_now()?;
    params.unit_filter(&who, &map)?;
    let town = map.regions.get(map.regions.root());
    let bounds = town
        .boundary
        .as_ref()
        .and_then(geo::BoundingRect::bounding_rect)
        .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
        .unwrap_or([-180.0, -85.0, 180.0, 85.0]);
    let query = params.query_string();
    let tiles = format!(
        "{}/tiles/{layers}/{{z}}/{{x}}/{{y}}.mvt{}",
        super::base_url(&headers),
        if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        }
    );
    let vector_layers = list
        .iter()
        .map(|&l| VectorLayer {
            id: l.name(),
            fields: fields(l),
            description: description(l),
            minzoom: 0,
            maxzoom: TILEJSON_MAX_ZOOM,
        })
        .collect();
    Ok(Json(TileJson {
        tilejson: "3.0.0",
        name: format!("onemap {layers}"),
        description: format!("{} of {}", layers, town.name),
        scheme: "xyz",
        tiles: [tiles],
        minzoom: 0,
        maxzoom: TILEJSON_MAX_ZOOM,
        bounds,
        center: (
            (bounds[0] + bounds[2]) / 2.0,
            (bounds[1] + bounds[3]) / 2.0,
            12,
        ),
        vector_layers,
    }))
}
