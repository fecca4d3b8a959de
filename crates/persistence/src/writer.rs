//! The SQLite writer: one thread, one connection, group commit.
//!
//! SQLite allows one writer at a time, and with `synchronous=FULL` every commit waits
//! for an fsync. Handing all writes to one thread removes lock contention, and letting
//! that thread fold every write that queued during the previous commit into the next
//! `BEGIN IMMEDIATE ... COMMIT` turns N fsyncs into one. Each job runs in its own
//! savepoint, so one failing job does not undo the others, and no job is answered
//! before the commit that makes it durable.
//!
//! The commit's fsync runs on a third thread ([`sync_commits`]), not in the writer: the
//! writer's connection commits with `synchronous=NORMAL` (frames written to the WAL,
//! no fsync), hands the batch's answers to the sync thread and goes on with the next
//! batch, while that thread `fdatasync`s the WAL file and only then answers. An fsync
//! covers every frame written before it, so each answered job is as durable as with
//! `synchronous=FULL`, and the writer's work overlaps the disk's wait instead of
//! queueing behind it. The price: for the length of one fsync, readers may see a write
//! whose author has not been answered yet, and which a power loss (not a crash of the
//! process: the frames are in the OS's cache) could still undo. WAL order is kept, so
//! a power loss never keeps a later batch without an earlier one.
//!
//! Checkpoints (copying the WAL back into the database file, with its own fsync) run
//! mostly on a second thread and connection, beside the writer instead of inside its
//! commits: they were 8% of the writer's time under a create load, and the writer is
//! the one thread every write waits for. The writer still checkpoints once the WAL is
//! long ([`WRITER_CHECKPOINT_PAGES`]), finding most of it copied already: only a
//! checkpoint with no write running beside it ends with the whole WAL copied, which
//! lets the next write start the WAL over. Without it the WAL grew without end.

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use clientele_domain::{Error, Result};
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use tokio::sync::{mpsc, oneshot};

use crate::conn::DbConn;

/// Queue length before submitters wait (asynchronously) for the writer.
const QUEUE: usize = 4096;

trait Job: Send {
    /// Whether the job may run again after a run that was rolled back (its closure is
    /// `Fn`): then the writer need not give it a savepoint of its own.
    fn repeatable(&self) -> bool;
    /// Runs the job inside the open transaction, in a savepoint of its own when
    /// `savepoint`, and keeps its result; false when the job failed.
    fn run(&mut self, conn: &mut DbConn, savepoint: bool) -> bool;
    /// How to answer the job once the commit's outcome is known.
    fn done(self: Box<Self>) -> Box<dyn Finish>;
}

trait Finish: Send {
    /// Delivers the job's result once the commit outcome is known.
    fn finish(self: Box<Self>, commit: Result<()>);
}

/// The closure of a job: run once, or as often as the writer needs.
trait Body<T>: Send + 'static {
    const REPEATABLE: bool;
    fn call(&mut self, conn: &mut DbConn) -> Result<T>;
}

struct Once<F>(Option<F>);

impl<T, F> Body<T> for Once<F>
where
    F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
{
    const REPEATABLE: bool = false;
    fn call(&mut self, conn: &mut DbConn) -> Result<T> {
        match self.0.take() {
            Some(f) => f(conn),
            None => Err(Error::Internal("a write job was run twice".into())),
        }
    }
}

struct Repeat<F>(F);

impl<T, F> Body<T> for Repeat<F>
where
    F: Fn(&mut DbConn) -> Result<T> + Send + 'static,
{
    const REPEATABLE: bool = true;
    fn call(&mut self, conn: &mut DbConn) -> Result<T> {
        (self.0)(conn)
    }
}

/// A job's answer, with its closure: what the closure holds (a contact and its
/// snapshot, for a create) was allocated by the requester's thread, and is freed there
/// too. Freed on the writer, each such free that missed the thread's cache took the
/// requester's malloc arena lock (13% of the writer's switches off the CPU under a
/// create load).
type Reply<T, B> = (Result<T>, B);

struct WriteJob<T, B> {
    body: B,
    /// The last run's result; `None` before the first.
    result: Option<Result<T>>,
    reply: oneshot::Sender<Reply<T, B>>,
}

