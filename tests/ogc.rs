//! OGC API – Features end to end: the Guali demo in a real SQLite file and in a real
//! PostGIS database, served on loopback, read over HTTP as a client would. Checks the
//! landing page, conformance and collections, that paging with `next` links visits
//! every unit exactly once, that bbox and filters agree with an independent count and
//! with `/api/stats`, the region and cell figures, and that bad input is a 400 naming
//! the parameter (never a 500).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::collections::HashSet;

use common::{Server, TestDb};
use onemap::demo::DEFAULT_SEED;
use serde_json::Value;

const CORE: &str = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core";
const GEOJSON_CLASS: &str = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson";
const COLLECTIONS: [&str; 5] = ["units", "villages", "grids", "micro_grids", "hexes"];
const KINDS: [&str; 4] = ["enterprise", "street_shop", "rental", "high_rise"];
const COLOURS: [&str; 6] = ["green", "yellow", "orange", "red", "black", "uninspected"];

/// GET an absolute URL: status, Content-Type and JSON body.
async fn fetch(server: &Server, url: &str) -> (u16, String, Value) {
    let resp = server.client().get(url).send().await.expect("request");
    let status = resp.status().as_u16();
    let kind = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = resp
        .json()
        .await
        .unwrap_or_else(|e| panic!("{url}: not JSON: {e}"));
    (status, kind, body)
}

/// GET a path that must answer 200 with GeoJSON.
async fn items(server: &Server, path: &str) -> Value {
    let (status, kind, body) = fetch(server, &server.url(path)).await;
    assert_eq!(status, 200, "{path}: {body}");
    assert_eq!(kind, "application/geo+json", "{path}");
    body
}

fn matched(body: &Value) -> u64 {
    body["numberMatched"].as_u64().expect("numberMatched")
}

fn features(body: &Value) -> &Vec<Value> {
    body["features"].as_array().expect("features")
}

fn link<'a>(body: &'a Value, rel: &str) -> Option<&'a str> {
    body["links"]
        .as_array()
        .expect("links")
        .iter()
        .find(|l| l["rel"] == rel)
        .and_then(|l| l["href"].as_str())
}

fn sum(body: &Value, property: &str) -> u64 {
    features(body)
        .iter()
        .map(|f| f["properties"][property].as_u64().expect(property))
        .sum()
}

/// Follows `next` from `path` to the end: every feature, and the pages' `numberMatched`.
async fn walk(server: &Server, path: &str) -> (Vec<Value>, u64) {
    let mut all = Vec::new();
    let mut url = server.url(path);
    let mut number_matched = None;
    loop {
        let (status, kind, page) = fetch(server, &url).await;
        assert_eq!(
            (status, kind.as_str()),
            (200, "application/geo+json"),
            "{url}: {page}"
        );
        let n = matched(&page);
        assert_eq!(
            *number_matched.get_or_insert(n),
            n,
            "numberMatched changed while paging"
        );
        assert_eq!(
            page["numberReturned"].as_u64(),
            Some(features(&page).len() as u64)
        );
        assert!(
            page["timeStamp"]
                .as_str()
                .is_some_and(|t| t.parse::<chrono::DateTime<chrono::Utc>>().is_ok())
        );
        all.extend(features(&page).iter().cloned());
        match link(&page, "next") {
            Some(next) => url = next.to_owned(),
            None => break,
        }
        assert!(all.len() <= 100_000, "paging does not end");
    }
    (all, number_matched.unwrap_or(0))
}

