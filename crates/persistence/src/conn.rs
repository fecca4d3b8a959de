//! Connections: the backend is chosen from the URL, never guessed by trial.

use std::path::PathBuf;

use clientele_domain::Error;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};

/// A connection to either backend. Queries are written once against this type.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A parsed database URL: `postgres://...`, `postgresql://...`, `sqlite://PATH`,
/// `sqlite:PATH`, or a plain file path (SQLite).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<DatabaseUrl, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("database url is empty".into());
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(raw.to_string()));
        }
        let path = if let Some(rest) = raw.strip_prefix("sqlite://") {
            rest
        } else if let Some(rest) = raw.strip_prefix("sqlite:") {
            rest
        } else if raw.contains("://") {
            return Err(format!(
                "unsupported database url scheme in `{raw}`: use sqlite://PATH or postgres://..."
            ));
        } else {
            raw
        };
        if path.is_empty() {
            return Err("sqlite url has no file path".into());
        }
        // Query strings (`?mode=...`) are not supported: settings come from config.
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }

    /// The URL with any password replaced, for logs.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(url) => redact_password(url),
        }
    }

    /// Opens one connection with the backend's session settings applied, sharing a
    /// SQLite file with other processes.
    pub fn connect(&self, busy_timeout_ms: u32) -> Result<DbConn, Error> {
        self.connect_with(busy_timeout_ms, false)
    }

    /// Like [`DatabaseUrl::connect`]; `exclusive` opens a SQLite file for this process
    /// alone (see [`crate::DbOptions::sqlite_exclusive`]). Every connection a process
    /// opens to one file must use the same mode. PostgreSQL ignores it.
    pub fn connect_with(&self, busy_timeout_ms: u32, exclusive: bool) -> Result<DbConn, Error> {
        match self {
            DatabaseUrl::Postgres(url) => {
                let mut conn = PgConnection::establish(url).map_err(|e| {
                    Error::Unavailable(format!("cannot connect to PostgreSQL: {e}"))
                })?;
                // Plan each prepared statement once, not on every execution. PostgreSQL
                // otherwise keeps planning a statement anew for its bound values when it
                // misjudges them: a search's prefix ranges are estimated at one row, so
                // every search was planned again (0.6 ms of planning beside 0.5 ms of
                // executing, at 1,000,000 contacts). Our statements are key lookups and
                // index ranges whose plan does not depend on the values, as on SQLite,
                // where the planner stability guarantee does the same.
                conn.batch_execute("SET plan_cache_mode = force_generic_plan")
                    .map_err(|e| Error::Unavailable(format!("cannot configure PostgreSQL: {e}")))?;
                Ok(DbConn::Pg(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        Error::Unavailable(format!("cannot create {}: {e}", parent.display()))
                    })?;
                }
                let path_str = path.to_string_lossy();
                let target = if exclusive {
                    exclusive_uri(&path_str)
                } else {
                    path_str.to_string()
                };
                let mut conn = SqliteConnection::establish(&target).map_err(|e| {
                    Error::Unavailable(format!("cannot open SQLite database {path_str}: {e}"))
                })?;
                // WAL lets readers run beside the writer. synchronous=FULL fsyncs the WAL
                // on every commit, so an acknowledged write survives power loss; the
                // group-commit writer amortizes that fsync over many requests.
                // optimize gathers table statistics (sampled: analysis_limit) where they
                // are missing or stale; without them the planner walks the sort index of
                // a contact search instead of the search's own indexes (170 ms instead of
                // under 1 ms at 100,000 contacts).
                // busy_timeout, set first (journal_mode is the first statement to need a
                // lock), makes any second writer (CLI, benchmark seeder) wait instead of
                // failing with "database is locked", and a process wait for one that
                // held the file alone to let go of it (an old server in a restart).
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {busy_timeout_ms};
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = FULL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA temp_store = MEMORY;
                     PRAGMA analysis_limit = 1000;
                     PRAGMA optimize = 0x10002;"
                ))
                .map_err(|e| match e.to_string() {
                    // The exclusive lock is taken by the first statement that reads;
                    // while another process has the file open it fails after busy_timeout.
                    why if exclusive && why.contains("database is locked") => {
                        Error::Unavailable(format!(
                            "cannot open SQLite database {path_str} for this process alone \
                             (database.exclusive): another process has it open"
                        ))
                    }
                    why if why.contains("database is locked") => Error::Unavailable(format!(
                        "cannot open SQLite database {path_str}: {why} (is a server that \
                         holds it alone running, with database.exclusive = true?)"
                    )),
                    why => Error::Unavailable(format!("cannot configure SQLite: {why}")),
                })?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

