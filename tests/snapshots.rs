//! What clients decode, snapshotted with `insta` and reviewed like code: the JSON of every
//! endpoint (reads of the Guali demo at a fixed past moment, each write's answer, each
//! kind of error) and decoded vector tiles. A change of shape or value shows as a diff of
//! `tests/snapshots/*.snap`; `cargo insta review` (or `INSTA_UPDATE=always`) accepts one.
//!
//! Arrays are cut to their first three items plus a count, and moments of today (the
//! time a write was made, a token's expiry) read `[now]` and links the test server's
//! address `[server]`, so a snapshot holds what is stable and nothing that moves with
//! the clock or the port.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::collections::BTreeMap;

use common::{Server, TestDb, shared_demo};
use onemap::auth::Role;
use onemap::demo::DEFAULT_SEED;
use onemap_tiles::{LonLat, TileCoord};
use serde_json::{Value, json};

/// Items kept of each array.
const KEEP: usize = 3;

/// `v` with long arrays cut and today's moments masked (see the module's description).
fn stable(v: &Value) -> Value {
    match v {
        Value::Array(items) => {
            let mut out: Vec<Value> = items.iter().take(KEEP).map(stable).collect();
            if items.len() > KEEP {
                out.push(json!(format!("… {} items in all", items.len())));
            }
            Value::Array(out)
        }
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let v = match k.as_str() {
                        "token" | "password" => json!("[secret]"),
                        _ => stable(v),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::String(s) if is_today(s) => json!("[now]"),
        Value::String(s) if s.starts_with("http://127.0.0.1:") => {
            // Links name the test server's port, which changes with every run.
            let rest =
                s["http://127.0.0.1:".len()..].trim_start_matches(|c: char| c.is_ascii_digit());
            json!(format!("http://[server]{rest}"))
        }
        other => other.clone(),
    }
}

/// An RFC 3339 moment after the demo's campaign: written by the test run itself.
fn is_today(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok_and(|t| t.timestamp() > 1_700_000_000)
}

async fn get(server: &Server, role: Role, path: &str) -> (u16, Value) {
    let resp = server
        .client_as(role)
        .get(server.url(path))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn send(
    server: &Server,
    role: Role,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = server
        .client_as(role)
        .request(method.parse().unwrap(), server.url(path));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// The answer with its status, made stable.
fn answer((status, body): (u16, Value)) -> Value {
    json!({"status": status, "body": stable(&body)})
}

async fn first_village(server: &Server) -> String {
    let (_, labels) = get(server, Role::Command, "/api/labels?level=village").await;
    labels["features"][0]["properties"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn figures_and_rankings_keep_their_shape() {
    let server = shared_demo();
    let village = first_village(server).await;
    let mut all = BTreeMap::new();
    for path in [
        "/healthz".to_owned(),
        "/api/stats".to_owned(),
        "/api/stats?at=2022-07-15".to_owned(),
        format!("/api/stats?region={village}&at=2022-07-15&kind=rental,enterprise"),
        "/api/stats?colour=red&at=2022-08-12".to_owned(),
        "/api/rankings?at=2022-07-15".to_owned(),
        "/api/rankings?level=group&metric=closure_rate&at=2022-07-15".to_owned(),
        "/api/rankings?level=grid".to_owned(),
        "/api/targets?week=2022-W28".to_owned(),
    ] {
        all.insert(
            path.clone(),
            answer(get(server, Role::Command, &path).await),
        );
    }
    insta::assert_json_snapshot!("figures", all);
}

#[tokio::test]
async fn the_page_reads_keep_their_shape() {
    let server = shared_demo();
    let village = first_village(server).await;
    let mut all = BTreeMap::new();
    for path in [
        "/api/config".to_owned(),
        "/api/regions/town?at=2022-07-15".to_owned(),
        format!("/api/regions/{village}"),
        format!("/api/regions/{village}/units?at=2022-07-15"),
        format!("/api/labels?level=grid&region={village}"),
        "/api/labels".to_owned(),
        "/api/progress".to_owned(),
        format!("/api/progress?region={village}"),
        "/api/units/5?at=2022-07-15".to_owned(),
        "/api/units/764".to_owned(),
        "/api/units/5/history".to_owned(),
    ] {
        all.insert(
            path.clone(),
            answer(get(server, Role::Command, &path).await),
        );
    }
    insta::assert_json_snapshot!("page", all);
}

#[tokio::test]
async fn ogc_and_tilejson_keep_their_shape() {
    let server = shared_demo();
    let mut all = BTreeMap::new();
    for path in [
        "/tiles/units.json",
        "/tiles/units,regions,hexes.json?kind=rental",
        "/ogc",
        "/ogc/conformance",
        "/ogc/collections",
        "/ogc/collections/units",
        "/ogc/collections/hexes",
        "/ogc/collections/units/items?limit=2&offset=10",
        "/ogc/collections/units/items?bbox=120.40,30.15,120.42,30.17&colour=red&limit=2",
        "/ogc/collections/villages/items?limit=1",
        "/ogc/collections/micro_grids/items?limit=1&offset=100",
        "/ogc/collections/hexes/items?resolution=8&limit=2",
        "/ogc/collections/units/items/5",
    ] {
        all.insert(
            path.to_owned(),
            answer(get(server, Role::Command, path).await),
        );
    }
    insta::assert_json_snapshot!("ogc", all);
}

#[tokio::test]
async fn sessions_and_users_keep_their_shape() {
    let server = shared_demo();
    let mut all = BTreeMap::new();
    all.insert(
        "GET /api/session (grid worker)",
        answer(get(server, Role::GridWorker, "/api/session").await),
    );
    let (status, users) = get(server, Role::Admin, "/api/users").await;
    // Only the test users of this binary, in name order: other tests may add more.
    let mut listed: Vec<Value> = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["name"].as_str().unwrap().starts_with("test-"))
        .cloned()
        .collect();
    listed.sort_by_key(|u| u["name"].as_str().unwrap().to_owned());
    all.insert("GET /api/users", answer((status, json!({"users": listed}))));
    insta::assert_json_snapshot!("sessions", all);
}

/// Every route with its methods, statuses, tags and whether it needs a token: what the
/// OpenAPI document promises (its wording may change; this may not).
#[tokio::test]
async fn the_openapi_document_keeps_every_operation() {
    let server = shared_demo();
    let (_, doc) = get(server, Role::Command, "/api/openapi.json").await;
    let mut ops = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let mut statuses: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
            statuses.sort();
            ops.insert(
                format!("{} {path}", method.to_uppercase()),
                json!({
                    "statuses": statuses,
                    "tags": op["tags"],
                    "public": op["security"] == json!([{}]),
                    "request_body": op["requestBody"]["content"].as_object().map(|c| c.keys().collect::<Vec<_>>()),
                }),
            );
        }
    }
    insta::assert_json_snapshot!("openapi", ops);
}

/// A tiny PNG (its bytes differ by `seed`).
fn png(seed: u8) -> Vec<u8> {
    [
        &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a][..],
        &[
            0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0,
        ],
        &[seed, 0x77, 0x53, 0xde],
    ]
    .concat()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_answers_in_its_shape() {
    let db = TestDb::sqlite().await;
    onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap();
    let server = Server::start(&db.store).await;
    let soon = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let mut all: Vec<Value> = Vec::new();
    // Records a step's answer and hands back its body (the next steps need its ids).
    let mut step = |name: &str, a: (u16, Value)| -> Value {
        let body = a.1.clone();
        all.push(json!({"step": name, "answer": answer(a)}));
        body
    };
    let (_, unit5) = get(&server, Role::Command, "/api/units/5").await;
    let location = unit5["location"].clone();
    let registered = step(
        "register",
        send(
            &server,
            Role::Admin,
            "POST",
            "/api/units",
            Some(json!({
            "kind": "street_shop", "name": "  新开小店 ", "address": "瓜沥镇某路 1 号",
            "owner_name": "王", "owner_phone": "138****0000", "location": location,
            "risk": "blue", "registered_at": "2022-07-20T09:00:00+08:00"})),
        )
        .await,
    );
    let new_id = registered["unit"].as_i64().unwrap();
    step(
        "edit",
        send(
            &server,
            Role::Admin,
            "PATCH",
            &format!("/api/units/{new_id}"),
            Some(json!({"name": "新开小店（改）", "risk": "yellow"})),
        )
        .await,
    );
    let inspected = step(
        "inspect with hazards",
        send(
            &server,
            Role::Inspector,
            "POST",
            &format!("/api/units/{new_id}/inspections"),
            Some(
                json!({"inspector": "李强（第3检查组）", "at": "2022-07-21T10:00:00+08:00",
                         "hazards": [
                             {"category": "fire", "hazard_type": "blocked_escape_route",
                              "severity": "general", "stage": "deadline", "deadline": soon},
                             {"category": "fire", "hazard_type": "messy_wiring",
                              "severity": "major", "stage": "concentrated"}]}),
            ),
        )
        .await,
    );
    let hazards = inspected["record"]["hazards"].clone();
    let (h1, h2) = (
        hazards[0]["id"].as_i64().unwrap(),
        hazards[1]["id"].as_i64().unwrap(),
    );
    step(
        "yellow card",
        send(
            &server,
            Role::Inspector,
            "POST",
            &format!("/api/hazards/{h1}/yellow-card"),
            Some(json!({"deadline": soon, "at": "2022-07-22T10:00:00+08:00"})),
        )
        .await,
    );
    step(
        "close",
        send(
            &server,
            Role::Inspector,
            "POST",
            &format!("/api/hazards/{h2}/close"),
            Some(json!({"evidence": "线路已整改", "at": "2022-07-23T10:00:00+08:00"})),
        )
        .await,
    );
    step(
        "reinspect, a pass",
        send(
            &server,
            Role::GridWorker,
            "POST",
            &format!("/api/units/{new_id}/reinspections"),
            Some(
                json!({"inspector": "网格员", "result": "pass", "at": "2022-07-24T10:00:00+08:00",
                         "photos": ["external-ref-1"], "signature": "sig-ref"}),
            ),
        )
        .await,
    );
    step(
        "suspend",
        send(
            &server,
            Role::Inspector,
            "POST",
            &format!("/api/units/{new_id}/suspend"),
            Some(json!({"at": "2022-07-25T10:00:00+08:00"})),
        )
        .await,
    );
    step(
        "resume",
        send(
            &server,
            Role::Inspector,
            "POST",
            &format!("/api/units/{new_id}/resume"),
            Some(json!({"at": "2022-07-26T10:00:00+08:00"})),
        )
        .await,
    );
    let (_, town) = get(&server, Role::Command, "/api/regions/town").await;
    let group = town["children"][0]["children"][0]["id"].clone();
    let group = if group.is_null() {
        let area = town["children"][0]["id"].as_str().unwrap().to_owned();
        let (_, a) = get(&server, Role::Command, &format!("/api/regions/{area}")).await;
        a["children"][0]["id"].clone()
    } else {
        group
    };
    step(
        "set a target",
        send(
            &server,
            Role::Leader,
            "POST",
            "/api/targets",
            Some(json!({"group": group, "week": "2022-W30", "closures": 40})),
        )
        .await,
    );
    let resp = server
        .client_as(Role::Inspector)
        .post(server.url(&format!("/api/units/{new_id}/attachments?kind=photo")))
        .header("Idempotency-Key", "snap-photo-1")
        .body(png(7))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    step("attach", (status, resp.json().await.unwrap()));
    let resp = server
        .client_as(Role::Inspector)
        .post(server.url(&format!("/api/units/{new_id}/attachments?kind=photo")))
        .header("Idempotency-Key", "snap-photo-1")
        .body(png(7))
        .send()
        .await
        .unwrap();
    let replayed = resp.headers().get("idempotent-replayed").cloned();
    let status = resp.status().as_u16();
    step(
        "attach again, replayed",
        (
            status,
            json!({
                "idempotent-replayed": replayed.map(|v| v.to_str().unwrap().to_owned()),
                "answer": resp.json::<Value>().await.unwrap(),
            }),
        ),
    );
    step(
        "the card after",
        get(&server, Role::Command, &format!("/api/units/{new_id}")).await,
    );
    step(
        "its history",
        get(
            &server,
            Role::Command,
            &format!("/api/units/{new_id}/history"),
        )
        .await,
    );
    step(
        "the event log",
        get(&server, Role::Command, "/api/events?limit=20").await,
    );
    step(
        "the log after 3",
        get(&server, Role::Command, "/api/events?after=3&limit=2").await,
    );
    insta::assert_json_snapshot!("writes", all);
    server.stop().await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_error_keeps_its_shape() {
    let db = TestDb::sqlite().await;
    onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap();
    let server = Server::start(&db.store).await;
    let mut all = BTreeMap::new();
    let mut put = |name: &str, a: (u16, Value)| {
        all.insert(name.to_owned(), answer(a));
    };
    put(
        "unknown parameter",
        get(&server, Role::Command, "/api/stats?colour=red&nope=1").await,
    );
    put(
        "bad moment",
        get(&server, Role::Command, "/api/stats?at=yesterday").await,
    );
    put(
        "unknown region",
        get(&server, Role::Command, "/api/stats?region=nowhere").await,
    );
    put(
        "unknown unit",
        get(&server, Role::Command, "/api/units/999999").await,
    );
    put(
        "bad tile",
        get(&server, Role::Command, "/tiles/units/3/99/99.mvt").await,
    );
    put(
        "unknown endpoint",
        get(&server, Role::Command, "/api/nothing").await,
    );
    put(
        "wrong method",
        send(&server, Role::Command, "PUT", "/api/stats", None).await,
    );
    put(
        "bad field",
        send(
            &server,
            Role::Inspector,
            "POST",
            "/api/units/5/inspections",
            Some(
                json!({"inspector": "张", "hazards": [{"category": "fire", "hazard_type": "x",
                    "severity": "huge", "stage": "immediate"}]}),
            ),
        )
        .await,
    );
    put(
        "unknown field",
        send(
            &server,
            Role::Inspector,
            "POST",
            "/api/units/5/inspections",
            Some(json!({"inspector": "张", "result": "pass", "colour": "green"})),
        )
        .await,
    );
    put(
        "a pass with hazards",
        send(
            &server,
            Role::Inspector,
            "POST",
            "/api/units/5/inspections",
            Some(
                json!({"inspector": "张", "result": "pass", "hazards": [{"category": "fire",
                    "hazard_type": "x", "severity": "general", "stage": "immediate"}]}),
            ),
        )
        .await,
    );
    put(
        "deadline in the past",
        send(
            &server,
            Role::Inspector,
            "POST",
            "/api/units/5/inspections",
            Some(
                json!({"inspector": "张", "hazards": [{"category": "fire", "hazard_type": "x",
                    "severity": "general", "stage": "deadline",
                    "deadline": "2022-01-01T00:00:00Z"}]}),
            ),
        )
        .await,
    );
    put(
        "in the future",
        send(
            &server,
            Role::Inspector,
            "POST",
            "/api/units/5/suspend",
            Some(json!({"at": "2999-01-01T00:00:00Z"})),
        )
        .await,
    );
    put(
        "empty evidence",
        send(
            &server,
            Role::Inspector,
            "POST",
            "/api/hazards/1/close",
            Some(json!({"evidence": "  "})),
        )
        .await,
    );
    put(
        "unknown hazard",
        send(
            &server,
            Role::Inspector,
            "POST",
            "/api/hazards/99999999/close",
            Some(json!({"evidence": "done"})),
        )
        .await,
    );
    put(
        "outside the town",
        send(
            &server,
            Role::Admin,
            "POST",
            "/api/units",
            Some(json!({"kind": "rental", "name": "x", "location": [10.0, 10.0], "risk": "blue"})),
        )
        .await,
    );
    put(
        "not on Earth",
        send(
            &server,
            Role::Admin,
            "POST",
            "/api/units",
            Some(json!({"kind": "rental", "name": "x", "location": [999.0, 0.0], "risk": "blue"})),
        )
        .await,
    );
    put("name too long", send(&server, Role::Admin, "POST", "/api/units",
        Some(json!({"kind": "rental", "name": "长".repeat(201), "location": [120.4, 30.16], "risk": "blue"}))).await);
    put("bad host", send(&server, Role::Admin, "POST", "/api/units",
        Some(json!({"kind": "rental", "name": "x", "location": [120.4, 30.16], "risk": "blue", "host": 3}))).await);
    put(
        "not a group",
        send(
            &server,
            Role::Leader,
            "POST",
            "/api/targets",
            Some(json!({"group": "nowhere", "week": "2022-W30", "closures": 1})),
        )
        .await,
    );
    put(
        "bad week",
        send(
            &server,
            Role::Leader,
            "POST",
            "/api/targets",
            Some(json!({"group": "x", "week": "2022-30", "closures": 1})),
        )
        .await,
    );
    let (_, card) = get(&server, Role::Command, "/api/units/5").await;
    let closed = card["hazards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| !h["closed_at"].is_null())
        .map(|h| h["id"].as_i64().unwrap());
    if let Some(h) = closed {
        put(
            "already closed",
            send(
                &server,
                Role::Inspector,
                "POST",
                &format!("/api/hazards/{h}/close"),
                Some(json!({"evidence": "again"})),
            )
            .await,
        );
    }
    put(
        "not suspended",
        send(
            &server,
            Role::Inspector,
            "POST",
            "/api/units/5/resume",
            None,
        )
        .await,
    );
    put(
        "role may not",
        send(&server, Role::Command, "POST", "/api/units/5/suspend", None).await,
    );
    let resp = server
        .client_as(Role::Inspector)
        .post(server.url("/api/units/5/attachments?kind=photo"))
        .body(b"plain text".to_vec())
        .send()
        .await
        .unwrap();
    let s = resp.status().as_u16();
    put("not a photo", (s, resp.json().await.unwrap()));
    let resp = server
        .client_as(Role::Inspector)
        .post(server.url("/api/units/5/suspend"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    let s = resp.status().as_u16();
    put("not JSON", (s, resp.json().await.unwrap()));
    for (k, body) in [
        ("a", json!({"at": "2022-07-20T00:00:00Z"})),
        ("b", json!({"at": "2022-07-21T00:00:00Z"})),
    ] {
        let resp = server
            .client_as(Role::Inspector)
            .post(server.url("/api/units/6/suspend"))
            .header("Idempotency-Key", "snap-key")
            .json(&body)
            .send()
            .await
            .unwrap();
        let s = resp.status().as_u16();
        put(
            &format!("idempotency key {k}"),
            (s, resp.json().await.unwrap()),
        );
    }
    let resp = reqwest::Client::new()
        .get(server.url("/api/stats"))
        .send()
        .await
        .unwrap();
    let s = resp.status().as_u16();
    put("no token", (s, resp.json().await.unwrap()));
    let resp = common::client_with("om_not_a_real_token_at_all_0000000000000000")
        .get(server.url("/api/stats"))
        .send()
        .await
        .unwrap();
    let s = resp.status().as_u16();
    put("unknown token", (s, resp.json().await.unwrap()));
    insta::assert_json_snapshot!("errors", all);
    server.stop().await;
    db.finish().await;
}

/// A decoded tile: per layer, how many features and the first few (by id, then by
/// properties), each with its properties.
fn decoded(bytes: &[u8]) -> Value {
    let layers = common::decode_tile(bytes);
    let mut out = BTreeMap::new();
    for (name, feats) in layers {
        let mut rows: Vec<(Option<u64>, BTreeMap<String, String>)> = feats
            .into_iter()
            .map(|(id, props)| {
                let props = props
                    .into_iter()
                    .map(|(k, v)| (k, format!("{v:?}")))
                    .collect();
                (id, props)
            })
            .collect();
        rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let count = rows.len();
        let first: Vec<Value> = rows
            .into_iter()
            .take(5)
            .map(|(id, props)| json!({"id": id, "properties": props}))
            .collect();
        out.insert(name, json!({"features": count, "first": first}));
    }
    json!(out)
}

#[tokio::test]
async fn decoded_tiles_keep_their_content() {
    let server = shared_demo();
    let (_, tj) = get(server, Role::Command, "/tiles/units.json").await;
    let c = &tj["center"];
    let centre = LonLat {
        lon: c[0].as_f64().unwrap(),
        lat: c[1].as_f64().unwrap(),
    };
    let mut all = BTreeMap::new();
    for (layers, z, query) in [
        ("units", 9, ""),
        ("units", 11, ""),
        ("units", 13, "?kind=rental"),
        ("units", 15, ""),
        ("units", 16, "?colour=red,orange"),
        ("units", 14, "?at=2022-07-15"),
        ("regions", 10, ""),
        ("regions", 14, ""),
        ("hexes", 12, ""),
        ("units,regions,hexes", 14, ""),
    ] {
        let t = TileCoord::containing(centre, z).unwrap();
        let path = format!("/tiles/{layers}/{t}.mvt{query}");
        let resp = server
            .client()
            .get(server.url(&path))
            .header("Accept-Encoding", "identity")
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap();
        let body = if status == 200 {
            decoded(&bytes)
        } else {
            Value::Null
        };
        all.insert(path, json!({"status": status, "tile": body}));
    }
    insta::assert_json_snapshot!("tiles", all);
}
