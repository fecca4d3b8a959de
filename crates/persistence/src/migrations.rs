//! Migrations embedded in the binary, one set per backend.

use clientele_domain::{Error, Result};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::conn::DbConn;

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Applies pending migrations; returns the versions applied.
pub fn run(conn: &mut DbConn) -> Result<Vec<String>> {
    let applied = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE),
        DbConn::Pg(c) => c.run_pending_migrations(POSTGRES),
    }
    .map_err(|e| Error::Unavailable(format!("migration failed: {e}")))?;
    Ok(applied.iter().map(|v| v.to_string()).collect())
}
