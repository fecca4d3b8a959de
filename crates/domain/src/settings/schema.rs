//! A validator for the small JSON Schema (Draft 2020-12) subset that describes the
//! known settings keys.
//!
//! Supported: `type`, `properties`, `additionalProperties`, `items` (one schema),
//! `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `enum`,
//! `minLength`, `maxLength` and `format` (only `iso-4217`, which is asserted), plus
//! boolean schemas. The annotations `$schema`, `$id`, `title`, `description`,
//! `default`, `examples` and `$comment` are ignored. Any other keyword fails loading,
//! so the schema can never rely on a rule that is silently not enforced.
//!
//! One deliberate difference from the specification: `5.0` is *not* an integer.
//! serde_json keeps it as a float, and the code that reads limits (`as_u64`) would
//! ignore it, so accepting it here would let a limit pass validation and then vanish.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{Map, Number, Value};

use crate::currency;
use crate::error::FieldError;

const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// Keywords that carry no rule.
const ANNOTATIONS: [&str; 7] = [
    "$schema",
    "$id",
    "title",
    "description",
    "default",
    "examples",
    "$comment",
];

/// A loaded settings schema; [`SettingsSchema::validate`] checks settings against it.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsSchema {
    root: Node,
}

impl SettingsSchema {
    /// Loads a schema, or says which keyword (and where, as a JSON pointer) is wrong.
    pub fn from_value(schema: &Value) -> Result<SettingsSchema, String> {
        Ok(SettingsSchema {
            root: Node::parse(schema, "#")?,
        })
    }

    /// Every value that breaks the schema, named by its path (`features.max_users`,
    /// `tags[2]`). Keys the schema does not describe are accepted unless an
    /// `additionalProperties` says otherwise.
    pub fn validate(&self, settings: &Map<String, Value>) -> Vec<FieldError> {
        let mut errors = Vec::new();
        // Settings are small; checking them as one Value keeps a single code path.
        self.root
            .check(&Value::Object(settings.clone()), "", &mut errors);
        errors
    }
}

