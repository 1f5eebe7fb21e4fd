//! The OpenAPI 3.1 document of the HTTP API, generated with `utoipa` and served at
//! `GET /api/openapi.json`. Each operation is described here, next to the others, by a
//! documentation function; `tests/openapi.rs` checks that every route of the router is
//! in it and that real answers match the schemas it gives.

#![allow(
    dead_code,
    reason = "the functions below only carry the `#[utoipa::path]` descriptions"
)]

use axum::Json;
use serde::Serialize;
use serde_json::Value;
use utoipa::{OpenApi, ToSchema};

use super::hazards::{ClosureBody, YellowCardBody};
use super::session::{NewUser, SignIn};
use super::targets::NewTargetBody;
use super::units::{NewUnitBody, UnitPatchBody};
use super::visits::{DatedBody, FoundHazardBody, VisitBody};
use crate::domain::{Batch, Category, Colour, RiskLevel, Severity, Stage, UnitKind};
use crate::store::EventKind;

/// The body of every error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// The HTTP status, again.
    status: u16,
    /// `bad_parameter`, `not_found`, `method_not_allowed`, `conflict`, `too_large`,
    /// `unsupported_type`, `unprocessable` or `internal`.
    code: String,
    /// In the client's terms.
    message: String,
    /// The parameter, body field (`hazards[0].severity`) or header at fault.
    field: Option<String>,
}

/// The answer to every write.
#[derive(Debug, Serialize, ToSchema)]
pub struct WriteAnswer {
    /// The number of the event the write appended to the log.
    seq: i64,
    /// What happened.
    #[serde(rename = "type")]
    kind: EventKind,
    /// The unit concerned.
    unit: Option<i64>,
    /// The hazard concerned.
    hazard: Option<i64>,
    /// The unit's colour before.
    colour_before: Option<Colour>,
    /// And after.
    colour_after: Option<Colour>,
    /// What was written, with the new ids.
    record: Value,
}

/// An event of the log.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventBody {
    /// Position in the log.
    seq: i64,
    /// When it happened.
    at: String,
    /// What happened.
    #[serde(rename = "type")]
    kind: EventKind,
    /// Who did it (`system` for the clock).
    by: String,
    /// The unit.
    unit: Option<i64>,
    /// Its name when it happened.
    unit_name: Option<String>,
    /// The hazard.
    hazard: Option<i64>,
    /// The region it happened in.
    region: Option<String>,
    /// Colour before.
    colour_before: Option<Colour>,
    /// Colour after.
    colour_after: Option<Colour>,
    /// The record before.
    before: Value,
    /// The record after.
    after: Value,
}

/// A page of the event log.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// The last number in the log.
    last_seq: i64,
    /// The events.
    events: Vec<EventBody>,
}

/// A unit's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    /// The unit.
    unit: i64,
    /// Its events, oldest first.
    events: Vec<EventBody>,
}

/// A hazard on a unit's card.
#[derive(Debug, Serialize, ToSchema)]
pub struct HazardCard {
    id: i64,
    unit: i64,
    inspection: i64,
    category: Category,
    hazard_type: String,
    severity: Severity,
    stage: Stage,
    found_at: String,
    deadline: Option<String>,
    yellow_card_at: Option<String>,
    closed_at: Option<String>,
    evidence: Option<String>,
    open: bool,
    overdue: bool,
    overdue_days: i64,
}

/// A unit's card.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitCard {
    id: i64,
    kind: UnitKind,
    name: String,
    address: String,
    owner_name: String,
    owner_phone: String,
    location: Vec<f64>,
    micro_grid: String,
    risk: RiskLevel,
    batch: Option<Batch>,
    host: Option<i64>,
    registered_at: String,
    /// The moment the card is for.
    at: String,
    /// `null` before the unit was registered.
    colour: Option<Colour>,
    suspended: bool,
    hazards: Vec<HazardCard>,
    inspections: Vec<Value>,
    suspensions: Vec<Value>,
    attachments: Vec<Value>,
    links: Value,
}

const WRITE: &str = "Idempotency-Key: a retry with the same key and request answers the first \
                     answer again (header `Idempotent-Replayed: true`) and changes nothing.";

