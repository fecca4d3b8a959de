//! Opaque cursors: a position encoded so that clients pass it back unchanged.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::problem::ApiError;

/// Encodes parts (ids, numbers, sort keys) into one opaque token.
pub fn encode(parts: &[&str]) -> String {
    URL_SAFE_NO_PAD.encode(parts.join("\n"))
}

/// Decodes a token made by [`encode`] with `n` parts; 400 naming `field` otherwise.
pub fn decode(token: &str, n: usize, field: &str) -> Result<Vec<String>, ApiError> {
    let bad = || ApiError::bad_request(field, "is not a cursor returned by this API");
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let parts: Vec<String> = text.split('\n').map(str::to_string).collect();
    if parts.len() != n {
        return Err(bad());
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_garbage() {
        let c = encode(&["12", "2026-11-21T10:00:00Z", "abc"]);
        assert_eq!(
            decode(&c, 3, "cursor").unwrap(),
            ["12", "2026-11-21T10:00:00Z", "abc"]
        );
        assert!(decode(&c, 2, "cursor").is_err());
        assert!(decode("!!!", 1, "cursor").is_err());
    }
}
