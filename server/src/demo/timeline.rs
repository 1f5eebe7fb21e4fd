//! The two-month campaign of 2022, as recorded facts.
//!
//! - Every unit is inspected between 15 and 30 June; a "comprehensive one-time
//!   inspection" round (综合查一次, 1 July – 5 August, every department's checklist)
//!   finds 3,468 more simple and complex hazards, their visits and hazards tagged.
//! - 49,106 hazards: 9,606 fixed on the spot, 31,600 concentrated, 7,900 by deadline.
//! - Closures: 22.0% of the concentrated ones by the end of 15 July; 81.8% of all by
//!   the end of 12 August; nearly all by October, a residue still open today.
//! - Yellow cards from 20 July on hazards still open, some of them going overdue;
//!   107 rag-recycling workshops suspended for good in July (their hazards closed),
//!   five more close-batch enterprises from August, and temporary suspensions over
//!   open major hazards.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::Rng;
use rand::seq::SliceRandom;

use super::figures;
use super::names;
use super::units::PlacedUnits;
use crate::domain::time::{Zone, cst};
use crate::domain::{
    Batch, Category, Hazard, HazardId, Inspection, InspectionId, InspectionKind, Severity, Stage,
    Suspension, UnitId, UnitKind,
};

/// The recorded facts of the campaign.
pub struct Campaign {
    /// Visits.
    pub inspections: Vec<Inspection>,
    /// Hazards.
    pub hazards: Vec<Hazard>,
    /// Suspension orders.
    pub suspensions: Vec<Suspension>,
}

const FIRE: &[&str] = &[
    "pitched_roof",
    "fire_lane_occupied",
    "closed_canopy",
    "foam_sandwich_panel",
    "no_fire_separation",
    "no_smoke_exhaust",
    "blocked_escape_route",
    "ebike_charging",
    "window_bars",
    "missing_exit",
    "messy_wiring",
    "no_indoor_hydrant",
    "extinguisher_expired",
];
const PRODUCTION: &[&str] = &[
    "machine_guard_missing",
    "chemicals_storage",
    "gas_cylinder",
    "no_safety_training",
];
const TRAFFIC: &[&str] = &["parking_on_fire_lane", "unlicensed_vehicle", "loading_area"];
/// The other departments' items, found on comprehensive visits only.
const OTHER_DEPARTMENTS: &[&str] = &[
    "food_without_licence",
    "tenants_unregistered",
    "no_anti_fraud_notice",
    "venue_code_unchecked",
    "sewage_discharge",
    "unauthorised_sign",
];

/// A random moment in `[from, to]`, to the minute.
fn between<R: Rng>(rng: &mut R, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
    let minutes = (to - from).num_minutes().max(0);
    from + Duration::minutes(rng.random_range(0..=minutes))
}

/// The last whole second of the day `days` after `t`'s day in Guali.
fn end_of_day_after(t: DateTime<Utc>, days: i64) -> DateTime<Utc> {
    let date: NaiveDate = Zone::CHINA.date_of(t) + Duration::days(days + 1);
    Zone::CHINA.start_of_day(date) - Duration::seconds(1)
}

struct Draft {
    unit: usize,
    visit: usize,
    stage: Stage,
    hazard: Hazard,
}

