//! Rules of a customer's structure: project slugs and statuses, channels, billing
//! accounts.

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::{Error, FieldError, Result};
use crate::time::{now, Timestamp};

pub const SLUG_MAX: usize = 63;

/// A project slug: lowercase letters, digits and `-`, starting and ending with a letter
/// or digit, at most 63 characters (a DNS label, so it can name a subdomain).
pub fn parse_slug(raw: &str, field: &str) -> std::result::Result<String, FieldError> {
    let slug = raw.trim();
    if slug.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if slug.len() > SLUG_MAX {
        return Err(FieldError::new(
            field,
            format!("must be at most {SLUG_MAX} characters"),
        ));
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if !slug.chars().all(allowed) {
        return Err(FieldError::new(
            field,
            "may contain only lowercase letters, digits and '-'",
        ));
    }
    if slug.starts_with('-') || slug.ends_with('-') {
        return Err(FieldError::new(
            field,
            "must start and end with a letter or digit",
        ));
    }
    Ok(slug.to_string())
}

text_enum! {
    /// A project is worked in while active; archived, it is read-only until restored.
    pub enum ProjectStatus { Active = "active", Archived = "archived" }
}
text_enum! {
    pub enum ChannelKind { Email = "email", Sms = "sms", Chat = "chat", Web = "web", Voice = "voice" }
}
text_enum! {
    pub enum BillingCycle { Monthly = "monthly", Yearly = "yearly" }
}
text_enum! {
    /// A closed account takes no projects.
    pub enum BillingStatus { Active = "active", Closed = "closed" }
}

/// Archive and restore of a project.
pub fn project_transition(current: &str, to: ProjectStatus) -> Result<()> {
    let (action, allowed_from) = match to {
        ProjectStatus::Archived => ("archive", ProjectStatus::Active),
        ProjectStatus::Active => ("restore", ProjectStatus::Archived),
    };
    if current == allowed_from.as_str() {
        return Ok(());
    }
    let allowed = match ProjectStatus::parse(current) {
        Some(ProjectStatus::Active) => vec!["archive".to_string()],
        Some(ProjectStatus::Archived) => vec!["restore".to_string()],
        None => vec![],
    };
    Err(Error::InvalidTransition {
        entity: "project",
        current: current.to_string(),
        action: action.to_string(),
        allowed,
    })
}

/// A sub-level of a project that inherits its settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub project_id: Uuid,
    pub kind: ChannelKind,
    pub name: String,
    pub settings: Map<String, Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

impl Channel {
    pub fn new(customer_id: Uuid, project_id: Uuid, kind: ChannelKind, name: String) -> Channel {
        let at = now();
        Channel {
            id: crate::new_id(),
            customer_id,
            project_id,
            kind,
            name,
            settings: Map::new(),
            created_at: at,
            updated_at: at,
            version: 1,
        }
    }
}

/// Refuses a stale `If-Match` on any versioned object.
pub fn check_version(entity: &'static str, current: i64, expected: Option<i64>) -> Result<()> {
    match expected {
        Some(v) if v != current => Err(Error::PreconditionFailed {
            entity,
            current_version: current,
        }),
        _ => Ok(()),
    }
}

/// Marks a change of a versioned object.
pub fn touch(updated_at: &mut Timestamp, version: &mut i64) {
    *updated_at = now().max(*updated_at);
    *version += 1;
}

/// An RFC 7396 merge patch of a settings object; the result must stay an object.
pub fn merge_settings(current: &Map<String, Value>, patch: &Value) -> Result<Map<String, Value>> {
    if !patch.is_object() {
        return Err(Error::validation(
            "body",
            "a settings merge patch must be a JSON object",
        ));
    }
    let mut merged = Value::Object(current.clone());
    crate::json::merge_patch(&mut merged, patch);
    match merged {
        Value::Object(map) => Ok(map),
        _ => Err(Error::Internal(
            "merge patch of an object gave a non-object".into(),
        )),
    }
}

/// A settings body that replaces a level's overrides: it must be an object.
pub fn settings_object(body: Value) -> Result<Map<String, Value>> {
    match body {
        Value::Object(map) => Ok(map),
        _ => Err(Error::validation("body", "settings must be a JSON object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn slugs() {
        assert_eq!(parse_slug(" emea-sales ", "slug").unwrap(), "emea-sales");
        assert_eq!(parse_slug("a", "slug").unwrap(), "a");
        for bad in ["", "EMEA", "-a", "a-", "a_b", "a b", "é", &"a".repeat(64)] {
            assert!(parse_slug(bad, "slug").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_parse_and_list_allowed_values() {
        assert_eq!(ChannelKind::parse("sms"), Some(ChannelKind::Sms));
        let err = ChannelKind::parse_field("fax", "kind").unwrap_err();
        assert_eq!(err.field, "kind");
        assert!(err.message.contains("email, sms, chat, web, voice"));
        assert_eq!(
            BillingCycle::parse_field(" yearly ", "c").unwrap(),
            BillingCycle::Yearly
        );
    }

    #[test]
    fn archive_and_restore() {
        assert!(project_transition("active", ProjectStatus::Archived).is_ok());
        assert!(project_transition("archived", ProjectStatus::Active).is_ok());
        match project_transition("archived", ProjectStatus::Archived) {
            Err(Error::InvalidTransition {
                allowed, current, ..
            }) => {
                assert_eq!(current, "archived");
                assert_eq!(allowed, ["restore"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(project_transition("active", ProjectStatus::Active).is_err());
    }

    #[test]
    fn settings_merge_and_replace() {
        let current = json!({"a": {"b": 1, "c": 2}, "d": 3});
        let merged = merge_settings(
            current.as_object().unwrap(),
            &json!({"a": {"b": null}, "d": 4}),
        )
        .unwrap();
        assert_eq!(Value::Object(merged), json!({"a": {"c": 2}, "d": 4}));
        assert!(merge_settings(&Map::new(), &json!([1])).is_err());
        assert!(settings_object(json!("x")).is_err());
    }

    #[test]
    fn stale_versions_are_refused() {
        assert!(check_version("project", 3, None).is_ok());
        assert!(check_version("project", 3, Some(3)).is_ok());
        assert!(matches!(
            check_version("project", 3, Some(2)),
            Err(Error::PreconditionFailed {
                current_version: 3,
                ..
            })
        ));
    }
}
