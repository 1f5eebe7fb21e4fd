//! The OpenAPI document describes the server as it is: every route of the router is in
//! it with its methods, and real answers — a card, a write, an error, an event page —
//! match the schemas it gives (checked by a small validator of the JSON Schema subset
//! the document uses: type, required, properties, additionalProperties, items, enum, $ref).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use common::{Server, TestDb};
use onemap::demo::DEFAULT_SEED;
use serde_json::{Value, json};

/// Every route the router serves, with its methods (the web page's routes aside).
const ROUTES: &[(&str, &[&str])] = &[
    ("/healthz", &["get"]),
    ("/metrics", &["get"]),
    ("/api/openapi.json", &["get"]),
    ("/api/stats", &["get"]),
    ("/api/rankings", &["get"]),
    ("/tiles/{layers}/{z}/{x}/{y}.mvt", &["get"]),
    ("/tiles/{layers}.json", &["get"]),
    ("/ogc", &["get"]),
    ("/ogc/conformance", &["get"]),
    ("/ogc/collections", &["get"]),
    ("/ogc/collections/{collection}", &["get"]),
    ("/ogc/collections/{collection}/items", &["get"]),
    ("/ogc/collections/{collection}/items/{id}", &["get"]),
    ("/api/units", &["post"]),
    ("/api/units/{id}", &["get", "patch"]),
    ("/api/units/{id}/history", &["get"]),
    ("/api/imports/units", &["post"]),
    ("/api/imports/regions", &["post"]),
    ("/api/imports/records", &["post"]),
    ("/api/exports/units", &["get"]),
    ("/api/exports/hazards", &["get"]),
    ("/api/exports/visits", &["get"]),
    ("/api/units/{id}/inspections", &["post"]),
    ("/api/units/{id}/reinspections", &["post"]),
    ("/api/units/{id}/suspend", &["post"]),
    ("/api/units/{id}/resume", &["post"]),
    ("/api/units/{id}/attachments", &["post"]),
    ("/api/attachments/{hash}", &["get"]),
    ("/api/hazards/{id}/yellow-card", &["post"]),
    ("/api/hazards/{id}/close", &["post"]),
    ("/api/units/{id}/fix-links", &["post"]),
    ("/api/units/{id}/fixes", &["get"]),
    ("/api/fix-links/{id}/revoke", &["post"]),
    ("/api/fix-reports/{id}/reject", &["post"]),
    ("/api/fix/{token}", &["get", "post"]),
    ("/api/checklists", &["get"]),
    ("/api/day", &["get"]),
    ("/api/events", &["get"]),
    ("/api/events/stream", &["get"]),
    ("/api/targets", &["get", "post"]),
    ("/api/briefing", &["get"]),
    ("/api/briefing/comment", &["post"]),
    ("/api/briefing/send", &["post"]),
    ("/api/config", &["get"]),
    ("/api/regions/{id}", &["get"]),
    ("/api/regions/{id}/units", &["get"]),
    ("/api/labels", &["get"]),
    ("/api/progress", &["get"]),
    ("/api/session", &["post", "get", "delete"]),
    ("/api/users", &["get", "post"]),
    ("/api/users/{name}/revoke", &["post"]),
];

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap();
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Checks `v` against `schema`; returns what does not match, with its path.
fn check(doc: &Value, schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if let Some(any) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        let ok = any.iter().any(|s| {
            let mut e = Vec::new();
            check(doc, s, v, path, &mut e);
            e.is_empty()
        });
        if !ok {
            errors.push(format!("{path}: matches none of {any:?}"));
        }
        return;
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let t = type_of(v);
    let allowed =
        types.is_empty() || types.contains(&t) || (t == "integer" && types.contains(&"number"));
    if !allowed {
        errors.push(format!("{path}: {t}, expected {types:?}"));
        return;
    }
    if let Some(values) = schema["enum"].as_array()
        && !values.contains(v)
    {
        errors.push(format!("{path}: {v} not in {values:?}"));
    }
    if let Value::Object(map) = v {
        for r in schema["required"].as_array().into_iter().flatten() {
            if !map.contains_key(r.as_str().unwrap()) {
                errors.push(format!("{path}: required `{r}` missing"));
            }
        }
        let props = &schema["properties"];
        for (k, val) in map {
            match props.get(k) {
                Some(s) => check(doc, s, val, &format!("{path}.{k}"), errors),
                None if schema["additionalProperties"] == json!(false) => {
                    errors.push(format!("{path}: unexpected `{k}`"));
                }
                None => {}
            }
        }
    }
    if let (Value::Array(items), Some(s)) = (v, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(doc, s, item, &format!("{path}[{i}]"), errors);
        }
    }
}