/// Records the campaign for the placed units.
pub fn run_campaign<R: Rng>(rng: &mut R, placed: &PlacedUnits) -> Campaign {
    let units = &placed.units;
    let n = units.len();
    let mut inspections = Vec::with_capacity(n * 2);
    let inspector = |rng: &mut R| {
        format!(
            "{}（第{}检查组）",
            names::person(rng),
            rng.random_range(1..=100)
        )
    };

    // First visits, 15–30 June, working hours.
    for u in units {
        let at = cst(
            2022,
            6,
            rng.random_range(15..=30),
            rng.random_range(8..18),
            rng.random_range(0..60),
        );
        inspections.push(visit(
            inspections.len(),
            u.id,
            InspectionKind::Inspection,
            inspector(rng),
            at,
        ));
    }

    // Who has how many hazards: weighted draws, exactly 49,106 in all.
    let weight = |i: usize| match units[i].kind {
        _ if placed.rag_workshop[i] => 3.0,
        UnitKind::Enterprise if units[i].host.is_some() => 5.5,
        UnitKind::Enterprise => 5.0,
        UnitKind::StreetShop => 2.2,
        UnitKind::Rental => 1.3,
        UnitKind::HighRise => 4.0,
    };
    let cumulative: Vec<f64> = (0..n)
        .scan(0.0, |acc, i| {
            *acc += weight(i);
            Some(*acc)
        })
        .collect();
    let total = cumulative.last().copied().unwrap_or(0.0);
    let mut owners: Vec<usize> = (0..figures::HAZARDS)
        .map(|_| {
            let r = rng.random_range(0.0..total);
            cumulative.partition_point(|&c| c <= r).min(n - 1)
        })
        .collect();
    owners.sort_unstable();
    let immediate = figures::HAZARDS - figures::CONCENTRATED - figures::DEADLINE;
    let mut stages: Vec<Stage> = std::iter::repeat_n(Stage::Immediate, immediate)
        .chain(std::iter::repeat_n(
            Stage::Concentrated,
            figures::CONCENTRATED,
        ))
        .chain(std::iter::repeat_n(Stage::Deadline, figures::DEADLINE))
        .collect();
    stages.shuffle(rng);

    // The comprehensive round finds exactly its share of the simple and complex hazards,
    // and visits a unit once, whatever it finds there.
    let eligible: Vec<usize> = (0..stages.len())
        .filter(|&k| stages[k] != Stage::Concentrated)
        .collect();
    let mut later = vec![false; stages.len()];
    for k in rand::seq::index::sample(rng, eligible.len(), figures::COMPREHENSIVE) {
        later[eligible[k]] = true;
    }
    let mut second_visit: Vec<Option<usize>> = vec![None; n];
    let mut drafts: Vec<Draft> = Vec::with_capacity(figures::HAZARDS);
    for (k, (&u, &stage)) in owners.iter().zip(&stages).enumerate() {
        let later = later[k];
        let visit_idx = if later {
            *second_visit[u].get_or_insert_with(|| {
                let at = cst(2022, 7, 1, 8, 0)
                    + Duration::days(rng.random_range(0..36))
                    + Duration::minutes(rng.random_range(0..600));
                let mut comprehensive = visit(
                    inspections.len(),
                    units[u].id,
                    InspectionKind::Inspection,
                    inspector(rng),
                    at,
                );
                comprehensive.comprehensive = true;
                inspections.push(comprehensive);
                inspections.len() - 1
            })
        } else {
            u
        };
        let found_at = inspections[visit_idx].at;
        let (category, list) = match rng.random_range(0..100) {
            0..72 => (Category::Fire, FIRE),
            72..88 => (Category::Production, PRODUCTION),
            88..94 => (Category::Traffic, TRAFFIC),
            _ if later => (Category::Other, OTHER_DEPARTMENTS),
            _ => (Category::Other, &["other"][..]),
        };
        let major = match stage {
            Stage::Deadline => rng.random_bool(0.15),
            Stage::Concentrated => rng.random_bool(0.02),
            Stage::Immediate => false,
        };
        let deadline = (stage == Stage::Deadline)
            .then(|| end_of_day_after(found_at, rng.random_range(20..=45)));
        drafts.push(Draft {
            unit: u,
            visit: visit_idx,
            stage,
            hazard: Hazard {
                id: HazardId::new(drafts.len() as i64 + 1).unwrap_or_else(|_| unreachable!()),
                unit: units[u].id,
                inspection: inspections[visit_idx].id,
                category,
                hazard_type: list[rng.random_range(0..list.len())].to_owned(),
                severity: if major {
                    Severity::Major
                } else {
                    Severity::General
                },
                stage,
                found_at,
                deadline,
                yellow_card_at: None,
                closed_at: None,
                evidence: None,
                comprehensive: later,
            },
        });
    }

    close_hazards(rng, &mut drafts, placed);
    issue_yellow_cards(rng, &mut drafts);
    let suspensions = suspend(rng, &drafts, placed);

    // A return visit confirms a unit once its last hazard is closed.
    let mut last_closed: Vec<Option<DateTime<Utc>>> = vec![None; n];
    let mut all_closed = vec![true; n];
    for d in &drafts {
        match d.hazard.closed_at {
            Some(c) => last_closed[d.unit] = Some(last_closed[d.unit].map_or(c, |l| l.max(c))),
            None => all_closed[d.unit] = false,
        }
    }
    for (u, last) in last_closed.into_iter().enumerate() {
        if let (Some(last), true) = (last, all_closed[u]) {
            let at = last + Duration::hours(2);
            inspections.push(visit(
                inspections.len(),
                units[u].id,
                InspectionKind::Reinspection,
                inspector(rng),
                at,
            ));
        }
    }
    debug_assert!(
        drafts
            .iter()
            .all(|d| inspections[d.visit].id == d.hazard.inspection)
    );
    Campaign {
        inspections,
        hazards: drafts.into_iter().map(|d| d.hazard).collect(),
        suspensions,
    }
}

fn visit(
    index: usize,
    unit: UnitId,
    kind: InspectionKind,
    inspector: String,
    at: DateTime<Utc>,
) -> Inspection {
    Inspection {
        id: InspectionId::new(index as i64 + 1).unwrap_or_else(|_| unreachable!()),
        unit,
        kind,
        inspector,
        at,
        signature: None,
        photos: Vec::new(),
        comprehensive: false,
        note: String::new(),
    }
}

