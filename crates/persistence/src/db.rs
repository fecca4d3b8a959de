//! The database handle used by every use case.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clientele_domain::contact::Contact;
use clientele_domain::{Error, Result};
use diesel::Connection;
use uuid::Uuid;

use crate::coalesce::{self, Coalescer, ReadMany};
use crate::conn::{Backend, DatabaseUrl, DbConn, Manager};
use crate::search_counts::SearchCounts;
use crate::writer::Writer;

pub type Pool = r2d2::Pool<Manager>;

/// The pool's own wait for a connection, at least: opening the pool waits for its first
/// connection that long, and on a busy machine that took more than a short request
/// budget (a test with 100 ms failed to start under CI's parallel load). Requests wait
/// in the gate, which keeps to `acquire_timeout`; after it a connection is normally idle.
const MIN_POOL_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Connections for reads (and, on PostgreSQL, for writes too); 0 chooses by backend
    /// (see [`auto_pool_size`]).
    pub pool_size: u32,
    /// How long a request waits for a free connection before it gets 503.
    pub acquire_timeout: Duration,
    /// SQLite: how long a second writer waits for the lock.
    pub busy_timeout_ms: u32,
    /// SQLite: most writes folded into one commit.
    pub max_batch: usize,
    /// Apply pending migrations when opening.
    pub migrate: bool,
    /// SQLite: open the file for this process alone. No other process (the CLI, the
    /// `sqlite3` shell, a backup tool) can open it while the database is open here;
    /// reads cost less (see [`crate::conn`]'s `exclusive_uri`). PostgreSQL ignores it.
    pub sqlite_exclusive: bool,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            pool_size: 0,
            acquire_timeout: Duration::from_secs(5),
            busy_timeout_ms: 5_000,
            max_batch: 256,
            migrate: true,
            sqlite_exclusive: false,
        }
    }
}

/// Cheap to clone; shared by every worker.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    url: DatabaseUrl,
    pool: Pool,
    /// One permit per pooled connection, taken before a connection is: requests wait
    /// for the database here, in arrival order, rather than in the pool, where a request
    /// arriving as a connection comes back takes it ahead of those already waiting (at
    /// 32 connections that made PostgreSQL's p99 three times its mean). SQLite's
    /// bounded reads on the calling thread take an idle connection without a permit,
    /// so a permit holder may wait in the pool for the few microseconds they take.
    gate: Arc<tokio::sync::Semaphore>,
    /// Requests waiting in the gate: a leader of coalesced reads lets its connection go
    /// when any do (see [`Db::read_coalesced`]).
    queued: Arc<AtomicUsize>,
    acquire_timeout: Duration,
    /// SQLite only: the single writer thread.
    writer: Option<Writer>,
    auth_epoch: Arc<AtomicU64>,
    /// Searches' match counts, remembered for the next search of the same name.
    search_counts: Arc<SearchCounts>,
    /// Gets of a contact by id waiting for a connection, by (tenant, project).
    contact_reads: Arc<Coalescer<(Uuid, Uuid), Uuid, Contact>>,
}

thread_local! {
    /// Set by a write to what authentication reads (see [`note_auth_change`]) on the
    /// thread running the transaction; taken once the transaction has ended.
    static AUTH_CHANGED: Cell<bool> = const { Cell::new(false) };
}

/// Called by repositories that change what an access check reads: a user's token
/// version, role or existence, a customer's status. The transaction's end then bumps
/// [`Db::auth_epoch`].
pub(crate) fn note_auth_change() {
    AUTH_CHANGED.with(|c| c.set(true));
}

/// After a transaction has committed (or rolled back) and before its caller is answered:
/// a change to authentication state moves the epoch, so every cached copy read before
/// it is stale from now on. A rollback moves it too, which only costs a re-read.
pub(crate) fn publish_auth_change(epoch: &AtomicU64) {
    if AUTH_CHANGED.with(|c| c.replace(false)) {
        epoch.fetch_add(1, Ordering::SeqCst);
    }
}

