//! Command-line arguments and the pure checks behind them: durations, the loopback-only
//! rule for every address the tool talks to.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::scenario::ScenarioId;

const ABOUT: &str = "Load benchmark for the clientele server: requests/s, latency \
percentiles, errors and the server's peak memory, per scenario.";

const LONG_ABOUT: &str = "Load benchmark for the clientele server.

By default it starts the server itself from the `clientele` binary next to this one \
(build both: `cargo build --release -p clientele -p clientele-bench`), on a fresh SQLite \
file or a fresh PostgreSQL database that is dropped afterwards, sets up a tenant over \
HTTP (sign-up, settings, channels, members), then drives each scenario with its own \
keep-alive HTTP/1.1 connections for a fixed time and reports requests/s, p50/p99/p99.9 \
latency, non-2xx answers and transport errors, the server's peak resident memory, the \
CPU busy on the machine, and what a request cost the server and its database in CPU \
time (µs/req).

Every run also measures the framework ceiling, GET /health on the same server, and \
prints each scenario as a ratio to it: the ratio holds on a noisy machine where \
absolute figures do not. It ends with the run's verdict on each target of the \
project's performance issue (met, missed, or not checked and why: another database, \
fewer than 1,000,000 contacts, a scenario not run). Every run stops by itself, and the \
tool only talks to loopback addresses.";

/// Which database a started server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseKind {
    /// A fresh SQLite file in a temporary folder (under --data-dir).
    Sqlite,
    /// A fresh database on the PostgreSQL server of --postgres-url, dropped afterwards.
    Postgres,
}

impl DatabaseKind {
    /// The kind of a database URL, as the server reads it (`DatabaseUrl::parse`); None
    /// for one it would refuse.
    pub fn of_url(raw: &str) -> Option<DatabaseKind> {
        match clientele_persistence::DatabaseUrl::parse(raw).ok()? {
            clientele_persistence::DatabaseUrl::Sqlite(_) => Some(DatabaseKind::Sqlite),
            clientele_persistence::DatabaseUrl::Postgres(_) => Some(DatabaseKind::Postgres),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DatabaseKind::Sqlite => "sqlite",
            DatabaseKind::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Parser)]
#[command(name = "clientele-bench", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Args {
    /// Scenarios to run, comma-separated; default all. The ceiling (health) always runs
    /// first; login-flood also runs get-contact, its baseline.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "LIST")]
    pub scenarios: Vec<ScenarioId>,

    /// Keep-alive connections per scenario.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub connections: u16,

    /// Measured time per scenario: 10s, 1500ms, 2m, or plain seconds.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,

    /// Unmeasured load before each scenario's measured time: connections open, pools and
    /// caches fill.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub warmup: Duration,

    /// Database of the started server.
    #[arg(long, value_enum, default_value_t = DatabaseKind::Sqlite)]
    pub database: DatabaseKind,

    /// PostgreSQL server (loopback) where a fresh database is created for the run and
    /// dropped afterwards; the database named in the URL is only used to connect.
    #[arg(
        long,
        value_name = "URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub postgres_url: String,

    /// Folder for the SQLite database and the server's log (default: the system's
    /// temporary folder). Put it on the disk you want to measure: fsync cost is in the
    /// write figures.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Keep the database (and the server log) after the run instead of removing them,
    /// with what --reuse needs to run on it again.
    #[arg(long)]
    pub keep_database: bool,

    /// Run on a database an earlier run kept (the folder it printed as `kept DIR`):
    /// no set-up and no seeding, the same tenant, project and contacts, so that builds
    /// (--server-bin) or settings (--server-env) compare on the same data. The database
    /// is kept again; what earlier runs wrote stays in it (created contacts, orders).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["database", "data_dir", "keep_database", "contacts", "url"])]
    pub reuse: Option<PathBuf>,

    /// The `clientele` binary to start (default: the one next to this executable).
    #[arg(long, value_name = "PATH")]
    pub server_bin: Option<PathBuf>,

    /// Extra environment for the started server, e.g. CLIENTELE__DATABASE__POOL_SIZE=16.
    /// Repeatable.
    #[arg(long = "server-env", value_name = "KEY=VALUE", value_parser = parse_env_pair)]
    pub server_env: Vec<(String, String)>,

    /// SQLite: measure the server holding its database alone (`database.exclusive =
    /// true`, see config/default.toml). The contacts are seeded while it shares the
    /// file, as they must be (the seeder is another process); it is then started again
    /// holding the file alone, and its idle memory is read after that start.
    #[arg(long)]
    pub sqlite_exclusive: bool,

