//! The page in a real browser: Debian's chromium, driven by playwright-core
//! (`tests/browser/run.mjs`), against the real server on the Guali demo in a SQLite file.
//! The script checks each view (no console error, no request leaving the server), the
//! wall's figures against `/api/stats` and its map's rendered features and labels, a
//! village clicked on the leadership map, a past day by the date slider, the grid
//! worker's list against the API, a colour change arriving on the open wall, the wall
//! riding out a real server restart (banner, then back by itself, live again), and a
//! script in a unit's name shown as text. Screenshots go to `tests/artifacts/` (wall and
//! leadership view at 1920×1080, the grid worker's view at 390×844).
//! `scripts/setup-tools` installs chromium, a Chinese font and the npm packages.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::TestDb;
use onemap::demo::DEFAULT_SEED;
use onemap::store::AnyStore;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

/// A server that can be stopped and started again on the same address.
struct Running {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn serve(store: &AnyStore, addr: SocketAddr) -> Running {
    let state = onemap::load_state(store).await.expect("load state");
    // The old socket may linger a moment after a stop.
    let mut tries = 0;
    let listener = loop {
        match TcpListener::bind(addr).await {
            Ok(l) => break l,
            Err(e) if tries < 50 => {
                tries += 1;
                eprintln!("rebinding {addr}: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("bind {addr}: {e}"),
        }
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(onemap::run(listener, state, async {
        let _ = stopped.await;
    }));
    Running { stop, task }
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("server task").expect("server ran");
    }
}

/// An admin, as `onemap user add` makes one: their password.
async fn admin(store: &AnyStore, name: &str) -> String {
    let (_, secret) = onemap::auth::admin::add_user(
        store,
        name,
        onemap::auth::Role::Admin,
        &[],
        false,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let onemap::auth::admin::Secret::Password(password) = secret else {
        panic!("an admin gets a password");
    };
    password
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_works_in_chromium() {
    let db = TestDb::sqlite().await;
    onemap::seed_demo(&db.store, DEFAULT_SEED).await.unwrap();
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    // An admin, as `onemap user add` makes one; the script makes the other users
    // through the API.
    let password = admin(&db.store, "browser-admin").await;
    let mut server = Some(serve(&db.store, addr).await);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut node = Command::new("node")
        .arg("run.mjs")
        .arg(format!("http://{addr}"))
        .arg(root.join("tests/artifacts"))
        .arg("browser-admin")
        .arg(&password)
        .current_dir(root.join("tests/browser"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node (scripts/setup-tools installs what the browser tests need)");
    let mut stdin = node.stdin.take().unwrap();
    let stdout = node.stdout.take().unwrap();
    let stderr = node.stderr.take().unwrap();
    // The script's lines; `@@restart` asks for a real server restart.
    let (tx, mut lines) = mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let errors = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let mut out = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(400);
    while let Ok(Some(line)) = tokio::time::timeout_at(deadline, lines.recv()).await {
        println!("{line}");
        if line == "@@restart" {
            server.take().unwrap().stop().await;
            // Down long enough for the page to notice and say so.
            tokio::time::sleep(Duration::from_secs(3)).await;
            server = Some(serve(&db.store, addr).await);
            writeln!(stdin, "restarted").unwrap();
            stdin.flush().unwrap();
        }
        out.push_str(&line);
        out.push('\n');
    }
    let status = tokio::task::spawn_blocking(move || {
        // Still running at the deadline: stop it (it is our own child).
        if node.try_wait().ok().flatten().is_none() {
            let _ = node.kill();
        }
        node.wait()
    })
    .await
    .unwrap()
    .unwrap();
    let stderr = errors.join().unwrap_or_default();
    assert!(
        status.success(),
        "browser tests failed ({status}):\n{out}\n{stderr}"
    );
    assert!(out.contains("checks passed"), "{out}\n{stderr}");
    if let Some(s) = server {
        s.stop().await;
    }
    db.finish().await;
}

/// The page on a province: `onemap gen --scale province` (small) into PostGIS, the
/// server on it, and `tests/browser/province.mjs` driving the wall and the leadership
/// view (titles, county rankings, labels placed without collisions, figures inside
/// their boxes, province → county → town → village by the map).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_province_page_works_in_chromium() {
    let db = TestDb::postgis().await;
    let out = Command::new(env!("CARGO_BIN_EXE_onemap"))
        .args([
            "gen", "--scale", "province", "--units", "30000", "--db", &db.url,
        ])
        .output()
        .expect("run onemap gen");
    assert!(
        out.status.success(),
        "gen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let password = admin(&db.store, "province-admin").await;
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let server = serve(&db.store, addr).await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("province.mjs")
            .arg(format!("http://{addr}"))
            .arg(root.join("tests/artifacts"))
            .arg("province-admin")
            .arg(&password)
            .current_dir(root.join("tests/browser"))
            .output()
            .expect("node (scripts/setup-tools installs what the browser tests need)")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "province browser tests failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("province checks passed"),
        "{stdout}\n{stderr}"
    );
    server.stop().await;
    db.finish().await;
}
