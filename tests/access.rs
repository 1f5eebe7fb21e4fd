//! Who may see and change what, over real HTTP on the Guali demo: every endpoint ×
//! every role × an id in scope and one out of it, with the status each must answer; for
//! reads, nothing out of scope in lists, figures, tiles (decoded, unit by unit) or the
//! event stream; tokens expired, revoked, malformed and forged refused; failed sign-ins
//! slowed then locked; the `onemap user` command line and the server's log never
//! showing a password.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use common::{EventStream, Server, TestDb, Turn, client_with, on_own_runtime, token_for};
use mvt_reader::feature::Value as MvtValue;
use onemap::auth::{Role, TokenKind};
use onemap::demo::DEFAULT_SEED;
use onemap::domain::RegionId;
use onemap::store::AnyStore;
use onemap_tiles::TileCoord;
use serde_json::{Value, json};

/// The places and ids the matrix uses.
struct Fixture {
    /// The inspector's village and the grid worker's micro-grid inside it.
    village: String,
    micro_grid: String,
    /// A micro-grid of the same village that is not the grid worker's.
    sibling: String,
    /// A village that is neither's.
    other_village: String,
    /// Units: in the micro-grid, in the village but not the micro-grid, elsewhere.
    unit_mg: i64,
    unit_village: i64,
    unit_out: i64,
    /// Open hazards on `unit_mg` and `unit_out`.
    hazards_mg: Vec<i64>,
    hazards_out: Vec<i64>,
    /// An attachment on `unit_mg` and one on `unit_out`.
    file_mg: String,
    file_out: String,
    /// The group above the village.
    group: String,
}

const ROLES: [Role; 5] = [
    Role::Command,
    Role::Leader,
    Role::Inspector,
    Role::GridWorker,
    Role::Admin,
];

fn name(role: Role) -> String {
    format!("matrix-{}", role.as_str())
}

async fn status(client: &reqwest::Client, method: &str, url: &str, body: Option<&Value>) -> u16 {
    let mut req = client.request(method.parse().unwrap(), url);
    if let Some(b) = body {
        req = req.json(b);
    }
    req.send().await.unwrap().status().as_u16()
}

async fn json_as(client: &reqwest::Client, url: &str) -> Value {
    let resp = client.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    resp.json().await.unwrap()
}

