//! The daily public ranking (每日排名): every region of a level ordered by a rate, with
//! the day before's value and rank, so the wall can show who moved up or down.
//!
//! Ranks are competition ranks ("1224"): regions with equal values share a rank and the
//! next rank skips. Within a tie the order is by region id, so the list is stable.

use serde::Serialize;

use crate::domain::{Level, RegionId, vocabulary};
use crate::state::aggregate::Agg;
use crate::state::history::AggsAt;
use crate::state::scope::Scope;
use crate::state::{MapState, RegionIdx};

vocabulary! {
    /// What a ranking orders by.
    Metric, "ranking metric" {
        /// inspected / units (排查率).
        InspectionRate = "inspection_rate",
        /// closed / found hazards (销号率).
        ClosureRate = "closure_rate",
    }
}

impl Metric {
    /// The metric's value for an aggregate.
    pub fn of(self, a: &Agg) -> f64 {
        match self {
            Metric::InspectionRate => a.inspection_rate(),
            Metric::ClosureRate => a.closure_rate(),
        }
    }
}

/// One region's line in a ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    /// 1 is best.
    pub rank: u32,
    /// Region id.
    pub id: RegionId,
    /// Region name.
    pub name: String,
    /// The metric at the moment.
    pub value: f64,
    /// The metric a day earlier.
    pub previous_value: f64,
    /// The rank a day earlier.
    pub previous_rank: u32,
    /// `previous_rank - rank`: positive when the region moved up.
    pub rank_change: i64,
    /// Units in the region.
    pub units: u32,
    /// Units inspected.
    pub inspected: u32,
    /// Hazards found.
    pub found: u32,
    /// Hazards closed.
    pub closed: u32,
    /// Hazards overdue.
    pub overdue: u32,
}

/// Competition ranks of `regions` by `value` (higher first; ties by id).
fn ranks(
    state: &MapState,
    regions: &[RegionIdx],
    value: impl Fn(RegionIdx) -> f64,
) -> Vec<(RegionIdx, u32)> {
    let mut order: Vec<RegionIdx> = regions.to_vec();
    order.sort_by(|&a, &b| {
        value(b)
            .total_cmp(&value(a))
            .then_with(|| state.regions.get(a).id.cmp(&state.regions.get(b).id))
    });
    let mut out = Vec::with_capacity(order.len());
    let mut rank = 0;
    let mut last = None;
    for (k, &i) in order.iter().enumerate() {
        let v = value(i);
        if last != Some(v) {
            rank = k as u32 + 1;
            last = Some(v);
        }
        out.push((i, rank));
    }
    out
}

/// The regions a ranking of `level` under `within` holds for a reader of `scope`.
pub fn ranked_regions(
    state: &MapState,
    (level, within): (Level, RegionIdx),
    scope: &Scope,
) -> Vec<RegionIdx> {
    state
        .regions
        .at_level(level)
        .filter(|&i| state.regions.is_within(i, within) && scope.covers(state, i))
        .collect()
}

/// The ranking of `regions` (from [`ranked_regions`]) by `metric`, from their
/// aggregates now and a day earlier.
pub fn ranking(
    state: &MapState,
    regions: &[RegionIdx],
    metric: Metric,
    now: &AggsAt<'_>,
    before: &AggsAt<'_>,
) -> Vec<Ranked> {
    let (now_aggs, before_aggs): (Vec<Agg>, Vec<Agg>) =
        regions.iter().map(|&i| (now.get(i), before.get(i))).unzip();
    let pos: std::collections::HashMap<RegionIdx, usize> =
        regions.iter().enumerate().map(|(k, &i)| (i, k)).collect();
    let at = |aggs: &[Agg], i: RegionIdx| aggs[pos[&i]];
    let previous: std::collections::HashMap<RegionIdx, u32> =
        ranks(state, regions, |i| metric.of(&at(&before_aggs, i)))
            .into_iter()
            .collect();
    ranks(state, regions, |i| metric.of(&at(&now_aggs, i)))
        .into_iter()
        .map(|(i, rank)| {
            let r = state.regions.get(i);
            let a = &at(&now_aggs, i);
            let b = at(&before_aggs, i);
            let previous_rank = previous.get(&i).copied().unwrap_or(rank);
            Ranked {
                rank,
                id: r.id.clone(),
                name: r.name.clone(),
                value: metric.of(a),
                previous_value: metric.of(&b),
                previous_rank,
                rank_change: i64::from(previous_rank) - i64::from(rank),
                units: a.units,
                inspected: a.inspected,
                found: a.found_total(),
                closed: a.closed_total(),
                overdue: a.overdue,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::aggregate::{UnitFilter, fold_regions};

    fn folded(s: &MapState, at: chrono::DateTime<chrono::Utc>) -> AggsAt<'static> {
        let all = fold_regions(s, at, &UnitFilter::default());
        AggsAt::Each(all.into_iter().enumerate().collect())
    }
    use crate::state::fixture::{state, t};

    #[test]
    fn villages_rank_by_their_rate_with_the_day_before() {
        let s = state();
        // On the 3rd both villages are fully inspected (a tie: rank 1 and 1); on the
        // 2nd only village A was.
        let now = folded(&s, t(3));
        let before = folded(&s, t(2));
        let villages = ranked_regions(&s, (Level::Village, s.regions.root()), &Scope::All);
        let r = ranking(&s, &villages, Metric::InspectionRate, &now, &before);
        let line = |id: &str| r.iter().find(|l| l.id.as_str() == id).cloned();
        let (a, b) = (line("VA"), line("VB"));
        let (Some(a), Some(b)) = (a, b) else {
            panic!("both villages ranked: {r:?}")
        };
        assert_eq!((a.rank, b.rank), (1, 1));
        assert_eq!((a.previous_rank, b.previous_rank), (1, 2));
        assert_eq!((b.rank_change, b.previous_value, b.value), (1, 0.0, 1.0));
        assert_eq!(r[0].id.as_str(), "VA", "ties ordered by id");
        // On the 6th unit 3 joins B uninspected: B falls to rank 2.
        let later = folded(&s, t(6) + chrono::Duration::hours(1));
        let r = ranking(&s, &villages, Metric::InspectionRate, &later, &now);
        assert_eq!(r[1].id.as_str(), "VB");
        assert_eq!((r[1].rank, r[1].rank_change), (2, -1));
        // Closure rate: A found 2 and closed 1 by the 6th; B found none (rate 0).
        let r = ranking(&s, &villages, Metric::ClosureRate, &later, &now);
        assert_eq!((r[0].id.as_str(), r[0].value), ("VA", 0.5));
    }
}
