//! The server under test: started from the `clientele` binary on a fresh database (and
//! cleaned up afterwards), or an already running one; and its memory, read from /proc.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;

use crate::cli::{with_database_name, DatabaseKind};
use crate::http::{build_request, Conn};

/// How long a started server may take to answer /health (PostgreSQL migrations included).
const READY_TIMEOUT: Duration = Duration::from_secs(60);

pub struct ServerOptions {
    pub binary: PathBuf,
    pub database: DatabaseKind,
    pub postgres_url: String,
    pub data_dir: PathBuf,
    pub keep: bool,
    pub extra_env: Vec<(String, String)>,
    /// A kept folder to run in again, on its database (never removed).
    pub reuse: Option<Reused>,
}

/// Where a kept run's database is.
pub struct Reused {
    pub dir: PathBuf,
    /// Its name on the PostgreSQL server, for a PostgreSQL run.
    pub postgres_database: Option<String>,
}

/// A server process this tool started. Dropping it stops the server, then removes its
/// database unless asked to keep it.
pub struct ManagedServer {
    child: Child,
    binary: PathBuf,
    /// The extra environment it was last started with.
    env: Vec<(String, String)>,
    pub addr: SocketAddr,
    /// The database, password redacted, for the report.
    pub database: String,
    /// The database as the server opens it, for seeding; never printed.
    pub database_url: String,
    pub log_path: PathBuf,
    /// The run's folder (SQLite file, server log, a kept run's file).
    pub dir: PathBuf,
    /// The run's database on PostgreSQL.
    pub postgres_database: Option<String>,
    // Dropped after the child is stopped (fields drop after `Drop::drop`).
    _pg: Option<PgDatabase>,
    _dir: DirGuard,
}

impl ManagedServer {
    pub fn start(opts: &ServerOptions) -> Result<ManagedServer, String> {
        if !opts.binary.is_file() {
            return Err(format!(
                "server binary {} not found: build it with `cargo build --release -p clientele` \
                 (or pass --server-bin)",
                opts.binary.display()
            ));
        }
        let run_id = format!("{}", uuid::Uuid::now_v7().simple());
        let (dir, log_name) = match &opts.reuse {
            // Each run on a kept folder logs to its own file.
            Some(r) => (r.dir.clone(), format!("server-{run_id}.log")),
            None => (
                opts.data_dir.join(format!("clientele-bench-{run_id}")),
                "server.log".to_string(),
            ),
        };
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let keep = opts.keep || opts.reuse.is_some();
        // Guards exist from here on, so an early return still cleans up.
        let dir_guard = DirGuard {
            dir: dir.clone(),
            keep,
        };
        let (pg, url, shown) = match opts.database {
            DatabaseKind::Sqlite => {
                let file = crate::kept::sqlite_file(&dir);
                if opts.reuse.is_some() && !file.is_file() {
                    return Err(format!("{} not found: nothing to reuse", file.display()));
                }
                let url = format!("sqlite://{}", file.display());
                (None, url.clone(), url)
            }
            DatabaseKind::Postgres => {
                let kept = opts
                    .reuse
                    .as_ref()
                    .and_then(|r| r.postgres_database.clone());
                let name = match kept {
                    Some(name) => name,
                    None => {
                        let name = format!("clientele_bench_{run_id}");
                        create_postgres_database(&opts.postgres_url, &name)?;
                        name
                    }
                };
                let url = with_database_name(&opts.postgres_url, &name);
                let shown = clientele_persistence::DatabaseUrl::parse(&url)
                    .map(|u| u.redacted())
                    .unwrap_or_else(|_| name.clone());
                let guard = PgDatabase {
                    admin_url: opts.postgres_url.clone(),
                    name,
                    keep,
                };
                (Some(guard), url, shown)
            }
        };
        let postgres_database = pg.as_ref().map(|g| g.name.clone());
        let addr = free_loopback_port()?;
        let log_path = dir.join(log_name);
        let log = File::create(&log_path)
            .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
        let log_err = log
            .try_clone()
            .map_err(|e| format!("cannot open {}: {e}", log_path.display()))?;
        let child = spawn(&opts.binary, &url, addr, log, log_err, &opts.extra_env)?;
        Ok(ManagedServer {
            child,
            binary: opts.binary.clone(),
            env: opts.extra_env.clone(),
            addr,
            database: shown,
            database_url: url,
            log_path,
            dir,
            postgres_database,
            _pg: pg,
            _dir: dir_guard,
        })
    }

    /// Stops the server and starts it again on the same database and address, with
    /// `more_env` beside the environment it had; the log goes on in the same file.
    /// Wait for it with [`ManagedServer::wait_ready`].
    pub fn restart(&mut self, more_env: &[(String, String)]) -> Result<(), String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.log_path)
            .map_err(|e| format!("cannot open {}: {e}", self.log_path.display()))?;
        let log_err = log
            .try_clone()
            .map_err(|e| format!("cannot open {}: {e}", self.log_path.display()))?;
        self.env.extend(more_env.iter().cloned());
        self.child = spawn(
            &self.binary,
            &self.database_url,
            self.addr,
            log,
            log_err,
            &self.env,
        )?;
        Ok(())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until /health answers 200, failing early if the process exits.
    pub async fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let req = build_request("GET", "/health", &self.addr.to_string(), &[], None);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "the server exited ({status}) before it was ready; its log:\n{}",
                    log_tail(&self.log_path)
                ));
            }
            if let Ok(mut c) = Conn::connect(self.addr).await {
                if let Ok(Ok(out)) =
                    tokio::time::timeout(Duration::from_secs(2), c.round_trip(&req)).await
                {
                    if out.status == 200 {
                        return Ok(());
                    }
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the server did not answer /health within {READY_TIMEOUT:?}; its log:\n{}",
                    log_tail(&self.log_path)
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for ManagedServer {
    fn drop(&mut self) {
        // SIGKILL: the database is thrown away anyway, and nothing waits on a graceful stop.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(
    binary: &Path,
    url: &str,
    addr: SocketAddr,
    log: File,
    log_err: File,
    env: &[(String, String)],
) -> Result<Child, String> {
    let mut cmd = Command::new(binary);
    cmd.arg("serve")
        .env("CLIENTELE__DATABASE__URL", url)
        .env("CLIENTELE__SERVER__BIND", addr.to_string())
        // A configured environment file could change what is measured.
        .env_remove("CLIENTELE_ENV")
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_err));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))
}

