//! The one error type shared by every layer. The API maps each variant to a
//! problem+json response; nothing below the API knows about HTTP.

use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One invalid input field, named by its JSON path (`settings.features.max_users`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that is well-formed but breaks a rule; every offending field is named.
    #[error("validation failed: {}", summary(.0))]
    Validation(Vec<FieldError>),
    /// The object does not exist, or belongs to another tenant (indistinguishable on purpose).
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    /// The request conflicts with the current state (duplicate email, limit reached...).
    #[error("{detail}")]
    Conflict {
        code: &'static str,
        detail: String,
        field: Option<String>,
    },
    /// A lifecycle action that the current state does not allow.
    #[error("cannot {action} a {entity} that is {current}")]
    InvalidTransition {
        entity: &'static str,
        current: String,
        action: String,
        allowed: Vec<String>,
    },
    /// `If-Match` named a version that is no longer current.
    #[error("the {entity} was changed by someone else (current version {current_version})")]
    PreconditionFailed {
        entity: &'static str,
        current_version: i64,
    },
    /// No valid credentials (missing, expired, malformed, wrongly signed, revoked).
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Authenticated, but not allowed: a role too weak, or the tenant suspended or closed.
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    /// Too many attempts; retry after the given number of seconds.
    #[error("{detail}")]
    TooManyRequests {
        detail: String,
        retry_after_secs: u64,
    },
    /// The database cannot be reached or the pool is exhausted; retrying may work.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected failure. The message is logged, never sent to clients.
    #[error("internal error: {0}")]
    Internal(String),
}

fn summary(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError::new(field, message)])
    }

    pub fn not_found(entity: &'static str) -> Self {
        Error::NotFound { entity }
    }
}

/// Collects field errors so that one response names every bad field, not just the first.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the error of `result` (if any) and returns its value.
    pub fn check<T>(&mut self, result: std::result::Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    pub fn finish(self) -> Result<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.errors))
        }
    }
}