impl Db {
    /// Opens the pool (and, on SQLite, the writer), applying migrations if asked.
    pub fn open(url: &str, options: &DbOptions) -> Result<Db> {
        let url = DatabaseUrl::parse(url).map_err(Error::Unavailable)?;
        let exclusive = options.sqlite_exclusive;
        let manager = Manager {
            url: url.clone(),
            busy_timeout_ms: options.busy_timeout_ms,
            exclusive,
        };
        if options.migrate {
            let mut conn = url.connect_with(options.busy_timeout_ms, exclusive)?;
            crate::migrations::run(&mut conn)?;
        }
        let pool_size = match options.pool_size {
            0 => auto_pool_size(url.backend(), cores()),
            n => n,
        };
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            // Keep idle connections few: the idle server should stay small.
            .min_idle(Some(1))
            // One thread opens and reaps connections in the background (r2d2 starts
            // three): each thread left idle keeps its stack and its share of the heap.
            .thread_pool(Arc::new(
                scheduled_thread_pool::ScheduledThreadPool::builder()
                    .num_threads(1)
                    .thread_name_pattern("db-pool-{}")
                    .build(),
            ))
            .connection_timeout(options.acquire_timeout.max(MIN_POOL_WAIT))
            .test_on_check_out(false)
            .build(manager)
            .map_err(|e| Error::Unavailable(format!("cannot open the database pool: {e}")))?;
        let gate = Arc::new(tokio::sync::Semaphore::new(pool.max_size() as usize));
        // Coalesced reads: three leaders in four connections (see `Coalescer::leaders`).
        let leaders = (pool.max_size() as usize * 3 / 4).max(1);
        let auth_epoch = Arc::new(AtomicU64::new(0));
        let writer = match url.backend() {
            Backend::Sqlite => {
                let DatabaseUrl::Sqlite(file) = &url else {
                    return Err(Error::Internal("a SQLite backend without a file".into()));
                };
                let (file, url, busy) = (file.clone(), url.clone(), options.busy_timeout_ms);
                Some(Writer::start(
                    Box::new(move || url.connect_with(busy, exclusive)),
                    file,
                    options.max_batch.max(1),
                    auth_epoch.clone(),
                )?)
            }
            Backend::Postgres => None,
        };
        Ok(Db {
            inner: Arc::new(Inner {
                url,
                pool,
                gate,
                queued: Arc::default(),
                acquire_timeout: options.acquire_timeout,
                writer,
                auth_epoch,
                search_counts: Arc::default(),
                contact_reads: Arc::new(Coalescer::new(leaders)),
            }),
        })
    }

    pub fn backend(&self) -> Backend {
        self.inner.url.backend()
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.inner.url
    }

    /// Moves whenever a committed write of this process changed authentication state
    /// (token versions, roles, users, customer status). A cache of that state is valid
    /// while the epoch it was read under is current: read the epoch first, then the
    /// state, and keep the pair.
    pub fn auth_epoch(&self) -> u64 {
        self.inner.auth_epoch.load(Ordering::SeqCst)
    }

    /// The match counts of this database's searches (see [`crate::search_counts`]).
    pub fn search_counts(&self) -> Arc<SearchCounts> {
        self.inner.search_counts.clone()
    }

    /// The gets of a contact by id waiting for a connection (see [`Db::read_coalesced`]).
    pub(crate) fn contact_reads(&self) -> &Arc<Coalescer<(Uuid, Uuid), Uuid, Contact>> {
        &self.inner.contact_reads
    }

