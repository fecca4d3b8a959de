//! Clientele persistence: one diesel code path over SQLite and PostgreSQL.
//!
//! `Db` is the only way in. Reads run on a pooled connection on a blocking thread;
//! writes run in a transaction, on SQLite through a single writer thread that groups
//! concurrent writes into one durable commit (see `writer`). Repositories are plain
//! functions over `&mut DbConn` so that a use case can compose several in one
//! transaction.
//!
//! Every `Insertable` row says `treat_none_as_default_value = false`: a `None` binds
//! NULL. Otherwise diesel writes `DEFAULT` for it on PostgreSQL and never keeps such
//! an insert prepared, so PostgreSQL parsed and planned every create's inserts again.
//! No nullable column has a default to lose.

/// A multi-row INSERT of `$rows` into `$table`, as one statement. Diesel's
/// multi-backend connection cannot express batch inserts (it would need the two
/// backends' `DEFAULT` keyword rules to agree), so the statement is built for the
/// concrete connection; the rows and the SQL are the same on both.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            $crate::conn::DbConn::Sqlite(c) => diesel::insert_into($table).values($rows).execute(c),
            $crate::conn::DbConn::Pg(c) => diesel::insert_into($table).values($rows).execute(c),
        }
    };
}

/// Runs `$body` with `$c` bound to the concrete connection, for statements on every
/// request's path. Diesel keeps a prepared statement whose type fixes all of its SQL
/// (nothing boxed) under that type, and never builds its text again; through the
/// multi-backend connection it built the text of every query to look it up, a fifth
/// of a get-by-id's CPU. The body is the same diesel query for both backends.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::conn::DbConn::Sqlite($c) => $body,
            $crate::conn::DbConn::Pg($c) => $body,
        }
    };
}

/// The first row of query `$q` as `$select`, if `$tenant_column` is tenant `$tenant`
/// (any tenant when `None`): each case one statement cached by its type (see
/// `on_backend!`). `$select` is expanded in each backend's arm, since selections are
/// typed by backend.
macro_rules! first_of_tenant {
    ($conn:expr, $q:expr, $tenant_column:expr, $tenant:expr, $select:expr) => {
        match $tenant.map(|t| t.to_string()) {
            Some(t) => on_backend!($conn, |c| $q
                .filter($tenant_column.eq(t))
                .select($select)
                .first(c)
                .optional()),
            None => on_backend!($conn, |c| $q.select($select).first(c).optional()),
        }
    };
}

/// The `$row` of `$table` with id `$id`, if it belongs to tenant `$tenant` (any
/// tenant when `None`).
macro_rules! find_of_tenant {
    ($conn:expr, $table:ident, $row:ty, $tenant:expr, $id:expr) => {{
        let q = $table::table.filter($table::id.eq($id.to_string()));
        first_of_tenant!($conn, q, $table::customer_id, $tenant, <$row>::as_select())
    }};
}

pub mod api_keys;
pub mod billing_accounts;
pub mod channels;
mod coalesce;
pub mod companies;
pub mod conn;
pub mod contact_parts;
pub mod contacts;
pub mod customers;
pub mod db;
pub mod errors;
pub mod events;
pub mod expiring;
pub mod idempotency;
pub mod identity;
pub mod migrations;
mod parsed;
mod prepared;
pub mod projects;
pub mod schema;
pub mod search_counts;
mod stamp;
pub mod webhooks;
mod writer;

pub use conn::{Backend, DatabaseUrl, DbConn};
pub use db::{Db, DbOptions};