/// Closes hazards stage by stage with exact quotas per window. Hazards of the
/// rag-recycling workshops come first in each list, so all of them get closed.
fn close_hazards<R: Rng>(rng: &mut R, drafts: &mut [Draft], placed: &PlacedUnits) {
    fn by_stage<R: Rng>(
        drafts: &[Draft],
        placed: &PlacedUnits,
        stage: Stage,
        rng: &mut R,
    ) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..drafts.len())
            .filter(|&i| drafts[i].stage == stage)
            .collect();
        idx.shuffle(rng);
        idx.sort_by_key(|&i| !placed.rag_workshop[drafts[i].unit]);
        idx
    }
    let jul15 = cst(2022, 7, 15, 22, 0);
    let aug12 = cst(2022, 8, 12, 22, 0);
    for i in by_stage(drafts, placed, Stage::Immediate, rng) {
        let h = &mut drafts[i].hazard;
        h.closed_at = Some(h.found_at + Duration::minutes(rng.random_range(10..=180)));
        h.evidence = Some("现场整改到位".into());
    }
    // Concentrated: 22.0% by 15 July, 78% by 12 August, all but 152 by 30 September.
    let conc = by_stage(drafts, placed, Stage::Concentrated, rng);
    let k1 = figures::CONCENTRATED_CLOSED_BY_JUL_15;
    let k2 = figures::CONCENTRATED * 78 / 100;
    let k3 = figures::CONCENTRATED - 152;
    for (rank, &i) in conc.iter().enumerate() {
        let h = &mut drafts[i].hazard;
        let window = if rank < k1 {
            Some((
                (h.found_at + Duration::days(1)).max(cst(2022, 7, 1, 8, 0)),
                jul15,
            ))
        } else if rank < k2 {
            Some((cst(2022, 7, 16, 8, 0), aug12))
        } else if rank < k3 {
            Some((cst(2022, 8, 13, 8, 0), cst(2022, 9, 30, 18, 0)))
        } else {
            None
        };
        if let Some((from, to)) = window {
            h.closed_at = Some(between(rng, from, to));
            h.evidence = Some("整改完成，复查合格".into());
        }
    }
    // By deadline: 75% by 12 August, all but 60 by October.
    let dl = by_stage(drafts, placed, Stage::Deadline, rng);
    let by_aug12 = figures::DEADLINE * 75 / 100;
    for (rank, &i) in dl.iter().enumerate() {
        let h = &mut drafts[i].hazard;
        let window = if rank < by_aug12 {
            Some((h.found_at + Duration::days(2), aug12))
        } else if rank < figures::DEADLINE - 60 {
            Some((cst(2022, 8, 13, 8, 0), cst(2022, 10, 31, 18, 0)))
        } else {
            None
        };
        if let Some((from, to)) = window {
            h.closed_at = Some(between(rng, from, to));
            h.evidence = Some("整改完成，复查合格".into());
        }
    }
}

/// From 20 July, yellow cards for a third of the hazards still open, and for every one
/// that would otherwise never be closed.
fn issue_yellow_cards<R: Rng>(rng: &mut R, drafts: &mut [Draft]) {
    for d in drafts.iter_mut().filter(|d| d.stage != Stage::Immediate) {
        let day = cst(2022, 7, 20, 10, 0) + Duration::days(rng.random_range(0..6));
        let h = &mut d.hazard;
        let open_then = h.found_at < day && h.closed_at.is_none_or(|c| c > day);
        if open_then && (h.closed_at.is_none() || rng.random_bool(0.35)) {
            h.yellow_card_at = Some(day);
            h.deadline = Some(end_of_day_after(day, rng.random_range(7..=15)));
        }
    }
}

fn suspend<R: Rng>(rng: &mut R, drafts: &[Draft], placed: &PlacedUnits) -> Vec<Suspension> {
    let units = &placed.units;
    let mut out = Vec::new();
    for (i, u) in units.iter().enumerate() {
        if placed.rag_workshop[i] {
            let at = cst(2022, 7, 5, 9, 0) + Duration::days(rng.random_range(0..8));
            out.push(Suspension {
                unit: u.id,
                started_at: at,
                ended_at: None,
            });
        } else if u.batch == Some(Batch::Close) {
            out.push(Suspension {
                unit: u.id,
                started_at: cst(2022, 8, 1, 9, 0),
                ended_at: None,
            });
        }
    }
    // Temporary orders over major hazards that took past 20 July to close.
    let mut majors: Vec<(usize, DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for d in drafts
        .iter()
        .filter(|d| d.hazard.severity == Severity::Major)
    {
        if let Some(closed) = d
            .hazard
            .closed_at
            .filter(|&c| c > cst(2022, 7, 20, 0, 0) && c > d.hazard.found_at + Duration::days(4))
        {
            majors.push((d.unit, d.hazard.found_at, closed));
        }
    }
    majors.retain(|&(u, _, _)| units[u].batch != Some(Batch::Close) && !placed.rag_workshop[u]);
    majors.dedup_by_key(|m| m.0);
    majors.shuffle(rng);
    let mut chosen: Vec<_> = majors.into_iter().take(60).collect();
    chosen.sort_by_key(|m| m.0);
    for (u, found, closed) in chosen {
        out.push(Suspension {
            unit: units[u].id,
            started_at: found + Duration::days(3),
            ended_at: Some(closed + Duration::hours(1)),
        });
    }
    out
}
