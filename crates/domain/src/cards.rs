//! Card numbers (PANs) must never reach storage or logs: we only keep provider tokens.
//! These functions find anything that looks like a card number so that a request
//! carrying one is refused before it is written anywhere.
//!
//! "Looks like" means 13 to 19 digits that pass the Luhn check, written either together
//! or in groups separated by single spaces or dashes (`4111 1111 1111 1111`). About one
//! random digit string in ten passes Luhn, so some harmless values are refused too;
//! that is the price of never storing a real one.

use serde_json::Value;

use crate::error::{Error, Result};

pub const PAN_MIN_DIGITS: usize = 13;
pub const PAN_MAX_DIGITS: usize = 19;

/// The Luhn (mod 10) checksum used by every card scheme. `false` for anything that is
/// not a non-empty string of ASCII digits.
pub fn luhn_valid(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            match (i % 2 == 1, d * 2) {
                (false, _) => d,
                (true, doubled) if doubled > 9 => doubled - 9,
                (true, doubled) => doubled,
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Whether `text` contains a card-number-like run anywhere in it.
pub fn contains_card_number(text: &str) -> bool {
    digit_runs(text).iter().any(|groups| has_pan(groups))
}

/// The JSON path (`token`, `metadata.note`, `items[2]`) of the first value in `body`
/// that contains a card number, or `None`. Strings and numbers are scanned at every
/// depth; a card number in an object key is reported at the object's path. The path of
/// the whole body is `body`. The value itself is never returned, so the answer is safe
/// to put in an error response or a log line.
pub fn find_card_number(body: &Value) -> Option<String> {
    let mut path = String::new();
    find_in(body, &mut path).then(|| {
        if path.is_empty() {
            "body".to_string()
        } else {
            path
        }
    })
}

/// Refuses a request body holding a card number anywhere, naming the field (422).
pub fn refuse_card_numbers(body: &Value) -> Result<()> {
    match find_card_number(body) {
        None => Ok(()),
        Some(path) => Err(Error::validation(
            path,
            "looks like a card number; send the payment provider's token instead",
        )),
    }
}

/// Depth-first search; on success `path` holds the location found.
fn find_in(value: &Value, path: &mut String) -> bool {
    match value {
        Value::String(s) => contains_card_number(s),
        // Numbers are scanned as written: `4111111111111111.0` is still a card number.
        Value::Number(n) => contains_card_number(&n.to_string()),
        Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let found = find_in(item, path);
            if !found {
                path.truncate(len);
            }
            found
        }),
        Value::Object(map) => {
            map.keys().any(|k| contains_card_number(k))
                || map.iter().any(|(key, item)| {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                    let found = find_in(item, path);
                    if !found {
                        path.truncate(len);
                    }
                    found
                })
        }
        Value::Null | Value::Bool(_) => false,
    }
}

/// Splits `text` into runs of digit groups: digits joined by single spaces or dashes
/// stay in one run, anything else ends it.
fn digit_runs(text: &str) -> Vec<Vec<&str>> {
    let mut runs = Vec::new();
    let mut groups: Vec<&str> = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            let separator = matches!(bytes[i], b' ' | b'-');
            // While a run is open the byte before is a digit (any other byte closes
            // the run), so only the byte after decides.
            let joins =
                separator && !groups.is_empty() && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
            if !joins && !groups.is_empty() {
                runs.push(std::mem::take(&mut groups));
            }
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        // ASCII digit boundaries are always char boundaries.
        groups.push(&text[start..i]);
    }
    if !groups.is_empty() {
        runs.push(groups);
    }
    runs
}

