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
        // RFC 5322 allows white space and `@` inside a quoted local part
        // (`"ana lopez"@example.com`). Refused here: no mail system a tenant sends from
        // takes them, the stored form ([`Email::from_stored`]) has neither, and a
        // search with white space can then leave emails out.
        if trimmed.chars().any(char::is_whitespace) {
            return Err(FieldError::new(field, "must not contain spaces"));
        }
        if trimmed.matches('@').count() != 1 {
            return Err(FieldError::new(field, "must contain exactly one @"));
        }
        let lower = trimmed.to_lowercase();
        // Lower case can be longer in bytes than the input (`İ`).
        if lower.len() > Self::MAX_LEN {
            return Err(FieldError::new(
                field,
                format!("must be at most {} characters", Self::MAX_LEN),
            ));
        }
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

    /// What the parser accepts, reads give back: a quoted local part with a space or an
    /// `@` was accepted once and then every read of its contact failed.
    #[test]
    fn what_is_accepted_is_in_stored_form() {
        for quoted in ["\"ana lopez\"@example.com", "\"a@b\"@example.com"] {
            let err = Email::parse(quoted, "email").unwrap_err();
            assert_eq!(err.field, "email", "{quoted}");
        }
        assert_eq!(
            Email::parse("a\u{a0}b@example.com", "email")
                .unwrap_err()
                .message,
            "must not contain spaces"
        );
        // Lower-cased, 'İ' (2 bytes) is 3: within the limit as typed, over it stored.
        let grows = format!("{}@example.com", "İ".repeat(121));
        assert!(grows.len() <= Email::MAX_LEN);
        let err = Email::parse(&grows, "email").unwrap_err();
        assert_eq!(err.message, "must be at most 254 characters");
        for good in [
            "\"ana.lopez\"@example.com",
            "Ana+Tag@Example.COM",
            "o'neil@x.io",
        ] {
            let e = Email::parse(good, "email").unwrap();
            assert_eq!(
                Email::from_stored(e.as_str().to_string()),
                Some(e),
                "{good}"
            );
        }
    }

    #[test]
    fn rejects_overlong() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long, "email").is_err());
    }
}
