//! One town's units, drawn from the town's own seed: where each stands (round the
//! town's centres or scattered), what it is, and the campaign's facts about it.

use chrono::{DateTime, Duration, Utc};
use geo::{Point, Rect};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use super::*;

/// Sequence counters for inspections and hazards.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Ids {
    inspection: i64,
    hazard: i64,
}

/// What one town's units are drawn from.
#[derive(Debug, Clone)]
pub(super) struct TownGen {
    seed: u64,
    centres: Vec<(Point<f64>, f64)>,
    rect: Rect<f64>,
    tid: String,
    now: DateTime<Utc>,
}

const HAZARD_TYPES: [(&str, Category); 6] = [
    ("blocked_escape_route", Category::Fire),
    ("extinguisher_missing", Category::Fire),
    ("illegal_wiring", Category::Fire),
    ("ebike_charging_indoors", Category::Fire),
    ("unguarded_machinery", Category::Production),
    ("goods_blocking_road", Category::Traffic),
];

impl TownGen {
    /// Town `k`: its centres (town seats, industrial parks) and seed.
    pub(super) fn new(p: &Province, k: usize) -> Self {
        let t = &p.towns[k];
        let mut rng = ChaCha8Rng::seed_from_u64(p.seed ^ ((k as u64 + 1) << 20));
        let centres = (0..rng.random_range(1..=3))
            .map(|_| {
                let c = Point::new(
                    lerp(t.rect.min().x, t.rect.max().x, rng.random_range(0.2..0.8)),
                    lerp(t.rect.min().y, t.rect.max().y, rng.random_range(0.2..0.8)),
                );
                (c, t.rect.width() * rng.random_range(0.04..0.15))
            })
            .collect();
        TownGen {
            seed: rng.random(),
            centres,
            rect: t.rect,
            tid: town_id(t.county, t.town),
            now: p.now,
        }
    }

