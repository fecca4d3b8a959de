//! `Idempotency-Key` on creating requests: the first request with a key creates; a
//! retry with the same key and the same request gets the same resource back instead
//! of a second one; the same key with another request is refused.
//!
//! The key is recorded in the creating transaction, so a crash can never leave a
//! resource without its key or a key without its resource, and two concurrent
//! requests with one key cannot both create (the second one's insert of the key
//! fails and its whole transaction rolls back).

use chrono::TimeDelta;
use clientele_domain::time::now;
use clientele_domain::{Error, Result};
use clientele_persistence::idempotency::{self as repo, Record};
use clientele_persistence::DbConn;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// How long a key is honoured; after that it may be used again.
pub const KEY_LIFETIME: TimeDelta = TimeDelta::hours(24);
pub const KEY_MAX: usize = 255;

/// A key and what identifies the request made with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    pub key: String,
    /// Method and path: a key belongs to one endpoint and one parent resource.
    pub request_path: String,
    /// Hash of the request body as parsed JSON (whitespace and key order do not count).
    pub fingerprint: String,
}

impl Idempotency {
    /// Checks the header value and fingerprints the body.
    pub fn new(key: &str, request_path: String, body: &serde_json::Value) -> Result<Self> {
        let key = key.trim();
        if key.is_empty() || key.len() > KEY_MAX || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::validation(
                "Idempotency-Key",
                format!("must be 1 to {KEY_MAX} visible ASCII characters"),
            ));
        }
        // serde_json's map is ordered by key, so equal documents print the same.
        let canonical = body.to_string();
        let digest = Sha256::digest(canonical.as_bytes());
        Ok(Idempotency {
            key: key.to_string(),
            request_path,
            fingerprint: format!("{digest:x}"),
        })
    }
}

/// What a create did: made something new, or found what the same request made before.
#[derive(Debug, Clone, PartialEq)]
pub enum Created<T> {
    New(T),
    Replayed(Uuid),
}

/// Before creating: the id created by an earlier identical request, if any. A key
/// reused for another request is a 422 naming the header.
pub fn earlier(
    conn: &mut DbConn,
    customer_id: Uuid,
    idem: Option<&Idempotency>,
) -> Result<Option<Uuid>> {
    let Some(idem) = idem else {
        return Ok(None);
    };
    let Some(record) = repo::find(conn, customer_id, &idem.key)? else {
        return Ok(None);
    };
    if record.created_at + KEY_LIFETIME < now() {
        repo::delete(conn, customer_id, &idem.key)?;
        return Ok(None);
    }
    if record.request_path != idem.request_path || record.fingerprint != idem.fingerprint {
        return Err(Error::validation(
            "Idempotency-Key",
            "was already used with a different request; use a new key for a new request",
        ));
    }
    Ok(Some(record.resource_id))
}

/// Claims the key for `resource_id`, in the creating transaction and BEFORE the
/// resource is written: a concurrent request with the same key then waits on the key's
/// row and fails with [`lost_race`] (and retries into a replay) instead of running
/// into the resource's own unique constraints.
pub fn claim(
    conn: &mut DbConn,
    customer_id: Uuid,
    idem: Option<&Idempotency>,
    resource_id: Uuid,
) -> Result<()> {
    let Some(idem) = idem else {
        return Ok(());
    };
    repo::insert(
        conn,
        &Record {
            customer_id,
            key: idem.key.clone(),
            request_path: idem.request_path.clone(),
            fingerprint: idem.fingerprint.clone(),
            resource_id,
            created_at: now(),
        },
    )
}

/// True for the error of a concurrent request that recorded the same key first: the
/// caller retries once, which then replays.
pub fn lost_race(e: &Error) -> bool {
    matches!(
        e,
        Error::Conflict {
            code: "idempotency_key_in_use",
            ..
        }
    )
}
