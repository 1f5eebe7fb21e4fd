//! `GET /api/exports/visits?format=&lang=&region=&from=&to=`: the visits (inspections and
//! re-inspections) to the units the reader may see, on some days.

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};

use super::{Export, Format, file, lang_of, names_of};
use crate::app::AppState;
use crate::auth::access::Access;
use crate::domain::UnitId;
use crate::domain::time::Zone;
use crate::http::error::ApiError;
use crate::http::params::Params;
use crate::views::export::visits::{VisitRow, cells, feature, header, units};
use crate::views::export::{Cell, Lang, place_of};

/// Exports visits.
#[utoipa::path(get, path = "/api/exports/visits", tag = "imports",
    params(
        ("format" = Option<String>, Query, description = "csv (default; UTF-8 with BOM), xlsx or geojson (the unit's point per visit)"),
        ("lang" = Option<String>, Query, description = "zh (default) or en: the headers and words of CSV and XLSX"),
        ("region" = Option<String>, Query, description = "A region id: its subtree (within the reader's scope)"),
        ("from" = Option<String>, Query, description = "Only visits on or after this day (YYYY-MM-DD, the town's day)"),
        ("to" = Option<String>, Query, description = "Only visits on or before this day (YYYY-MM-DD, the town's day)"),
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
pub async fn export_visits(
    State(app): State<AppState>,
    who: Access,
    params: Params,
) -> Result<Response, ApiError> {
    params.only(&["format", "lang", "region", "from", "to"])?;
    let format = Format::of(&params)?;
    let lang = lang_of(&params)?;
    let days = params.days("from", "to", app.zone)?;
    let (ids, region) = {
        let (map, _) = app.read_now()?;
        let filter = params.unit_filter(&who, &map)?;
        let home = filter.region.unwrap_or_else(|| who.home(&map));
        (units(&map, &filter), map.regions.get(home).id.to_string())
    };
    let date = app.zone.date_of(chrono::Utc::now()).format("%Y%m%d");
    let name = format!("visits-{region}-{date}");
    let visits = Visits {
        from: days.start(),
        until: days.end(),
        zone: app.zone,
    };
    Ok(file(app, visits, ids, format, lang, &name))
}

/// The visits export: visits at or after `from` and before `until`.
pub(super) struct Visits {
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    /// The town's, whose clocks the sheet's times are on.
    zone: Zone,
}

impl Export for Visits {
    type Key = UnitId;
    type Row = VisitRow;

    fn header(&self, lang: Lang) -> Vec<&'static str> {
        header(lang)
    }

    /// The visits to `units` on the days, with the units' names and places.
    async fn rows(&self, app: &AppState, units: &[UnitId]) -> Result<Vec<VisitRow>, ApiError> {
        let visits = app.store.visits_of(units, self.from, self.until).await?;
        if visits.is_empty() {
            return Ok(Vec::new());
        }
        let visited: std::collections::BTreeSet<UnitId> =
            visits.iter().map(|v| v.visit.unit).collect();
        let names = names_of(app, &visited.into_iter().collect::<Vec<_>>()).await?;
        let map = app.map.read().map_err(|_| crate::app::Poisoned)?;
        Ok(visits
            .into_iter()
            .filter_map(|v| {
                let place = place_of(&map, map.unit(v.visit.unit)?);
                let (unit_name, external_id) =
                    names.get(&v.visit.unit).cloned().unwrap_or_default();
                Some(VisitRow {
                    visit: v.visit,
                    hazards_found: v.hazards_found,
                    external_id,
                    unit_name,
                    place,
                })
            })
            .collect())
    }

    fn cells(&self, row: &VisitRow, lang: Lang) -> Vec<Cell> {
        cells(row, lang, self.zone)
    }

    fn feature(&self, row: &VisitRow) -> String {
        feature(row)
    }
}