    /// (connections open, connections idle, max size) for metrics.
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let s = self.inner.pool.state();
        (
            s.connections,
            s.idle_connections,
            self.inner.pool.max_size(),
        )
    }

    /// Runs a read on a pooled connection, off the async executor.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
    {
        let turn = self.turn().await?;
        let pool = self.inner.pool.clone();
        tokio::task::spawn_blocking(move || {
            // Declared first, dropped last: the connection is back in the pool before
            // the next request in line is let through.
            let _turn = turn;
            let mut conn = checkout(&pool)?;
            f(&mut conn)
        })
        .await
        .map_err(|e| Error::Internal(format!("read task failed: {e}")))?
    }

    /// A read bounded by key lookups (a contact by id, a project, a user's state): a few
    /// index probes, never a scan or a sort.
    ///
    /// On SQLite such a read is a few microseconds of in-process work, less than the hop
    /// to the blocking pool and back (skipping it took get-customer from 17.8 k to
    /// 26.1 k requests/s at 32 connections), so it runs on the calling thread when a
    /// pooled connection is idle; WAL readers do not wait for the writer. Otherwise,
    /// and on PostgreSQL, where a read waits on the network and would hold the event
    /// loop, it goes through [`Db::read`].
    pub async fn read_bounded<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
    {
        if self.backend() == Backend::Sqlite {
            // Not through the gate: such a read holds its connection for microseconds.
            // Gated, get-contact measured about 7% lower at 32 connections (three runs
            // each, on a machine whose runs vary by about as much).
            if let Some(mut conn) = self.inner.pool.try_get() {
                // Like a blocking task's panic, a panic here answers 500 and keeps the
                // worker; the connection is dropped while panicking, so the pool
                // discards it (`Manager::has_broken`).
                return std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                    f(&mut conn)
                }))
                .unwrap_or_else(|_| Err(Error::Internal("a read panicked".into())));
            }
        }
        self.read(f).await
    }

    /// Reads the row of `key` in `group` with `read`, in one statement with the other
    /// keys of `queue` waiting for a connection meanwhile (see [`crate::coalesce`]):
    /// whoever gets a connection first (through the gate, as [`Db::read`]) reads for
    /// all of them, and goes on reading the keys queued meanwhile while any are, and
    /// while no other request waits in the gate for a connection. With a connection
    /// free at once, a read of one key.
    pub(crate) async fn read_coalesced<G, K, T>(
        &self,
        queue: &Arc<Coalescer<G, K, T>>,
        group: G,
        key: K,
        read: ReadMany<DbConn, G, K, T>,
    ) -> Result<Option<T>>
    where
        G: PartialEq + Clone + Send + 'static,
        K: PartialEq + Clone + Send + 'static,
        T: Clone + Send + 'static,
    {
        let (ticket, mut told) = queue.enqueue(group, key);
        let (lead, turn) = tokio::select! {
            biased;
            answer = &mut told => return coalesce::received(answer),
            turn = async {
                let lead = tokio::time::timeout(self.inner.acquire_timeout, queue.lead())
                    .await
                    .map_err(|_| timed_out())??;
                Ok::<_, Error>((lead, self.turn().await?))
            } => turn?,
        };
        let Some(mut batch) = queue.take(ticket) else {
            // Another leader has this key in hand: its answer is on the way.
            drop((turn, lead));
            return coalesce::received(told.await);
        };
        let (pool, queue) = (self.inner.pool.clone(), queue.clone());
        let queued = self.inner.queued.clone();
        // Not awaited: every answer, this request's too, comes through its channel, so
        // a request dropped meanwhile leaves none of the others unanswered.
        drop(tokio::task::spawn_blocking(move || {
            let (_lead, _turn) = (lead, turn);
            match checkout(&pool) {
                Ok(mut conn) => {
                    // After a failed statement the rest are left to a new leader, on
                    // another connection if this one is broken.
                    while coalesce::answer(&mut *conn, batch, read) {
                        // Others waiting for a connection go first: the keys still
                        // queued wait for a leader, who queues in the gate behind them.
                        if queued.load(Ordering::SeqCst) > 0 {
                            break;
                        }
                        match queue.take_next() {
                            Some(next) => batch = next,
                            None => break,
                        }
                    }
                }
                Err(e) => coalesce::fail(batch, &e),
            }
        }));
        coalesce::received(told.await)
    }

    /// Runs `f` in a write transaction: all of it commits, or none of it.
    ///
    /// On SQLite the job joins the writer's next group commit; it gets its own
    /// savepoint (unless it is alone in the batch), so a failing job rolls back alone.
    /// On PostgreSQL it runs in its own transaction on a pooled connection.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
    {
        self.write_on_pool(f, true).await
    }

    /// Like [`Db::write`], for a change that may run more than once: `f` is `Fn`, and
    /// only the writes of its last run are kept. On SQLite such jobs share the writer's
    /// batch without a savepoint each (a failure rolls the batch back and runs it again
    /// with them), which saves the writer the copy of every page they change.
    pub async fn write_repeatable<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: Fn(&mut DbConn) -> Result<T> + Send + 'static,
    {
        self.write_repeatable_on_pool(f, true).await
    }

    /// Like [`Db::write_repeatable`], but on PostgreSQL `f` runs outside a transaction,
    /// each statement committing by itself: for a change that is one statement (atomic
    /// on its own) after reads that a READ COMMITTED transaction would not have
    /// protected either, as each of its statements takes a new snapshot. That saves the
    /// BEGIN and COMMIT round trips, two of a contact create's four. A part that needs
    /// more than one statement to commit together opens [`transaction`] itself. On
    /// SQLite, as [`Db::write_repeatable`].
    pub async fn write_autocommit<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: Fn(&mut DbConn) -> Result<T> + Send + 'static,
    {
        self.write_repeatable_on_pool(f, false).await
    }

    /// [`Db::write_repeatable`] or [`Db::write_autocommit`]: on SQLite through the
    /// writer as a repeatable job, otherwise as [`Db::write_on_pool`].
    async fn write_repeatable_on_pool<T, F>(&self, f: F, in_transaction: bool) -> Result<T>
    where
        T: Send + 'static,
        F: Fn(&mut DbConn) -> Result<T> + Send + 'static,
    {
        if let Some(writer) = &self.inner.writer {
            return writer.submit_repeatable(f).await;
        }
        self.write_on_pool(f, in_transaction).await
    }

    /// [`Db::write`] (in a transaction) or [`Db::write_autocommit`] on the pool, or on
    /// SQLite through the writer.
    async fn write_on_pool<T, F>(&self, f: F, in_transaction: bool) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
    {
        if let Some(writer) = &self.inner.writer {
            return writer.submit(f).await;
        }
        let turn = self.turn().await?;
        let pool = self.inner.pool.clone();
        let epoch = self.inner.auth_epoch.clone();
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            let mut conn = checkout(&pool)?;
            let result = if in_transaction {
                transaction(&mut conn, f)
            } else {
                f(&mut conn)
            };
            publish_auth_change(&epoch);
            result
        })
        .await
        .map_err(|e| Error::Internal(format!("write task failed: {e}")))?
    }

    /// Waits, in arrival order, until a pooled connection is free for this request; 503
    /// after the acquire timeout, as a wait in the pool would.
    async fn turn(&self) -> Result<tokio::sync::OwnedSemaphorePermit> {
        let gate = self.inner.gate.clone();
        let _queued = Queued::join(&self.inner.queued);
        match tokio::time::timeout(self.inner.acquire_timeout, gate.acquire_owned()).await {
            Ok(Ok(turn)) => Ok(turn),
            Ok(Err(_)) => Err(Error::Internal("the database gate is closed".into())),
            Err(_) => Err(timed_out()),
        }
    }

    /// Checks that the database answers (for `/ready`), writer included.
    pub async fn ping(&self) -> Result<()> {
        if let Some(writer) = &self.inner.writer {
            if !writer.is_running() {
                return Err(Error::Unavailable("the database writer has stopped".into()));
            }
        }
        self.read(|conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute("SELECT 1")
                .map_err(|e| Error::Unavailable(e.to_string()))
        })
        .await
    }
}

