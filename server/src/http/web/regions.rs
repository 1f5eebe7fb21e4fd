//! The click-through's reads: a region with its path, bounding box, figures and children
//! (`/api/regions/{id}`), a region's units by urgency with their names
//! (`/api/regions/{id}/units`, the grid worker's list) and label points for region
//! names (`/api/labels`, one label per region however many tiles its polygon spans).

use axum::Json;
use axum::extract::{Path, State};

use crate::auth::access::Access;
use crate::domain::{Colour, Level, UnitId, UnitKind};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::params::Params;
use crate::state::history::AggsAt;
use crate::views::page;

/// The most units `/api/regions/{id}/units` lists (a village holds a few hundred).
const MAX_LISTED: usize = 5000;

/// `GET /api/regions/{id|town}?at=&kind=&colour=`: the region, its path from the town,
/// its bounding box, its figures and each child's (the same names as the tiles').
///
/// A reader with a scope gets the regions in it, and those above it with figures that
/// count only the units in scope and only the children that hold some.
#[utoipa::path(get, path = "/api/regions/{id}", tag = "page",
    params(
        ("id" = String, Path, description = "A region id, or `town`"),
        ("at" = Option<String>, Query, description = "A date or RFC 3339 moment; default now"),
        ("kind" = Option<String>, Query, description = "Comma list of unit kinds"),
        ("colour" = Option<String>, Query, description = "Comma list of colours"),
    ),
    responses(
        (status = 200, description = "The region, its `path` from the town, its `bbox`, its `figures` and each child's", body = page::RegionView),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
    ))]
pub async fn region(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    params: Params,
) -> Result<Json<page::RegionView>, ApiError> {
    params.only(&["at", "kind", "colour"])?;
    let at = params.moment("at", app.zone)?;
    let (map, now) = app.read_now()?;
    let idx = who.region_touching(&map, &id)?;
    let mut filter = params.unit_filter(&who, &map)?;
    if !who.scope.covers(&map, idx) {
        filter.scope = who.scope.clone();
    }
    let shown = |i| who.scope.touches(&map, i);
    // The present, unfiltered, is the live aggregates; a past day's end, unfiltered, the
    // daily checkpoints where the region and its children have them; anything else is
    // folded.
    let past = at.filter(|&t| t < now);
    let aggs = AggsAt::of(
        &map,
        std::iter::once(idx).chain(map.regions.children(idx).iter().copied()),
        past,
        &filter,
    );
    let v = page::region(&map, idx, &|i| aggs.get(i), &shown);
    Ok(Json(v))
}

/// A unit in a region's list.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ListedUnit {
    /// Id.
    #[schema(value_type = i64)]
    id: UnitId,
    /// Kind.
    kind: UnitKind,
    /// Colour at the moment asked for.
    colour: Option<Colour>,
    /// Open hazards past their deadline.
    overdue: u32,
    /// Open hazards.
    open: u32,
    /// Rank of urgency: 0 overdue, then by colour (lower first).
    urgency: u8,
    /// Name.
    name: Option<String>,
    /// Address.
    address: Option<String>,
}

/// A region's units, most urgent first.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct UnitList {
    /// The region.
    region: page::Place,
    /// Its units.
    units: Vec<ListedUnit>,
}

/// `GET /api/regions/{id}/units?at=`: the units of a region (a micro-grid, typically),
/// most urgent first, with colour, open and overdue hazards, kind, name and address, as
/// of `at` (default now; units registered later are left out).
#[utoipa::path(get, path = "/api/regions/{id}/units", tag = "page",
    params(
        ("id" = String, Path, description = "A village, grid or micro-grid id"),
        ("at" = Option<String>, Query, description = "A date or RFC 3339 moment; default now"),
    ),
    responses(
        (status = 200, description = "Its units, most urgent first (overdue, red, black, orange, yellow, uninspected, green), with kind, colour, open and overdue hazards, name and address", body = UnitList),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
    ))]
pub async fn units(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: Access,
    params: Params,
) -> Result<Json<UnitList>, ApiError> {
    params.only(&["at"])?;
    let at = params.moment("at", app.zone)?;
    let (list, region) = {
        let (map, now) = app.read_now()?;
        let now = at.filter(|&t| t < now).unwrap_or(now);
        let idx = who.region(&map, &id)?;
        if map.regions.get(idx).level.depth() < Level::Village.depth() {
            return Err(ApiError::bad(
                "id",
                "list the units of a village, grid or micro-grid",
            ));
        }
        (
            page::units_by_urgency(&map, idx, now),
            page::Place::of(&map, idx),
        )
    };
    if list.len() > MAX_LISTED {
        return Err(ApiError::bad(
            "id",
            format!("more than {MAX_LISTED} units: ask for a smaller region"),
        ));
    }
    let ids: Vec<_> = list.iter().map(|l| l.id).collect();
    let texts = app.store.unit_texts(&ids).await?;
    let units = list
        .iter()
        .map(|l| {
            let t = texts.get(&l.id);
            ListedUnit {
                id: l.id,
                kind: l.kind,
                colour: l.colour,
                overdue: l.overdue,
                open: l.open,
                urgency: l.urgency,
                name: t.map(|t| t.name.clone()),
                address: t.map(|t| t.address.clone()),
            }
        })
        .collect();
    Ok(Json(UnitList { region, units }))
}

/// `GET /api/labels?level=county|town|village|grid|micro_grid&region=ID`: a GeoJSON point inside
/// each region of the level (within `region` if given), with its `id`, `level` and
/// `name`, where the map writes its name.
#[utoipa::path(get, path = "/api/labels", tag = "page",
    params(
        ("level" = Option<String>, Query, description = "county, town, village (default), grid or micro_grid"),
        ("region" = Option<String>, Query, description = "Only within this region"),
    ),
    responses(
        (status = 200, description = "GeoJSON points, one inside each region, with `id`, `level` and `name`", body = serde_json::Value),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
    ))]
pub async fn labels(
    State(app): State<AppState>,
    who: Access,
    params: Params,
) -> Result<Json<geojson::FeatureCollection>, ApiError> {
    params.only(&["level", "region"])?;
    let level = params.get::<Level>("level")?.unwrap_or(Level::Village);
    if !level.has_polygon() || level == Level::Province {
        return Err(ApiError::bad(
            "level",
            "county, town, village, grid or micro_grid",
        ));
    }
    let (map, _) = app.read_now()?;
    let within = match params.get::<String>("region")? {
        Some(id) => Some(who.region(&map, &id)?),
        None => None,
    };
    Ok(Json(page::labels(&map, level, within, &who.scope)))
}