/// Units of a region, by the command post.
async fn units_of(server: &Server, region: &str) -> Vec<i64> {
    let (s, v) = server
        .get_json(&format!("/api/regions/{region}/units"))
        .await;
    assert_eq!(s, 200, "{v}");
    v["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect()
}

async fn open_hazards(server: &Server, unit: i64) -> Vec<i64> {
    let (_, card) = server.get_json(&format!("/api/units/{unit}")).await;
    card["hazards"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["open"] == true)
        .map(|h| h["id"].as_i64().unwrap())
        .collect()
}

/// Gives `unit` `n` open general hazards (as the test's own inspector of the town).
async fn add_hazards(server: &Server, unit: i64, n: usize) {
    let hazards: Vec<Value> = (0..n)
        .map(|k| {
            json!({"category": "fire", "hazard_type": format!("matrix-{k}"), "severity": "general",
                   "stage": "deadline", "deadline": (Utc::now() + Duration::days(10)).to_rfc3339()})
        })
        .collect();
    let r = server
        .client_as(Role::Inspector)
        .post(server.url(&format!("/api/units/{unit}/inspections")))
        .json(&json!({"inspector": "矩阵", "hazards": hazards}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

async fn attach(server: &Server, unit: i64, seed: u8) -> String {
    let png: Vec<u8> = [
        &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a][..],
        &[
            0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0,
        ],
        &[seed, 0x77, 0x53, 0xde],
    ]
    .concat();
    let r = server
        .client_as(Role::Inspector)
        .post(server.url(&format!("/api/units/{unit}/attachments?kind=photo")))
        .body(png)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    v["record"]["hash"].as_str().unwrap().to_owned()
}

async fn fixture(server: &Server) -> Fixture {
    let (_, town) = server.get_json("/api/regions/town").await;
    // Walk down the first branch to a village with at least two micro-grids with units.
    let mut village = None;
    'search: for area in town["children"].as_array().unwrap() {
        let (_, a) = server
            .get_json(&format!("/api/regions/{}", area["id"].as_str().unwrap()))
            .await;
        for group in a["children"].as_array().unwrap() {
            let (_, g) = server
                .get_json(&format!("/api/regions/{}", group["id"].as_str().unwrap()))
                .await;
            for v in g["children"].as_array().unwrap() {
                if v["figures"]["units"].as_u64().unwrap() > 50 {
                    village = Some((
                        v["id"].as_str().unwrap().to_owned(),
                        group["id"].as_str().unwrap().to_owned(),
                    ));
                    break 'search;
                }
            }
        }
    }
    let (village, group) = village.expect("a village");
    let (_, v) = server.get_json(&format!("/api/regions/{village}")).await;
    let mut micro_grids = Vec::new();
    for grid in v["children"].as_array().unwrap() {
        let (_, g) = server
            .get_json(&format!("/api/regions/{}", grid["id"].as_str().unwrap()))
            .await;
        for mg in g["children"].as_array().unwrap() {
            if mg["figures"]["units"].as_u64().unwrap() >= 3 {
                micro_grids.push(mg["id"].as_str().unwrap().to_owned());
            }
        }
    }
    assert!(micro_grids.len() >= 2, "{village}: {micro_grids:?}");
    let (micro_grid, sibling) = (micro_grids[0].clone(), micro_grids[1].clone());
    let other_village = {
        let (_, g) = server.get_json(&format!("/api/regions/{group}")).await;
        g["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .find(|id| *id != village)
            .expect("another village in the group")
    };
    let unit_mg = units_of(server, &micro_grid).await[0];
    let unit_village = units_of(server, &sibling).await[0];
    let unit_out = units_of(server, &other_village).await[0];
    for u in [unit_mg, unit_out] {
        add_hazards(server, u, 12).await;
    }
    Fixture {
        hazards_mg: open_hazards(server, unit_mg).await,
        hazards_out: open_hazards(server, unit_out).await,
        file_mg: attach(server, unit_mg, 1).await,
        file_out: attach(server, unit_out, 2).await,
        village,
        micro_grid,
        sibling,
        other_village,
        unit_mg,
        unit_village,
        unit_out,
        group,
    }
}

/// Which roles may read a place: everyone over the town; the inspector the village
/// (and what is in it); the grid worker the micro-grid.
fn sees(role: Role, place: &str) -> bool {
    match role {
        Role::Inspector => place == "mg" || place == "village",
        Role::GridWorker => place == "mg",
        _ => true,
    }
}

fn text(props: &HashMap<String, MvtValue>, key: &str) -> String {
    match props.get(key) {
        Some(MvtValue::String(s)) => s.clone(),
        other => panic!("{key}: {other:?}"),
    }
}

fn count(props: &HashMap<String, MvtValue>) -> u64 {
    match props.get("count") {
        Some(MvtValue::UInt(v)) => *v,
        Some(MvtValue::Int(v)) => u64::try_from(*v).unwrap(),
        Some(MvtValue::SInt(v)) => u64::try_from(*v).unwrap(),
        _ => 1,
    }
}

/// The tiles at `z` covering a region's bounding box.
fn tiles_over(bbox: &Value, z: u8) -> Vec<TileCoord> {
    let b: Vec<f64> = bbox
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    common::tiles_in([b[0], b[1], b[2], b[3]], z)
}

/// Units (point features by id) and regions in `layers` tiles over `bbox` at `z`, as
/// `client` sees them; clusters add their counts to `clustered`.
async fn tile_contents(
    server: &Server,
    client: &reqwest::Client,
    bbox: &Value,
    z: u8,
) -> (BTreeSet<u64>, BTreeSet<String>, BTreeSet<String>) {
    let mut units = BTreeSet::new();
    let mut unit_micro_grids = BTreeSet::new();
    let mut regions = BTreeSet::new();
    for c in tiles_over(bbox, z) {
        let resp = client
            .get(server.url(&format!("/tiles/units,regions/{c}.mvt")))
            .header("Accept-Encoding", "identity")
            .send()
            .await
            .unwrap();
        let s = resp.status().as_u16();
        assert!(s == 200 || s == 204, "{c}: {s}");
        if s == 204 {
            continue;
        }
        let layers = common::decode_tile(&resp.bytes().await.unwrap());
        for (id, props) in layers.get("units").into_iter().flatten() {
            assert_eq!(count(props), 1, "z{z} shows single units");
            units.insert(id.expect("a unit id"));
            unit_micro_grids.insert(text(props, "micro_grid"));
        }
        for (_, props) in layers.get("regions").into_iter().flatten() {
            regions.insert(text(props, "id"));
        }
    }
    (units, unit_micro_grids, regions)
}

/// The demo with the matrix's places and users, shared by the matrix's tests (one at a
/// time: `turn`).
struct Matrix {
    server: Server,
    /// The store's URL: a test opens its own connection.
    url: String,
    f: Fixture,
    tokens: HashMap<Role, String>,
    turn: Turn,
}

impl Matrix {
    fn get() -> &'static Matrix {
        static MATRIX: OnceLock<Matrix> = OnceLock::new();
        MATRIX.get_or_init(|| {
            on_own_runtime(async {
                let db = TestDb::sqlite().await;
                onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap();
                let server = Server::start(&db.store).await.shared();
                let f = fixture(&server).await;
                let rid = |s: &str| s.parse::<RegionId>().unwrap();
                let mut tokens = HashMap::new();
                for role in ROLES {
                    let scope = match role {
                        Role::Inspector => vec![rid(&f.village)],
                        Role::GridWorker => vec![rid(&f.micro_grid)],
                        _ => vec![],
                    };
                    tokens.insert(role, token_for(&db.store, &name(role), role, &scope).await);
                }
                let url = db.url.clone();
                // Kept for the process: the shared server serves from it.
                std::mem::forget(db);
                Matrix {
                    server,
                    url,
                    f,
                    tokens,
                    turn: Turn::default(),
                }
            })
        })
    }

    fn clients(&self) -> HashMap<Role, reqwest::Client> {
        ROLES
            .iter()
            .map(|&r| (r, client_with(&self.tokens[&r])))
            .collect()
    }
}

/// Reads: each id in scope 200, out of scope 404 (as if it did not exist), without a
/// token 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_in_scope_answer_and_out_of_scope_read_as_missing() {
    let m = Matrix::get();
    let _turn = m.turn.lock().await;
    let (server, f) = (&m.server, &m.f);
    let clients = m.clients();
    let anonymous = reqwest::Client::new();
    let mut checked = 0;
    let places = [
        ("mg", f.unit_mg, f.micro_grid.clone(), f.file_mg.clone()),
        ("village", f.unit_village, f.sibling.clone(), String::new()),
        (
            "out",
            f.unit_out,
            f.other_village.clone(),
            f.file_out.clone(),
        ),
    ];
    for (place, unit, region, file) in &places {
        let mut reads = vec![
            format!("/api/units/{unit}"),
            format!("/api/units/{unit}/history"),
            format!("/ogc/collections/units/items/{unit}"),
            format!("/api/regions/{region}"),
            format!("/api/regions/{region}/units"),
            format!("/api/stats?region={region}"),
            format!("/api/labels?level=micro_grid&region={region}"),
            format!("/api/progress?region={region}"),
            format!("/api/events?region={region}"),
            format!("/api/exports/units?region={region}"),
            format!("/api/exports/hazards?region={region}"),
            format!("/api/exports/visits?region={region}"),
        ];
        if !file.is_empty() {
            reads.push(format!("/api/attachments/{file}"));
        }
        if region.len() == f.micro_grid.len() && *place != "out" {
            reads.push(format!("/ogc/collections/micro_grids/items/{region}"));
        }
        for path in &reads {
            for role in ROLES {
                let want = if sees(role, place) { 200 } else { 404 };
                let got = status(&clients[&role], "GET", &server.url(path), None).await;
                assert_eq!(got, want, "{} GET {path}", role.as_str());
                checked += 1;
            }
            assert_eq!(
                status(&anonymous, "GET", &server.url(path), None).await,
                401,
                "anonymous GET {path}"
            );
            checked += 1;
        }
    }
    println!("{checked} checks");
}

/// Lists and figures: nothing out of scope appears; above the scope, only what is in it
/// counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_and_figures_hold_nothing_out_of_scope() {
    let m = Matrix::get();
    let _turn = m.turn.lock().await;
    let (server, f) = (&m.server, &m.f);
    let clients = m.clients();
    let mut checked = 0;
    let gw = &clients[&Role::GridWorker];
    let insp = &clients[&Role::Inspector];
    let mine = units_of(server, &f.micro_grid).await;
    let items = json_as(gw, &server.url("/ogc/collections/units/items?limit=10000")).await;
    let ids: BTreeSet<i64> = items["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        mine.iter().copied().collect(),
        "grid worker's OGC units"
    );
    let stats = json_as(gw, &server.url("/api/stats")).await;
    assert_eq!(stats["units"]["total"].as_u64().unwrap(), mine.len() as u64);
    assert_eq!(stats["region"]["id"], f.micro_grid.as_str());
    let villages = json_as(
        insp,
        &server.url("/api/rankings?level=village&metric=closure_rate"),
    )
    .await;
    let ranked: Vec<&str> = villages["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ranked,
        [f.village.as_str()],
        "the inspector ranks their village"
    );
    let ranked = json_as(
        gw,
        &server.url("/api/rankings?level=village&metric=closure_rate"),
    )
    .await;
    assert!(ranked["regions"].as_array().unwrap().is_empty(), "{ranked}");
    // Above the scope: the group's figures count the village's units only.
    let (_, village_fig) = server
        .get_json(&format!("/api/stats?region={}", f.village))
        .await;
    let group_fig = json_as(insp, &server.url(&format!("/api/stats?region={}", f.group))).await;
    assert_eq!(
        group_fig["units"], village_fig["units"],
        "above the scope: in-scope units only"
    );
    let group_page = json_as(insp, &server.url(&format!("/api/regions/{}", f.group))).await;
    let children: Vec<&str> = group_page["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(children, [f.village.as_str()]);
    let targets = json_as(insp, &server.url("/api/targets")).await;
    assert!(targets["groups"].as_array().unwrap().is_empty());
    let labels = json_as(gw, &server.url("/api/labels?level=village")).await;
    assert!(labels["features"].as_array().unwrap().is_empty());
    let events = json_as(gw, &server.url("/api/events?limit=1000")).await;
    let evs = events["events"].as_array().unwrap();
    assert!(!evs.is_empty());
    assert!(
        evs.iter().all(|e| e["region"] == f.micro_grid.as_str()),
        "grid worker's events: {events}"
    );
    let hexes = json_as(gw, &server.url("/ogc/collections/hexes/items?resolution=7")).await;
    let hex_units: u64 = hexes["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["properties"]["units"].as_u64().unwrap())
        .sum();
    assert_eq!(
        hex_units,
        mine.len() as u64,
        "a scoped reader's hexes count their units"
    );
    checked += 10;
    println!("{checked} checks");
}

/// Tiles, decoded unit by unit: a grid worker's hold their units, clusters count them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiles_hold_only_the_units_in_scope() {
    let m = Matrix::get();
    let _turn = m.turn.lock().await;
    let (server, f) = (&m.server, &m.f);
    let clients = m.clients();
    let gw = &clients[&Role::GridWorker];
    let mine = units_of(server, &f.micro_grid).await;
    let mut checked = 0;
    let (_, mg_page) = server
        .get_json(&format!("/api/regions/{}", f.micro_grid))
        .await;
    let bbox = &mg_page["bbox"];
    let (units, mgs, regions) = tile_contents(server, gw, bbox, 16).await;
    let want: BTreeSet<u64> = mine.iter().map(|&u| u as u64).collect();
    assert_eq!(
        units, want,
        "the grid worker's tiles hold exactly their units"
    );
    assert_eq!(mgs, BTreeSet::from([f.micro_grid.clone()]));
    assert_eq!(
        regions,
        BTreeSet::from([f.micro_grid.clone()]),
        "no region out of scope"
    );
    // The same tiles for the command post hold more: the check could fail.
    let (all_units, _, all_regions) =
        tile_contents(server, &clients[&Role::Command], bbox, 16).await;
    assert!(all_units.is_superset(&units) && all_units.len() > units.len());
    assert!(all_regions.len() > 1);
    // Low zoom: clusters count the grid worker's units only.
    let mut clustered = 0;
    for c in tiles_over(bbox, 11) {
        let resp = gw
            .get(server.url(&format!("/tiles/units/{c}.mvt")))
            .send()
            .await
            .unwrap();
        if resp.status() == 204 {
            continue;
        }
        let layers = common::decode_tile(&resp.bytes().await.unwrap());
        for (_, props) in layers.get("units").into_iter().flatten() {
            clustered += count(props);
        }
    }
    assert_eq!(
        clustered,
        mine.len() as u64,
        "z11 clusters count the grid worker's units"
    );
    checked += 6;
    println!("{checked} checks");
}

/// The event stream: a write out of scope does not reach the grid worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_keeps_writes_out_of_scope_away() {
    let m = Matrix::get();
    let _turn = m.turn.lock().await;
    let (server, f) = (&m.server, &m.f);
    let mut checked = 0;
    let gw_token = token_for(
        &AnyStore::open(&m.url).await.unwrap(),
        &name(Role::GridWorker),
        Role::GridWorker,
        &[],
    )
    .await;
    let mut stream =
        EventStream::connect_with(&server.url("/api/events/stream"), &gw_token, None).await;
    add_hazards(server, f.unit_out, 1).await;
    add_hazards(server, f.unit_mg, 1).await;
    let got = stream.drain(StdDuration::from_millis(800)).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].data["unit"], f.unit_mg);
    checked += 1;
    println!("{checked} checks");
}

