//! Importing places: the features of a boundary file ([`super::features`]) made one
//! [`RegionImport`] of one level, or — when anything is wrong — every wrong feature
//! named and nothing written. Checked before anything is written, against the map as it
//! is: ids, names and parents; polygons valid (the `geo` crate's validation) and
//! oriented (rings turned to the GeoJSON convention, not refused); each region inside
//! its parent, and each kept child inside its replaced parent, but for a share of its
//! area no larger than the tolerance; no two regions of the level overlapping by more
//! than that share of the smaller; every unit still inside a micro-grid (a unit whose
//! point now lies in another micro-grid moves there).
//!
//! A region of a known id is replaced (its parent kept unless the file names one); a
//! new one hangs under the parent its column names or, without one, the region of a
//! level above whose polygon holds its interior point. A root made by `onemap init`
//! has no boundary yet: it takes the union of its villages when they come.

use std::collections::HashMap;

use geo::{Contains, InteriorPoint, MultiPolygon, Point};

use super::boundaries::{
    Candidate, apart, children_kept_inside, inside_parents, polygon, root_from_children,
};
use super::features::Feature;
use super::{ImportError, LineError};
use crate::app::AppState;
use crate::domain::{Crs, Level, Region, RegionId, RegionImport, Text, UnitId};
use crate::state::{RegionIdx, RegionTree};
use crate::writes::WriteError;

/// How a boundary file becomes places.
#[derive(Debug, Clone)]
pub struct RegionOptions {
    /// The level the file's features are.
    pub level: Level,
    /// Their coordinates' system.
    pub crs: Crs,
    /// The attribute holding each id (default: `id`, `编号`, `code`, `代码`).
    pub id_field: Option<String>,
    /// The attribute holding each name (default: `name`, `名称`).
    pub name_field: Option<String>,
    /// The attribute holding each parent's id (default: `parent`, `parent_id`, `上级`;
    /// none: found by containment).
    pub parent_field: Option<String>,
    /// The share of a region's area that may lie outside its parent, or overlap a
    /// sibling (of the smaller's area): slivers where two surveys' lines differ.
    pub tolerance: f64,
    /// The file's name, for the log.
    pub source: String,
}

impl RegionOptions {
    /// The defaults for `level`: WGS 84, fields by their usual names, 1 % tolerance.
    pub fn new(level: Level) -> Self {
        RegionOptions {
            level,
            crs: Crs::Wgs84,
            id_field: None,
            name_field: None,
            parent_field: None,
            tolerance: DEFAULT_TOLERANCE,
            source: String::new(),
        }
    }
}

/// The share of area the checks let pass by default.
pub const DEFAULT_TOLERANCE: f64 = 0.01;

/// The levels a file may hold: a town's own places.
pub const LEVELS: [Level; 6] = [
    Level::Town,
    Level::Area,
    Level::Group,
    Level::Village,
    Level::Grid,
    Level::MicroGrid,
];

/// The attribute names tried for each field, first match wins (case-insensitive).
const ID_FIELDS: [&str; 5] = ["id", "编号", "region_id", "code", "代码"];
const NAME_FIELDS: [&str; 3] = ["name", "名称", "名字"];
const PARENT_FIELDS: [&str; 4] = ["parent", "parent_id", "上级", "上级编号"];
const CODE_FIELDS: [&str; 3] = ["code", "代码", "统计代码"];

/// At most this many units outside every micro-grid are named one by one.
const UNITS_NAMED: usize = 50;

/// What a region import did, or would do on a dry run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RegionReport {
    /// Nothing was written: what would happen.
    pub dry_run: bool,
    /// The level imported.
    pub level: String,
    /// Features read.
    pub features: usize,
    /// Places added.
    pub new: usize,
    /// Places replaced.
    pub updated: usize,
    /// Features that matched a place and changed nothing.
    pub unchanged: usize,
    /// Units whose micro-grid changes.
    pub units_moved: usize,
    /// The number of the import's event in the log (none on a dry run).
    pub seq: Option<i64>,
}