    /// Benchmark a server that is already running (http://127.0.0.1:PORT) instead of
    /// starting one. Only loopback addresses are accepted. Sets up its own tenant with
    /// one sign-up (the server limits sign-ups per address per hour).
    #[arg(long, value_name = "URL", conflicts_with_all = ["database", "server_bin", "server_env", "data_dir", "keep_database", "sqlite_exclusive"])]
    pub url: Option<String>,

    /// With --url: the server's process id, so that its memory can be read from /proc.
    /// Without it memory is reported as unknown.
    #[arg(long, value_name = "PID", requires = "url")]
    pub server_pid: Option<u32>,

    /// Contacts seeded into the tenant's project before the load (through the
    /// persistence layer, with tags, addresses and orders); a second project and two
    /// other tenants get a tenth each. The contact scenarios need at least 1,000.
    #[arg(long, default_value_t = 1_000_000, value_name = "N", value_parser = clap::value_parser!(u64).range(0..=20_000_000))]
    pub contacts: u64,

    /// With --url: the running server's database, where the contacts are seeded (the
    /// tool writes to it directly). Without it no contacts are seeded.
    #[arg(long, value_name = "URL", requires = "url")]
    pub database_url: Option<String>,

    /// Connections of login-flood that sign in; the others read contacts.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub flood_connections: u16,

    /// Client threads, each with its own event loop and its share of the connections.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub client_threads: u16,

    /// A request still unanswered after this long counts as a transport error.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub request_timeout: Duration,

    /// Also write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

impl Args {
    /// Cross-argument checks clap cannot express.
    pub fn validate(&self) -> Result<(), String> {
        if self.duration.is_zero() {
            return Err("--duration must be more than zero".into());
        }
        if self.request_timeout.is_zero() {
            return Err("--request-timeout must be more than zero".into());
        }
        let flood_selected =
            self.scenarios.is_empty() || self.scenarios.contains(&ScenarioId::LoginFlood);
        if flood_selected && self.flood_connections >= self.connections {
            return Err(format!(
                "--flood-connections ({}) must be fewer than --connections ({}): login-flood \
                 needs connections left for the reads it measures",
                self.flood_connections, self.connections
            ));
        }
        // A kept database's kind is checked when its folder is read.
        if self.sqlite_exclusive && self.database == DatabaseKind::Postgres {
            return Err("--sqlite-exclusive is a setting of SQLite databases".into());
        }
        if let Some(url) = &self.url {
            parse_base_url(url)?;
        }
        if let Some(db) = &self.database_url {
            check_database_url(db)?;
        }
        let wants_contacts = ScenarioId::resolve(&self.scenarios)
            .iter()
            .any(|s| s.needs_contacts());
        // A reused database's contacts are checked when its file is read.
        if wants_contacts && self.reuse.is_none() && self.seeds_contacts() < MIN_CONTACTS {
            return Err(format!(
                "the contact scenarios need at least {MIN_CONTACTS} seeded contacts: give \
                 --contacts N{}, or choose scenarios without contacts (--scenarios)",
                if self.url.is_some() {
                    " and --database-url"
                } else {
                    ""
                }
            ));
        }
        if self.url.is_none() && self.database == DatabaseKind::Postgres {
            check_postgres_url(&self.postgres_url)?;
        }
        Ok(())
    }
}

/// Fewest contacts the contact scenarios run on (a sample of reads, one contact per
/// writing connection, a deep page).
pub const MIN_CONTACTS: u64 = 1_000;

impl Args {
    /// Contacts this run seeds: none against a running server whose database is unknown.
    pub fn seeds_contacts(&self) -> u64 {
        if self.reuse.is_some() || (self.url.is_some() && self.database_url.is_none()) {
            0
        } else {
            self.contacts
        }
    }
}

/// A database the tool may write to: SQLite, or PostgreSQL on loopback.
fn check_database_url(raw: &str) -> Result<(), String> {
    match clientele_persistence::DatabaseUrl::parse(raw)? {
        clientele_persistence::DatabaseUrl::Sqlite(_) => Ok(()),
        clientele_persistence::DatabaseUrl::Postgres(_) => check_postgres_url(raw),
    }
}

/// `10s`, `1500ms`, `2m`, `1.5s` or plain seconds (`10`).
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let s = raw.trim();
    let (number, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{raw}` is not a duration such as 10s, 1500ms or 2m"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" | "min" => value * 60.0,
        _ => return Err(format!("`{raw}`: unknown unit `{unit}` (use ms, s or m)")),
    };
    // An hour is far beyond any sensible run; the bound also keeps the float finite.
    if !(0.0..=3600.0).contains(&seconds) {
        return Err(format!("`{raw}`: at most one hour"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn parse_env_pair(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{raw}` is not KEY=VALUE")),
    }
}

