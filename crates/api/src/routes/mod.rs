pub mod api_keys;
pub mod auth;
pub mod customers;
pub mod docs;
pub mod events;
pub mod members;
pub mod ops;
pub mod webhooks;
