//! A province as data: a deterministic generator of about ten million units across
//! Zhejiang's extent, for measuring onemap at scale (`onemap gen --scale province`).
//!
//! Places are a regular lattice (synthetic, not real boundaries): the province is cut
//! into [`COUNTIES`] counties, each into 4 × 4 towns, each town into 4 × 4 villages,
//! each village into 2 × 2 grids and each grid into 2 × 2 micro-grids — 90 counties,
//! 1,440 towns, 23,040 villages, 92,160 grids and 368,640 micro-grids, close to the
//! province's real counts of towns and villages. Units cluster the way registers do:
//! each town's share comes from a heavy-tailed (log-normal) weight, so a few towns are
//! dense and much of the countryside is sparse, and within a town most units crowd
//! round one to three centres (town seats, industrial parks) with the rest scattered.
//!
//! Facts are one campaign's snapshot, dated from [`CAMPAIGN_START`] and relative to
//! the moment of generation for deadlines: about 12 % of units not yet inspected, the
//! rest inspected once, with general hazards closed or open (some past a yellow card's
//! deadline), open major hazards and suspensions in the proportions of the Guali
//! campaign's middle weeks.
//!
//! The generator is a pure function of (units, seed, now): [`Province::units`] can be
//! walked several times and gives the same records each time, which is how the bulk
//! loader streams one table after another without holding ten million units.

use chrono::{DateTime, TimeZone, Utc};
use geo::{Coord, MultiPolygon, Rect};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};

use crate::domain::{
    Batch, Category, Colour, Hazard, HazardFacts, HazardId, Inspection, InspectionId,
    InspectionKind, Level, Location, Region, RegionId, RiskLevel, Severity, Stage, Suspension,
    Unit, UnitFacts, UnitId, UnitKind, colour_of,
};
mod town;

use crate::store::bulk::{
    BulkTable, CHUNK_BYTES, hazard_line, inspection_line, suspension_line, unit_line,
};
use town::{Ids, TownGen};

/// The province's extent, `[west, south, east, north]` (Zhejiang, roughly).
pub const EXTENT: [f64; 4] = [118.0, 27.0, 123.0, 31.2];
/// Counties across and down.
pub const COUNTIES: (u32, u32) = (10, 9);
/// Towns across a county, villages across a town (each way).
pub const SPLIT: u32 = 4;
/// Micro-grids across a village (2 grids of 2 micro-grids, each way).
pub const MICRO_PER_VILLAGE: u32 = 4;
/// The default size: Zhejiang's market entities, about ten million.
pub const DEFAULT_UNITS: u64 = 10_000_000;
/// The seed `onemap gen` uses by default.
pub const DEFAULT_SEED: u64 = 330_000;

/// When the synthetic campaign began.
pub fn campaign_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}
/// See [`campaign_start`].
pub const CAMPAIGN_START: &str = "2026-09-01";

/// Micro-grids across a town, each way.
const MICRO_PER_TOWN: u32 = SPLIT * MICRO_PER_VILLAGE;

/// One unit as generated, with every fact recorded about it and its colour at `now`.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The unit.
    pub unit: Unit,
    /// Its visit, if it was inspected.
    pub inspection: Option<Inspection>,
    /// Hazards the visit found.
    pub hazards: Vec<Hazard>,
    /// A suspension order in force.
    pub suspension: Option<Suspension>,
    /// Its colour at the generator's `now`.
    pub colour: Colour,
}

/// One town of the lattice and how many units it holds.
#[derive(Debug, Clone)]
struct Town {
    /// Lattice position: county (cx, cy), town within it (tx, ty).
    county: (u32, u32),
    town: (u32, u32),
    rect: Rect<f64>,
    units: u64,
}

/// The province to generate: its towns with their shares of the units.
#[derive(Debug, Clone)]
pub struct Province {
    seed: u64,
    now: DateTime<Utc>,
    towns: Vec<Town>,
}

fn lerp(a: f64, b: f64, t: f64) -> f64 {
    a + (b - a) * t
}

