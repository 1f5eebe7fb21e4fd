//! `GET /ogc…`: OGC API – Features Part 1 (Core + GeoJSON), so QGIS, GDAL's OAPIF
//! driver and any other client read the map's units, regions and H3 cells with no
//! plug-in. Handlers parse, call [`crate::views::ogc`] and add the links.
//!
//! Links are absolute (GDAL follows `next` as given), built from the request's `Host`
//! header. Every bad parameter is a 400 naming it, unknown collections and ids are
//! 404s, and `limit` above [`MAX_LIMIT`] is refused rather than clamped, so a client
//! never believes it got more than it did. `f=json` (or `f=geojson`) is accepted for
//! clients that add it; no other format is served.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::IntoResponse;
use h3o::Resolution;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;
use super::params::{Page, Params};
use super::{AppState, base_url};
use crate::auth::access::Access;
use crate::views::ogc::{
    Bbox, CRS84, Collection, DEFAULT_HEX_RESOLUTION, DEFAULT_LIMIT, ItemsQuery, MAX_LIMIT, extent,
};

/// The GeoJSON media type, of items and single features.
pub const GEOJSON: &str = "application/geo+json";
/// The JSON media type, of the landing page, conformance and collections.
const JSON: &str = "application/json";

/// The conformance classes implemented.
pub const CONFORMANCE: [&str; 2] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
];

/// A link of OGC API – Features.
#[derive(Debug, Serialize, ToSchema)]
pub struct Link {
    /// Where (absolute).
    href: String,
    /// What it is to this document: `self`, `next`, `items`…
    rel: &'static str,
    /// Its media type.
    #[serde(rename = "type")]
    kind: &'static str,
    /// For people.
    title: String,
}

fn link(href: String, rel: &'static str, kind: &'static str, title: &str) -> Link {
    Link {
        href,
        rel,
        kind,
        title: title.to_owned(),
    }
}

/// The landing page.
#[derive(Debug, Serialize, ToSchema)]
pub struct Landing {
    title: String,
    description: &'static str,
    links: Vec<Link>,
}

/// The conformance classes.
#[derive(Debug, Serialize, ToSchema)]
pub struct Conformance {
    #[serde(rename = "conformsTo")]
    conforms_to: [&'static str; 2],
}

/// A collection's spatial extent.
#[derive(Debug, Serialize, ToSchema)]
pub struct Spatial {
    bbox: [[f64; 4]; 1],
    crs: &'static str,
}

/// A collection's extent.
#[derive(Debug, Serialize, ToSchema)]
pub struct Extent {
    spatial: Spatial,
}

/// A collection.
#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionInfo {
    id: &'static str,
    title: &'static str,
    description: &'static str,
    extent: Extent,
    #[serde(rename = "itemType")]
    item_type: &'static str,
    crs: [&'static str; 1],
    links: Vec<Link>,
}

/// Every collection.
#[derive(Debug, Serialize, ToSchema)]
pub struct Collections {
    collections: Vec<CollectionInfo>,
    links: Vec<Link>,
}

/// A page of features (GeoJSON FeatureCollection with OGC's members).
#[derive(Debug, Serialize)]
pub struct Items {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "numberMatched")]
    number_matched: usize,
    #[serde(rename = "numberReturned")]
    number_returned: usize,
    #[serde(rename = "timeStamp")]
    time_stamp: String,
    links: Vec<Link>,
    features: Vec<geojson::Feature>,
}

/// One feature with its links.
#[derive(Debug, Serialize)]
pub struct Item {
    #[serde(flatten)]
    feature: geojson::Feature,
    links: Vec<Link>,
}

/// Refuses parameters other than `allowed` and `f`, and any `f` but JSON.
fn check_params(params: &Params, allowed: &[&str]) -> Result<(), ApiError> {
    let mut all = allowed.to_vec();
    all.push("f");
    params.only(&all)?;
    match params.get::<String>("f")?.as_deref() {
        None | Some("json" | "geojson") => Ok(()),
        Some(other) => Err(ApiError::bad(
            "f",
            format!("format `{other}` is not served; this service speaks json (GeoJSON)"),
        )),
    }
}

/// The collection named in the path; 404 when there is none of that name.
fn collection_of(path: Result<Path<String>, PathRejection>) -> Result<Collection, ApiError> {
    let Path(name) = path.map_err(|e| ApiError::bad("collection", e.body_text()))?;
    name.parse().map_err(|id| ApiError::NotFound {
        what: "collection",
        id,
    })
}

