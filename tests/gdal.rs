//! The map as GIS software reads it, checked with GDAL's own command-line tools
//! (Debian's `gdal-bin`): the OGC API – Features service through GDAL's OAPIF driver,
//! and vector tiles through its MVT driver, with counts compared to our numbers and to
//! an independent decoder (mvt-reader).
//!
//! `ogrinfo` must be on PATH: without it these tests fail (CI installs `gdal-bin`);
//! they do not skip, so a missing tool can never pass for a working service.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use common::{Server, TestDb};
use mvt_reader::Reader;
use onemap::demo::DEFAULT_SEED;
use onemap_tiles::{BUFFER, EXTENT, LonLat, TileCoord};
use serde_json::Value;

/// The zoom of the tiles checked: points, not clusters, from zoom 14.
const Z: u8 = 15;
/// The most points a units layer holds before it clusters.
const MAX_POINTS: u64 = 4096;

/// Runs `ogrinfo` with `args` (off the async threads: the server shares the runtime)
/// and returns its standard output; panics with a clear message when GDAL is missing
/// or the command fails.
async fn ogrinfo(args: Vec<String>) -> String {
    let shown = args.join(" ");
    // GDAL sends the token with every request it makes to our server.
    let headers = TOKEN
        .get()
        .map(|t| format!("Authorization: Bearer {t}"))
        .unwrap_or_default();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("ogrinfo")
            .env("GDAL_HTTP_HEADERS", headers)
            .args(&args)
            .output()
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| {
        panic!(
            "cannot run `ogrinfo` ({e}): GDAL's command-line tools are required for this \
                 test; install them with `apt-get install -y gdal-bin`"
        )
    });
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "ogrinfo {shown} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    stdout
}

/// `Layer name` → `Feature Count` from `ogrinfo -so` output.
fn feature_counts(report: &str) -> HashMap<String, u64> {
    let mut counts = HashMap::new();
    let mut layer = None;
    for line in report.lines() {
        if let Some(name) = line.strip_prefix("Layer name: ") {
            layer = Some(name.trim().to_owned());
        } else if let Some(n) = line.strip_prefix("Feature Count: ") {
            let name = layer.take().expect("a count follows a layer name");
            counts.insert(name, n.trim().parse().expect("a count"));
        }
    }
    counts
}

/// The command post's token on the server under test.
static TOKEN: std::sync::OnceLock<String> = std::sync::OnceLock::new();

async fn get_json(url: &str) -> Value {
    let token = TOKEN.get().expect("signed in");
    let resp = common::client_with(token).get(url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{url}");
    resp.json().await.unwrap()
}

/// Our `numberMatched` for a collection and a bbox `[w, s, e, n]`.
async fn number_matched(server: &Server, collection: &str, b: [f64; 4]) -> u64 {
    let url = server.url(&format!(
        "/ogc/collections/{collection}/items?limit=1&bbox={},{},{},{}",
        b[0], b[1], b[2], b[3]
    ));
    get_json(&url).await["numberMatched"].as_u64().unwrap()
}

/// A tile's bounds widened by its buffer (64/4096 of its width each side).
fn buffered(coord: TileCoord) -> [f64; 4] {
    let [w, s, e, n] = coord.bounds();
    let f = f64::from(BUFFER) / f64::from(EXTENT);
    let (dx, dy) = ((e - w) * f, (n - s) * f);
    [w - dx, s - dy, e + dx, n + dy]
}

/// Fetches a tile uncompressed and stores it as `{dir}/{z}/{x}/{y}.pbf`, the layout
/// from which GDAL's MVT driver georeferences a lone tile.
async fn save_tile(
    server: &Server,
    layers: &str,
    coord: TileCoord,
    dir: &Path,
) -> (Vec<u8>, String) {
    let resp = server
        .client()
        .get(server.url(&format!("/tiles/{layers}/{coord}.mvt")))
        .header("Accept-Encoding", "identity")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "tile {layers}/{coord}");
    assert!(resp.headers().get("content-encoding").is_none());
    let bytes = resp.bytes().await.unwrap().to_vec();
    let folder = dir
        .join(layers.replace(',', "+"))
        .join(coord.z().to_string())
        .join(coord.x().to_string());
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join(format!("{}.pbf", coord.y()));
    std::fs::write(&path, &bytes).unwrap();
    (bytes, path.display().to_string())
}

