//! The platform's side of settings: the JSON Schema of known keys and the platform
//! defaults, both loaded once at start, and the checks every settings write goes through.

use clientele_domain::settings::{resolve, Effective, Layers, Locks, SettingsSchema};
use clientele_domain::{Error, FieldError, Result};
use serde_json::{Map, Value};

/// The schema of known keys, as committed in `config/` and served to clients.
pub const SCHEMA_JSON: &str = include_str!("../../../config/settings.schema.json");

pub struct Platform {
    schema: SettingsSchema,
    schema_json: Value,
    defaults: Map<String, Value>,
}

impl Platform {
    /// Loads the schema and checks the platform defaults against it.
    pub fn new(defaults: Map<String, Value>) -> std::result::Result<Platform, String> {
        let schema_json: Value = serde_json::from_str(SCHEMA_JSON)
            .map_err(|e| format!("config/settings.schema.json: {e}"))?;
        let schema = SettingsSchema::from_value(&schema_json)
            .map_err(|e| format!("config/settings.schema.json: {e}"))?;
        let errors = schema.validate(&defaults);
        if !errors.is_empty() {
            let list: Vec<String> = errors
                .iter()
                .map(|e| format!("platform_settings.{}: {}", e.field, e.message))
                .collect();
            return Err(list.join("; "));
        }
        Ok(Platform {
            schema,
            schema_json,
            defaults,
        })
    }

    pub fn schema_json(&self) -> &Value {
        &self.schema_json
    }

    pub fn defaults(&self) -> &Map<String, Value> {
        &self.defaults
    }

    /// 422 naming every value that breaks the schema, each field under `prefix`.
    pub fn validate(&self, settings: &Map<String, Value>, prefix: Option<&str>) -> Result<()> {
        let errors: Vec<FieldError> = self
            .schema
            .validate(settings)
            .into_iter()
            .map(|e| match prefix {
                Some(p) => FieldError::new(format!("{p}.{}", e.field), e.message),
                None => e,
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(errors))
        }
    }

    /// The checks of a project's or channel's overrides: the schema, then the locks.
    pub fn validate_override(&self, settings: &Map<String, Value>, locks: &Locks) -> Result<()> {
        self.validate(settings, None)?;
        let errors = locks.check_overrides(settings);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(errors))
        }
    }

    /// The resolved settings of a level with the source of every leaf.
    pub fn effective(
        &self,
        customer: &Map<String, Value>,
        locks: &Locks,
        project: Option<&Map<String, Value>>,
        channel: Option<&Map<String, Value>>,
    ) -> Effective {
        resolve(
            &Layers {
                platform: Some(&self.defaults),
                customer: Some(customer),
                project,
                channel,
            },
            locks,
        )
    }

    /// A `features.*` limit of a customer (platform default, customer override).
    ///
    /// Reads the one key as [`Platform::effective`] would merge it, without building
    /// the whole tree: every contact create asks, and a full resolve was 4% of the
    /// SQLite writer's time under creates.
    pub fn limit(&self, customer: &Map<String, Value>, key: &str) -> Option<u64> {
        let value = match customer.get("features") {
            Some(Value::Object(features)) => {
                features.get(key).or_else(|| feature(&self.defaults, key))
            }
            // A customer value that is not an object replaces the platform's features.
            Some(_) => None,
            None => feature(&self.defaults, key),
        };
        value.and_then(Value::as_u64)
    }
}

/// `features.<key>` of one level, when that level's `features` is an object.
fn feature<'a>(level: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    level.get("features")?.as_object()?.get(key)
}

/// Stored locks of a customer; a stored list that no longer parses is a bug, not input.
pub fn stored_locks(raw: Vec<String>) -> Result<Locks> {
    Locks::parse(&raw, "locks").map_err(|e| Error::Internal(format!("stored locks: {e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn defaults_are_checked_against_the_schema() {
        assert!(Platform::new(map(json!({"session_timeout": 30}))).is_ok());
        let err = Platform::new(map(json!({"session_timeout": 0})))
            .err()
            .unwrap();
        assert!(err.contains("platform_settings.session_timeout"), "{err}");
    }

    #[test]
    fn limits_come_from_the_platform_unless_the_customer_overrides() {
        let p = Platform::new(map(json!({"features": {"max_projects": 3}}))).unwrap();
        assert_eq!(p.limit(&Map::new(), "max_projects"), Some(3));
        assert_eq!(
            p.limit(
                &map(json!({"features": {"max_projects": 5}})),
                "max_projects"
            ),
            Some(5)
        );
        assert_eq!(p.limit(&Map::new(), "max_users"), None);
    }

    /// The shortcut reads what the full resolve would, whatever the two levels hold.
    #[test]
    fn a_limit_is_the_resolved_value() {
        let levels = [
            json!({}),
            json!({"features": {"max_contacts": 7, "max_users": 2}}),
            json!({"features": {"max_contacts": null}}),
            json!({"features": {"max_contacts": "many"}}),
            json!({"features": {"max_contacts": {"soft": 3}}}),
            json!({"features": {}}),
            json!({"features": 5}),
            json!({"features": null}),
            json!({"session_timeout": 30}),
        ];
        let mut compared = 0;
        for platform in &levels {
            // Not every level is valid platform config; the schema is not the point here.
            let p = Platform {
                schema: SettingsSchema::from_value(&json!({"type": "object"})).unwrap(),
                schema_json: json!({}),
                defaults: map(platform.clone()),
            };
            for customer in &levels {
                let customer = map(customer.clone());
                for key in ["max_contacts", "max_users", "max_projects"] {
                    let resolved = p.effective(&customer, &Locks::default(), None, None);
                    let expected = clientele_domain::settings::limit(&resolved.settings, key);
                    assert_eq!(
                        p.limit(&customer, key),
                        expected,
                        "{platform} then {customer:?}, {key}"
                    );
                    compared += usize::from(expected.is_some());
                }
            }
        }
        // Some pairs do set a limit, so the comparison is not only of Nones.
        assert!(compared >= 10, "{compared}");
    }
}
