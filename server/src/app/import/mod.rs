//! Importing a town's register: a file read as a table ([`table`]), each row checked
//! and matched to a registered unit, and the whole made one [`UnitImport`] — or, when
//! any row is wrong, every wrong row named (line, column, what) and nothing written.
//!
//! The columns, English or Chinese (one table, [`COLUMNS`]): `external_id`/`编号`,
//! `name`/`名称`, `address`/`地址`, `kind`/`类型`, `lon`/`经度`, `lat`/`纬度`,
//! `owner_name`/`负责人`, `owner_phone`/`联系电话`, `risk`/`风险等级`, `batch`/`批次`,
//! `host`/`所在厂房`. A row whose `external_id` is registered updates that unit; a row
//! without one updates the unit of the same name and address; any other row is new.

mod boundaries;
pub mod features;
pub mod records;
pub mod regions;
pub mod table;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::AppState;
use crate::domain::{
    Batch, Crs, ExternalId, ImportedUnit, Location, NewUnit, PastMoment, RiskLevel, Text, UnitId,
    UnitImport, UnitKind,
};
use crate::writes::WriteError;
pub use table::{Format, Table};

/// What is wrong with one line of a file (`column` `None`: the line as a whole).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LineError {
    /// The line of a CSV, the row of a sheet, the feature of a GeoJSON file (from 1;
    /// 0: the file as a whole).
    pub line: u64,
    /// The column, as the file names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl LineError {
    /// The file breaks at `line`.
    pub fn file(line: u64, message: String) -> Self {
        LineError {
            line,
            column: None,
            message,
        }
    }

    fn at(line: u64, column: &str, message: impl Into<String>) -> Self {
        LineError {
            line,
            column: Some(column.to_owned()),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}, {c}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Lines of the file are wrong (all of them, in file order).
    #[error("{} line(s) of the file are wrong; nothing was written", .0.len())]
    Lines(Vec<LineError>),
    /// The write failed or was refused.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The check of the file itself failed (a bug: logged, answered as a 500).
    #[error("checking the file failed: {0}")]
    Failed(String),
}

/// What an import did, or would do on a dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Nothing was written: what would happen.
    pub dry_run: bool,
    /// Rows read.
    pub rows: usize,
    /// Units registered.
    pub new: usize,
    /// Units updated.
    pub updated: usize,
    /// Rows that matched a unit and changed nothing.
    pub unchanged: usize,
    /// Columns of the file that are not in the table, left out.
    pub ignored_columns: Vec<String>,
    /// The number of the import's event in the log (none on a dry run).
    pub seq: Option<i64>,
}

impl ImportReport {
    /// The report of `import`, read from a table of `rows` rows.
    pub fn of(import: &UnitImport, rows: usize, ignored_columns: Vec<String>) -> Self {
        let (new, updated) = import.counts();
        ImportReport {
            dry_run: true,
            rows,
            new,
            updated,
            unchanged: import.unchanged,
            ignored_columns,
            seq: None,
        }
    }
}

/// A column of the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// `id`, 系统编号: onemap's own id, as an export writes it.
    Id,
    /// `external_id`, 编号.
    ExternalId,
    /// `name`, 名称.
    Name,
    /// `address`, 地址.
    Address,
    /// `kind`, 类型.
    Kind,
    /// `lon`, 经度.
    Lon,
    /// `lat`, 纬度.
    Lat,
    /// `owner_name`, 负责人.
    OwnerName,
    /// `owner_phone`, 联系电话.
    OwnerPhone,
    /// `risk`, 风险等级.
    Risk,
    /// `batch`, 批次.
    Batch,
    /// `host`, 所在厂房.
    Host,
}

/// Each column's English and Chinese names (the documented table).
pub const COLUMNS: [(Column, &str, &str); 12] = [
    (Column::Id, "id", "系统编号"),
    (Column::ExternalId, "external_id", "编号"),
    (Column::Name, "name", "名称"),
    (Column::Address, "address", "地址"),
    (Column::Kind, "kind", "类型"),
    (Column::Lon, "lon", "经度"),
    (Column::Lat, "lat", "纬度"),
    (Column::OwnerName, "owner_name", "负责人"),
    (Column::OwnerPhone, "owner_phone", "联系电话"),
    (Column::Risk, "risk", "风险等级"),
    (Column::Batch, "batch", "批次"),
    (Column::Host, "host", "所在厂房"),
];

/// The columns a register must have.
const REQUIRED: [Column; 4] = [Column::Name, Column::Kind, Column::Lon, Column::Lat];