#[utoipa::path(get, path = "/healthz", tag = "service", security(()),
    responses((status = 200, description = "Loaded and serving", body = Value)))]
fn healthz() {}

#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "Prometheus text", content_type = "text/plain", body = String)))]
fn metrics() {}

#[utoipa::path(get, path = "/api/openapi.json", tag = "service", security(()),
    responses((status = 200, description = "This document", body = Value)))]
fn openapi() {}

#[utoipa::path(get, path = "/api/stats", tag = "figures",
    params(
        ("region" = Option<String>, Query, description = "A region id: its subtree"),
        ("at" = Option<String>, Query, description = "YYYY-MM-DD (end of that day, UTC+8) or RFC 3339; default now"),
        ("kind" = Option<String>, Query, description = "Comma list of unit kinds"),
        ("colour" = Option<String>, Query, description = "Comma list of colours"),
    ),
    responses(
        (status = 200, description = "Figures", body = Value),
        (status = 400, description = "Bad parameter", body = ErrorBody),
        (status = 404, description = "Unknown region", body = ErrorBody),
    ))]
fn stats() {}

#[utoipa::path(get, path = "/api/rankings", tag = "figures",
    params(
        ("level" = Option<String>, Query, description = "village (default), group or grid"),
        ("metric" = Option<String>, Query, description = "inspection_rate (default) or closure_rate"),
        ("at" = Option<String>, Query, description = "A date or RFC 3339 moment"),
    ),
    responses(
        (status = 200, description = "The ranking", body = Value),
        (status = 400, description = "Bad parameter", body = ErrorBody),
    ))]
fn rankings() {}

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
        (status = 400, description = "Bad parameter", body = ErrorBody),
        (status = 404, description = "Unknown layer or region", body = ErrorBody),
    ))]
fn tile() {}

#[utoipa::path(get, path = "/tiles/{layers}.json", tag = "tiles",
    params(("layers" = String, Path, description = "units, regions, hexes or a comma list")),
    responses(
        (status = 200, description = "TileJSON 3.0", body = Value),
        (status = 404, description = "Unknown layer", body = ErrorBody),
    ))]
fn tilejson() {}

#[utoipa::path(get, path = "/ogc", tag = "ogc",
    responses((status = 200, description = "OGC API – Features landing page", body = Value)))]
fn ogc_landing() {}

#[utoipa::path(get, path = "/ogc/conformance", tag = "ogc",
    responses((status = 200, description = "Conformance classes", body = Value)))]
fn ogc_conformance() {}

#[utoipa::path(get, path = "/ogc/collections", tag = "ogc",
    responses((status = 200, description = "The collections", body = Value)))]
fn ogc_collections() {}

#[utoipa::path(get, path = "/ogc/collections/{collection}", tag = "ogc",
    params(("collection" = String, Path, description = "units, villages, grids, micro_grids or hexes")),
    responses(
        (status = 200, description = "A collection", body = Value),
        (status = 404, description = "No such collection", body = ErrorBody),
    ))]
fn ogc_collection() {}

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
        (status = 200, description = "GeoJSON FeatureCollection", content_type = "application/geo+json", body = Value),
        (status = 400, description = "Bad parameter", body = ErrorBody),
        (status = 404, description = "No such collection", body = ErrorBody),
    ))]
fn ogc_items() {}

#[utoipa::path(get, path = "/ogc/collections/{collection}/items/{id}", tag = "ogc",
    params(("collection" = String, Path), ("id" = String, Path)),
    responses(
        (status = 200, description = "A GeoJSON Feature", content_type = "application/geo+json", body = Value),
        (status = 404, description = "No such feature", body = ErrorBody),
    ))]
fn ogc_item() {}

#[utoipa::path(post, path = "/api/units", tag = "units", description = WRITE,
    request_body = NewUnitBody,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, description = "Registered", body = WriteAnswer),
        (status = 400, description = "A field is wrong (named)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 422, description = "Idempotency-Key reused", body = ErrorBody),
    ))]
fn register_unit() {}

#[utoipa::path(get, path = "/api/units/{id}", tag = "units",
    params(("id" = i64, Path, minimum = 1), ("at" = Option<String>, Query)),
    responses(
        (status = 200, description = "The unit's card", body = UnitCard),
        (status = 404, description = "No such unit", body = ErrorBody),
    ))]
