//! How many contacts a search's terms matched in a project, as the match count of
//! [`crate::contacts::list`] read it a short while ago.
//!
//! That count only chooses where a search's page is looked for first (the list's
//! window or the terms' indexes); either way the page is exact. A remembered count that
//! has gone stale therefore costs at most a slower search, never a wrong answer, and
//! the count itself was about half of a broad name search's database time (2,100 index
//! entries, about 1 ms of PostgreSQL's CPU). A search box asks for the same names again
//! and again, from every user of a project and on every page of a walk.

use std::time::Duration;
#[cfg(test)]
use std::time::Instant;

use uuid::Uuid;

use crate::expiring::Expiring;

/// How long a count is trusted: a name that matches thousands of a project's contacts
/// does not stop doing so within it, short of a bulk import or erasure.
pub const TTL: Duration = Duration::from_secs(60);
/// Bounds the memory (about 100 bytes an entry): when full, the map starts over.
const MAX_ENTRIES: usize = 4_096;

/// Per project and search key: (matches counted, the cap the count stopped at, where
/// `matched == cap` means "at least"). Shared by every connection of a [`crate::Db`].
pub struct SearchCounts(Expiring<(Uuid, String), (i64, i64)>);

impl Default for SearchCounts {
    fn default() -> Self {
        SearchCounts(Expiring::new(TTL, MAX_ENTRIES))
    }
}

impl SearchCounts {
    /// Whether `key` matches at least `enough` contacts of `project`, if a count read
    /// less than the TTL ago answers that: one that stopped at a cap of `enough` or more,
    /// or one that found fewer than its cap (then it is exact).
    pub fn at_least(&self, project: Uuid, key: &str, enough: i64) -> Option<bool> {
        let (matched, cap) = self.0.get(&(project, key.to_string()))?;
        if matched >= enough {
            Some(true)
        } else if matched < cap {
            Some(false)
        } else {
            // Stopped at a cap below `enough`: not known.
            None
        }
    }

    /// Remembers that `key` matched `matched` contacts of `project`, counting up to `cap`.
    pub fn put(&self, project: Uuid, key: &str, matched: i64, cap: i64) {
        self.0.put((project, key.to_string()), (matched, cap));
    }

    #[cfg(test)]
    fn put_read_at(&self, project: Uuid, key: &str, matched: i64, cap: i64, at: Instant) {
        self.0
            .put_read_at((project, key.to_string()), (matched, cap), at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expiring::ago;

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
        let (fresh, stale) = (ago(TTL.as_secs() - 5), ago(TTL.as_secs() + 1));
        counts.put_read_at(p, "anna", 2_100, 2_100, fresh);
        counts.put_read_at(p, "rhea", 3, 2_100, stale);
        assert_eq!(counts.at_least(p, "anna", 2_100), Some(true));
        assert_eq!(counts.at_least(p, "rhea", 2_100), None);
    }

    #[test]
    fn the_counts_are_bounded() {
        let counts = SearchCounts::default();
        let p = Uuid::now_v7();
        for i in 0..=MAX_ENTRIES {
            counts.put(p, &format!("name{i}"), 1, 2_100);
        }
        assert!(counts.0.len() <= MAX_ENTRIES);
        assert_eq!(
            counts.at_least(p, &format!("name{MAX_ENTRIES}"), 2_100),
            Some(false)
        );
    }
}