impl RegionReport {
    /// The report of `import`, made of `features` features.
    pub fn of(import: &RegionImport, features: usize) -> Self {
        RegionReport {
            dry_run: true,
            level: import.level.as_str().to_owned(),
            features,
            new: import.new,
            updated: import.regions.len() - import.new,
            unchanged: import.unchanged,
            units_moved: import.moved.len(),
            seq: None,
        }
    }
}

impl AppState {
    /// Reads `features` into the import they make at `options.level` (see the module's
    /// description). The map's places and units' points are copied out and checked on
    /// a blocking thread, so neither readers nor writers wait for the geometry.
    pub async fn plan_regions(
        &self,
        features: Vec<Feature>,
        options: RegionOptions,
    ) -> Result<RegionImport, ImportError> {
        let (regions, units) = {
            let map = self.map.read().map_err(|_| WriteError::Poisoned)?;
            let units: Vec<(UnitId, Point<f64>, RegionId)> = map
                .units
                .iter()
                .map(|e| {
                    let mg = map.regions.get(e.micro_grid).id.clone();
                    (e.unit.id, e.unit.location.point(), mg)
                })
                .collect();
            (map.regions.all().to_vec(), units)
        };
        tokio::task::spawn_blocking(move || {
            let current = RegionTree::new(regions)
                .map_err(|e| vec![LineError::file(0, format!("the map's places: {e}"))])?;
            plan(&current, &units, &features, &options)
        })
        .await
        .map_err(|e| ImportError::Failed(e.to_string()))?
        .map_err(ImportError::Lines)
    }
}

/// The attribute names a file uses for each field.
struct Fields {
    id: String,
    name: String,
    parent: Option<String>,
    code: Option<String>,
}

impl Fields {
    fn of(features: &[Feature], o: &RegionOptions) -> Result<Fields, Vec<LineError>> {
        let mut keys: Vec<&String> = features.iter().flat_map(|f| f.props.keys()).collect();
        keys.sort_unstable();
        keys.dedup();
        let pick = |given: &Option<String>, tried: &[&str]| -> Result<Option<String>, String> {
            match given {
                Some(g) => match keys.iter().find(|k| k.eq_ignore_ascii_case(g)) {
                    Some(k) => Ok(Some((*k).clone())),
                    None => Err(format!("no feature has the attribute `{g}`")),
                },
                None => Ok(tried.iter().find_map(|t| {
                    keys.iter()
                        .find(|k| k.eq_ignore_ascii_case(t))
                        .map(|k| (*k).clone())
                })),
            }
        };
        let mut errors = Vec::new();
        let mut need = |r: Result<Option<String>, String>, what: &str, tried: &[&str]| match r {
            Ok(Some(k)) => Some(k),
            Ok(None) => {
                errors.push(LineError::file(
                    0,
                    format!(
                        "the file has no {what} attribute (tried {}; name it with --{what}-field)",
                        tried.join(", ")
                    ),
                ));
                None
            }
            Err(m) => {
                errors.push(LineError::file(0, format!("--{what}-field: {m}")));
                None
            }
        };
        let id = need(pick(&o.id_field, &ID_FIELDS), "id", &ID_FIELDS);
        let name = need(pick(&o.name_field, &NAME_FIELDS), "name", &NAME_FIELDS);
        let parent = match pick(&o.parent_field, &PARENT_FIELDS) {
            Ok(p) => p,
            Err(m) => {
                errors.push(LineError::file(0, format!("--parent-field: {m}")));
                None
            }
        };
        // The code is the official one: kept apart from the id when both are there.
        let code = pick(&None, &CODE_FIELDS).ok().flatten();
        match (id, name) {
            (Some(id), Some(name)) if errors.is_empty() => Ok(Fields {
                code: code.filter(|c| *c != id),
                id,
                name,
                parent,
            }),
            _ => Err(errors),
        }
    }
}

