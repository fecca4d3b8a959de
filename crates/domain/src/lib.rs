//! Clientele domain: identifiers, value objects and aggregate rules.
//!
//! Nothing here does IO: no database, no HTTP. Every rule that decides whether a change
//! is allowed lives here so that the API, the CLI and the tests all obey the same one.

#[macro_use]
mod names;

pub mod access;
pub mod audit;
pub mod cards;
pub mod company;
pub mod contact;
pub mod contact_parts;
pub mod currency;
pub mod customer;
pub mod email;
pub mod error;
pub mod event;
pub mod geo;
pub mod hierarchy;
pub mod identity;
pub mod json;
pub mod phone;
pub mod settings;
pub mod time;
pub mod webhook;

pub use audit::Audit;
pub use error::{Error, FieldError, Result};

/// A new time-ordered identifier (UUID v7): index-friendly and sortable by creation.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}
