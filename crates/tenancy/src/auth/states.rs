//! Authentication state remembered per user, so that an authenticated request does not
//! read its user and customer rows every time.
//!
//! An entry is used only while both hold:
//! - the database's auth epoch is the one it was read under: every committed change to
//!   token versions, roles, users or customer status in this process moves the epoch
//!   before its caller is answered, so a logout, a role change or a suspension is seen
//!   by the very next request;
//! - it is younger than [`TTL`]: a change made by another server process (several
//!   servers on one PostgreSQL) is seen within that time.

use std::time::Duration;

use clientele_persistence::expiring::Expiring;
use clientele_persistence::identity::AuthState;
use uuid::Uuid;

/// How long another process's change may go unseen.
pub const TTL: Duration = Duration::from_secs(1);
/// Bounds the memory: when full, the map starts over.
const MAX_ENTRIES: usize = 10_000;

/// Per user: the auth epoch the state was read under, and the state.
pub struct AuthStates(Expiring<Uuid, (u64, AuthState)>);

impl Default for AuthStates {
    fn default() -> Self {
        AuthStates::with_ttl(TTL)
    }
}

impl AuthStates {
    pub fn with_ttl(ttl: Duration) -> AuthStates {
        AuthStates(Expiring::new(ttl, MAX_ENTRIES))
    }

    /// The state of `user` if it was read under `epoch` less than the TTL ago.
    pub fn get(&self, user: Uuid, epoch: u64) -> Option<AuthState> {
        let (read_under, state) = self.0.get(&user)?;
        (read_under == epoch).then_some(state)
    }

    /// Remembers `state`, read after `epoch` was taken: an entry tagged with an epoch
    /// read before the state cannot hide a change committed in between.
    pub fn put(&self, user: Uuid, epoch: u64, state: AuthState) {
        self.0.put(user, (epoch, state));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clientele_domain::identity::UserRole;

    fn state(tv: i64) -> AuthState {
        AuthState {
            token_version: tv,
            role: UserRole::PlatformAdmin,
            customer_id: None,
            tenant_status: None,
        }
    }

    #[test]
    fn entries_hold_only_for_their_epoch_and_age() {
        let cache = AuthStates::default();
        let user = Uuid::now_v7();
        assert_eq!(cache.get(user, 0), None);
        cache.put(user, 3, state(1));
        assert_eq!(cache.get(user, 3), Some(state(1)));
        // A change committed since: the epoch moved, the entry no longer counts.
        assert_eq!(cache.get(user, 4), None);
        cache.put(user, 4, state(2));
        assert_eq!(cache.get(user, 4), Some(state(2)));
        assert_eq!(cache.get(Uuid::now_v7(), 4), None);

        let expired = AuthStates::with_ttl(Duration::ZERO);
        expired.put(user, 0, state(1));
        assert_eq!(expired.get(user, 0), None);
    }

    #[test]
    fn the_map_stays_bounded() {
        let cache = AuthStates::default();
        for _ in 0..MAX_ENTRIES + 5 {
            cache.put(Uuid::now_v7(), 0, state(1));
        }
        assert!(cache.0.len() <= MAX_ENTRIES);
    }
}
