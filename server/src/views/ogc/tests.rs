//! The OGC views on the small fixture town.
use geojson::feature::Id;
use serde_json::{Value, json};

use super::*;
use crate::state::fixture;

fn ids(page: &Page) -> Vec<String> {
    page.features
        .iter()
        .filter_map(|f| f.id.as_ref())
        .map(|id| match id {
            Id::String(s) => s.clone(),
            Id::Number(n) => n.to_string(),
        })
        .collect()
}

#[test]
fn bboxes_are_checked() {
    let ok: Bbox = "0,0.5, 1 ,1".parse().unwrap();
    assert_eq!(
        ok,
        Bbox {
            min: [0.0, 0.5],
            max: [1.0, 1.0]
        }
    );
    for (s, err) in [
        ("1,2,3", BboxError::Count(3)),
        ("1,2,3,4,5,6", BboxError::Count(6)),
        ("", BboxError::Count(1)),
        ("a,0,1,1", BboxError::NotANumber("a".into())),
        ("NaN,0,1,1", BboxError::NotANumber("NaN".into())),
        ("0,0,inf,1", BboxError::NotANumber("inf".into())),
        ("0,0,1,", BboxError::NotANumber("".into())),
        ("0,1,1,0", BboxError::Order),
        ("2,0,1,1", BboxError::Order),
        ("0,0,1,95", BboxError::OutOfRange),
        ("0,-91,1,1", BboxError::OutOfRange),
        ("-181,0,1,1", BboxError::OutOfRange),
    ] {
        assert_eq!(s.parse::<Bbox>(), Err(err), "{s}");
    }
}

#[test]
fn units_page_in_id_order_and_count_every_match() {
    let s = fixture::state();
    let q = |offset, limit| ItemsQuery {
        offset,
        limit,
        ..ItemsQuery::default()
    };
    let all = items(&s, Collection::Units, &q(0, 10));
    assert_eq!(ids(&all), ["1", "2", "3"]);
    assert_eq!(all.number_matched, 3);
    assert_eq!(all.next_offset(&q(0, 10)), None);
    let first = items(&s, Collection::Units, &q(0, 2));
    assert_eq!(
        (ids(&first), first.next_offset(&q(0, 2))),
        (vec!["1".into(), "2".into()], Some(2))
    );
    let last = items(&s, Collection::Units, &q(2, 2));
    assert_eq!(ids(&last), ["3"]);
    assert_eq!(
        (last.next_offset(&q(2, 2)), last.prev_offset(&q(2, 2))),
        (None, Some(0))
    );
    let beyond = items(&s, Collection::Units, &q(9, 2));
    assert!(beyond.features.is_empty());
    assert_eq!(beyond.number_matched, 3);
    // Unit 2 is suspended: black.
    let two = item(&s, Collection::Units, "2", &Scope::All).unwrap();
    assert_eq!(two.property("colour"), Some(&json!("black")));
    assert_eq!(two.property("micro_grid"), Some(&json!("VB-1-1")));
    assert!(item(&s, Collection::Units, "99", &Scope::All).is_none());
    assert!(item(&s, Collection::Units, "x", &Scope::All).is_none());
}

#[test]
fn bbox_and_filters_select_units() {
    let s = fixture::state();
    let mut q = ItemsQuery {
        bbox: Some(Bbox {
            min: [1.0, 0.0],
            max: [1.55, 1.0],
        }),
        ..ItemsQuery::default()
    };
    assert_eq!(ids(&items(&s, Collection::Units, &q)), ["2"]);
    q.bbox = None;
    q.filter = UnitFilter::default().with_colours(&[Colour::Black]);
    assert_eq!(ids(&items(&s, Collection::Units, &q)), ["2"]);
    q.filter = UnitFilter {
        region: s.regions.find(&"VB".parse().unwrap()),
        ..UnitFilter::default()
    };
    assert_eq!(ids(&items(&s, Collection::Units, &q)), ["2", "3"]);
}

#[test]
fn regions_carry_live_or_filtered_figures() {
    let s = fixture::state();
    let mut q = ItemsQuery::default();
    let villages = items(&s, Collection::Villages, &q);
    assert_eq!(ids(&villages), ["VA", "VB"]);
    let units = |p: &Page| -> Vec<Value> {
        p.features
            .iter()
            .filter_map(|f| f.property("units").cloned())
            .collect()
    };
    assert_eq!(units(&villages), [json!(1), json!(2)]);
    q.filter = UnitFilter::default().with_colours(&[Colour::Black]);
    assert_eq!(
        units(&items(&s, Collection::Villages, &q)),
        [json!(0), json!(1)]
    );
    // The polygon itself must meet the box: VB starts at x = 1.
    q.filter = UnitFilter::default();
    q.bbox = Some(Bbox {
        min: [0.2, 0.2],
        max: [0.4, 0.4],
    });
    assert_eq!(ids(&items(&s, Collection::MicroGrids, &q)), ["VA-1-1"]);
    assert!(item(&s, Collection::Grids, "VA-1", &Scope::All).is_some());
    assert!(
        item(&s, Collection::Grids, "VA", &Scope::All).is_none(),
        "a village is not a grid"
    );
}

#[test]
fn hexes_sum_to_the_town() {
    let s = fixture::state();
    for res in HEX_RESOLUTIONS {
        let q = ItemsQuery {
            resolution: res,
            limit: MAX_LIMIT,
            ..ItemsQuery::default()
        };
        let page = items(&s, Collection::Hexes, &q);
        let total: u64 = page
            .features
            .iter()
            .filter_map(|f| f.property("units").and_then(Value::as_u64))
            .sum();
        assert_eq!(total, 3, "{res}");
        for id in ids(&page) {
            assert!(item(&s, Collection::Hexes, &id, &Scope::All).is_some());
        }
    }
    assert!(item(&s, Collection::Hexes, "zz", &Scope::All).is_none());
}
