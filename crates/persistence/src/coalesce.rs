//! Reads of one row by key, answered together while the pool is busy.
//!
//! On PostgreSQL a get by id is one round trip: a hop to a blocking thread, a statement
//! in PostgreSQL, a hop back. At 32 connections 41% of the server's samples were that
//! hopping, and PostgreSQL's own cost per statement bounded get-by-id at 22-23% of the
//! `/health` ceiling however cheap the server (BENCHMARKS.md). Here a request leaves
//! its key in a queue and waits for a connection; whoever gets one first reads every
//! key queued by then, one statement per group (a tenant's project), answers each
//! waiter, and reads on while keys are queued. A request that finds a connection free
//! reads alone at once: nothing waits to fill a batch, so a batch is only as large as
//! the queue the load has already built.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use clientele_domain::{Error, Result};
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

/// Most keys one statement reads: the rest wait for the next. 64 ids are 64 index
/// probes, well under a millisecond; far longer statements would make the first
/// waiters wait for the last.
pub(crate) const MOST_KEYS: usize = 64;

/// Reads `keys` of `group`, each found row with its key, in any order; a key not found
/// is left out.
pub(crate) type ReadMany<C, G, K, T> = fn(&mut C, &G, &[K]) -> Result<Vec<(K, T)>>;

/// The keys waiting to be read, by group, and the leaders reading them.
pub(crate) struct Coalescer<G, K, T> {
    waiting: Mutex<Vec<Waiter<G, K, T>>>,
    tickets: AtomicU64,
    /// One permit per leader. A leader reads on while keys wait (and no other request
    /// waits for a connection), so fewer leaders make larger batches, and more keep
    /// the gets going when one is held up. On 2 cores, PostgreSQL get-contact at 32
    /// connections on a pool of 4, two or three rounds each (BENCHMARKS.md,
    /// thirtieth session): one leader 0.32-0.38 of the `/health` ceiling, but with
    /// sign-ins running its p99 2.9-3.5 times its p99 without (the target is under
    /// 2); two 0.25-0.27 and 1.49-1.73x; three 0.28-0.29 and 1.48-1.59x. Three in
    /// four connections is that measurement carried to other pool sizes, not
    /// measured on them.
    leaders: Arc<Semaphore>,
}

pub(crate) struct Waiter<G, K, T> {
    ticket: u64,
    group: G,
    key: K,
    answer: oneshot::Sender<Result<Option<T>>>,
}

/// What a waiter is told: its row, none, or the error of its group's statement.
pub(crate) type Answer<T> = oneshot::Receiver<Result<Option<T>>>;