fn collection_info(base: &str, c: Collection, bbox: [f64; 4]) -> CollectionInfo {
    let url = format!("{base}/ogc/collections/{}", c.name());
    CollectionInfo {
        id: c.name(),
        title: c.title(),
        description: c.description(),
        extent: Extent {
            spatial: Spatial {
                bbox: [bbox],
                crs: CRS84,
            },
        },
        item_type: "feature",
        crs: [CRS84],
        links: vec![
            link(url.clone(), "self", JSON, c.title()),
            link(format!("{url}/items"), "items", GEOJSON, c.title()),
        ],
    }
}

/// `GET /ogc`: the landing page.
#[utoipa::path(get, path = "/ogc", tag = "ogc",
    responses((status = 200, description = "OGC API – Features landing page", body = Landing)))]
pub async fn landing(
    State(app): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Result<impl IntoResponse, ApiError> {
    check_params(&params, &[])?;
    let town = {
        let (map, _) = app.read_now()?;
        map.regions.get(map.regions.root()).name.clone()
    };
    let base = base_url(&headers);
    Ok(Json(Landing {
        title: format!("onemap: {town}"),
        description: "Every registered unit's hazard state and the figures of every village, \
                      grid, micro-grid and H3 cell, live, as OGC API – Features",
        links: vec![
            link(format!("{base}/ogc"), "self", JSON, "This document"),
            link(
                format!("{base}/ogc/conformance"),
                "conformance",
                JSON,
                "Conformance classes",
            ),
            link(
                format!("{base}/ogc/collections"),
                "data",
                JSON,
                "The feature collections",
            ),
        ],
    }))
}

/// `GET /ogc/conformance`: the conformance classes.
#[utoipa::path(get, path = "/ogc/conformance", tag = "ogc",
    responses((status = 200, description = "Conformance classes", body = Conformance)))]
pub async fn conformance(params: Params) -> Result<impl IntoResponse, ApiError> {
    check_params(&params, &[])?;
    Ok(Json(Conformance {
        conforms_to: CONFORMANCE,
    }))
}

/// `GET /ogc/collections`: every collection.
#[utoipa::path(get, path = "/ogc/collections", tag = "ogc",
    responses((status = 200, description = "The collections", body = Collections)))]
pub async fn collections(
    State(app): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Result<impl IntoResponse, ApiError> {
    check_params(&params, &[])?;
    let base = base_url(&headers);
    let (map, _) = app.read_now()?;
    let collections = Collection::ALL
        .into_iter()
        .map(|c| collection_info(&base, c, extent(&map, c)))
        .collect();
    drop(map);
    Ok(Json(Collections {
        collections,
        links: vec![link(
            format!("{base}/ogc/collections"),
            "self",
            JSON,
            "The feature collections",
        )],
    }))
}

/// `GET /ogc/collections/{collection}`: one collection.
#[utoipa::path(get, path = "/ogc/collections/{collection}", tag = "ogc",
    params(("collection" = String, Path, description = "units, villages, grids, micro_grids or hexes")),
    responses(
        (status = 200, description = "A collection", body = CollectionInfo),
        crate::http::openapi::NotFound,
    ))]
pub async fn collection(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    params: Params,
) -> Result<impl IntoResponse, ApiError> {
    let c = collection_of(path)?;
    check_params(&params, &[])?;
    let bbox = {
        let (map, _) = app.read_now()?;
        extent(&map, c)
    };
    Ok(Json(collection_info(&base_url(&headers), c, bbox)))
}

/// `resolution` of `hexes`: 7, 8 or 9.
fn parse_resolution(params: &Params) -> Result<Resolution, ApiError> {
    let Some(v) = params.get::<String>("resolution")? else {
        return Ok(DEFAULT_HEX_RESOLUTION);
    };
    v.trim()
        .parse::<u8>()
        .ok()
        .and_then(|r| Resolution::try_from(r).ok())
        .filter(|r| crate::state::live::HEX_RESOLUTIONS.contains(r))
        .ok_or_else(|| ApiError::bad("resolution", format!("`{v}` is not one of 7, 8, 9")))
}

fn geojson_response(body: Vec<u8>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON))],
        body,
    )
}

/// `GET /ogc/collections/{collection}/items`: a page of features as a GeoJSON
/// FeatureCollection with `numberMatched`, `numberReturned`, `timeStamp` and links.
#[utoipa::path(get, path = "/ogc/collections/{collection}/items", tag = "ogc",
    params(
        ("collection" = String, Path),
        ("bbox" = Option<String>, Query, description = "minlon,minlat,maxlon,maxlat"),
        ("limit" = Option<u32>, Query), ("offset" = Option<u32>, Query),
        ("kind" = Option<String>, Query), ("colour" = Option<String>, Query),
        ("region" = Option<String>, Query),
        ("resolution" = Option<u8>, Query, description = "hexes only: 7, 8 or 9"),
    ),
    responses(
        (status = 200, description = "GeoJSON FeatureCollection", content_type = "application/geo+json", body = serde_json::Value),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
    ))]
