//! Exports as rows: units ([`units`]), hazards with their state at a moment
//! ([`hazards`]) and visits ([`visits`]), each a header and the cells of a row in
//! Chinese or English, and a GeoJSON feature. Pure: records in, cells out; `http/exports`
//! reads the records from the map and the store and writes the files.

pub mod hazards;
pub mod units;
pub mod visits;

use chrono::{DateTime, Utc};

use crate::domain::time::Zone;
use crate::domain::{Level, Location, RegionId};
use crate::state::{MapState, UnitEntry};

/// The language of the headers and the vocabulary's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 编号, 名称 …, 企业, 红 …
    Zh,
    /// external_id, name …, enterprise, red …
    En,
}

impl Lang {
    /// `zh` or `en` as said here.
    pub fn pick(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// One cell of a row: text, or a whole number (a number cell in XLSX).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text ('' for none).
    Text(String),
    /// A count of something.
    Int(i64),
}

impl Cell {
    /// The cell as CSV writes it.
    pub fn as_text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Cell::Text(s) => s.as_str().into(),
            Cell::Int(n) => n.to_string().into(),
        }
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_owned())
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Cell::Int(n)
    }
}

/// Where a unit is, as the rows of its hazards and visits say it.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// Its village's name ('' where the unit is under no village).
    pub village: String,
    /// Its micro-grid.
    pub micro_grid: RegionId,
    /// Its point.
    pub location: Location,
}

/// The place of unit `e` on `map`.
pub fn place_of(map: &MapState, e: &UnitEntry) -> Place {
    let mut r = Some(e.micro_grid);
    let village = loop {
        match r {
            Some(i) if map.regions.get(i).level == Level::Village => {
                break map.regions.get(i).name.clone();
            }
            Some(i) => r = map.regions.parent(i),
            None => break String::new(),
        }
    };
    Place {
        village,
        micro_grid: map.regions.get(e.micro_grid).id.clone(),
        location: e.unit.location,
    }
}

/// A header of `(zh, en)` pairs in `lang`.
pub fn header_of(columns: &[(&'static str, &'static str)], lang: Lang) -> Vec<&'static str> {
    columns.iter().map(|&(zh, en)| lang.pick(zh, en)).collect()
}

/// A word of a vocabulary in `lang`: its Chinese from `table`, else `en`.
pub(crate) fn word<T: PartialEq + Copy>(
    table: &[(T, &'static str)],
    v: T,
    en: &'static str,
    lang: Lang,
) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Zh => table.iter().find(|(k, _)| *k == v).map_or(en, |(_, zh)| zh),
    }
}

/// A moment as a spreadsheet shows it: on the town's clocks, to the second.
pub fn local_time(zone: Zone, t: DateTime<Utc>) -> String {
    zone.local(t).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `Some` moment as [`local_time`], `None` as ''.
pub fn local_time_or_empty(zone: Zone, t: Option<DateTime<Utc>>) -> String {
    t.map(|t| local_time(zone, t)).unwrap_or_default()
}

/// Yes or no in `lang` (是/否).
pub fn yes_no(v: bool, lang: Lang) -> &'static str {
    match (v, lang) {
        (true, Lang::Zh) => "是",
        (false, Lang::Zh) => "否",
        (true, Lang::En) => "yes",
        (false, Lang::En) => "no",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_local_and_cells_print_as_csv_writes_them() {
        let t = crate::domain::time::cst(2022, 7, 15, 9, 30);
        assert_eq!(local_time(Zone::CHINA, t), "2022-07-15 09:30:00");
        assert_eq!(local_time_or_empty(Zone::CHINA, None), "");
        assert_eq!(Cell::Int(12).as_text(), "12");
        assert_eq!(Cell::from("绿").as_text(), "绿");
        assert_eq!(yes_no(true, Lang::Zh), "是");
    }
}