type Layout = table::Layout<Column>;

/// A row as read, checked on its own.
struct Read {
    line: u64,
    external_id: Option<ExternalId>,
    /// onemap's id as the file gives it (an export's `系统编号`): it tells apart units
    /// of the same name and address, names a host in the file, and matches the unit of
    /// that id when the name and address agree (a register exported and sent back).
    own_id: Option<UnitId>,
    unit: NewUnit,
    host: Option<(String, String)>,
}

impl AppState {
    /// Reads `table` into the import it makes, with positions in `crs`: every row
    /// checked (its values, its point in a micro-grid of the map, its host) and matched
    /// to a registered unit. Any wrong row: all the wrong rows, nothing made.
    pub async fn plan_import(
        &self,
        table: &Table,
        crs: Crs,
        source: &str,
    ) -> Result<(UnitImport, Vec<String>), ImportError> {
        let now = Utc::now();
        let layout = Layout::of(
            &table.header,
            &COLUMNS,
            &REQUIRED.each_ref().map(std::slice::from_ref),
        )
        .map_err(ImportError::Lines)?;
        let mut errors = Vec::new();
        let mut rows = Vec::with_capacity(table.rows.len());
        {
            let map = self.map.read().map_err(|_| WriteError::Poisoned)?;
            for row in &table.rows {
                match read_row(&layout, row, crs, now, |loc| {
                    map.regions
                        .micro_grid_at(loc.point())
                        .map(|mg| map.regions.get(mg).id.clone())
                }) {
                    Ok(r) => rows.push(r),
                    Err(mut e) => errors.append(&mut e),
                }
            }
        }
        // Repeats within the file.
        let mut seen: HashMap<String, u64> = HashMap::new();
        for r in &rows {
            let (key, column, what) = match (&r.external_id, r.own_id) {
                (Some(k), _) => (format!("id:{k}"), Column::ExternalId, "external_id"),
                (None, Some(id)) => (format!("own:{id}"), Column::Id, "id"),
                (None, None) => (
                    format!("na:{}\u{0}{}", r.unit.name, r.unit.address),
                    Column::Name,
                    "name and address",
                ),
            };
            if let Some(first) = seen.insert(key.clone(), r.line) {
                seen.insert(key, first);
                errors.push(LineError::at(
                    r.line,
                    layout.get(&[], column).1,
                    format!("repeats the {what} of line {first}"),
                ));
            }
        }
        // Matching against the register.
        let mut keys: Vec<&str> = rows
            .iter()
            .filter_map(|r| r.external_id.as_ref().map(|k| k.as_str()))
            .collect();
        keys.extend(
            rows.iter()
                .filter_map(|r| r.host.as_ref().map(|h| h.0.as_str())),
        );
        keys.sort_unstable();
        keys.dedup();
        let known = self
            .store
            .external_ids(&keys)
            .await
            .map_err(WriteError::from)?;
        let mut names: Vec<&str> = rows
            .iter()
            .filter(|r| r.external_id.is_none())
            .map(|r| r.unit.name.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        let own: Vec<UnitId> = rows
            .iter()
            .filter(|r| r.external_id.is_none())
            .filter_map(|r| r.own_id)
            .collect();
        let own_texts = self
            .store
            .unit_texts(&own)
            .await
            .map_err(WriteError::from)?;
        let mut by_name: HashMap<(String, String), Vec<UnitId>> = HashMap::new();
        for (id, name, address) in self
            .store
            .units_named(&names)
            .await
            .map_err(WriteError::from)?
        {
            by_name.entry((name, address)).or_default().push(id);
        }
        let mut existing: Vec<Option<UnitId>> = Vec::with_capacity(rows.len());
        for r in &rows {
            let same_text = |id: &UnitId| {
                own_texts.get(id).is_some_and(|t| {
                    t.name == r.unit.name.as_str() && t.address == r.unit.address.as_str()
                })
            };
            existing.push(match &r.external_id {
                Some(k) => known.get(k.as_str()).copied(),
                None if r.own_id.is_some_and(|id| same_text(&id)) => r.own_id,
                None => {
                    let key = (r.unit.name.to_string(), r.unit.address.to_string());
                    match by_name.get(&key).map(Vec::as_slice) {
                        None | Some([]) => None,
                        Some([one]) => Some(*one),
                        Some(many) => {
                            errors.push(LineError::at(
                                r.line,
                                layout.get(&[], Column::Name).1,
                                format!(
                                    "{} units have this name and address; give the row an external_id",
                                    many.len()
                                ),
                            ));
                            None
                        }
                    }
                }
            });
        }
        // Hosts: a unit of the file (by its external id, else by the id the file gives
        // it) or of the register (by its external id, else its id).
        let in_file: HashMap<&str, usize> = rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.external_id.as_ref().map(|k| (k.as_str(), i)))
            .collect();
        let own_in_file: HashMap<String, usize> = rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.own_id.map(|id| (id.to_string(), i)))
            .collect();
        let ids: Vec<UnitId> = existing.iter().flatten().copied().collect();
        let mut texts = self
            .store
            .unit_texts(&ids)
            .await
            .map_err(WriteError::from)?;
        let map = self.map.read().map_err(|_| WriteError::Poisoned)?;
        let mut hosts: Vec<Host> = Vec::with_capacity(rows.len());
        for (r, this) in rows.iter().zip(&existing) {
            let Some((key, column)) = &r.host else {
                hosts.push(Host::None);
                continue;
            };
            let refuse = |m: &str| LineError::at(r.line, column, m.to_owned());
            if r.unit.kind != UnitKind::Enterprise {
                errors.push(refuse("only an enterprise can be hosted (厂中厂)"));
                hosts.push(Host::None);
                continue;
            }
            let in_file = in_file
                .get(key.as_str())
                .or_else(|| own_in_file.get(key.as_str()));
            let registered = known
                .get(key.as_str())
                .copied()
                .or_else(|| key.parse::<UnitId>().ok())
                .and_then(|id| map.unit_idx(id));
            let host = match in_file {
                Some(&i) => {
                    let h = &rows[i];
                    if h.unit.kind != UnitKind::Enterprise || h.host.is_some() {
                        Err("the host must be an enterprise that is not itself a tenant")
                    } else {
                        Ok(existing[i].map_or(Host::Row(i), Host::Unit))
                    }
                }
                None => match registered {
                    Some(u) => {
                        let h = &map.units[u as usize].unit;
                        if h.kind != UnitKind::Enterprise || h.host.is_some() {
                            Err("the host must be an enterprise that is not itself a tenant")
                        } else {
                            Ok(Host::Unit(h.id))
                        }
                    }
                    None => Err("no unit of the file or the register has this external_id or id"),
                },
            };
            match host {
                Ok(Host::Unit(h)) if Some(h) == *this => {
                    errors.push(refuse("a unit cannot host itself"));
                    hosts.push(Host::None);
                }
                Ok(h) => hosts.push(h),
                Err(m) => {
                    errors.push(refuse(m));
                    hosts.push(Host::None);
                }
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.line);
            return Err(ImportError::Lines(errors));
        }
        // The units written: new ones, and matched ones that change something.
        let mut unchanged = 0;
        let mut written: Vec<(usize, NewUnit)> = Vec::with_capacity(rows.len());
        for (i, r) in rows.iter().enumerate() {
            let mut unit = r.unit.clone();
            if let Host::Unit(h) = hosts[i] {
                unit.host = Some(h);
            }
            if let Some(id) = existing[i]
                && let Some(u) = map.unit_idx(id)
            {
                let e = &map.units[u as usize];
                unit.registered_at =
                    PastMoment::new(Some(e.unit.registered_at), now).unwrap_or(unit.registered_at);
                let text = texts.remove(&id).unwrap_or_default();
                let before = e
                    .unit
                    .with_text(map.regions.get(e.micro_grid).id.clone(), text);
                if unit.with_id(id) == before {
                    unchanged += 1;
                    continue;
                }
            }
            written.push((i, unit));
        }
        drop(map);
        // Hosts of the file before their tenants, so that a host has its id when its
        // tenant is written (a host is never itself a tenant).
        written.sort_by_key(|(i, _)| matches!(hosts[*i], Host::Row(_)));
        let position: HashMap<usize, usize> = written
            .iter()
            .enumerate()
            .map(|(p, (i, _))| (*i, p))
            .collect();
        let units = written
            .into_iter()
            .map(|(i, unit)| ImportedUnit {
                external_id: rows[i].external_id.clone(),
                existing: existing[i],
                unit,
                host_row: match hosts[i] {
                    Host::Row(h) => position.get(&h).copied(),
                    _ => None,
                },
            })
            .collect();
        let source = Text::new(source).unwrap_or_default();
        Ok((
            UnitImport {
                units,
                unchanged,
                source,
            },
            layout.ignored,
        ))
    }
}