/// A URI filename that opens `path` with SQLite's `unix-excl` VFS: the process takes
/// one exclusive lock on the file at its first access and keeps it while any of its
/// connections is open, and WAL's shared index lives in the heap. Readers and the
/// writer of this process then begin and end transactions without a file-lock system
/// call each and without waiting on each other for it (about one system call in
/// eight of a get-by-id, and nearly all its lock waits; BENCHMARKS.md, twenty-eighth
/// session).
/// `%`, `?` and `#` are escaped so that a path containing them stays one path.
fn exclusive_uri(path: &str) -> String {
    let mut uri = String::with_capacity(path.len() + 24);
    uri.push_str("file:");
    for c in path.chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri.push_str("?vfs=unix-excl");
    uri
}

fn redact_password(url: &str) -> String {
    // postgres://user:password@host/db -> postgres://user:***@host/db
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// r2d2 manager that opens connections for one known backend.
pub struct Manager {
    pub(crate) url: DatabaseUrl,
    pub(crate) busy_timeout_ms: u32,
    pub(crate) exclusive: bool,
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = Error;

    fn connect(&self) -> Result<DbConn, Error> {
        self.url.connect_with(self.busy_timeout_ms, self.exclusive)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Error> {
        conn.batch_execute("SELECT 1")
            .map_err(|e| Error::Unavailable(e.to_string()))
    }

    /// A connection that comes back mid-transaction (its user panicked) or with a
    /// broken transaction manager must not serve the next request: it would turn the
    /// next transaction into a savepoint that is never committed.
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        use diesel::connection::TransactionManager;
        std::thread::panicking()
            || <DbConn as Connection>::TransactionManager::is_broken_transaction_manager(conn)
            || match conn {
                DbConn::Sqlite(c) => {
                    diesel::connection::AnsiTransactionManager::transaction_manager_status_mut(c)
                        .transaction_depth()
                        .map(|d| d.is_some())
                        .unwrap_or(true)
                }
                DbConn::Pg(c) => {
                    diesel::connection::AnsiTransactionManager::transaction_manager_status_mut(c)
                        .transaction_depth()
                        .map(|d| d.is_some())
                        .unwrap_or(true)
                }
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_url_form() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/clientele.db").unwrap(),
            DatabaseUrl::Sqlite("data/clientele.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/x.db").unwrap(),
            DatabaseUrl::Sqlite("/tmp/x.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:x.db").unwrap(),
            DatabaseUrl::Sqlite("x.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("/var/lib/c.db").unwrap(),
            DatabaseUrl::Sqlite("/var/lib/c.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    /// The bundled SQLite is built as `.cargo/config.toml` says: the planner keeps
    /// plans whatever the bound values (QPSG), connections take no mutex of their own
    /// (multi-thread mode), and neither the page caches nor the allocator share one
    /// (separate page caches, no memory statistics).
    #[test]
    fn sqlite_is_built_with_the_projects_options() {
        use diesel::prelude::*;
        use diesel::sql_types::Text;
        #[derive(QueryableByName)]
        struct CompileOption {
            #[diesel(sql_type = Text)]
            compile_options: String,
        }
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        let options: Vec<String> =
            diesel::sql_query("SELECT compile_options FROM pragma_compile_options")
                .load::<CompileOption>(&mut conn)
                .unwrap()
                .into_iter()
                .map(|o| o.compile_options)
                .collect();
        for wanted in [
            "ENABLE_QPSG",
            "THREADSAFE=2",
            "DEFAULT_MEMSTATUS=0",
            "OMIT_SHARED_CACHE",
        ] {
            assert!(
                options.iter().any(|o| o == wanted),
                "{wanted} not in {options:?}"
            );
        }
        for unwanted in ["ENABLE_STAT4", "ENABLE_MEMORY_MANAGEMENT"] {
            assert!(
                !options.iter().any(|o| o == unwanted),
                "{unwanted} in {options:?}"
            );
        }
    }

    #[test]
    fn redacts_passwords() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/app").unwrap();
        assert_eq!(url.redacted(), "postgres://app:***@db:5432/app");
    }
}
