//! The worker's day (`GET /api/day`): what an inspector or a grid worker has to go to in
//! their scope, most urgent first — owners' fix reports waiting for them (they can be
//! handled from the phone), hazards overdue after a yellow card, hazards past
//! their deadline waiting for a re-inspection (to close them or card them), deadlines
//! within three days, units with an open major hazard, suspended units, units never
//! visited — and, when the phone gives its position, nearest first among equals.
//!
//! One entry per unit, with every reason it is on the list; the most urgent reason
//! places it. Pure: a function of the map, the moment, the reader's scope and the units
//! whose reports wait.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use geo::{Distance, Haversine};
use serde::Serialize;

use crate::domain::time::Stamp;
use crate::domain::{Colour, HazardId, Location, Severity, UnitId, UnitKind, colour_of};
use crate::state::scope::Scope;
use crate::state::{MapState, UnitIdx};
use crate::views::page;

/// How far ahead a deadline puts a unit on the day's list.
pub const DUE_WITHIN: Duration = Duration::days(3);

/// Why a unit is on the day's list, most urgent first (the order of the variants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The owner sent a fix report (整改反馈) that waits: close a hazard on it or
    /// reject it, from the phone, without going there first.
    FixReported,
    /// A hazard is open past a yellow card's deadline (the unit is orange).
    OverdueYellowCard,
    /// A hazard is open past its deadline without a yellow card: re-inspect it, then
    /// close it or give a yellow card.
    Reinspect,
    /// A hazard's deadline falls within three days.
    DueSoon,
    /// A major hazard is open (the unit is red).
    Major,
    /// A suspension order is in force (the unit is black).
    Suspended,
    /// Never visited.
    Uninspected,
}

impl Reason {
    /// Every reason, most urgent first.
    pub const ALL: [Reason; 7] = [
        Reason::FixReported,
        Reason::OverdueYellowCard,
        Reason::Reinspect,
        Reason::DueSoon,
        Reason::Major,
        Reason::Suspended,
        Reason::Uninspected,
    ];
}

/// One unit to go to.
#[derive(Debug, Clone, PartialEq)]
pub struct Errand {
    /// The unit.
    pub unit: UnitId,
    /// Its kind.
    pub kind: UnitKind,
    /// Its colour now.
    pub colour: Colour,
    /// Where it is.
    pub location: Location,
    /// Every reason it is on the list, most urgent first.
    pub reasons: Vec<Reason>,
    /// The open hazards that put it there (overdue, due soon or major).
    pub hazards: Vec<HazardId>,
    /// The earliest deadline among them.
    pub deadline: Option<DateTime<Utc>>,
    /// Metres from the phone, when it gave its position.
    pub distance_m: Option<f64>,
}

impl Errand {
    /// Its most urgent reason.
    pub fn reason(&self) -> Reason {
        self.reasons[0]
    }
}