/// The pool size when none is configured.
///
/// SQLite: twice the cores. Its reads are CPU work on pages already in memory, so
/// readers beyond the cores only share them: with 8 readers on 2 cores, 32 concurrent
/// searches at 1,000,000 contacts ran at the same rate as with 4, but each of the 8 ran
/// slower while the others took turns on the cores, and the tail grew (search p99 26.2
/// against 23.2 ms over five alternating pairs, first page 10.7 against 9.6 ms;
/// BENCHMARKS-HISTORY.md). Two and three readers did as well as four in the few runs
/// tried; twice the cores leaves room for the moments a reader is off its core (handing
/// its rows back to a worker, or a bounded read on an HTTP worker between requests).
///
/// PostgreSQL: twice the cores too, at least 4 and at most 32 (the usual sizing of a
/// PostgreSQL pool: the cores' worth of backends at work, as many again waiting on the
/// network or the disk). Each connection is a backend process, and the scheduler
/// shares the cores between the server's processes and PostgreSQL's as groups (Linux
/// autogroups by session; cgroups with the CPU controller, as services can run), so
/// the backends at work share PostgreSQL's part among themselves. With 8 on 2 cores,
/// one in a hundred searches at 1,000,000 contacts spent over 20 ms inside PostgreSQL
/// for about 0.4 ms of work, and the e-mail search's p99 was 25-26 ms against 19-21
/// with 4, for 8-17% fewer requests a second (BENCHMARKS.md, twenty-sixth session).
/// With the groups switched off, 8 had a search p99 of 17-22 ms: the pool is smaller
/// for the groups' sake.
pub fn auto_pool_size(backend: Backend, cores: usize) -> u32 {
    let (least, most) = match backend {
        Backend::Sqlite => (1, 64),
        Backend::Postgres => (2, 16),
    };
    // Clamped first, twice the cores is at most 128: no truncation.
    (cores.clamp(least, most) * 2) as u32
}

/// One request counted in [`Inner::queued`] while it waits in the gate, however its
/// wait ends (a turn, a timeout, or its request dropped).
struct Queued(Arc<AtomicUsize>);