pub async fn items(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    who: Access,
    headers: HeaderMap,
    params: Params,
) -> Result<impl IntoResponse, ApiError> {
    let c = collection_of(path)?;
    let mut allowed = vec!["bbox", "limit", "offset", "kind", "colour", "region"];
    if c == Collection::Hexes {
        allowed.push("resolution");
    }
    check_params(&params, &allowed)?;
    let bbox = params.get::<Bbox>("bbox")?;
    let Page { offset, limit } = params.page(DEFAULT_LIMIT, MAX_LIMIT)?;
    let resolution = parse_resolution(&params)?;
    let base = base_url(&headers);
    // Thousands of features and a fold over every unit: off the async threads.
    let (mut page, q, now) = tokio::task::spawn_blocking({
        let app = app.clone();
        let params_filter = params.clone();
        move || -> Result<_, ApiError> {
            let (map, now) = app.read_now()?;
            let q = ItemsQuery {
                bbox,
                filter: params_filter.unit_filter(&who, &map)?,
                resolution,
                offset,
                limit,
            };
            let page = crate::views::ogc::items(&map, c, &q);
            Ok((page, q, now))
        }
    })
    .await
    .map_err(|e| ApiError::Internal(format!("items task: {e}")))??;
    if c == Collection::Units {
        add_texts(&app, &mut page.features).await?;
    }
    let url = format!("{base}/ogc/collections/{}/items", c.name());
    let here = params.query_string();
    let mut links = vec![link(
        if here.is_empty() {
            url.clone()
        } else {
            format!("{url}?{here}")
        },
        "self",
        GEOJSON,
        "This page",
    )];
    if let Some(next) = page.next_offset(&q) {
        let href = format!(
            "{url}?{}",
            params.query_with(&[("limit", limit.to_string()), ("offset", next.to_string())])
        );
        links.push(link(href, "next", GEOJSON, "Next page"));
    }
    if let Some(prev) = page.prev_offset(&q) {
        let href = format!(
            "{url}?{}",
            params.query_with(&[("limit", limit.to_string()), ("offset", prev.to_string())])
        );
        links.push(link(href, "prev", GEOJSON, "Previous page"));
    }
    let body = Items {
        kind: "FeatureCollection",
        number_matched: page.number_matched,
        number_returned: page.features.len(),
        time_stamp: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        links,
        features: page.features,
    };
    let body =
        serde_json::to_vec(&body).map_err(|e| ApiError::Internal(format!("items JSON: {e}")))?;
    Ok(geojson_response(body))
}

/// `GET /ogc/collections/{collection}/items/{id}`: one feature; 404 when the id does
/// not parse or names nothing in the collection.
#[utoipa::path(get, path = "/ogc/collections/{collection}/items/{id}", tag = "ogc",
    params(("collection" = String, Path), ("id" = String, Path)),
    responses(
        (status = 200, description = "A GeoJSON Feature", content_type = "application/geo+json", body = serde_json::Value),
        crate::http::openapi::NotFound,
    ))]
pub async fn item(
    State(app): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    who: Access,
    headers: HeaderMap,
    params: Params,
) -> Result<impl IntoResponse, ApiError> {
    let Path((name, id)) = path.map_err(|e| ApiError::bad("id", e.body_text()))?;
    let c = collection_of(Ok(Path(name)))?;
    check_params(&params, &[])?;
    let feature = {
        let (map, _) = app.read_now()?;
        crate::views::ogc::item(&map, c, &id, &who.scope)
    };
    let not_found = || ApiError::NotFound {
        what: "feature",
        id: format!("{}/{id}", c.name()),
    };
    let mut feature = feature.ok_or_else(not_found)?;
    if c == Collection::Units {
        add_texts(&app, std::slice::from_mut(&mut feature)).await?;
    }
    let base = base_url(&headers);
    let url = format!("{base}/ogc/collections/{}", c.name());
    let body = Item {
        feature,
        links: vec![
            link(format!("{url}/items/{id}"), "self", GEOJSON, "This feature"),
            link(url, "collection", JSON, c.title()),
        ],
    };
    let bytes =
        serde_json::to_vec(&body).map_err(|e| ApiError::Internal(format!("feature JSON: {e}")))?;
    Ok(geojson_response(bytes))
}

/// Adds names and addresses, which the map does not keep in memory, from the store.
async fn add_texts(app: &AppState, features: &mut [geojson::Feature]) -> Result<(), ApiError> {
    let ids = crate::views::ogc::unit_ids(features);
    let texts = app
        .store
        .unit_texts(&ids)
        .await
        .map_err(|e| ApiError::Internal(format!("unit texts: {e}")))?;
    crate::views::ogc::add_unit_texts(features, &texts);
    Ok(())
}
