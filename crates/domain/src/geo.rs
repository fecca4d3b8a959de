//! Countries (ISO 3166-1 alpha-2) and postal codes checked against their country.
//!
//! Postal formats are written by hand for the countries named by the product issue;
//! each one accepts the spellings people type (lower case, with or without the usual
//! separator) and stores the conventional one, so that equal codes compare equal.

use std::fmt;

use crate::error::FieldError;

/// Every officially assigned ISO 3166-1 alpha-2 code (249), sorted for binary search.
/// User-assigned codes such as `XK` (Kosovo) are not included: they are not official.
pub const COUNTRY_CODES: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", //
    "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW",
    "CX", "CY", "CZ", //
    "DE", "DJ", "DK", "DM", "DO", "DZ", //
    "EC", "EE", "EG", "EH", "ER", "ES", "ET", //
    "FI", "FJ", "FK", "FM", "FO", "FR", //
    "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT",
    "GU", "GW", "GY", //
    "HK", "HM", "HN", "HR", "HT", "HU", //
    "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", //
    "JE", "JM", "JO", "JP", //
    "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", //
    "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", //
    "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS",
    "MT", "MU", "MV", "MW", "MX", "MY", "MZ", //
    "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", //
    "OM", //
    "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", //
    "QA", //
    "RE", "RO", "RS", "RU", "RW", //
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", //
    "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ",
    "UA", "UG", "UM", "US", "UY", "UZ", //
    "VA", "VC", "VE", "VG", "VI", "VN", "VU", //
    "WF", "WS", //
    "YE", "YT", //
    "ZA", "ZM", "ZW",
];

/// A valid ISO 3166-1 alpha-2 code, upper case. It borrows its text from
/// [`COUNTRY_CODES`], so holding one proves the code is on the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode(&'static str);

impl CountryCode {
    pub fn parse(raw: &str, field: &str) -> Result<CountryCode, FieldError> {
        let code = raw.trim().to_ascii_uppercase();
        if code.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        COUNTRY_CODES
            .binary_search(&code.as_str())
            .map(|i| CountryCode(COUNTRY_CODES[i]))
            .map_err(|_| {
                FieldError::new(
                    field,
                    "must be an ISO 3166-1 alpha-2 country code (e.g. US)",
                )
            })
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Countries whose postal code format we check; every address there has a postal code.
const POSTAL_FORMATS: [(&str, &str); 10] = [
    ("AU", "4 digits, e.g. 2000"),
    ("BR", "8 digits, e.g. 01310-100"),
    ("CA", "letter digit letter digit letter digit, e.g. K1A 0B1"),
    ("DE", "5 digits, e.g. 10115"),
    ("FR", "5 digits, e.g. 75008"),
    ("GB", "a UK postcode, e.g. SW1A 1AA"),
    ("IN", "6 digits not starting with 0, e.g. 110001"),
    ("JP", "7 digits, e.g. 100-0001"),
    ("NL", "4 digits and 2 letters, e.g. 1012 AB"),
    ("US", "a ZIP code, e.g. 94102 or 94102-1234"),
];

/// Countries where a postal address is incomplete without its state or province.
const STATE_REQUIRED: [&str; 5] = ["AU", "BR", "CA", "IN", "US"];

/// Longest postal code accepted for countries without a known format.
pub const POSTAL_CODE_MAX: usize = 16;

/// Whether an address in `country` must have a postal code: true where we know the
/// format, because those countries give every address one.
pub fn requires_postal_code(country: CountryCode) -> bool {
    format_hint(country).is_some()
}

/// Whether an address in `country` must name its state or province.
pub fn requires_state(country: CountryCode) -> bool {
    STATE_REQUIRED.contains(&country.as_str())
}

fn format_hint(country: CountryCode) -> Option<&'static str> {
    POSTAL_FORMATS
        .iter()
        .find(|(code, _)| *code == country.as_str())
        .map(|(_, hint)| *hint)
}

/// Checks `raw` against the postal format of `country` and returns its conventional
/// spelling (upper case, standard separator).
pub fn parse_postal_code(
    country: CountryCode,
    raw: &str,
    field: &str,
) -> Result<String, FieldError> {
    let code = raw.trim().to_ascii_uppercase();
    if code.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    match format_hint(country) {
        Some(hint) => normalize_known(country.as_str(), &code)
            .ok_or_else(|| FieldError::new(field, format!("must be {hint}"))),
        None if is_generic_postal_code(&code) => Ok(code),
        None => Err(FieldError::new(
            field,
            format!("must be at most {POSTAL_CODE_MAX} letters, digits, spaces or dashes"),
        )),
    }
}

/// `code` is trimmed and upper case; `None` when it does not fit the format.
fn normalize_known(country: &str, code: &str) -> Option<String> {
    // Every known format is ASCII; checking once makes the byte slicing below safe.
    if !code.is_ascii() {
        return None;
    }
    match country {
        "US" => us_zip(code),
        "CA" => split_optional(code, 3, 3, &[' ', '-'])
            .filter(|(fsa, ldu)| ca_fsa(fsa) && shape(ldu, "9A9") && ca_letters_ok(ldu))
            .map(|(fsa, ldu)| format!("{fsa} {ldu}")),
        "GB" => gb_postcode(code),
        "DE" | "FR" => shape(code, "99999").then(|| code.to_string()),
        "NL" => split_optional(code, 4, 2, &[' '])
            .filter(|(digits, letters)| nl_parts(digits, letters))
            .map(|(digits, letters)| format!("{digits} {letters}")),
        "JP" => split_optional(code, 3, 4, &['-', ' '])
            .filter(|(a, b)| shape(a, "999") && shape(b, "9999"))
            .map(|(a, b)| format!("{a}-{b}")),
        "AU" => shape(code, "9999").then(|| code.to_string()),
        "BR" => split_optional(code, 5, 3, &['-', ' '])
            .filter(|(a, b)| shape(a, "99999") && shape(b, "999"))
            .map(|(a, b)| format!("{a}-{b}")),
        // India Post writes the PIN as six digits; `110 001` is a common spelling.
        "IN" => split_optional(code, 3, 3, &[' '])
            .filter(|(a, b)| shape(a, "999") && shape(b, "999") && !a.starts_with('0'))
            .map(|(a, b)| format!("{a}{b}")),
        _ => None,
    }
}

/// Whether `s` matches `pattern` character by character: `9` a digit, `A` a letter.
fn shape(s: &str, pattern: &str) -> bool {
    s.len() == pattern.len()
        && s.bytes().zip(pattern.bytes()).all(|(c, p)| match p {
            b'9' => c.is_ascii_digit(),
            b'A' => c.is_ascii_uppercase(),
            _ => c == p,
        })
}

/// Splits `s` into a `head`-long and a `tail`-long part, written either together or
/// with exactly one of `separators` between them.
fn split_optional<'a>(
    s: &'a str,
    head: usize,
    tail: usize,
    separators: &[char],
) -> Option<(&'a str, &'a str)> {
    let first = s.get(..head)?;
    let rest = s.get(head..)?;
    let second = if rest.len() == tail {
        rest
    } else {
        let mut chars = rest.chars();
        let separator = chars.next()?;
        let after = chars.as_str();
        (separators.contains(&separator) && after.len() == tail).then_some(after)?
    };
    Some((first, second))
}