impl<T, B> Job for WriteJob<T, B>
where
    T: Send + 'static,
    B: Body<T>,
{
    fn repeatable(&self) -> bool {
        B::REPEATABLE
    }

    fn run(&mut self, conn: &mut DbConn, savepoint: bool) -> bool {
        let result = if savepoint {
            crate::db::transaction(conn, |c| self.body.call(c))
        } else {
            self.body.call(conn)
        };
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn done(self: Box<Self>) -> Box<dyn Finish> {
        // The same allocation: one made on the writer would be freed on the sync
        // thread, whose frees of the writer's chunks take the writer's arena lock.
        self
    }
}

impl<T: Send + 'static, B: Body<T>> Finish for WriteJob<T, B> {
    fn finish(self: Box<Self>, commit: Result<()>) {
        let WriteJob {
            body,
            result,
            reply,
        } = *self;
        let result = match (result, commit) {
            // A job that failed was rolled back (to its savepoint, or with its batch,
            // which then ran again without it): its own error stands.
            (Some(Err(e)), _) => Err(e),
            (_, Err(e)) => Err(e),
            (Some(Ok(v)), Ok(())) => Ok(v),
            (None, Ok(())) => Err(Error::Internal("a write job was not run".into())),
        };
        // The requester may have gone away (client disconnected); the write stands.
        let _ = reply.send((result, body));
    }
}

pub(crate) struct Writer {
    tx: mpsc::Sender<Box<dyn Job>>,
}

/// Opens a fresh connection for the writer (after a failure left the old one unusable).
pub(crate) type Connect = Box<dyn Fn() -> Result<DbConn> + Send>;

impl Writer {
    /// `database` is the SQLite file; its WAL is the file beside it with `-wal` appended.
    pub fn start(
        connect: Connect,
        database: PathBuf,
        max_batch: usize,
        auth_epoch: Arc<AtomicU64>,
    ) -> Result<Writer> {
        let mut conn = connect()?;
        let checkpoints = connect()?;
        configure_writer(&mut conn)?;
        let (tx, rx) = mpsc::channel(QUEUE);
        // Holds one signal at most: "something was committed since the last checkpoint".
        let (committed, commits) = std::sync::mpsc::sync_channel(1);
        let (to_sync, syncs) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoint_after_commits(checkpoints, commits))
            .map_err(|e| Error::Internal(format!("cannot start the checkpoint thread: {e}")))?;
        std::thread::Builder::new()
            .name("sqlite-sync".into())
            .spawn(move || sync_commits(&database, syncs))
            .map_err(|e| Error::Internal(format!("cannot start the sync thread: {e}")))?;
        let ends = Ends {
            auth_epoch,
            committed,
            to_sync,
        };
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, connect, rx, max_batch, &ends))
            .map_err(|e| Error::Internal(format!("cannot start the writer thread: {e}")))?;
        Ok(Writer { tx })
    }

    /// False once the writer thread has stopped (it never should).
    pub fn is_running(&self) -> bool {
        !self.tx.is_closed()
    }

    pub async fn submit<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
    {
        self.send(Once(Some(f))).await
    }

    /// Like [`Writer::submit`], for a job that may run more than once (only the last
    /// run's writes are kept): such jobs share a batch without a savepoint each.
    pub async fn submit_repeatable<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: Fn(&mut DbConn) -> Result<T> + Send + 'static,
    {
        self.send(Repeat(f)).await
    }

    async fn send<T: Send + 'static, B: Body<T>>(&self, body: B) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        let job = WriteJob {
            body,
            result: None,
            reply,
        };
        self.tx
            .send(Box::new(job))
            .await
            .map_err(|_| Error::Unavailable("the database writer has stopped".into()))?;
        let (result, body) = answer
            .await
            .map_err(|_| Error::Internal("a write failed unexpectedly (see the logs)".into()))?;
        // Here, on the requester's thread: see `Reply`.
        drop(body);
        result
    }
}

/// WAL pages after which the writer's own commit checkpoints (SQLite's default is
/// 1,000): 40 MB, a fraction of a second of the heaviest write load.
const WRITER_CHECKPOINT_PAGES: u32 = 10_000;

/// The writer's connection leaves most checkpoints to the checkpoint thread, and the
/// commit's fsync to the sync thread (`synchronous=NORMAL`; its own checkpoints still
/// sync the WAL before and the database file after).
fn configure_writer(conn: &mut DbConn) -> Result<()> {
    use diesel::connection::SimpleConnection;
    conn.batch_execute(&format!(
        "PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_PAGES};
         PRAGMA synchronous = NORMAL;"
    ))
    .map_err(|e| Error::Unavailable(format!("cannot configure the writer: {e}")))
}

