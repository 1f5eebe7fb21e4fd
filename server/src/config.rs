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
    /// Start a town's own empty store (its places and register then imported).
    Init(InitArgs),
    /// Generate a synthetic dataset into an empty PostGIS store by bulk load (COPY).
    Gen(GenArgs),
    /// Users: add, list, revoke their tokens, reset a password.
    #[command(subcommand)]
    User(UserCommand),
    /// Import a town's data into a store.
    #[command(subcommand)]
    Import(ImportCommand),
}

/// `onemap import …`.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// The register of units: CSV (UTF-8 or GB18030), XLSX or GeoJSON points, all or
    /// nothing; every wrong line is printed and nothing is written.
    Units(ImportUnits),
    /// Places of one level with their boundaries: GeoJSON or a Shapefile (other formats
    /// through `ogr2ogr -f GeoJSON`), checked whole; nothing is written if any is wrong.
    Regions(ImportRegions),
    /// The apps' records: visits, hazards, yellow cards, closures (CSV or XLSX), all or
    /// nothing; every wrong line is printed and nothing is written.
    Records(ImportRecords),
}

/// `onemap import records`.
#[derive(Debug, Args)]
pub struct ImportRecords {
    /// The file (`.csv`, `.xlsx`).
    pub file: PathBuf,
    /// How the import is run: a dry run or not, by whom, into which store.
    #[command(flatten)]
    pub run: ImportRun,
}

/// `onemap init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The town's name, as titles show it (e.g. 瓜沥镇).
    #[arg(long)]
    pub town_name: String,
    /// The town's id: its official code where it has one (e.g. 330109113).
    #[arg(long, default_value = "town")]
    pub town_id: String,
    /// The town's official statistical code, if other than its id.
    #[arg(long)]
    pub town_code: Option<String>,
    /// The town's time zone, a UTC offset (`+08:00`, `UTC+8`): the calendar its days —
    /// `at=` dates, deadlines' days, briefings, the page's clocks — are counted in.
    #[arg(long, default_value = "+08:00")]
    pub time_zone: crate::domain::time::Zone,
    /// The store (created if missing; it must be empty).
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `onemap import regions`.
#[derive(Debug, Args)]
pub struct ImportRegions {
    /// The file: `.geojson`/`.json`, `.shp` (with its `.dbf` beside it), or a `.zip` of
    /// a Shapefile's parts.
    pub file: PathBuf,
    /// The level the file's places are: town, area, group, village, grid, micro_grid.
    #[arg(long)]
    pub level: String,
    /// The coordinates' system: wgs84, gcj02 (AMap) or bd09 (Baidu).
    #[arg(long, default_value = "wgs84")]
    pub crs: crate::domain::Crs,
    /// The attribute holding each id (default: id, 编号, code, 代码).
    #[arg(long)]
    pub id_field: Option<String>,
    /// The attribute holding each name (default: name, 名称).
    #[arg(long)]
    pub name_field: Option<String>,
    /// The attribute holding each parent's id (default: parent, parent_id, 上级; none:
    /// the place above that holds it).
    #[arg(long)]
    pub parent_field: Option<String>,
    /// The share of a place's area that may lie outside its parent or over a sibling.
    #[arg(long, default_value_t = 0.01)]
    pub tolerance: f64,
    /// How the import is run: a dry run or not, by whom, into which store.
    #[command(flatten)]
    pub run: ImportRun,
}

/// What every import takes: whether to write, who writes, where.
#[derive(Debug, Args)]
pub struct ImportRun {
    /// Check the file and say what would happen; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Who the log records as importing.
    #[arg(long, default_value = "import")]
    pub by: String,
    /// The store.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `onemap import units`.
#[derive(Debug, Args)]
pub struct ImportUnits {
    /// The file (`.csv`, `.xlsx`, `.geojson`; else told by its content).
    pub file: PathBuf,
    /// The positions' coordinate system: wgs84, gcj02 (AMap) or bd09 (Baidu).
    #[arg(long, default_value = "wgs84")]
    pub crs: crate::domain::Crs,
    /// How the import is run: a dry run or not, by whom, into which store.
    #[command(flatten)]
    pub run: ImportRun,
}

/// `onemap user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user and print their first password (or, with --wall, a wall token).
    Add(UserAdd),
    /// List users, their roles, scopes and live tokens.
    List(StoreArgs),
    /// Revoke every token of a user (a lost phone, a wall screen taken down).
    Revoke(UserName),
    /// Give a user a new random password (printed) and end their sessions.
    Passwd(UserName),
}

