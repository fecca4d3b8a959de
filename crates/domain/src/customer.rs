//! The tenant account (seed: "Customer Aggregate"): name, primary email, status
//! lifecycle and global settings.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::email::Email;
use crate::error::{Error, FieldError, Result, Validator};
use crate::time::{now, Timestamp};

pub const NAME_MAX: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerStatus {
    Active,
    Suspended,
    Inactive,
}

impl CustomerStatus {
    pub const ALL: [CustomerStatus; 3] = [Self::Active, Self::Suspended, Self::Inactive];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Inactive => "inactive",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The lifecycle actions allowed from this status.
    pub fn allowed_actions(self) -> &'static [StatusAction] {
        match self {
            Self::Active => &[StatusAction::Suspend, StatusAction::Deactivate],
            Self::Suspended => &[StatusAction::Activate, StatusAction::Deactivate],
            // A closed account keeps its data, so it can be reopened.
            Self::Inactive => &[StatusAction::Activate],
        }
    }
}

/// A lifecycle action on a customer, as named by the API routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusAction {
    Suspend,
    Activate,
    Deactivate,
}

impl StatusAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Suspend => "suspend",
            Self::Activate => "activate",
            Self::Deactivate => "deactivate",
        }
    }

    pub fn target(self) -> CustomerStatus {
        match self {
            Self::Suspend => CustomerStatus::Suspended,
            Self::Activate => CustomerStatus::Active,
            Self::Deactivate => CustomerStatus::Inactive,
        }
    }

    /// The event written when this action succeeds.
    pub fn event_type(self) -> &'static str {
        match self {
            Self::Suspend => "customer.suspended",
            Self::Activate => "customer.activated",
            Self::Deactivate => "customer.deactivated",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub id: Uuid,
    pub name: String,
    pub email: Email,
    pub status: CustomerStatus,
    pub settings: Map<String, Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub status_changed_at: Timestamp,
    /// Incremented on every change; the ETag and `If-Match` compare it.
    pub version: i64,
}

/// Validates a display name: trimmed, non-empty, bounded.
pub fn parse_name(raw: &str, field: &str) -> std::result::Result<String, FieldError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if name.chars().count() > NAME_MAX {
        return Err(FieldError::new(
            field,
            format!("must be at most {NAME_MAX} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(name.to_string())
}

/// Settings are always a JSON object at the top level.
pub fn parse_settings(
    value: Value,
    field: &str,
) -> std::result::Result<Map<String, Value>, FieldError> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(FieldError::new(field, "must be a JSON object")),
    }
}

/// What changed in an update, for the `customer.updated` event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes(pub Vec<&'static str>);

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The changed fields with their values in `state` (an object of the new state):
    /// what an `*.updated` event carries as `changed`.
    pub fn pick(&self, state: &Value) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|name| {
                    let value = state.get(*name).cloned().unwrap_or(Value::Null);
                    ((*name).to_string(), value)
                })
                .collect(),
        )
    }
}

impl Customer {
    pub fn new(name: &str, email: &str, settings: Option<Value>) -> Result<Customer> {
        let mut v = Validator::new();
        let name = v.check(parse_name(name, "name"));
        let email = v.check(Email::parse(email, "email"));
        let settings = match settings {
            None | Some(Value::Null) => Some(Map::new()),
            Some(s) => v.check(parse_settings(s, "settings")),
        };
        v.finish()?;
        let (Some(name), Some(email), Some(settings)) = (name, email, settings) else {
            return Err(Error::Internal(
                "validator passed with missing values".into(),
            ));
        };
        let at = now();
        Ok(Customer {
            id: crate::new_id(),
            name,
            email,
            status: CustomerStatus::Active,
            settings,
            created_at: at,
            updated_at: at,
            status_changed_at: at,
            version: 1,
        })
    }

    /// Applies a partial update of name and email; returns which fields changed.
    pub fn update(&mut self, name: Option<&str>, email: Option<&str>) -> Result<Changes> {
        let mut v = Validator::new();
        let name = name.and_then(|n| v.check(parse_name(n, "name")));
        let email = email.and_then(|e| v.check(Email::parse(e, "email")));
        v.finish()?;
        let mut changes = Changes::default();
        if let Some(name) = name {
            if name != self.name {
                self.name = name;
                changes.0.push("name");
            }
        }
        if let Some(email) = email {
            if email != self.email {
                self.email = email;
                changes.0.push("email");
            }
        }
        if !changes.is_empty() {
            self.touch();
        }
        Ok(changes)
    }