/// The WAL file of SQLite database `database`.
fn wal_of(database: &std::path::Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Makes every frame written to the WAL so far durable. The first time, the folder's
/// entry for the WAL file too (SQLite's FULL mode does the same when it creates it).
fn sync_wal(database: &std::path::Path, folder_synced: &mut bool) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(wal_of(database))?
        .sync_data()?;
    if !*folder_synced {
        let folder = match database.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => std::path::Path::new("."),
        };
        std::fs::File::open(folder)?.sync_all()?;
        *folder_synced = true;
    }
    Ok(())
}

/// Answers committed batches once an fsync begun after their commit has ended, one
/// fsync for every batch that committed while the previous one ran; in commit order.
/// Ends when the writer thread ends.
fn sync_commits(database: &std::path::Path, batches: std::sync::mpsc::Receiver<Finishers>) {
    let mut folder_synced = false;
    while let Ok(mut waiting) = batches.recv() {
        while let Ok(more) = batches.try_recv() {
            waiting.extend(more);
        }
        let synced = sync_wal(database, &mut folder_synced).map_err(|e| {
            tracing::error!(error = %e, jobs = waiting.len(), "sqlite: fsync of the WAL failed");
            Error::Unavailable(format!(
                "the write may not be stored: the database file could not be synced ({e})"
            ))
        });
        for f in waiting {
            f.finish(match &synced {
                Ok(()) => Ok(()),
                Err(e) => Err(err_clone(e)),
            });
        }
    }
}

/// How long the checkpoint thread lets commits gather before copying them back: each
/// checkpoint's fsync serves many commits.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(20);

/// Runs a passive checkpoint (it never blocks the writer or a reader) after commits,
/// until the writer thread ends and drops its end of `commits`.
fn checkpoint_after_commits(mut conn: DbConn, commits: std::sync::mpsc::Receiver<()>) {
    use diesel::connection::SimpleConnection;
    while commits.recv().is_ok() {
        std::thread::sleep(CHECKPOINT_EVERY);
        while commits.try_recv().is_ok() {}
        if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE);") {
            // The next commit brings another try; the WAL keeps every frame meanwhile.
            tracing::warn!(error = %e, "sqlite checkpoint failed");
        }
    }
}

type Finishers = Vec<Box<dyn Finish>>;

/// Where the writer reports its commits.
struct Ends {
    /// Bumped after every commit, before anyone is answered (cached sign-in state).
    auth_epoch: Arc<AtomicU64>,
    /// Wakes the checkpoint thread.
    committed: std::sync::mpsc::SyncSender<()>,
    /// The sync thread, which answers a committed batch once it is durable.
    to_sync: std::sync::mpsc::Sender<Finishers>,
}

fn run(
    mut conn: DbConn,
    connect: Connect,
    mut rx: mpsc::Receiver<Box<dyn Job>>,
    max_batch: usize,
    ends: &Ends,
) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(max_batch);
    // Ends when every `Db` handle (and so every sender) is dropped.
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = commit_batch(&mut conn, &mut batch, ends) {
            // The connection's transaction state can no longer be trusted: start over
            // on a new one rather than refuse every later write.
            tracing::error!(error = %e, "sqlite writer: batch failed; reopening the connection");
            match connect().and_then(|mut fresh| configure_writer(&mut fresh).map(|()| fresh)) {
                Ok(fresh) => conn = fresh,
                Err(e) => tracing::error!(error = %e, "sqlite writer: cannot reopen; will retry"),
            }
        }
        // Full means a signal is already waiting: nothing to add.
        let _ = ends.committed.try_send(());
    }
}

fn depth(conn: &mut DbConn) -> Option<u32> {
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c)
            .transaction_depth()
            .ok()
            .flatten()
            .map(|d| d.get()),
        DbConn::Pg(_) => None,
    }
}

/// How the jobs of a batch ran.
enum Ran {
    All,
    /// A job without a savepoint failed: its writes, if any, are in the transaction.
    Failed,
    /// The transaction is gone or cannot be trusted.
    Broken(Error),
}

/// Runs every job of `batch` in the open transaction, each in a savepoint of its own
/// when `savepoints`; without, stops at the first job that fails.
fn run_jobs(conn: &mut DbConn, batch: &mut [Box<dyn Job>], savepoints: bool) -> Ran {
    for job in batch.iter_mut() {
        let run =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run(conn, savepoints)));
        let Ok(ok) = run else {
            return Ran::Broken(Error::Internal("a write job panicked".into()));
        };
        // SQLite rolls the whole transaction back on some errors (disk full, I/O):
        // then nothing of this batch is stored, and later jobs must not run outside it.
        if depth(conn) != Some(1) {
            return Ran::Broken(Error::Unavailable(
                "the database rolled back the write transaction".into(),
            ));
        }
        if !ok && !savepoints {
            return Ran::Failed;
        }
    }
    Ran::All
}

