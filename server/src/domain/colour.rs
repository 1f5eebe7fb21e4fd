//! The five colours (五色管理): where a unit's colour is decided.
//!
//! [`colour_of`] is the one rule, a pure function of a unit's facts and a time `now`.
//! Everything that shows a colour (stats, tiles, the wall) calls it, for the present
//! and for any past moment alike: facts dated after `now` simply do not count yet.

use chrono::{DateTime, Utc};

use super::time::Stamp;
use super::{Hazard, HazardId, Severity, Stage, Suspension, vocabulary};

vocabulary! {
    /// The state of a unit on the map: the five colours, plus not yet inspected.
    Colour, "colour" {
        /// 绿: inspected or re-inspected and passed, nothing open.
        Green = "green",
        /// 黄: a general hazard not yet closed.
        Yellow = "yellow",
        /// 橙: a yellow card's deadline passed with the hazard still open.
        Orange = "orange",
        /// 红: a major hazard open.
        Red = "red",
        /// 黑: ordered to suspend business (停业整改).
        Black = "black",
        /// Not inspected yet: none of the five, still on the map.
        Uninspected = "uninspected",
    }
}

impl Colour {
    /// Most urgent first: the order of every list of units (after their overdue
    /// hazards), of legends and counts, and the colour a cluster shows when it holds
    /// several. A major hazard open (red) before a suspended unit (black, already
    /// stopped), before a yellow card's deadline passed (orange).
    pub const BY_URGENCY: [Colour; 6] = [
        Colour::Red,
        Colour::Black,
        Colour::Orange,
        Colour::Yellow,
        Colour::Uninspected,
        Colour::Green,
    ];

    /// This colour's place in [`Colour::BY_URGENCY`] (0 is the most urgent).
    pub fn urgency(self) -> u8 {
        match self {
            Colour::Red => 0,
            Colour::Black => 1,
            Colour::Orange => 2,
            Colour::Yellow => 3,
            Colour::Uninspected => 4,
            Colour::Green => 5,
        }
    }
}

/// The facts of one hazard that bear on colours and rates: a compact copy of [`Hazard`]
/// (32 bytes; the map keeps one per hazard), times to the second ([`Stamp`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HazardFacts {
    /// Its id.
    pub id: HazardId,
    /// When it was found.
    pub found_at: Stamp,
    /// Rectify-by time, if any.
    pub deadline: Option<Stamp>,
    /// When a yellow card was issued, if any.
    pub yellow_card_at: Option<Stamp>,
    /// When it was closed, if it was.
    pub closed_at: Option<Stamp>,
    /// General or major.
    pub severity: Severity,
    /// Rectification stage.
    pub stage: Stage,
    /// Found on a comprehensive one-time inspection.
    pub comprehensive: bool,
}

impl From<&Hazard> for HazardFacts {
    fn from(h: &Hazard) -> Self {
        HazardFacts {
            id: h.id,
            found_at: h.found_at.into(),
            severity: h.severity,
            stage: h.stage,
            deadline: h.deadline.map(Stamp::of),
            yellow_card_at: h.yellow_card_at.map(Stamp::of),
            closed_at: h.closed_at.map(Stamp::of),
            comprehensive: h.comprehensive,
        }
    }
}

impl HazardFacts {
    /// Found at or before `now`.
    pub fn is_found(&self, now: DateTime<Utc>) -> bool {
        self.found_at <= Stamp::of(now)
    }

    /// Closed at or before `now`.
    pub fn is_closed(&self, now: DateTime<Utc>) -> bool {
        self.is_found(now) && self.closed_at.is_some_and(|c| c <= Stamp::of(now))
    }

    /// Found and not closed at `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.is_found(now) && !self.is_closed(now)
    }

    /// Open with its deadline reached. A deadline is the moment the time to rectify
    /// runs out: at `now == deadline` the hazard is overdue.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.is_open(now) && self.deadline.is_some_and(|d| d <= Stamp::of(now))
    }

    /// Overdue after a yellow card issued by `now`: what makes a unit orange.
    pub fn is_overdue_after_yellow_card(&self, now: DateTime<Utc>) -> bool {
        self.is_overdue(now) && self.yellow_card_at.is_some_and(|y| y <= Stamp::of(now))
    }
}

/// What the colour rule looks at for one unit.
#[derive(Debug, Clone, Copy)]
pub struct UnitFacts<'a> {
    /// The time of its first inspection, if any.
    pub first_inspected_at: Option<DateTime<Utc>>,
    /// Its suspension orders.
    pub suspensions: &'a [Suspension],
    /// Its hazards.
    pub hazards: &'a [HazardFacts],
}

