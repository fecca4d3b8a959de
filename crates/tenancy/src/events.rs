//! The event feed: what the billing system and webhooks consume, and the audit log.

use clientele_domain::access::{feed_access, Actor};
use clientele_domain::Result;
use clientele_persistence::events::{self as repo, Event, FeedPosition, FeedQuery};
use clientele_persistence::Db;
use uuid::Uuid;

/// Events after `after`, oldest first; `customer` narrows a platform-wide reader to
/// one tenant.
pub async fn feed(
    db: &Db,
    actor: &Actor,
    customer: Option<Uuid>,
    after: FeedPosition,
    types: Vec<String>,
    limit: i64,
) -> Result<Vec<Event>> {
    let tenant = feed_access(&actor.principal, customer)?;
    db.read(move |conn| {
        repo::feed(
            conn,
            &FeedQuery {
                tenant,
                after,
                types,
                limit,
            },
        )
    })
    .await
}