impl<G, K, T> Coalescer<G, K, T>
where
    G: PartialEq + Clone,
    K: PartialEq,
    T: Clone,
{
    /// A queue read by at most `leaders` connections at once.
    pub(crate) fn new(leaders: usize) -> Self {
        Self {
            waiting: Mutex::new(Vec::new()),
            tickets: AtomicU64::new(0),
            leaders: Arc::new(Semaphore::new(leaders.max(1))),
        }
    }

    /// Waits to be one of the leaders.
    pub(crate) async fn lead(&self) -> Result<OwnedSemaphorePermit> {
        self.leaders
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Internal("the coalesced reads are closed".into()))
    }

    /// Queues `key` of `group`; the ticket names it for [`Coalescer::take`].
    pub(crate) fn enqueue(&self, group: G, key: K) -> (u64, Answer<T>) {
        let ticket = self.tickets.fetch_add(1, Ordering::Relaxed);
        let (answer, told) = oneshot::channel();
        self.lock().push(Waiter {
            ticket,
            group,
            key,
            answer,
        });
        (ticket, told)
    }

    /// For the holder of a connection: `None` when `ticket` was taken by another
    /// leader (its answer is on the way); otherwise its waiter first, then as many
    /// others as [`MOST_KEYS`] allows, oldest first, whatever their group.
    pub(crate) fn take(&self, ticket: u64) -> Option<Vec<Waiter<G, K, T>>> {
        let mut waiting = self.lock();
        let own = waiting.iter().position(|w| w.ticket == ticket)?;
        let mut batch = vec![waiting.remove(own)];
        let more = waiting.len().min(MOST_KEYS - 1);
        batch.extend(waiting.drain(..more));
        Some(batch)
    }

    /// For a leader that has answered its batch: the oldest waiters, up to
    /// [`MOST_KEYS`], if any. Reading them on the connection in hand saves them the
    /// hop back to the event loop for a leader and out again to a blocking thread.
    pub(crate) fn take_next(&self) -> Option<Vec<Waiter<G, K, T>>> {
        let mut waiting = self.lock();
        if waiting.is_empty() {
            return None;
        }
        let n = waiting.len().min(MOST_KEYS);
        Some(waiting.drain(..n).collect())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Waiter<G, K, T>>> {
        // A panic while holding it cannot leave the queue half-changed (each change is
        // one Vec call), so a poisoned lock is still a sound queue.
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Reads `batch` on `conn`, one `read` per group, and tells every waiter its answer. A
/// waiter that has stopped waiting (its request dropped) is not read for. False when a
/// statement failed.
pub(crate) fn answer<C, G, K, T>(
    conn: &mut C,
    mut batch: Vec<Waiter<G, K, T>>,
    read: ReadMany<C, G, K, T>,
) -> bool
where
    G: PartialEq + Clone,
    K: PartialEq + Clone,
    T: Clone,
{
    batch.retain(|w| !w.answer.is_closed());
    let mut all_read = true;
    while let Some(first) = batch.first() {
        let group = first.group.clone();
        let (these, rest): (Vec<_>, Vec<_>) = batch.into_iter().partition(|w| w.group == group);
        batch = rest;
        let keys: Vec<K> = these.iter().map(|w| w.key.clone()).collect();
        match read(conn, &group, &keys) {
            Ok(rows) => {
                for w in these {
                    let row = rows
                        .iter()
                        .find(|(k, _)| *k == w.key)
                        .map(|(_, t)| t.clone());
                    let _ = w.answer.send(Ok(row));
                }
            }
            Err(e) => {
                all_read = false;
                for w in these {
                    let _ = w.answer.send(Err(copy(&e)));
                }
            }
        }
    }
    all_read
}

/// Tells every waiter of `batch` that no read was made.
pub(crate) fn fail<G, K, T>(batch: Vec<Waiter<G, K, T>>, e: &Error) {
    for w in batch {
        let _ = w.answer.send(Err(copy(e)));
    }
}

/// What a waiter receives, or an internal error if its reader was lost (a panic in
/// the read drops the senders).
pub(crate) fn received<T>(
    told: std::result::Result<Result<Option<T>>, oneshot::error::RecvError>,
) -> Result<Option<T>> {
    told.unwrap_or_else(|_| Err(Error::Internal("a coalesced read was lost".into())))
}

/// The same error for each waiter of a failed statement: a statement's error is
/// "unavailable" (retry) or internal, and keeps its message.
fn copy(e: &Error) -> Error {
    match e {
        Error::Unavailable(m) => Error::Unavailable(m.clone()),
        Error::Internal(m) => Error::Internal(m.clone()),
        other => Error::Internal(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake connection: records each statement's group and keys; a group named
    /// "down" fails.
    #[derive(Default)]
    struct Log(Vec<(&'static str, Vec<u32>)>);

    fn read(log: &mut Log, group: &&'static str, keys: &[u32]) -> Result<Vec<(u32, String)>> {
        log.0.push((group, keys.to_vec()));
        if *group == "down" {
            return Err(Error::Unavailable("the database is down".into()));
        }
        // Odd keys exist; each row says whose it is.
        Ok(keys
            .iter()
            .filter(|k| *k % 2 == 1)
            .map(|k| (*k, format!("{group}/{k}")))
            .collect())
    }

    fn told(mut a: Answer<String>) -> Result<Option<String>> {
        a.try_recv().expect("answered")
    }

    /// A leader reads every queued key, one statement per group, each waiter getting
    /// its own row (or none), the failing group's waiters its error and only they.
    #[test]
    fn one_statement_per_group_answers_each_waiter() {
        let q = Coalescer::<&'static str, u32, String>::new(1);
        let (a1, r_a1) = q.enqueue("a", 1);
        let (_, r_b3) = q.enqueue("b", 3);
        let (_, r_a2) = q.enqueue("a", 2);
        let (_, r_down) = q.enqueue("down", 5);
        let (_, r_a1_again) = q.enqueue("a", 1);
        let (_, r_b1) = q.enqueue("b", 1);
        let batch = q.take(a1).expect("its own waiter is queued");
        assert_eq!(batch.len(), 6);
        assert!(q.take(a1).is_none(), "taken once");
        let mut log = Log::default();
        assert!(!answer(&mut log, batch, read), "a statement failed");
        assert_eq!(
            log.0,
            vec![("a", vec![1, 2, 1]), ("b", vec![3, 1]), ("down", vec![5])]
        );
        assert_eq!(told(r_a1).unwrap().as_deref(), Some("a/1"));
        assert_eq!(told(r_a1_again).unwrap().as_deref(), Some("a/1"));
        assert_eq!(told(r_a2).unwrap(), None);
        assert_eq!(told(r_b3).unwrap().as_deref(), Some("b/3"));
        assert_eq!(told(r_b1).unwrap().as_deref(), Some("b/1"), "not a's row 1");
        assert!(matches!(told(r_down), Err(Error::Unavailable(m)) if m.contains("down")));
    }

    /// A leader takes its own waiter first, then the oldest, up to the bound; it reads
    /// on while others wait, oldest first; a waiter whose request is gone costs no
    /// statement.
    #[test]
    fn a_batch_is_bounded_and_starts_with_its_leader() {
        let q = Coalescer::<&'static str, u32, String>::new(1);
        let mut answers = Vec::new();
        for k in 0..(MOST_KEYS as u32 + 10) {
            answers.push(q.enqueue("a", k));
        }
        let (last, _) = answers.last().unwrap();
        let batch = q.take(*last).unwrap();
        assert_eq!(batch.len(), MOST_KEYS);
        assert_eq!(batch[0].key, MOST_KEYS as u32 + 9);
        assert_eq!(batch[1].key, 0, "then the oldest");
        let rest = q.take_next().unwrap();
        let keys: Vec<u32> = rest.iter().map(|w| w.key).collect();
        let expected: Vec<u32> = (MOST_KEYS as u32 - 1..MOST_KEYS as u32 + 9).collect();
        assert_eq!(keys, expected);
        assert!(q.take_next().is_none(), "none left");
        assert!(q.take(answers[0].0).is_none());
        drop(answers);
        let mut log = Log::default();
        assert!(answer(&mut log, rest, read));
        assert!(log.0.is_empty(), "nobody waits for these any more");
    }

    /// A batch that could not be read tells each waiter why.
    #[test]
    fn a_batch_without_a_connection_fails_each_waiter() {
        let q = Coalescer::<&'static str, u32, String>::new(1);
        let (t, r1) = q.enqueue("a", 1);
        let (_, r2) = q.enqueue("b", 2);
        fail(
            q.take(t).unwrap(),
            &Error::Unavailable("no connection".into()),
        );
        for r in [r1, r2] {
            assert!(matches!(told(r), Err(Error::Unavailable(m)) if m == "no connection"));
        }
    }
}