/// The schema of `method path`'s answer with `status`, as JSON.
fn response_schema<'a>(doc: &'a Value, path: &str, method: &str, status: u16) -> &'a Value {
    let r = &doc["paths"][path][method]["responses"][status.to_string()];
    assert!(r.is_object(), "{method} {path} documents no {status}");
    let content = r["content"].as_object().unwrap();
    &content.values().next().unwrap()["schema"]
}

fn assert_matches(doc: &Value, path: &str, method: &str, status: u16, v: &Value) {
    let mut errors = Vec::new();
    check(
        doc,
        response_schema(doc, path, method, status),
        v,
        "$",
        &mut errors,
    );
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: {errors:#?}\n{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_describes_every_route_and_real_answers_match_it() {
    let db = TestDb::sqlite().await;
    onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap();
    let server = Server::start(&db.store).await;
    let (status, doc) = server.get_json("/api/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "onemap");
    let mut operations = 0;
    for (path, methods) in ROUTES {
        for m in *methods {
            assert!(
                doc["paths"][path][m].is_object(),
                "{m} {path} is not documented"
            );
            operations += 1;
        }
    }
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(
        documented, operations,
        "documented operations the router lacks"
    );

    // Every documented write is in the gate's table with the action it needs (a write
    // missing there would be open to every signed-in user).
    for (path, methods) in ROUTES {
        for m in methods.iter().filter(|m| **m != "get") {
            let method: axum::http::Method = m.to_uppercase().parse().unwrap();
            let action = onemap::http::access::action_of(&method, path);
            if *path == "/api/session" {
                continue; // signing in and out: any user
            }
            if *path == "/api/fix/{token}" {
                // An owner's report: no account, the link is the key (checked by the
                // write path, which no role reaches).
                assert_eq!(action, None);
                continue;
            }
            assert!(
                action.is_some_and(|a| a != onemap::auth::Action::Read),
                "{m} {path}: {action:?}"
            );
        }
    }

    // Every operation needs a Bearer token but the public ones.
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["security"], json!([{"bearer": []}]));
    for (path, method) in [
        ("/healthz", "get"),
        ("/api/openapi.json", "get"),
        ("/api/config", "get"),
        ("/api/session", "post"),
        ("/api/fix/{token}", "get"),
        ("/api/fix/{token}", "post"),
    ] {
        assert_eq!(
            doc["paths"][path][method]["security"],
            json!([{}]),
            "{path}"
        );
    }

    // Real answers against their schemas.
    let (s, card) = server.get_json("/api/units/5").await;
    assert_matches(&doc, "/api/units/{id}", "get", s, &card);
    let (s, err) = server.get_json("/api/units/999999999").await;
    assert_eq!(s, 404);
    assert_matches(&doc, "/api/units/{id}", "get", s, &err);
    let resp = server
        .client_as(onemap::auth::Role::Inspector)
        .post(server.url("/api/units/5/inspections"))
        .json(&json!({"inspector": "张", "hazards": [{"category": "fire",
                      "hazard_type": "wiring", "severity": "general", "stage": "immediate"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let answer: Value = resp.json().await.unwrap();
    assert_matches(&doc, "/api/units/{id}/inspections", "post", 201, &answer);
    let resp = server
        .client_as(onemap::auth::Role::Inspector)
        .post(server.url("/api/units/5/inspections"))
        .json(&json!({"inspector": "张", "result": "maybe"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let err: Value = resp.json().await.unwrap();
    assert_matches(&doc, "/api/units/{id}/inspections", "post", 400, &err);
    let (s, page) = server.get_json("/api/events?limit=5").await;
    assert_matches(&doc, "/api/events", "get", s, &page);
    let (s, history) = server.get_json("/api/units/5/history").await;
    assert_matches(&doc, "/api/units/{id}/history", "get", s, &history);
    let (s, lists) = server.get_json("/api/checklists").await;
    assert_matches(&doc, "/api/checklists", "get", s, &lists);
    let (s, day) = server.get_json("/api/day?near=120.45,30.19&limit=20").await;
    assert_matches(&doc, "/api/day", "get", s, &day);
    // An owner's fix link, its page and the unit's fixes.
    let resp = server
        .client_as(onemap::auth::Role::Inspector)
        .post(server.url("/api/units/5/fix-links"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let made: Value = resp.json().await.unwrap();
    assert_matches(&doc, "/api/units/{id}/fix-links", "post", 201, &made);
    let token = made["token"].as_str().unwrap();
    let view: Value = reqwest::get(server.url(&format!("/api/fix/{token}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_matches(&doc, "/api/fix/{token}", "get", 200, &view);
    let (s, fixes) = server.get_json("/api/units/5/fixes").await;
    assert_matches(&doc, "/api/units/{id}/fixes", "get", s, &fixes);
    // A request body the document describes is one the server takes.
    let visit = resolve(&doc, &doc["components"]["schemas"]["Visit"]);
    assert_eq!(visit["additionalProperties"], json!(false));
    assert_eq!(visit["required"], json!(["inspector"]));
    server.stop().await;
    db.finish().await;
}