async fn check_metadata(server: &Server) {
    let (status, kind, landing) = fetch(server, &server.url("/ogc")).await;
    assert_eq!(
        (status, kind.as_str()),
        (200, "application/json"),
        "{landing}"
    );
    for rel in ["self", "conformance", "data"] {
        let href = link(&landing, rel).unwrap_or_else(|| panic!("no {rel} link: {landing}"));
        assert!(href.starts_with("http://"), "links are absolute: {href}");
    }
    let (status, _, conf) = fetch(server, &server.url("/ogc/conformance")).await;
    assert_eq!(status, 200);
    let classes: Vec<&str> = conf["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        classes.contains(&CORE) && classes.contains(&GEOJSON_CLASS),
        "{conf}"
    );

    let (status, _, colls) = fetch(server, &server.url("/ogc/collections")).await;
    assert_eq!(status, 200);
    let list = colls["collections"].as_array().unwrap();
    let ids: Vec<&str> = list.iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(ids, COLLECTIONS);
    for c in list {
        let id = c["id"].as_str().unwrap();
        assert!(
            c["title"].is_string() && c["description"].is_string(),
            "{c}"
        );
        assert_eq!(c["itemType"], "feature");
        let bbox: Vec<f64> = c["extent"]["spatial"]["bbox"][0]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_f64)
            .collect();
        assert!(
            bbox.len() == 4 && bbox[0] < bbox[2] && bbox[1] < bbox[3],
            "{id}: {bbox:?}"
        );
        assert!((120.0..121.0).contains(&bbox[0]) && (30.0..31.0).contains(&bbox[1]));
        let items_link = c["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "items")
            .unwrap();
        assert_eq!(items_link["type"], "application/geo+json");
        assert!(
            items_link["href"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/ogc/collections/{id}/items"))
        );
        let (status, _, one) = fetch(server, &server.url(&format!("/ogc/collections/{id}"))).await;
        assert_eq!(status, 200);
        assert_eq!(&one, c);
    }
    // Clients that add `f=json` are served the same.
    let (status, _, again) = fetch(server, &server.url("/ogc/collections?f=json")).await;
    assert_eq!((status, &again), (200, &colls));
}

/// Units: paging, bbox, filters, all against `/api/stats` and an independent count.
async fn check_units(server: &Server, stats: &Value) {
    let total = stats["units"]["total"].as_u64().unwrap();
    let (all, number_matched) = walk(server, "/ogc/collections/units/items?limit=1000").await;
    let ids: Vec<i64> = all
        .iter()
        .map(|f| f["id"].as_i64().expect("numeric id"))
        .collect();
    let distinct: HashSet<i64> = ids.iter().copied().collect();
    assert_eq!(distinct.len(), ids.len(), "a unit was listed twice");
    assert_eq!(ids.len() as u64, number_matched);
    assert_eq!(number_matched, total);
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "units come in id order"
    );
    let first = &all[0];
    assert_eq!(first["type"], "Feature");
    assert_eq!(first["geometry"]["type"], "Point");
    let props = &first["properties"];
    for key in [
        "id",
        "kind",
        "name",
        "address",
        "colour",
        "risk",
        "batch",
        "factory_in_factory",
        "host",
        "micro_grid",
        "registered_at",
    ] {
        assert!(props.get(key).is_some(), "units lack `{key}`: {props}");
    }
    let tenants = all
        .iter()
        .filter(|f| f["properties"]["factory_in_factory"] == true)
        .count() as u64;
    assert_eq!(
        tenants,
        stats["units"]["factory_in_factory"].as_u64().unwrap()
    );
    assert!(
        all.iter()
            .filter(|f| f["properties"]["factory_in_factory"] == true)
            .all(|f| f["properties"]["host"].is_i64())
    );

    // A sub-area: the middle of the town's extent, counted from the full listing.
    let point = |f: &Value| {
        let c = &f["geometry"]["coordinates"];
        (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
    };
    let (mut w, mut s, mut e, mut n) = (180.0f64, 90.0f64, -180.0f64, -90.0f64);
    for f in &all {
        let (x, y) = point(f);
        (w, s, e, n) = (w.min(x), s.min(y), e.max(x), n.max(y));
    }
    let (cx, cy) = ((w + e) / 2.0, (s + n) / 2.0);
    for half in [0.004, 0.01, 0.025] {
        let b = [cx - half, cy - half, cx + half, cy + half];
        let inside: HashSet<i64> = all
            .iter()
            .filter(|f| {
                let (x, y) = point(f);
                b[0] <= x && x <= b[2] && b[1] <= y && y <= b[3]
            })
            .map(|f| f["id"].as_i64().unwrap())
            .collect();
        assert!(!inside.is_empty(), "the sub-area {b:?} holds units");
        let q = format!("bbox={},{},{},{}", b[0], b[1], b[2], b[3]);
        let (got, number_matched) = walk(
            server,
            &format!("/ogc/collections/units/items?{q}&limit=500"),
        )
        .await;
        assert_eq!(number_matched, inside.len() as u64, "{q}");
        let got: HashSet<i64> = got.iter().map(|f| f["id"].as_i64().unwrap()).collect();
        assert_eq!(got, inside, "{q}");
    }

    // Filters agree with /api/stats, and `next` keeps them.
    for kind in KINDS {
        let body = items(
            server,
            &format!("/ogc/collections/units/items?kind={kind}&limit=1"),
        )
        .await;
        assert_eq!(
            Some(matched(&body)),
            stats["units"]["by_kind"][kind].as_u64(),
            "{kind}"
        );
        assert!(
            features(&body)
                .iter()
                .all(|f| f["properties"]["kind"] == kind)
        );
    }
    for colour in COLOURS {
        let body = items(
            server,
            &format!("/ogc/collections/units/items?colour={colour}&limit=1"),
        )
        .await;
        assert_eq!(
            Some(matched(&body)),
            stats["units"]["by_colour"][colour].as_u64(),
            "{colour}"
        );
    }
    let (shops, n) = walk(
        server,
        "/ogc/collections/units/items?kind=street_shop,high_rise&limit=2000",
    )
    .await;
    let expected = stats["units"]["by_kind"]["street_shop"].as_u64().unwrap()
        + stats["units"]["by_kind"]["high_rise"].as_u64().unwrap();
    assert_eq!((shops.len() as u64, n), (expected, expected));
    assert!(shops.iter().all(
        |f| f["properties"]["kind"] == "street_shop" || f["properties"]["kind"] == "high_rise"
    ));

    // One unit, and ids that name nothing.
    let id = ids[ids.len() / 2];
    let (status, kind, one) = fetch(
        server,
        &server.url(&format!("/ogc/collections/units/items/{id}")),
    )
    .await;
    assert_eq!(
        (status, kind.as_str()),
        (200, "application/geo+json"),
        "{one}"
    );
    assert_eq!(one["id"], id);
    assert_eq!(one["properties"], all[ids.len() / 2]["properties"]);
    for bad in ["999999999", "0", "-1", "abc", "1.5"] {
        let (status, _, body) = fetch(
            server,
            &server.url(&format!("/ogc/collections/units/items/{bad}")),
        )
        .await;
        assert_eq!(status, 404, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "not_found");
    }
}

/// Villages, grids, micro-grids and cells: counts and figures that add up to the town.
async fn check_regions_and_hexes(server: &Server, stats: &Value) {
    let total = stats["units"]["total"].as_u64().unwrap();
    let villages = items(server, "/ogc/collections/villages/items?limit=100").await;
    assert_eq!((matched(&villages), features(&villages).len()), (74, 74));
    assert_eq!(sum(&villages, "units"), total);
    assert!(link(&villages, "next").is_none());
    let v = &features(&villages)[0];
    assert_eq!(v["geometry"]["type"], "MultiPolygon");
    for key in [
        "id",
        "name",
        "level",
        "code",
        "parent",
        "units",
        "inspected",
        "inspection_rate",
        "found",
        "closed",
        "open",
        "closure_rate",
        "overdue",
        "green",
        "yellow",
        "orange",
        "red",
        "black",
        "uninspected",
    ] {
        assert!(v["properties"].get(key).is_some(), "villages lack `{key}`");
    }
    assert_eq!(v["properties"]["level"], "village");
    let colour_sum: u64 = COLOURS.iter().map(|c| sum(&villages, c)).sum();
    assert_eq!(colour_sum, total);
    // Filtered figures: only rentals counted.
    let rentals = items(
        server,
        "/ogc/collections/villages/items?kind=rental&limit=100",
    )
    .await;
    assert_eq!(
        sum(&rentals, "units"),
        stats["units"]["by_kind"]["rental"].as_u64().unwrap()
    );
    // One village by id.
    let vid = v["id"].as_str().unwrap();
    let (status, _, one) = fetch(
        server,
        &server.url(&format!("/ogc/collections/villages/items/{vid}")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(one["properties"], v["properties"]);
    let (status, _, _) = fetch(
        server,
        &server.url(&format!("/ogc/collections/grids/items/{vid}")),
    )
    .await;
    assert_eq!(status, 404, "a village is not a grid");

    let grids = items(server, "/ogc/collections/grids/items?limit=1").await;
    assert_eq!(matched(&grids), 160);
    let (micro, n) = walk(server, "/ogc/collections/micro_grids/items?limit=1000").await;
    assert_eq!((n, micro.len()), (2283, 2283));
    let micro_units: u64 = micro
        .iter()
        .map(|f| f["properties"]["units"].as_u64().unwrap())
        .sum();
    assert_eq!(micro_units, total);
    // A bbox in the middle of the town meets some villages, not all.
    let some = items(
        server,
        "/ogc/collections/villages/items?bbox=120.46,30.18,120.47,30.19",
    )
    .await;
    assert!((1..74).contains(&matched(&some)), "{}", matched(&some));

    for res in [7, 8, 9] {
        let q = if res == 8 {
            String::new()
        } else {
            format!("&resolution={res}")
        };
        let hexes = items(
            server,
            &format!("/ogc/collections/hexes/items?limit=10000{q}"),
        )
        .await;
        assert_eq!(matched(&hexes), features(&hexes).len() as u64);
        assert_eq!(sum(&hexes, "units"), total, "resolution {res}");
        let f = &features(&hexes)[0];
        assert_eq!(f["geometry"]["type"], "Polygon");
        assert_eq!(f["properties"]["resolution"], res);
        let h3 = f["id"].as_str().unwrap();
        assert_eq!(f["properties"]["h3"], h3);
        let (status, _, one) = fetch(
            server,
            &server.url(&format!("/ogc/collections/hexes/items/{h3}")),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(one["properties"], f["properties"]);
    }
    let black = items(
        server,
        "/ogc/collections/hexes/items?limit=10000&colour=black",
    )
    .await;
    assert_eq!(
        sum(&black, "units"),
        stats["units"]["by_colour"]["black"].as_u64().unwrap()
    );
}

/// Bad input: 400 naming the parameter; unknown things: 404; never a 500.
async fn check_errors(server: &Server) {
    for (q, field) in [
        ("bbox=120,30,121", "bbox"),
        ("bbox=120,30,121,31,5", "bbox"),
        ("bbox=NaN,30,121,31", "bbox"),
        ("bbox=120,30,inf,31", "bbox"),
        ("bbox=west,30,121,31", "bbox"),
        ("bbox=120,31,121,30", "bbox"),
        ("bbox=121,30,120,31", "bbox"),
        ("bbox=120,30,121,95", "bbox"),
        ("bbox=", "bbox"),
        ("limit=10001", "limit"),
        ("limit=0", "limit"),
        ("limit=-5", "limit"),
        ("limit=abc", "limit"),
        ("limit=1e3", "limit"),
        ("limit=99999999999999999999999", "limit"),
        ("offset=-1", "offset"),
        ("offset=x", "offset"),
        ("kind=castle", "kind"),
        ("kind=rental,", "kind"),
        ("colour=purple", "colour"),
        ("region=a%20b", "region"),
        ("color=red", "color"),
        ("resolution=8", "resolution"),
        ("f=xml", "f"),
        ("limit=5&limit=6", "limit"),
    ] {
        let (status, _, body) = fetch(
            server,
            &server.url(&format!("/ogc/collections/units/items?{q}")),
        )
        .await;
        assert_eq!(status, 400, "{q}: {body}");
        assert_eq!(body["error"]["field"], field, "{q}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    for (q, field) in [
        ("resolution=10", "resolution"),
        ("resolution=six", "resolution"),
    ] {
        let (status, _, body) = fetch(
            server,
            &server.url(&format!("/ogc/collections/hexes/items?{q}")),
        )
        .await;
        assert_eq!(
            (status, &body["error"]["field"]),
            (400, &Value::from(field)),
            "{q}: {body}"
        );
    }
    for path in [
        "/ogc?x=1",
        "/ogc/conformance?limit=1",
        "/ogc/collections?bbox=1,2,3,4",
    ] {
        let (status, _, body) = fetch(server, &server.url(path)).await;
        assert_eq!(status, 400, "{path}: {body}");
    }
    for path in [
        "/ogc/collections/castles",
        "/ogc/collections/castles/items",
        "/ogc/collections/castles/items/1",
        "/ogc/collections/units/items?region=330109113999",
        "/ogc/collections/villages/items/330109113999",
        "/ogc/collections/hexes/items/8831aa5a1bfffff",
        "/ogc/collections/hexes/items/not-a-cell",
        "/ogc/nothing",
    ] {
        let (status, _, body) = fetch(server, &server.url(path)).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
    // An offset past the end is an empty page, not an error.
    let body = items(server, "/ogc/collections/units/items?offset=1000000").await;
    assert!(features(&body).is_empty() && link(&body, "next").is_none());
    assert!(link(&body, "prev").is_some());
}

async fn check_store(db: TestDb) {
    assert!(onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap());
    let server = Server::start(&db.store).await;
    let (status, stats) = server.get_json("/api/stats").await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["units"]["total"], 25_553);
    check_metadata(&server).await;
    check_units(&server, &stats).await;
    check_regions_and_hexes(&server, &stats).await;
    check_errors(&server).await;
    server.stop().await;
    db.finish().await;
}

#[tokio::test]
async fn the_demo_from_sqlite_reads_as_ogc_features() {
    check_store(TestDb::sqlite().await).await;
}

#[tokio::test]
async fn the_demo_from_postgis_reads_as_ogc_features() {
    check_store(TestDb::postgis().await).await;
}
