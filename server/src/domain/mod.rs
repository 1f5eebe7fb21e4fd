//! The domain of the Guali pilot, in the glossary's words (see `shared/DOMAIN.md`).
//!
//! Everything here is plain data and pure functions: no I/O, no clocks. Values are
//! parsed at the edge (HTTP, store rows) into these types, so code inside trusts them.

pub mod change;
pub mod channel;
pub mod checklist;
pub mod colour;
pub mod event;
pub mod fix;
pub mod hash;
pub mod hazard;
pub mod ids;
pub mod import;
pub mod location;
pub mod moment;
pub mod region;
pub mod text;
pub mod time;
pub mod unit;
pub mod user;

pub use change::{
    Attachment, AttachmentKind, BriefingComment, BriefingDelivery, BriefingSend, Change, Closure,
    IsoWeek, NewHazard, NewUnit, NewVisit, Target, UnitEdit, YellowCard,
};
pub use colour::{Colour, HazardFacts, UnitFacts, colour_of};
pub use event::{Event, EventKind, NewEvent};
pub use fix::{FixLink, FixRejection, FixReport, FixStatus, FixToken, NewFixLink, NewFixReport};
pub use hash::ContentHash;
pub use hazard::{Category, Hazard, Inspection, InspectionKind, Severity, Stage};
pub use ids::{FixLinkId, FixReportId, HazardId, IdError, InspectionId, RegionId, UnitId};
pub use import::{
    Crs, ExternalId, ImportedUnit, PastHazard, PastMoments, PastVisit, RecordImport, RegionImport,
    UnitImport,
};
pub use location::Location;
pub use moment::{Deadline, PastMoment};
pub use region::{Level, Region};
pub use text::Text;
pub use unit::{Batch, RiskLevel, Suspension, Unit, UnitKind};
pub use user::{Action, Role, TokenKind, TokenRecord, User};

/// A value that did not parse into a domain type; names what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {what} (expected one of: {expected})")]
pub struct ParseEnumError {
    /// What kind of value it should have been, e.g. "unit kind".
    pub what: &'static str,
    /// The rejected text.
    pub value: String,
    /// The accepted spellings, comma separated.
    pub expected: &'static str,
}

/// Declares a closed vocabulary: a `Copy` enum with one stable lowercase spelling per
/// variant, used in JSON, in the stores and in URLs alike.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable spelling used in JSON, URLs and the stores.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        // By hand: utoipa's derive does not see serde renames made inside a macro.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some(concat!("A ", $what, ".")))
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::ParseEnumError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::domain::ParseEnumError {
                        what: $what,
                        value: s.to_owned(),
                        expected: concat!($($text, " "),+).trim_ascii_end(),
                    }),
                }
            }
        }
    };
}
pub(crate) use vocabulary;
