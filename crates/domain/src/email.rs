//! Email addresses: validated once, stored lower-case so that uniqueness is
//! case-insensitive on every backend with a plain unique index.

use std::fmt;
use std::str::FromStr;

use crate::error::FieldError;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    /// Parses and normalizes; `field` names the input in the error.
    pub fn parse(raw: &str, field: &str) -> Result<Email, FieldError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        if trimmed.len() > Self::MAX_LEN {
            return Err(FieldError::new(
                field,
                format!("must be at most {} characters", Self::MAX_LEN),
            ));
        }
        let lower = trimmed.to_lowercase();
        // email_address implements RFC 5322 addr-spec; we also require a dot in the
        // domain because local-only domains are never deliverable for our tenants.
        let ok = email_address::EmailAddress::from_str(&lower)
            .ok()
            .map(|e| e.domain().contains('.') && !e.domain().starts_with('['))
            .unwrap_or(false);
        if !ok {
            return Err(FieldError::new(field, "must be a valid email address"));
        }
        Ok(Email(lower))
    }

    /// An address as [`Email::parse`] stored it, taken without parsing it again: every
    /// contact read (a list page is twenty) would otherwise run the RFC parser and
    /// allocate twice per row. Only checks that it is in stored form (one `@`, no
    /// upper case, no white space, not too long), so that a value written by something
    /// else is refused instead of shown as valid.
    pub fn from_stored(stored: String) -> Option<Email> {
        let normal = !stored.is_empty()
            && stored.len() <= Self::MAX_LEN
            && stored.bytes().filter(|&b| b == b'@').count() == 1
            && !stored
                .bytes()
                .any(|b| b.is_ascii_uppercase() || b.is_ascii_whitespace());
        normal.then_some(Email(stored))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_case_and_whitespace() {
        let e = Email::parse("  Admin@AcmeCorp.COM ", "email").unwrap();
        assert_eq!(e.as_str(), "admin@acmecorp.com");
    }

    #[test]
    fn the_stored_form_is_taken_as_it_is_and_nothing_else() {
        let e = Email::parse(" Ana.Lopez@Example.COM", "email").unwrap();
        let stored = Email::from_stored(e.as_str().to_string()).unwrap();
        assert_eq!(stored, e);
        for not_stored in ["", "Ana@example.com", "a b@x.com", "plain", "a@@x.com"] {
            assert!(
                Email::from_stored(not_stored.into()).is_none(),
                "{not_stored}"
            );
        }
    }

    #[test]
    fn rejects_invalid() {
        for bad in [
            "",
            "plain",
            "a@b",
            "@x.com",
            "a@@x.com",
            "a b@x.com",
            "a@[1.2.3.4]",
        ] {
            let err = Email::parse(bad, "email").unwrap_err();
            assert_eq!(err.field, "email", "{bad}");
        }
    }

    #[test]
    fn rejects_overlong() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long, "email").is_err());
    }
}