fn unit_card() {}

#[utoipa::path(patch, path = "/api/units/{id}", tag = "units", description = WRITE,
    request_body = UnitPatchBody,
    params(("id" = i64, Path, minimum = 1), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 200, description = "Edited", body = WriteAnswer),
        (status = 400, description = "A field is wrong (named)", body = ErrorBody),
        (status = 404, description = "No such unit", body = ErrorBody),
    ))]
fn edit_unit() {}

#[utoipa::path(get, path = "/api/units/{id}/history", tag = "units",
    params(("id" = i64, Path, minimum = 1), ("after" = Option<i64>, Query), ("limit" = Option<u32>, Query)),
    responses(
        (status = 200, description = "The unit's events, oldest first", body = History),
        (status = 404, description = "No such unit", body = ErrorBody),
    ))]
fn unit_history() {}

#[utoipa::path(post, path = "/api/units/{id}/inspections", tag = "field work", description = WRITE,
    request_body = VisitBody,
    params(("id" = i64, Path, minimum = 1), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, description = "Recorded; hazards created", body = WriteAnswer),
        (status = 400, description = "A field is wrong (named)", body = ErrorBody),
        (status = 404, description = "No such unit", body = ErrorBody),
        (status = 422, description = "Idempotency-Key reused", body = ErrorBody),
    ))]
fn inspect() {}

#[utoipa::path(post, path = "/api/units/{id}/reinspections", tag = "field work", description = WRITE,
    request_body = VisitBody,
    params(("id" = i64, Path, minimum = 1), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, description = "Recorded", body = WriteAnswer),
        (status = 400, description = "A field is wrong (named)", body = ErrorBody),
        (status = 404, description = "No such unit", body = ErrorBody),
    ))]
fn reinspect() {}

#[utoipa::path(post, path = "/api/units/{id}/suspend", tag = "field work", description = WRITE,
    request_body = DatedBody,
    params(("id" = i64, Path, minimum = 1), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 200, description = "Suspended (black)", body = WriteAnswer),
        (status = 404, description = "No such unit", body = ErrorBody),
        (status = 409, description = "Already suspended", body = ErrorBody),
    ))]
fn suspend() {}

#[utoipa::path(post, path = "/api/units/{id}/resume", tag = "field work", description = WRITE,
    request_body = DatedBody,
    params(("id" = i64, Path, minimum = 1), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 200, description = "Resumed", body = WriteAnswer),
        (status = 404, description = "No such unit", body = ErrorBody),
        (status = 409, description = "Not suspended", body = ErrorBody),
    ))]
fn resume() {}

#[utoipa::path(post, path = "/api/units/{id}/attachments", tag = "field work", description = WRITE,
    request_body(content = Vec<u8>, description = "The raw file: JPEG, PNG, WebP, HEIF, AVIF, PDF (floor plans), MP4, QuickTime, WebM (videos)", content_type = "application/octet-stream"),
    params(
        ("id" = i64, Path, minimum = 1),
        ("kind" = String, Query, description = "photo (≤ 10 MiB), video (≤ 50 MiB) or floor_plan (≤ 20 MiB)"),
        ("by" = Option<String>, Query),
        ("Idempotency-Key" = Option<String>, Header),
    ),
    responses(
        (status = 201, description = "Stored, named by its SHA-256", body = WriteAnswer),
        (status = 400, description = "Bad kind or empty file", body = ErrorBody),
        (status = 404, description = "No such unit", body = ErrorBody),
        (status = 413, description = "Over the limit for its kind", body = ErrorBody),
        (status = 415, description = "Not a type this kind takes", body = ErrorBody),
    ))]
fn attach() {}

#[utoipa::path(get, path = "/api/attachments/{hash}", tag = "field work",
    params(("hash" = String, Path, description = "SHA-256, hex")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such file", body = ErrorBody),
    ))]
fn attachment() {}

