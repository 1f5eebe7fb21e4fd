//! The `onemap` binary: parse the command line, open the store, serve.

use std::io::Write;

use anyhow::Context;
use clap::Parser;
use onemap::auth::admin::{AddUserError, Secret, add_user, reset_password};
use onemap::config::{Cli, Command, ServerArgs, StoreArgs, UserCommand};
use onemap::store::AnyStore;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Demo(args) => {
            // The demo users' file goes there whatever the store (PostGIS included).
            let data_dir = &args.server.store.data_dir;
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("creating {}", data_dir.display()))?;
            let store = open(&args.server.store).await?;
            let started = std::time::Instant::now();
            let users_file = data_dir.join(DEMO_USERS);
            if onemap::seed_demo(&store, args.seed).await? {
                tracing::info!(elapsed = ?started.elapsed(), "created the Guali demo dataset");
                let text = demo_users(&store).await?;
                write_private(&users_file, &text)?;
            } else {
                tracing::info!("the store already holds data; serving it as it is");
            }
            let hint = match std::fs::read_to_string(&users_file) {
                Ok(text) => format!(
                    "Sign in with one of the demo users (also in {}):\n{text}",
                    users_file.display()
                ),
                Err(_) => "Sign in with a user of this store; `onemap user add` creates one, \
                           `onemap user passwd --name N` resets a password."
                    .to_owned(),
            };
            serve(&args.server, &store, &hint).await
        }
        Command::User(cmd) => user(cmd).await,
        Command::Import(onemap::config::ImportCommand::Units(args)) => import_units(args).await,
        Command::Import(onemap::config::ImportCommand::Regions(args)) => import_regions(args).await,
        Command::Import(onemap::config::ImportCommand::Records(args)) => import_records(args).await,
        Command::Init(args) => init(args).await,
        Command::Gen(args) => generate(args).await,
        Command::Serve(args) => {
            if args.server.store.db.is_none() {
                anyhow::bail!(
                    "`onemap serve` needs --db URL (or ONEMAP_DB); `onemap demo` creates a store"
                );
            }
            let store = open(&args.server.store).await?;
            serve(
                &args.server,
                &store,
                "Sign in with a user of this store (`onemap user add` creates one).",
            )
            .await
        }
    }
}

/// `onemap import units`: the file checked against the store's map and written in one
/// transaction, or every wrong line printed and exit 1.
async fn import_units(args: onemap::config::ImportUnits) -> anyhow::Result<()> {
    use onemap::app::import::{Format, ImportError, ImportReport, table};
    let data =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let store = open(&args.run.store).await?;
    let app = onemap::load_state(&store).await?;
    let source = source_name(&args.file);
    let bad = |lines: Vec<onemap::app::import::LineError>| -> anyhow::Result<()> {
        refuse_lines(&args.file, &lines)
    };
    let table = match table::read(&data, Format::of_path(&args.file, &data)) {
        Ok(t) => t,
        Err(e) => return bad(vec![e]),
    };
    let (import, ignored) = match app.plan_import(&table, args.crs, &source).await {
        Ok(p) => p,
        Err(ImportError::Lines(lines)) => return bad(lines),
        Err(ImportError::Write(e)) => return Err(e.into()),
        Err(e @ ImportError::Failed(_)) => return Err(e.into()),
    };
    let mut report = ImportReport::of(&import, table.rows.len(), ignored);
    report.dry_run = args.run.dry_run;
    let started = std::time::Instant::now();
    if !args.run.dry_run && !import.units.is_empty() {
        let w = app
            .write(onemap::domain::Change::Import(import), &args.run.by)
            .await?;
        report.seq = Some(w.answer.seq);
    }
    println!(
        "{}{} rows: {} new, {} updated, {} unchanged{}{}",
        dry_run_note(args.run.dry_run),
        report.rows,
        report.new,
        report.updated,
        report.unchanged,
        left_out(&report.ignored_columns),
        if args.run.dry_run {
            String::new()
        } else {
            format!(" (written in {:.1?})", started.elapsed())
        },
    );
    Ok(())
}

/// A file's name as the log records an import's source.
fn source_name(file: &std::path::Path) -> String {
    file.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// What an import's summary starts with on a dry run.
fn dry_run_note(dry_run: bool) -> &'static str {
    if dry_run {
        "dry run, nothing written: "
    } else {
        ""
    }
}

