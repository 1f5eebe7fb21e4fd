//! Every route of the API, listed once. Each handler declares its own operation
//! (`#[utoipa::path]`: path, statuses, typed bodies, the action its role needs); the
//! router and the OpenAPI document are made from this one list (utoipa-axum), and the
//! access gate reads each route's action from the document.

use std::sync::LazyLock;

use axum::Json;
use axum::extract::DefaultBodyLimit;
use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::{
    REQUEST_TIMEOUT, attachments, briefing, checklists, day, events, exports, fix, hazards, health,
    imports, metrics, ogc, openapi, rankings, session, stats, targets, tiles, units, visits, web,
};
use crate::app::AppState;

/// The tiles' operations: their paths end in `.mvt` and `.json`, which axum's router
/// cannot match, so they are routed by `/tiles/{…}` segments (`super::router`) and
/// documented here.
#[derive(OpenApi)]
#[openapi(paths(tiles::get_tile, tiles::get_tilejson))]
struct Tiles;

/// Every documented route: each handler's `#[utoipa::path]` states its path, statuses,
/// bodies and the action its role needs; the router and the OpenAPI document are made
/// from the same list, so neither can lack what the other has.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi().merge_from(Tiles::openapi()))
        .routes(routes!(health::healthz))
        .routes(routes!(metrics::get_metrics))
        .routes(routes!(document))
        .routes(routes!(stats::get_stats))
        .routes(routes!(rankings::get_rankings))
        .routes(routes!(ogc::landing))
        .routes(routes!(ogc::conformance))
        .routes(routes!(ogc::collections))
        .routes(routes!(ogc::collection))
        .routes(routes!(ogc::items))
        .routes(routes!(ogc::item))
        .routes(routes!(units::register))
        .routes(routes!(units::card, units::edit))
        .routes(routes!(units::history))
        .routes(routes!(exports::units::export_units))
        .routes(routes!(exports::hazards::export_hazards))
        .routes(routes!(exports::visits::export_visits))
        .routes(routes!(imports::import_units).layer(DefaultBodyLimit::max(imports::IMPORT_LIMIT)))
        .routes(
            routes!(imports::import_regions).layer(DefaultBodyLimit::max(imports::IMPORT_LIMIT)),
        )
        .routes(
            routes!(imports::import_records).layer(DefaultBodyLimit::max(imports::IMPORT_LIMIT)),
        )
        .routes(routes!(visits::inspect))
        .routes(routes!(visits::reinspect))
        .routes(routes!(visits::suspend))
        .routes(routes!(visits::resume))
        .routes(
            routes!(attachments::attach)
                .layer(DefaultBodyLimit::max(attachments::ATTACHMENT_LIMIT)),
        )
        .routes(routes!(attachments::attachment))
        .routes(routes!(checklists::checklists))
        .routes(routes!(day::day))
        .routes(routes!(hazards::yellow_card))
        .routes(routes!(hazards::close))
        .routes(routes!(fix::make_link))
        .routes(routes!(fix::revoke_link))
        .routes(routes!(fix::unit_fixes))
        .routes(routes!(fix::reject))
        .routes(routes!(fix::owner_view))
        .routes(routes!(fix::owner_report).layer(DefaultBodyLimit::max(fix::REPORT_LIMIT)))
        .routes(routes!(events::list))
        .routes(routes!(targets::get, targets::set))
        .routes(routes!(briefing::get_briefing))
        .routes(routes!(briefing::comment))
        .routes(routes!(briefing::send))
        .routes(routes!(
            session::sign_in,
            session::whoami,
            session::sign_out
        ))
        .routes(routes!(session::list_users, session::create_user))
        .routes(routes!(session::revoke_user))
        .routes(routes!(web::config))
        .routes(routes!(web::regions::region))
        .routes(routes!(web::regions::units))
        .routes(routes!(web::regions::labels))
        .routes(routes!(web::progress::progress))
        // Every request but the event stream (which lasts) is cut off after a while.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .routes(routes!(events::stream))
}

/// The document, made once from the routes.
pub fn doc() -> &'static utoipa::openapi::OpenApi {
    static DOC: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(|| {
        let mut doc = api().into_openapi();
        doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
        doc
    });
    &DOC
}

/// `GET /api/openapi.json`.
#[utoipa::path(get, path = "/api/openapi.json", tag = "service", security(()),
    responses((status = 200, description = "This document", body = serde_json::Value)))]
pub async fn document() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(doc())
}
