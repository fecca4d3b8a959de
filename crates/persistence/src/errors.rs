//! Mapping of database errors to domain errors.

use clientele_domain::Error;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Any database failure that no caller expects: logged in full, answered as 500/503.
pub fn db(e: DieselError) -> Error {
    match e {
        DieselError::NotFound => Error::Internal("row not found".into()),
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
            Error::Unavailable(info.message().to_string())
        }
        other => Error::Internal(format!("database error: {}", with_causes(&other))),
    }
}

/// `e` and each error that caused it, `: `-separated: diesel's error for a value that
/// did not load names only the column, and the reason is its cause.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Turns a unique-constraint failure into a conflict naming `field`.
pub fn unique(e: DieselError, field: &str, code: &'static str, detail: &str) -> Error {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => Error::Conflict {
            code,
            detail: detail.to_string(),
            field: Some(field.to_string()),
        },
        other => db(other),
    }
}

/// The row count of an UPDATE guarded by the version read earlier: zero rows means a
/// concurrent writer changed the row first (PostgreSQL), which callers retry or report.
pub fn one_updated(n: usize, entity: &str) -> clientele_domain::Result<()> {
    if n == 0 {
        return Err(Error::Conflict {
            code: "concurrent_update",
            detail: format!("the {entity} was changed by a concurrent request; retry"),
            field: None,
        });
    }
    Ok(())
}

/// An id read back from the database: not a UUID means a bug or corruption, not input.
pub(crate) fn stored_id(s: &str, what: &str) -> clientele_domain::Result<uuid::Uuid> {
    uuid::Uuid::parse_str(s)
        .map_err(|_| Error::Internal(format!("stored {what} is not a uuid: {s}")))
}
