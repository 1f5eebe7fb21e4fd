//! Command line and environment: one place for every setting, with defaults that run
//! the demo on a fresh machine.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// onemap: the one-map server for a safety command post.
#[derive(Debug, Parser)]
#[command(name = "onemap", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the Guali demo dataset if the store is empty, then serve it.
    Demo(DemoArgs),
    /// Serve an existing store.
    Serve(ServeArgs),
}

/// Where to listen and which store to use.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Address to listen on.
    #[arg(long, env = "ONEMAP_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Store URL: `sqlite://PATH` (embedded) or `postgres://USER@HOST/DB` (PostGIS).
    /// Default for the demo: a SQLite file in the data directory.
    #[arg(long, env = "ONEMAP_DB")]
    pub db: Option<String>,
    /// Directory for the default SQLite file and other local data.
    #[arg(long, env = "ONEMAP_DATA_DIR", default_value = "onemap-data")]
    pub data_dir: PathBuf,
    /// Where notices to owners go (hazard found, yellow card): `log` writes them to the
    /// log; `command:PATH` runs PATH once per notice with the notice as one JSON line on
    /// its standard input (an SMS gateway's client, say; a non-zero exit is retried).
    #[arg(long, env = "ONEMAP_NOTICES", default_value = "log", value_parser = parse_notices)]
    pub notices: Notices,
    /// An optional raster basemap under our layers: XYZ tile URL templates with `{z}`,
    /// `{x}` and `{y}` (e.g. Tianditu's Web-Mercator `vec_w` tiles with its `tk` key),
    /// several separated by spaces. Off by default: the page then needs nothing but
    /// this server. The templates' origins are let through the page's security policy.
    #[arg(long = "basemap-url", env = "ONEMAP_BASEMAP_URL", value_delimiter = ' ',
          value_parser = crate::http::web::basemap_template)]
    pub basemap_url: Vec<String>,
}

/// Where notices go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notices {
    /// To the log.
    Log,
    /// To a program.
    Command(PathBuf),
}

fn parse_notices(s: &str) -> Result<Notices, String> {
    match s.split_once(':') {
        None if s == "log" => Ok(Notices::Log),
        Some(("command", path)) if !path.is_empty() => Ok(Notices::Command(path.into())),
        _ => Err("`log` or `command:PATH`".into()),
    }
}

impl ServerArgs {
    /// The store URL: `--db`, or the SQLite file in the data directory.
    pub fn db_url(&self) -> String {
        self.db.clone().unwrap_or_else(|| {
            format!("sqlite://{}", self.data_dir.join("onemap.sqlite").display())
        })
    }
}

/// `onemap demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Listen address and store.
    #[command(flatten)]
    pub server: ServerArgs,
    /// Seed of the demo generator; the same seed always gives the same data.
    #[arg(long, default_value_t = crate::demo::DEFAULT_SEED)]
    pub seed: u64,
}

/// `onemap serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen address and store.
    #[command(flatten)]
    pub server: ServerArgs,
}