/// The rectangle of cell (i, j) of an n × m lattice over `r` (j counted from the north).
fn cell(r: Rect<f64>, n: u32, m: u32, i: u32, j: u32) -> Rect<f64> {
    let (w, e) = (
        lerp(r.min().x, r.max().x, f64::from(i) / f64::from(n)),
        lerp(r.min().x, r.max().x, f64::from(i + 1) / f64::from(n)),
    );
    let (n_, s) = (
        lerp(r.max().y, r.min().y, f64::from(j) / f64::from(m)),
        lerp(r.max().y, r.min().y, f64::from(j + 1) / f64::from(m)),
    );
    Rect::new(Coord { x: w, y: s }, Coord { x: e, y: n_ })
}

fn county_id(c: (u32, u32)) -> String {
    format!("zj-c{}{}", c.0, c.1)
}
fn town_id(c: (u32, u32), t: (u32, u32)) -> String {
    format!("{}-t{}{}", county_id(c), t.0, t.1)
}

/// The id of the micro-grid at micro-grid lattice position (mx, my) of a town.
fn micro_id(town: &str, mx: u32, my: u32) -> String {
    let (v, g, m) = (
        (mx / MICRO_PER_VILLAGE, my / MICRO_PER_VILLAGE),
        ((mx % 4) / 2, (my % 4) / 2),
        (mx % 2, my % 2),
    );
    format!("{town}-v{}{}-g{}{}-m{}{}", v.0, v.1, g.0, g.1, m.0, m.1)
}

fn id(s: &str) -> RegionId {
    // Every id here is ASCII letters, digits and `-`, well under the length limit.
    s.parse()
        .unwrap_or_else(|_| unreachable!("generated region id `{s}`"))
}

fn region(s: &str, level: Level, parent: Option<&str>, name: String, r: Rect<f64>) -> Region {
    Region {
        id: id(s),
        level,
        parent: parent.map(id),
        code: None,
        name,
        boundary: Some(MultiPolygon(vec![r.to_polygon()])),
    }
}