#[utoipa::path(post, path = "/api/hazards/{id}/yellow-card", tag = "field work", description = WRITE,
    request_body = YellowCardBody,
    params(("id" = i64, Path, minimum = 1), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 200, description = "Issued", body = WriteAnswer),
        (status = 400, description = "Deadline in the past, or another field (named)", body = ErrorBody),
        (status = 404, description = "No such hazard", body = ErrorBody),
        (status = 409, description = "Already closed", body = ErrorBody),
    ))]
fn yellow_card() {}

#[utoipa::path(post, path = "/api/hazards/{id}/close", tag = "field work", description = WRITE,
    request_body = ClosureBody,
    params(("id" = i64, Path, minimum = 1), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 200, description = "Closed (销号)", body = WriteAnswer),
        (status = 400, description = "A field is wrong (named)", body = ErrorBody),
        (status = 404, description = "No such hazard", body = ErrorBody),
        (status = 409, description = "Already closed", body = ErrorBody),
    ))]
fn close() {}

#[utoipa::path(get, path = "/api/events", tag = "events",
    params(
        ("after" = Option<i64>, Query, description = "Events after this number, oldest first"),
        ("limit" = Option<u32>, Query, description = "1–1000, default 50"),
        ("region" = Option<String>, Query), ("unit" = Option<i64>, Query),
    ),
    responses(
        (status = 200, description = "A page of the log", body = EventPage),
        (status = 400, description = "Bad parameter", body = ErrorBody),
        (status = 404, description = "Unknown region", body = ErrorBody),
    ))]
fn events() {}

#[utoipa::path(get, path = "/api/events/stream", tag = "events",
    params(
        ("region" = Option<String>, Query), ("after" = Option<i64>, Query),
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event"),
    ),
    responses(
        (status = 200, description = "Server-Sent Events: `id:` the number, `data:` an event", content_type = "text/event-stream", body = String),
        (status = 400, description = "Bad parameter", body = ErrorBody),
        (status = 404, description = "Unknown region", body = ErrorBody),
    ))]
fn event_stream() {}

#[utoipa::path(get, path = "/api/targets", tag = "targets",
    params(("week" = Option<String>, Query, description = "ISO week YYYY-Www; default this week")),
    responses(
        (status = 200, description = "Each group's target and closures by day", body = Value),
        (status = 400, description = "Bad week", body = ErrorBody),
    ))]
fn targets() {}

#[utoipa::path(post, path = "/api/targets", tag = "targets", description = WRITE,
    request_body = NewTargetBody,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 200, description = "Set", body = WriteAnswer),
        (status = 400, description = "A field is wrong (named)", body = ErrorBody),
    ))]
fn set_target() {}

#[utoipa::path(get, path = "/api/config", tag = "page", security(()),
    responses((status = 200, description = "`{\"basemap\": null | {\"tiles\": [template…]}}`: the raster basemap set by `--basemap-url`", body = Value)))]
fn page_config() {}

#[utoipa::path(get, path = "/api/regions/{id}", tag = "page",
    params(
        ("id" = String, Path, description = "A region id, or `town`"),
        ("at" = Option<String>, Query, description = "A date or RFC 3339 moment; default now"),
        ("kind" = Option<String>, Query, description = "Comma list of unit kinds"),
        ("colour" = Option<String>, Query, description = "Comma list of colours"),
    ),
    responses(
        (status = 200, description = "The region, its `path` from the town, its `bbox`, its `figures` and each child's", body = Value),
        (status = 400, description = "Bad parameter", body = ErrorBody),
        (status = 404, description = "No such region", body = ErrorBody),
    ))]
fn page_region() {}

#[utoipa::path(get, path = "/api/regions/{id}/units", tag = "page",
    params(
        ("id" = String, Path, description = "A village, grid or micro-grid id"),
        ("at" = Option<String>, Query, description = "A date or RFC 3339 moment; default now"),
    ),
    responses(
        (status = 200, description = "Its units, most urgent first (overdue, red, black, orange, yellow, uninspected, green), with kind, colour, open and overdue hazards, name and address", body = Value),
        (status = 400, description = "Bad parameter, or a region above the village", body = ErrorBody),
        (status = 404, description = "No such region", body = ErrorBody),
    ))]
fn page_region_units() {}

