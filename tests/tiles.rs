//! Vector tiles end to end: the Guali demo in a real SQLite file and a real PostGIS
//! database, served on loopback, tiles fetched over HTTP and decoded with a maintained
//! decoder (mvt-reader). Checks that clusters count every unit, that a write through
//! the store interface shows in the very next tile, the bounds, and bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::collections::HashMap;
use std::io::Read;

use chrono::{Duration, Utc};
use common::{Server, TestDb, json_u64 as n, prop_str as string, prop_u64 as uint};
use onemap::demo::DEFAULT_SEED;
use onemap::domain::{
    Category, Change, Closure, Colour, Deadline, InspectionKind, NewHazard, NewVisit, PastMoment,
    Severity, Stage, Text, YellowCard,
};
use onemap_tiles::{LonLat, TileCoord};
use serde_json::Value;

/// A decoded layer: each feature's id and properties.
type Features = common::TileFeatures;

async fn fetch(server: &Server, path: &str, gzip: bool) -> reqwest::Response {
    let enc = if gzip { "gzip" } else { "identity" };
    server
        .client()
        .get(server.url(path))
        .header("Accept-Encoding", enc)
        .send()
        .await
        .expect("request")
}

/// The tile's layers, decoded; empty for a 204.
async fn tile(server: &Server, path: &str) -> HashMap<String, Features> {
    let resp = fetch(server, path, false).await;
    let status = resp.status().as_u16();
    assert!(status == 200 || status == 204, "{path}: {status}");
    let bytes = resp.bytes().await.unwrap().to_vec();
    if status == 204 {
        assert!(bytes.is_empty());
        return HashMap::new();
    }
    common::decode_tile(&bytes)
}

