//! Clientele tenancy: tenant accounts (customers) and, as the hierarchy grows,
//! projects, channels, billing accounts and settings inheritance.
//!
//! Each use case is one transaction: load, apply the domain rule, save, append the
//! event. Handlers call exactly one of these.

pub mod api_keys;
pub mod auth;
pub mod billing;
pub mod channels;
pub mod customers;
pub mod events;
pub mod identity;
pub mod limits;
pub mod members;
pub mod projects;
pub mod scope;
pub mod settings;
pub mod webhooks;
