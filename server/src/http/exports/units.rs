//! `GET /api/exports/units?format=csv|xlsx|geojson&lang=zh|en&region=&kind=&colour=`:
//! the units the reader may see, with their colour now.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Response;

use super::{Export, Format, file, lang_of};
use crate::app::AppState;
use crate::auth::access::Access;
use crate::domain::{Colour, Unit, UnitId};
use crate::http::error::ApiError;
use crate::http::params::Params;
use crate::views::export::units::{UnitRow, cells, feature, header};
use crate::views::export::{Cell, Lang};

/// Exports units.
#[utoipa::path(get, path = "/api/exports/units", tag = "imports",
    params(
        ("format" = Option<String>, Query, description = "csv (default; UTF-8 with BOM), xlsx or geojson"),
        ("lang" = Option<String>, Query, description = "zh (default) or en: the headers and words of CSV and XLSX"),
        ("region" = Option<String>, Query, description = "A region id: its subtree (within the reader's scope)"),
        ("kind" = Option<String>, Query, description = "Comma-separated unit kinds"),
        ("colour" = Option<String>, Query, description = "Comma-separated colours"),
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
pub async fn export_units(
    State(app): State<AppState>,
    who: Access,
    params: Params,
) -> Result<Response, ApiError> {
    params.only(&["format", "lang", "region", "kind", "colour"])?;
    let format = Format::of(&params)?;
    let lang = lang_of(&params)?;
    let (ids, region) = {
        let (map, _) = app.read_now()?;
        let filter = params.unit_filter(&who, &map)?;
        let ids: Vec<UnitId> = map
            .units
            .iter()
            .enumerate()
            .filter(|(i, e)| {
                let colour = map.live().colour(*i as u32).unwrap_or(Colour::Uninspected);
                filter.admits(&map, e, colour)
            })
            .map(|(_, e)| e.unit.id)
            .collect();
        let home = filter.region.unwrap_or_else(|| who.home(&map));
        (ids, map.regions.get(home).id.to_string())
    };
    let date = chrono::Utc::now().format("%Y%m%d");
    let name = format!("units-{region}-{date}");
    Ok(file(app, Units, ids, format, lang, &name))
}

/// The units export.
pub(super) struct Units;

/// One unit as read for an export.
pub(super) struct Row {
    unit: Unit,
    external_id: Option<String>,
    host: Option<String>,
    colour: Option<Colour>,
}

impl Row {
    fn view(&self) -> UnitRow<'_> {
        UnitRow {
            unit: &self.unit,
            external_id: self.external_id.as_deref(),
            host: self.host.clone(),
            colour: self.colour,
        }
    }
}

impl Export for Units {
    type Key = UnitId;
    type Row = Row;

    fn header(&self, lang: Lang) -> Vec<&'static str> {
        header(lang)
    }

    /// The units of `ids` still on the map, with their text and external ids from the
    /// store.
    async fn rows(&self, app: &AppState, ids: &[UnitId]) -> Result<Vec<Row>, ApiError> {
        let mut texts = app.store.unit_texts(ids).await?;
        let hosts: Vec<UnitId> = {
            let map = app.map.read().map_err(|_| crate::app::Poisoned)?;
            ids.iter()
                .filter_map(|&id| map.unit_idx(id))
                .filter_map(|u| map.units[u as usize].unit.host)
                .collect()
        };
        let mut keys: Vec<UnitId> = ids.to_vec();
        keys.extend(&hosts);
        let external: HashMap<UnitId, String> = app.store.external_ids_of(&keys).await?;
        let map = app.map.read().map_err(|_| crate::app::Poisoned)?;
        Ok(ids
            .iter()
            .filter_map(|&id| {
                let u = map.unit_idx(id)?;
                let e = &map.units[u as usize];
                let text = texts.remove(&id)?;
                let micro_grid = map.regions.get(e.micro_grid).id.clone();
                let host = e
                    .unit
                    .host
                    .map(|h| external.get(&h).cloned().unwrap_or_else(|| h.to_string()));
                Some(Row {
                    unit: e.unit.with_text(micro_grid, text),
                    external_id: external.get(&id).cloned(),
                    host,
                    colour: map.live().colour(u),
                })
            })
            .collect())
    }

    fn cells(&self, row: &Row, lang: Lang) -> Vec<Cell> {
        cells(&row.view(), lang)
            .into_iter()
            .map(Cell::Text)
            .collect()
    }

    fn feature(&self, row: &Row) -> String {
        feature(&row.view())
    }
}