/// The colour of a unit at `now`. In order of precedence: black if suspended; red if a
/// major hazard is open; orange if an open hazard's yellow-card deadline has passed;
/// yellow if any hazard is open; green if inspected; otherwise uninspected.
pub fn colour_of(facts: &UnitFacts<'_>, now: DateTime<Utc>) -> Colour {
    if facts.suspensions.iter().any(|s| s.in_force(now)) {
        return Colour::Black;
    }
    let mut open = facts.hazards.iter().filter(|h| h.is_open(now)).peekable();
    if open.peek().is_none() {
        return match facts.first_inspected_at {
            Some(at) if at <= now => Colour::Green,
            // A hazard is only ever found by an inspection; a closed one still means
            // the unit was visited, even if the visit record itself is missing.
            _ if facts.hazards.iter().any(|h| h.is_found(now)) => Colour::Green,
            _ => Colour::Uninspected,
        };
    }
    let mut colour = Colour::Yellow;
    for h in open {
        if h.severity == Severity::Major {
            return Colour::Red;
        }
        if h.is_overdue_after_yellow_card(now) {
            colour = Colour::Orange;
        }
    }
    colour
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UnitId;
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    fn t(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2022, 7, day, hour, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn hazard_facts_stay_32_bytes() {
        // The map keeps one per hazard: a province's tens of millions.
        assert_eq!(std::mem::size_of::<HazardFacts>(), 32);
    }

    fn hazard(found: DateTime<Utc>, severity: Severity) -> HazardFacts {
        HazardFacts {
            id: HazardId::new(1).unwrap(),
            found_at: found.into(),
            severity,
            stage: Stage::Concentrated,
            deadline: None,
            yellow_card_at: None,
            closed_at: None,
            comprehensive: false,
        }
    }

    fn suspension(from: DateTime<Utc>, to: Option<DateTime<Utc>>) -> Suspension {
        Suspension {
            unit: UnitId::new(1).unwrap(),
            started_at: from,
            ended_at: to,
        }
    }

    fn colour(
        inspected: Option<DateTime<Utc>>,
        susp: &[Suspension],
        hz: &[HazardFacts],
        now: DateTime<Utc>,
    ) -> Colour {
        colour_of(
            &UnitFacts {
                first_inspected_at: inspected,
                suspensions: susp,
                hazards: hz,
            },
            now,
        )
    }

    #[test]
    fn uninspected_until_the_first_visit() {
        assert_eq!(colour(None, &[], &[], t(5, 0)), Colour::Uninspected);
        assert_eq!(
            colour(Some(t(5, 9)), &[], &[], t(5, 8)),
            Colour::Uninspected
        );
        assert_eq!(colour(Some(t(5, 9)), &[], &[], t(5, 9)), Colour::Green);
    }

    #[test]
    fn general_hazard_is_yellow_until_closed() {
        let mut h = hazard(t(5, 9), Severity::General);
        h.closed_at = Some(Stamp::of(t(9, 12)));
        let hz = [h];
        assert_eq!(colour(Some(t(5, 9)), &[], &hz, t(5, 9)), Colour::Yellow);
        assert_eq!(colour(Some(t(5, 9)), &[], &hz, t(9, 11)), Colour::Yellow);
        assert_eq!(colour(Some(t(9, 12)), &[], &hz, t(9, 12)), Colour::Green);
    }

    #[test]
    fn major_hazard_is_red_and_outranks_orange() {
        let mut overdue = hazard(t(1, 9), Severity::General);
        overdue.yellow_card_at = Some(Stamp::of(t(2, 9)));
        overdue.deadline = Some(Stamp::of(t(4, 0)));
        let major = hazard(t(3, 9), Severity::Major);
        let hz = [overdue, major];
        assert_eq!(colour(Some(t(1, 9)), &[], &hz, t(2, 0)), Colour::Yellow);
        assert_eq!(colour(Some(t(1, 9)), &[], &hz, t(3, 9)), Colour::Red);
        assert_eq!(colour(Some(t(1, 9)), &[], &hz, t(20, 0)), Colour::Red);
    }

    #[test]
    fn orange_the_moment_a_yellow_card_deadline_passes() {
        let deadline = t(10, 0);
        let mut h = hazard(t(1, 9), Severity::General);
        h.yellow_card_at = Some(Stamp::of(t(3, 9)));
        h.deadline = Some(Stamp::of(deadline));
        h.closed_at = Some(Stamp::of(t(12, 0)));
        let hz = [h];
        let inspected = Some(t(1, 9));
        let just_before = deadline - Duration::nanoseconds(1);
        assert_eq!(colour(inspected, &[], &hz, just_before), Colour::Yellow);
        assert_eq!(colour(inspected, &[], &hz, deadline), Colour::Orange);
        assert_eq!(colour(inspected, &[], &hz, t(11, 0)), Colour::Orange);
        assert_eq!(colour(inspected, &[], &hz, t(12, 0)), Colour::Green);
    }

    #[test]
    fn a_deadline_without_yellow_card_stays_yellow() {
        let mut h = hazard(t(1, 9), Severity::General);
        h.stage = Stage::Deadline;
        h.deadline = Some(Stamp::of(t(10, 0)));
        let hz = [h];
        assert!(h.is_overdue(t(11, 0)));
        assert_eq!(colour(Some(t(1, 9)), &[], &hz, t(11, 0)), Colour::Yellow);
    }

    #[test]
    fn a_card_issued_after_the_deadline_turns_orange_when_issued() {
        let mut h = hazard(t(1, 9), Severity::General);
        h.deadline = Some(Stamp::of(t(5, 0)));
        h.yellow_card_at = Some(Stamp::of(t(8, 0)));
        let hz = [h];
        assert_eq!(colour(Some(t(1, 9)), &[], &hz, t(7, 0)), Colour::Yellow);
        assert_eq!(colour(Some(t(1, 9)), &[], &hz, t(8, 0)), Colour::Orange);
    }

    #[test]
    fn suspension_is_black_over_everything_while_in_force() {
        let hz = [hazard(t(1, 9), Severity::Major)];
        let s = [suspension(t(2, 0), Some(t(6, 0)))];
        let inspected = Some(t(1, 9));
        assert_eq!(colour(inspected, &s, &hz, t(1, 23)), Colour::Red);
        assert_eq!(colour(inspected, &s, &hz, t(2, 0)), Colour::Black);
        assert_eq!(colour(inspected, &s, &hz, t(5, 23)), Colour::Black);
        assert_eq!(colour(inspected, &s, &hz, t(6, 0)), Colour::Red);
        let open_ended = [suspension(t(2, 0), None)];
        assert_eq!(colour(None, &open_ended, &[], t(30, 0)), Colour::Black);
    }

    #[test]
    fn a_closed_hazard_counts_as_a_visit() {
        let mut h = hazard(t(1, 9), Severity::General);
        h.closed_at = Some(Stamp::of(t(1, 10)));
        assert_eq!(colour(None, &[], &[h], t(2, 0)), Colour::Green);
    }

    fn arb_time() -> impl Strategy<Value = DateTime<Utc>> {
        (0i64..2_000).prop_map(|h| t(1, 0) + Duration::hours(h))
    }

    prop_compose! {
        fn arb_hazard()(found in arb_time(), major in any::<bool>(),
                        deadline in proptest::option::of(arb_time()),
                        card in proptest::option::of(arb_time()),
                        close_after in proptest::option::of(1i64..500)) -> HazardFacts {
            HazardFacts {
                id: HazardId::new(1).unwrap(),
                found_at: found.into(),
                severity: if major { Severity::Major } else { Severity::General },
                stage: Stage::Concentrated,
                deadline: deadline.map(Stamp::of),
                yellow_card_at: card.map(Stamp::of),
                closed_at: close_after.map(|h| Stamp::of(found + Duration::hours(h))),
                comprehensive: false,
            }
        }
    }

    proptest! {
        /// The rule, stated independently and checked on random histories.
        #[test]
        fn matches_the_precedence_table(
            inspected in proptest::option::of(arb_time()),
            susp in proptest::collection::vec((arb_time(), proptest::option::of(1i64..300)), 0..3),
            hz in proptest::collection::vec(arb_hazard(), 0..6),
            now in arb_time(),
        ) {
            let susp: Vec<Suspension> = susp.into_iter()
                .map(|(s, len)| suspension(s, len.map(|l| s + Duration::hours(l))))
                .collect();
            let got = colour(inspected, &susp, &hz, now);
            let open: Vec<&HazardFacts> = hz.iter()
                .filter(|h| h.found_at <= Stamp::of(now) && h.closed_at.is_none_or(|c| c > Stamp::of(now)))
                .collect();
            let expected = if susp.iter().any(|s| s.started_at <= now && s.ended_at.is_none_or(|e| e > now)) {
                Colour::Black
            } else if open.iter().any(|h| h.severity == Severity::Major) {
                Colour::Red
            } else if open.iter().any(|h| h.yellow_card_at.is_some_and(|y| y <= Stamp::of(now))
                                       && h.deadline.is_some_and(|d| d <= Stamp::of(now))) {
                Colour::Orange
            } else if !open.is_empty() {
                Colour::Yellow
            } else if inspected.is_some_and(|i| i <= now) || hz.iter().any(|h| h.found_at <= Stamp::of(now)) {
                Colour::Green
            } else {
                Colour::Uninspected
            };
            prop_assert_eq!(got, expected);
        }

        /// Facts dated after `now` never change the colour at `now` (history playback).
        #[test]
        fn the_future_does_not_leak(hz in proptest::collection::vec(arb_hazard(), 0..6),
                                    extra in arb_hazard(), now in arb_time()) {
            prop_assume!(extra.found_at > Stamp::of(now));
            let mut with = hz.clone();
            with.push(extra);
            prop_assert_eq!(colour(None, &[], &hz, now), colour(None, &[], &with, now));
        }
    }
}
