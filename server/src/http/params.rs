//! Query parameters, parsed so that every mistake is a 400 naming the parameter:
//! unknown names, repeated names and values that do not parse.

use std::collections::BTreeMap;
use std::str::FromStr;

use axum::extract::{FromRequestParts, RawQuery};
use axum::http::request::Parts;

use chrono::{DateTime, NaiveDate, Utc};

use super::error::ApiError;
use crate::auth::access::Access;
use crate::domain::RegionId;
use crate::domain::time::{Days, Zone};
use crate::state::MapState;
use crate::state::aggregate::UnitFilter;

/// A page of a list: skip `offset` items, then take at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Items skipped.
    pub offset: usize,
    /// Items taken at most.
    pub limit: usize,
}

impl Page {
    /// The page's part of `items`.
    pub fn of<T>(self, items: &[T]) -> &[T] {
        let from = self.offset.min(items.len());
        &items[from..(from.saturating_add(self.limit)).min(items.len())]
    }
}

/// The query string of a request, as name → value.
#[derive(Debug, Clone, Default)]
pub struct Params(BTreeMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let RawQuery(raw) = RawQuery::from_request_parts(parts, state)
            .await
            .unwrap_or(RawQuery(None));
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
            .map_err(|e| ApiError::bad("query", format!("the query string does not parse: {e}")))?;
        let mut map = BTreeMap::new();
        for (k, v) in pairs {
            if map.contains_key(&k) {
                return Err(ApiError::bad(k, "given more than once"));
            }
            map.insert(k, v);
        }
        Ok(Params(map))
    }
}

impl Params {
    /// Refuses any parameter not in `allowed`.
    pub fn only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(ApiError::bad(
                k.clone(),
                format!(
                    "unknown parameter; this endpoint takes: {}",
                    allowed.join(", ")
                ),
            )),
            None => Ok(()),
        }
    }

    /// The value of `name` parsed as `T`, if present.
    pub fn get<T>(&self, name: &str) -> Result<Option<T>, ApiError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        self.0
            .get(name)
            .map(|v| {
                v.parse::<T>()
                    .map_err(|e| ApiError::bad(name, e.to_string()))
            })
            .transpose()
    }

    /// The value of `name` as a comma list, each item parsed as `T` (an empty item or
    /// an empty list is an error).
    pub fn list<T>(&self, name: &str) -> Result<Option<Vec<T>>, ApiError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        let Some(v) = self.0.get(name) else {
            return Ok(None);
        };
        v.split(',')
            .map(|item| {
                item.trim()
                    .parse::<T>()
                    .map_err(|e| ApiError::bad(name, e.to_string()))
            })
            .collect::<Result<Vec<T>, _>>()
            .map(Some)
    }

    /// The value of `name` as a moment (`YYYY-MM-DD`: the end of that day at the town's
    /// `zone`, or an RFC 3339 timestamp), if present.
    pub fn moment(&self, name: &str, zone: Zone) -> Result<Option<DateTime<Utc>>, ApiError> {
        self.0
            .get(name)
            .map(|s| {
                zone.parse_moment(s)
                    .map_err(|e| ApiError::bad(name, e.to_string()))
            })
            .transpose()
    }

    /// The days from `from` to `to` (`YYYY-MM-DD` at the town's `zone`, both included;
    /// either may be left out): `from` after `to` is refused, naming `from`.
    pub fn days(&self, from: &str, to: &str, zone: Zone) -> Result<Days, ApiError> {
        let (first, last) = (self.get::<NaiveDate>(from)?, self.get::<NaiveDate>(to)?);
        Days::new(first, last, zone)
            .map_err(|e| ApiError::bad(from, format!("{e}: {from} must not be after {to}")))
    }

    /// The unit filter of a request (`kind=`, `colour=`, `region=`), within the scope: a
    /// `region=` out of scope is 404.
    pub fn unit_filter(&self, who: &Access, map: &MapState) -> Result<UnitFilter, ApiError> {
        let mut f = UnitFilter::default();
        if let Some(kinds) = self.list("kind")? {
            f = f.with_kinds(&kinds);
        }
        if let Some(colours) = self.list("colour")? {
            f = f.with_colours(&colours);
        }
        if let Some(id) = self.get::<RegionId>("region")? {
            f.region = Some(who.region_touching(map, id.as_str())?);
        }
        // Within a region wholly in scope, the scope filters nothing: leave it out, so
        // the live figures serve.
        let covered = f.region.is_some_and(|r| who.scope.covers(map, r));
        if !covered {
            f.scope = who.scope.clone();
        }
        Ok(f)
    }

    /// `offset` (0 when absent) and `limit` (1..=`max`, `default` when absent) of a
    /// paged list: a limit out of range is refused, not clamped, so a client never
    /// takes a short page for the end of the list.
    pub fn page(&self, default: usize, max: usize) -> Result<Page, ApiError> {
        let limit = match self.get::<String>("limit")? {
            None => default,
            Some(v) => v
                .trim()
                .parse::<i128>()
                .ok()
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::bad(
                        "limit",
                        format!("`{v}` is not a whole number from 1 to {max}"),
                    )
                })?,
        };
        let offset = match self.get::<String>("offset")? {
            None => 0,
            Some(v) => v.trim().parse::<usize>().map_err(|_| {
                ApiError::bad("offset", format!("`{v}` is not a whole number to skip"))
            })?,
        };
        Ok(Page { offset, limit })
    }

    /// The query string with `set` replacing (or adding) those parameters, for links
    /// to other pages of the same query.
    pub fn query_with(&self, set: &[(&str, String)]) -> String {
        let mut map = self.0.clone();
        for (k, v) in set {
            map.insert((*k).to_owned(), v.clone());
        }
        serde_urlencoded::to_string(&map).unwrap_or_default()
    }

    /// The parameters again as a query string (sorted by name).
    pub fn query_string(&self) -> String {
        serde_urlencoded::to_string(&self.0).unwrap_or_default()
    }
}