fn begin(conn: &mut DbConn) -> Result<()> {
    let DbConn::Sqlite(sqlite) = conn else {
        return Err(Error::Internal("the writer only serves SQLite".into()));
    };
    // IMMEDIATE takes the write lock up front, so the commit cannot fail on a lock
    // upgrade; busy_timeout makes it wait if another process holds it.
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")
        .map_err(|e| Error::Unavailable(format!("cannot begin a write transaction: {e}")))
}

fn rollback(conn: &mut DbConn) -> Result<()> {
    let DbConn::Sqlite(sqlite) = conn else {
        return Err(Error::Internal("the writer only serves SQLite".into()));
    };
    AnsiTransactionManager::rollback_transaction(sqlite)
        .map_err(|e| Error::Unavailable(format!("cannot roll back a write transaction: {e}")))
}

/// Answers every job of `batch` with `err` (a job that failed by itself, with its own).
fn fail_all(batch: &mut Vec<Box<dyn Job>>, err: &Error) {
    for job in batch.drain(..) {
        job.done().finish(Err(err_clone(err)));
    }
}

/// Runs one group commit. `Err` means the connection must be replaced; every job has
/// been answered either way.
///
/// A savepoint per job lets one job fail alone, but it costs: SQLite copies every page
/// a job changes into its journal first (a tenth of the writer's time in a create
/// load at 1,000,000 contacts). A batch of one job needs none (the batch's rollback is
/// the job's), nor does a batch of repeatable jobs: if one of them fails, the batch is
/// rolled back and run again with a savepoint each, which a failed job costs once.
fn commit_batch(conn: &mut DbConn, batch: &mut Vec<Box<dyn Job>>, ends: &Ends) -> Result<()> {
    if let Err(e) = begin(conn) {
        fail_all(batch, &e);
        return Err(e);
    }
    let bare = batch.len() == 1 || batch.iter().all(|job| job.repeatable());
    let mut ran = run_jobs(conn, batch, !bare);
    if let Ran::Failed = ran {
        ran = match rollback(conn) {
            Err(e) => Ran::Broken(e),
            Ok(()) => {
                crate::db::publish_auth_change(&ends.auth_epoch);
                if batch.len() == 1 {
                    // Nothing else to keep; the job's answer is its own error.
                    for job in batch.drain(..) {
                        job.done().finish(Ok(()));
                    }
                    return Ok(());
                }
                match begin(conn) {
                    Ok(()) => run_jobs(conn, batch, true),
                    Err(e) => Ran::Broken(e),
                }
            }
        };
    }
    if let Ran::Broken(err) = ran {
        let _ = rollback(conn);
        crate::db::publish_auth_change(&ends.auth_epoch);
        fail_all(batch, &err);
        return Err(err);
    }
    let finishers: Finishers = batch.drain(..).map(|job| job.done()).collect();
    let DbConn::Sqlite(sqlite) = conn else {
        return Ok(());
    };
    let commit = AnsiTransactionManager::commit_transaction(sqlite)
        .map_err(|e| Error::Unavailable(format!("commit failed: {e}")));
    // Before anyone is answered: a caller told "revoked" must find it revoked.
    crate::db::publish_auth_change(&ends.auth_epoch);
    match commit {
        Ok(()) => {
            if let Err(std::sync::mpsc::SendError(finishers)) = ends.to_sync.send(finishers) {
                // The sync thread is gone (it never ends before the writer): nothing
                // can make these durable, so no one is told they are.
                let err = Error::Unavailable("the database sync thread has stopped".into());
                for f in finishers {
                    f.finish(Err(err_clone(&err)));
                }
                return Err(err);
            }
            Ok(())
        }
        Err(e) => {
            tracing::error!(error = %e, jobs = finishers.len(), "group commit failed");
            let _ = AnsiTransactionManager::rollback_transaction(sqlite);
            for f in finishers {
                f.finish(Err(err_clone(&e)));
            }
            Err(e)
        }
    }
}

