//! Phone numbers in E.164: `+`, the country code and the subscriber number, digits only.
//!
//! People type numbers with spaces, dashes, dots and parentheses; we keep only the
//! digits so that one number has one spelling (uniqueness, search by digits). A number
//! must be international (`+` or the `00` prefix): without a country code a national
//! number such as `0612345678` cannot be told apart from another country's.

use std::fmt;

use crate::error::FieldError;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// E.164 allows at most 15 digits; fewer than 8 is no real international number.
    pub const MIN_DIGITS: usize = 8;
    pub const MAX_DIGITS: usize = 15;
    /// Bounds the work on raw input; generous for separators and a `(0)`.
    const MAX_RAW_LEN: usize = 32;

    /// Parses and normalizes to `+` and digits; `field` names the input in the error.
    pub fn parse(raw: &str, field: &str) -> Result<Phone, FieldError> {
        let err = |message: &str| FieldError::new(field, message);
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(err("is required"));
        }
        if trimmed.chars().count() > Self::MAX_RAW_LEN {
            return Err(err("is too long for a phone number"));
        }
        let (international, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        // `+44 (0)20 ...`: the bracketed trunk zero is dialled only inside the country.
        let rest = rest.replacen("(0)", "", 1);
        let digits = collect_digits(&rest).map_err(err)?;
        let digits = match (international, digits.strip_prefix("00")) {
            (true, _) => digits.as_str(),
            (false, Some(after_prefix)) => after_prefix,
            (false, None) => {
                return Err(err(
                    "must be in international format: + (or 00) and the country code",
                ))
            }
        };
        check_digits(digits).map_err(err)?;
        Ok(Phone(format!("+{digits}")))
    }

    /// A number as [`Phone::parse`] stored it (`+` and 8 to 15 digits, the first not
    /// 0), checked for that form but not parsed again: reads of contacts skip the
    /// parser's allocations.
    pub fn from_stored(stored: String) -> Option<Phone> {
        let normal = stored
            .strip_prefix('+')
            .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()) && check_digits(d).is_ok());
        normal.then_some(Phone(stored))
    }

    /// The normalized number, `+` included.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits without `+`: what a search by phone digits compares against.
    pub fn digits(&self) -> &str {
        self.0.strip_prefix('+').unwrap_or(&self.0)
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Keeps the digits, skipping the separators people type; parentheses must pair up.
fn collect_digits(s: &str) -> Result<String, &'static str> {
    let mut digits = String::with_capacity(s.len());
    let mut open_paren = false;
    for c in s.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' => {}
            '(' if !open_paren => open_paren = true,
            ')' if open_paren => open_paren = false,
            '(' | ')' => return Err("has unbalanced parentheses"),
            _ => {
                return Err("may contain only digits, spaces, dashes, dots and parentheses after +")
            }
        }
    }
    if open_paren {
        return Err("has unbalanced parentheses");
    }
    Ok(digits)
}

fn check_digits(digits: &str) -> Result<(), &'static str> {
    if digits.starts_with('0') {
        return Err("must start with a country code, which never begins with 0");
    }
    if !(Phone::MIN_DIGITS..=Phone::MAX_DIGITS).contains(&digits.len()) {
        return Err("must have 8 to 15 digits including the country code");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> String {
        Phone::parse(raw, "phone")
            .unwrap_or_else(|e| panic!("{raw}: {e:?}"))
            .into_string()
    }

    #[test]
    fn normalizes_separators_and_prefixes() {
        let cases = [
            ("+380123456789", "+380123456789"),
            ("+1 (415) 555-0100", "+14155550100"),
            ("  +1.415.555.0100 ", "+14155550100"),
            ("+44 (0)20 7946 0958", "+442079460958"),
            ("0044 20 7946 0958", "+442079460958"),
            ("+49-30-901820", "+4930901820"),
            ("+1234567890", "+1234567890"),
        ];
        for (raw, expected) in cases {
            assert_eq!(ok(raw), expected, "{raw}");
        }
    }

    #[test]
    fn digit_count_bounds() {
        assert_eq!(ok("+12345678"), "+12345678"); // 8 digits
        assert_eq!(ok("+123456789012345"), "+123456789012345"); // 15 digits
        assert!(Phone::parse("+1234567", "phone").is_err()); // 7
        assert!(Phone::parse("+1234567890123456", "phone").is_err()); // 16
        assert!(Phone::parse("001234567", "phone").is_err()); // 7 after 00
    }

    #[test]
    fn the_stored_form_is_taken_as_it_is_and_nothing_else() {
        let parsed = Phone::parse("+1 (415) 555-0100", "phone").unwrap();
        assert_eq!(Phone::from_stored(parsed.as_str().into()), Some(parsed));
        for not_stored in [
            "",
            "14155550100",
            "+1 415 555 0100",
            "+0123456789",
            "+1234567",
        ] {
            assert!(
                Phone::from_stored(not_stored.into()).is_none(),
                "{not_stored}"
            );
        }
    }

    #[test]
    fn rejects_bad_input_naming_the_field() {
        for bad in [
            "",
            "   ",
            "+",
            "0612345678",         // national, no country code
            "4155550100",         // no + or 00
            "+0123456789",        // country codes never start with 0
            "000123456789",       // 00 then 0
            "+1 415 555 0100 x2", // extension
            "+1 (415 555 0100",   // unbalanced
            "+1 415) 555 0100",
            "+1 ((415)) 555 0100", // nested
            "++14155550100",
            "+1 415 555 0100 +",
            "+1 415 555 0100 0000 0000 0000 0000", // too long raw
            "+١٢٣٤٥٦٧٨٩",                          // non-ASCII digits
        ] {
            let err = Phone::parse(bad, "contact.phone").unwrap_err();
            assert_eq!(err.field, "contact.phone", "{bad}");
        }
    }

    #[test]
    fn digits_drop_the_plus() {
        let phone = Phone::parse("+1 415 555 0100", "phone").unwrap();
        assert_eq!(phone.digits(), "14155550100");
        assert_eq!(phone.as_str(), "+14155550100");
        assert_eq!(phone.to_string(), "+14155550100");
    }
}
