//! Settings inheritance: platform defaults -> customer -> project -> channel.
//!
//! Objects merge deeply; scalars, arrays and `null` replace. The effective view names,
//! for every leaf, the level its value came from. A customer can lock keys so that no
//! project or channel overrides them. Known keys are described by a JSON Schema
//! ([`SettingsSchema`]).
//!
//! Paths are the object keys joined with `.` (`security.require_2fa`); arrays are
//! leaves. A key that itself contains a `.` makes its path ambiguous: such a key
//! cannot be locked, and it may share an entry in [`Effective::sources`] with a
//! nested key of the same spelling.

mod schema;

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::FieldError;

pub use schema::SettingsSchema;

/// Where a setting is stored, from the most general to the most specific.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Platform,
    Customer,
    Project,
    Channel,
}

impl Level {
    pub const ALL: [Level; 4] = [
        Level::Platform,
        Level::Customer,
        Level::Project,
        Level::Channel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Platform => "platform",
            Level::Customer => "customer",
            Level::Project => "project",
            Level::Channel => "channel",
        }
    }

    /// Customer locks bind the levels below the customer.
    fn bound_by_locks(self) -> bool {
        self > Level::Customer
    }
}

/// The stored settings of each level; `None` means the level overrides nothing.
///
/// The effective view of a project leaves `channel` out, that of a customer leaves
/// out both `project` and `channel`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Layers<'a> {
    pub platform: Option<&'a Map<String, Value>>,
    pub customer: Option<&'a Map<String, Value>>,
    pub project: Option<&'a Map<String, Value>>,
    pub channel: Option<&'a Map<String, Value>>,
}

impl<'a> Layers<'a> {
    /// The levels that are present, most general first.
    fn iter(&self) -> impl Iterator<Item = (Level, &'a Map<String, Value>)> {
        let layers = [self.platform, self.customer, self.project, self.channel];
        Level::ALL
            .into_iter()
            .zip(layers)
            .filter_map(|(level, settings)| settings.map(|s| (level, s)))
    }
}

/// The resolved settings and, for every leaf path, the level it came from.
///
/// Serializes as `{"settings": {...}, "sources": {"session_timeout": "project", ...}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effective {
    pub settings: Map<String, Value>,
    pub sources: BTreeMap<String, Level>,
}

/// Merges the layers in order, skipping what lower levels set under a customer lock.
pub fn resolve(layers: &Layers<'_>, locks: &Locks) -> Effective {
    let mut merged = Map::new();
    // Who last created or replaced the value at each path; merging into an existing
    // object does not change who it came from. Paths that no longer exist are left
    // behind here and filtered out below.
    let mut writers = HashMap::new();
    for (level, settings) in layers.iter() {
        let mut layer = LayerMerge {
            level,
            locks,
            writers: &mut writers,
        };
        layer.merge(&mut merged, settings, &mut Vec::new());
    }
    let sources = flatten(&merged)
        .into_iter()
        .filter_map(|(path, _)| writers.get(&path).map(|&level| (path, level)))
        .collect();
    Effective {
        settings: merged,
        sources,
    }
}

/// One level being merged into the result.
struct LayerMerge<'a> {
    level: Level,
    locks: &'a Locks,
    writers: &'a mut HashMap<String, Level>,
}

impl LayerMerge<'_> {
    fn merge<'k>(
        &mut self,
        target: &mut Map<String, Value>,
        layer: &'k Map<String, Value>,
        path: &mut Vec<&'k str>,
    ) {
        for (key, value) in layer {
            path.push(key);
            let locked = self.level.bound_by_locks() && self.locks.conflict(path, value).is_some();
            if !locked {
                self.merge_value(target, key, value, path);
            }
            path.pop();
        }
    }

    fn merge_value<'k>(
        &mut self,
        target: &mut Map<String, Value>,
        key: &str,
        value: &'k Value,
        path: &mut Vec<&'k str>,
    ) {
        let slot = target.entry(key).or_insert(Value::Null);
        match value {
            Value::Object(incoming) => {
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                    self.writers.insert(path.join("."), self.level);
                }
                if let Value::Object(existing) = slot {
                    self.merge(existing, incoming, path);
                }
            }
            other => {
                *slot = other.clone();
                self.writers.insert(path.join("."), self.level);
            }
        }
    }
}

