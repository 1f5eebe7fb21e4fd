//! Identifier newtypes. A `RegionId` is validated once, where it enters the program.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// An identifier that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Empty or longer than the limit.
    #[error("must be 1 to {max} characters long")]
    Length {
        /// The longest accepted id.
        max: usize,
    },
    /// A character outside `[0-9A-Za-z_-]`.
    #[error("may only contain letters, digits, `-` and `_`")]
    Charset,
    /// A numeric id that is not a positive integer.
    #[error("must be a positive integer")]
    NotPositive,
}

/// The id of a place at any level (town, area, group, village, grid, micro-grid).
///
/// Official statistical codes are used where they exist (the village `330109113011`),
/// derived ids below them (`330109113011-g01-m07`). Cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct RegionId(Arc<str>);

impl RegionId {
    /// The longest accepted id.
    pub const MAX_LEN: usize = 64;

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for RegionId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        if s.is_empty() || s.len() > Self::MAX_LEN {
            return Err(IdError::Length { max: Self::MAX_LEN });
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(IdError::Charset);
        }
        Ok(RegionId(Arc::from(s)))
    }
}

/// Lets maps keyed by id be searched with a `&str` (same hash and equality as the text).
impl std::borrow::Borrow<str> for RegionId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl<'de> serde::Deserialize<'de> for RegionId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for RegionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RegionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegionId({})", self.0)
    }
}

macro_rules! numeric_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(std::num::NonZeroI64);

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $name::new(i64::deserialize(d)?).map_err(serde::de::Error::custom)
            }
        }

        impl $name {
            /// Wraps a positive database id.
            pub fn new(raw: i64) -> Result<Self, IdError> {
                match std::num::NonZeroI64::new(raw) {
                    Some(n) if raw > 0 => Ok($name(n)),
                    _ => Err(IdError::NotPositive),
                }
            }

            /// The raw database id.
            pub const fn get(self) -> i64 {
                self.0.get()
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                s.parse::<i64>().map_err(|_| IdError::NotPositive).and_then($name::new)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

numeric_id!(
    /// The id of a registered unit (enterprise, shop, rental room, high-rise).
    UnitId
);
numeric_id!(
    /// The id of a hazard found at an inspection.
    HazardId
);
numeric_id!(
    /// The id of an inspection or re-inspection visit.
    InspectionId
);
numeric_id!(
    /// The id of an owner's fix link.
    FixLinkId
);
numeric_id!(
    /// The id of an owner's fix report.
    FixReportId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_ids_are_validated() {
        assert!("330109113011-g01-m07".parse::<RegionId>().is_ok());
        assert_eq!("".parse::<RegionId>(), Err(IdError::Length { max: 64 }));
        assert_eq!("a b".parse::<RegionId>(), Err(IdError::Charset));
        assert_eq!("<script>".parse::<RegionId>(), Err(IdError::Charset));
        assert!("x".repeat(65).parse::<RegionId>().is_err());
    }

    #[test]
    fn numeric_ids_are_positive() {
        assert_eq!("12".parse::<UnitId>().map(UnitId::get), Ok(12));
        assert!("0".parse::<UnitId>().is_err());
        assert!("-3".parse::<HazardId>().is_err());
        assert!("1e3".parse::<InspectionId>().is_err());
    }
}