/// `12345`, `12345-6789`, or nine digits (stored as ZIP+4).
fn us_zip(code: &str) -> Option<String> {
    if shape(code, "99999") {
        return Some(code.to_string());
    }
    split_optional(code, 5, 4, &['-', ' '])
        .filter(|(zip, plus4)| shape(zip, "99999") && shape(plus4, "9999"))
        .map(|(zip, plus4)| format!("{zip}-{plus4}"))
}

/// Canada Post never uses D, F, I, O, Q or U, and W and Z never start a code.
fn ca_letters_ok(part: &str) -> bool {
    !part.contains(['D', 'F', 'I', 'O', 'Q', 'U'])
}

fn ca_fsa(fsa: &str) -> bool {
    shape(fsa, "A9A") && ca_letters_ok(fsa) && !fsa.starts_with(['W', 'Z'])
}

/// Dutch codes start with 1-9; SA, SD and SS are not issued.
fn nl_parts(digits: &str, letters: &str) -> bool {
    shape(digits, "9999")
        && !digits.starts_with('0')
        && shape(letters, "AA")
        && !matches!(letters, "SA" | "SD" | "SS")
}

/// UK postcode: an outward code (area and district) and an inward code (sector digit
/// and two unit letters), stored with one space between them.
fn gb_postcode(code: &str) -> Option<String> {
    // Written together, or with one space before the three-character inward code.
    let (outward, inward) = match code.split_once(' ') {
        Some(parts) => parts,
        None => code.split_at_checked(code.len().checked_sub(3)?)?,
    };
    let valid = (outward == "GIR" && inward == "0AA") // Girobank's historic code
        || (gb_outward(outward) && gb_inward(inward));
    valid.then(|| format!("{outward} {inward}"))
}

fn gb_outward(outward: &str) -> bool {
    let shapes = ["A9", "A99", "AA9", "AA99", "A9A", "AA9A"];
    shapes.iter().any(|s| shape(outward, s)) && !outward.starts_with(['Q', 'V', 'X'])
}

/// The unit letters never include C, I, K, M, O or V.
fn gb_inward(inward: &str) -> bool {
    shape(inward, "9AA") && !inward.contains(['C', 'I', 'K', 'M', 'O', 'V'])
}