/// Where the server under test listens: its socket address and the Host header to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    pub addr: SocketAddr,
    pub host: String,
}

/// Parses `http://HOST[:PORT][/]` and refuses anything but a loopback host: the tool
/// generates heavy load and must never be pointed at someone else's machine.
pub fn parse_base_url(raw: &str) -> Result<BaseUrl, String> {
    let rest = if let Some(rest) = raw.strip_prefix("http://") {
        rest
    } else if raw.starts_with("https://") {
        return Err(format!(
            "`{raw}`: https is not supported (the tool only talks plain HTTP to loopback)"
        ));
    } else {
        return Err(format!(
            "`{raw}`: give an http:// URL such as http://127.0.0.1:8080"
        ));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if !path.is_empty() && path != "/" {
        return Err(format!(
            "`{raw}`: give the server's root URL, without a path (routes are fixed)"
        ));
    }
    if authority.contains('@') {
        return Err(format!(
            "`{raw}`: user information in the URL is not supported"
        ));
    }
    let (host, port) = split_host_port(authority).map_err(|e| format!("`{raw}`: {e}"))?;
    let ip = loopback_ip(host).map_err(|e| format!("`{raw}`: {e}"))?;
    let port = port.unwrap_or(80);
    Ok(BaseUrl {
        addr: SocketAddr::new(ip, port),
        host: format!("{}:{port}", host_for_header(ip)),
    })
}

fn host_for_header(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`.
fn split_host_port(authority: &str) -> Result<(&str, Option<u16>), String> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let end = rest.find(']').ok_or("unclosed `[` in the host")?;
        let after = &rest[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err("unexpected text after the IPv6 address".into()),
        };
        (&rest[..end], port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("no host".into());
    }
    let port = match port {
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("`{p}` is not a port"))?,
        ),
        None => None,
    };
    Ok((host, port))
}

/// The loopback address for `host`: `localhost`, 127.0.0.0/8 or ::1. Names other than
/// localhost are refused rather than resolved, so no DNS answer can redirect the load.
fn loopback_ip(host: &str) -> Result<IpAddr, String> {
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let ip: IpAddr = host.parse().map_err(|_| {
        format!("`{host}` is not a loopback address (use 127.0.0.1, ::1 or localhost)")
    })?;
    if ip.is_loopback() {
        Ok(ip)
    } else {
        Err(format!(
            "{ip} is not a loopback address; this tool only loads loopback"
        ))
    }
}

/// Refuses a PostgreSQL URL whose host is not loopback (a Unix socket, no host, is local).
pub fn check_postgres_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .ok_or_else(|| format!("`{url}` is not a postgres:// URL"))?;
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.is_empty() {
        return Ok(());
    }
    let (host, _) = split_host_port(host_port).map_err(|e| format!("--postgres-url: {e}"))?;
    loopback_ip(host)
        .map(|_| ())
        .map_err(|e| format!("--postgres-url: {e}"))
}

/// `postgres://u@h:5432/postgres?x=y` with the database name replaced by `name`.
pub fn with_database_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("0.5s"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("10h").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("2h").is_err());
        assert!(parse_duration("61m")
            .unwrap_err()
            .contains("at most one hour"));
    }

    #[test]
    fn loopback_urls_are_accepted() {
        let u = parse_base_url("http://127.0.0.1:8080").unwrap();
        assert_eq!(u.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(u.host, "127.0.0.1:8080");
        let u = parse_base_url("http://localhost:9000/").unwrap();
        assert_eq!(u.addr, "127.0.0.1:9000".parse().unwrap());
        let u = parse_base_url("http://[::1]:8080").unwrap();
        assert_eq!(u.addr, "[::1]:8080".parse().unwrap());
        assert_eq!(u.host, "[::1]:8080");
        let u = parse_base_url("http://127.1.2.3").unwrap();
        assert_eq!(u.addr.port(), 80);
    }

    #[test]
    fn other_hosts_are_refused() {
        for url in [
            "http://10.0.0.1:8080",
            "http://192.168.1.2",
            "http://0.0.0.0:8080",
            "http://[::]:8080",
            "http://[2001:db8::1]:80",
            "http://example.com:8080",
            "http://127.0.0.1.example.com",
        ] {
            let e = parse_base_url(url).unwrap_err();
            assert!(e.contains("loopback"), "{url}: {e}");
        }
        assert!(parse_base_url("https://127.0.0.1")
            .unwrap_err()
            .contains("https"));
        assert!(parse_base_url("127.0.0.1:8080").is_err());
        assert!(parse_base_url("http://127.0.0.1:8080/api")
            .unwrap_err()
            .contains("path"));
        assert!(parse_base_url("http://u@127.0.0.1").is_err());
        assert!(parse_base_url("http://127.0.0.1:0").is_err());
        assert!(parse_base_url("http://127.0.0.1:99999").is_err());
        assert!(parse_base_url("http://[::1").is_err());
    }

    /// A server reached by --url is judged by the targets of the database its
    /// --database-url names; an empty one names none.
    #[test]
    fn a_database_urls_kind() {
        use DatabaseKind::*;
        for (url, kind) in [
            ("postgres://postgres@127.0.0.1:5432/test", Some(Postgres)),
            ("postgresql://u@localhost/db", Some(Postgres)),
            ("sqlite://clientele.db", Some(Sqlite)),
            ("clientele.db", Some(Sqlite)),
            ("  ", None),
        ] {
            assert_eq!(DatabaseKind::of_url(url), kind, "{url}");
        }
    }

    #[test]
    fn postgres_urls() {
        assert!(check_postgres_url("postgres://postgres@127.0.0.1:5432/postgres").is_ok());
        assert!(check_postgres_url("postgresql://u:p@localhost/db?sslmode=disable").is_ok());
        assert!(check_postgres_url("postgres://u@[::1]:5432/db").is_ok());
        assert!(check_postgres_url("postgres:///db").is_ok());
        assert!(check_postgres_url("postgres://u@db.internal:5432/db")
            .unwrap_err()
            .contains("loopback"));
        assert!(check_postgres_url("postgres://u@10.1.1.1/db").is_err());
        assert!(check_postgres_url("mysql://127.0.0.1/db").is_err());
        assert_eq!(
            with_database_name("postgres://postgres@127.0.0.1:5432/postgres", "b1"),
            "postgres://postgres@127.0.0.1:5432/b1"
        );
        assert_eq!(
            with_database_name("postgres://u@h/x?sslmode=disable", "b2"),
            "postgres://u@h/b2?sslmode=disable"
        );
        assert_eq!(
            with_database_name("postgres://u@h", "b3"),
            "postgres://u@h/b3"
        );
    }

    #[test]
    fn arguments_parse_and_validate() {
        let a = Args::try_parse_from(["clientele-bench"]).unwrap();
        assert_eq!(a.connections, 32);
        assert_eq!(a.duration, Duration::from_secs(10));
        assert!(a.scenarios.is_empty());
        assert_eq!(a.database, DatabaseKind::Sqlite);
        a.validate().unwrap();

        let a = Args::try_parse_from([
            "clientele-bench",
            "--scenarios",
            "login,get-customer",
            "--duration",
            "3s",
            "--database",
            "postgres",
        ])
        .unwrap();
        assert_eq!(
            a.scenarios,
            vec![ScenarioId::Login, ScenarioId::GetCustomer]
        );
        a.validate().unwrap();

        assert!(Args::try_parse_from(["clientele-bench", "--scenarios", "nope"]).is_err());

        // Contact scenarios need contacts; a running server's only with its database.
        let a = Args::try_parse_from(["clientele-bench", "--contacts", "10"]).unwrap();
        assert!(a.validate().unwrap_err().contains("at least 1000"));
        let a =
            Args::try_parse_from(["clientele-bench", "--contacts", "0", "--scenarios", "login"])
                .unwrap();
        a.validate().unwrap();
        let a = Args::try_parse_from([
            "clientele-bench",
            "--url",
            "http://127.0.0.1:8080",
            "--scenarios",
            "get-contact",
        ])
        .unwrap();
        assert_eq!(a.seeds_contacts(), 0);
        assert!(a.validate().unwrap_err().contains("--database-url"));
        let a = Args::try_parse_from([
            "clientele-bench",
            "--url",
            "http://127.0.0.1:8080",
            "--database-url",
            "postgres://postgres@10.0.0.1/x",
        ])
        .unwrap();
        assert!(
            a.validate().unwrap_err().contains("loopback"),
            "{:?}",
            a.validate()
        );
        assert!(Args::try_parse_from(["clientele-bench", "--connections", "0"]).is_err());
        // A running server cannot also be told which database to start.
        assert!(Args::try_parse_from([
            "clientele-bench",
            "--url",
            "http://127.0.0.1:8080",
            "--database",
            "postgres"
        ])
        .is_err());
        assert!(Args::try_parse_from(["clientele-bench", "--server-pid", "1"]).is_err());

        let a = Args::try_parse_from(["clientele-bench", "--url", "http://10.0.0.1:8080"]).unwrap();
        assert!(a.validate().unwrap_err().contains("loopback"));
        let a = Args::try_parse_from([
            "clientele-bench",
            "--database",
            "postgres",
            "--postgres-url",
            "postgres://u@db.example.com/x",
        ])
        .unwrap();
        assert!(a.validate().unwrap_err().contains("loopback"));
        let a = Args::try_parse_from(["clientele-bench", "--connections", "4"]).unwrap();
        assert!(a.validate().unwrap_err().contains("--flood-connections"));
        // Without login-flood the flood size does not matter.
        let a = Args::try_parse_from([
            "clientele-bench",
            "--connections",
            "4",
            "--scenarios",
            "health",
        ])
        .unwrap();
        a.validate().unwrap();
        let a = Args::try_parse_from(["clientele-bench", "--duration", "0s"]).unwrap();
        assert!(a.validate().is_err());
        let a = Args::try_parse_from([
            "clientele-bench",
            "--server-env",
            "CLIENTELE__DATABASE__POOL_SIZE=16",
        ])
        .unwrap();
        assert_eq!(
            a.server_env,
            vec![(
                "CLIENTELE__DATABASE__POOL_SIZE".to_string(),
                "16".to_string()
            )]
        );
        assert!(Args::try_parse_from(["clientele-bench", "--server-env", "=x"]).is_err());
    }

    /// A reused database brings its own kind and contacts: nothing is seeded, and what
    /// would choose or seed another database is refused with it.
    #[test]
    fn a_reused_database_is_not_seeded_or_chosen_again() {
        let a = Args::try_parse_from(["clientele-bench", "--reuse", "/tmp/kept"]).unwrap();
        assert_eq!(a.seeds_contacts(), 0);
        a.validate().unwrap();
        let a = Args::try_parse_from([
            "clientele-bench",
            "--reuse",
            "/tmp/kept",
            "--server-bin",
            "/tmp/other/clientele",
            "--server-env",
            "K=V",
        ])
        .unwrap();
        a.validate().unwrap();
        for other in [
            ["--database", "postgres"],
            ["--contacts", "1000"],
            ["--data-dir", "/tmp"],
            ["--url", "http://127.0.0.1:8080"],
        ] {
            let mut argv = vec!["clientele-bench", "--reuse", "/tmp/kept"];
            argv.extend(other);
            assert!(Args::try_parse_from(&argv).is_err(), "{other:?}");
        }
        assert!(
            Args::try_parse_from(["clientele-bench", "--reuse", "/k", "--keep-database"]).is_err()
        );
    }

    /// Holding the file alone is asked of a server this tool starts: with a kept
    /// database or a fresh one, not with one already running.
    #[test]
    fn sqlite_exclusive_needs_a_server_the_tool_starts() {
        let a = Args::try_parse_from(["clientele-bench", "--sqlite-exclusive"]).unwrap();
        assert!(a.sqlite_exclusive);
        let a = Args::try_parse_from(["clientele-bench", "--reuse", "/k", "--sqlite-exclusive"])
            .unwrap();
        assert!(a.sqlite_exclusive);
        let a = Args::try_parse_from([
            "clientele-bench",
            "--database",
            "postgres",
            "--sqlite-exclusive",
        ])
        .unwrap();
        assert!(a.validate().unwrap_err().contains("SQLite"));
        assert!(
            !Args::try_parse_from(["clientele-bench"])
                .unwrap()
                .sqlite_exclusive
        );
        assert!(Args::try_parse_from([
            "clientele-bench",
            "--url",
            "http://127.0.0.1:8080",
            "--sqlite-exclusive"
        ])
        .is_err());
    }
}