/// `onemap user add`.
#[derive(Debug, Args)]
pub struct UserAdd {
    /// The store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Sign-in name.
    #[arg(long)]
    pub name: String,
    /// command, leader, inspector, grid_worker or admin.
    #[arg(long)]
    pub role: crate::auth::Role,
    /// Region ids the user works in (each covers its subtree); none: the whole town.
    #[arg(long, num_args = 1..)]
    pub scope: Vec<crate::domain::RegionId>,
    /// A wall screen: role command, a long-lived read-only token instead of a password.
    #[arg(long)]
    pub wall: bool,
}

/// A user named on the command line.
#[derive(Debug, Args)]
pub struct UserName {
    /// The store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Sign-in name.
    #[arg(long)]
    pub name: String,
}

/// Which store.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Store URL: `sqlite://PATH` (embedded) or `postgres://USER@HOST/DB` (PostGIS).
    /// Default for the demo: a SQLite file in the data directory.
    #[arg(long, env = "ONEMAP_DB")]
    pub db: Option<String>,
    /// Directory for the default SQLite file and other local data.
    #[arg(long, env = "ONEMAP_DATA_DIR", default_value = "onemap-data")]
    pub data_dir: PathBuf,
}

impl StoreArgs {
    /// The store URL: `--db`, or the SQLite file in the data directory.
    pub fn db_url(&self) -> String {
        self.db.clone().unwrap_or_else(|| {
            format!("sqlite://{}", self.data_dir.join("onemap.sqlite").display())
        })
    }
}

/// Where to listen and which store to use.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Address to listen on.
    #[arg(long, env = "ONEMAP_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Where notices to owners go (hazard found, yellow card): `log` writes them to the
    /// log; `command:PATH` runs PATH once per notice with the notice as one JSON line on
    /// its standard input (an SMS gateway's client, say; a non-zero exit is retried).
    #[arg(long, env = "ONEMAP_NOTICES", default_value = "log", value_parser = parse_notices)]
    pub notices: Notices,
    /// Each group's channel for the daily briefing: a file with a line per group,
    /// `GROUP_ID,SINK`, the sink a program (`command:/PATH`, given the message as one JSON
    /// line on its standard input) or a webhook URL (a WeCom or DingTalk group robot's:
    /// POSTed `{"msgtype": "text", "text": {"content": …}}`). Without it, briefings are
    /// printed and downloaded but not sent.
    #[arg(long = "briefing-channels", env = "ONEMAP_BRIEFING_CHANNELS")]
    pub briefing_channels: Option<std::path::PathBuf>,
    /// An optional raster basemap under our layers: XYZ tile URL templates with `{z}`,
    /// `{x}` and `{y}` (e.g. Tianditu's Web-Mercator `vec_w` tiles with its `tk` key),
    /// several separated by spaces. Off by default: the page then needs nothing but
    /// this server. The templates' origins are let through the page's security policy.
    #[arg(long = "basemap-url", env = "ONEMAP_BASEMAP_URL", value_delimiter = ' ',
          value_parser = crate::http::web::basemap_template)]
    pub basemap_url: Vec<String>,
    /// Origins (`https://host[:port]`) whose pages may call the API from a browser with
    /// a Bearer token (CORS). None by default: only our own page.
    #[arg(long = "cors-origin", env = "ONEMAP_CORS_ORIGINS", value_delimiter = ' ',
          value_parser = parse_origin)]
    pub cors_origin: Vec<String>,
}

fn parse_origin(s: &str) -> Result<String, String> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or("an origin is http(s)://host[:port]")?;
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
        return Err("an origin is http(s)://host[:port], no path".into());
    }
    Ok(s.to_owned())
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

/// How big a synthetic dataset `onemap gen` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// Zhejiang: about ten million units over 118–123° E, 27–31.2° N.
    Province,
}

/// `onemap gen`.
#[derive(Debug, Args)]
pub struct GenArgs {
    /// What to generate.
    #[arg(long, value_enum, default_value_t = Scale::Province)]
    pub scale: Scale,
    /// How many units (default: the province's ten million).
    #[arg(long, default_value_t = crate::demo::province::DEFAULT_UNITS)]
    pub units: u64,
    /// Seed; the same seed and count always give the same places and units.
    #[arg(long, default_value_t = crate::demo::province::DEFAULT_SEED)]
    pub seed: u64,
    /// The PostGIS store to fill (`postgres://…`; must hold no data yet).
    #[arg(long, env = "ONEMAP_DB")]
    pub db: String,
}

/// `onemap serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen address and store.
    #[command(flatten)]
    pub server: ServerArgs,
}