fn is_generic_postal_code(code: &str) -> bool {
    code.chars().count() <= POSTAL_CODE_MAX
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn country(code: &str) -> CountryCode {
        CountryCode::parse(code, "country").unwrap()
    }

    fn postal(code: &str, raw: &str) -> Result<String, FieldError> {
        parse_postal_code(country(code), raw, "postal_code")
    }

    #[test]
    fn country_list_is_sorted_unique_and_complete() {
        assert!(COUNTRY_CODES.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(COUNTRY_CODES.len(), 249);
        assert!(COUNTRY_CODES
            .iter()
            .all(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())));
    }

    #[test]
    fn country_codes_normalize_to_upper_case() {
        assert_eq!(country(" us ").as_str(), "US");
        assert_eq!(country("gb").as_str(), "GB");
        assert_eq!(country("AD").to_string(), "AD");
        assert_eq!(country("ZW").as_str(), "ZW");
    }

    #[test]
    fn unknown_country_codes_are_refused() {
        for bad in ["", "UK", "XK", "USA", "U", "1A", "ÜS", "EU"] {
            let err = CountryCode::parse(bad, "address.country").unwrap_err();
            assert_eq!(err.field, "address.country", "{bad}");
        }
    }

    fn check(code: &str, good: &[(&str, &str)], bad: &[&str]) {
        for (raw, expected) in good {
            assert_eq!(postal(code, raw).as_deref(), Ok(*expected), "{code} {raw}");
        }
        for raw in bad {
            let err = postal(code, raw).unwrap_err();
            assert_eq!(err.field, "postal_code", "{code} {raw}");
        }
    }

    #[test]
    fn us_zip_codes() {
        check(
            "US",
            &[
                ("94102", "94102"),
                ("94102-1234", "94102-1234"),
                ("94102 1234", "94102-1234"),
                ("941021234", "94102-1234"),
            ],
            &[
                "9410",
                "941022",
                "94102-123",
                "94102--1234",
                "ABCDE",
                "94102-12345",
            ],
        );
    }

    #[test]
    fn ca_postal_codes() {
        check(
            "CA",
            &[
                ("K1A 0B1", "K1A 0B1"),
                ("k1a0b1", "K1A 0B1"),
                ("H3Z-2Y7", "H3Z 2Y7"),
            ],
            &[
                "K1A 0B", "K1A  0B1", "11A 0B1", "D1A 0B1", "W1A 0B1", "K1A 0U1", "K1A0B1X",
            ],
        );
    }

    #[test]
    fn gb_postcodes() {
        check(
            "GB",
            &[
                ("SW1A 1AA", "SW1A 1AA"),
                ("sw1a1aa", "SW1A 1AA"),
                ("M1 1AE", "M1 1AE"),
                ("B33 8TH", "B33 8TH"),
                ("CR2 6XH", "CR2 6XH"),
                ("DN55 1PT", "DN55 1PT"),
                ("W1A 0AX", "W1A 0AX"),
                ("EC1A 1BB", "EC1A 1BB"),
                ("GIR 0AA", "GIR 0AA"),
            ],
            &[
                "SW1A",
                "SW1A 1A",
                "SW1 A1AA",
                "SW1A  1AA",
                "QA1 1AA",
                "SW1A 1CA",
                "1W1A 1AA",
                "SW1AA 1AA",
                "S W1A1AA",
                "SW1A 11A",
            ],
        );
    }

    #[test]
    fn de_and_fr_postal_codes() {
        for code in ["DE", "FR"] {
            check(
                code,
                &[("10115", "10115"), ("01067", "01067"), (" 75008 ", "75008")],
                &["1011", "101155", "10 115", "1011A"],
            );
        }
    }

    #[test]
    fn nl_postal_codes() {
        check(
            "NL",
            &[
                ("1234 AB", "1234 AB"),
                ("1234ab", "1234 AB"),
                ("9999 zz", "9999 ZZ"),
            ],
            &[
                "0123 AB", "1234 SS", "1234 SA", "1234 SD", "1234-AB", "12345 AB", "1234 A1",
            ],
        );
    }

    #[test]
    fn jp_postal_codes() {
        check(
            "JP",
            &[("100-0001", "100-0001"), ("1000001", "100-0001")],
            &["100-001", "10000001", "100_0001", "ABC-DEFG"],
        );
    }

    #[test]
    fn au_postal_codes() {
        check(
            "AU",
            &[("2000", "2000"), ("0800", "0800")],
            &["200", "20000", "2OOO"],
        );
    }

    #[test]
    fn br_postal_codes() {
        check(
            "BR",
            &[("01310-100", "01310-100"), ("01310100", "01310-100")],
            &["0131-0100", "0131010", "013101000", "01310.100"],
        );
    }

    #[test]
    fn in_postal_codes() {
        check(
            "IN",
            &[("110001", "110001"), ("110 001", "110001")],
            &["011001", "11001", "1100011", "110-001"],
        );
    }

    #[test]
    fn other_countries_accept_plain_codes() {
        check(
            "IE",
            &[("d02 x285", "D02 X285"), ("1010", "1010")],
            &["", "A".repeat(17).as_str(), "D02/X285", "Ω123"],
        );
        check("SE", &[("114 55", "114 55")], &["114_55"]);
    }

    #[test]
    fn required_parts_by_country() {
        assert!(requires_postal_code(country("US")));
        assert!(requires_postal_code(country("JP")));
        assert!(!requires_postal_code(country("IE")));
        assert!(requires_state(country("US")));
        assert!(requires_state(country("IN")));
        assert!(!requires_state(country("DE")));
    }

    #[test]
    fn error_message_shows_the_expected_format() {
        let err = postal("US", "ABC").unwrap_err();
        assert!(err.message.contains("94102"), "{}", err.message);
    }
}