enum Host {
    None,
    Unit(UnitId),
    Row(usize),
}

/// Reads one row on its own: every value checked, the point converted from `crs` and
/// placed in the micro-grid `locate` finds. Every wrong value of the row is named.
fn read_row(
    layout: &Layout,
    row: &table::Row,
    crs: Crs,
    now: DateTime<Utc>,
    locate: impl Fn(Location) -> Option<crate::domain::RegionId>,
) -> Result<Read, Vec<LineError>> {
    let line = row.line;
    let mut errors = Vec::new();
    let cell = |c: Column| layout.get(&row.cells, c);
    let text = |c: Column| -> (String, &str) {
        let (v, name) = cell(c);
        (v.to_owned(), name)
    };
    fn check<T, E: std::fmt::Display>(
        errors: &mut Vec<LineError>,
        line: u64,
        column: &str,
        r: Result<T, E>,
    ) -> Option<T> {
        r.map_err(|e| errors.push(LineError::at(line, column, e.to_string())))
            .ok()
    }
    let (v, col) = text(Column::Name);
    let name = check(
        &mut errors,
        line,
        col,
        Text::<200, 1>::new(&v).map_err(|e| {
            if v.trim().is_empty() {
                "a unit needs a name".to_owned()
            } else {
                e.to_string()
            }
        }),
    );
    let (v, col) = text(Column::Address);
    let address = check(&mut errors, line, col, Text::<500>::new(&v));
    let (v, col) = text(Column::OwnerName);
    let owner_name = check(&mut errors, line, col, Text::<100>::new(&v));
    let (v, col) = text(Column::OwnerPhone);
    let owner_phone = check(&mut errors, line, col, Text::<40>::new(&v));
    let (v, col) = text(Column::Id);
    let own_id = if v.is_empty() {
        Some(None)
    } else {
        check(&mut errors, line, col, v.parse::<UnitId>()).map(Some)
    };
    let (v, col) = text(Column::ExternalId);
    let external_id = if v.is_empty() {
        Some(None)
    } else {
        check(&mut errors, line, col, ExternalId::new(&v)).map(Some)
    };
    let (v, col) = text(Column::Kind);
    let kind = check(&mut errors, line, col, kind_of(&v));
    let (v, col) = text(Column::Risk);
    let risk = check(&mut errors, line, col, risk_of(&v));
    let (v, col) = text(Column::Batch);
    let batch = check(&mut errors, line, col, batch_of(&v));
    let (v, col) = text(Column::Host);
    let host = (!v.is_empty()).then(|| (v, col.to_owned()));
    let location = position(layout, row, crs, &mut errors);
    let micro_grid = location.and_then(|loc| match locate(loc) {
        Some(mg) => Some(mg),
        None => {
            let (lon, lat) = (cell(Column::Lon).0, cell(Column::Lat).0);
            let swapped = lat
                .parse::<f64>()
                .ok()
                .zip(lon.parse::<f64>().ok())
                .map(|(x, y)| crs.to_wgs84(x, y))
                .and_then(|(x, y)| Location::new(x, y).ok())
                .and_then(&locate)
                .is_some();
            let message = if swapped {
                format!("the point ({lon}, {lat}) lies outside the town, but ({lat}, {lon}) is inside: lon and lat look swapped")
            } else {
                format!("the point ({lon}, {lat}) lies outside every micro-grid of the town")
            };
            errors.push(LineError::at(line, cell(Column::Lon).1, message));
            None
        }
    });
    let registered_at = PastMoment::new(None, now).ok();
    match (
        name,
        address,
        owner_name,
        owner_phone,
        external_id,
        kind,
        risk,
        batch,
        location,
        micro_grid,
        registered_at,
        own_id,
    ) {
        (
            Some(name),
            Some(address),
            Some(owner_name),
            Some(owner_phone),
            Some(external_id),
            Some(kind),
            Some(risk),
            Some(batch),
            Some(location),
            Some(micro_grid),
            Some(registered_at),
            Some(own_id),
        ) if errors.is_empty() => Ok(Read {
            line,
            external_id,
            own_id,
            unit: NewUnit {
                kind,
                name,
                address,
                owner_name,
                owner_phone,
                location,
                micro_grid,
                risk,
                batch,
                host: None,
                registered_at,
            },
            host,
        }),
        _ => Err(errors),
    }
}

