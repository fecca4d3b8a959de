//! A map of values read from the database, each trusted for a fixed time after its
//! read, that starts over when full: what the process remembers between requests
//! (authentication state, searches' match counts) without a cache crate.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Expiring<K, V> {
    ttl: Duration,
    max_entries: usize,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> Expiring<K, V> {
    /// Entries younger than `ttl`, at most `max_entries` of them.
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        Expiring {
            ttl,
            max_entries,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The value of `key` if it was read less than the TTL ago.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let entries = self.entries.lock().ok()?;
        let (read_at, value) = entries.get(key)?;
        (read_at.elapsed() < self.ttl).then(|| value.clone())
    }

    /// Remembers `value`, read just now.
    pub fn put(&self, key: K, value: V) {
        self.put_read_at(key, value, Instant::now());
    }

    /// Remembers `value`, read at `read_at`. A full map is emptied first: it bounds the
    /// memory, and what it forgets is only read again.
    pub fn put_read_at(&self, key: K, value: V, read_at: Instant) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.max_entries && !entries.contains_key(&key) {
                entries.clear();
            }
            entries.insert(key, (read_at, value));
        }
    }

    /// Entries held, young or not.
    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The instant `secs` seconds ago, to date an entry in a test instead of sleeping
/// past its TTL. Monotonic time counts from boot: more than a few minutes have passed
/// on any test machine.
#[cfg(test)]
pub(crate) fn ago(secs: u64) -> Instant {
    Instant::now()
        .checked_sub(Duration::from_secs(secs))
        .expect("the machine has been up for longer than a test's TTL")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_holds_for_its_ttl_only() {
        let map = Expiring::new(Duration::from_secs(60), 10);
        assert_eq!(map.get("a"), None);
        map.put("a", 1);
        map.put_read_at("b", 2, ago(55));
        map.put_read_at("c", 3, ago(61));
        assert_eq!(map.get("a"), Some(1));
        assert_eq!(map.get("b"), Some(2));
        assert_eq!(map.get("c"), None);
        // Read again: young again.
        map.put("c", 4);
        assert_eq!(map.get("c"), Some(4));
    }

    #[test]
    fn a_full_map_starts_over() {
        let map = Expiring::new(Duration::from_secs(60), 3);
        for k in 0..3 {
            map.put(k, k);
        }
        // Reading again what it holds does not empty it.
        map.put(2, 20);
        assert_eq!(
            (map.len(), map.get(&0), map.get(&2)),
            (3, Some(0), Some(20))
        );
        map.put(3, 30);
        assert_eq!((map.len(), map.get(&0), map.get(&3)), (1, None, Some(30)));
    }
}