/// The import `features` make against `current` (pure: see the module's description).
pub fn plan(
    current: &RegionTree,
    units: &[(UnitId, Point<f64>, RegionId)],
    features: &[Feature],
    o: &RegionOptions,
) -> Result<RegionImport, Vec<LineError>> {
    if !LEVELS.contains(&o.level) {
        return Err(vec![LineError::file(
            0,
            format!("--level: a town's places are {}", level_names()),
        )]);
    }
    if !(0.0..0.5).contains(&o.tolerance) {
        return Err(vec![LineError::file(
            0,
            "--tolerance: a share of area from 0 to 0.5".into(),
        )]);
    }
    if features.is_empty() {
        return Err(vec![LineError::file(
            0,
            "the file holds no features".into(),
        )]);
    }
    let fields = Fields::of(features, o)?;
    let mut errors = Vec::new();
    let mut candidates: Vec<Candidate> = Vec::with_capacity(features.len());
    let mut seen: HashMap<RegionId, u64> = HashMap::new();
    let mut unchanged = 0;
    for f in features {
        match read(current, f, &fields, o) {
            Ok(c) => {
                if let Some(first) = seen.insert(c.region.id.clone(), f.line) {
                    errors.push(LineError::at(
                        f.line,
                        &fields.id,
                        format!("repeats the id `{}` of feature {first}", c.region.id),
                    ));
                } else if c.replaces.is_some_and(|i| *current.get(i) == c.region) {
                    unchanged += 1;
                } else {
                    candidates.push(c);
                }
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    // The places read well are checked together even when others were not, so that
    // one answer names everything wrong with the file.
    let tol = o.tolerance;
    inside_parents(current, &candidates, tol, &mut errors);
    apart(current, &candidates, o.level, tol, &mut errors);
    children_kept_inside(current, &candidates, tol, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    let new = candidates.iter().filter(|c| c.replaces.is_none()).count();
    let mut regions: Vec<Region> = candidates.into_iter().map(|c| c.region).collect();
    if let Some(root) = root_from_children(current, &regions, o.level) {
        regions.insert(0, root);
    }
    let tree = current
        .with(&regions)
        .map_err(|e| vec![LineError::file(0, e.to_string())])?;
    let mut moved = Vec::new();
    let mut outside = Vec::new();
    for (unit, point, mg) in units {
        match tree.micro_grid_at(*point) {
            None => outside.push((*unit, *point)),
            Some(m) if tree.get(m).id != *mg => moved.push((*unit, tree.get(m).id.clone())),
            Some(_) => {}
        }
    }
    if !outside.is_empty() {
        let mut e: Vec<LineError> = outside
            .iter()
            .take(UNITS_NAMED)
            .map(|(u, p)| {
                LineError::file(
                    0,
                    format!(
                        "unit {u} at {:.6}, {:.6} would lie outside every micro-grid",
                        p.x(),
                        p.y()
                    ),
                )
            })
            .collect();
        if outside.len() > UNITS_NAMED {
            e.push(LineError::file(
                0,
                format!(
                    "and {} more units would lie outside every micro-grid",
                    outside.len() - UNITS_NAMED
                ),
            ));
        }
        return Err(e);
    }
    Ok(RegionImport {
        level: o.level,
        regions,
        new,
        unchanged,
        moved,
        source: Text::new(&o.source.chars().take(200).collect::<String>()).unwrap_or_default(),
    })
}

/// `s` as a level a file of places may hold, or what those levels are.
pub fn level_of(s: &str) -> Result<Level, String> {
    s.parse()
        .ok()
        .filter(|l| LEVELS.contains(l))
        .ok_or_else(|| format!("a town's places are {}", level_names()))
}

fn level_names() -> String {
    LEVELS.map(|l| l.as_str()).join(", ")
}

/// One feature checked on its own: its id, name, parent and polygon.
fn read(
    current: &RegionTree,
    f: &Feature,
    fields: &Fields,
    o: &RegionOptions,
) -> Result<Candidate, Vec<LineError>> {
    let mut errors = Vec::new();
    let at = |column: &str, m: String| LineError::at(f.line, column, m);
    let text = |k: &String| f.props.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let id = match text(&fields.id).map(str::parse::<RegionId>) {
        None => {
            errors.push(at(&fields.id, "missing".into()));
            None
        }
        Some(Err(e)) => {
            errors.push(at(&fields.id, e.to_string()));
            None
        }
        Some(Ok(id)) => Some(id),
    };
    let name = match text(&fields.name) {
        None => {
            errors.push(at(&fields.name, "missing".into()));
            String::new()
        }
        Some(n) if n.chars().count() > 100 => {
            errors.push(at(&fields.name, "longer than 100 characters".into()));
            String::new()
        }
        Some(n) => n.to_owned(),
    };
    let code = fields
        .code
        .as_ref()
        .and_then(text)
        .map(|c| c.chars().take(40).collect());
    let boundary = if o.level.has_polygon() {
        match polygon(f, o.crs) {
            Ok(p) => Some(p),
            Err(m) => {
                errors.push(at("geometry", m));
                None
            }
        }
    } else {
        None
    };
    let Some(id) = id else {
        return Err(errors);
    };
    let replaces = current.find(&id);
    if let Some(i) = replaces
        && current.get(i).level != o.level
    {
        errors.push(at(
            &fields.id,
            format!("`{id}` is a {} already", current.get(i).level),
        ));
    }
    let parent = parent_of(current, f, fields, o, &id, replaces, boundary.as_ref());
    let parent = match parent {
        Ok(p) => p,
        Err((column, m)) => {
            errors.push(at(&column, m));
            None
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Candidate {
        line: f.line,
        region: Region {
            id,
            level: o.level,
            parent,
            code,
            name,
            boundary,
        },
        replaces,
    })
}

/// A region's parent: the one its column names, else the one it had, else the region of
/// a level above whose polygon holds its interior point. `Err((column, message))`.
fn parent_of(
    current: &RegionTree,
    f: &Feature,
    fields: &Fields,
    o: &RegionOptions,
    id: &RegionId,
    replaces: Option<RegionIdx>,
    boundary: Option<&MultiPolygon<f64>>,
) -> Result<Option<RegionId>, (String, String)> {
    let root = current.root();
    if o.level == Level::Town {
        // A town's map has one town, its root: a town file sets its name and boundary.
        return if *id == current.get(root).id && current.get(root).level == Level::Town {
            Ok(None)
        } else {
            Err((
                fields.id.clone(),
                format!(
                    "the map's town is `{}`: a town file may only give its boundary",
                    current.get(root).id
                ),
            ))
        };
    }
    let allowed = o.level.parents();
    let named = fields
        .parent
        .as_ref()
        .and_then(|k| f.props.get(k))
        .map(|s| s.trim())
        .filter(|s| !s.is_empty());
    if let Some(p) = named {
        let column = fields.parent.clone().unwrap_or_default();
        let ok = current
            .find_str(p)
            .filter(|&i| allowed.contains(&current.get(i).level));
        return match ok {
            Some(i) => Ok(Some(current.get(i).id.clone())),
            None => Err((
                column,
                format!(
                    "`{p}` is not a place a {} can belong to ({})",
                    o.level,
                    allowed
                        .iter()
                        .map(|l| l.as_str())
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            )),
        };
    }
    if let Some(i) = replaces {
        return Ok(current.get(i).parent.clone());
    }
    let missing = || {
        (
            "parent".to_owned(),
            format!(
                "no {} holds it: name its parent in a `parent` attribute",
                allowed
                    .iter()
                    .map(|l| l.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        )
    };
    let Some(point) = boundary.and_then(|b| b.interior_point()) else {
        // Areas and groups have no polygon: straight under the root, or named.
        return if allowed.contains(&current.get(root).level) {
            Ok(Some(current.get(root).id.clone()))
        } else {
            Err(missing())
        };
    };
    for &level in allowed {
        let p = [point.x(), point.y()];
        let found = current
            .regions_in(p, p, level)
            .filter(|&i| {
                current
                    .get(i)
                    .boundary
                    .as_ref()
                    .is_some_and(|b| b.contains(&point))
            })
            .min_by(|&a, &b| current.get(a).id.cmp(&current.get(b).id));
        if let Some(i) = found {
            return Ok(Some(current.get(i).id.clone()));
        }
    }
    // A root without its boundary yet (a fresh `onemap init`) takes its children as they
    // come.
    let bare_root = current
        .get(root)
        .boundary
        .as_ref()
        .is_none_or(|b| b.0.is_empty());
    if bare_root && allowed.contains(&current.get(root).level) {
        return Ok(Some(current.get(root).id.clone()));
    }
    Err(missing())
}
