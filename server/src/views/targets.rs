//! Hazards closed per group and day: what weekly targets are measured against.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::domain::time::{Stamp, Zone};
use crate::domain::{IsoWeek, Level, RegionId, Target};
use crate::state::{MapState, RegionIdx};

/// For every group of the town, in id order, the hazards closed at its units on each of
/// `days` (the town's dates, at `zone`).
pub fn closures_by_group_and_day(
    map: &MapState,
    days: &[NaiveDate],
    zone: Zone,
) -> Vec<(RegionIdx, Vec<u64>)> {
    let mut groups: Vec<RegionIdx> = map.regions.at_level(Level::Group).collect();
    groups.sort_by(|&a, &b| map.regions.get(a).id.cmp(&map.regions.get(b).id));
    let mut slot = vec![usize::MAX; map.regions.all().len()];
    for (k, &g) in groups.iter().enumerate() {
        slot[g] = k;
    }
    let group_of = |mut r: RegionIdx| loop {
        if slot[r] != usize::MAX {
            return Some(slot[r]);
        }
        r = map.regions.parent(r)?;
    };
    let mut table = vec![vec![0u64; days.len()]; groups.len()];
    let (Some(&first), Some(&last)) = (days.first(), days.last()) else {
        return groups.into_iter().zip(table).collect();
    };
    for e in &map.units {
        for h in e.hazards.iter() {
            let Some(closed) = h.closed_at.map(Stamp::time) else {
                continue;
            };
            let day = zone.date_of(closed);
            if day < first || day > last {
                continue;
            }
            let (Some(d), Some(g)) = (days.iter().position(|&x| x == day), group_of(e.micro_grid))
            else {
                continue;
            };
            table[g][d] += 1;
        }
    }
    groups.into_iter().zip(table).collect()
}

/// One day of a group's week.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Day {
    /// The date (local).
    pub date: NaiveDate,
    /// Hazards closed that day (`null` for a day to come).
    pub closed: Option<u64>,
    /// Closed so far in the week (`null` for a day to come).
    pub cumulative: Option<u64>,
}

/// A group's week.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct GroupWeek {
    /// The group.
    #[schema(value_type = String)]
    pub group: RegionId,
    /// Its name.
    pub name: String,
    /// Its target (`null`: none set).
    pub target: Option<u32>,
    /// Hazards closed in the week up to the moment.
    pub closed: u64,
    /// Closed ÷ target.
    pub progress: Option<f64>,
    /// Monday to Sunday.
    pub by_day: Vec<Day>,
}

/// Every group of `week` whose region `shown` accepts, with its target (of `targets`)
/// and its closures day by day (the town's days, at `zone`) up to `now` (later days are
/// `null`).
pub fn group_weeks(
    map: &MapState,
    week: &IsoWeek,
    targets: &[Target],
    (now, zone): (DateTime<Utc>, Zone),
    shown: impl Fn(RegionIdx) -> bool,
) -> Vec<GroupWeek> {
    let monday = week.monday();
    let days: Vec<NaiveDate> = (0..7).map(|d| monday + Duration::days(d)).collect();
    closures_by_group_and_day(map, &days, zone)
        .into_iter()
        .filter(|(idx, _)| shown(*idx))
        .map(|(idx, daily)| {
            let region = map.regions.get(idx);
            let target = targets.iter().find(|t| t.group == region.id);
            let mut cumulative = 0u64;
            let by_day: Vec<Day> = days
                .iter()
                .zip(&daily)
                .map(|(d, &n)| {
                    let past = zone.start_of_day(*d) < now;
                    if past {
                        cumulative += n;
                    }
                    Day {
                        date: *d,
                        closed: past.then_some(n),
                        cumulative: past.then_some(cumulative),
                    }
                })
                .collect();
            GroupWeek {
                group: region.id.clone(),
                name: region.name.clone(),
                target: target.map(|t| t.closures),
                closed: cumulative,
                progress: target
                    .filter(|t| t.closures > 0)
                    .map(|t| cumulative as f64 / f64::from(t.closures)),
                by_day,
            }
        })
        .collect()
}