/// A schema: a boolean (`true` accepts anything, `false` nothing) or rules.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Bool(bool),
    Rules(Box<Rules>),
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Rules {
    /// Empty: any type.
    types: Vec<JsonType>,
    enumeration: Option<Vec<Value>>,
    bounds: Vec<Bound>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    format: Option<Format>,
    items: Option<Node>,
    properties: BTreeMap<String, Node>,
    /// `None`: other properties are allowed as they are.
    additional: Option<Node>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsonType {
    Object,
    Array,
    String,
    Integer,
    Number,
    Boolean,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BoundKind {
    Minimum,
    Maximum,
    ExclusiveMinimum,
    ExclusiveMaximum,
}

#[derive(Debug, Clone, PartialEq)]
struct Bound {
    kind: BoundKind,
    limit: Number,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Iso4217,
}

// ---- loading ----

impl Node {
    fn parse(schema: &Value, at: &str) -> Result<Node, String> {
        match schema {
            Value::Bool(b) => Ok(Node::Bool(*b)),
            Value::Object(keywords) => Ok(Node::Rules(Box::new(Rules::parse(keywords, at)?))),
            _ => Err(format!("{at}: a schema must be an object or a boolean")),
        }
    }
}

impl Rules {
    fn parse(keywords: &Map<String, Value>, at: &str) -> Result<Rules, String> {
        let mut rules = Rules::default();
        for (keyword, value) in keywords {
            let here = format!("{at}/{}", pointer_escape(keyword));
            match keyword.as_str() {
                "$schema" if value != DRAFT_2020_12 => {
                    return Err(format!("{here}: only {DRAFT_2020_12} is supported"));
                }
                k if ANNOTATIONS.contains(&k) => {}
                "type" => rules.types = parse_types(value, &here)?,
                "enum" => rules.enumeration = Some(parse_enum(value, &here)?),
                "minimum" => rules.add_bound(BoundKind::Minimum, value, &here)?,
                "maximum" => rules.add_bound(BoundKind::Maximum, value, &here)?,
                "exclusiveMinimum" => rules.add_bound(BoundKind::ExclusiveMinimum, value, &here)?,
                "exclusiveMaximum" => rules.add_bound(BoundKind::ExclusiveMaximum, value, &here)?,
                "minLength" => rules.min_length = Some(parse_length(value, &here)?),
                "maxLength" => rules.max_length = Some(parse_length(value, &here)?),
                "format" => rules.format = Some(Format::parse(value, &here)?),
                "items" => rules.items = Some(Node::parse(value, &here)?),
                "properties" => rules.properties = parse_properties(value, &here)?,
                "additionalProperties" => rules.additional = Some(Node::parse(value, &here)?),
                other => return Err(format!("{at}: unsupported keyword \"{other}\"")),
            }
        }
        Ok(rules)
    }

    fn add_bound(&mut self, kind: BoundKind, value: &Value, at: &str) -> Result<(), String> {
        let Value::Number(limit) = value else {
            return Err(format!("{at}: must be a number"));
        };
        self.bounds.push(Bound {
            kind,
            limit: limit.clone(),
        });
        Ok(())
    }
}

fn parse_types(value: &Value, at: &str) -> Result<Vec<JsonType>, String> {
    let names: Vec<&Value> = match value {
        Value::Array(names) if !names.is_empty() => names.iter().collect(),
        Value::Array(_) => return Err(format!("{at}: must list at least one type")),
        single => vec![single],
    };
    let mut types = Vec::new();
    for name in names {
        let parsed = name
            .as_str()
            .and_then(JsonType::parse)
            .ok_or_else(|| format!("{at}: unknown type {name}"))?;
        if types.contains(&parsed) {
            return Err(format!("{at}: type {name} is listed twice"));
        }
        types.push(parsed);
    }
    Ok(types)
}

fn parse_enum(value: &Value, at: &str) -> Result<Vec<Value>, String> {
    match value {
        Value::Array(values) if !values.is_empty() => Ok(values.clone()),
        _ => Err(format!("{at}: must be a non-empty array")),
    }
}

fn parse_length(value: &Value, at: &str) -> Result<u64, String> {
    value
        .as_u64()
        .ok_or_else(|| format!("{at}: must be a non-negative integer"))
}

fn parse_properties(value: &Value, at: &str) -> Result<BTreeMap<String, Node>, String> {
    let Value::Object(properties) = value else {
        return Err(format!("{at}: must be an object"));
    };
    properties
        .iter()
        .map(|(name, schema)| {
            let here = format!("{at}/{}", pointer_escape(name));
            Ok((name.clone(), Node::parse(schema, &here)?))
        })
        .collect()
}

/// JSON Pointer escaping (RFC 6901), for locations in load errors.
fn pointer_escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

impl JsonType {
    fn parse(name: &str) -> Option<JsonType> {
        Some(match name {
            "object" => JsonType::Object,
            "array" => JsonType::Array,
            "string" => JsonType::String,
            "integer" => JsonType::Integer,
            "number" => JsonType::Number,
            "boolean" => JsonType::Boolean,
            "null" => JsonType::Null,
            _ => return None,
        })
    }
}

impl Format {
    fn parse(value: &Value, at: &str) -> Result<Format, String> {
        match value.as_str() {
            Some("iso-4217") => Ok(Format::Iso4217),
            _ => Err(format!("{at}: unsupported format {value}")),
        }
    }
}

// ---- validation ----

impl Node {
    fn check(&self, value: &Value, path: &str, errors: &mut Vec<FieldError>) {
        match self {
            Node::Bool(true) => {}
            Node::Bool(false) => errors.push(FieldError::new(path, "is not allowed")),
            Node::Rules(rules) => rules.check(value, path, errors),
        }
    }
}

impl Rules {
    fn check(&self, value: &Value, path: &str, errors: &mut Vec<FieldError>) {
        if !self.types.is_empty() && !self.types.iter().any(|t| t.matches(value)) {
            // The other keywords would only add noise about a value of the wrong kind.
            errors.push(FieldError::new(path, type_message(&self.types)));
            return;
        }
        if let Some(allowed) = &self.enumeration {
            if !allowed.contains(value) {
                errors.push(FieldError::new(path, enum_message(allowed)));
            }
        }
        match value {
            Value::Number(n) => self.check_number(n, path, errors),
            Value::String(s) => self.check_string(s, path, errors),
            Value::Array(items) => self.check_items(items, path, errors),
            Value::Object(members) => self.check_members(members, path, errors),
            Value::Bool(_) | Value::Null => {}
        }
    }

    fn check_number(&self, n: &Number, path: &str, errors: &mut Vec<FieldError>) {
        for bound in &self.bounds {
            if !bound.admits(n) {
                errors.push(FieldError::new(path, bound.message()));
            }
        }
    }

    fn check_string(&self, s: &str, path: &str, errors: &mut Vec<FieldError>) {
        // JSON Schema counts characters (code points), not bytes.
        let length = s.chars().count() as u64;
        if let Some(min) = self.min_length.filter(|&min| length < min) {
            errors.push(FieldError::new(
                path,
                format!("must be at least {min} characters"),
            ));
        }
        if let Some(max) = self.max_length.filter(|&max| length > max) {
            errors.push(FieldError::new(
                path,
                format!("must be at most {max} characters"),
            ));
        }
        if let Some(format) = self.format {
            if !format.matches(s) {
                errors.push(FieldError::new(path, format.message()));
            }
        }
    }

    fn check_items(&self, items: &[Value], path: &str, errors: &mut Vec<FieldError>) {
        if let Some(schema) = &self.items {
            for (index, item) in items.iter().enumerate() {
                schema.check(item, &format!("{path}[{index}]"), errors);
            }
        }
    }

    fn check_members(
        &self,
        members: &Map<String, Value>,
        path: &str,
        errors: &mut Vec<FieldError>,
    ) {
        for (key, value) in members {
            // A key without its own schema falls back to `additionalProperties`.
            if let Some(schema) = self.properties.get(key).or(self.additional.as_ref()) {
                schema.check(value, &super::join_path(path, key), errors);
            }
        }
    }
}

impl JsonType {
    fn matches(self, value: &Value) -> bool {
        match (self, value) {
            (JsonType::Object, Value::Object(_))
            | (JsonType::Array, Value::Array(_))
            | (JsonType::String, Value::String(_))
            | (JsonType::Number, Value::Number(_))
            | (JsonType::Boolean, Value::Bool(_))
            | (JsonType::Null, Value::Null) => true,
            // Only numbers written without a fraction or exponent (see the module docs).
            (JsonType::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
            _ => false,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            JsonType::Object => "an object",
            JsonType::Array => "an array",
            JsonType::String => "a string",
            JsonType::Integer => "an integer",
            JsonType::Number => "a number",
            JsonType::Boolean => "a boolean",
            JsonType::Null => "null",
        }
    }
}

fn type_message(types: &[JsonType]) -> String {
    let nouns: Vec<&str> = types.iter().map(|t| t.noun()).collect();
    format!("must be {}", nouns.join(" or "))
}

fn enum_message(allowed: &[Value]) -> String {
    let values: Vec<String> = allowed.iter().map(Value::to_string).collect();
    format!("must be one of {}", values.join(", "))
}

impl Bound {
    fn admits(&self, n: &Number) -> bool {
        let Some(ordering) = compare(n, &self.limit) else {
            // Only NaN compares to nothing, and JSON cannot carry it.
            return true;
        };
        match self.kind {
            BoundKind::Minimum => ordering != Ordering::Less,
            BoundKind::Maximum => ordering != Ordering::Greater,
            BoundKind::ExclusiveMinimum => ordering == Ordering::Greater,
            BoundKind::ExclusiveMaximum => ordering == Ordering::Less,
        }
    }

    fn message(&self) -> String {
        let limit = &self.limit;
        match self.kind {
            BoundKind::Minimum => format!("must be at least {limit}"),
            BoundKind::Maximum => format!("must be at most {limit}"),
            BoundKind::ExclusiveMinimum => format!("must be greater than {limit}"),
            BoundKind::ExclusiveMaximum => format!("must be less than {limit}"),
        }
    }
}

/// Compares integers exactly (an f64 cannot hold every u64) and anything else as f64.
fn compare(a: &Number, b: &Number) -> Option<Ordering> {
    match (as_i128(a), as_i128(b)) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn as_i128(n: &Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

impl Format {
    fn matches(self, s: &str) -> bool {
        match self {
            Format::Iso4217 => currency::is_iso4217(s),
        }
    }

    fn message(self) -> &'static str {
        match self {
            Format::Iso4217 => "must be an ISO 4217 currency code",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SETTINGS_SCHEMA: &str = include_str!("../../../../config/settings.schema.json");

    fn obj(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    fn load(schema: Value) -> SettingsSchema {
        SettingsSchema::from_value(&schema).unwrap()
    }

    fn load_error(schema: Value) -> String {
        SettingsSchema::from_value(&schema).unwrap_err()
    }

    /// (field, message) of every error, sorted so that map order does not matter.
    fn errors(schema: &SettingsSchema, settings: Value) -> Vec<(String, String)> {
        let mut errors: Vec<(String, String)> = schema
            .validate(&obj(settings))
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect();
        errors.sort();
        errors
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(f, m)| (f.to_string(), m.to_string()))
            .collect()
    }

    fn bundled() -> SettingsSchema {
        let value: Value = serde_json::from_str(SETTINGS_SCHEMA).unwrap();
        SettingsSchema::from_value(&value).unwrap()
    }

    #[test]
    fn bundled_schema_is_draft_2020_12_and_loads() {
        let value: Value = serde_json::from_str(SETTINGS_SCHEMA).unwrap();
        assert_eq!(value["$schema"], json!(DRAFT_2020_12));
        assert_eq!(value["type"], json!("object"));
        bundled();
    }

    #[test]
    fn bundled_schema_accepts_a_full_sample_and_unknown_keys() {
        let sample = json!({
            "session_timeout": 30,
            "ai_enabled": true,
            "locale": "en-US",
            "timezone": "Europe/Berlin",
            "billing": {"currency": "EUR", "invoice_note": "kept as is"},
            "security": {"require_2fa": true, "ip_allowlist": ["10.0.0.0/8"]},
            "features": {"max_projects": 0, "max_users": 25, "max_contacts": 100000},
            "custom": {"anything": [1, "two", null]},
        });
        assert_eq!(errors(&bundled(), sample), []);
        assert_eq!(errors(&bundled(), json!({})), []);
    }

    #[test]
    fn bundled_schema_names_each_bad_value() {
        let bad = json!({
            "session_timeout": 1441,
            "ai_enabled": "yes",
            "locale": "",
            "billing": {"currency": "usd"},
            "security": {"require_2fa": 1},
            "features": {"max_projects": -1, "max_users": 2.5, "max_contacts": "10"},
        });
        assert_eq!(
            errors(&bundled(), bad),
            pairs(&[
                ("ai_enabled", "must be a boolean"),
                ("billing.currency", "must be an ISO 4217 currency code"),
                ("features.max_contacts", "must be an integer"),
                ("features.max_projects", "must be at least 0"),
                ("features.max_users", "must be an integer"),
                ("locale", "must be at least 2 characters"),
                ("security.require_2fa", "must be a boolean"),
                ("session_timeout", "must be at most 1440"),
            ])
        );
        assert_eq!(
            errors(&bundled(), json!({"session_timeout": 0, "security": true})),
            pairs(&[
                ("security", "must be an object"),
                ("session_timeout", "must be at least 1"),
            ])
        );
    }

    #[test]
    fn a_float_is_never_an_integer() {
        let schema = load(json!({"properties": {"n": {"type": "integer"}}}));
        for n in [json!(5.5), json!(5.0), json!(1e3)] {
            assert_eq!(
                errors(&schema, json!({ "n": n })),
                pairs(&[("n", "must be an integer")]),
                "{n}"
            );
        }
        assert_eq!(errors(&schema, json!({"n": -5})), []);
        assert_eq!(errors(&schema, json!({"n": u64::MAX})), []);
        let number = load(json!({"properties": {"n": {"type": "number"}}}));
        assert_eq!(errors(&number, json!({"n": 5.5})), []);
        assert_eq!(errors(&number, json!({"n": 5})), []);
    }

    #[test]
    fn numeric_bounds_inclusive_and_exclusive() {
        let schema = load(json!({"properties": {
            "a": {"minimum": 1, "maximum": 10},
            "b": {"exclusiveMinimum": 0, "exclusiveMaximum": 1.5},
            "c": {"maximum": u64::MAX - 1},
        }}));
        assert_eq!(
            errors(&schema, json!({"a": 1, "b": 1.25, "c": u64::MAX - 1})),
            []
        );
        assert_eq!(errors(&schema, json!({"a": 10.0, "b": 1})), []);
        assert_eq!(
            errors(&schema, json!({"a": 0.5, "b": 0, "c": u64::MAX})),
            pairs(&[
                ("a", "must be at least 1"),
                ("b", "must be greater than 0"),
                ("c", &format!("must be at most {}", u64::MAX - 1)),
            ])
        );
        assert_eq!(
            errors(&schema, json!({"a": 11, "b": 1.5})),
            pairs(&[("a", "must be at most 10"), ("b", "must be less than 1.5")])
        );
        // Bounds only concern numbers.
        assert_eq!(errors(&schema, json!({"a": "zero"})), []);
    }

    #[test]
    fn strings_count_characters_not_bytes() {
        let schema =
            load(json!({"properties": {"s": {"type": "string", "minLength": 2, "maxLength": 3}}}));
        assert_eq!(errors(&schema, json!({"s": "äöü"})), []);
        assert_eq!(
            errors(&schema, json!({"s": "a"})),
            pairs(&[("s", "must be at least 2 characters")])
        );
        assert_eq!(
            errors(&schema, json!({"s": "abcd"})),
            pairs(&[("s", "must be at most 3 characters")])
        );
    }

    #[test]
    fn enum_and_type_lists() {
        let schema = load(json!({"properties": {
            "mode": {"enum": ["a", 1, null]},
            "note": {"type": ["string", "null"]},
        }}));
        assert_eq!(errors(&schema, json!({"mode": null, "note": null})), []);
        assert_eq!(errors(&schema, json!({"mode": 1, "note": "x"})), []);
        assert_eq!(
            errors(&schema, json!({"mode": "b", "note": 3})),
            pairs(&[
                ("mode", "must be one of \"a\", 1, null"),
                ("note", "must be a string or null"),
            ])
        );
    }

    #[test]
    fn items_are_named_by_index() {
        let schema = load(json!({"properties": {"tags": {
            "type": "array",
            "items": {"type": "object", "properties": {"name": {"type": "string"}}},
        }}}));
        assert_eq!(
            errors(
                &schema,
                json!({"tags": [{"name": "a"}, 3, {"name": false}]})
            ),
            pairs(&[
                ("tags[1]", "must be an object"),
                ("tags[2].name", "must be a string"),
            ])
        );
    }

    #[test]
    fn additional_properties_false_or_schema() {
        let closed = load(json!({"properties": {"a": {}, "b": {"additionalProperties": false}}}));
        assert_eq!(
            errors(&closed, json!({"a": 1, "x": 2, "b": {"y": 3}})),
            pairs(&[("b.y", "is not allowed")])
        );
        let typed = load(
            json!({"additionalProperties": {"type": "boolean"}, "properties": {"n": {"type": "integer"}}}),
        );
        assert_eq!(
            errors(&typed, json!({"n": 1, "flag": true, "other": "no"})),
            pairs(&[("other", "must be a boolean")])
        );
        let never = load(json!({"properties": {"gone": false}}));
        assert_eq!(
            errors(&never, json!({"gone": 1})),
            pairs(&[("gone", "is not allowed")])
        );
    }

    #[test]
    fn loading_rejects_unknown_keywords_anywhere() {
        let cases = [
            (
                json!({"required": ["a"]}),
                "#: unsupported keyword \"required\"",
            ),
            (
                json!({"properties": {"locale": {"type": "string", "pattern": "^[a-z]+$"}}}),
                "#/properties/locale: unsupported keyword \"pattern\"",
            ),
            (
                json!({"properties": {"a/b": {"oneOf": []}}}),
                "#/properties/a~1b: unsupported keyword \"oneOf\"",
            ),
            (
                json!({"items": {"$ref": "#"}}),
                "#/items: unsupported keyword \"$ref\"",
            ),
            (
                json!({"additionalProperties": {"const": 1}}),
                "#/additionalProperties: unsupported keyword \"const\"",
            ),
        ];
        for (schema, expected) in cases {
            assert_eq!(load_error(schema), expected);
        }
    }

    #[test]
    fn loading_accepts_annotations_anywhere() {
        let schema = load(json!({
            "$schema": DRAFT_2020_12,
            "$id": "urn:test",
            "$comment": "c",
            "title": "t",
            "description": "d",
            "properties": {"a": {
                "type": "integer",
                "default": 3,
                "examples": [{"pattern": "not a keyword here"}],
            }},
        }));
        assert_eq!(errors(&schema, json!({"a": 4})), []);
    }

    #[test]
    fn loading_rejects_malformed_keyword_values() {
        let cases = [
            (
                json!({"$schema": "http://json-schema.org/draft-07/schema#"}),
                "#/$schema: only",
            ),
            (json!({"type": "float"}), "#/type: unknown type \"float\""),
            (json!({"type": []}), "#/type: must list at least one type"),
            (
                json!({"type": ["string", "string"]}),
                "#/type: type \"string\" is listed twice",
            ),
            (
                json!({"format": "email"}),
                "#/format: unsupported format \"email\"",
            ),
            (json!({"minimum": "1"}), "#/minimum: must be a number"),
            (
                json!({"maxLength": -1}),
                "#/maxLength: must be a non-negative integer",
            ),
            (
                json!({"minLength": 1.0}),
                "#/minLength: must be a non-negative integer",
            ),
            (json!({"enum": []}), "#/enum: must be a non-empty array"),
            (
                json!({"items": [{}]}),
                "#/items: a schema must be an object or a boolean",
            ),
            (json!({"properties": []}), "#/properties: must be an object"),
            (
                json!({"properties": {"a": 1}}),
                "#/properties/a: a schema must be",
            ),
            (
                json!("object"),
                "#: a schema must be an object or a boolean",
            ),
        ];
        for (schema, expected) in cases {
            let error = load_error(schema.clone());
            assert!(error.starts_with(expected), "{schema}: {error}");
        }
    }

    #[test]
    fn boolean_root_schemas() {
        assert_eq!(errors(&load(json!(true)), json!({"a": 1})), []);
        assert_eq!(
            errors(&load(json!(false)), json!({})),
            pairs(&[("", "is not allowed")])
        );
    }
}
