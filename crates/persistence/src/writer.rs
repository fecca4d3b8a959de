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
    /// Runs the job inside the open transaction; returns how to answer it.
    fn run(self: Box<Self>, conn: &mut DbConn) -> Box<dyn Finish>;
    /// Answers the job without running it.
    fn fail(self: Box<Self>, err: Error);
}

trait Finish: Send {
    /// Delivers the job's result once the commit outcome is known.
    fn finish(self: Box<Self>, commit: Result<()>);
}

struct WriteJob<T, F> {
    f: F,
    reply: oneshot::Sender<Result<T>>,
}

struct Done<T> {
    result: Result<T>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> Job for WriteJob<T, F>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &mut DbConn) -> Box<dyn Finish> {
        let this = *self;
        let result = crate::db::transaction(conn, this.f);
        Box::new(Done {
            result,
            reply: this.reply,
        })
    }

    fn fail(self: Box<Self>, err: Error) {
        let _ = self.reply.send(Err(err));
    }
}

impl<T: Send + 'static> Finish for Done<T> {
    fn finish(self: Box<Self>, commit: Result<()>) {
        let result = match (self.result, commit) {
            // A job that failed was rolled back to its savepoint: its own error stands.
            (Err(e), _) => Err(e),
            (Ok(_), Err(e)) => Err(e),
            (Ok(v), Ok(())) => Ok(v),
        };
        // The requester may have gone away (client disconnected); the write stands.
        let _ = self.reply.send(result);
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
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Box::new(WriteJob { f, reply }))
            .await
            .map_err(|_| Error::Unavailable("the database writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Internal("a write failed unexpectedly (see the logs)".into()))?
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

/// Runs one group commit. `Err` means the connection must be replaced; every job has
/// been answered either way.
fn commit_batch(conn: &mut DbConn, batch: &mut Vec<Box<dyn Job>>, ends: &Ends) -> Result<()> {
    let DbConn::Sqlite(sqlite) = conn else {
        for job in batch.drain(..) {
            job.fail(Error::Internal("the writer only serves SQLite".into()));
        }
        return Ok(());
    };
    // IMMEDIATE takes the write lock up front, so the commit cannot fail on a lock
    // upgrade; busy_timeout makes it wait if another process holds it.
    if let Err(e) = AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE") {
        let err = Error::Unavailable(format!("cannot begin a write transaction: {e}"));
        for job in batch.drain(..) {
            job.fail(err_clone(&err));
        }
        return Err(err);
    }
    let mut finishers: Vec<Box<dyn Finish>> = Vec::with_capacity(batch.len());
    let mut broken: Option<Error> = None;
    let mut jobs = batch.drain(..);
    for job in jobs.by_ref() {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run(conn))) {
            Ok(finish) => finishers.push(finish),
            Err(_) => {
                broken = Some(Error::Internal("a write job panicked".into()));
                break;
            }
        }
        // SQLite rolls the whole transaction back on some errors (disk full, I/O):
        // then nothing of this batch is stored, and later jobs must not run outside it.
        if depth(conn) != Some(1) {
            broken = Some(Error::Unavailable(
                "the database rolled back the write transaction".into(),
            ));
            break;
        }
    }
    if let Some(err) = broken {
        for job in jobs {
            job.fail(err_clone(&err));
        }
        if let DbConn::Sqlite(sqlite) = conn {
            let _ = AnsiTransactionManager::rollback_transaction(sqlite);
        }
        crate::db::publish_auth_change(&ends.auth_epoch);
        for f in finishers {
            f.finish(Err(err_clone(&err)));
        }
        return Err(err);
    }
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

    /// A committed job is answered only after its WAL is synced: with a WAL that cannot
    /// be synced, no job may hear that its write is stored.
    #[test]
    fn answers_wait_for_the_wal_sync() {
        use super::{sync_commits, Done, Finish};
        let dir = std::env::temp_dir().join(format!("clientele-sync-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let database = dir.join("s.db");
        let (to_sync, syncs) = std::sync::mpsc::channel();
        let batch = |n: usize| {
            let mut answers = Vec::new();
            let mut finishers: Vec<Box<dyn Finish>> = Vec::new();
            for i in 0..n {
                let (reply, answer) = tokio::sync::oneshot::channel();
                finishers.push(Box::new(Done {
                    result: Ok(i),
                    reply,
                }));
                answers.push(answer);
            }
            to_sync.send(finishers).unwrap();
            answers
        };
        let outcomes = |answers: Vec<
            tokio::sync::oneshot::Receiver<clientele_domain::Result<usize>>,
        >|
         -> Vec<bool> {
            answers
                .into_iter()
                .map(|a| a.blocking_recv().unwrap().is_ok())
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