/// The row's point in WGS 84, each coordinate checked; a pair that reads as a point
/// only the other way round is said to be swapped.
fn position(
    layout: &Layout,
    row: &table::Row,
    crs: Crs,
    errors: &mut Vec<LineError>,
) -> Option<Location> {
    let (lon, lon_col) = layout.get(&row.cells, Column::Lon);
    let (lat, lat_col) = layout.get(&row.cells, Column::Lat);
    let number = |v: &str, col: &str, errors: &mut Vec<LineError>| -> Option<f64> {
        if v.is_empty() {
            errors.push(LineError::at(row.line, col, "a unit needs a position"));
            return None;
        }
        match v.parse::<f64>() {
            Ok(n) if n.is_finite() => Some(n),
            _ => {
                errors.push(LineError::at(
                    row.line,
                    col,
                    format!("`{v}` is not a number"),
                ));
                None
            }
        }
    };
    let x = number(lon, lon_col, errors);
    let y = number(lat, lat_col, errors);
    let (x, y) = (x?, y?);
    if !(-180.0..=180.0).contains(&x) || !(-90.0..=90.0).contains(&y) {
        let message = if (-90.0..=90.0).contains(&x) && (-180.0..=180.0).contains(&y) {
            format!("lat {y} is out of range (-90 to 90): lon and lat look swapped")
        } else {
            format!("({x}, {y}) is not a longitude and latitude")
        };
        errors.push(LineError::at(row.line, lat_col, message));
        return None;
    }
    let (x, y) = crs.to_wgs84(x, y);
    Location::new(x, y)
        .map_err(|e| errors.push(LineError::at(row.line, lon_col, e.to_string())))
        .ok()
}

