//! Hazards closed per group and day: what weekly targets are measured against.

use chrono::NaiveDate;

use crate::domain::Level;
use crate::domain::time::{Stamp, local_date};
use crate::state::{MapState, RegionIdx};

/// For every group of the town, in id order, the hazards closed at its units on each of
/// `days` (Guali dates).
pub fn closures_by_group_and_day(map: &MapState, days: &[NaiveDate]) -> Vec<(RegionIdx, Vec<u64>)> {
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
            let day = local_date(closed);
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
