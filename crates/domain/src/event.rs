//! Events: facts that happened, written in the same transaction as the change.

use serde_json::Value;
use uuid::Uuid;

/// An event about to be appended to the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDraft {
    /// Dotted type name: `customer.created`, `customer.suspended`...
    pub event_type: &'static str,
    pub customer_id: Uuid,
    pub project_id: Option<Uuid>,
    /// The object the event is about.
    pub subject_id: Uuid,
    /// The new state and, for updates, the changed fields.
    pub payload: Value,
}