/// Writes: by role, in scope and out of it; the events record who wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_need_the_role_and_the_scope() {
    let m = Matrix::get();
    let _turn = m.turn.lock().await;
    let (server, f) = (&m.server, &m.f);
    let clients = m.clients();
    let anonymous = reqwest::Client::new();
    let mut checked = 0;
    let future = (Utc::now() + Duration::days(20)).to_rfc3339();
    let mut hz_mg = f.hazards_mg.iter();
    let mut hz_out = f.hazards_out.iter();
    for role in ROLES {
        let c = &clients[&role];
        for (place, unit, hazards) in [
            ("mg", f.unit_mg, &mut hz_mg),
            ("out", f.unit_out, &mut hz_out),
        ] {
            let in_scope = sees(role, place);
            let field = matches!(role, Role::Inspector | Role::GridWorker);
            let rectifier = role == Role::Inspector;
            let cases: Vec<(String, Value, u16)> = vec![
                (
                    format!("/api/units/{unit}/inspections"),
                    json!({"inspector": "矩阵", "result": "pass"}),
                    if field && in_scope { 201 } else { 403 },
                ),
                (
                    format!("/api/units/{unit}/reinspections"),
                    json!({"inspector": "矩阵", "result": "pass"}),
                    if field && in_scope { 201 } else { 403 },
                ),
                (
                    format!("/api/hazards/{}/yellow-card", hazards.next().unwrap()),
                    json!({"deadline": future}),
                    if rectifier && in_scope { 200 } else { 403 },
                ),
                (
                    format!("/api/hazards/{}/close", hazards.next().unwrap()),
                    json!({"evidence": "矩阵：已整改"}),
                    if rectifier && in_scope { 200 } else { 403 },
                ),
            ];
            for (path, body, want) in cases {
                let got = status(c, "POST", &server.url(&path), Some(&body)).await;
                assert_eq!(got, want, "{} POST {path}", role.as_str());
                assert_eq!(
                    status(&anonymous, "POST", &server.url(&path), Some(&body)).await,
                    401
                );
                checked += 2;
            }
            // Suspend then resume (the second undoes the first when allowed).
            for action in ["suspend", "resume"] {
                let path = format!("/api/units/{unit}/{action}");
                let got = status(c, "POST", &server.url(&path), Some(&json!({}))).await;
                let want = if rectifier && in_scope { 200 } else { 403 };
                assert_eq!(got, want, "{} POST {path}", role.as_str());
                checked += 1;
            }
            let path = format!("/api/units/{unit}");
            let got = status(
                c,
                "PATCH",
                &server.url(&path),
                Some(&json!({"risk": "blue"})),
            )
            .await;
            assert_eq!(
                got,
                if role == Role::Admin { 200 } else { 403 },
                "{} PATCH {path}",
                role.as_str()
            );
            checked += 1;
        }
        let got = status(
            c,
            "POST",
            &server.url("/api/targets"),
            Some(&json!({"group": f.group, "week": "2030-W02", "closures": 9})),
        )
        .await;
        assert_eq!(
            got,
            if role == Role::Leader { 200 } else { 403 },
            "{} targets",
            role.as_str()
        );
        let got = status(
            c,
            "POST",
            &server.url("/api/briefing/comment"),
            Some(&json!({"region": f.group, "date": "2022-07-20", "text": "抓紧销号"})),
        )
        .await;
        assert_eq!(
            got,
            if role == Role::Leader { 200 } else { 403 },
            "{} briefing comment",
            role.as_str()
        );
        let got = status(c, "GET", &server.url("/api/users"), None).await;
        assert_eq!(
            got,
            if role == Role::Admin { 200 } else { 403 },
            "{} users",
            role.as_str()
        );
        checked += 2;
    }
    // The events record the user who wrote.
    let h = json_as(
        &clients[&Role::Command],
        &server.url(&format!("/api/units/{}/history", f.unit_mg)),
    )
    .await;
    let by: BTreeSet<&str> = h["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["by"].as_str().unwrap())
        .collect();
    for who in [
        "matrix-inspector",
        "matrix-grid_worker",
        "matrix-admin",
        "test-inspector",
    ] {
        assert!(by.contains(who), "{who} in {by:?}");
    }
    assert!(!by.contains("matrix-command") && !by.contains("matrix-leader"));
    println!("{checked} checks");
}