async fn town_bounds(server: &Server) -> [f64; 4] {
    let (status, tj) = server.get_json("/tiles/units.json").await;
    assert_eq!(status, 200);
    let b: Vec<f64> = tj["bounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    [b[0], b[1], b[2], b[3]]
}

/// The colour a tile at `z` shows for unit `id` (whose location is `p`).
async fn colour_in_tile(server: &Server, p: LonLat, id: i64) -> (String, String) {
    let t = TileCoord::containing(p, 16).unwrap();
    let resp = fetch(server, &format!("/tiles/units/{t}.mvt"), false).await;
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    let layers = common::decode_tile(&resp.bytes().await.unwrap());
    let f = layers["units"]
        .iter()
        .find(|(fid, _)| *fid == Some(id as u64))
        .unwrap_or_else(|| panic!("unit {id} not in tile {t}"));
    (string(&f.1, "colour"), etag)
}

async fn check_store(db: TestDb) {
    onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap();
    let app = onemap::load_state(&db.store).await.unwrap();
    let server = Server::serve(app.clone()).await;
    let (_, stats) = server.get_json("/api/stats").await;
    let total = n(&stats, "units.total");

    // TileJSON 3.0 for each layer and the composite.
    for layer in ["units", "regions", "hexes", "units,regions,hexes"] {
        let (status, tj) = server.get_json(&format!("/tiles/{layer}.json")).await;
        assert_eq!(status, 200, "{layer}");
        assert_eq!(tj["tilejson"], "3.0.0");
        let url = tj["tiles"][0].as_str().unwrap();
        assert!(
            url.ends_with(&format!("/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt")),
            "{url}"
        );
        assert_eq!(
            tj["vector_layers"].as_array().unwrap().len(),
            layer.split(',').count()
        );
    }
    let bounds = town_bounds(&server).await;

    // At low zoom every unit is in exactly one cluster, colours and all.
    for z in [9, 11, 13] {
        let mut count = 0;
        let mut by_colour: HashMap<String, u64> = HashMap::new();
        for t in common::tiles_in(bounds, z) {
            let layers = tile(&server, &format!("/tiles/units/{t}.mvt")).await;
            for (_, props) in layers.get("units").into_iter().flatten() {
                let c = uint(props, "count");
                count += c;
                let mut sum = 0;
                for colour in Colour::ALL {
                    let k = uint(props, colour.as_str());
                    sum += k;
                    *by_colour.entry(colour.as_str().into()).or_default() += k;
                }
                assert_eq!(sum, c, "a cluster's colours add up to its count");
            }
        }
        assert_eq!(count, total, "clusters at z{z} count every unit once");
        for colour in Colour::ALL {
            let key = colour.as_str();
            assert_eq!(
                by_colour.get(key).copied().unwrap_or(0),
                n(&stats, &format!("units.by_colour.{key}")),
                "{key} at z{z}"
            );
        }
    }

    // Regions at z11: the 74 villages, whose units add up to the town's.
    let mut villages: HashMap<String, u64> = HashMap::new();
    for t in common::tiles_in(bounds, 11) {
        let layers = tile(&server, &format!("/tiles/regions/{t}.mvt")).await;
        for (_, props) in layers.get("regions").into_iter().flatten() {
            if string(props, "level") == "village" {
                villages.insert(string(props, "id"), uint(props, "units"));
            }
        }
    }
    assert_eq!(villages.len(), 74);
    assert_eq!(villages.values().sum::<u64>(), total);

    // A write through the store interface shows in the next tile, the regions layer
    // and /api/stats, with a new ETag.
    let (unit, p) = {
        let map = app.map.read().unwrap();
        let (i, e) = map
            .units
            .iter()
            .enumerate()
            .find(|(i, _)| map.live().colour(*i as u32) == Some(Colour::Green))
            .expect("a green unit");
        let _ = i;
        (
            e.unit.id,
            LonLat {
                lon: e.unit.location.x(),
                lat: e.unit.location.y(),
            },
        )
    };
    let (before, etag0) = colour_in_tile(&server, p, unit.get()).await;
    assert_eq!(before, "green");
    let write = |change| {
        let app = app.clone();
        async move { app.write(change, "test").await.unwrap() }
    };
    let now = Utc::now();
    let visit = |at, severity, deadline| {
        Change::Inspect(NewVisit {
            unit,
            kind: InspectionKind::Reinspection,
            inspector: Text::new("test").unwrap(),
            at: PastMoment::new(Some(at), at).unwrap(),
            signature: None,
            photos: vec![],
            hazards: vec![NewHazard {
                category: Category::Fire,
                hazard_type: Text::new("blocked_escape_route").unwrap(),
                severity,
                stage: Stage::Deadline,
                deadline: Some(Deadline::new(deadline, at).unwrap()),
            }],
            comprehensive: false,
            note: Default::default(),
        })
    };
    let close = |hazard| {
        let at = Utc::now();
        Change::Close(Closure {
            hazard,
            at: PastMoment::new(Some(at), at).unwrap(),
            evidence: Text::new("fixed").unwrap(),
            report: None,
            by: "inspector".into(),
        })
    };
    let found = write(visit(now, Severity::Major, now + Duration::days(7))).await;
    let (after, etag1) = colour_in_tile(&server, p, unit.get()).await;
    assert_eq!(after, "red", "the next tile shows the major hazard");
    assert_ne!(etag0, etag1);
    let (_, stats2) = server.get_json("/api/stats").await;
    assert_eq!(n(&stats2, "hazards.found"), n(&stats, "hazards.found") + 1);
    assert_eq!(
        n(&stats2, "units.by_colour.red"),
        n(&stats, "units.by_colour.red") + 1
    );
    write(close(found.assigned.hazards[0])).await;
    assert_eq!(colour_in_tile(&server, p, unit.get()).await.0, "green");
    // A yellow card whose deadline passes turns the unit orange with no write at all:
    // the clock alone, seen by the very next tile.
    let soon = Utc::now();
    let general = write(visit(soon, Severity::General, soon + Duration::days(3))).await;
    let hazard = general.assigned.hazards[0];
    write(Change::YellowCard(YellowCard {
        hazard,
        at: PastMoment::new(Some(soon), soon).unwrap(),
        deadline: Deadline::new(soon + Duration::milliseconds(1500), soon).unwrap(),
    }))
    .await;
    assert_eq!(colour_in_tile(&server, p, unit.get()).await.0, "yellow");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(colour_in_tile(&server, p, unit.get()).await.0, "orange");
    let (_, st) = server.get_json("/api/stats").await;
    assert_eq!(n(&st, "hazards.overdue"), n(&stats, "hazards.overdue") + 1);
    write(close(hazard)).await;
    let at = Utc::now();
    write(Change::Suspend {
        unit,
        at: PastMoment::new(Some(at), at).unwrap(),
    })
    .await;
    assert_eq!(colour_in_tile(&server, p, unit.get()).await.0, "black");
    // And after a restart from the store, the same.
    let reloaded = onemap::load_state(&db.store).await.unwrap();
    let idx = reloaded.map.read().unwrap().unit_idx(unit).unwrap();
    assert_eq!(
        reloaded.map.read().unwrap().live().colour(idx),
        Some(Colour::Black)
    );

    server.stop().await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_tiles_count_every_unit_and_show_writes_at_once() {
    check_store(TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgis_tiles_count_every_unit_and_show_writes_at_once() {
    check_store(TestDb::postgis().await).await;
}

/// HTTP behaviour, bounds and bad input, on one SQLite demo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiles_are_bounded_compressed_cached_exactly_and_refuse_bad_input() {
    let db = TestDb::sqlite().await;
    onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap();
    let server = Server::start(&db.store).await;
    let bounds = town_bounds(&server).await;

    // Bounds: no layer of any tile over the town beyond 4,096 features, z8–z16.
    let mut largest = (0usize, String::new());
    let mut points_seen = false;
    for z in 8..=16u8 {
        for t in common::tiles_in(bounds, z) {
            let path = format!("/tiles/units,regions,hexes/{t}.mvt");
            let resp = fetch(&server, &path, false).await;
            let status = resp.status().as_u16();
            assert!(status == 200 || status == 204, "{path}: {status}");
            let bytes = resp.bytes().await.unwrap();
            if bytes.len() > largest.0 {
                largest = (bytes.len(), path.clone());
            }
            if status == 204 {
                continue;
            }
            for (name, feats) in common::decode_tile(&bytes) {
                assert!(
                    feats.len() <= onemap::views::tiles::MAX_FEATURES,
                    "{path} {name}: {}",
                    feats.len()
                );
                if name == "units" && z >= 14 {
                    points_seen |= feats.iter().any(|(_, p)| p.contains_key("kind"));
                }
            }
        }
    }
    assert!(points_seen, "single units appear from z14");
    assert!(
        largest.0 <= 512 * 1024,
        "largest tile {} bytes at {}",
        largest.0,
        largest.1
    );

    // gzip when accepted, the same bytes inside.
    let t = TileCoord::containing(
        LonLat {
            lon: (bounds[0] + bounds[2]) / 2.0,
            lat: (bounds[1] + bounds[3]) / 2.0,
        },
        12,
    )
    .unwrap();
    let path = format!("/tiles/units,regions/{t}.mvt");
    let plain = fetch(&server, &path, false).await;
    assert_eq!(
        plain.headers()["content-type"],
        "application/vnd.mapbox-vector-tile"
    );
    assert!(plain.headers().get("content-encoding").is_none());
    let etag = plain.headers()["etag"].to_str().unwrap().to_owned();
    let plain = plain.bytes().await.unwrap();
    let gz = fetch(&server, &path, true).await;
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let gz = gz.bytes().await.unwrap();
    assert!(gz.len() < plain.len());
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain.to_vec());
    // A client holding the ETag gets a 304.
    let again = server
        .client()
        .get(server.url(&path))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 304);

    // Filters: only rentals, only red.
    let t14 = TileCoord::containing(
        LonLat {
            lon: (bounds[0] + bounds[2]) / 2.0,
            lat: (bounds[1] + bounds[3]) / 2.0,
        },
        15,
    )
    .unwrap();
    let layers = tile(
        &server,
        &format!("/tiles/units/{t14}.mvt?kind=rental,street_shop"),
    )
    .await;
    for (_, p) in layers.get("units").into_iter().flatten() {
        if p.contains_key("kind") {
            assert!(["rental", "street_shop"].contains(&string(p, "kind").as_str()));
        }
    }
    // A past day: on 2022-06-14, before the campaign, every unit is uninspected.
    for (_, p) in tile(&server, &format!("/tiles/units/{t}.mvt?at=2022-06-14"))
        .await
        .get("units")
        .into_iter()
        .flatten()
    {
        assert_eq!(uint(p, "count"), uint(p, "uninspected"));
    }

    // The same filters on /api/stats: only those units, and their hazards.
    let (_, all) = server.get_json("/api/stats").await;
    let (_, rentals) = server.get_json("/api/stats?kind=rental").await;
    assert_eq!(n(&rentals, "units.total"), n(&all, "units.by_kind.rental"));
    assert_eq!(n(&rentals, "units.by_kind.enterprise"), 0);
    assert!(n(&rentals, "hazards.found") < n(&all, "hazards.found"));
    let (_, hot) = server.get_json("/api/stats?colour=red,orange").await;
    assert_eq!(
        n(&hot, "units.total"),
        n(&all, "units.by_colour.red") + n(&all, "units.by_colour.orange")
    );
    // A colour filter at a low zoom: clusters from the live H3 cells, counting those
    // colours only, all of them over the tiles round the town.
    let mid = LonLat {
        lon: (bounds[0] + bounds[2]) / 2.0,
        lat: (bounds[1] + bounds[3]) / 2.0,
    };
    let t8 = TileCoord::containing(mid, 8).unwrap();
    let mut counted = 0;
    for dx in [-1i64, 0, 1] {
        for dy in [-1i64, 0, 1] {
            let (x, y) = (t8.x() as i64 + dx, t8.y() as i64 + dy);
            let path = format!("/tiles/units/8/{x}/{y}.mvt?colour=red,orange");
            for (_, p) in tile(&server, &path)
                .await
                .get("units")
                .into_iter()
                .flatten()
            {
                assert_eq!(uint(p, "count"), uint(p, "red") + uint(p, "orange"));
                assert_eq!(uint(p, "green") + uint(p, "yellow"), 0);
                counted += uint(p, "count");
            }
        }
    }
    assert_eq!(counted, n(&hot, "units.total"));
    let (s, body) = server.get_json("/api/stats?kind=castle").await;
    assert_eq!((s, body["error"]["field"].as_str()), (400, Some("kind")));

    // Behind a TLS proxy, TileJSON links say so.
    let tj: Value = server
        .client()
        .get(server.url("/tiles/units.json?kind=rental"))
        .header("X-Forwarded-Proto", "https")
        .header("X-Forwarded-Host", "map.example.org")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        tj["tiles"][0],
        "https://map.example.org/tiles/units/{z}/{x}/{y}.mvt?kind=rental"
    );

    // Prometheus metrics: tile time per zoom, cache hits, requests by route.
    let text = server
        .client()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "onemap_tile_seconds_bucket{zoom=\"12\"",
        "onemap_tile_cache_total{result=\"hit\"}",
        "onemap_tile_cache_total{result=\"miss\"}",
        "onemap_http_requests_total{route=\"/tiles/{layers}/{z}/{x}/{y}\"",
        "onemap_units 25553",
    ] {
        assert!(
            text.contains(needle),
            "{needle} missing from /metrics:\n{text}"
        );
    }

    // Far from Guali: nothing, 204.
    assert_eq!(
        fetch(&server, "/tiles/units/10/0/0.mvt", false)
            .await
            .status()
            .as_u16(),
        204
    );

    // Bad input: a 400 naming the field, or a 404; never a 500.
    for (path, status, field) in [
        ("/tiles/units/25/0/0.mvt", 400, Some("z")),
        ("/tiles/units/3/8/0.mvt", 400, Some("x")),
        ("/tiles/units/3/0/8.mvt", 400, Some("y")),
        ("/tiles/units/3/0/-1.mvt", 400, Some("y")),
        ("/tiles/units/3/0/0.png", 400, Some("y")),
        ("/tiles/units/a/0/0.mvt", 400, Some("z")),
        ("/tiles/castles/3/0/0.mvt", 400, Some("layer")),
        ("/tiles/units,units/3/0/0.mvt", 400, Some("layer")),
        ("/tiles/units/3/0/0.mvt?kind=castle", 400, Some("kind")),
        ("/tiles/units/3/0/0.mvt?colour=purple", 400, Some("colour")),
        ("/tiles/units/3/0/0.mvt?colour=", 400, Some("colour")),
        ("/tiles/units/3/0/0.mvt?at=yesterday", 400, Some("at")),
        ("/tiles/units/3/0/0.mvt?zoom=3", 400, Some("zoom")),
        ("/tiles/units/3/0/0.mvt?region=nowhere", 404, None),
        ("/tiles/castles.json", 400, Some("layer")),
        ("/tiles/units.xml", 404, None),
    ] {
        let (s, body) = server.get_json(path).await;
        assert_eq!(s, status, "{path}: {body}");
        if let Some(field) = field {
            assert_eq!(body["error"]["field"], field, "{path}: {body}");
        }
    }
    server.stop().await;
    db.finish().await;
}