/// Feature counts per layer as mvt-reader decodes them.
fn decoded_counts(bytes: Vec<u8>) -> HashMap<String, u64> {
    let reader = Reader::new(bytes).unwrap();
    reader
        .get_layer_names()
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(i, name)| (name, reader.get_features(i).unwrap().len() as u64))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_reads_the_ogc_service_and_the_tiles() {
    // Fail early and clearly when GDAL is missing.
    let version = ogrinfo(vec!["--version".into()]).await;
    assert!(version.starts_with("GDAL"), "{version}");

    let db = TestDb::sqlite().await;
    onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap();
    let server = Server::start(&db.store).await;
    let _ = TOKEN.set(server.token(onemap::auth::Role::Command).to_owned());
    let source = format!("OAPIF:{}", server.url("/ogc"));

    // The five collections as layers, with their geometry types.
    let listing = ogrinfo(vec!["-ro".into(), "-so".into(), source.clone()]).await;
    for (layer, geometry) in [
        ("units", "Point"),
        ("villages", "Multi Polygon"),
        ("grids", "Multi Polygon"),
        ("micro_grids", "Multi Polygon"),
        ("hexes", "Polygon"),
    ] {
        assert!(
            listing.lines().any(|l| l.contains(&format!(": {layer} ")) && l.contains(&format!("({geometry})"))),
            "GDAL does not list `{layer}` as {geometry}:\n{listing}"
        );
    }

    // Whole layers: GDAL's count is our numberMatched.
    let all = ogrinfo(vec![
        "-ro".into(),
        "-so".into(),
        "-al".into(),
        source.clone(),
    ])
    .await;
    let counts = feature_counts(&all);
    assert_eq!(counts.get("units"), Some(&25_553), "{all}");
    assert_eq!(counts.get("villages"), Some(&74));
    assert_eq!(counts.get("micro_grids"), Some(&2283));

    // A spatial filter: GDAL pages through every feature in the box (following our
    // `next` links and testing each geometry itself) and must find what we count.
    let stats = get_json(&server.url("/ogc/collections/units")).await;
    let e = &stats["extent"]["spatial"]["bbox"][0];
    let (cx, cy) = (
        (e[0].as_f64().unwrap() + e[2].as_f64().unwrap()) / 2.0,
        (e[1].as_f64().unwrap() + e[3].as_f64().unwrap()) / 2.0,
    );
    let b = [cx - 0.012, cy - 0.01, cx + 0.012, cy + 0.01];
    for layer in ["units", "villages", "micro_grids"] {
        let ours = number_matched(&server, layer, b).await;
        assert!(ours > 0, "{layer} in {b:?}");
        let mut args: Vec<String> = ["-ro", "-so", "-oo", "PAGE_SIZE=1000"]
            .into_iter()
            .map(String::from)
            .collect();
        args.extend([source.clone(), layer.into(), "-spat".into()]);
        args.extend(b.iter().map(|v| v.to_string()));
        let report = ogrinfo(args).await;
        eprintln!("{layer} in {b:?}: numberMatched {ours}");
        assert_eq!(
            feature_counts(&report).get(layer),
            Some(&ours),
            "GDAL counts {layer} in {b:?} differently:\n{report}"
        );
    }

    // Vector tiles: the densest z15 tile near the town centre that still holds points.
    let centre = TileCoord::containing(LonLat { lon: cx, lat: cy }, Z).unwrap();
    let mut best: Option<(u64, TileCoord)> = None;
    for dx in -2i64..=2 {
        for dy in -2i64..=2 {
            let x = u32::try_from(i64::from(centre.x()) + dx).unwrap();
            let y = u32::try_from(i64::from(centre.y()) + dy).unwrap();
            let coord = TileCoord::new(Z, x, y).unwrap();
            let n = number_matched(&server, "units", buffered(coord)).await;
            if n <= MAX_POINTS && best.is_none_or(|(m, _)| n > m) {
                best = Some((n, coord));
            }
        }
    }
    let (expected_units, coord) = best.unwrap();
    assert!(
        expected_units > 100,
        "the town centre's tiles are dense: {expected_units} at {coord}"
    );

    let dir = std::env::temp_dir().join(format!("onemap_gdal_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (layers, names) in [
        ("units", &["units"][..]),
        ("regions", &["regions"][..]),
        ("hexes", &["hexes"][..]),
        ("units,regions,hexes", &["units", "regions", "hexes"][..]),
    ] {
        let (bytes, path) = save_tile(&server, layers, coord, &dir).await;
        let decoded = decoded_counts(bytes.clone());
        // CLIP=NO: keep the points and shapes of the buffer, as the decoder does.
        let report = ogrinfo(vec![
            "-ro".into(),
            "-so".into(),
            "-al".into(),
            "-oo".into(),
            "CLIP=NO".into(),
            path.clone(),
        ])
        .await;
        let gdal = feature_counts(&report);
        eprintln!("tile {layers}/{coord}: mvt-reader {decoded:?}, GDAL {gdal:?}");
        for &name in names {
            let n = decoded.get(name).copied().unwrap_or(0);
            assert!(n > 0, "layer {name} of {coord} is empty");
            assert_eq!(
                gdal.get(name),
                Some(&n),
                "GDAL and mvt-reader disagree on {name} of {path}:\n{report}"
            );
        }
        if names.contains(&"units") {
            assert_eq!(
                decoded.get("units"),
                Some(&expected_units),
                "the tile {coord} holds every unit of its buffered bounds, one point each"
            );
            // Points, not clusters: every feature carries a unit id.
            let reader = Reader::new(bytes).unwrap();
            let i = reader
                .get_layer_names()
                .unwrap()
                .iter()
                .position(|l| l == "units")
                .unwrap();
            assert!(reader.get_features(i).unwrap().iter().all(|f| {
                f.properties
                    .as_ref()
                    .is_some_and(|p| p.contains_key("id") && !p.contains_key("count"))
            }));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    server.stop().await;
    db.finish().await;
}