impl Queued {
    fn join(queued: &Arc<AtomicUsize>) -> Self {
        queued.fetch_add(1, Ordering::SeqCst);
        Queued(queued.clone())
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A request waited longer than the acquire timeout for the database (503).
fn timed_out() -> Error {
    Error::Unavailable("no database connection available: timed out waiting for one".into())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn checkout(pool: &Pool) -> Result<r2d2::PooledConnection<Manager>> {
    pool.get()
        .map_err(|e| Error::Unavailable(format!("no database connection available: {e}")))
}

/// Carries either our error or diesel's through `Connection::transaction`.
enum TxError {
    App(Error),
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for TxError {
    fn from(e: diesel::result::Error) -> Self {
        TxError::Db(e)
    }
}

/// Runs `f` in a transaction (a savepoint when one is already open): for bulk callers
/// holding their own connection; request paths go through [`Db::write`].
pub fn transaction<T>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T>) -> Result<T> {
    conn.transaction::<T, TxError, _>(|c| f(c).map_err(TxError::App))
        .map_err(|e| match e {
            TxError::App(e) => e,
            TxError::Db(e) => crate::errors::db(e),
        })
}

/// Runs `f`, several reads, as one. On SQLite that is one read transaction: WAL's read
/// lock is taken and released once instead of once per statement (on a file shared
/// with other processes each is a mutex every reader of the process queues on, and
/// often an `fcntl`), and every statement sees the same snapshot. On PostgreSQL `f`
/// runs as it is, each statement seeing the latest commit (READ COMMITTED), as
/// everywhere else there: a transaction would add two round trips.
pub fn in_one_read<T>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T>) -> Result<T> {
    match conn {
        DbConn::Sqlite(_) => transaction(conn, f),
        DbConn::Pg(_) => f(conn),
    }
}

/// Refreshes the query planner's statistics of every table: for bulk writers after a
/// large import, so that plans are chosen on the data as it now is. SQLite samples
/// (`analysis_limit`), so this stays quick at millions of rows.
///
/// On SQLite, other open connections (a running server's pool) keep the statistics
/// they loaded until their schema changes: without a change they went on planning a
/// million contacts as the empty tables they once saw, and a search walked the whole
/// project (25-45 ms instead of a few). Creating and dropping a table changes the
/// schema, so every connection reloads it, statistics included, before its next
/// statement. PostgreSQL sessions see new statistics at once; there VACUUM also marks
/// the new rows visible to all, which index-only scans (a search's) rely on to skip
/// the table. Call it outside a transaction.
pub fn refresh_statistics(conn: &mut DbConn) -> Result<()> {
    use diesel::connection::SimpleConnection;
    let sql = match conn {
        DbConn::Sqlite(_) => {
            "PRAGMA analysis_limit = 1000; ANALYZE;
             CREATE TABLE clientele_statistics_reload (x INTEGER);
             DROP TABLE clientele_statistics_reload;"
        }
        DbConn::Pg(_) => "VACUUM (ANALYZE);",
    };
    conn.batch_execute(sql).map_err(crate::errors::db)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A test database's folder, removed when the test ends (declared before the
    /// database, so dropped after it).
    struct Scratch(std::path::PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn sqlite(name: &str, options: DbOptions) -> (Scratch, Db) {
        let dir = std::env::temp_dir().join(format!("clientele-{name}-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::open(dir.join("g.db").to_str().unwrap(), &options).unwrap();
        (Scratch(dir), db)
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }

    /// Makes a test table of one column through the writer.
    async fn create_table(db: &Db, table: &'static str) {
        use diesel::connection::SimpleConnection;
        db.write(move |c| {
            c.batch_execute(&format!("CREATE TABLE {table} (x INTEGER)"))
                .map_err(crate::errors::db)
        })
        .await
        .unwrap();
    }

    /// The rows of a test table.
    fn count_rows(conn: &mut DbConn, table: &str) -> Result<i64> {
        use diesel::RunQueryDsl;
        diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
            .get_result::<Count>(conn)
            .map(|r| r.n)
            .map_err(crate::errors::db)
    }

    /// Starts a read that keeps its connection until the sender is used, and lets it
    /// take the connection before returning.
    async fn hold_a_connection(
        db: &Db,
    ) -> (
        std::sync::mpsc::Sender<()>,
        tokio::task::JoinHandle<Result<()>>,
    ) {
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let db = db.clone();
        let holder = tokio::spawn(async move {
            db.read(move |_| {
                hold.recv().ok();
                Ok(())
            })
            .await
        });
        tokio::task::yield_now().await;
        (release, holder)
    }

    /// Without a configured size, SQLite and PostgreSQL get twice the cores (PostgreSQL
    /// between 4 and 32); a configured size is kept.
    #[test]
    fn the_pool_is_sized_by_backend_unless_configured() {
        assert_eq!(auto_pool_size(Backend::Sqlite, 2), 4);
        assert_eq!(auto_pool_size(Backend::Sqlite, 1), 2);
        assert_eq!(auto_pool_size(Backend::Sqlite, 16), 32);
        assert_eq!(auto_pool_size(Backend::Postgres, 2), 4);
        assert_eq!(auto_pool_size(Backend::Postgres, 1), 4);
        assert_eq!(auto_pool_size(Backend::Postgres, 6), 12);
        assert_eq!(auto_pool_size(Backend::Postgres, 64), 32);
        let (_auto_dir, auto) = sqlite("auto-size", DbOptions::default());
        assert_eq!(
            auto.pool_state().2,
            auto_pool_size(Backend::Sqlite, cores())
        );
        let (_three_dir, three) = sqlite(
            "set-size",
            DbOptions {
                pool_size: 3,
                ..DbOptions::default()
            },
        );
        assert_eq!(three.pool_state().2, 3);
    }

    /// Requests get the database in the order they asked for it, and one that arrives
    /// as a connection comes back queues behind those already waiting instead of
    /// taking it.
    #[test]
    fn waiting_requests_are_served_in_arrival_order() {
        let (_dir, db) = sqlite(
            "gate-order",
            DbOptions {
                pool_size: 1,
                ..DbOptions::default()
            },
        );
        let served = Arc::new(Mutex::new(Vec::new()));
        let rt = runtime();
        rt.block_on(async {
            let (release, holder) = hold_a_connection(&db).await;
            let mut waiting = Vec::new();
            for i in 0..16 {
                let (db, served) = (db.clone(), served.clone());
                waiting.push(tokio::spawn(async move {
                    db.read(move |_| {
                        served.lock().unwrap().push(format!("queued {i}"));
                        Ok(())
                    })
                    .await
                }));
                // Let it take its place in line before the next one asks.
                tokio::task::yield_now().await;
            }
            release.send(()).unwrap();
            holder.await.unwrap().unwrap();
            let late = served.clone();
            db.read(move |_| {
                late.lock().unwrap().push("late".to_string());
                Ok(())
            })
            .await
            .unwrap();
            for w in waiting {
                w.await.unwrap().unwrap();
            }
        });
        let expected: Vec<String> = (0..16)
            .map(|i| format!("queued {i}"))
            .chain(["late".to_string()])
            .collect();
        assert_eq!(*served.lock().unwrap(), expected);
    }

    /// A request that waits longer than the acquire timeout gets "unavailable" (503),
    /// and the database serves the next one once a connection is free again.
    #[test]
    fn a_request_waiting_past_the_timeout_is_unavailable() {
        let (_dir, db) = sqlite(
            "gate-timeout",
            DbOptions {
                pool_size: 1,
                acquire_timeout: Duration::from_millis(100),
                ..DbOptions::default()
            },
        );
        let rt = runtime();
        rt.block_on(async {
            let (release, holder) = hold_a_connection(&db).await;
            let waited = db.read(|_| Ok(())).await;
            assert!(
                matches!(&waited, Err(Error::Unavailable(m)) if m.contains("no database connection")),
                "{waited:?}"
            );
            release.send(()).unwrap();
            holder.await.unwrap().unwrap();
            db.read(|_| Ok(())).await.unwrap();
        });
    }

    /// Keys asked for while every connection is busy are read together once one is
    /// free: one statement for each group, each request answered its own row; with a
    /// connection free, a key is read at once on its own.
    #[test]
    fn reads_waiting_for_a_connection_are_read_together() {
        use diesel::connection::SimpleConnection;
        use diesel::RunQueryDsl;
        static STATEMENTS: AtomicU64 = AtomicU64::new(0);
        #[derive(diesel::QueryableByName)]
        struct Kv {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            k: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            v: i64,
        }
        fn read(conn: &mut DbConn, group: &&'static str, keys: &[i64]) -> Result<Vec<(i64, i64)>> {
            STATEMENTS.fetch_add(1, Ordering::SeqCst);
            let keys: Vec<String> = keys.iter().map(i64::to_string).collect();
            let sql = format!(
                "SELECT k, v FROM clientele_keys WHERE g = '{group}' AND k IN ({})",
                keys.join(",")
            );
            let rows = diesel::sql_query(sql)
                .load::<Kv>(conn)
                .map_err(crate::errors::db)?;
            Ok(rows.into_iter().map(|r| (r.k, r.v)).collect())
        }
        let (_dir, db) = sqlite(
            "coalesce",
            DbOptions {
                pool_size: 1,
                ..DbOptions::default()
            },
        );
        let queue = Arc::new(Coalescer::<&'static str, i64, i64>::new(1));
        runtime().block_on(async {
            db.write(|c| {
                c.batch_execute(
                    "CREATE TABLE clientele_keys (g TEXT, k INTEGER, v INTEGER);
                     INSERT INTO clientele_keys VALUES ('a', 1, 10), ('a', 2, 20), ('b', 1, 100);",
                )
                .map_err(crate::errors::db)
            })
            .await
            .unwrap();
            let (release, holder) = hold_a_connection(&db).await;
            let asked = [("a", 1), ("a", 2), ("b", 1), ("a", 3), ("b", 2), ("a", 1)];
            let mut waiting = Vec::new();
            for (group, key) in asked {
                let (db, queue) = (db.clone(), queue.clone());
                waiting.push(tokio::spawn(async move {
                    db.read_coalesced(&queue, group, key, read).await
                }));
                tokio::task::yield_now().await;
            }
            assert_eq!(STATEMENTS.load(Ordering::SeqCst), 0, "all of them wait");
            release.send(()).unwrap();
            holder.await.unwrap().unwrap();
            let mut answers = Vec::new();
            for w in waiting {
                answers.push(w.await.unwrap().unwrap());
            }
            assert_eq!(
                answers,
                [Some(10), Some(20), Some(100), None, None, Some(10)]
            );
            assert_eq!(STATEMENTS.load(Ordering::SeqCst), 2, "one for a, one for b");
            let alone = db.read_coalesced(&queue, "b", 1, read).await.unwrap();
            assert_eq!(alone, Some(100));
            assert_eq!(STATEMENTS.load(Ordering::SeqCst), 3);
        });
    }

    /// A leader reads on only while no other request waits in the gate: a read that
    /// queued for a connection during the leader's statement goes before the keys
    /// queued meanwhile, which then get a leader of their own.
    #[test]
    fn a_leader_lets_its_connection_go_to_a_request_waiting_in_the_gate() {
        use std::sync::atomic::AtomicBool;
        static SLOW: AtomicBool = AtomicBool::new(true);
        static SERVED: Mutex<Vec<String>> = Mutex::new(Vec::new());
        fn served(what: String) {
            SERVED.lock().unwrap_or_else(|p| p.into_inner()).push(what);
        }
        fn read(_: &mut DbConn, _: &(), keys: &[i64]) -> Result<Vec<(i64, i64)>> {
            while keys.contains(&1) && SLOW.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(2));
            }
            served(format!("keys {keys:?}"));
            Ok(keys.iter().map(|k| (*k, k * 10)).collect())
        }
        let (_dir, db) = sqlite(
            "coalesce-yield",
            DbOptions {
                pool_size: 1,
                ..DbOptions::default()
            },
        );
        let queue = Arc::new(Coalescer::<(), i64, i64>::new(1));
        runtime().block_on(async {
            let get = |key| {
                let (db, queue) = (db.clone(), queue.clone());
                tokio::spawn(async move { db.read_coalesced(&queue, (), key, read).await })
            };
            let leader = get(1);
            tokio::time::sleep(Duration::from_millis(20)).await;
            let queued_key = get(2);
            tokio::time::sleep(Duration::from_millis(20)).await;
            let other = {
                let db = db.clone();
                tokio::spawn(async move {
                    db.read(|_| {
                        served("another read".into());
                        Ok(())
                    })
                    .await
                })
            };
            tokio::time::sleep(Duration::from_millis(20)).await;
            SLOW.store(false, Ordering::SeqCst);
            assert_eq!(leader.await.unwrap().unwrap(), Some(10));
            assert_eq!(queued_key.await.unwrap().unwrap(), Some(20));
            other.await.unwrap().unwrap();
        });
        assert_eq!(
            *SERVED.lock().unwrap(),
            ["keys [1]", "another read", "keys [2]"]
        );
    }

    /// A get that waits for a leader longer than the acquire timeout is unavailable
    /// (503), as one waiting for a connection is; the leader's own read is answered.
    #[test]
    fn a_coalesced_read_waiting_past_the_timeout_is_unavailable() {
        use std::sync::atomic::AtomicBool;
        static SLOW: AtomicBool = AtomicBool::new(true);
        fn read(_: &mut DbConn, _: &(), keys: &[i64]) -> Result<Vec<(i64, i64)>> {
            while SLOW.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(2));
            }
            Ok(keys.iter().map(|k| (*k, k * 10)).collect())
        }
        let (_dir, db) = sqlite(
            "coalesce-timeout",
            DbOptions {
                pool_size: 2,
                acquire_timeout: Duration::from_millis(100),
                ..DbOptions::default()
            },
        );
        let queue = Arc::new(Coalescer::<(), i64, i64>::new(1));
        runtime().block_on(async {
            let leader = {
                let (db, queue) = (db.clone(), queue.clone());
                tokio::spawn(async move { db.read_coalesced(&queue, (), 1, read).await })
            };
            // Let it lead and start its read, which waits for `slow`.
            tokio::time::sleep(Duration::from_millis(20)).await;
            let waited = db.read_coalesced(&queue, (), 2, read).await;
            assert!(
                matches!(&waited, Err(Error::Unavailable(m)) if m.contains("timed out")),
                "{waited:?}"
            );
            SLOW.store(false, Ordering::SeqCst);
            assert_eq!(leader.await.unwrap().unwrap(), Some(10));
            assert_eq!(
                db.read_coalesced(&queue, (), 3, read).await.unwrap(),
                Some(30)
            );
        });
    }

    /// On SQLite the reads of `in_one_read` see one snapshot: a commit made between
    /// them is not seen until it ends, where reads outside it see it at once; and one
    /// that fails leaves no read transaction open behind it.
    #[test]
    fn reads_in_one_see_one_snapshot_on_sqlite() {
        use diesel::connection::SimpleConnection;
        let (_scratch, db) = sqlite("one-read", DbOptions::default());
        let count = |conn: &mut DbConn| count_rows(conn, "clientele_one");
        let url = db.url().clone();
        // Another connection commits a row while a read is under way.
        let insert = move || {
            url.connect(1_000)
                .unwrap()
                .batch_execute("INSERT INTO clientele_one VALUES (1)")
                .unwrap();
        };
        runtime().block_on(async {
            create_table(&db, "clientele_one").await;
            // Counts the rows, has another connection commit one, counts again.
            let around_a_commit = {
                let commit = insert.clone();
                move |c: &mut DbConn| {
                    let before = count(c)?;
                    commit();
                    Ok((before, count(c)?))
                }
            };
            let apart = db.read(around_a_commit.clone()).await.unwrap();
            assert_eq!(apart, (0, 1), "reads apart see each commit");
            let together = db
                .read(move |c| in_one_read(c, around_a_commit))
                .await
                .unwrap();
            assert_eq!(together, (1, 1), "reads in one see one snapshot");
            let commit = insert.clone();
            let after_failure = db
                .read(move |c| {
                    let failed: Result<()> = in_one_read(c, |c| {
                        count(c)?;
                        Err(Error::Internal("fails after a read".into()))
                    });
                    assert!(failed.is_err());
                    commit();
                    count(c)
                })
                .await
                .unwrap();
            assert_eq!(after_failure, 3, "a failed one ends its read transaction");
        });
    }

    /// With `sqlite_exclusive`, the writer's commits reach both kinds of reads (on the
    /// HTTP worker and on a blocking thread) through WAL's index in memory, so no
    /// `-shm` file is made; a path with URI characters in it stays that path.
    #[test]
    fn an_exclusive_database_shares_its_index_in_memory_and_keeps_its_path() {
        use diesel::connection::SimpleConnection;
        let dir =
            std::env::temp_dir().join(format!("clientele-excl-a?b#c%20d-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let _scratch = Scratch(dir.clone());
        let file = dir.join("x.db");
        let options = DbOptions {
            sqlite_exclusive: true,
            ..DbOptions::default()
        };
        let db = Db::open(file.to_str().unwrap(), &options).unwrap();
        let count = |conn: &mut DbConn| count_rows(conn, "clientele_excl");
        runtime().block_on(async {
            create_table(&db, "clientele_excl").await;
            for expected in 1..=3 {
                db.write(|c| {
                    c.batch_execute("INSERT INTO clientele_excl VALUES (1)")
                        .map_err(crate::errors::db)
                })
                .await
                .unwrap();
                assert_eq!(db.read_bounded(count).await.unwrap(), expected);
                assert_eq!(db.read(count).await.unwrap(), expected);
            }
        });
        assert!(file.is_file(), "{} was not created", file.display());
        let shm = dir.join("x.db-shm");
        assert!(
            !shm.exists(),
            "{} exists: the file is shared",
            shm.display()
        );
        drop(db);
        // Shared again once closed: a connection of the default mode sees the rows.
        let mut again = DatabaseUrl::Sqlite(file).connect(1_000).unwrap();
        assert_eq!(count(&mut again).unwrap(), 3);
    }
}
