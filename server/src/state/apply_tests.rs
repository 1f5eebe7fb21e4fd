//! A change applied to the map touches only its unit and keeps every figure exact; the
//! preview says what the apply does.

use chrono::Duration;

use super::*;
use crate::domain::{
    Change, Colour, HazardId, Location, NewUnit, RiskLevel, Severity, Text, UnitEdit, UnitKind,
};
use crate::state::fixture::{
    assert_consistent, dataset, deadline, found, ids, past, revisit, t, uid,
};

fn hazard(n: i64) -> HazardId {
    HazardId::new(n).unwrap()
}

#[test]
fn every_write_updates_only_what_it_touches_and_stays_exact() {
    let mut s = MapState::build(dataset(), t(3)).unwrap();
    // With checkpoints of the days before: a write that moves a unit or changes its kind
    // changes them too.
    s.keep_history(crate::domain::time::Zone::default());
    assert!(s.history().is_some_and(|h| h.days().count() >= 1));
    let v0 = s.live().version();
    let u2 = uid(2);
    let visit = revisit(
        u2,
        t(3),
        vec![found(
            Severity::General,
            Some(deadline(t(3) + Duration::hours(2))),
        )],
    );
    s.apply(&visit, &ids(5, &[10])).unwrap();
    assert_consistent(&s);
    let u = s.unit_idx(u2).unwrap();
    assert_eq!(s.live().colour(u), Some(Colour::Yellow));
    let card = Change::YellowCard(YellowCard {
        hazard: hazard(10),
        at: past(t(3)),
        deadline: deadline(t(3) + Duration::hours(1)),
    });
    s.apply(&card, &Assigned::default()).unwrap();
    assert_consistent(&s);
    // The yellow-card deadline passes: orange, by the clock alone.
    let changed = s.advance(t(3) + Duration::hours(1));
    assert_eq!(
        changed,
        vec![(u, Some(Colour::Yellow), Some(Colour::Orange))]
    );
    assert_consistent(&s);
    let close = |h, at| {
        Change::Close(Closure {
            hazard: hazard(h),
            at: past(at),
            evidence: Text::new("fixed").unwrap(),
            report: None,
            by: "inspector".into(),
        })
    };
    s.apply(&close(10, t(3) + Duration::hours(2)), &Assigned::default())
        .unwrap();
    s.advance(t(3) + Duration::hours(3));
    assert_eq!(s.live().colour(u), Some(Colour::Green));
    assert_consistent(&s);
    let when = past(t(3) + Duration::hours(3));
    s.apply(
        &Change::Suspend { unit: u2, at: when },
        &Assigned::default(),
    )
    .unwrap();
    assert_eq!(s.live().colour(u), Some(Colour::Black));
    s.apply(&Change::Resume { unit: u2, at: when }, &Assigned::default())
        .unwrap();
    assert_eq!(s.live().colour(u), Some(Colour::Green));
    assert_consistent(&s);
    let tower = NewUnit {
        kind: UnitKind::HighRise,
        name: Text::new("tower").unwrap(),
        address: Text::default(),
        owner_name: Text::default(),
        owner_phone: Text::default(),
        location: Location::new(0.25, 0.25).unwrap(),
        micro_grid: "VA-1-1".parse().unwrap(),
        risk: RiskLevel::Red,
        batch: None,
        host: None,
        registered_at: past(t(3)),
    };
    let registered = Assigned {
        unit: Some(uid(50)),
        ..Assigned::default()
    };
    s.apply(&Change::Register(tower.clone()), &registered)
        .unwrap();
    let new = s.unit_idx(uid(50)).unwrap();
    assert_eq!(s.live().colour(new), Some(Colour::Uninspected));
    assert_eq!(s.points().size(), 4);
    assert_consistent(&s);
    assert!(s.live().version() > v0);
    // Refused: unknown hazard, duplicate unit; nothing changes.
    let before = s.live().regions().to_vec();
    assert!(s.apply(&close(999, t(3)), &Assigned::default()).is_err());
    assert!(s.apply(&Change::Register(tower), &registered).is_err());
    assert_eq!(s.live().regions(), &before[..]);
}