impl Province {
    /// Lays the province out for `units` units; `now` dates the deadlines.
    pub fn new(units: u64, seed: u64, now: DateTime<Utc>) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let [w, s, e, n] = EXTENT;
        let whole = Rect::new(Coord { x: w, y: s }, Coord { x: e, y: n });
        // Heavy tails: σ = 1.2 puts a third of the units in a tenth of the towns.
        let county_weight = LogNormal::new(0.0, 0.6).unwrap_or_else(|_| unreachable!());
        let town_weight = LogNormal::new(0.0, 1.2).unwrap_or_else(|_| unreachable!());
        let mut towns = Vec::new();
        let mut weights = Vec::new();
        for cy in 0..COUNTIES.1 {
            for cx in 0..COUNTIES.0 {
                let cw: f64 = county_weight.sample(&mut rng);
                let crect = cell(whole, COUNTIES.0, COUNTIES.1, cx, cy);
                for ty in 0..SPLIT {
                    for tx in 0..SPLIT {
                        weights.push(cw * town_weight.sample(&mut rng));
                        towns.push(Town {
                            county: (cx, cy),
                            town: (tx, ty),
                            rect: cell(crect, SPLIT, SPLIT, tx, ty),
                            units: 0,
                        });
                    }
                }
            }
        }
        // Shares by largest remainder, so the counts add up to `units` exactly.
        let total: f64 = weights.iter().sum();
        let exact: Vec<f64> = weights.iter().map(|w| w / total * units as f64).collect();
        let mut given = 0;
        for (t, x) in towns.iter_mut().zip(&exact) {
            t.units = x.floor() as u64;
            given += t.units;
        }
        let mut order: Vec<usize> = (0..towns.len()).collect();
        order.sort_by(|&a, &b| {
            (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor()))
        });
        for &i in order.iter().cycle().take((units - given) as usize) {
            towns[i].units += 1;
        }
        Province { seed, now, towns }
    }

    /// Every region: the province, counties, towns, villages, grids, micro-grids,
    /// parents before children.
    pub fn regions(&self) -> Vec<Region> {
        let [w, s, e, n] = EXTENT;
        let whole = Rect::new(Coord { x: w, y: s }, Coord { x: e, y: n });
        let mut out = vec![region(
            "zj",
            Level::Province,
            None,
            "浙江省（合成）".into(),
            whole,
        )];
        for cy in 0..COUNTIES.1 {
            for cx in 0..COUNTIES.0 {
                let c = county_id((cx, cy));
                let crect = cell(whole, COUNTIES.0, COUNTIES.1, cx, cy);
                let number = cy * COUNTIES.0 + cx + 1;
                out.push(region(
                    &c,
                    Level::County,
                    Some("zj"),
                    format!("第{number}县"),
                    crect,
                ));
            }
        }
        for t in &self.towns {
            let tid = town_id(t.county, t.town);
            let number = t.town.1 * SPLIT + t.town.0 + 1;
            out.push(region(
                &tid,
                Level::Town,
                Some(&county_id(t.county)),
                format!("{number}号镇"),
                t.rect,
            ));
        }
        for t in &self.towns {
            let tid = town_id(t.county, t.town);
            for vy in 0..SPLIT {
                for vx in 0..SPLIT {
                    let vid = format!("{tid}-v{vx}{vy}");
                    let vrect = cell(t.rect, SPLIT, SPLIT, vx, vy);
                    out.push(region(
                        &vid,
                        Level::Village,
                        Some(&tid),
                        format!("{}村", vy * SPLIT + vx + 1),
                        vrect,
                    ));
                    for gy in 0..2 {
                        for gx in 0..2 {
                            let gid = format!("{vid}-g{gx}{gy}");
                            let grect = cell(vrect, 2, 2, gx, gy);
                            out.push(region(
                                &gid,
                                Level::Grid,
                                Some(&vid),
                                format!("{}网格", gy * 2 + gx + 1),
                                grect,
                            ));
                            for my in 0..2 {
                                for mx in 0..2 {
                                    out.push(region(
                                        &format!("{gid}-m{mx}{my}"),
                                        Level::MicroGrid,
                                        Some(&gid),
                                        format!("{}微网格", my * 2 + mx + 1),
                                        cell(grect, 2, 2, mx, my),
                                    ));
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// How many units, inspections, hazards and suspensions [`Province::units`] yields.
    pub fn unit_count(&self) -> u64 {
        self.towns.iter().map(|t| t.units).sum()
    }

    /// Every unit with its facts, ids from 1 in order, town after town; inspection
    /// and hazard ids are sequential too, in the same order. The same records on every
    /// call.
    pub fn units(&self) -> Units<'_> {
        Units {
            province: self,
            town: 0,
            town_gen: None,
            done_in_town: 0,
            last_id: 0,
            ids: Ids::default(),
        }
    }
}

/// The units of a [`Province`], in id order.
#[derive(Debug)]
pub struct Units<'a> {
    province: &'a Province,
    town: usize,
    town_gen: Option<TownGen>,
    done_in_town: u64,
    last_id: u64,
    ids: Ids,
}

impl Iterator for Units<'_> {
    type Item = Generated;
    fn next(&mut self) -> Option<Generated> {
        loop {
            let (p, k) = (self.province, self.town);
            let t = p.towns.get(k)?;
            if self.done_in_town < t.units {
                let town = self.town_gen.get_or_insert_with(|| TownGen::new(p, k));
                self.done_in_town += 1;
                self.last_id += 1;
                return Some(town.unit(self.last_id, &mut self.ids));
            }
            self.town += 1;
            self.done_in_town = 0;
            self.town_gen = None;
        }
    }
}

impl crate::store::bulk::BulkSource for Province {
    fn rows(&self, table: BulkTable, send: &mut dyn FnMut(String) -> bool) {
        let mut chunk = String::with_capacity(CHUNK_BYTES + 4096);
        for g in self.units() {
            match table {
                BulkTable::Units => unit_line(&mut chunk, &g.unit, g.colour),
                BulkTable::Inspections => {
                    if let Some(i) = &g.inspection {
                        inspection_line(&mut chunk, i);
                    }
                }
                BulkTable::Hazards => {
                    for h in &g.hazards {
                        hazard_line(&mut chunk, h);
                    }
                }
                BulkTable::Suspensions => {
                    if let Some(s) = &g.suspension {
                        suspension_line(&mut chunk, s);
                    }
                }
            }
            if chunk.len() >= CHUNK_BYTES
                && !send(std::mem::replace(
                    &mut chunk,
                    String::with_capacity(CHUNK_BYTES + 4096),
                ))
            {
                return;
            }
        }
        if !chunk.is_empty() {
            send(chunk);
        }
    }
}
