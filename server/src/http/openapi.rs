//! The OpenAPI 3.1 document of the HTTP API, generated with `utoipa` and served at
//! `GET /api/openapi.json`. Each handler declares its own operation (`#[utoipa::path]`:
//! path, statuses, bodies, and in `x-onemap-action` the action its role needs) and the
//! router gathers them (utoipa-axum), so a route and its description cannot part; the
//! access gate reads each route's action from the same document. Here: the error
//! answers every operation shares, the header a write takes, and the rest of the
//! document. `tests/openapi.rs` checks that real answers match the schemas.

use utoipa::OpenApi;

pub use super::error::{ErrorBody, ErrorDetail};

/// What every write's description says of retries.
pub const WRITE: &str = "Idempotency-Key: a retry with the same key and request answers the first \
                     answer again (header `Idempotent-Replayed: true`) and changes nothing.";

/// The `Idempotency-Key` header a write takes.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKey {
    /// Any unique string (1–200 characters): a retry with it answers the first answer.
    #[param(rename = "Idempotency-Key")]
    pub key: Option<String>,
}

/// Declares an error answer: its status and what it means, the body an [`ErrorBody`].
macro_rules! error_answer {
    ($($(#[$doc:meta])* $name:ident = $status:literal, $description:literal;)+) => {$(
        $(#[$doc])*
        #[derive(Debug, utoipa::IntoResponses)]
        #[response(status = $status, description = $description)]
        pub struct $name(pub ErrorBody);
    )+};
}

error_answer! {
    /// 400.
    BadRequest = 400, "A parameter or body field is wrong (named in `field`)";
    /// 401.
    Unauthorized = 401, "No valid token: sign in";
    /// 403.
    Forbidden = 403, "The role or the scope does not allow it";
    /// 404.
    NotFound = 404, "No such record (or not the reader's to see)";
    /// 409.
    Conflict = 409, "It contradicts what is recorded";
    /// 413.
    TooLarge = 413, "The body is over the limit";
    /// 415.
    UnsupportedType = 415, "The body is not of a type this takes";
    /// 422.
    Unprocessable = 422, "The Idempotency-Key was used for another request";
    /// 429.
    Locked = 429, "Too many failed sign-ins for this name (Retry-After)";
}

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

/// What the document holds beside the operations, which each handler declares (the
/// router gathers them with the schemas they name): the title, the bearer scheme and
/// the shared schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "onemap",
        description = "One map of every registered unit's hazard state, for a safety command post.",
    ),
    modifiers(&BearerAuth),
    components(schemas(
        ErrorBody,
        ErrorDetail,
        crate::writes::WriteAnswer,
        crate::domain::Event,
        crate::domain::NewEvent,
    ))
)]
pub struct ApiDoc;