    pub fn replace_settings(&mut self, settings: Map<String, Value>) {
        self.settings = settings;
        self.touch();
    }

    /// The settings after an RFC 7396 merge patch; the result must stay an object.
    pub fn merged_settings(&self, patch: &Value) -> Result<Map<String, Value>> {
        crate::hierarchy::merge_settings(&self.settings, patch)
    }

    /// Moves the status through the lifecycle, or explains which actions are allowed.
    pub fn apply(&mut self, action: StatusAction) -> Result<()> {
        if !self.status.allowed_actions().contains(&action) {
            return Err(Error::InvalidTransition {
                entity: "customer",
                current: self.status.as_str().into(),
                action: action.as_str().into(),
                allowed: self
                    .status
                    .allowed_actions()
                    .iter()
                    .map(|a| a.as_str().to_string())
                    .collect(),
            });
        }
        self.status = action.target();
        self.touch();
        self.status_changed_at = self.updated_at;
        Ok(())
    }

    /// Rejects a stale `If-Match` version.
    pub fn check_version(&self, expected: Option<i64>) -> Result<()> {
        crate::hierarchy::check_version("customer", self.version, expected)
    }

    fn touch(&mut self) {
        self.updated_at = now().max(self.updated_at);
        self.version += 1;
    }

    /// The state carried in event payloads.
    pub fn snapshot(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "name": self.name,
            "email": self.email.as_str(),
            "status": self.status.as_str(),
            "version": self.version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn acme() -> Customer {
        Customer::new("Acme Corporation", "admin@acmecorp.com", None).unwrap()
    }

    #[test]
    fn created_active_with_version_one() {
        let c = acme();
        assert_eq!(c.status, CustomerStatus::Active);
        assert_eq!(c.version, 1);
        assert!(c.settings.is_empty());
    }

    #[test]
    fn new_names_every_bad_field() {
        let Err(Error::Validation(errors)) = Customer::new(" ", "nope", Some(json!([1]))) else {
            panic!("expected validation error");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "email", "settings"]);
    }

    #[test]
    fn lifecycle_follows_the_table() {
        let mut c = acme();
        c.apply(StatusAction::Suspend).unwrap();
        assert_eq!(c.status, CustomerStatus::Suspended);
        c.apply(StatusAction::Activate).unwrap();
        c.apply(StatusAction::Deactivate).unwrap();
        assert_eq!(c.status, CustomerStatus::Inactive);
        let err = c.apply(StatusAction::Suspend).unwrap_err();
        match err {
            Error::InvalidTransition {
                current, allowed, ..
            } => {
                assert_eq!(current, "inactive");
                assert_eq!(allowed, ["activate"]);
            }
            other => panic!("unexpected {other:?}"),
        }
        c.apply(StatusAction::Activate).unwrap();
        assert!(c.apply(StatusAction::Activate).is_err());
        assert_eq!(c.version, 5);
    }

    #[test]
    fn update_reports_only_real_changes() {
        let mut c = acme();
        let changes = c
            .update(Some("Acme Corporation"), Some("NEW@acmecorp.com"))
            .unwrap();
        assert_eq!(changes.0, ["email"]);
        assert_eq!(c.email.as_str(), "new@acmecorp.com");
        assert_eq!(c.version, 2);
        let none = c.update(None, None).unwrap();
        assert!(none.is_empty());
        assert_eq!(c.version, 2);
    }

    #[test]
    fn settings_patch_removes_null_keys() {
        let c = Customer::new("A", "a@b.co", Some(json!({"a": {"b": 1, "c": 2}}))).unwrap();
        let merged = c
            .merged_settings(&json!({"a": {"c": null, "d": 3}}))
            .unwrap();
        assert_eq!(Value::Object(merged), json!({"a": {"b": 1, "d": 3}}));
        assert!(c.merged_settings(&json!(5)).is_err());
        assert_eq!(c.version, 1, "computing a merge changes nothing");
    }

    #[test]
    fn stale_version_is_refused() {
        let c = acme();
        assert!(c.check_version(Some(1)).is_ok());
        assert!(c.check_version(None).is_ok());
        assert!(matches!(
            c.check_version(Some(7)),
            Err(Error::PreconditionFailed {
                current_version: 1,
                ..
            })
        ));
    }
}