/// The kinds' Chinese names (what registers and exports say).
pub const KINDS_ZH: [(UnitKind, &str); 4] = [
    (UnitKind::Enterprise, "企业"),
    (UnitKind::StreetShop, "沿街店铺"),
    (UnitKind::Rental, "出租房"),
    (UnitKind::HighRise, "高层建筑"),
];

/// The risk ratings' Chinese names.
pub const RISKS_ZH: [(RiskLevel, &str); 4] = [
    (RiskLevel::Red, "红"),
    (RiskLevel::Orange, "橙"),
    (RiskLevel::Yellow, "黄"),
    (RiskLevel::Blue, "蓝"),
];

/// The batches' Chinese names.
pub const BATCHES_ZH: [(Batch, &str); 3] = [
    (Batch::Model, "示范"),
    (Batch::Rectify, "整治提升"),
    (Batch::Close, "关停拆除"),
];

/// `v` by its Chinese name in `table`, else its English one.
fn named<T: Copy + std::str::FromStr>(table: &[(T, &str)], v: &str) -> Option<T> {
    table
        .iter()
        .find(|(_, zh)| *zh == v)
        .map(|(k, _)| *k)
        .or_else(|| v.to_ascii_lowercase().parse().ok())
}

/// A kind in English or Chinese.
fn kind_of(v: &str) -> Result<UnitKind, String> {
    let expected = "enterprise 企业, street_shop 沿街店铺, rental 出租房, high_rise 高层建筑";
    match v {
        "" => Err(format!("a unit needs a kind ({expected})")),
        "工业企业" => Ok(UnitKind::Enterprise),
        "店铺" => Ok(UnitKind::StreetShop),
        "出租屋" => Ok(UnitKind::Rental),
        "高层" => Ok(UnitKind::HighRise),
        v => named(&KINDS_ZH, v).ok_or_else(|| format!("`{v}` is not a kind: {expected}")),
    }
}

/// A risk rating in English or Chinese; none is blue (低风险).
fn risk_of(v: &str) -> Result<RiskLevel, String> {
    match v.trim_end_matches('色') {
        "" | "低风险" => Ok(RiskLevel::Blue),
        "重大风险" => Ok(RiskLevel::Red),
        "较大风险" => Ok(RiskLevel::Orange),
        "一般风险" => Ok(RiskLevel::Yellow),
        v => named(&RISKS_ZH, v).ok_or_else(|| {
            format!("`{v}` is not a risk rating: red 红, orange 橙, yellow 黄, blue 蓝")
        }),
    }
}

/// An enterprise batch in English or Chinese; none: not sorted.
fn batch_of(v: &str) -> Result<Option<Batch>, String> {
    if v.is_empty() {
        return Ok(None);
    }
    named(&BATCHES_ZH, v).map(Some).ok_or_else(|| {
        format!("`{v}` is not a batch: model 示范, rectify 整治提升, close 关停拆除")
    })
}