fn err_clone(e: &Error) -> Error {
    match e {
        Error::Unavailable(m) => Error::Unavailable(m.clone()),
        other => Error::Internal(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use crate::{Db, DbOptions};
    use diesel::connection::SimpleConnection;

    /// The writer checkpoints only past 10,000 WAL pages; below that the checkpoint
    /// thread must, or the database file would stay as it was while the WAL grows.
    #[test]
    fn commits_reach_the_database_file() {
        let dir = std::env::temp_dir().join(format!("clientele-ckpt-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.db");
        let db = Db::open(path.to_str().unwrap(), &DbOptions::default()).unwrap();
        let file_len = || std::fs::metadata(&path).unwrap().len();
        let before = file_len();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(db.write(|conn| {
            conn.batch_execute(
                "CREATE TABLE ckpt (x TEXT);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
                 INSERT INTO ckpt SELECT printf('%.500c', 'x') FROM n;",
            )
            .map_err(crate::errors::db)
        }))
        .unwrap();
        // Far below the 1,000 pages at which SQLite would checkpoint by itself.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while file_len() <= before + 100 * 1024 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let after = file_len();
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(after > before + 100 * 1024, "{before} -> {after} bytes");
    }

    /// A writer on a fresh file with a table `t (x INTEGER)`, and a reader of it.
    fn writer_on_fresh_file(
        name: &str,
    ) -> (super::Writer, crate::conn::DbConn, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("clientele-{name}-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("w.db");
        let url = crate::conn::DatabaseUrl::parse(path.to_str().unwrap()).unwrap();
        let mut reader = url.connect(5_000).unwrap();
        reader.batch_execute("CREATE TABLE t (x INTEGER)").unwrap();
        let writer = super::Writer::start(
            Box::new(move || url.connect(5_000)),
            path,
            256,
            std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0)),
        )
        .unwrap();
        (writer, reader, dir)
    }

    fn stored(reader: &mut crate::conn::DbConn) -> Vec<i64> {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct X {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            x: i64,
        }
        diesel::sql_query("SELECT x FROM t ORDER BY x")
            .load::<X>(reader)
            .unwrap()
            .into_iter()
            .map(|r| r.x)
            .collect()
    }

    fn insert(conn: &mut crate::conn::DbConn, x: i64) -> clientele_domain::Result<()> {
        conn.batch_execute(&format!("INSERT INTO t (x) VALUES ({x})"))
            .map_err(crate::errors::db)
    }

    /// Repeatable jobs share a batch without savepoints; when one of them fails after
    /// writing, the batch runs again with a savepoint each: the others are stored once,
    /// the failed one not at all, and it gets its own error.
    #[test]
    fn a_failed_repeatable_job_rolls_back_alone() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        let (writer, mut reader, dir) = writer_on_fresh_file("repeat");
        let writer = Arc::new(writer);
        // Each submitter on a thread of its own, as requests on the server's workers.
        fn on_thread<T: Send + 'static>(
            job: impl std::future::Future<Output = T> + Send + 'static,
        ) -> std::thread::JoinHandle<T> {
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().build();
                rt.unwrap().block_on(job)
            })
        }
        // The writer holds this job while the others queue, so they form one batch.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (holding, taken) = std::sync::mpsc::channel::<()>();
        let w = writer.clone();
        let blocker = on_thread(async move {
            w.submit(move |conn| {
                holding.send(()).unwrap();
                held.recv().unwrap();
                insert(conn, 0)
            })
            .await
        });
        // Taken, and its batch formed: the jobs below queue for the next one.
        taken.recv().unwrap();
        let runs = Arc::new(AtomicUsize::new(0));
        let mut jobs = Vec::new();
        for x in 1..=3i64 {
            let (w, runs) = (writer.clone(), runs.clone());
            jobs.push(on_thread(async move {
                w.submit_repeatable(move |conn| {
                    runs.fetch_add(1, Ordering::SeqCst);
                    insert(conn, x)?;
                    if x == 2 {
                        return Err(clientele_domain::Error::validation("x", "is two"));
                    }
                    Ok(x)
                })
                .await
            }));
            // In order: the batch runs them as they queued.
            let queued = |n: usize| super::QUEUE - writer.tx.capacity() >= n;
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while !queued(x as usize) && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        }
        // Three jobs waiting in the queue, behind the one the writer holds.
        assert_eq!(super::QUEUE - writer.tx.capacity(), 3);
        release.send(()).unwrap();
        blocker.join().unwrap().unwrap();
        let answers: Vec<_> = jobs.into_iter().map(|j| j.join().unwrap()).collect();
        assert_eq!(answers[0].as_ref().ok(), Some(&1));
        assert!(
            matches!(&answers[1], Err(clientele_domain::Error::Validation(v)) if v[0].field == "x"),
            "{:?}",
            answers[1]
        );
        assert_eq!(answers[2].as_ref().ok(), Some(&3));
        assert_eq!(stored(&mut reader), [0, 1, 3]);
        // Once without savepoints (1 and 2, then the rollback), once more with: 1, 2, 3.
        assert_eq!(runs.load(Ordering::SeqCst), 5);
        drop(reader);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// What a repeatable job's closure holds is dropped by its requester, on the
    /// requester's thread, after the answer: not on the writer, whose frees of other
    /// threads' memory queued it on their malloc arenas.
    #[test]
    fn a_jobs_closure_is_dropped_where_it_was_made() {
        use std::sync::{Arc, Mutex};
        struct Marker(Arc<Mutex<Option<String>>>);
        impl Drop for Marker {
            fn drop(&mut self) {
                let here = std::thread::current()
                    .name()
                    .unwrap_or("unnamed")
                    .to_string();
                *self.0.lock().unwrap() = Some(here);
            }
        }
        let (writer, mut reader, dir) = writer_on_fresh_file("drop");
        let dropped_on = Arc::new(Mutex::new(None));
        let marker = Marker(dropped_on.clone());
        let requester = std::thread::Builder::new()
            .name("requester".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                rt.block_on(writer.submit_repeatable(move |conn| {
                    let _held = &marker;
                    insert(conn, 7).map(|()| 7)
                }))
            })
            .unwrap();
        assert_eq!(requester.join().unwrap().unwrap(), 7);
        assert_eq!(dropped_on.lock().unwrap().as_deref(), Some("requester"));
        assert_eq!(stored(&mut reader), [7]);
        drop(reader);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A job alone in its batch runs without a savepoint: when it fails after writing,
    /// the batch's rollback undoes its writes, and later jobs still commit.
    #[test]
    fn a_lone_failed_job_leaves_nothing() {
        let (writer, mut reader, dir) = writer_on_fresh_file("lone");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let failed = rt.block_on(writer.submit(|conn| {
            insert(conn, 1)?;
            insert(conn, 2)?;
            Err::<(), _>(clientele_domain::Error::validation(
                "x",
                "fails after writing",
            ))
        }));
        assert!(matches!(
            failed,
            Err(clientele_domain::Error::Validation(_))
        ));
        rt.block_on(writer.submit(|conn| insert(conn, 3))).unwrap();
        assert_eq!(stored(&mut reader), [3]);
        drop(reader);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A committed job is answered only after its WAL is synced: with a WAL that cannot
    /// be synced, no job may hear that its write is stored.
    #[test]
    fn answers_wait_for_the_wal_sync() {
        use super::{sync_commits, Finish, Once, WriteJob};
        type Spent = Once<fn(&mut crate::DbConn) -> clientele_domain::Result<usize>>;
        let dir = std::env::temp_dir().join(format!("clientele-sync-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let database = dir.join("s.db");
        let (to_sync, syncs) = std::sync::mpsc::channel();
        let batch = |n: usize| {
            let mut answers = Vec::new();
            let mut finishers: Vec<Box<dyn Finish>> = Vec::new();
            for i in 0..n {
                let (reply, answer) = tokio::sync::oneshot::channel();
                let body: Spent = Once(None);
                finishers.push(Box::new(WriteJob {
                    body,
                    result: Some(Ok(i)),
                    reply,
                }));
                answers.push(answer);
            }
            to_sync.send(finishers).unwrap();
            answers
        };
        let outcomes = |answers: Vec<
            tokio::sync::oneshot::Receiver<super::Reply<usize, Spent>>,
        >|
         -> Vec<bool> {
            answers
                .into_iter()
                .map(|a| a.blocking_recv().unwrap().0.is_ok())
                .collect()
        };

        // No WAL file: the sync fails, so does every job of the batch.
        let missing = batch(2);
        let database_ = database.clone();
        let thread = std::thread::spawn(move || sync_commits(&database_, syncs));
        assert_eq!(outcomes(missing), [false, false]);

        // With the WAL there, the same path answers Ok, in order.
        std::fs::write(super::wal_of(&database), b"frames").unwrap();
        let present = batch(3);
        assert_eq!(outcomes(present), [true, true, true]);

        drop(to_sync);
        thread.join().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
