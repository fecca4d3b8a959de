//! How many contacts a search's terms matched in a project, as the match count of
//! [`crate::contacts::list`] read it a short while ago.
//!
//! That count only chooses where a search's page is looked for first (the list's
//! window or the terms' indexes); either way the page is exact. A remembered count that
//! has gone stale therefore costs at most a slower search, never a wrong answer, and
//! the count itself was about half of a broad name search's database time (2,100 index
//! entries, about 1 ms of PostgreSQL's CPU). A search box asks for the same names again
//! and again, from every user of a project and on every page of a walk.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

/// How long a count is trusted: a name that matches thousands of a project's contacts
/// does not stop doing so within it, short of a bulk import or erasure.
pub const TTL: Duration = Duration::from_secs(60);
/// Bounds the memory (about 100 bytes an entry): when full, the map starts over.
const MAX_ENTRIES: usize = 4_096;

struct Entry {
    /// Matches counted, up to `cap`.
    matched: i64,
    /// Where the count stopped: `matched == cap` means "at least".
    cap: i64,
    read_at: Instant,
}

/// Per project and search key; shared by every connection of a [`crate::Db`].
pub struct SearchCounts {
    ttl: Duration,
    entries: Mutex<HashMap<(Uuid, String), Entry>>,
}

impl Default for SearchCounts {
    fn default() -> Self {
        SearchCounts::with_ttl(TTL)
    }
}

impl SearchCounts {
    pub fn with_ttl(ttl: Duration) -> SearchCounts {
        SearchCounts {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` matches at least `enough` contacts of `project`, if a count read
    /// less than the TTL ago answers that: one that stopped at a cap of `enough` or more,
    /// or one that found fewer than its cap (then it is exact).
    pub fn at_least(&self, project: Uuid, key: &str, enough: i64) -> Option<bool> {
        let entries = self.entries.lock().ok()?;
        let e = entries.get(&(project, key.to_string()))?;
        if e.read_at.elapsed() >= self.ttl {
            return None;
        }
        if e.matched >= enough {
            Some(true)
        } else if e.matched < e.cap {
            Some(false)
        } else {
            // Stopped at a cap below `enough`: not known.
            None
        }
    }

    /// Remembers that `key` matched `matched` contacts of `project`, counting up to `cap`.
    pub fn put(&self, project: Uuid, key: &str, matched: i64, cap: i64) {
        self.put_read_at(project, key, matched, cap, Instant::now());
    }

    fn put_read_at(&self, project: Uuid, key: &str, matched: i64, cap: i64, read_at: Instant) {
        if let Ok(mut entries) = self.entries.lock() {
            let k = (project, key.to_string());
            if entries.len() >= MAX_ENTRIES && !entries.contains_key(&k) {
                entries.clear();
            }
            entries.insert(
                k,
                Entry {
                    matched,
                    cap,
                    read_at,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_answers_what_it_read_and_nothing_more() {
        let counts = SearchCounts::default();
        let (p, q) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(counts.at_least(p, "anna", 2_100), None);

        // Stopped at its cap: at least that many, not known beyond.
        counts.put(p, "anna", 2_100, 2_100);
        assert_eq!(counts.at_least(p, "anna", 2_100), Some(true));
        assert_eq!(counts.at_least(p, "anna", 500), Some(true));
        assert_eq!(counts.at_least(p, "anna", 4_100), None);
        // Per project and per key.
        assert_eq!(counts.at_least(q, "anna", 2_100), None);
        assert_eq!(counts.at_least(p, "ann", 2_100), None);

        // Below its cap the count is exact, for any threshold.
        counts.put(p, "rhea", 420, 2_100);
        assert_eq!(counts.at_least(p, "rhea", 2_100), Some(false));
        assert_eq!(counts.at_least(p, "rhea", 4_100), Some(false));
        assert_eq!(counts.at_least(p, "rhea", 420), Some(true));
        assert_eq!(counts.at_least(p, "rhea", 421), Some(false));
    }

    #[test]
    fn a_count_is_forgotten_after_its_ttl() {
        let counts = SearchCounts::default();
        let p = Uuid::now_v7();
        // Monotonic time since boot: more than a minute has passed on any test machine.
        let ago = |secs| {
            Instant::now()
                .checked_sub(Duration::from_secs(secs))
                .unwrap()
        };
        let (fresh, stale) = (ago(TTL.as_secs() - 5), ago(TTL.as_secs() + 1));
        counts.put_read_at(p, "anna", 2_100, 2_100, fresh);
        counts.put_read_at(p, "rhea", 3, 2_100, stale);
        assert_eq!(counts.at_least(p, "anna", 2_100), Some(true));
        assert_eq!(counts.at_least(p, "rhea", 2_100), None);
    }

    #[test]
    fn a_full_map_starts_over() {
        let counts = SearchCounts::default();
        let p = Uuid::now_v7();
        for i in 0..MAX_ENTRIES {
            counts.put(p, &format!("name{i}"), 1, 2_100);
        }
        assert_eq!(counts.at_least(p, "name0", 2_100), Some(false));
        counts.put(p, "one more", 1, 2_100);
        assert_eq!(counts.at_least(p, "name0", 2_100), None);
        assert_eq!(counts.at_least(p, "one more", 2_100), Some(false));
        // Counting again what it holds does not empty it.
        counts.put(p, "one more", 3, 2_100);
        assert_eq!(counts.at_least(p, "one more", 3), Some(true));
    }
}
