//! Clientele persistence: one diesel code path over SQLite and PostgreSQL.
//!
//! `Db` is the only way in. Reads run on a pooled connection on a blocking thread;
//! writes run in a transaction, on SQLite through a single writer thread that groups
//! concurrent writes into one durable commit (see `writer`). Repositories are plain
//! functions over `&mut DbConn` so that a use case can compose several in one
//! transaction.

pub mod api_keys;
pub mod billing_accounts;
pub mod channels;
pub mod companies;
pub mod conn;
pub mod contact_parts;
pub mod contacts;
pub mod customers;
pub mod db;
pub mod errors;
pub mod events;
pub mod idempotency;
pub mod identity;
pub mod migrations;
pub mod projects;
pub mod schema;
pub mod webhooks;
mod writer;

pub use conn::{Backend, DatabaseUrl, DbConn};
pub use db::{Db, DbOptions};
