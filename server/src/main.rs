//! The `onemap` binary: parse the command line, open the store, serve.

use anyhow::Context;
use clap::Parser;
use onemap::config::{Cli, Command, ServerArgs};
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
            let store = open(&args.server).await?;
            let started = std::time::Instant::now();
            if onemap::seed_demo(&store, args.seed).await? {
                tracing::info!(elapsed = ?started.elapsed(), "created the Guali demo dataset");
            } else {
                tracing::info!("the store already holds data; serving it as it is");
            }
            serve(&args.server, &store).await
        }
        Command::Serve(args) => {
            if args.server.db.is_none() {
                anyhow::bail!(
                    "`onemap serve` needs --db URL (or ONEMAP_DB); `onemap demo` creates a store"
                );
            }
            let store = open(&args.server).await?;
            serve(&args.server, &store).await
        }
    }
}

async fn open(args: &ServerArgs) -> anyhow::Result<AnyStore> {
    let url = args.db_url();
    if url.starts_with("sqlite:") && args.db.is_none() {
        std::fs::create_dir_all(&args.data_dir)
            .with_context(|| format!("creating data directory {}", args.data_dir.display()))?;
    }
    AnyStore::open(&url)
        .await
        .with_context(|| format!("opening store {}", redact(&url)))
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

async fn serve(args: &ServerArgs, store: &AnyStore) -> anyhow::Result<()> {
    let mut state = onemap::load_state(store).await?;
    if let onemap::config::Notices::Command(program) = &args.notices {
        state.notices = std::sync::Arc::new(onemap::live::outbox::CommandSender {
            program: program.clone(),
        });
    }
    state.basemap = args.basemap_url.clone().into();
    let units = state.map.read().map(|m| m.units.len()).unwrap_or(0);
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, units, backend = store.backend(), "serving");
    println!(
        "onemap is serving {units} units from {} at http://{addr}/  (try http://{addr}/api/stats)",
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