/// Whether some consecutive groups of one run form a Luhn-valid 13..19 digit number.
/// Groups are never split: `12345 4111 1111 1111 1111` holds a card number (the last
/// four groups), while a 25-digit identifier written without separators does not.
fn has_pan(groups: &[&str]) -> bool {
    (0..groups.len()).any(|start| {
        let mut candidate = String::new();
        for group in &groups[start..] {
            candidate.push_str(group);
            if candidate.len() > PAN_MAX_DIGITS {
                return false;
            }
            if candidate.len() >= PAN_MIN_DIGITS && luhn_valid(&candidate) {
                return true;
            }
        }
        false
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Published test numbers of the card schemes.
    const TEST_PANS: [&str; 7] = [
        "4111111111111111", // Visa
        "4012888888881881", // Visa
        "5555555555554444", // Mastercard
        "378282246310005",  // American Express (15)
        "6011111111111117", // Discover
        "3530111333300000", // JCB
        "4222222222222",    // Visa (13)
    ];

    #[test]
    fn luhn_accepts_real_test_numbers() {
        for pan in TEST_PANS {
            assert!(luhn_valid(pan), "{pan}");
        }
        assert!(luhn_valid("79927398713")); // the textbook example
        assert!(luhn_valid("444444444442") && luhn_valid("41111111111111111115"));
    }

    #[test]
    fn luhn_refuses_wrong_check_digits_and_non_digits() {
        for bad in [
            "4111111111111112",
            "1234567812345678",
            "5555555555554445",
            "79927398710",
            "",
            "4111-1111",
            "41111111111111a1",
        ] {
            assert!(!luhn_valid(bad), "{bad}");
        }
    }

    #[test]
    fn finds_card_numbers_written_in_common_ways() {
        for text in [
            "4111111111111111",
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "card: 4111 1111 1111 1111, exp 12/30",
            "tok_4111111111111111",
            "3782 822463 10005",
            "order 12345 4111 1111 1111 1111",
            "6011111111111117 and more",
        ] {
            assert!(contains_card_number(text), "{text}");
        }
    }

    #[test]
    fn ignores_what_is_not_a_card_number() {
        for text in [
            "1234567812345678",         // 16 digits, fails Luhn
            "4111111111111112",         // one digit off
            "4111  1111 1111 1111",     // double space breaks the run
            "4111 1111 1111",           // 12 digits
            "411111111111111111111111", // 24 digits in one group
            "444444444442",             // passes Luhn, but 12 digits
            "41111111111111111115",     // passes Luhn, but 20 digits
            "tok_abc123",
            "+1 415 555 0100",
            "2024-06-01",
            "",
        ] {
            assert!(!contains_card_number(text), "{text}");
        }
    }

    #[test]
    fn json_paths_name_the_field_never_the_value() {
        let cases = [
            (json!({"token": "4111111111111111"}), "token"),
            (
                json!({"metadata": {"note": "pay with 5555 5555 5555 4444"}}),
                "metadata.note",
            ),
            (
                json!({"items": ["a", 1, "4012-8888-8888-1881"]}),
                "items[2]",
            ),
            (
                json!({"a": [{"b": [0, {"c": 4111111111111111_u64}]}]}),
                "a[0].b[1].c",
            ),
            (json!({"meta": {"4111111111111111": true}}), "meta"),
            (json!("4111111111111111"), "body"),
            (json!([378282246310005_u64]), "[0]"),
            (json!({"f": 4111111111111111.0}), "f"),
            (json!({"n": -4111111111111111_i64}), "n"),
        ];
        for (body, expected) in cases {
            let path = find_card_number(&body);
            assert_eq!(path.as_deref(), Some(expected), "{body}");
        }
    }

    #[test]
    fn refusal_names_the_field_and_hides_the_value() {
        let body = json!({"provider": "stripe", "token": "4111 1111 1111 1111"});
        let Err(Error::Validation(errors)) = refuse_card_numbers(&body) else {
            panic!("expected a validation error");
        };
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "token");
        assert!(!errors[0].message.contains("4111"));
        assert!(refuse_card_numbers(&json!({"token": "pm_123"})).is_ok());
    }

    #[test]
    fn clean_bodies_have_no_path() {
        let body = json!({
            "provider": "stripe",
            "token": "pm_1Nq2Yz",
            "last4": "1111",
            "exp_month": 12,
            "exp_year": 2030,
            "amount": 1234567890123_i64,
            "ratio": 0.25,
            "nested": {"list": [null, true, "1234567812345678"]}
        });
        assert_eq!(find_card_number(&body), None);
    }
}