/// Every leaf of `settings` with its dotted path, in the map's order (key order
/// unless serde_json's `preserve_order` feature is on).
///
/// Leaves are scalars, arrays, `null` and empty objects. In the effective view this
/// runs on the merged result, so an empty object stored at some level is a leaf only
/// if no level sets anything beneath that path.
pub fn flatten(settings: &Map<String, Value>) -> Vec<(String, &Value)> {
    let mut leaves = Vec::new();
    collect_leaves(settings, "", &mut leaves);
    leaves
}

fn collect_leaves<'a>(
    map: &'a Map<String, Value>,
    prefix: &str,
    out: &mut Vec<(String, &'a Value)>,
) {
    for (key, value) in map {
        let path = join_path(prefix, key);
        match value {
            Value::Object(children) if !children.is_empty() => collect_leaves(children, &path, out),
            leaf => out.push((path, leaf)),
        }
    }
}

/// `prefix.key`, or `key` at the top level.
fn join_path(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// The limit `features.<key>` of resolved settings; `None` when it is absent or not a
/// non-negative integer (such a value never passes the schema).
pub fn limit(effective: &Map<String, Value>, key: &str) -> Option<u64> {
    effective.get("features")?.as_object()?.get(key)?.as_u64()
}

/// The keys a customer locked, validated, trimmed and sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Locks(Vec<String>);

/// How an override at some path runs into a lock.
enum Conflict<'a> {
    /// The path is the locked key or lies beneath it.
    Covered(&'a str),
    /// The path is above the locked key and its value is not an object, so it would
    /// replace the locked value.
    Replaces(&'a str),
}

impl Locks {
    pub const MAX: usize = 100;
    pub const KEY_MAX_LEN: usize = 200;

    /// Validates lock keys; errors name `field[index]`, or `field` for the count.
    pub fn parse<S: AsRef<str>>(keys: &[S], field: &str) -> Result<Locks, Vec<FieldError>> {
        let mut errors = Vec::new();
        if keys.len() > Self::MAX {
            errors.push(FieldError::new(
                field,
                format!("must have at most {} keys", Self::MAX),
            ));
        }
        let mut first_seen: HashMap<&str, usize> = HashMap::new();
        for (index, raw) in keys.iter().enumerate() {
            let key = raw.as_ref().trim();
            let item = format!("{field}[{index}]");
            if let Err(message) = check_lock_key(key) {
                errors.push(FieldError::new(item, message));
            } else if let Some(first) = first_seen.insert(key, index) {
                errors.push(FieldError::new(
                    item,
                    format!("duplicates {field}[{first}]"),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut keys: Vec<String> = first_seen.into_keys().map(str::to_string).collect();
        keys.sort();
        Ok(Locks(keys))
    }

    pub fn keys(&self) -> &[String] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Field errors for every place where project or channel `overrides` would
    /// override a locked key: the key itself, anything beneath it, or an ancestor set
    /// to a non-object.
    ///
    /// `null` is accepted anywhere: in a merge patch it deletes, and the effective
    /// view ignores lower levels at locked keys anyway, so it can never get past a lock.
    pub fn check_overrides(&self, overrides: &Map<String, Value>) -> Vec<FieldError> {
        let mut errors = Vec::new();
        self.check_level(overrides, &mut Vec::new(), &mut errors);
        errors
    }

    fn check_level<'k>(
        &self,
        overrides: &'k Map<String, Value>,
        path: &mut Vec<&'k str>,
        errors: &mut Vec<FieldError>,
    ) {
        for (key, value) in overrides {
            path.push(key);
            match (value, self.conflict(path, value)) {
                (Value::Null, _) => {}
                (_, Some(conflict)) => errors.push(conflict.error(path)),
                (Value::Object(children), None) => self.check_level(children, path, errors),
                _ => {}
            }
            path.pop();
        }
    }

    /// The first lock that a lower level setting `value` at `path` runs into.
    fn conflict(&self, path: &[&str], value: &Value) -> Option<Conflict<'_>> {
        self.0.iter().find_map(|lock| {
            let lock_path: Vec<&str> = lock.split('.').collect();
            if path.starts_with(&lock_path) {
                Some(Conflict::Covered(lock))
            } else if lock_path.starts_with(path) && !value.is_object() {
                Some(Conflict::Replaces(lock))
            } else {
                None
            }
        })
    }
}

impl Conflict<'_> {
    fn error(&self, path: &[&str]) -> FieldError {
        let field = path.join(".");
        match self {
            Conflict::Covered(lock) => {
                FieldError::new(field, format!("is locked by the customer (lock: {lock})"))
            }
            Conflict::Replaces(lock) => FieldError::new(
                field,
                format!("must be an object: it contains the locked key {lock}"),
            ),
        }
    }
}

/// A lock key is a dotted path of `[A-Za-z0-9_-]+` segments.
fn check_lock_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("is required".into());
    }
    if key.len() > Locks::KEY_MAX_LEN {
        return Err(format!("must be at most {} characters", Locks::KEY_MAX_LEN));
    }
    let valid_segment = |segment: &str| {
        !segment.is_empty()
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if !key.split('.').all(valid_segment) {
        return Err(
            "must be a dotted key of letters, digits, '_' and '-' (e.g. security.require_2fa)"
                .into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    fn locks(keys: &[&str]) -> Locks {
        Locks::parse(keys, "locks").unwrap()
    }

    fn sources(effective: &Effective) -> Vec<(&str, Level)> {
        effective
            .sources
            .iter()
            .map(|(path, level)| (path.as_str(), *level))
            .collect()
    }

    /// The product example: the channel inherits the project's override.
    #[test]
    fn channel_inherits_project_override() {
        let platform = obj(json!({"session_timeout": 15}));
        let customer = obj(json!({"session_timeout": 30}));
        let project = obj(json!({"session_timeout": 60}));
        let channel = obj(json!({}));
        let layers = Layers {
            platform: Some(&platform),
            customer: Some(&customer),
            project: Some(&project),
            channel: Some(&channel),
        };
        let effective = resolve(&layers, &Locks::default());
        assert_eq!(effective.settings["session_timeout"], json!(60));
        assert_eq!(effective.sources["session_timeout"], Level::Project);
    }

    #[test]
    fn objects_merge_deeply_and_arrays_replace() {
        let platform = obj(json!({
            "security": {"require_2fa": false, "password": {"min_length": 8, "history": 3}},
            "channels": ["email", "sms"],
            "locale": "en",
        }));
        let customer = obj(json!({
            "security": {"password": {"min_length": 12}},
            "channels": ["chat"],
        }));
        let project = obj(json!({"security": {"require_2fa": true}, "locale": "de"}));
        let layers = Layers {
            platform: Some(&platform),
            customer: Some(&customer),
            project: Some(&project),
            channel: None,
        };
        let effective = resolve(&layers, &Locks::default());
        assert_eq!(
            Value::Object(effective.settings.clone()),
            json!({
                "security": {"require_2fa": true, "password": {"min_length": 12, "history": 3}},
                "channels": ["chat"],
                "locale": "de",
            })
        );
        assert_eq!(
            sources(&effective),
            [
                ("channels", Level::Customer),
                ("locale", Level::Project),
                ("security.password.history", Level::Platform),
                ("security.password.min_length", Level::Customer),
                ("security.require_2fa", Level::Project),
            ]
        );
    }

    #[test]
    fn every_leaf_has_a_source_and_nothing_else_does() {
        let platform = obj(json!({"a": {"b": 1, "c": {"d": [1]}}, "e": null, "f": {}}));
        let customer = obj(json!({"a": {"c": 5}, "g": {"h": {}}}));
        let channel = obj(json!({"a": {"b": {"x": "y"}}, "f": {"z": 0}}));
        let layers = Layers {
            platform: Some(&platform),
            customer: Some(&customer),
            project: None,
            channel: Some(&channel),
        };
        let effective = resolve(&layers, &Locks::default());
        let mut leaves: Vec<String> = flatten(&effective.settings)
            .into_iter()
            .map(|(path, _)| path)
            .collect();
        leaves.sort();
        let sourced: Vec<String> = effective.sources.keys().cloned().collect();
        assert_eq!(leaves, sourced);
        assert_eq!(
            sources(&effective),
            [
                ("a.b.x", Level::Channel),
                ("a.c", Level::Customer),
                ("e", Level::Platform),
                ("f.z", Level::Channel),
                ("g.h", Level::Customer),
            ]
        );
    }

    #[test]
    fn replacing_an_object_with_a_scalar_drops_its_leaves_and_back() {
        let platform = obj(json!({"a": {"b": 1, "c": 2}, "n": 1}));
        let customer = obj(json!({"a": false, "n": {"m": 2}}));
        let project = obj(json!({"a": {"c": 3}}));
        let layers = Layers {
            platform: Some(&platform),
            customer: Some(&customer),
            project: Some(&project),
            channel: None,
        };
        let effective = resolve(&layers, &Locks::default());
        assert_eq!(
            Value::Object(effective.settings.clone()),
            json!({"a": {"c": 3}, "n": {"m": 2}})
        );
        assert_eq!(
            sources(&effective),
            [("a.c", Level::Project), ("n.m", Level::Customer)]
        );
    }

    #[test]
    fn empty_object_is_a_leaf_of_the_level_that_created_it() {
        let platform = obj(json!({"features": {}}));
        let customer = obj(json!({"features": {}}));
        let layers = Layers {
            platform: Some(&platform),
            customer: Some(&customer),
            ..Layers::default()
        };
        let effective = resolve(&layers, &Locks::default());
        assert_eq!(sources(&effective), [("features", Level::Platform)]);

        let project = obj(json!({"features": {"max_users": 5}}));
        let layers = Layers {
            project: Some(&project),
            ..layers
        };
        let effective = resolve(&layers, &Locks::default());
        assert_eq!(
            sources(&effective),
            [("features.max_users", Level::Project)]
        );
    }

    #[test]
    fn no_layers_resolve_to_nothing() {
        let effective = resolve(&Layers::default(), &Locks::default());
        assert!(effective.settings.is_empty());
        assert!(effective.sources.is_empty());
    }

    #[test]
    fn effective_serializes_with_lowercase_levels() {
        let customer = obj(json!({"session_timeout": 30, "security": {"require_2fa": true}}));
        let layers = Layers {
            customer: Some(&customer),
            ..Layers::default()
        };
        let effective = resolve(&layers, &Locks::default());
        assert_eq!(
            serde_json::to_value(&effective).unwrap(),
            json!({
                "settings": {"session_timeout": 30, "security": {"require_2fa": true}},
                "sources": {"session_timeout": "customer", "security.require_2fa": "customer"},
            })
        );
        let names: Vec<Value> = Level::ALL
            .iter()
            .map(|l| serde_json::to_value(l).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                json!("platform"),
                json!("customer"),
                json!("project"),
                json!("channel")
            ]
        );
        assert!(Level::ALL.iter().all(|l| json!(l.as_str()) == json!(l)));
        let parsed: Level = serde_json::from_value(json!("channel")).unwrap();
        assert_eq!(parsed, Level::Channel);
    }

    #[test]
    fn locked_keys_come_from_the_customer_at_every_depth() {
        let platform = obj(json!({
            "ai_enabled": true,
            "security": {"require_2fa": false, "sso": {"provider": {"name": "none"}}},
        }));
        let customer = obj(json!({
            "ai_enabled": false,
            "security": {"require_2fa": true, "sso": {"provider": {"name": "okta"}}},
        }));
        // Stored before the locks existed: ignored for the locked keys only.
        let project = obj(json!({
            "ai_enabled": true,
            "security": {"require_2fa": false, "sso": {"provider": {"name": "x", "url": "u"}}},
            "locale": "fr",
        }));
        let channel = obj(json!({"security": {"sso": {"provider": {"name": "y"}}}}));
        let layers = Layers {
            platform: Some(&platform),
            customer: Some(&customer),
            project: Some(&project),
            channel: Some(&channel),
        };
        let locks = locks(&[
            "ai_enabled",
            "security.require_2fa",
            "security.sso.provider.name",
        ]);
        let effective = resolve(&layers, &locks);
        assert_eq!(
            Value::Object(effective.settings.clone()),
            json!({
                "ai_enabled": false,
                "security": {"require_2fa": true, "sso": {"provider": {"name": "okta", "url": "u"}}},
                "locale": "fr",
            })
        );
        assert_eq!(
            sources(&effective),
            [
                ("ai_enabled", Level::Customer),
                ("locale", Level::Project),
                ("security.require_2fa", Level::Customer),
                ("security.sso.provider.name", Level::Customer),
                ("security.sso.provider.url", Level::Project),
            ]
        );
    }

    #[test]
    fn locked_key_falls_back_to_the_platform_default() {
        let platform = obj(json!({"security": {"require_2fa": true}}));
        let customer = obj(json!({}));
        let project = obj(json!({"security": {"require_2fa": false}}));
        let layers = Layers {
            platform: Some(&platform),
            customer: Some(&customer),
            project: Some(&project),
            channel: None,
        };
        let effective = resolve(&layers, &locks(&["security.require_2fa"]));
        assert_eq!(effective.settings["security"], json!({"require_2fa": true}));
        assert_eq!(
            sources(&effective),
            [("security.require_2fa", Level::Platform)]
        );
    }

    #[test]
    fn locked_object_keeps_its_whole_subtree() {
        let customer = obj(json!({"features": {"max_users": 10}}));
        let project = obj(json!({"features": {"max_users": 99, "max_projects": 5}}));
        let layers = Layers {
            customer: Some(&customer),
            project: Some(&project),
            ..Layers::default()
        };
        let effective = resolve(&layers, &locks(&["features"]));
        assert_eq!(effective.settings["features"], json!({"max_users": 10}));
        assert_eq!(
            sources(&effective),
            [("features.max_users", Level::Customer)]
        );
    }

    #[test]
    fn lower_level_cannot_replace_an_ancestor_of_a_locked_key() {
        let customer = obj(json!({"security": {"require_2fa": true}}));
        let project = obj(json!({"security": false}));
        let channel = obj(json!({"security": null}));
        let layers = Layers {
            customer: Some(&customer),
            project: Some(&project),
            channel: Some(&channel),
            ..Layers::default()
        };
        let effective = resolve(&layers, &locks(&["security.require_2fa"]));
        assert_eq!(effective.settings["security"], json!({"require_2fa": true}));

        // Without the lock, the same layers replace it.
        let effective = resolve(&layers, &Locks::default());
        assert_eq!(effective.settings["security"], json!(null));
        assert_eq!(sources(&effective), [("security", Level::Channel)]);
    }

    #[test]
    fn locks_do_not_bind_the_customer_itself() {
        let platform = obj(json!({"ai_enabled": true}));
        let customer = obj(json!({"ai_enabled": false}));
        let layers = Layers {
            platform: Some(&platform),
            customer: Some(&customer),
            ..Layers::default()
        };
        let effective = resolve(&layers, &locks(&["ai_enabled"]));
        assert_eq!(effective.settings["ai_enabled"], json!(false));
    }

    #[test]
    fn lock_matches_whole_segments_only() {
        let customer = obj(json!({"security": {"require_2fa": true}}));
        let project = obj(json!({
            "security": {"require_2fa_grace": 7},
            "security.require_2fa": "a key with a dot",
        }));
        let layers = Layers {
            customer: Some(&customer),
            project: Some(&project),
            ..Layers::default()
        };
        let locks = locks(&["security.require_2fa"]);
        let effective = resolve(&layers, &locks);
        assert_eq!(
            effective.settings["security"],
            json!({"require_2fa": true, "require_2fa_grace": 7})
        );
        assert!(locks.check_overrides(&project).is_empty());
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn check_names_every_override_of_a_locked_key() {
        let locks = locks(&["ai_enabled", "security.require_2fa", "features"]);
        let overrides = obj(json!({
            "ai_enabled": true,
            "features": {"max_users": {"soft": 3}},
            "locale": "de",
            "security": {"require_2fa": false, "sso": true},
        }));
        let errors = locks.check_overrides(&overrides);
        // Something beneath a lock is reported once, at the locked key.
        assert_eq!(
            fields(&errors),
            ["ai_enabled", "features", "security.require_2fa"]
        );
        assert_eq!(
            errors[0].message,
            "is locked by the customer (lock: ai_enabled)"
        );
        assert_eq!(
            errors[1].message,
            "is locked by the customer (lock: features)"
        );
    }

    #[test]
    fn check_rejects_a_non_object_ancestor_of_a_locked_key() {
        let locks = locks(&["security.sso.provider"]);
        for overrides in [json!({"security": 1}), json!({"security": {"sso": []}})] {
            let errors = locks.check_overrides(&obj(overrides.clone()));
            assert_eq!(errors.len(), 1, "{overrides}");
            assert!(
                errors[0]
                    .message
                    .contains("contains the locked key security.sso.provider"),
                "{}",
                errors[0].message
            );
        }
        let errors = locks.check_overrides(&obj(json!({"security": {"sso": 1}})));
        assert_eq!(fields(&errors), ["security.sso"]);
    }

    #[test]
    fn check_accepts_siblings_objects_and_deletions() {
        let locks = locks(&["security.require_2fa"]);
        let overrides = obj(json!({
            "security": {"password": {"min_length": 10}, "require_2fa": null},
            "session_timeout": 60,
        }));
        assert!(locks.check_overrides(&overrides).is_empty());
        assert!(locks
            .check_overrides(&obj(json!({"security": null})))
            .is_empty());
        assert!(Locks::default()
            .check_overrides(&obj(json!({"security": {"require_2fa": false}})))
            .is_empty());
    }

    #[test]
    fn lock_keys_are_trimmed_sorted_and_serialized_as_a_list() {
        let locks = Locks::parse(
            &[" security.require_2fa ", "ai_enabled", "a-b.C_9"],
            "locks",
        )
        .unwrap();
        assert_eq!(
            locks.keys(),
            ["a-b.C_9", "ai_enabled", "security.require_2fa"]
        );
        assert_eq!(
            serde_json::to_value(&locks).unwrap(),
            json!(["a-b.C_9", "ai_enabled", "security.require_2fa"])
        );
        let empty: [&str; 0] = [];
        assert!(Locks::parse(&empty, "locks").unwrap().is_empty());
    }

    #[test]
    fn bad_lock_keys_are_named() {
        let too_long = "a".repeat(Locks::KEY_MAX_LEN + 1);
        let keys = [
            "ok", "", " ", "a..b", ".a", "a.", "a b", "a/b", "é", "$ref", &too_long, "ok ",
        ];
        let errors = Locks::parse(&keys, "locks").unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "locks[1]",
                "locks[2]",
                "locks[3]",
                "locks[4]",
                "locks[5]",
                "locks[6]",
                "locks[7]",
                "locks[8]",
                "locks[9]",
                "locks[10]",
                "locks[11]",
            ]
        );
        assert_eq!(errors[0].message, "is required");
        assert!(errors[2].message.starts_with("must be a dotted key"));
        assert_eq!(errors[10].message, "duplicates locks[0]");
    }

    #[test]
    fn at_most_a_hundred_locks() {
        let keys: Vec<String> = (0..=Locks::MAX).map(|i| format!("k{i}")).collect();
        let errors = Locks::parse(&keys, "locks").unwrap_err();
        assert_eq!(fields(&errors), ["locks"]);
        assert_eq!(errors[0].message, "must have at most 100 keys");
        assert_eq!(
            Locks::parse(&keys[..Locks::MAX], "locks")
                .unwrap()
                .keys()
                .len(),
            100
        );
    }

    #[test]
    fn flatten_lists_leaves_with_dotted_paths() {
        // Written in key order: serde_json's map may keep insertion order instead.
        let settings = obj(json!({
            "a": 1,
            "b": {"c": [1, {"x": 1}], "d": {"e": null, "f": {}}},
            "g": {},
        }));
        let leaves = flatten(&settings);
        assert_eq!(
            leaves,
            [
                ("a".to_string(), &json!(1)),
                ("b.c".to_string(), &json!([1, {"x": 1}])),
                ("b.d.e".to_string(), &json!(null)),
                ("b.d.f".to_string(), &json!({})),
                ("g".to_string(), &json!({})),
            ]
        );
        assert!(flatten(&Map::new()).is_empty());
    }

    #[test]
    fn limits_read_non_negative_integers_under_features() {
        let effective = obj(json!({
            "features": {"max_users": 25, "max_projects": 0, "max_contacts": -1, "x": 2.5, "y": "3"},
            "max_users": 7,
        }));
        assert_eq!(limit(&effective, "max_users"), Some(25));
        assert_eq!(limit(&effective, "max_projects"), Some(0));
        for key in ["max_contacts", "x", "y", "absent"] {
            assert_eq!(limit(&effective, key), None, "{key}");
        }
        assert_eq!(limit(&obj(json!({"features": 3})), "max_users"), None);
        assert_eq!(limit(&Map::new(), "max_users"), None);
    }
}
