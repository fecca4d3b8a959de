/// Runs a create once more when a concurrent request with the same Idempotency-Key
/// recorded it first: the second run replays what that one created.
macro_rules! create_once {
    ($call:expr) => {{
        match $call.await {
            Err(e) if clientele_crm::idempotency::lost_race(&e) => $call.await,
            other => other,
        }
    }};
}

pub mod api_keys;
pub mod auth;
pub mod billing;
pub mod companies;
pub mod contact_parts;
pub mod contacts;
pub mod customers;
pub mod docs;
pub mod events;
pub mod members;
pub mod ops;
pub mod projects;
pub mod webhooks;