#[test]
fn previews_match_what_is_applied_and_clock_changes_wait_dated() {
    let mut s = MapState::build(dataset(), t(3)).unwrap();
    let u2 = uid(2);
    let visit = revisit(u2, t(3), vec![found(Severity::Major, None)]);
    let before = s.live().regions().to_vec();
    let p = s.preview(&visit).unwrap();
    assert_eq!(s.live().regions(), &before[..], "a preview changes nothing");
    assert_eq!(
        (p.before, p.after),
        (Some(Colour::Green), Some(Colour::Red))
    );
    s.apply(&visit, &ids(9, &[20])).unwrap();
    let u = p.unit.unwrap();
    assert_eq!(s.live().colour(u), p.after);
    // A yellow card on it, then the clock passes its deadline: the change waits,
    // dated at the deadline, until taken.
    let close = Change::Close(Closure {
        hazard: hazard(20),
        at: past(t(3)),
        evidence: Text::new("fixed").unwrap(),
        report: None,
        by: "inspector".into(),
    });
    s.apply(&close, &Assigned::default()).unwrap();
    let general = revisit(u2, t(3), vec![found(Severity::General, None)]);
    s.apply(&general, &ids(10, &[21])).unwrap();
    let due = t(3) + Duration::hours(2);
    let card = Change::YellowCard(YellowCard {
        hazard: hazard(21),
        at: past(t(3)),
        deadline: deadline(due),
    });
    assert_eq!(s.preview(&card).unwrap().after, Some(Colour::Yellow));
    s.apply(&card, &Assigned::default()).unwrap();
    assert!(!s.has_clock_changes());
    s.advance(t(3) + Duration::hours(5));
    let changes = s.take_clock_changes();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].at, due);
    assert_eq!(
        (changes[0].old, changes[0].new),
        (Some(Colour::Yellow), Some(Colour::Orange))
    );
    assert!(s.take_clock_changes().is_empty(), "taken once");
    // Put back when they could not be logged: the next tick takes them again.
    s.restore_clock_changes(changes.clone());
    assert!(s.has_clock_changes());
    assert_eq!(s.take_clock_changes(), changes);
    assert_consistent(&s);
}

#[test]
fn an_edit_moves_a_unit_to_its_new_micro_grid_and_point() {
    let mut s = MapState::build(dataset(), t(3)).unwrap();
    s.keep_history(crate::domain::time::Zone::default());
    assert_consistent(&s);
    let mut edit = UnitEdit::of(&dataset().units[0], t(3)).unwrap();
    edit.unit.location = Location::new(1.4, 0.5).unwrap();
    edit.unit.micro_grid = "VB-1-1".parse().unwrap();
    // A new kind too: the unit leaves its kind's cells on every day held.
    edit.unit.kind = UnitKind::StreetShop;
    let edit = Change::Edit(edit);
    assert_eq!(s.places(&edit).len(), 2, "the micro-grids before and after");
    s.apply(&edit, &Assigned::default()).unwrap();
    let u = s.unit_idx(uid(1)).unwrap();
    let vb = s.regions.find(&"VB".parse().unwrap()).unwrap();
    assert_eq!(
        s.regions.get(s.units[u as usize].micro_grid).id.as_str(),
        "VB-1-1"
    );
    // Unit 2 was there already (unit 3 registers later, on the 6th).
    assert_eq!(s.live().region(vb).units, 2);
    let va = s.regions.find(&"VA".parse().unwrap()).unwrap();
    assert_eq!(s.live().region(va).units, 0);
    let found: Vec<_> = s
        .units_in_box(&rstar::AABB::from_corners(
            [1.4 - 1e-9, 0.5 - 1e-9],
            [1.4 + 1e-9, 0.5 + 1e-9],
        ))
        .collect();
    assert_eq!(found, vec![u]);
    assert_eq!(s.points().size(), 3);
    assert_consistent(&s);
}