/// The errands of everyone in `scope` at `now`, most urgent first; among the same
/// reason the nearest to `near` first (when given), then the earliest deadline, then by
/// id. `reported`: the units whose owners' fix reports wait for the reader.
pub fn errands(
    map: &MapState,
    scope: &Scope,
    now: DateTime<Utc>,
    near: Option<Location>,
    reported: &HashSet<UnitId>,
) -> Vec<Errand> {
    let stamp = Stamp::of(now);
    let soon = Stamp::of(now + DUE_WITHIN);
    let mut out: Vec<Errand> = in_scope(map, scope)
        .into_iter()
        .map(|u| &map.units[u as usize])
        .filter(|e| e.unit.registered_at <= now && scope.covers(map, e.micro_grid))
        .filter_map(|e| {
            let mut reasons = Vec::new();
            let mut hazards = Vec::new();
            let mut deadline: Option<Stamp> = None;
            for h in e.hazards.iter().filter(|h| h.is_open(now)) {
                let why = match h.deadline {
                    Some(_) if h.is_overdue_after_yellow_card(now) => {
                        Some(Reason::OverdueYellowCard)
                    }
                    Some(d) if d <= stamp => Some(Reason::Reinspect),
                    Some(d) if d <= soon => Some(Reason::DueSoon),
                    _ => None,
                };
                let major = h.severity == Severity::Major;
                if why.is_none() && !major {
                    continue;
                }
                reasons.extend(why);
                if major {
                    reasons.push(Reason::Major);
                }
                hazards.push(h.id);
                if let Some(d) = h.deadline {
                    deadline = Some(deadline.map_or(d, |k| k.min(d)));
                }
            }
            if reported.contains(&e.unit.id) {
                reasons.push(Reason::FixReported);
            }
            if e.suspensions.iter().any(|s| s.in_force(now)) {
                reasons.push(Reason::Suspended);
            }
            if !e.visited_by(now) {
                reasons.push(Reason::Uninspected);
            }
            if reasons.is_empty() {
                return None;
            }
            reasons.sort_unstable();
            reasons.dedup();
            Some(Errand {
                unit: e.unit.id,
                kind: e.unit.kind,
                colour: colour_of(&e.facts(), now),
                location: e.unit.location,
                reasons,
                hazards,
                deadline: deadline.map(Stamp::time),
                distance_m: near.map(|p| Haversine.distance(p.point(), e.unit.location.point())),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        a.reason()
            .cmp(&b.reason())
            .then(
                a.distance_m
                    .unwrap_or(0.0)
                    .total_cmp(&b.distance_m.unwrap_or(0.0)),
            )
            .then(
                a.deadline
                    .unwrap_or(DateTime::<Utc>::MAX_UTC)
                    .cmp(&b.deadline.unwrap_or(DateTime::<Utc>::MAX_UTC)),
            )
            .then(a.unit.cmp(&b.unit))
    });
    out
}

/// The units that may be in `scope`: every unit for the whole map, else those inside
/// the bounding boxes of the scope's regions (found in the R-tree, so a grid worker's day
/// on a province's map does not walk its millions of units). The caller still checks each
/// unit's micro-grid against the scope.
fn in_scope(map: &MapState, scope: &Scope) -> Vec<UnitIdx> {
    let all = || (0..map.units.len() as UnitIdx).collect();
    let Scope::Within(roots) = scope else {
        return all();
    };
    let mut out = Vec::new();
    for &r in roots.iter() {
        let Some([w, s, e, n]) = page::bbox(map, r) else {
            return all();
        };
        out.extend(map.units_in_box(&rstar::AABB::from_corners([w, s], [e, n])));
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::fixture::{self, uid};

    fn day(at: u32, near: Option<Location>) -> Vec<(UnitId, Vec<Reason>)> {
        errands(
            &fixture::state(),
            &Scope::All,
            fixture::t(at),
            near,
            &HashSet::new(),
        )
        .into_iter()
        .map(|e| (e.unit, e.reasons))
        .collect()
    }

    #[test]
    fn the_day_lists_what_needs_a_visit_most_urgent_first() {
        use Reason::*;
        // The 1st: both units registered, neither visited.
        assert_eq!(
            day(1, None),
            [(uid(1), vec![Uninspected]), (uid(2), vec![Uninspected])]
        );
        // The 3rd: unit 1's major hazard is due on the 4th; unit 2 passed.
        assert_eq!(day(3, None), [(uid(1), vec![DueSoon, Major])]);
        // The 4th: the deadline is reached (re-inspect it), unit 2 is suspended.
        assert_eq!(
            day(4, None),
            [(uid(1), vec![Reinspect, Major]), (uid(2), vec![Suspended])]
        );
        // The 6th: the major hazard closed, the general one still past its deadline;
        // unit 3 registered and not yet visited.
        assert_eq!(
            day(6, None),
            [
                (uid(1), vec![Reinspect]),
                (uid(2), vec![Suspended]),
                (uid(3), vec![Uninspected])
            ]
        );
    }

    #[test]
    fn nearer_units_come_first_among_equals() {
        let state = fixture::state();
        let two = state.unit(uid(2)).map(|e| e.unit.location);
        let listed = errands(&state, &Scope::All, fixture::t(1), two, &HashSet::new());
        assert_eq!(listed[0].unit, uid(2));
        assert_eq!(listed[0].distance_m, Some(0.0));
        // One degree of longitude on the equator, about 111 km.
        let d = listed[1].distance_m.unwrap_or_default();
        assert!((110_000.0..112_500.0).contains(&d), "{d}");
    }

    #[test]
    fn the_scope_keeps_only_its_units() {
        let state = fixture::state();
        let vb = Scope::resolve(&state, &["VB".parse().unwrap()]);
        let listed = errands(&state, &vb, fixture::t(1), None, &HashSet::new());
        assert_eq!(listed.iter().map(|e| e.unit).collect::<Vec<_>>(), [uid(2)]);
    }

    #[test]
    fn a_waiting_fix_report_comes_first() {
        use Reason::*;
        let state = fixture::state();
        // The 6th: unit 2 suspended, unit 1 past a deadline; unit 2's owner reported.
        let listed = errands(
            &state,
            &Scope::All,
            fixture::t(6),
            None,
            &HashSet::from([uid(2)]),
        );
        assert_eq!(listed[0].unit, uid(2));
        assert_eq!(listed[0].reasons, [FixReported, Suspended]);
        assert_eq!(listed[1].reasons, [Reinspect]);
    }
}
