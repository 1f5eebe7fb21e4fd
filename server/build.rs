//! Makes sure the web page's third-party assets are there before the server embeds them:
//! MapLibre GL JS from npm, pinned in `web/package-lock.json`. On a fresh clone (or after
//! the lock file changed) this runs `npm ci` in `web/` (the npm registry must be reachable
//! then; nothing is fetched at run time).

use std::path::Path;
use std::process::Command;

fn modified(p: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

fn main() {
    println!("cargo:rerun-if-changed=../web/package-lock.json");
    println!("cargo:rerun-if-changed=../web/static");
    // `sqlx::migrate!` embeds the migrations: rebuild when they change.
    println!("cargo:rerun-if-changed=migrations");
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let web = Path::new(&manifest).join("../web");
    let js = web.join("node_modules/maplibre-gl/dist/maplibre-gl.js");
    // npm records what it installed in node_modules/.package-lock.json.
    let installed = modified(&web.join("node_modules/.package-lock.json"));
    let wanted = modified(&web.join("package-lock.json"));
    if js.exists() && installed.is_some() && installed >= wanted {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&web)
        .status();
    match status {
        Ok(s) if s.success() && js.exists() => {}
        Ok(s) => panic!("`npm ci` in web/ failed ({s}): the page needs MapLibre GL JS from npm"),
        Err(e) => panic!("cannot run npm ({e}): install Node.js and npm to build the web page"),
    }
}