/// A demo server for the tests of tokens and signing in (shared; they use names of
/// their own, so they need no turns).
struct Tokens {
    server: Server,
    url: String,
}

impl Tokens {
    fn get() -> &'static Tokens {
        static TOKENS: OnceLock<Tokens> = OnceLock::new();
        TOKENS.get_or_init(|| {
            on_own_runtime(async {
                let db = TestDb::sqlite().await;
                onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap();
                let server = Server::start(&db.store).await.shared();
                let url = db.url.clone();
                std::mem::forget(db);
                Tokens { server, url }
            })
        })
    }

    async fn store(&self) -> AnyStore {
        AnyStore::open(&self.url).await.unwrap()
    }

    /// A new user of `role` named `name`, and their first password.
    async fn user(&self, name: &str, role: Role) -> String {
        let store = self.store().await;
        let (_, secret) = onemap::auth::admin::add_user(&store, name, role, &[], false, Utc::now())
            .await
            .unwrap();
        let onemap::auth::admin::Secret::Password(password) = secret else {
            panic!("a password")
        };
        password
    }
}

/// Signs `name` in; the answer.
async fn sign_in(server: &Server, name: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.url("/api/session"))
        .json(&json!({"name": name, "password": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn malformed_and_forged_tokens_are_refused_and_cors_is_off() {
    let server = &Tokens::get().server;
    let url = server.url("/api/stats");
    let plain = reqwest::Client::new();
    for header in [
        "Bearer x",
        "Bearer om_123",
        "Basic dXNlcjpwYXNz",
        "Bearer om_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
        &format!("Bearer om_{}", "ab".repeat(32)),
    ] {
        let r = plain
            .get(&url)
            .header("Authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{header}");
        assert!(r.headers().contains_key("www-authenticate"));
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    // CORS is off by default: another site's page gets no permission to read.
    let r = server
        .client()
        .get(&url)
        .header("Origin", "https://elsewhere.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(!r.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let t = Tokens::get();
    let url = t.server.url("/api/stats");
    let store = t.store().await;
    let user = store
        .create_user("expiring", Role::Command, &[], None, Utc::now())
        .await
        .unwrap();
    let (token, mut record) =
        onemap::auth::new_token(user.id, TokenKind::Session, Utc::now() - Duration::days(2));
    record.expires_at = Utc::now() - Duration::seconds(1);
    store.put_token(&record).await.unwrap();
    assert_eq!(status(&client_with(&token), "GET", &url, None).await, 401);
}

#[tokio::test]
async fn signing_in_gives_a_token_the_cookie_serves_reads_and_signing_out_ends_it() {
    let t = Tokens::get();
    let server = &t.server;
    let url = server.url("/api/stats");
    let password = t.user("张三", Role::Leader).await;

    let session = server.url("/api/session");
    let r = sign_in(server, "张三", &password).await;
    assert_eq!(r.status(), 201);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let body: Value = r.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_owned();
    let me = client_with(&token);
    assert_eq!(status(&me, "GET", &url, None).await, 200);
    // The cookie serves reads but not writes.
    let cookie_client = reqwest::Client::new();
    let r = cookie_client
        .get(&url)
        .header("Cookie", format!("onemap_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = cookie_client
        .post(server.url("/api/targets"))
        .header("Cookie", format!("onemap_token={token}"))
        .json(&json!({"group": "x", "week": "2030-W01", "closures": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "no writes on the cookie alone");
    assert_eq!(status(&me, "DELETE", &session, None).await, 204);
    assert_eq!(status(&me, "GET", &url, None).await, 401, "revoked");
}

#[tokio::test]
async fn revoking_a_users_tokens_ends_every_session_at_once() {
    let t = Tokens::get();
    let server = &t.server;
    let url = server.url("/api/stats");
    let password = t.user("李四", Role::Leader).await;
    let r = sign_in(server, "李四", &password).await;
    let t2: Value = r.json().await.unwrap();
    let me2 = client_with(t2["token"].as_str().unwrap());
    assert_eq!(status(&me2, "GET", &url, None).await, 200);
    let admin = server.client_as(Role::Admin);
    let r: Value = admin
        .post(server.url("/api/users/李四/revoke"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["revoked"], 1);
    assert_eq!(status(&me2, "GET", &url, None).await, 401);
}

#[tokio::test]
async fn failed_sign_ins_slow_down_then_lock_the_name() {
    let t = Tokens::get();
    let server = &t.server;
    let session = server.url("/api/session");
    let plain = reqwest::Client::new();
    let password = t.user("王五", Role::Leader).await;
    let wrong = json!({"name": "王五", "password": "wrong"});
    let mut statuses = Vec::new();
    let started = std::time::Instant::now();
    for _ in 0..onemap::auth::throttle::LOCK_AFTER {
        statuses.push(
            plain
                .post(&session)
                .json(&wrong)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert!(statuses.iter().all(|&s| s == 401), "{statuses:?}");
    assert!(
        started.elapsed() >= onemap::auth::throttle::DELAY_STEP * 3,
        "later failures wait: {:?}",
        started.elapsed()
    );
    let r = plain
        .post(&session)
        .json(&json!({"name": "王五", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    // Another name is not locked; an unknown name fails like a wrong password.
    let r = plain
        .post(&session)
        .json(&json!({"name": "nobody", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn a_wall_token_only_reads_and_new_users_fields_are_checked() {
    let server = &Tokens::get().server;
    let url = server.url("/api/stats");
    let admin = server.client_as(Role::Admin);
    let r: Value = admin
        .post(server.url("/api/users"))
        .json(&json!({"name": "wall-1", "role": "command", "wall": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let wall = client_with(r["token"].as_str().unwrap());
    assert_eq!(status(&wall, "GET", &url, None).await, 200);
    let path = server.url("/api/units/5/inspections");
    let visit = json!({"inspector": "x", "result": "pass"});
    assert_eq!(status(&wall, "POST", &path, Some(&visit)).await, 403);
    let list = json_as(&admin, &server.url("/api/users")).await;
    let w = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "wall-1")
        .unwrap();
    assert_eq!(w["wall"], true);
    assert!(
        list.to_string().find("argon2").is_none(),
        "no hash leaves the server"
    );
    for (body, field) in [
        (json!({"name": "a b", "role": "command"}), "name"),
        (json!({"name": "x", "role": "grid_worker"}), "scope"),
        (
            json!({"name": "x", "role": "grid_worker", "scope": ["nowhere"]}),
            "scope[0]",
        ),
        (json!({"name": "x", "role": "leader", "wall": true}), "role"),
        (json!({"name": "x", "role": "king"}), "role"),
    ] {
        let r = admin
            .post(server.url("/api/users"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["field"], field, "{body}: {e}");
    }
    let r = admin
        .post(server.url("/api/users"))
        .json(&json!({"name": "wall-1", "role": "command"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
}

/// The command line makes users; the server's log never shows a password, even at the
/// most verbose level.
#[tokio::test]
async fn the_command_line_makes_users_and_the_log_keeps_no_password() {
    let db = TestDb::sqlite().await;
    onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap();
    let town = common::town_id(&db.store).await;
    let bin = env!("CARGO_BIN_EXE_onemap");
    let out = Command::new(bin)
        .args([
            "user",
            "add",
            "--db",
            &db.url,
            "--name",
            "cli-inspector",
            "--role",
            "inspector",
        ])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "an inspector without a scope is refused"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--scope"));
    let out = Command::new(bin)
        .args([
            "user",
            "add",
            "--db",
            &db.url,
            "--name",
            "cli-inspector",
            "--role",
            "inspector",
            "--scope",
            town.as_str(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    let password = printed
        .lines()
        .find_map(|l| l.strip_prefix("first password: "))
        .expect("a password")
        .trim()
        .to_owned();
    let out = Command::new(bin)
        .args(["user", "list", "--db", &db.url])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("cli-inspector"));

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(bin)
        .args([
            "serve",
            "--db",
            &db.url,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read the log as it comes, from the start (a full pipe would stall the server).
    let mut stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut log = String::new();
        let _ = stderr.read_to_string(&mut log);
        log
    });
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let plain = reqwest::Client::new();
    for pw in ["a-wrong-password-123", password.as_str()] {
        plain
            .post(format!("{base}/api/session"))
            .json(&json!({"name": "cli-inspector", "password": pw}))
            .send()
            .await
            .unwrap();
    }
    let r: Value = plain
        .post(format!("{base}/api/session"))
        .json(&json!({"name": "cli-inspector", "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = r["token"].as_str().unwrap().to_owned();
    assert_eq!(
        status(
            &client_with(&token),
            "GET",
            &format!("{base}/api/stats"),
            None
        )
        .await,
        200
    );
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let log = log.join().unwrap();
    assert!(
        log.contains("signed in"),
        "the log is there: {}",
        &log[..log.len().min(2000)]
    );
    for secret in [password.as_str(), "a-wrong-password-123", &token] {
        assert!(!log.contains(secret), "the log shows a secret");
    }
    db.finish().await;
}
