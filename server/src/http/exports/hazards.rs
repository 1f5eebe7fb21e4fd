//! `GET /api/exports/hazards?format=&lang=&region=&at=&from=&to=&kind=&colour=`: the
//! hazards of the units the reader may see, each with its state at a moment.

use std::collections::{BTreeSet, HashMap};

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};

use super::{Export, Format, file, lang_of, names_of};
use crate::app::AppState;
use crate::auth::access::Access;
use crate::domain::time::Zone;
use crate::domain::{Hazard, HazardId, UnitId};
use crate::http::error::ApiError;
use crate::http::params::Params;
use crate::views::export::hazards::{HazardRow, cells, feature, found, header};
use crate::views::export::{Cell, Lang, place_of};

/// Exports hazards with their state at a moment.
#[utoipa::path(get, path = "/api/exports/hazards", tag = "imports",
    params(
        ("format" = Option<String>, Query, description = "csv (default; UTF-8 with BOM), xlsx or geojson (the unit's point per hazard)"),
        ("lang" = Option<String>, Query, description = "zh (default) or en: the headers and words of CSV and XLSX"),
        ("region" = Option<String>, Query, description = "A region id: its subtree (within the reader's scope)"),
        ("at" = Option<String>, Query, description = "The moment of each hazard's state: YYYY-MM-DD (end of that day in the town's time zone) or RFC 3339; default now. Hazards found later are left out"),
        ("from" = Option<String>, Query, description = "Only hazards found on or after this day (YYYY-MM-DD, the town's day)"),
        ("to" = Option<String>, Query, description = "Only hazards found on or before this day (YYYY-MM-DD, the town's day)"),
        ("kind" = Option<String>, Query, description = "Comma-separated unit kinds"),
        ("colour" = Option<String>, Query, description = "Comma-separated colours of the unit at `at`"),
    ),
    responses(
        (status = 200, description = "The file, as an attachment", content(
            (String = "text/csv"),
            (serde_json::Value = "application/geo+json"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        crate::http::openapi::BadRequest,
        crate::http::openapi::NotFound,
    ))]
pub async fn export_hazards(
    State(app): State<AppState>,
    who: Access,
    params: Params,
) -> Result<Response, ApiError> {
    params.only(&[
        "format", "lang", "region", "at", "from", "to", "kind", "colour",
    ])?;
    let format = Format::of(&params)?;
    let lang = lang_of(&params)?;
    let at = params.moment("at", app.zone)?;
    let days = params.days("from", "to", app.zone)?;
    let (at, ids, region) = {
        let (map, now) = app.read_now()?;
        let at = at.unwrap_or(now);
        let filter = params.unit_filter(&who, &map)?;
        let ids = found(&map, &filter, at, &days);
        let home = filter.region.unwrap_or_else(|| who.home(&map));
        (at, ids, map.regions.get(home).id.to_string())
    };
    let name = format!("hazards-{region}-{}", app.zone.date_of(at).format("%Y%m%d"));
    let zone = app.zone;
    Ok(file(app, Hazards { at, zone }, ids, format, lang, &name))
}

/// The hazards export, as of `at`.
pub(super) struct Hazards {
    at: DateTime<Utc>,
    /// The town's, whose clocks the sheet's times are on.
    zone: Zone,
}

impl Export for Hazards {
    type Key = HazardId;
    type Row = HazardRow;

    fn header(&self, lang: Lang) -> Vec<&'static str> {
        header(lang)
    }

    /// The hazards of `ids` with their units' names and places, in the order of `ids`.
    async fn rows(&self, app: &AppState, ids: &[HazardId]) -> Result<Vec<HazardRow>, ApiError> {
        let mut hazards: HashMap<HazardId, Hazard> = app
            .store
            .hazards_by_id(ids)
            .await?
            .into_iter()
            .map(|h| (h.id, h))
            .collect();
        let units: BTreeSet<UnitId> = hazards.values().map(|h| h.unit).collect();
        let names = names_of(app, &units.into_iter().collect::<Vec<_>>()).await?;
        let map = app.map.read().map_err(|_| crate::app::Poisoned)?;
        Ok(ids
            .iter()
            .filter_map(|id| {
                let hazard = hazards.remove(id)?;
                let place = place_of(&map, map.unit(hazard.unit)?);
                let (unit_name, external_id) = names.get(&hazard.unit).cloned().unwrap_or_default();
                Some(HazardRow {
                    hazard,
                    external_id,
                    unit_name,
                    place,
                })
            })
            .collect())
    }

    fn cells(&self, row: &HazardRow, lang: Lang) -> Vec<Cell> {
        cells(row, self.at, lang, self.zone)
    }

    fn feature(&self, row: &HazardRow) -> String {
        feature(row, self.at)
    }
}