#[utoipa::path(get, path = "/api/labels", tag = "page",
    params(
        ("level" = Option<String>, Query, description = "village (default), grid or micro_grid"),
        ("region" = Option<String>, Query, description = "Only within this region"),
    ),
    responses(
        (status = 200, description = "GeoJSON points, one inside each region, with `id`, `level` and `name`", body = Value),
        (status = 400, description = "Bad parameter", body = ErrorBody),
        (status = 404, description = "No such region", body = ErrorBody),
    ))]
fn page_labels() {}

#[utoipa::path(get, path = "/api/progress", tag = "page",
    params(("region" = Option<String>, Query, description = "A region id; default the town")),
    responses(
        (status = 200, description = "Hazards found and closed on each day with any, running totals and the closure rate", body = Value),
        (status = 400, description = "Bad parameter", body = ErrorBody),
        (status = 404, description = "No such region", body = ErrorBody),
    ))]
fn page_progress() {}

#[utoipa::path(post, path = "/api/session", tag = "session", security(()),
    request_body = SignIn,
    responses(
        (status = 201, description = "Signed in: `token` (Bearer, 12 h), `expires_at`, `user`; also set as the page's HttpOnly cookie", body = Value),
        (status = 400, description = "Neither name and password nor token", body = ErrorBody),
        (status = 401, description = "Wrong name or password, or a token refused", body = ErrorBody),
        (status = 429, description = "Too many failed sign-ins for this name (Retry-After)", body = ErrorBody),
    ))]
fn sign_in() {}

#[utoipa::path(get, path = "/api/session", tag = "session",
    responses(
        (status = 200, description = "Who the token is: `user` (name, role, scope), `kind`, `expires_at`, `home` (where their views start)", body = Value),
        (status = 401, description = "No valid token", body = ErrorBody),
    ))]
fn whoami() {}

#[utoipa::path(delete, path = "/api/session", tag = "session",
    responses(
        (status = 204, description = "The token is revoked and the cookie cleared"),
        (status = 401, description = "No valid token", body = ErrorBody),
    ))]
fn sign_out() {}

#[utoipa::path(get, path = "/api/users", tag = "users", description = "Admins only.",
    responses(
        (status = 200, description = "Every user: role, scope, live tokens; a wall screen's user is `wall: true`", body = Value),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
fn list_users() {}

#[utoipa::path(post, path = "/api/users", tag = "users", description = "Admins only.",
    request_body = NewUser,
    responses(
        (status = 201, description = "Created: `user` and, shown once, `password` (or `token` for a wall screen)", body = Value),
        (status = 400, description = "A field is wrong (named)", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
    ))]
fn create_user() {}

#[utoipa::path(post, path = "/api/users/{name}/revoke", tag = "users", description = "Admins only.",
    params(("name" = String, Path)),
    responses(
        (status = 200, description = "`revoked`: how many tokens", body = Value),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ))]
fn revoke_user() {}

/// Bearer tokens for every operation but the public ones.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        };
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        doc.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "onemap",
        description = "One map of every registered unit's hazard state, for a safety command post.",
    ),
    paths(
        healthz,
        metrics,
        openapi,
        stats,
        rankings,
        tile,
        tilejson,
        ogc_landing,
        ogc_conformance,
        ogc_collections,
        ogc_collection,
        ogc_items,
        ogc_item,
        register_unit,
        unit_card,
        edit_unit,
        unit_history,
        inspect,
        reinspect,
        suspend,
        resume,
        attach,
        attachment,
        yellow_card,
        close,
        events,
        event_stream,
        targets,
        set_target,
        page_config,
        page_region,
        page_region_units,
        page_labels,
        page_progress,
        sign_in,
        whoami,
        sign_out,
        list_users,
        create_user,
        revoke_user,
    ),
    modifiers(&BearerAuth),
    components(schemas(
        ErrorBody,
        ErrorDetail,
        WriteAnswer,
        EventBody,
        EventPage,
        History,
        UnitCard,
        HazardCard,
        NewUnitBody,
        UnitPatchBody,
        VisitBody,
        FoundHazardBody,
        DatedBody,
        YellowCardBody,
        ClosureBody,
        NewTargetBody,
        SignIn,
        NewUser,
    ))
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    Json(doc)
}
