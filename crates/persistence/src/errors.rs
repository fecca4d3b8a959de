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
        other => Error::Internal(format!("database error: {other}")),
    }
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