/// The columns an import left out, as its summary says them.
fn left_out(columns: &[String]) -> String {
    if columns.is_empty() {
        String::new()
    } else {
        format!("; columns left out: {}", columns.join(", "))
    }
}

/// Prints every wrong line of `file` and exits 1: nothing was written.
fn refuse_lines(file: &std::path::Path, lines: &[onemap::app::import::LineError]) -> ! {
    let mut err = std::io::stderr().lock();
    for l in lines {
        let _ = writeln!(err, "{}: {l}", file.display());
    }
    let _ = writeln!(
        err,
        "{} line(s) are wrong; nothing was written",
        lines.len()
    );
    std::process::exit(1);
}

/// `onemap import records`: the apps' records checked against the store's map and
/// written in one transaction, or every wrong line printed and exit 1.
async fn import_records(args: onemap::config::ImportRecords) -> anyhow::Result<()> {
    use onemap::app::import::records::RecordReport;
    use onemap::app::import::{Format, ImportError, table};
    let data =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let table = table::read(&data, Format::of_path(&args.file, &data))
        .unwrap_or_else(|e| refuse_lines(&args.file, &[e]));
    let store = open(&args.run.store).await?;
    let app = onemap::load_state(&store).await?;
    let source = source_name(&args.file);
    let (import, ignored) = match app.plan_records(&table, &source).await {
        Ok(p) => p,
        Err(ImportError::Lines(lines)) => refuse_lines(&args.file, &lines),
        Err(e) => return Err(e.into()),
    };
    let mut report = RecordReport::of(&import, table.rows.len(), ignored);
    report.dry_run = args.run.dry_run;
    if !args.run.dry_run && !import.visits.is_empty() {
        let w = app
            .write(onemap::domain::Change::Records(import), &args.run.by)
            .await?;
        report.seq = Some(w.answer.seq);
    }
    println!(
        "{}{} rows: {} visits, {} hazards written; {} visits recorded already{}",
        dry_run_note(report.dry_run),
        report.rows,
        report.visits,
        report.hazards,
        report.unchanged,
        left_out(&report.ignored_columns),
    );
    Ok(())
}

/// `onemap init`: a town's own store, empty but for the town.
async fn init(args: onemap::config::InitArgs) -> anyhow::Result<()> {
    let id: onemap::domain::RegionId = args
        .town_id
        .parse()
        .map_err(|e| anyhow::anyhow!("--town-id: {e}"))?;
    let name = args.town_name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        anyhow::bail!("--town-name: 1 to 100 characters");
    }
    let store = open(&args.store).await?;
    if !onemap::init_town(&store, id.clone(), name, args.town_code, args.time_zone).await? {
        anyhow::bail!(
            "the store {} already holds data: `onemap init` only starts an empty one",
            redact(&args.store.db_url())
        );
    }
    println!(
        "created the town `{id}` ({name}, time zone {}) in {}; next: `onemap import regions FILE \
         --level village` (then grid, micro_grid), `onemap import units FILE`, `onemap user add`, \
         `onemap serve`",
        args.time_zone,
        redact(&args.store.db_url())
    );
    Ok(())
}

