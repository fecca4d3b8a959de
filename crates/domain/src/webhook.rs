//! Webhooks: target URLs, the addresses a target may not point at, event type filters,
//! retry backoff. Pure rules; resolving names and sending live elsewhere.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use url::Url;

use crate::error::FieldError;

pub const MAX_URL_LEN: usize = 2048;
pub const MAX_EVENT_TYPES: usize = 50;
pub const MAX_DESCRIPTION_LEN: usize = 500;

text_enum! {
    /// A delivery's state in the log.
    pub enum DeliveryStatus {
        Pending = "pending",
        Succeeded = "succeeded",
        Failed = "failed",
    }
}

/// An absolute `http` or `https` URL with a host and without credentials.
pub fn parse_url(raw: &str, field: &str) -> Result<Url, FieldError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if raw.len() > MAX_URL_LEN {
        return Err(FieldError::new(
            field,
            format!("must be at most {MAX_URL_LEN} characters"),
        ));
    }
    let url = Url::parse(raw).map_err(|e| FieldError::new(field, format!("is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FieldError::new(field, "must be an http or https URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(FieldError::new(field, "must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FieldError::new(
            field,
            "must not carry credentials; webhooks are authenticated by their signature",
        ));
    }
    if url.fragment().is_some() {
        return Err(FieldError::new(field, "must not have a #fragment"));
    }
    Ok(url)
}

/// Why an address may not receive webhooks, or `None` when it is a public address.
///
/// Refused: loopback, private (RFC 1918), link-local, unique-local (fc00::/7), carrier-
/// grade NAT (100.64.0.0/10), unspecified, multicast, broadcast, and the IPv4 forms
/// embedded in IPv6 (mapped, compatible, NAT64 well-known prefix) of any of those.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip.is_unspecified() || o[0] == 0 {
        Some("an unspecified address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() {
        Some("a private address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some("a carrier-grade NAT address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if ip.is_broadcast() {
        Some("the broadcast address")
    } else if o[0] >= 240 {
        Some("a reserved address")
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("an unspecified address");
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    if ip.is_multicast() {
        return Some("a multicast address");
    }
    if (s[0] & 0xfe00) == 0xfc00 {
        return Some("a unique-local address");
    }
    if (s[0] & 0xffc0) == 0xfe80 {
        return Some("a link-local address");
    }
    if (s[0] & 0xffc0) == 0xfec0 {
        return Some("a site-local address");
    }
    // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::/96)
    // reach the embedded IPv4 address: judge that one.
    let mapped_or_compatible = s[..5] == [0; 5] && (s[5] == 0xffff || s[5] == 0);
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    let embedded = (mapped_or_compatible || nat64)
        .then(|| Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8));
    embedded.and_then(forbidden_v4)
}

/// Event type filters: `customer.suspended` style names, at most [`MAX_EVENT_TYPES`],
/// duplicates dropped. Empty means every type.
pub fn parse_event_types(raw: &[String], field: &str) -> Result<Vec<String>, FieldError> {
    if raw.len() > MAX_EVENT_TYPES {
        return Err(FieldError::new(
            field,
            format!("at most {MAX_EVENT_TYPES} event types"),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for t in raw {
        let t = t.trim();
        let ok = !t.is_empty()
            && t.len() <= 100
            && t.contains('.')
            && t.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_')
            && t.split('.').all(|segment| !segment.is_empty());
        if !ok {
            return Err(FieldError::new(
                field,
                format!("`{t}` is not an event type such as `contact.created`"),
            ));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    Ok(out)
}

pub fn parse_description(raw: &str, field: &str) -> Result<Option<String>, FieldError> {
    let d = raw.trim();
    if d.chars().count() > MAX_DESCRIPTION_LEN {
        return Err(FieldError::new(
            field,
            format!("must be at most {MAX_DESCRIPTION_LEN} characters"),
        ));
    }
    Ok((!d.is_empty()).then(|| d.to_string()))
}

/// The wait before attempt `attempts + 1`, after `attempts` failed ones:
/// `base * 2^(attempts-1)`, at most `cap`.
pub fn backoff(attempts: u32, base: Duration, cap: Duration) -> Duration {
    let factor = 1u32 << attempts.saturating_sub(1).min(20);
    base.saturating_mul(factor).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_and_special_addresses_are_refused() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(forbidden_reason(ip(bad)).is_some(), "{bad}");
        }
        for good in [
            "8.8.8.8",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(forbidden_reason(ip(good)), None, "{good}");
        }
    }

    #[test]
    fn urls_are_http_or_https_with_a_host() {
        assert!(parse_url("https://example.com/hook", "url").is_ok());
        assert!(parse_url("http://127.0.0.1:8080/x?a=1", "url").is_ok());
        for bad in [
            "",
            "ftp://example.com",
            "file:///etc/passwd",
            "example.com/hook",
            "https://user:pw@example.com",
            "https://example.com/#x",
        ] {
            assert!(parse_url(bad, "url").is_err(), "{bad}");
        }
    }

    #[test]
    fn event_types_are_checked_and_deduplicated() {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_event_types(&v(&["contact.created", "contact.created"]), "event_types"),
            Ok(v(&["contact.created"]))
        );
        assert!(parse_event_types(&v(&["Contact"]), "event_types").is_err());
        assert!(parse_event_types(&v(&[""]), "event_types").is_err());
        for bad in ["contact..created", ".created", "contact.", "contact"] {
            assert!(
                parse_event_types(&v(&[bad]), "event_types").is_err(),
                "{bad}"
            );
        }
        assert!(parse_event_types(&v(&["webhook.delivery_replayed"]), "event_types").is_ok());
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let (b, c) = (Duration::from_secs(1), Duration::from_secs(10));
        assert_eq!(backoff(1, b, c), Duration::from_secs(1));
        assert_eq!(backoff(2, b, c), Duration::from_secs(2));
        assert_eq!(backoff(3, b, c), Duration::from_secs(4));
        assert_eq!(backoff(5, b, c), Duration::from_secs(10));
        assert_eq!(backoff(100, b, c), Duration::from_secs(10));
    }
}