/// Finds a free port by binding port 0 and releasing it. Another process could take it
/// in between; the server then fails to start and says so.
fn free_loopback_port() -> Result<SocketAddr, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot find a free loopback port: {e}"))?;
    listener
        .local_addr()
        .map_err(|e| format!("cannot find a free loopback port: {e}"))
}

fn log_tail(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(20)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

fn create_postgres_database(admin_url: &str, name: &str) -> Result<(), String> {
    let mut conn = connect_postgres(admin_url)?;
    // `name` is made of [a-z0-9_] only, so it needs no quoting.
    conn.batch_execute(&format!("CREATE DATABASE {name}"))
        .map_err(|e| format!("cannot create database {name}: {e}"))
}

fn connect_postgres(admin_url: &str) -> Result<clientele_persistence::DbConn, String> {
    let url = clientele_persistence::DatabaseUrl::parse(admin_url)?;
    url.connect(5000).map_err(|e| {
        format!(
            "cannot connect to PostgreSQL at {} (--postgres-url): {e}",
            url.redacted()
        )
    })
}

/// A database created for the run on PostgreSQL; dropped with the guard.
struct PgDatabase {
    admin_url: String,
    name: String,
    keep: bool,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let name = &self.name;
        if self.keep {
            eprintln!("kept PostgreSQL database {name}");
            return;
        }
        let dropped = connect_postgres(&self.admin_url).and_then(|mut c| {
            c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .map_err(|e| e.to_string())
        });
        if let Err(e) = dropped {
            eprintln!("warning: could not drop database {name}: {e}");
        }
    }
}

/// The run's folder (SQLite file, server log).
struct DirGuard {
    dir: PathBuf,
    keep: bool,
}

impl Drop for DirGuard {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("kept {}", self.dir.display());
        } else if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            eprintln!("warning: could not remove {}: {e}", self.dir.display());
        }
    }
}

/// Reads a process's resident memory from /proc/PID/status.
#[derive(Debug, Clone, Copy)]
pub struct MemProbe {
    pub pid: u32,
}

impl MemProbe {
    /// Current resident memory (VmRSS), in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        self.field("VmRSS:")
    }

    /// Peak resident memory since start or since the last `reset_peak` (VmHWM), in KiB.
    pub fn peak_kib(&self) -> Option<u64> {
        self.field("VmHWM:")
    }

    /// Resets VmHWM to the current RSS (writing 5 to clear_refs, Linux 4.0+), so the next
    /// peak is this scenario's own. `false` if not allowed.
    pub fn reset_peak(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5").is_ok()
    }

    fn field(&self, name: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        parse_status_kib(&status, name)
    }

    /// Samples RSS every 50 ms until the returned sampler is stopped: the peak of a run
    /// even where VmHWM cannot be reset.
    pub fn sample(self) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut max = 0;
            while !flag.load(Ordering::Relaxed) {
                if let Some(rss) = self.rss_kib() {
                    max = max.max(rss);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            max
        });
        Sampler { stop, handle }
    }
}

pub struct Sampler {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<u64>,
}

impl Sampler {
    /// The highest RSS seen, in KiB (0 if none could be read).
    pub fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or(0)
    }
}

/// `VmRSS:    14848 kB` -> 14848 (the separator is a tab).
fn parse_status_kib(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(name))?;
    let mut parts = line[name.len()..].split_whitespace();
    let value: u64 = parts.next()?.parse().ok()?;
    match parts.next() {
        Some("kB") => Some(value),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields() {
        let status = "Name:\tclientele\nVmHWM:\t   20480 kB\nVmRSS:\t   14848 kB\nThreads:\t9\n";
        assert_eq!(parse_status_kib(status, "VmRSS:"), Some(14848));
        assert_eq!(parse_status_kib(status, "VmHWM:"), Some(20480));
        assert_eq!(parse_status_kib(status, "VmSwap:"), None);
        assert_eq!(parse_status_kib("VmRSS:\tlots kB\n", "VmRSS:"), None);
        assert_eq!(parse_status_kib("VmRSS:\t12 MB\n", "VmRSS:"), None);
    }

    #[test]
    fn reads_this_process() {
        let me = MemProbe {
            pid: std::process::id(),
        };
        let rss = me.rss_kib().unwrap();
        assert!(rss > 0);
        assert!(me.peak_kib().unwrap() >= rss);
        let sampler = me.sample();
        std::thread::sleep(Duration::from_millis(120));
        assert!(sampler.finish() > 0);
    }
}