    /// The unit `unit_id`, drawn from a stream seeded by its id.
    pub(super) fn unit(&self, unit_id: u64, ids: &mut Ids) -> Generated {
        let mut rng =
            ChaCha8Rng::seed_from_u64(self.seed ^ unit_id.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let r = self.rect;
        let location = loop {
            let p = if rng.random_bool(0.8) {
                let (c, sigma) = self.centres[rng.random_range(0..self.centres.len())];
                let d = Normal::new(0.0, sigma).unwrap_or_else(|_| unreachable!());
                Point::new(c.x() + d.sample(&mut rng), c.y() + d.sample(&mut rng))
            } else {
                Point::new(
                    rng.random_range(r.min().x..r.max().x),
                    rng.random_range(r.min().y..r.max().y),
                )
            };
            let inside =
                p.x() > r.min().x && p.x() < r.max().x && p.y() > r.min().y && p.y() < r.max().y;
            if inside && let Ok(l) = Location::new(p.x(), p.y()) {
                break l;
            }
        };
        let fx = (location.x() - r.min().x) / r.width();
        let fy = (r.max().y - location.y()) / r.height();
        let at = |f: f64| ((f * f64::from(MICRO_PER_TOWN)) as u32).min(MICRO_PER_TOWN - 1);
        let micro_grid = id(&micro_id(&self.tid, at(fx), at(fy)));
        let kind = match rng.random_range(0..100) {
            0..20 => UnitKind::Enterprise,
            20..55 => UnitKind::StreetShop,
            55..97 => UnitKind::Rental,
            _ => UnitKind::HighRise,
        };
        let risk = match rng.random_range(0..100) {
            0..2 => RiskLevel::Red,
            2..8 => RiskLevel::Orange,
            8..25 => RiskLevel::Yellow,
            _ => RiskLevel::Blue,
        };
        let batch = (kind == UnitKind::Enterprise).then(|| match rng.random_range(0..100) {
            0..10 => Batch::Model,
            10..96 => Batch::Rectify,
            _ => Batch::Close,
        });
        let start = campaign_start();
        let id_ = positive(UnitId::new(unit_id as i64));
        let unit = Unit {
            id: id_,
            kind,
            name: format!("{}{unit_id}", kind_name(kind)),
            address: format!("{} {}", self.tid, rng.random_range(1..400)),
            owner_name: "负责人".into(),
            owner_phone: format!(
                "1{:02}****{:04}",
                rng.random_range(30..99),
                unit_id % 10_000
            ),
            location,
            micro_grid,
            risk,
            batch,
            host: None,
            registered_at: start - Duration::days(rng.random_range(30..3_650)),
        };
        // The campaign so far: days since it began, inspections spread over them.
        let days = (self.now - start).num_days().max(1);
        let mut out = Generated {
            unit,
            inspection: None,
            hazards: Vec::new(),
            suspension: None,
            colour: Colour::Uninspected,
        };
        let fate = rng.random_range(0..1000);
        if fate >= 880 {
            out.colour = self.colour(&out);
            return out;
        }
        ids.inspection += 1;
        let visited = start + Duration::minutes(rng.random_range(0..days * 24 * 60));
        let inspection = positive(InspectionId::new(ids.inspection));
        out.inspection = Some(Inspection {
            id: inspection,
            unit: id_,
            kind: InspectionKind::Inspection,
            inspector: format!("网格员{}", unit_id % 997),
            at: visited,
            signature: None,
            photos: Vec::new(),
            comprehensive: false,
            note: String::new(),
        });
        let mut hazard = |severity, stage, deadline, yellow, closed, rng: &mut ChaCha8Rng| {
            ids.hazard += 1;
            let (hazard_type, category) = HAZARD_TYPES[rng.random_range(0..HAZARD_TYPES.len())];
            Hazard {
                id: positive(HazardId::new(ids.hazard)),
                unit: id_,
                inspection,
                category,
                hazard_type: hazard_type.into(),
                severity,
                stage,
                found_at: visited,
                deadline,
                yellow_card_at: yellow,
                closed_at: closed,
                evidence: closed.map(|_| "整改照片".to_owned()),
                comprehensive: false,
            }
        };
        let now = self.now;
        let later = |rng: &mut ChaCha8Rng, lo: i64, hi: i64| {
            now + Duration::hours(rng.random_range(lo..hi))
        };
        match fate {
            // Nothing found: green.
            0..440 => {}
            // General hazards found and closed: green.
            440..650 => {
                for _ in 0..rng.random_range(1..=3) {
                    let closed = visited + Duration::hours(rng.random_range(1..24 * 14));
                    let closed = closed.min(now - Duration::minutes(1)).max(visited);
                    let h = hazard(
                        Severity::General,
                        Stage::Concentrated,
                        None,
                        None,
                        Some(closed),
                        &mut rng,
                    );
                    out.hazards.push(h);
                }
            }
            // A hazard open, its deadline still ahead: general (yellow) or major (red).
            650..780 | 825..865 => {
                let (severity, days) = if fate < 780 {
                    (Severity::General, 30)
                } else {
                    (Severity::Major, 60)
                };
                let deadline = later(&mut rng, 24, 24 * days);
                let h = hazard(
                    severity,
                    Stage::Deadline,
                    Some(deadline),
                    None,
                    None,
                    &mut rng,
                );
                out.hazards.push(h);
            }
            // A yellow card's deadline passed, the hazard still open: orange.
            780..825 => {
                let deadline = visited.max(now - Duration::days(20)) + Duration::hours(1);
                let deadline = deadline.min(now - Duration::minutes(1));
                let yellow = visited.min(deadline);
                let h = hazard(
                    Severity::General,
                    Stage::Deadline,
                    Some(deadline),
                    Some(yellow),
                    None,
                    &mut rng,
                );
                out.hazards.push(h);
            }
            // Ordered to suspend business: black.
            _ => {
                let h = hazard(
                    Severity::Major,
                    Stage::Immediate,
                    None,
                    None,
                    None,
                    &mut rng,
                );
                out.hazards.push(h);
                out.suspension = Some(Suspension {
                    unit: id_,
                    started_at: visited,
                    ended_at: None,
                });
            }
        }
        out.colour = self.colour(&out);
        out
    }

    fn colour(&self, g: &Generated) -> Colour {
        let hazards: Vec<HazardFacts> = g.hazards.iter().map(HazardFacts::from).collect();
        let suspensions: Vec<Suspension> = g.suspension.iter().cloned().collect();
        colour_of(
            &UnitFacts {
                first_inspected_at: g.inspection.as_ref().map(|i| i.at),
                suspensions: &suspensions,
                hazards: &hazards,
            },
            self.now,
        )
    }
}

/// Ids counted from 1 are positive.
fn positive<T, E>(id: Result<T, E>) -> T {
    id.unwrap_or_else(|_| unreachable!("ids are counted from 1"))
}

fn kind_name(kind: UnitKind) -> &'static str {
    match kind {
        UnitKind::Enterprise => "企业",
        UnitKind::StreetShop => "沿街店铺",
        UnitKind::Rental => "出租房",
        UnitKind::HighRise => "高层建筑",
    }
}