/// `onemap import regions`: the places of one level checked whole against the store's
/// map and written in one transaction, or every wrong feature printed and exit 1. An
/// empty store takes a town file's one town as its root first.
async fn import_regions(args: onemap::config::ImportRegions) -> anyhow::Result<()> {
    use onemap::app::import::regions::{RegionOptions, RegionReport, level_of};
    use onemap::app::import::{ImportError, features};
    let level = level_of(&args.level).map_err(|m| anyhow::anyhow!("--level: {m}"))?;
    let mut options = RegionOptions::new(level);
    options.crs = args.crs;
    options.id_field = args.id_field.clone();
    options.name_field = args.name_field.clone();
    options.parent_field = args.parent_field.clone();
    options.tolerance = args.tolerance;
    options.source = source_name(&args.file);
    let ext = args
        .file
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let read = match ext.as_str() {
        "shp" => features::shapefile(&args.file),
        _ => {
            let data = std::fs::read(&args.file)
                .with_context(|| format!("reading {}", args.file.display()))?;
            if ext == "zip" || data.starts_with(b"PK\x03\x04") {
                features::zipped_shapefile(&data)
            } else {
                features::geojson(&data)
            }
        }
    };
    let features = read.unwrap_or_else(|e| refuse_lines(&args.file, &[e]));
    let store = open(&args.run.store).await?;
    if level == onemap::domain::Level::Town && store.is_empty().await? {
        // The first import of an empty store: its one town becomes the root.
        let [town] = &features[..] else {
            anyhow::bail!("{}: a town file holds one town", args.file.display());
        };
        let pick = |k: &[&str]| {
            k.iter()
                .find_map(|k| town.props.get(*k))
                .map(|s| s.trim().to_owned())
        };
        let id = pick(&["id", "编号", "code", "代码"])
            .context("the town has no `id` attribute")?
            .parse()
            .map_err(|e| anyhow::anyhow!("the town's id: {e}"))?;
        let name = pick(&["name", "名称"]).context("the town has no `name` attribute")?;
        onemap::init_town(&store, id, &name, None, Default::default()).await?;
    }
    let app = onemap::load_state(&store).await?;
    let count = features.len();
    let import = match app.plan_regions(features, options).await {
        Ok(i) => i,
        Err(ImportError::Lines(lines)) => refuse_lines(&args.file, &lines),
        Err(e) => return Err(e.into()),
    };
    let mut report = RegionReport::of(&import, count);
    report.dry_run = args.run.dry_run;
    if !args.run.dry_run && !import.regions.is_empty() {
        let w = app
            .write(onemap::domain::Change::Regions(import), &args.run.by)
            .await?;
        report.seq = Some(w.answer.seq);
    }
    println!(
        "{}{} {} features: {} new, {} updated, {} unchanged; {} units move to another micro-grid",
        dry_run_note(args.run.dry_run),
        report.features,
        report.level,
        report.new,
        report.updated,
        report.unchanged,
        report.units_moved,
    );
    Ok(())
}

/// `onemap gen`: a synthetic province into an empty PostGIS store.
async fn generate(args: onemap::config::GenArgs) -> anyhow::Result<()> {
    use onemap::demo::province::Province;
    if !(args.db.starts_with("postgres://") || args.db.starts_with("postgresql://")) {
        anyhow::bail!(
            "--db: `onemap gen` bulk-loads with PostgreSQL's COPY; give a postgres://… URL \
             (the embedded SQLite store holds the Guali demo: `onemap demo`)"
        );
    }
    if args.units == 0 || args.units > 100_000_000 {
        anyhow::bail!("--units: between 1 and 100,000,000");
    }
    let AnyStore::Postgres(store) = open_url(&args.db).await? else {
        anyhow::bail!("--db: not a PostGIS store");
    };
    let started = std::time::Instant::now();
    let now = chrono::Utc::now();
    let province = std::sync::Arc::new(Province::new(args.units, args.seed, now));
    let regions = province.regions();
    tracing::info!(
        units = province.unit_count(),
        regions = regions.len(),
        "generating a province into PostGIS"
    );
    let counts = store.bulk_load(&regions, province, now).await?;
    println!(
        "generated {} regions, {} units, {} inspections, {} hazards, {} suspensions in {:.0?}",
        counts.regions,
        counts.rows[0],
        counts.rows[1],
        counts.rows[2],
        counts.rows[3],
        started.elapsed()
    );
    Ok(())
}

/// The demo's users and their passwords, next to its SQLite file.
const DEMO_USERS: &str = "demo-users.txt";

