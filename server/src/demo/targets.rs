//! The demo's weekly closure targets: every group, every week of the campaign, as the
//! command post sets them on Monday morning — what is open, shared over the weeks left
//! to the campaign's end, in fives and at least five.

use std::collections::HashMap;

use chrono::Duration;

use crate::domain::time::{Zone, cst};
use crate::domain::{IsoWeek, Level, RegionId, Target};
use crate::store::Dataset;

/// Who the demo's targets are set by.
pub const SET_BY: &str = "指挥部";

/// The targets of `data`'s groups for each week from its first hazard to the campaign's
/// end (2022-08-12).
pub fn targets(data: &Dataset) -> Vec<Target> {
    let by_id: HashMap<&RegionId, &crate::domain::Region> =
        data.regions.iter().map(|r| (&r.id, r)).collect();
    let group_of = |id: &RegionId| -> Option<RegionId> {
        let mut r = *by_id.get(id)?;
        loop {
            if r.level == Level::Group {
                return Some(r.id.clone());
            }
            r = by_id.get(r.parent.as_ref()?)?;
        }
    };
    let unit_group: HashMap<_, RegionId> = data
        .units
        .iter()
        .filter_map(|u| Some((u.id, group_of(&u.micro_grid)?)))
        .collect();
    let mut groups: Vec<RegionId> = data
        .regions
        .iter()
        .filter(|r| r.level == Level::Group)
        .map(|r| r.id.clone())
        .collect();
    groups.sort();
    let Some(first) = data.hazards.iter().map(|h| h.found_at).min() else {
        return Vec::new();
    };
    let end = cst(2022, 8, 12, 22, 0);
    let mut week = IsoWeek::of(Zone::CHINA.date_of(first));
    let mut out = Vec::new();
    while Zone::CHINA.start_of_day(week.monday()) <= end {
        let monday = Zone::CHINA.start_of_day(week.monday());
        let set_at = monday + Duration::hours(8);
        let weeks_left = u32::try_from((end - monday).num_days() / 7 + 1).unwrap_or(1);
        let mut open: HashMap<&RegionId, u32> = HashMap::new();
        for h in &data.hazards {
            let is_open = h.found_at < monday && h.closed_at.is_none_or(|c| c >= monday);
            if let (true, Some(g)) = (is_open, unit_group.get(&h.unit)) {
                *open.entry(g).or_default() += 1;
            }
        }
        for g in &groups {
            let n = open.get(g).copied().unwrap_or(0);
            let closures = n.div_ceil(weeks_left).div_ceil(5).max(1) * 5;
            out.push(Target {
                group: g.clone(),
                week: week.clone(),
                closures,
                set_by: SET_BY.to_owned(),
                set_at,
            });
        }
        week = IsoWeek::of(week.monday() + Duration::days(7));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_has_a_target_every_week_of_the_campaign() {
        let data = super::super::generate(super::super::DEFAULT_SEED).unwrap_or_default();
        let t = targets(&data);
        let groups = data
            .regions
            .iter()
            .filter(|r| r.level == Level::Group)
            .count();
        assert_eq!(groups, 12);
        let weeks: std::collections::BTreeSet<&str> = t.iter().map(|t| t.week.as_str()).collect();
        assert_eq!(t.len(), groups * weeks.len());
        assert_eq!(weeks.last().copied(), Some("2022-W32"), "{weeks:?}");
        assert!(weeks.len() >= 6, "{weeks:?}");
        assert!(t.iter().all(|t| t.closures >= 5 && t.closures % 5 == 0));
        // Mid-campaign, with hazards open, targets differ between groups.
        let w29: Vec<u32> = t
            .iter()
            .filter(|t| t.week.as_str() == "2022-W29")
            .map(|t| t.closures)
            .collect();
        assert!(
            w29.iter().any(|&c| c > 5) && w29.iter().min() != w29.iter().max(),
            "{w29:?}"
        );
    }
}