/// One user of each role for the demo, scoped to the village and micro-grid of the first
/// unit, and a wall screen's token; returns what to print.
async fn demo_users(store: &AnyStore) -> anyhow::Result<String> {
    use onemap::auth::Role;
    let (micro_grid, village) = store
        .first_unit_places()
        .await?
        .context("the demo has no units")?;
    let now = chrono::Utc::now();
    let mut lines = Vec::new();
    for (name, role, scope, wall) in [
        ("command", Role::Command, vec![], false),
        ("leader", Role::Leader, vec![], false),
        ("inspector", Role::Inspector, vec![village.clone()], false),
        ("grid", Role::GridWorker, vec![micro_grid.clone()], false),
        ("admin", Role::Admin, vec![], false),
        ("wall", Role::Command, vec![], true),
    ] {
        let (user, secret) = add_user(store, name, role, &scope, wall, now).await?;
        let scope = if user.scope.is_empty() {
            "the town".to_owned()
        } else {
            user.scope
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        lines.push(match secret {
            Secret::Password(p) => format!(
                "  {:<10} password {p}   ({}, {scope})",
                user.name,
                role.as_str()
            ),
            Secret::WallToken(t) => format!(
                "  {:<10} open /wall#token={t}   (wall screen, read-only)",
                user.name
            ),
        });
    }
    Ok(lines.join("\n") + "\n")
}

/// Writes a file only its owner may read.
fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// `onemap user …`.
async fn user(cmd: UserCommand) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    match cmd {
        UserCommand::Add(a) => {
            let store = open(&a.store).await?;
            let (user, secret) = add_user(&store, &a.name, a.role, &a.scope, a.wall, now)
                .await
                .map_err(|e| match e {
                    AddUserError::Invalid { field, message } => {
                        anyhow::anyhow!("--{field}: {message}")
                    }
                    e => anyhow::anyhow!(e),
                })?;
            println!("created {} `{}`", user.role.as_str(), user.name);
            match secret {
                Secret::Password(p) => println!("first password: {p}"),
                Secret::WallToken(t) => {
                    println!("wall token (read-only, a year unless revoked): {t}");
                    println!("open the wall at /wall#token={t}");
                }
            }
        }
        UserCommand::List(s) => {
            let store = open(&s).await?;
            for (u, tokens) in store.users(now).await? {
                let wall = tokens
                    .iter()
                    .any(|t| t.kind == onemap::auth::TokenKind::Wall);
                let scope = if u.scope.is_empty() {
                    "town".to_owned()
                } else {
                    u.scope
                        .iter()
                        .map(|r| r.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                };
                println!(
                    "{:<20} {:<12} {:<30} {} live token(s){}",
                    u.name,
                    u.role.as_str(),
                    scope,
                    tokens.len(),
                    if wall { "  [wall screen]" } else { "" }
                );
            }
        }
        UserCommand::Revoke(n) => {
            let store = open(&n.store).await?;
            let user = store
                .user_by_name(&n.name)
                .await?
                .with_context(|| format!("no user `{}`", n.name))?;
            let k = store.revoke_user_tokens(user.id, None, now).await?;
            println!(
                "revoked {k} token(s) of `{}` (a running server drops them within 10 s)",
                user.name
            );
        }
        UserCommand::Passwd(n) => {
            let store = open(&n.store).await?;
            let p = reset_password(&store, &n.name, now)
                .await
                .map_err(|e| anyhow::anyhow!(e))?;
            println!("new password of `{}`: {p}", n.name);
        }
    }
    Ok(())
}

async fn open(args: &StoreArgs) -> anyhow::Result<AnyStore> {
    let url = args.db_url();
    if url.starts_with("sqlite:") && args.db.is_none() {
        std::fs::create_dir_all(&args.data_dir)
            .with_context(|| format!("creating data directory {}", args.data_dir.display()))?;
    }
    open_url(&url).await
}

async fn open_url(url: &str) -> anyhow::Result<AnyStore> {
    AnyStore::open(url)
        .await
        .with_context(|| format!("opening store {}", redact(url)))
}

/// The URL without a password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

async fn serve(args: &ServerArgs, store: &AnyStore, hint: &str) -> anyhow::Result<()> {
    let mut state = onemap::load_state(store).await?;
    if let onemap::config::Notices::Command(program) = &args.notices {
        state.notices = std::sync::Arc::new(onemap::app::outbox::CommandSender {
            program: program.clone(),
        });
    }
    if let Some(path) = &args.briefing_channels {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let channels = onemap::app::briefings::read_channels(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let map = state
            .map
            .read()
            .map_err(|_| anyhow::anyhow!("the map is poisoned"))?;
        for group in channels.keys() {
            let level = map.regions.find(group).map(|i| map.regions.get(i).level);
            if level != Some(onemap::domain::Level::Group) {
                anyhow::bail!("{}: `{group}` is not a group of the map", path.display());
            }
        }
        drop(map);
        tracing::info!(groups = channels.len(), "briefing channels");
        state.channels = std::sync::Arc::new(channels);
    }
    state.basemap = args.basemap_url.clone().into();
    state.cors = args.cors_origin.clone().into();
    let units = state.map.read().map(|m| m.units.len()).unwrap_or(0);
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, units, backend = store.backend(), "serving");
    // One write, whose failure is ignored: a closed stdout (a supervisor that read the
    // first line and went away) must not take the server down.
    let _ = writeln!(
        std::io::stdout().lock(),
        "onemap is serving {units} units from {} at http://{addr}/  (open it in a browser and sign in)\n{hint}",
        store.backend()
    );
    onemap::run(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
